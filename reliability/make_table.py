#!/usr/bin/python3
"""Runs the reliability tests and writes docs/reliability.md: fault x backend x outcome.

    /usr/bin/python3 reliability/make_table.py [--build build-rel] [--out docs/reliability.md] [--no-run]
        [--soak-connections 10000] [--soak-seconds 60] [--suite-soak-runs 50] [--tsan] [--valgrind]

Each test runs in a process of its own (ctest -L reliability_tests -j1, so
the CPU and memory figures are not shared with a sibling); GTEST_OUTPUT makes
each process write its gtest JSON (the figures a test records with
RecordProperty, the failure and skip messages) into BUILD/reliability-results/,
and ctest writes its JUnit file there too (the verdict of every test, also of
one whose process died). A second pass with LOOPSPEC_RELIABILITY_RUN_KNOWN_BUGS=1
(into BUILD/reliability-results/known-bugs-run/) runs the cases skipped as
known backend bugs, and the table says what they do. --no-run reads the files
of an earlier run.

Then, into the same directory: echo_soak on every backend of the table (the
load held), the hostile-input tests of the harness (ctest by name: each bad
input and whether it was rejected with a clear error), and, when asked, the
whole suite run again and again (the Soak test, LOOPSPEC_SOAK_RUNS), the
ThreadSanitizer suites (scripts/tsan.sh) and valgrind memcheck
(scripts/valgrind.sh).
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

# Fault families: the test suite (one file each) and how the table names it.
FAMILIES = [
    ("PeerReset", "Peer reset", "peer_reset_test.cpp"),
    ("AcceptEmfile", "EMFILE on accept", "accept_emfile_test.cpp"),
    ("SignalStorm", "Signal storm (EINTR)", "signal_storm_test.cpp"),
    ("ThrowingCallback", "Throwing callback", "throwing_callback_test.cpp"),
    ("HugeWrite", "Huge write", "huge_write_test.cpp"),
]
# Hostile input to the harness: the tests that feed it each kind of bad input (ctest names).
BAD_INPUTS = [
    ("Rules catalogue files", r"RuleLoaderErrors\.[A-Za-z]+"),
    ("Trace files (JSON Lines)", r"(Malformed/TraceReaderRejects\.[A-Za-z0-9/_]+|TraceFile\.CorruptedInputIsReadOrRejected"
     r"|TraceFile\.LineLengthBoundary|Cli\.CheckTraceReportsViolationsAndRejectsBadFiles)"),
    ("results.json and expectations files", r"(Results\.RoundTripAndErrorsNameTheField"
     r"|Expectations\.MalformedFilesNameFileLineAndField)"),
    ("Driver processes and their messages", r"(FakeDriver\.[A-Za-z]+|FakeDriverDeathTest\.[A-Za-z]+|ParseMessage\.[A-Za-z]+"
     r"|Channel\.RejectsAnOversizeLineWithoutReadingItAll|Channel\.RefusesToSendAnOversizeMessage)"),
    ("Command-line arguments, backend names and paths", r"Cli\.(BadArgumentsExitTwoWithAMessage"
     r"|BackendNamesAndPathsNeverReachAShell)"),
    ("Interrupted runs (SIGINT, SIGTERM)", r"Interrupt\.[A-Za-z]+"),
    ("Fuzz corpora and crash regressions, replayed", r"fuzz\.[a-z_]+\.(seeds|regressions)"),
]
# gtest's own fields of a test in its JSON output; every other field is a recorded figure.
GTEST_FIELDS = {"name", "value_param", "type_param", "file", "line", "status", "result", "timestamp", "time",
                "classname", "failures", "skipped"}


def run(build, results, extra_env):
    os.makedirs(results, exist_ok=True)
    for old in glob.glob(os.path.join(results, "*.json")) + glob.glob(os.path.join(results, "*.xml")):
        os.remove(old)
    print("+ GTEST_OUTPUT=json:%s/ %s" % (results, " ".join("%s=%s" % kv for kv in sorted(extra_env.items()))),
          file=sys.stderr)
    ctest_junit(build, os.path.join(results, "ctest-junit.xml"), ["-L", "reliability_tests", "-j1"],
                dict(extra_env, GTEST_OUTPUT="json:" + results + "/"))


def ctest_junit(build, junit, arguments, env=None):
    command = ["ctest", "--test-dir", build, "--output-on-failure", "--output-junit", junit] + arguments
    print("+ " + " ".join(command), file=sys.stderr)
    subprocess.run(command, env=dict(os.environ, **(env or {})), check=False)


def junit_cases(path):
    """[(name, outcome, time, output)] of a ctest JUnit file."""
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):
        status = case.get("status", "")
        if case.find("failure") is not None or status == "fail":
            outcome = "FAIL"
        elif case.find("skipped") is not None or status in ("notrun", "disabled"):
            outcome = "SKIP"
        else:
            outcome = "PASS"
        cases.append((re.sub(r"\s+#.*$", "", case.get("name", "")), outcome, case.get("time", ""),
                      case.findtext("system-out") or ""))
    return cases


def run_bad_inputs(build, results):
    # A parameterised test's ctest name ends in "  # GetParam() = ...".
    pattern = "^(" + "|".join(regex for _, regex in BAD_INPUTS) + ")(  # .*)?$"
    ctest_junit(build, os.path.join(results, "bad-inputs.xml"), ["-R", pattern, "-j2"])


def run_echo_soaks(build, results, backends, connections, seconds):
    binary = os.path.join(build, "reliability", "echo_soak")
    for backend in backends:
        out = os.path.join(results, "echo-soak-%s.json" % backend)
        if os.path.exists(out):
            os.remove(out)
        command = [binary, "--backend", backend, "--connections", str(connections), "--seconds", str(seconds),
                   "--json", out]
        print("+ " + " ".join(command), file=sys.stderr)
        subprocess.run(command, check=False)


def run_suite_soak(build, results, runs):
    env = dict(os.environ, LOOPSPEC_SOAK_RUNS=str(runs), GTEST_OUTPUT="json:" + os.path.join(results, "soak.json"))
    command = [os.path.join(build, "conformance", "conformance_tests"), "--gtest_filter=Soak.*"]
    print("+ LOOPSPEC_SOAK_RUNS=%d %s" % (runs, " ".join(command)), file=sys.stderr)
    started = time.time()
    done = subprocess.run(command, env=env, check=False)
    with open(os.path.join(results, "soak-run.json"), "w") as f:
        json.dump({"exit": done.returncode, "seconds": time.time() - started}, f)


def run_script(name, results, output_name):
    """Runs scripts/NAME, keeps its output and exit status and how long it took."""
    print("+ scripts/" + name, file=sys.stderr)
    started = time.time()
    done = subprocess.run(["scripts/" + name], capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    with open(os.path.join(results, output_name), "w") as f:
        json.dump({"exit": done.returncode, "seconds": time.time() - started, "summary": summary_lines(output),
                   "output": output[-20000:]}, f)


def summary_lines(output):
    """What a test script says of its outcome: ctest's and gtest's totals, valgrind's error summaries."""
    return [l.strip() for l in output.splitlines()
            if re.search(r"tests passed|\[  PASSED  \]|\[  FAILED  \]|ERROR SUMMARY|^== ", l)]


def read_run(results):
    junit = os.path.join(results, "ctest-junit.xml")
    if not os.path.exists(junit):
        sys.exit("no %s: run without --no-run" % junit)
    return read_junit(junit), read_gtest_json(results)


def split_name(full):
    """'Backends/PeerReset.Test/reference' -> ('PeerReset', 'Test', 'reference')."""
    full = re.sub(r"\s+#.*$", "", full)  # gtest_discover_tests appends "  # GetParam() = ..."
    m = re.match(r"^(?:[^/]+/)?([^.]+)\.([^/]+)/(.+)$", full)
    return (m.group(1), m.group(2), m.group(3)) if m else (None, full, "")


def read_junit(path):
    verdicts = {}
    for name, outcome, elapsed, output in junit_cases(path):
        family, test, backend = split_name(name)
        if family is not None:
            verdicts[(family, test, backend)] = {"outcome": outcome, "output": output, "time": elapsed}
    return verdicts


def read_gtest_json(results):
    tests = {}
    for path in glob.glob(os.path.join(results, "*.json")):
        with open(path) as f:
            try:
                document = json.load(f)
            except json.JSONDecodeError:
                continue
        for suite in document.get("testsuites", []):
            family = suite["name"].split("/")[-1]
            for test in suite.get("testsuite", []):
                name, _, backend = test["name"].partition("/")
                figures = {k: v for k, v in test.items() if k not in GTEST_FIELDS}
                messages = [f.get("failure", "") for f in test.get("failures", [])]
                messages += [s.get("message", "") for s in test.get("skipped", []) if isinstance(s, dict)]
                tests[(family, name, backend)] = {"figures": figures, "messages": messages,
                                                  "result": test.get("result", "")}
    return tests


def skip_reason(verdict, detail):
    for message in detail.get("messages", []):
        if message.strip():
            return message.strip().splitlines()[-1]
    m = re.search(r"Skipped\s*\n(.+)", verdict.get("output", ""))
    return m.group(1).strip() if m else ""


def death_of(build, key, extra_env):
    """How the process of a test that wrote no result ends, run again alone."""
    import signal
    family, test, backend = key
    binary = os.path.join(build, "reliability", "reliability_tests")
    done = subprocess.run([binary, "--gtest_filter=*/%s.%s/%s" % (family, test, backend)],
                          env=dict(os.environ, **extra_env), capture_output=True, check=False)
    if done.returncode < 0:
        return "the process was killed by %s" % signal.Signals(-done.returncode).name
    return "the process exited with status %d before writing its result" % done.returncode


def failure_reason(verdict, detail):
    if "death" in detail:
        return detail["death"]
    for message in detail.get("messages", []):
        lines = [l for l in message.strip().splitlines() if l.strip()]
        if lines:
            return " ".join(lines[-2:])
    output = verdict.get("output", "")
    for pattern in (r"(Failure\n.+\n.+)", r"(\*\*\*Exception: .+|Subprocess aborted|Child aborted|SegFault|Timeout)"):
        m = re.search(pattern, output)
        if m:
            return " ".join(m.group(1).split())
    return "the process died" if not output else output.strip().splitlines()[-1]


def git(*args):
    done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def revision():
    return git("rev-parse", "--short=12", "HEAD") or "unknown"


def run_revision(results):
    """The commit the run started from (run-info.json), else HEAD's when this file is written."""
    path = os.path.join(results, "run-info.json")
    if os.path.exists(path):
        with open(path) as f:
            info = json.load(f)
        return "commit %s%s" % (info["revision"], "" if info["clean"] else " plus local changes")
    return "commit not recorded by the run (HEAD is %s)" % revision()


def clean():
    return git("status", "--porcelain", "--", "reliability", "reference", "kit", "harness", "backends") == ""


def stamp(path):
    import datetime
    when = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M UTC")


def cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def humanise(test):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", test).lower().capitalize()


def outcome_text(verdict, detail, note):
    if verdict["outcome"] == "SKIP":
        return "skip " + note(skip_reason(verdict, detail))
    if verdict["outcome"] == "FAIL":
        return "**FAIL** " + note(failure_reason(verdict, detail))
    return "pass"


def write_table(verdicts, details, anyway, out, build, junit, results, backends):
    lines = [
        "# Reliability: fault x backend x outcome",
        "",
        "Generated from a test run; do not edit. The script builds nothing, so build",
        "the tests first (any build tree with the backends you want in the table;",
        "`-DLOOPSPEC_WITH_LIBUV=ON -DLOOPSPEC_WITH_ASIO=ON` for all three):",
        "",
        "    cmake -S . -B build-rel -G Ninja -DLOOPSPEC_WITH_LIBUV=ON -DLOOPSPEC_WITH_ASIO=ON",
        "    cmake --build build-rel -j2",
        "    /usr/bin/python3 reliability/make_table.py --build build-rel \\",
        "        --suite-soak-runs 50 --tsan --valgrind",
        "",
        "It runs `ctest -L reliability_tests -j1` (each test in its own process) with",
        "`GTEST_OUTPUT=json:BUILD/reliability-results/`, reads ctest's JUnit file and",
        "the per-test gtest JSON (the figures each test records), and writes this file.",
        "A case skipped as a known backend bug is run again in a second pass",
        "(`LOOPSPEC_RELIABILITY_RUN_KNOWN_BUGS=1`): \"run anyway\" is what it does then,",
        "and its figures below come from that pass.",
        "The tests are `reliability/tests/*_test.cpp`, one file per fault family, each",
        "run on every in-process backend of the builtin registry (the `loopspec`",
        "command's). The huge write moves `LOOPSPEC_HUGE_WRITE_BYTES` (default 1 GiB,",
        "128 MiB under ASan).",
        "",
        "This run: %s, %s, build `%s`." % (stamp(junit), run_revision(results), build),
        "",
        "| fault | test | " + " | ".join(backends) + " |",
        "|---|---|" + "---|" * len(backends),
    ]
    figures_lines = []
    notes = []  # the reasons of skips and failures, numbered

    def note(text):
        if text not in notes:
            notes.append(text)
        return "[%d]" % (notes.index(text) + 1)

    for family, title, source in FAMILIES:
        tests = sorted({k[1] for k in verdicts if k[0] == family})
        for test in tests:
            cells = []
            for backend in backends:
                key = (family, test, backend)
                verdict = verdicts.get(key)
                detail = details.get(key, {})
                if verdict is None:
                    cells.append("not run")
                    continue
                text = outcome_text(verdict, detail, note)
                if verdict["outcome"] == "SKIP" and key in anyway[0]:
                    # The known-bug case, run anyway (LOOPSPEC_RELIABILITY_RUN_KNOWN_BUGS=1).
                    text += "; run anyway: " + outcome_text(anyway[0][key], anyway[1].get(key, {}), note)
                    detail = anyway[1].get(key, detail)
                cells.append(cell(text))
                figures = detail.get("figures", {})
                if figures:
                    shown = ", ".join("%s %s" % (k, v) for k, v in sorted(figures.items()))
                    figures_lines.append("| %s | %s | %s | %s |" % (title, cell(humanise(test)), backend, cell(shown)))
            lines.append("| %s (`%s`) | %s | %s |" % (title, source, cell(humanise(test)), " | ".join(cells)))
    lines += [""] + ["[%d] %s  " % (i + 1, cell(text)) for i, text in enumerate(notes)]
    lines += ["", "## Figures", "", "What each test recorded (RecordProperty) in this run.", "",
              "| fault | test | backend | figures |", "|---|---|---|---|"] + figures_lines
    lines += load_section(results, backends) + bad_input_section(results) + long_runs_section(results)
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


def load_section(results, backends):
    lines = ["", "## Load: the echo soak", "",
             "`reliability/soak/echo_soak` (built with the tests): the backend serves an echo protocol in one",
             "process, a raw-epoll client in another keeps every connection busy with one message in flight,",
             "each message different. Per connection, by port: the bytes and digests the client sent, the",
             "server received and the client got back must agree, every echoed byte must be the one sent",
             "there, each connection must end with a clean half-close, and the server's protocol must see",
             "connection_made, eof_received and connection_lost(None) once each, nothing after. Resident",
             "size is sampled every 0.25 s; growth is from the warmed-up baseline to the peak (limit 5%).",
             "Both processes share the machine's cores, so round trips/s is the pair's, not the server's.", "",
             "| backend | connections | seconds | round trips | round trips/s | bytes each way | connections wrong |"
             " RSS baseline -> peak | server CPU | client CPU | outcome |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    failures = []
    for backend in backends:
        path = os.path.join(results, "echo-soak-%s.json" % backend)
        if not os.path.exists(path):
            lines.append("| %s | not run |  |  |  |  |  |  |  |  |  |" % backend)
            continue
        with open(path) as f:
            r = json.load(f)
        lines.append("| %s | %s | %g | %s | %s | %s | %d | %s -> %s KiB (%+.2f%%) | %.1f s | %.1f s | %s |" % (
            backend, "{:,}".format(r["connections"]), r["seconds"], "{:,}".format(r["messages"]),
            "{:,.0f}".format(r["messages_per_s"]), "{:,}".format(r["bytes_each_way"]), r["failed_connections"],
            "{:,}".format(r["rss_baseline_kib"]), "{:,}".format(r["rss_peak_kib"]), r["rss_growth_percent"],
            r["server_cpu_seconds"], r["client_cpu_seconds"], "pass" if r["passed"] else "**FAIL**"))
        if r["connections"] < r["connections_requested"]:
            failures.append("%s: %d connections asked for, the descriptor limit allowed %d" % (
                backend, r["connections_requested"], r["descriptor_limit_connections"]))
        failures += ["%s: %s" % (backend, f) for f in r["failures"]]
    if failures:
        lines += [""] + ["- " + cell(f) for f in failures]
    return lines


def bad_input_section(results):
    path = os.path.join(results, "bad-inputs.xml")
    lines = ["", "## Hostile input to the harness", ""]
    if not os.path.exists(path):
        return lines + ["Not run."]
    cases = junit_cases(path)
    passed = sum(1 for c in cases if c[1] == "PASS")
    lines += ["Each test feeds the harness one kind of bad input (most try many: the parameterised",
              "cases are one input each) and checks that it is rejected with an error naming the file,",
              "line or field, or survives being read, never a crash or a hang; a crashing, hanging or",
              "garbage-writing driver is an ERROR for its scenario and the run goes on. %d tests, %d pass." % (
                  len(cases), passed), "",
              "| input | tests | pass | not passing |", "|---|---|---|---|"]
    for title, regex in BAD_INPUTS:
        mine = [c for c in cases if re.fullmatch(regex, c[0])]
        bad = [c[0] + " (" + c[1] + ")" for c in mine if c[1] != "PASS"]
        lines.append("| %s | %d | %d | %s |" % (title, len(mine), len(mine) - len(bad), cell(", ".join(bad))))
    lines += ["", "<details><summary>Every test</summary>", "", "| input | test | outcome |", "|---|---|---|"]
    for title, regex in BAD_INPUTS:
        for name, outcome, _, _ in cases:
            if re.fullmatch(regex, name):
                lines.append("| %s | `%s` | %s |" % (title, name, outcome.lower()))
    lines += ["", "</details>"]
    return lines


def long_runs_section(results):
    lines = ["", "## Long runs and other sanitizers", "",
             "ASan + UBSan: `scripts/test.sh` runs the reliability tests, like the harness, kit, reference,",
             "backend and conformance suites, under AddressSanitizer and UndefinedBehaviorSanitizer on every",
             "change (the huge write moves 128 MiB there). The EMFILE case is skipped there: UBSan's vptr",
             "check opens a pipe to test that a vtable is readable, and with every descriptor in use it",
             "reports each virtual call as an invalid vptr.", ""]
    soak_json = os.path.join(results, "soak.json")
    soak_run = os.path.join(results, "soak-run.json")
    if os.path.exists(soak_run) and os.path.exists(soak_json):
        with open(soak_run) as f:
            run_info = json.load(f)
        figures = {}
        with open(soak_json) as f:
            for suite in json.load(f).get("testsuites", []):
                for test in suite.get("testsuite", []):
                    figures = {k: v for k, v in test.items() if k not in GTEST_FIELDS}
        lines.append("- **The whole suite again and again** (`LOOPSPEC_SOAK_RUNS=%s conformance_tests "
                     "--gtest_filter=Soak.*`, reference backend, one runner process): %s in %.0f s; %s verdicts "
                     "per run, identical in every run; %s descriptors open throughout; resident size %s KiB after "
                     "run 1, at most %s KiB more after any later run." % (
                         figures.get("runs", "?"), "pass" if run_info["exit"] == 0 else "**FAIL**",
                         run_info["seconds"], figures.get("verdicts_per_run", "?"), figures.get("descriptors", "?"),
                         figures.get("resident_kib_after_run_1", "?"), figures.get("peak_growth_kib", "?")))
    else:
        lines.append("- The whole suite again and again: not run this time (`--suite-soak-runs 50`).")
    for name, title, flag in (("tsan.json", "ThreadSanitizer** (`scripts/tsan.sh`: harness, kit, reference, "
                               "libuv and Asio suites; call_soon_threadsafe from many threads)", "--tsan"),
                              ("valgrind.json", "valgrind memcheck** (`scripts/valgrind.sh`: harness and reference "
                               "suites, invalid accesses, uninitialised values and definite leaks fail)", "--valgrind")):
        path = os.path.join(results, name)
        if not os.path.exists(path):
            lines.append("- **%s: not run this time (`%s`)." % (title, flag))
            continue
        with open(path) as f:
            r = json.load(f)
        summary = r.get("summary")
        if summary is None:
            summary = summary_lines(r["output"]) + ["(from the last 20,000 characters of its output)"]
        lines.append("- **%s: %s in %.0f s. %s" % (title, "clean" if r["exit"] == 0 else "**FAIL** (exit %d)" % r["exit"],
                                                  r["seconds"], cell("; ".join(summary))))
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build-rel")
    parser.add_argument("--out", default="docs/reliability.md")
    parser.add_argument("--no-run", action="store_true", help="read the results of an earlier run")
    parser.add_argument("--soak-connections", type=int, default=10000, help="echo soak connections")
    parser.add_argument("--soak-seconds", type=float, default=60, help="echo soak duration")
    parser.add_argument("--suite-soak-runs", type=int, default=0, help="run the whole suite this many times (0: not)")
    parser.add_argument("--tsan", action="store_true", help="run scripts/tsan.sh")
    parser.add_argument("--valgrind", action="store_true", help="run scripts/valgrind.sh")
    args = parser.parse_args()
    results = os.path.abspath(os.path.join(args.build, "reliability-results"))
    anyway_results = os.path.join(results, "known-bugs-run")
    if not args.no_run:
        started_at = {"revision": revision(), "clean": clean()}
        run(args.build, results, {})  # empties the directory first
        with open(os.path.join(results, "run-info.json"), "w") as f:
            json.dump(started_at, f)
        # Again with the known-bug cases run, for what they do (the other cases' verdicts are not used).
        run(args.build, anyway_results, {"LOOPSPEC_RELIABILITY_RUN_KNOWN_BUGS": "1"})
    verdicts, details = read_run(results)
    backends = sorted({k[2] for k in verdicts}, key=lambda b: (b != "reference", b))
    if not args.no_run:
        for stale in ("soak.json", "soak-run.json", "tsan.json", "valgrind.json"):
            if os.path.exists(os.path.join(results, stale)):
                os.remove(os.path.join(results, stale))
        run_echo_soaks(args.build, results, backends, args.soak_connections, args.soak_seconds)
        run_bad_inputs(args.build, results)
        if args.suite_soak_runs > 0:
            run_suite_soak(args.build, results, args.suite_soak_runs)
        if args.tsan:
            run_script("tsan.sh", results, "tsan.json")
        if args.valgrind:
            run_script("valgrind.sh", results, "valgrind.json")
    anyway = read_run(anyway_results)
    # A test whose process died wrote no gtest result: say how it died.
    for run_verdicts, run_details, env in ((verdicts, details, {}),
                                           (anyway[0], anyway[1], {"LOOPSPEC_RELIABILITY_RUN_KNOWN_BUGS": "1"})):
        for key, verdict in run_verdicts.items():
            if verdict["outcome"] == "FAIL" and key not in run_details:
                run_details[key] = {"death": death_of(args.build, key, env)}
    write_table(verdicts, details, anyway, args.out, args.build, os.path.join(results, "ctest-junit.xml"), results,
                backends)
    print("wrote " + args.out, file=sys.stderr)


if __name__ == "__main__":
    main()
