#!/usr/bin/env python3
"""A tiny OTLP/HTTP backend for tests/e2e/e2e_auth.sh: answers every POST with
200 and an empty ExportLogsServiceResponse, and appends one line per request
to OUT: the value of header NAME ("-" when absent), a tab, and the log bodies
(stringValue of OTLP/JSON requests) joined by commas.

    capture_http.py PORT NAME OUT
"""
import http.server
import json
import sys

PORT, NAME, OUT = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def bodies(doc):
    out = []
    for rl in doc.get("resourceLogs", []):
        for sl in rl.get("scopeLogs", []):
            for lr in sl.get("logRecords", []):
                out.append(lr.get("body", {}).get("stringValue", ""))
    return out


class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n)
        try:
            b = bodies(json.loads(data))
        except ValueError:
            b = ["<not json>"]
        with open(OUT, "a") as f:
            f.write("%s\t%s\n" % (self.headers.get(NAME, "-"), ",".join(b)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *a):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
