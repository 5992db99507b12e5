#!/usr/bin/env python3
"""OTLP/HTTP JSON log client of the durable-queue tests (e2e_wal_*.sh).

Sends records rec-FIRST .. rec-(FIRST+COUNT-1), BATCH per request, one
request at a time. A batch answered 200 is acknowledged: its ids are
appended to ACKED (one per line, flushed per batch). Other answers and
connection errors are retried until --deadline seconds have passed (the
front may be down while a test restarts it); --once gives up at once.

  wal_client.py PORT FIRST COUNT BATCH ACKED [--deadline S] [--once]
Exit status: 0 when every batch was acknowledged."""
import http.client
import json
import sys
import time


def body(first, n):
    recs = [{"timeUnixNano": str(1700000000000000000 + i),
             "body": {"stringValue": "rec-%d" % i}} for i in range(first, first + n)]
    return json.dumps({"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name",
                                     "value": {"stringValue": "wal-e2e"}}]},
        "scopeLogs": [{"logRecords": recs}]}]}).encode()


def post(port, data):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("POST", "/v1/logs", data, {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def main():
    port, first, count, batch = (int(a) for a in sys.argv[1:5])
    acked = sys.argv[5]
    deadline = 120.0
    once = "--once" in sys.argv
    if "--deadline" in sys.argv:
        deadline = float(sys.argv[sys.argv.index("--deadline") + 1])
    end = time.monotonic() + deadline
    with open(acked, "a") as out:
        i = first
        while i < first + count:
            n = min(batch, first + count - i)
            data = body(i, n)
            pause = 0.05
            while True:
                try:
                    st = post(port, data)
                except OSError:
                    st = 0
                if st == 200:
                    break
                if once or time.monotonic() > end:
                    print("batch at %d not acknowledged (last status %d)" % (i, st),
                          file=sys.stderr)
                    return 1
                time.sleep(pause)  # the front is restarting: back off a little
                pause = min(pause * 2, 0.5)
            out.write("".join("rec-%d\n" % k for k in range(i, i + n)))
            out.flush()
            i += n
    return 0


if __name__ == "__main__":
    sys.exit(main())
