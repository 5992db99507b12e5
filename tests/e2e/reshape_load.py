#!/usr/bin/env python3
"""Load for e2e_reload_shape.sh: one keep-alive client POSTs OTLP/JSON
logs, one record per request with body "<tag>-<seq>", to the receiver on
PORT until the file STOP exists (about one per half millisecond at most). Each answer is written to LOG as
"seq end_ns status" (CLOCK_MONOTONIC).

usage: reshape_load.py PORT TAG LOG STOP
       reshape_load.py count FILE TAG   (prints "seq count" per record of
                                          TAG in the file exporter's FILE)"""
import http.client
import json
import os
import sys
import time


def count(path, tag):
    seen = {}
    if os.path.exists(path):
        for line in open(path):
            try:
                doc = json.loads(line)
            except ValueError:
                continue  # the line being written now
            for rl in doc.get("resourceLogs", []):
                for sl in rl.get("scopeLogs", []):
                    for r in sl.get("logRecords", []):
                        t, n = r["body"]["stringValue"].split("-")
                        if t == tag:
                            seen[int(n)] = seen.get(int(n), 0) + 1
    for n in sorted(seen):
        print(n, seen[n])


if sys.argv[1] == "count":
    count(sys.argv[2], sys.argv[3])
    sys.exit(0)

port, tag, log, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
seq = 0
conn = None
with open(log, "a", buffering=1) as out:
    while not os.path.exists(stop):
        seq += 1
        body = json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [
            {"body": {"stringValue": "%s-%d" % (tag, seq)}}]}]}]})
        status = "err"
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("POST", "/v1/logs", body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            status = str(r.status)
        except (OSError, http.client.HTTPException):
            conn = None
            time.sleep(0.01)
        out.write("%d %d %s\n" % (seq, time.monotonic_ns(), status))
        time.sleep(0.0005)  # continuous, without taking a whole core
