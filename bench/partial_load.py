#!/usr/bin/env python3
"""Heartbeat request bodies for bench/partial_bench.sh, built once before
the run so that sending them costs the load generator (curl) almost nothing:
for each of P streams, its own NSPANS live spans in OTLP/protobuf logs
requests of R heartbeat records each (json/v1 bodies, as the Python and .NET
SDK processors send), written to DIR/s<stream>_<n>.bin, and a curl config
DIR/s<stream>.curl that posts them in turn, over and over (one keep-alive
connection per stream, one line with the HTTP status per answer).
usage: partial_load.py OTFLOW_BIN PORT DIR STREAMS RECORDS_PER_REQUEST SPANS_PER_STREAM"""
import json
import os
import random
import subprocess
import sys
import time

REPEATS = 200  # passes over a stream's spans; the benchmark stops it by time


def kv(k, v):
    return {"key": k, "value": {"stringValue": v}}


def request(spans, t):
    recs = []
    for tid, sid in spans:
        tr = {"resourceSpans": [{"resource": {"attributes": [kv("service.name", "bench")]},
              "scopeSpans": [{"scope": {"name": "bench"}, "spans": [{
                  "traceId": tid, "spanId": sid, "name": "long-job", "kind": 1,
                  "startTimeUnixNano": str(t), "attributes": [kv("job.id", sid)]}]}]}]}
        recs.append({"timeUnixNano": str(t), "severityNumber": 9, "severityText": "INFO",
                     "traceId": tid, "spanId": sid, "body": {"stringValue": json.dumps(tr)},
                     "attributes": [kv("partial.event", "heartbeat"),
                                    kv("partial.frequency", "60s"),
                                    kv("partial.body.type", "json/v1")]})
    return {"resourceLogs": [{"resource": {"attributes": [kv("host.name", "b")]},
                              "scopeLogs": [{"logRecords": recs}]}]}


def main():
    binp, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    streams, per_req, nspans = (int(x) for x in sys.argv[4:7])
    rnd = random.Random()
    for s in range(streams):
        spans = [("%032x" % rnd.getrandbits(128), "%016x" % rnd.getrandbits(64))
                 for _ in range(nspans)]
        files = []
        for i in range(0, nspans, per_req):
            pb = subprocess.run([binp, "pdata", "convert", "--to", "proto"],
                                input=json.dumps(request(spans[i:i + per_req],
                                                         time.time_ns())).encode(),
                                capture_output=True, check=True).stdout
            f = os.path.join(out, "s%d_%d.bin" % (s, len(files)))
            with open(f, "wb") as o:
                o.write(pb)
            files.append(f)
        entry = ('url = "http://127.0.0.1:%d/v1/logs"\ndata-binary = "@%%s"\n'
                 'header = "Content-Type: application/x-protobuf"\noutput = "/dev/null"\n'
                 'write-out = "%%%%{http_code}\\n"\n' % port)
        with open(os.path.join(out, "s%d.curl" % s), "w") as o:
            o.write("next\n".join(entry % f for _ in range(REPEATS) for f in files))


if __name__ == "__main__":
    main()
