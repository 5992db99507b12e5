#!/usr/bin/env python3
"""Helpers of the Kafka end-to-end tests (e2e_kafka*.sh).

  kafka_tool.py send URL FIRST COUNT PER SENT [RESOURCES]
      Posts COUNT OTLP/JSON logs requests to URL/v1/logs, request k
      (FIRST <= k < FIRST + COUNT) holding PER log records with trace id,
      span id and body derived from (k, i), spread over RESOURCES resources
      (default 1). Appends "HTTPCODE traceid spanid body" for each record to
      SENT and prints "CODE xN" per answer code.
  kafka_tool.py check OUT,OUT2,... SENT [--allow-dups]
      Reads every log record of the file exporter outputs (OTLP/JSON, one
      request per line) and compares with the records of SENT answered 200:
      each must be present with the same trace id, span id and body, once
      (duplicates reported and failing unless --allow-dups); records answered
      otherwise are reported. Prints "missing=M dups=D extra=E got=G want=W".
      Exit 0 when nothing is missing, no extra, and no dups unless allowed.
  kafka_tool.py count OUT,OUT2,...
      Prints the number of log records in the outputs.
"""
import json
import os
import sys
import urllib.error
import urllib.request


def rec_ids(k, i):
    return "%032x" % (k * 100000 + i + 1), "%016x" % (k * 100000 + i + 1), "rec-%d-%d" % (k, i)


def send(url, first, count, per, sent, nres=1):
    codes = {}
    with open(sent, "a") as f:
        for k in range(first, first + count):
            groups = []
            for r in range(nres):
                recs = []
                for i in range(r, per, nres):
                    t, s, b = rec_ids(k, i)
                    recs.append({"traceId": t, "spanId": s, "timeUnixNano": str(1700000000000000000 + i),
                                 "body": {"stringValue": b}})
                groups.append({"resource": {"attributes": [
                    {"key": "service.name", "value": {"stringValue": "svc-%d" % r}}]},
                    "scopeLogs": [{"scope": {"name": "kafka-e2e"}, "logRecords": recs}]})
            body = json.dumps({"resourceLogs": groups}).encode()
            req = urllib.request.Request(url + "/v1/logs", data=body,
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=60) as resp:
                    code = resp.status
            except urllib.error.HTTPError as e:
                code = e.code
                sys.stderr.write("request %d: %d %s\n" % (k, code, e.read()[:300].decode(errors="replace")))
            except Exception as e:  # connection refused, timeout
                code = 0
                sys.stderr.write("request %d: %s\n" % (k, e))
            codes[code] = codes.get(code, 0) + 1
            for i in range(per):
                t, s, b = rec_ids(k, i)
                f.write("%d %s %s %s\n" % (code, t, s, b))
    print(" ".join("%d x%d" % (c, n) for c, n in sorted(codes.items())))


def read_out(paths):
    got = {}
    for p in paths.split(","):
        if not os.path.exists(p):
            continue
        with open(p) as f:
            lines = f.read().split("\n")
        for n, line in enumerate(lines):
            line = line.strip()
            if not line:
                continue
            try:
                doc = json.loads(line)
            except ValueError:
                # A line torn by a SIGKILL while it was written: only the
                # last one may be (it was never acknowledged).
                if n >= len(lines) - 2:
                    sys.stderr.write("%s: torn last line skipped\n" % p)
                    continue
                raise
            for rl in doc.get("resourceLogs", []):
                for sl in rl.get("scopeLogs", []):
                    for lr in sl.get("logRecords", []):
                        key = (lr.get("traceId", ""), lr.get("spanId", ""),
                               lr.get("body", {}).get("stringValue", ""))
                        got[key] = got.get(key, 0) + 1
    return got


def check(paths, sent, allow_dups):
    got = read_out(paths)
    want, other = set(), set()
    with open(sent) as f:
        for line in f:
            code, t, s, b = line.split()
            (want if code == "200" else other).add((t, s, b))
    missing = [k for k in want if k not in got]
    extra = [k for k in got if k not in want and k not in other]
    dups = sum(n - 1 for k, n in got.items() if n > 1)
    print("missing=%d dups=%d extra=%d got=%d want=%d" % (len(missing), dups, len(extra),
                                                          sum(got.values()), len(want)))
    for k in missing[:5]:
        print("missing:", *k)
    for k in extra[:5]:
        print("extra:", *k)
    return 0 if not missing and not extra and (allow_dups or not dups) else 1


def main():
    a = sys.argv[1:]
    if a[0] == "send":
        send(a[1], int(a[2]), int(a[3]), int(a[4]), a[5], int(a[6]) if len(a) > 6 else 1)
        return 0
    if a[0] == "check":
        return check(a[1], a[2], "--allow-dups" in a)
    if a[0] == "count":
        print(sum(read_out(a[1]).values()))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
