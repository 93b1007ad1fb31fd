"""The echo servers under test, and how to start each.

Every server takes PORT and a mode ("echo" or "sink") first, listens on
127.0.0.1:PORT, prints "ready" once listening and runs until killed.
"""
import os
import shutil

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, which has python3-uvloop


class Contender:
    def __init__(self, name, label, argv, available=True, why_not=""):
        self.name = name          # key in results.json
        self.label = label        # for people
        self.argv = argv          # function (port, mode) -> argv
        self.available = available
        self.why_not = why_not

    def command(self, port, mode):
        return self.argv(port, mode)


def _uvloop_importable():
    if not os.path.exists(SYSTEM_PYTHON):
        return False
    return os.system(f"{SYSTEM_PYTHON} -c 'import uvloop' >/dev/null 2>&1") == 0


def all_contenders(bin_dir, bench_dir):
    """Raw epoll first: every ratio is taken against it."""
    def binary(name):
        return os.path.join(bin_dir, name)

    def built(name):
        return os.path.exists(binary(name))

    py_server = os.path.join(bench_dir, "servers", "asyncio_echo.py")
    uvloop_ok = _uvloop_importable()
    return [
        Contender("epoll", "raw epoll (C)", lambda p, m: [binary("bench_epoll_echo"), str(p), m]),
        Contender("reference", "loopspec reference, Protocol",
                  lambda p, m: [binary("bench_reference_echo"), str(p), m, "protocol"]),
        Contender("reference-buffered", "loopspec reference, BufferedProtocol",
                  lambda p, m: [binary("bench_reference_echo"), str(p), m, "buffered"]),
        Contender("reference-recorded", "loopspec reference, Protocol + Recorder",
                  lambda p, m: [binary("bench_reference_echo"), str(p), m, "protocol", "record"]),
        Contender("reference-recorded-sizes", "loopspec reference, Protocol + Recorder without digests",
                  lambda p, m: [binary("bench_reference_echo"), str(p), m, "protocol", "record-sizes"]),
        Contender("asio", "Boost.Asio", lambda p, m: [binary("bench_asio_echo"), str(p), m],
                  built("bench_asio_echo"), "built without Boost headers"),
        Contender("libuv", "libuv", lambda p, m: [binary("bench_libuv_echo"), str(p), m],
                  built("bench_libuv_echo"), "built without libuv"),
        Contender("uvloop", "uvloop (Protocol)",
                  lambda p, m: [SYSTEM_PYTHON, py_server, str(p), m, "uvloop"],
                  uvloop_ok, "no python3-uvloop for " + SYSTEM_PYTHON),
        Contender("asyncio", "CPython asyncio (Protocol)",
                  lambda p, m: [SYSTEM_PYTHON, py_server, str(p), m, "asyncio"],
                  os.path.exists(SYSTEM_PYTHON), "no " + SYSTEM_PYTHON),
    ]


def have_valgrind():
    return shutil.which("valgrind") is not None
