#!/usr/bin/env python3
"""An OTLP/HTTP backend that throttles: the first REFUSE POSTs are answered
CODE (429 or 503) with "Retry-After: SECONDS", every later one 200 with an
empty response. Each POST is logged to DIR/log as "<unix ns> <code>" and its
body kept (gunzipped) as DIR/body.<n> (n from 0); DIR/ready appears once listening.

    throttle_http.py PORT DIR CODE SECONDS REFUSE
"""
import gzip
import http.server
import os
import sys
import threading
import time

PORT, DIR, CODE, SECONDS, REFUSE = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                    sys.argv[4], int(sys.argv[5]))
lock = threading.Lock()
count = [0]


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding", "") == "gzip":
            data = gzip.decompress(data)
        with lock:
            n = count[0]
            count[0] += 1
            code = CODE if n < REFUSE else 200
            with open(os.path.join(DIR, "body.%d" % n), "wb") as f:
                f.write(data)
            with open(os.path.join(DIR, "log"), "a") as f:
                f.write("%d %d\n" % (time.time_ns(), code))
        self.send_response(code)
        if code != 200:
            self.send_header("Retry-After", SECONDS)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), H)
open(os.path.join(DIR, "ready"), "w").close()
srv.serve_forever()
