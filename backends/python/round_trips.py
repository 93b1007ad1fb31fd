#!/usr/bin/env python3
"""Summarises the lock-step round trips of python:* driver runs.

    LOOPSPEC_DRIVER_STATS=/tmp/rt.jsonl build/conformance/loopspec run --backend python:asyncio --out /tmp/out
    python3 backends/python/round_trips.py /tmp/rt.jsonl

Every driver started with LOOPSPEC_DRIVER_STATS=FILE appends one JSON line when the harness ends it: its
loop, and histograms {microseconds: count} of its callback round trips -- the time from sending an event
to reading the harness's return. "plain" round trips are callbacks whose harness side sent no command
meanwhile: the cost of one lock-step callback (two context switches, JSON both ways, the recorder's and
checker's work). "nested" ones also executed commands (a write inside data_received, ...).

Prints, per loop: drivers, callbacks, and the median, 90th percentile and maximum of each kind.
Standard library only.
"""

import collections
import json
import sys


def percentile(histogram, fraction):
    """The smallest value v such that at least `fraction` of the samples are <= v."""
    total = sum(histogram.values())
    if total == 0:
        return None
    wanted = fraction * total
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= wanted:
            return value
    return max(histogram)


def describe(histogram):
    count = sum(histogram.values())
    if count == 0:
        return "0 callbacks"
    return "%d callbacks, median %d us, p90 %d us, max %d us" % (
        count, percentile(histogram, 0.5), percentile(histogram, 0.9), max(histogram))


def main(paths):
    if not paths:
        sys.stderr.write("usage: round_trips.py STATS.jsonl...\n")
        return 2
    drivers = collections.Counter()
    plain = collections.defaultdict(collections.Counter)
    nested = collections.defaultdict(collections.Counter)
    for path in paths:
        with open(path) as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    loop = record["loop"]
                    for kind, into in (("plain_us", plain), ("nested_us", nested)):
                        for micros, count in record[kind].items():
                            into[loop][int(micros)] += int(count)
                except (ValueError, KeyError, TypeError, AttributeError) as e:
                    sys.stderr.write("%s:%d: not a driver statistics line (%s)\n" % (path, number, e))
                    return 2
                drivers[loop] += 1
    for loop in sorted(drivers):
        print("%s: %d drivers" % (loop, drivers[loop]))
        print("  plain round trips:  " + describe(plain[loop]))
        print("  nested round trips: " + describe(nested[loop]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
