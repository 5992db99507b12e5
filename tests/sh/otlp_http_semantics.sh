#!/bin/sh
# OTLP/HTTP receiver semantics beyond the happy path: CORS preflight and
# actual requests, JSON responses in the request's encoding, and
# wait_for_result turning an exporter failure into a retryable 503 with
# Retry-After (the data is not acknowledged), while the process stays up.
set -u
pass=0
fail=0
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
ok() { pass=$((pass + 1)); }
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
HPORT=$(free_port)
cat > "$tmp/c.yaml" <<Y
receivers:
  otlp:
    wait_for_result: true
    protocols:
      http:
        endpoint: "127.0.0.1:$PORT"
        cors:
          allowed_origins: ["https://*.example.com"]
          allowed_headers: [X-Tenant]
          max_age: 600
exporters:
  file/ok: {path: "$tmp/ok.jsonl"}
  file/full: {path: /dev/full, flush_interval: 0s}
extensions:
  health_check: {endpoint: "127.0.0.1:$HPORT"}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], exporters: [file/ok]}
    logs: {receivers: [otlp], exporters: [file/full]}
runtime: {workers: 1}
Y
"$OTF_BIN" --config "$tmp/c.yaml" > "$tmp/log" 2>&1 &
pid=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$HPORT/"; do
	i=$((i + 1))
	[ $i -gt 100 ] && { cat "$tmp/log"; exit 1; }
	sleep 0.1
done
U="http://127.0.0.1:$PORT"

# Preflight from an allowed origin
curl -s -D "$tmp/h" -o /dev/null -X OPTIONS -H 'Origin: https://app.example.com' \
	-H 'Access-Control-Request-Method: POST' "$U/v1/traces"
grep -qi '^access-control-allow-origin: https://app.example.com' "$tmp/h" && ok || bad "preflight lacks allow-origin: $(cat "$tmp/h")"
grep -qi '^access-control-allow-headers:.*X-Tenant' "$tmp/h" && ok || bad "preflight lacks X-Tenant"
grep -qi '^access-control-max-age: 600' "$tmp/h" && ok || bad "preflight lacks max-age"
# Preflight from another origin: no CORS headers
curl -s -D "$tmp/h" -o /dev/null -X OPTIONS -H 'Origin: https://evil.test' "$U/v1/traces"
grep -qi '^access-control-allow-origin' "$tmp/h" && bad "foreign origin allowed" || ok

# Actual JSON request: 200, JSON response, CORS header, content written
code=$(curl -s -D "$tmp/h" -o "$tmp/body" -w '%{http_code}' -XPOST -H 'Origin: https://app.example.com' \
	-H 'Content-Type: application/json' --data @"$OTF_SOURCE_DIR/examples/pdata/traces.json" "$U/v1/traces")
[ "$code" = 200 ] && ok || bad "traces post: $code"
grep -qi '^content-type: application/json' "$tmp/h" && ok || bad "response not JSON"
grep -qi '^access-control-allow-origin: https://app.example.com' "$tmp/h" && ok || bad "no allow-origin on POST"
[ "$(cat "$tmp/body")" = "{}" ] && ok || bad "response body: $(cat "$tmp/body")"

# wait_for_result + exporter failure (/dev/full: ENOSPC) -> 503 + Retry-After.
# The request is larger than stdio's buffer, so the write reaches the device.
python3 - "$tmp/big.json" <<'PY'
import json, sys
recs = [{"timeUnixNano": "1700000000000000000", "body": {"stringValue": "y" * 200}}] * 400
json.dump({"resourceLogs": [{"scopeLogs": [{"logRecords": recs}]}]}, open(sys.argv[1], "w"))
PY
code=$(curl -s -D "$tmp/h" -o "$tmp/body" -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
	--data @"$tmp/big.json" "$U/v1/logs")
[ "$code" = 503 ] && ok || bad "failing exporter: got $code, want 503"
grep -qi '^retry-after:' "$tmp/h" && ok || bad "503 without Retry-After"
grep -q 'not delivered' "$tmp/body" && ok || bad "503 body lacks the reason: $(cat "$tmp/body")"

# still up and serving
code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
	--data @"$OTF_SOURCE_DIR/examples/pdata/traces.json" "$U/v1/traces")
[ "$code" = 200 ] && ok || bad "after failure: $code"
kill -TERM "$pid"
wait "$pid" && ok || bad "exit code not 0"
pid=""
[ "$(wc -l < "$tmp/ok.jsonl")" -eq 2 ] && ok || bad "expected 2 lines in ok.jsonl"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
