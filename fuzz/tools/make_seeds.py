#!/usr/bin/env python3
"""Writes the seed corpora of fuzz/corpus/ (run once; the seeds are committed).

usage: fuzz/tools/make_seeds.py TRACES_DIR RESULTS_JSON FAILING_RESULTS_JSON
where the inputs come from `loopspec run --traces` (a passing run) and a run
with a --fault (a results.json that keeps failing scenarios' traces).
"""
import glob
import json
import os
import struct
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
corpus = os.path.join(root, "corpus")


def put(target, name, data):
    os.makedirs(os.path.join(corpus, target), exist_ok=True)
    with open(os.path.join(corpus, target, name), "wb") as f:
        f.write(data)


def split_header(seed=1, max_chunk=7, hints=(1, 0xFFFF, 3), pause_at=0xFFFF, resume_after=1, eof=True):
    return struct.pack("<IH3HHBB", seed, max_chunk, *hints, pause_at, resume_after, 1 if eof else 0)


def split_seeds():
    line, frame, http, driver = 0, 1, 2, 3
    frames = b"".join(struct.pack(">I", len(p)) + p for p in [b"hello", b"", b"x" * 300])
    http_requests = (b"GET /index.html HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"
                     b"POST /form HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello=world"
                     b"PUT /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n")
    driver_lines = (b'{"hello": 2, "implementation": "asyncio", "version": "3.11", "capabilities": ["tcp"], "pid": 7}\n'
                    b'{"chunk": "aGVsbG8gd29ybGQ="}\r\n'
                    b'{"event": "data_received", "id": 3, "conn": 1, "data": {"staged": 11}}\n'
                    b'\n{"reply": 1, "ok": null}\n{"event": "connection_lost", "id": 4, "exc": {"type": "OSError", "errno": 5, "message": "x"}}\n')
    cases = {
        "line-basic": (line, split_header(), b"one\ntwo\r\nthree\npartial"),
        "line-long": (line, split_header(max_chunk=100, eof=False), b"a" * 300 + b"\n"),
        "line-pause": (line, split_header(pause_at=4, resume_after=2), b"ab\ncd\nef\n"),
        "frame-basic": (frame, split_header(hints=(2, 5, 0xFFFF)), frames),
        "frame-too-big": (frame, split_header(), struct.pack(">I", 1 << 20) + b"zz"),
        "frame-truncated": (frame, split_header(pause_at=3), struct.pack(">I", 10) + b"abc"),
        "http-pipelined": (http, split_header(max_chunk=13), http_requests),
        "http-bad": (http, split_header(), b"GET / HTTP/2\r\n\r\n"),
        "http-chunk-bad": (http, split_header(max_chunk=2), b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX"),
        "driver-messages": (driver, split_header(max_chunk=9, pause_at=40), driver_lines),
        "driver-unused-staged": (driver, split_header(), b'{"chunk": "AAAA"}\n{"reply": 2, "ok": 1}\n'),
        "driver-bad-json": (driver, split_header(), b'{"reply": \n'),
    }
    for name, (selector, header, payload) in cases.items():
        put("split_invariance", name, bytes([selector]) + header + payload)


def parser_seeds(traces_dir, results_json, failing_json):
    rules, trace, results, driver = 0, 1, 2, 3
    for path in sorted(glob.glob(os.path.join(root, "..", "spec", "rules", "*.yaml"))):
        data = open(path, "rb").read()
        if len(data) <= 16 * 1024:
            put("parsers", "rules-" + os.path.basename(path), bytes([rules]) + data)
    small = sorted(glob.glob(os.path.join(traces_dir, "*.jsonl")), key=os.path.getsize)
    for path in small[:8]:
        put("parsers", "trace-" + os.path.basename(path).replace("[", "-").replace("]", ""),
            bytes([trace]) + open(path, "rb").read())
    for path in small[-2:]:
        head = b"".join(open(path, "rb").readlines()[:40])
        put("parsers", "trace-head-" + os.path.basename(path).replace("[", "-").replace("]", ""), bytes([trace]) + head)
    for name, path in (("results-pass.json", results_json), ("results-fail.json", failing_json)):
        d = json.load(open(path))
        d["rules"] = d["rules"][:6] + [r for r in d["rules"] if r.get("verdict") == "FAIL"][:2]
        kept = [s for s in d["scenarios"] if s.get("verdict") != "PASS"][:1] + d["scenarios"][:2]
        for s in kept:
            if isinstance(s.get("trace"), dict) and "events" in s["trace"]:
                s["trace"]["events"] = s["trace"]["events"][:6]
        d["scenarios"] = kept
        put("parsers", name, bytes([results]) + json.dumps(d, indent=1, sort_keys=True).encode())
    driver_lines = [
        b'{"hello": 2, "implementation": "asyncio", "version": "3.11.2", "capabilities": ["tcp", "unix"], "pid": 4242}\n',
        b'{"chunk": "aGVsbG8="}\n{"event": "data_received", "id": 9, "conn": 1, "data": {"staged": 5}, "state": {"wbuf": 0}}\n',
        b'{"reply": 3, "error": {"type": "ValueError", "errno": 0, "message": "high must be >= low"}}\r\n',
        b'{"reply": 18446744073709551615, "ok": [1, -2, 3.5, true, null, "x"]}\n\n  \n',
    ]
    for i, line in enumerate(driver_lines):
        put("parsers", "driver-%d" % i, bytes([driver]) + line)


def stateful_seeds():
    def program(setup, *ops):
        return bytes([setup]) + b"".join(bytes(op) for op in ops)
    write = lambda n: [0, n & 0xFF, n >> 8]
    cases = {
        "write-close": program(40, write(1000), [6]),
        "write-big-peer-stalls": program(40, [10], write(8000), write(8000), write(8000), [15], [11], [6]),
        "writelines-limits": program(40, [2, 3, 0x10, 0, 0x04, 0], [1, 3, 10, 20, 30, 40], [14, 3], [6]),
        "bad-limits": program(20, [2, 3, 1, 0, 2, 0], [15]),
        "pause-resume-peer-sends": program(40, [3], [8, 0, 16], [14, 2], [4], [9, 0, 4]),
        "write-eof-half-close": program(0x80 | 30, write(500), [5], [12], [14, 3], write(10)),
        "peer-half-close": program(30, [8, 100, 0], [12], [14, 3]),
        "abort-with-buffer": program(40, [10], write(8000), write(8000), write(8000), [7], [11]),
        "peer-reset": program(40, [8, 50, 0], [13], write(100), [14, 3]),
        "close-then-write": program(40, write(100), [6], write(100), [7]),
        # 0x40: a BufferedProtocol, the next byte its buffer size less one
        "buffered-small-buffers": program(0x40 | 40, [6], [8, 0, 4], [14, 3], [3], [8, 0, 1], [4], [12], [14, 3]),
        "buffered-eof-kept-open": program(0xC0 | 30, [0], [8, 200, 0], [12], [14, 3], write(300), [5]),
    }
    for name, data in cases.items():
        put("stateful_transport", name, data)


if __name__ == "__main__":
    split_seeds()
    stateful_seeds()
    parser_seeds(*sys.argv[1:4])
