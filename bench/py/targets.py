"""The issue's targets, judged on one run's medians.

Each check is {"target", "case", "value", "limit", "met"}; value and limit
are in the target's own unit (a ratio, events/s, percent, bytes).
"""

REFERENCES = ("reference", "reference-buffered")


def _check(checks, target, case, value, limit, at_most=True):
    if value is None:
        return
    checks.append({"target": target, "case": case, "value": value, "limit": limit,
                   "met": value <= limit if at_most else value >= limit})


def judge(results):
    checks = []
    echo = results.get("echo", {})
    for case_name, case in echo.items():
        contenders = case["contenders"]
        for ref in REFERENCES:
            if ref not in contenders:
                continue
            r = contenders[ref]
            if case["size"] in (1024, 102400):
                _check(checks, f"{ref} server CPU/request <= 1.1x raw epoll", case_name,
                       r["ratios"].get("cpu_per_request_vs_epoll"), 1.1)
            for other, limit in (("uvloop", 0.8), ("asyncio", 0.6), ("asio", 1.0), ("libuv", 1.0)):
                if other in contenders and contenders[other]["cpu_us_per_request"]:
                    value = r["cpu_us_per_request"]["median"] / contenders[other]["cpu_us_per_request"]["median"]
                    _check(checks, f"{ref} server CPU/request <= {limit}x {other}", case_name, value, limit)
            _check(checks, f"{ref} requests/s >= 0.95x raw epoll", case_name,
                   r["ratios"].get("requests_per_s_vs_epoll"), 0.95, at_most=False)
    harness = results.get("harness", {})
    if "checker" in harness:
        _check(checks, "checker >= 10 million events/s", "10M-event trace",
               harness["checker"]["events_per_s"], 10e6, at_most=False)
    for case_name, overhead in harness.get("recorder_overhead_percent", {}).items():
        _check(checks, "recorder overhead <= 10% of server CPU/request", case_name, overhead, 10.0)
    for case_name, overhead in harness.get("recorder_sizes_overhead_percent", {}).items():
        _check(checks, "recorder overhead, digests off, <= 10% of server CPU/request", case_name, overhead, 10.0)
    idle = results.get("idle", {}).get("contenders", {})
    for ref in REFERENCES:
        if ref in idle:
            _check(checks, f"{ref} memory per idle connection <= 4 KiB", f"{results['idle']['connections']} connections",
                   idle[ref]["bytes_per_idle_connection"], 4096)
    return checks
