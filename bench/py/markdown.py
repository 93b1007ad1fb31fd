"""The results as Markdown tables (bench/results/<date>.md and stdout)."""


def _range(s, fmt):
    if not s:
        return "-"
    return f"{fmt.format(s['median'])} ({fmt.format(s['min'])}-{fmt.format(s['max'])})"


def _x(value):
    return "-" if value is None else f"{value:.2f}x"


def render(results):
    lines = [f"# Echo benchmarks, {results['date']} ({results['mode']}, revision {results['revision']})", ""]
    mb, ma = results["machine_before"], results["machine_after"]
    lines += [f"Machine: {mb['cpus']} CPUs, Linux {mb['kernel']}; load average before {mb['loadavg']}, "
              f"after {ma['loadavg']}. Repetitions: {results['plan']['reps']}, window "
              f"{results['plan']['duration']} s after {results['plan']['warmup']} s warm-up. "
              "Medians, (min-max) over repetitions; ratios are of medians against raw epoll in this run. "
              "Server CPU is user+system of the server process over the window, per request.", ""]
    for name, case in results["echo"].items():
        lines += [f"## Echo {name} ({case['size']} B messages, {case['connections']} connections)", "",
                  "| contender | requests/s | vs epoll | MB/s | server CPU us/request | vs epoll | server CPU share | p99 us |",
                  "|---|---|---|---|---|---|---|---|"]
        for c, r in case["contenders"].items():
            lines.append(f"| {c} | {_range(r['requests_per_s'], '{:.0f}')} | {_x(r['ratios']['requests_per_s_vs_epoll'])} "
                         f"| {_range(r['mb_per_s'], '{:.1f}')} | {_range(r['cpu_us_per_request'], '{:.2f}')} "
                         f"| {_x(r['ratios']['cpu_per_request_vs_epoll'])} | {_range(r['server_cpu_share'], '{:.2f}')} "
                         f"| {_range(r['latency_p99_us'], '{:.0f}')} |")
        lines.append("")
    lines += ["## One-way stream (1 connection, 256 KiB writes, server discards)", "",
              "| contender | GB/s | vs epoll | server CPU s/GB |", "|---|---|---|---|"]
    for c, r in results["stream"].items():
        lines.append(f"| {c} | {_range(r['gb_per_s'], '{:.2f}')} | {_x(r['gb_per_s_vs_epoll'])} "
                     f"| {_range(r['server_cpu_s_per_gb'], '{:.3f}')} |")
    idle = results["idle"]
    lines += ["", f"## {idle['connections']:,} idle connections, then a 1 KiB burst on each", "",
              "| contender | RSS per idle connection (B) | after the burst (B) | burst ms | server CPU us/request in the burst |",
              "|---|---|---|---|---|"]
    for c, r in idle["contenders"].items():
        lines.append(f"| {c} | {r['bytes_per_idle_connection']:.0f} | {r['bytes_per_connection_after_burst']:.0f} "
                     f"| {r['burst']['seconds'] * 1e3:.1f} | {r['burst']['server_cpu_us_per_request']:.2f} |")
    if "instructions" in results:
        ins = results["instructions"]
        lines += ["", f"## Instructions per request (callgrind, {ins['case']}, "
                  f"{ins['requests'][1]} minus {ins['requests'][0]} requests)", "",
                  "| contender | instructions/request | vs epoll |", "|---|---|---|"]
        for c, r in ins["contenders"].items():
            lines.append(f"| {c} | {r['instructions_per_request']:.0f} | {_x(r['vs_epoll'])} |")
    h = results["harness"]
    lines += ["", "## Harness", "",
              f"- checker: {h['checker']['events_per_s'] / 1e6:.1f} M events/s ({h['checker']['events']:,} events, "
              f"{h['checker']['violations']} violations); from JSON Lines: "
              f"{h['checker']['from_jsonl']['events_per_s'] / 1e6:.2f} M events/s",
              f"- loopspec::Digest (FNV-1a, run by the recorder over every byte received and written): "
              f"{h['checker']['digest_gb_per_s']:.2f} GB/s",
              "- recorder overhead (server CPU/request, reference with a Recorder vs without): "
              + ", ".join(f"{k} {v:+.1f}%" for k, v in h["recorder_overhead_percent"].items()),
              "- the same with the recorder's digests off (RecorderOptions::digests, events with sizes only): "
              + ", ".join(f"{k} {v:+.1f}%" for k, v in h.get("recorder_sizes_overhead_percent", {}).items()),
              f"- full reference conformance run: {_range(h['conformance_run_s'], '{:.2f}')} s wall"]
    lines += ["", "## Targets, summarised", "", "| target | cases met | worst case | its value |", "|---|---|---|---|"]
    by_target = {}
    for t in results["targets"]:
        by_target.setdefault(t["target"], []).append(t)
    for name, checks in by_target.items():
        at_most = checks[0]["met"] == (checks[0]["value"] <= checks[0]["limit"])
        worst = max(checks, key=lambda t: t["value"] if at_most else -t["value"])
        lines.append(f"| {name} | {sum(t['met'] for t in checks)}/{len(checks)} | {worst['case']} | {worst['value']:.3g} |")
    lines += ["", "## Targets, case by case", "", "| target | case | value | limit | met |", "|---|---|---|---|---|"]
    for t in results["targets"]:
        lines.append(f"| {t['target']} | {t['case']} | {t['value']:.3g} | {t['limit']:.3g} | {'yes' if t['met'] else 'NO'} |")
    return "\n".join(lines) + "\n"
