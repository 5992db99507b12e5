#!/usr/bin/env python3
"""Load for e2e_rebuild.sh: THREADS clients POST OTLP/JSON logs, one record
per request with body "r-<seq>", to 127.0.0.1:<port>, the port read from
the file PORTFILE before each request (a client follows a receiver whose
endpoint changed by a new connection), until the file STOP exists. Each
attempt is written to LOG as "seq port status" (status 0: the connection
failed or broke), one attempt per seq, no retries: so a record answered 200
must be out exactly once, and one never answered 200 at most once.

usage: rebuild_load.py PORTFILE LOG STOP [THREADS]
       rebuild_load.py check LOG OUT...
check: reads the file exporters' JSON lines in OUT... and prints "ok" when
every seq answered 200 is out exactly once (over all the files) and no seq
is out twice or out without having been sent; else what went wrong. Then
"sent answered200 out" and the 200s per port."""
import http.client
import json
import os
import sys
import threading
import time


def records(path):
    for line in open(path):
        for rl in json.loads(line).get("resourceLogs", []):
            for sl in rl.get("scopeLogs", []):
                for r in sl.get("logRecords", []):
                    yield int(r["body"]["stringValue"].split("-")[1])


def check(log, outs):
    seen = {}
    for o in outs:
        if os.path.exists(o):
            for n in records(o):
                seen[n] = seen.get(n, 0) + 1
    sent, good, ports = set(), set(), {}
    for line in open(log):
        n, port, st = line.split()
        sent.add(int(n))
        if st == "200":
            good.add(int(n))
            ports[port] = ports.get(port, 0) + 1
    errs = ["record %d answered 200 but out %d times" % (n, seen.get(n, 0))
            for n in sorted(good) if seen.get(n, 0) != 1]
    errs += ["record %d out %d times" % (n, c) for n, c in sorted(seen.items())
             if c > 1 and n not in good]
    errs += ["record %d out but never sent" % n for n in sorted(seen) if n not in sent]
    print("ok" if not errs and good else "; ".join(errs[:5]) or "nothing answered 200")
    print(len(sent), len(good), sum(seen.values()),
          " ".join("%s:%d" % kv for kv in sorted(ports.items())))


if sys.argv[1] == "check":
    check(sys.argv[2], sys.argv[3:])
    sys.exit(0)

portfile, log_path, stop = sys.argv[1], sys.argv[2], sys.argv[3]
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
lock = threading.Lock()
seq = [0]
out = open(log_path, "w", buffering=1)


def body(n):
    rec = {"body": {"stringValue": "r-%d" % n}}
    return json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [rec]}]}]})


def run():
    conn, cport = None, None
    while not os.path.exists(stop):
        try:
            port = int(open(portfile).read().strip())
        except (OSError, ValueError):
            continue
        with lock:
            seq[0] += 1
            n = seq[0]
        st = 0
        try:
            if conn is None or cport != port:
                if conn:
                    conn.close()
                conn, cport = http.client.HTTPConnection("127.0.0.1", port, timeout=10), port
            conn.request("POST", "/v1/logs", body(n), {"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            st = r.status
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException):
            if conn:
                conn.close()
            conn = None
            time.sleep(0.005)  # a refused connection: do not spin
        with lock:
            out.write("%d %d %d\n" % (n, port, st))


ts = [threading.Thread(target=run) for _ in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
