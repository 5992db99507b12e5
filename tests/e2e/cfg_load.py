#!/usr/bin/env python3
"""Load for e2e_cfg.sh: THREADS keep-alive clients POST OTLP/JSON logs to
the receiver (wait_for_result: the answer comes once the exporter has the
data) until the file STOP exists. Request seq holds two records, attribute
k "a" and "b", bodies "a-<seq>" and "b-<seq>". Each answered request is
written to LOG as "seq start_ns end_ns status" (CLOCK_MONOTONIC), so the
test can tell which requests began after a config change returned.

usage: cfg_load.py PORT LOG STOP [THREADS]
       cfg_load.py check LOG OUT T0 T1
check: reads the file exporter's JSON lines OUT and prints "ok" when every
request answered before T0 had only its "b" record out (the rule dropped
"a"), every request sent after T1 only its "a" record (the new rule drops
"b"), and each one between exactly one of them; else what went wrong.
Then the three counts."""
import http.client
import json
import os
import sys
import threading
import time



def check(log, out, t0, t1):
    seen = {}
    for line in open(out):
        for rl in json.loads(line).get("resourceLogs", []):
            for sl in rl.get("scopeLogs", []):
                for r in sl.get("logRecords", []):
                    k, n = r["body"]["stringValue"].split("-")
                    seen.setdefault(int(n), []).append(k)
    old = new = between = 0
    errs = []
    for line in open(log):
        n, s, e, st = line.split()
        n, s, e = int(n), int(s), int(e)
        got = sorted(seen.get(n, []))
        if st != "200":
            errs.append("request %d: status %s" % (n, st))
        elif e < t0:
            old += 1
            if got != ["b"]:
                errs.append("request %d before the change: %s out" % (n, got))
        elif s > t1:
            new += 1
            if got != ["a"]:
                errs.append("request %d after the change: %s out" % (n, got))
        else:
            between += 1
            if got not in (["a"], ["b"]):
                errs.append("request %d during the change: %s out" % (n, got))
    print("ok" if not errs and old and new else
          "; ".join(errs[:5]) or "old %d new %d" % (old, new))
    print(old, new, between)


if sys.argv[1] == "check":
    check(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    sys.exit(0)

port, log_path, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3]
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
lock = threading.Lock()
seq = [0]
out = open(log_path, "w", buffering=1)


def body(n):
    recs = [{"body": {"stringValue": "%s-%d" % (k, n)},
             "attributes": [{"key": "k", "value": {"stringValue": k}}]} for k in ("a", "b")]
    return json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": recs}]}]})


def run():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while not os.path.exists(stop):
        with lock:
            seq[0] += 1
            n = seq[0]
        t0 = time.monotonic_ns()
        try:
            c.request("POST", "/v1/logs", body(n), {"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            st = r.status
        except OSError as e:
            st = "error:%s" % e
            c.close()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        t1 = time.monotonic_ns()
        with lock:
            out.write("%d %d %d %s\n" % (n, t0, t1, st))


ts = [threading.Thread(target=run) for _ in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
