#!/usr/bin/env python3
"""Compares what a backend wrote (file exporter, OTLP JSON lines) with the
ids a client was acknowledged (wal_client.py's ACKED file).

  wal_check.py OUT ACKED [--expect N]
Prints "missing=M duplicates=D received=R distinct=U" and exits 0 when no
acknowledged id is missing (and, with --expect, exactly N distinct ids
arrived)."""
import collections
import json
import sys


def received(path):
    got = collections.Counter()
    try:
        f = open(path)
    except OSError:
        return got
    with f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                doc = json.loads(line)
            except ValueError:
                continue  # a line being written
            for rl in doc.get("resourceLogs", []):
                for sl in rl.get("scopeLogs", []):
                    for lr in sl.get("logRecords", []):
                        got[lr.get("body", {}).get("stringValue", "")] += 1
    return got


def main():
    got = received(sys.argv[1])
    with open(sys.argv[2]) as f:
        acked = [l.strip() for l in f if l.strip()]
    missing = [a for a in acked if a not in got]
    dups = sum(c - 1 for c in got.values() if c > 1)
    print("missing=%d duplicates=%d received=%d distinct=%d%s" % (
        len(missing), dups, sum(got.values()), len(got),
        (" first_missing=" + ",".join(missing[:5])) if missing else ""))
    if missing:
        return 1
    if "--expect" in sys.argv:
        want = int(sys.argv[sys.argv.index("--expect") + 1])
        if len(got) != want:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
