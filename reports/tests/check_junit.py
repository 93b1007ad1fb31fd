#!/usr/bin/env python3
"""Strict check of a JUnit XML file written by `loopspec report`.

usage: check_junit.py FILE...
Prints one line per file, "FILE: valid: ..." or "FILE: invalid JUnit XML: why".
Exit 0 when every file is valid UTF-8 with an XML declaration, valid under
junit.xsd beside this script (the intersection of the Apache Ant and Jenkins
junit-10 JUnit schemas: element and attribute names, required attributes,
order, types), and holds what no schema can say: each suite's counts add up,
suite names and (classname, name) pairs within a suite are unique, every
<failure> and <error> carries a message. Exit 1 when a file is not; exit 3
when xmllint (Debian: libxml2-utils) is not installed. Standard library only.
"""
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "junit.xsd")
COUNTS = ("tests", "failures", "errors", "skipped")


class Invalid(Exception):
    pass


def validate_schema(path):
    xmllint = shutil.which("xmllint")
    if not xmllint:
        return False
    ran = subprocess.run([xmllint, "--noout", "--nonet", "--schema", SCHEMA, path],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    if ran.returncode != 0:
        lines = [l for l in ran.stdout.splitlines() if l.strip()]
        raise Invalid("not valid under %s:\n  %s" % (os.path.basename(SCHEMA), "\n  ".join(lines[:8])))
    return True


def check_counts(root):
    names = set()
    for suite in root:
        name = suite.get("name")
        if name in names:
            raise Invalid("two test suites named %r" % name)
        names.add(name)
        found = dict.fromkeys(COUNTS, 0)
        seen = set()
        for case in suite.iter("testcase"):
            key = (case.get("classname"), case.get("name"))
            if key in seen:
                raise Invalid("suite %r: test case %s twice" % (name, key))
            seen.add(key)
            found["tests"] += 1
            for outcome, count in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
                child = case.find(outcome)
                if child is None:
                    continue
                found[count] += 1
                if outcome != "skipped" and not child.get("message"):
                    raise Invalid("suite %r: <%s> of %s without a message" % (name, outcome, key))
        declared = {k: int(suite.get(k, "0")) for k in COUNTS}
        if found != declared:
            raise Invalid("suite %r declares %s, holds %s" % (name, declared, found))


def check(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        raise Invalid("not UTF-8: %s" % e)
    if not text.startswith('<?xml version="1.0" encoding="UTF-8"?>'):
        raise Invalid("no XML declaration with encoding UTF-8")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise Invalid("not well-formed XML: %s" % e)
    if not validate_schema(path):
        return None
    check_counts(root)
    return root


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    status = 0
    for path in argv[1:]:
        try:
            root = check(path)
        except Invalid as e:
            print("%s: invalid JUnit XML: %s" % (path, e))
            status = 1
            continue
        if root is None:
            print("%s: cannot check: xmllint is not installed (Debian: libxml2-utils)" % path)
            return 3
        tests = sum(int(s.get("tests")) for s in root)
        print("%s: valid: %d suites, %d tests" % (path, len(root), tests))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
