#!/usr/bin/env python3
"""Heartbeat load for bench/partial_bench.sh: P processes, each posting
OTLP/JSON logs requests of R heartbeat records (json/v1 bodies) over one
keep-alive connection for S seconds, cycling over its own set of live spans
(so most writes are updates of existing rows, as in production).
usage: partial_load.py PORT SECONDS PROCS RECORDS_PER_REQUEST SPANS_PER_PROC
prints: acked_records failed_requests seconds"""
import http.client
import json
import multiprocessing as mp
import random
import sys
import time


def kv(k, v):
    return {"key": k, "value": {"stringValue": v}}


def body(spans, t):
    recs = []
    for tid, sid in spans:
        tr = {"resourceSpans": [{"resource": {"attributes": [kv("service.name", "bench")]},
              "scopeSpans": [{"scope": {"name": "bench"}, "spans": [{
                  "traceId": tid, "spanId": sid, "name": "long-job", "kind": 1,
                  "startTimeUnixNano": str(t), "attributes": [kv("job.id", sid)]}]}]}]}
        recs.append({"timeUnixNano": str(t), "severityNumber": 9, "traceId": tid, "spanId": sid,
                     "body": {"stringValue": json.dumps(tr)},
                     "attributes": [kv("partial.event", "heartbeat"),
                                    kv("partial.frequency", "60s"),
                                    kv("partial.body.type", "json/v1")]})
    return json.dumps({"resourceLogs": [{"resource": {"attributes": [kv("host.name", "b")]},
                                         "scopeLogs": [{"logRecords": recs}]}]}).encode()


def worker(port, secs, per_req, nspans, out):
    rnd = random.Random()
    spans = [("%032x" % rnd.getrandbits(128), "%016x" % rnd.getrandbits(64))
             for _ in range(nspans)]
    bodies = [body(spans[i:i + per_req], time.time_ns()) for i in range(0, nspans, per_req)]
    c = http.client.HTTPConnection("127.0.0.1", port)
    acked = failed = 0
    end = time.time() + secs
    i = 0
    while time.time() < end:
        b = bodies[i % len(bodies)]
        i += 1
        c.request("POST", "/v1/logs", b, {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        if r.status == 200:
            acked += per_req
        else:
            failed += 1
    out.put((acked, failed))


def main():
    port, secs, procs, per_req, nspans = (int(x) for x in sys.argv[1:6])
    q = mp.Queue()
    ps = [mp.Process(target=worker, args=(port, secs, per_req, nspans, q)) for _ in range(procs)]
    t0 = time.time()
    for p in ps:
        p.start()
    res = [q.get() for _ in ps]
    for p in ps:
        p.join()
    print(sum(r[0] for r in res), sum(r[1] for r in res), "%.2f" % (time.time() - t0))


if __name__ == "__main__":
    main()
