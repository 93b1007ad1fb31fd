#!/usr/bin/python3
"""Runs the reliability tests and writes docs/reliability.md: fault x backend x outcome.

    /usr/bin/python3 reliability/make_table.py [--build build-rel] [--out docs/reliability.md] [--no-run]

Each test runs in a process of its own (ctest -L reliability_tests -j1, so
the CPU and memory figures are not shared with a sibling); GTEST_OUTPUT makes
each process write its gtest JSON (the figures a test records with
RecordProperty, the failure and skip messages) into BUILD/reliability-results/,
and ctest writes its JUnit file there too (the verdict of every test, also of
one whose process died). A second pass with LOOPSPEC_RELIABILITY_RUN_KNOWN_BUGS=1
(into BUILD/reliability-results/known-bugs-run/) runs the cases skipped as
known backend bugs, and the table says what they do. --no-run reads the files
of an earlier run.
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

# Fault families: the test suite (one file each) and how the table names it.
FAMILIES = [
    ("PeerReset", "Peer reset", "peer_reset_test.cpp"),
    ("AcceptEmfile", "EMFILE on accept", "accept_emfile_test.cpp"),
    ("SignalStorm", "Signal storm (EINTR)", "signal_storm_test.cpp"),
    ("ThrowingCallback", "Throwing callback", "throwing_callback_test.cpp"),
    ("HugeWrite", "Huge write", "huge_write_test.cpp"),
]
# gtest's own fields of a test in its JSON output; every other field is a recorded figure.
GTEST_FIELDS = {"name", "value_param", "type_param", "file", "line", "status", "result", "timestamp", "time",
                "classname", "failures", "skipped"}


def run(build, results, extra_env):
    os.makedirs(results, exist_ok=True)
    for old in glob.glob(os.path.join(results, "*.json")) + glob.glob(os.path.join(results, "*.xml")):
        os.remove(old)
    env = dict(os.environ, GTEST_OUTPUT="json:" + results + "/", **extra_env)
    junit = os.path.join(results, "ctest-junit.xml")
    command = ["ctest", "--test-dir", build, "-L", "reliability_tests", "-j1", "--output-on-failure",
               "--output-junit", junit]
    shown = " ".join("%s=%s" % kv for kv in sorted(extra_env.items()))
    print("+ GTEST_OUTPUT=json:%s/ %s %s" % (results, shown, " ".join(command)), file=sys.stderr)
    subprocess.run(command, env=env, check=False)


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
    for case in ET.parse(path).getroot().iter("testcase"):
        family, test, backend = split_name(case.get("name", ""))
        if family is None:
            continue
        status = case.get("status", "")
        if case.find("failure") is not None or status == "fail":
            outcome = "FAIL"
        elif case.find("skipped") is not None or status in ("notrun", "disabled"):
            outcome = "SKIP"
        else:
            outcome = "PASS"
        out = case.findtext("system-out") or ""
        verdicts[(family, test, backend)] = {"outcome": outcome, "output": out, "time": case.get("time", "")}
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


def write_table(verdicts, details, anyway, out, build, junit):
    backends = sorted({k[2] for k in verdicts}, key=lambda b: (b != "reference", b))
    lines = [
        "# Reliability: fault x backend x outcome",
        "",
        "Generated from a test run; do not edit. The script builds nothing, so build",
        "`reliability_tests` first (any build tree with the backends you want in the",
        "table; `-DLOOPSPEC_WITH_LIBUV=ON -DLOOPSPEC_WITH_ASIO=ON` for all three):",
        "",
        "    cmake -S . -B build-rel -G Ninja -DLOOPSPEC_WITH_LIBUV=ON -DLOOPSPEC_WITH_ASIO=ON",
        "    cmake --build build-rel --target reliability_tests -j2",
        "    /usr/bin/python3 reliability/make_table.py --build build-rel",
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
        "This run: %s, commit %s%s, build `%s`." % (stamp(junit), revision(), "" if clean() else " plus local changes",
                                                     build),
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
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build-rel")
    parser.add_argument("--out", default="docs/reliability.md")
    parser.add_argument("--no-run", action="store_true", help="read the results of an earlier run")
    args = parser.parse_args()
    results = os.path.abspath(os.path.join(args.build, "reliability-results"))
    anyway_results = os.path.join(results, "known-bugs-run")
    if not args.no_run:
        run(args.build, results, {})
        # Again with the known-bug cases run, for what they do (the other cases' verdicts are not used).
        run(args.build, anyway_results, {"LOOPSPEC_RELIABILITY_RUN_KNOWN_BUGS": "1"})
    verdicts, details = read_run(results)
    anyway = read_run(anyway_results)
    # A test whose process died wrote no gtest result: say how it died.
    for run_verdicts, run_details, env in ((verdicts, details, {}),
                                           (anyway[0], anyway[1], {"LOOPSPEC_RELIABILITY_RUN_KNOWN_BUGS": "1"})):
        for key, verdict in run_verdicts.items():
            if verdict["outcome"] == "FAIL" and key not in run_details:
                run_details[key] = {"death": death_of(args.build, key, env)}
    write_table(verdicts, details, anyway, args.out, args.build, os.path.join(results, "ctest-junit.xml"))
    print("wrote " + args.out, file=sys.stderr)


if __name__ == "__main__":
    main()
