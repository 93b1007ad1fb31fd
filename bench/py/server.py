"""One server process under test: started, waited for, stopped.

The server gets the hard RLIMIT_NOFILE as its soft limit (the idle test
opens 10,000 connections). start() returns once the server printed "ready";
stop() sends SIGTERM, then SIGKILL after 5 s, and reaps it.
"""
import os
import resource
import signal
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _raise_fd_limit():
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Server:
    def __init__(self, argv_for_port, wrapper=(), timeout=60.0):
        """argv_for_port: a function of the port to listen on -> argv."""
        self.port = free_port()
        self.argv = argv_for_port(self.port)
        self.wrapper = list(wrapper)
        self.timeout = timeout
        self.proc = None

    def __enter__(self):
        command = self.wrapper + self.argv
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     preexec_fn=_raise_fd_limit, text=True)
        deadline = time.monotonic() + self.timeout
        line = self.proc.stdout.readline()  # blocks until "ready" or EOF
        if line.strip() != "ready" or time.monotonic() > deadline:
            self.proc.kill()
            _, err = self.proc.communicate()
            raise RuntimeError(f"{command} did not start: {line!r} {err[-2000:]}")
        return self

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20 if self.wrapper else 5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()

    def __exit__(self, *exc):
        self.stop()
