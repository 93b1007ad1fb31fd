#!/usr/bin/env python3
"""Strict check of a JUnit XML file written by `loopspec report`.

usage: check_junit.py FILE
Exit 0 when the file is valid UTF-8, well-formed XML 1.0 and follows the
structure spec/report-format.md describes (the common JUnit schema:
testsuites > testsuite > properties?, testcase*; testcase > at most one of
failure/error/skipped, system-out?); every count adds up. Otherwise prints
what is wrong and exits 1. No network, standard library only.
"""
import re
import sys
import xml.etree.ElementTree as ET

NUMBER = re.compile(r"^[0-9]+$")
SECONDS = re.compile(r"^[0-9]+(\.[0-9]+)?$")
TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$")
COUNTS = ("tests", "failures", "errors", "skipped")


class Invalid(Exception):
    pass


def where(elem):
    return "<%s%s>" % (elem.tag, "".join(' %s="%s"' % kv for kv in sorted(elem.attrib.items())[:2]))


def attributes(elem, required, optional=()):
    names = set(elem.attrib)
    missing = set(required) - names
    unknown = names - set(required) - set(optional)
    if missing:
        raise Invalid("%s: missing attribute(s) %s" % (where(elem), sorted(missing)))
    if unknown:
        raise Invalid("%s: unknown attribute(s) %s" % (where(elem), sorted(unknown)))


def no_text(elem):
    """Only whitespace between child elements."""
    if elem.text and elem.text.strip():
        raise Invalid("%s: unexpected text %r" % (where(elem), elem.text[:40]))
    for child in elem:
        if child.tail and child.tail.strip():
            raise Invalid("%s: unexpected text %r after <%s>" % (where(elem), child.tail[:40], child.tag))


def counts_of(elem):
    for name in COUNTS:
        if not NUMBER.match(elem.get(name)):
            raise Invalid("%s: %s=%r is not a count" % (where(elem), name, elem.get(name)))
    if not SECONDS.match(elem.get("time")):
        raise Invalid("%s: time=%r is not a number of seconds" % (where(elem), elem.get("time")))
    return {name: int(elem.get(name)) for name in COUNTS}


def check_testcase(case):
    attributes(case, ("classname", "name", "time"))
    if not case.get("classname") or not case.get("name"):
        raise Invalid("%s: empty classname or name" % where(case))
    if not SECONDS.match(case.get("time")):
        raise Invalid("%s: time=%r is not a number of seconds" % (where(case), case.get("time")))
    no_text(case)
    outcome = None
    for child in case:
        if child.tag in ("failure", "error", "skipped"):
            if outcome:
                raise Invalid("%s: both <%s> and <%s>" % (where(case), outcome, child.tag))
            outcome = child.tag
            if child.tag == "skipped":
                attributes(child, (), ("message",))
                if len(child) or (child.text and child.text.strip()):
                    raise Invalid("%s: <skipped> has content" % where(case))
            else:
                attributes(child, ("message", "type"))
                if len(child):
                    raise Invalid("%s: <%s> has child elements" % (where(case), child.tag))
                if not child.get("message"):
                    raise Invalid("%s: <%s> without a message" % (where(case), child.tag))
        elif child.tag == "system-out":
            attributes(child, ())
            if len(child):
                raise Invalid("%s: <system-out> has child elements" % where(case))
        else:
            raise Invalid("%s: unexpected <%s>" % (where(case), child.tag))
    tags = [c.tag for c in case]
    if tags.count("system-out") > 1:
        raise Invalid("%s: several <system-out>" % where(case))
    return outcome


def check_testsuite(suite):
    attributes(suite, ("name", "time") + COUNTS, ("timestamp",))
    if not suite.get("name"):
        raise Invalid("<testsuite>: empty name")
    if "timestamp" in suite.attrib and not TIMESTAMP.match(suite.get("timestamp")):
        raise Invalid("%s: timestamp=%r is not an xs:dateTime without zone" % (where(suite), suite.get("timestamp")))
    declared = counts_of(suite)
    no_text(suite)
    found = dict.fromkeys(COUNTS, 0)
    seen = set()
    children = list(suite)
    if children and children[0].tag == "properties":
        props = children.pop(0)
        attributes(props, ())
        no_text(props)
        for prop in props:
            if prop.tag != "property":
                raise Invalid("<properties>: unexpected <%s>" % prop.tag)
            attributes(prop, ("name", "value"))
            if len(prop) or (prop.text and prop.text.strip()):
                raise Invalid("<property>: has content")
    for case in children:
        if case.tag != "testcase":
            raise Invalid("%s: unexpected <%s>" % (where(suite), case.tag))
        key = (case.get("classname"), case.get("name"))
        if key in seen:
            raise Invalid("%s: test case %s twice" % (where(suite), key))
        seen.add(key)
        outcome = check_testcase(case)
        found["tests"] += 1
        if outcome == "failure":
            found["failures"] += 1
        elif outcome == "error":
            found["errors"] += 1
        elif outcome == "skipped":
            found["skipped"] += 1
    if found != declared:
        raise Invalid("%s: declares %s, holds %s" % (where(suite), declared, found))
    return found


def check(data):
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
    if root.tag != "testsuites":
        raise Invalid("root is <%s>, not <testsuites>" % root.tag)
    attributes(root, ("name", "time") + COUNTS)
    declared = counts_of(root)
    no_text(root)
    total = dict.fromkeys(COUNTS, 0)
    names = set()
    for suite in root:
        if suite.tag != "testsuite":
            raise Invalid("<testsuites>: unexpected <%s>" % suite.tag)
        if suite.get("name") in names:
            raise Invalid("two test suites named %r" % suite.get("name"))
        names.add(suite.get("name"))
        for k, v in check_testsuite(suite).items():
            total[k] += v
    if total != declared:
        raise Invalid("<testsuites> declares %s, holds %s" % (declared, total))
    return root


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        data = f.read()
    try:
        root = check(data)
    except Invalid as e:
        print("%s: invalid JUnit XML: %s" % (argv[1], e))
        return 1
    print("%s: valid: %d suites, %s tests" % (argv[1], len(root), root.get("tests")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
