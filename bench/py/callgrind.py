"""Instructions per request, deterministic enough to track regressions.

The server runs under `valgrind --tool=callgrind` twice, serving a fixed
number of 1 KiB requests over 10 connections (SHORT, then LONG requests);
the difference of the two totals divided by the difference of the request
counts is the instructions per request, with start-up, connection set-up
and shutdown cancelled out. perf's hardware counter would be cheaper, but
it is only used where the CPU exposes it (not in this VM).
"""
import os
import re
import subprocess
import tempfile

from server import Server

SHORT, LONG = 500, 2500


def perf_instructions_supported():
    try:
        done = subprocess.run(["perf", "stat", "-x,", "-e", "instructions", "true"], capture_output=True, text=True)
    except FileNotFoundError:
        return False
    return done.returncode == 0 and "<not supported>" not in done.stderr


def _total_ir(out_file):
    with open(out_file) as f:
        for line in f:
            m = re.match(r"^(?:summary|totals):\s+(\d+)", line)
            if m:
                return int(m.group(1))
    raise RuntimeError(f"no totals in {out_file}")


def _count(contender, requests, loadgen, workdir):
    out_file = os.path.join(workdir, f"{contender.name}-{requests}.out")
    wrapper = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}"]
    with Server(lambda p: contender.command(p, "echo"), wrapper=wrapper, timeout=120) as s:
        loadgen("echo", "--port", s.port, "--server-pid", s.pid, "--size", 1024, "--connections", 10,
                "--requests", requests)
    return _total_ir(out_file)


def instructions_per_request(contenders, loadgen, log):
    out = {"case": "1KiB-c10", "requests": [SHORT, LONG], "contenders": {}}
    with tempfile.TemporaryDirectory() as workdir:
        for c in contenders:
            try:
                short = _count(c, SHORT, loadgen, workdir)
                long = _count(c, LONG, loadgen, workdir)
            except (RuntimeError, OSError) as e:
                log(f"callgrind {c.name}: {e}")
                continue
            per_request = (long - short) / (LONG - SHORT)
            out["contenders"][c.name] = {"instructions_per_request": per_request, "total_short": short,
                                         "total_long": long}
            log(f"callgrind {c.name:18} {per_request:10.0f} instructions/request")
    base = out["contenders"].get("epoll")
    for v in out["contenders"].values():
        v["vs_epoll"] = v["instructions_per_request"] / base["instructions_per_request"] if base else None
    return out
