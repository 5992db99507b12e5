#!/usr/bin/env bash
# ERR and component status (two workers): an otlphttp exporter whose backend is down
# reports export_failed (a recoverable error) on each failed attempt; the
# health_check extension with use_v2 and component_health
# (include_recoverable_errors, recovery_duration 0s) then answers 500 (an
# error, as healthcheckv2; 503 is for starting / stopping / stopped), its
# JSON (?verbose) shows pipeline:logs and exporter:otlphttp in
# StatusRecoverableError with the error, /api/v1/dag shows the node's
# status "recoverable_error" (the dataflow page, in headless Chromium,
# colours its box so), and the self-metric otelcol_component_errors
# counts it per component and reason. The backend comes up: the retried
# export succeeds, health is 200 with StatusOK everywhere, the node "ok",
# and the record reached the backend. The log line of the repeated error
# is rate-limited (one per 10 s). Also ?pipeline=logs and an unknown
# pipeline (404).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=$(free_port)
HEALTH=$(free_port)
ADMIN=$(free_port)
PROM=$(free_port)
BACK=$(free_port)
cat > "$TMP/c.yaml" <<Y
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:$PORT"}}}}
exporters:
  otlphttp:
    endpoint: "http://127.0.0.1:$BACK"
    encoding: json
    compression: none
    timeout: 500ms
    retry_on_failure: {initial_interval: 50ms, max_interval: 100ms, max_elapsed_time: 60s}
extensions:
  health_check:
    endpoint: "127.0.0.1:$HEALTH"
    use_v2: true
    component_health: {include_recoverable_errors: true, recovery_duration: 0s}
service:
  extensions: [health_check]
  admin: {endpoint: "127.0.0.1:$ADMIN"}
  telemetry:
    metrics:
      level: basic
      readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: $PROM}}}}]
  pipelines: {logs: {receivers: [otlp], exporters: [otlphttp]}}
runtime: {workers: 2}
Y
"$OTF_BIN" --config "$TMP/c.yaml" > "$TMP/otflow.log" 2>&1 &
PID=$!
track "$PID"
code() { curl -s -m 5 -o "$TMP/h.json" -w '%{http_code}' "http://127.0.0.1:$HEALTH/${1:-}"; }
for _ in $(seq 100); do [ "$(code)" = 200 ] && break; sleep 0.1; done
expect_eq "healthy at start" 200 "$(code)"
python3 - "$TMP/h.json" <<'P' && ok "start: StatusOK, healthy, start_time" || bad "start body: $(cat "$TMP/h.json")"
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["status"] == "StatusOK" and d["healthy"] is True and "start_time" in d and "components" not in d else 1)
P

# One record while the backend is down: the exporter retries it.
curl -s -m 5 -o /dev/null -XPOST -H 'Content-Type: application/json' \
	--data '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"survivor"}}]}]}]}' \
	"http://127.0.0.1:$PORT/v1/logs"
for _ in $(seq 100); do [ "$(code)" = 500 ] && break; sleep 0.05; done
expect_eq "backend down: health 500 (an error, not a lifecycle state)" 500 "$(code)"
code "?verbose" > /dev/null
got=$(python3 - "$TMP/h.json" <<'P'
import json, sys
d = json.load(open(sys.argv[1]))
p = d["components"]["pipeline:logs"]
e = p["components"]["exporter:otlphttp"]
r = p["components"]["receiver:otlp"]
print(d["status"], d["healthy"], p["status"], p["healthy"], e["status"], e["healthy"],
      r["status"], "export_failed" in e.get("error", ""))
P
)
expect_eq "verbose: pipeline and exporter recoverable, receiver ok" \
	"StatusRecoverableError False StatusRecoverableError False StatusRecoverableError False StatusOK True" "$got"
expect_eq "?pipeline=logs: 500" 500 "$(code "?pipeline=logs")"
expect_eq "?pipeline=nope: 404" 404 "$(code "?pipeline=nope")"
st=$(curl -s -m 5 "http://127.0.0.1:$ADMIN/api/v1/nodes/exporter:otlphttp" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], "export_failed" in d.get("error",""))')
expect_eq "/api/v1/nodes: status recoverable_error with the error" "recoverable_error True" "$st"
# The dataflow page (headless Chromium) colours the node by that status.
CHROME=$(command -v chromium || command -v chromium-browser || true)
page_status() { # the class of exporter:otlphttp's box in the rendered page
	[ -n "$CHROME" ] || { echo "no chromium"; return; }
	timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
		--user-data-dir="$TMP/chrome" --virtual-time-budget=3000 --dump-dom \
		"http://127.0.0.1:$ADMIN/" 2>"$TMP/chrome.log" | python3 -c '
import re, sys
m = re.search(r"<g id=\"node-exporter:otlphttp\"><rect class=\"([^\"]*)\"", sys.stdin.read())
print(m.group(1) if m else "none")'
}
expect_eq "the page draws the exporter in its error colour" "node recoverable_error" "$(page_status)"
n=$(curl -s -m 5 "http://127.0.0.1:$PROM/metrics" | sed -n 's/^otelcol_component_errors{component="exporter:otlphttp",reason="export_failed"} \([0-9]*\)$/\1/p')
[ "${n:-0}" -ge 2 ] && ok "otelcol_component_errors{component, reason} counts the attempts ($n)" ||
	bad "metric: '$n'"
lines=$(grep -c "export_failed:" "$TMP/otflow.log")
[ "$lines" = 1 ] && ok "the repeated error is logged once ($n reports)" || bad "$lines export_failed lines for $n reports"

# The backend comes up: the next retry succeeds.
python3 "$E2E_DIR/capture_http.py" "$BACK" X-None "$TMP/cap.txt" &
CAP=$!
track "$CAP"
for _ in $(seq 200); do [ "$(code)" = 200 ] && break; sleep 0.05; done
expect_eq "backend back: health 200" 200 "$(code "?verbose")"
got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
p = d["components"]["pipeline:logs"]
print(d["status"], p["status"], p["components"]["exporter:otlphttp"]["status"], "error" in d)' "$TMP/h.json")
expect_eq "recovered: StatusOK everywhere, no error" "StatusOK StatusOK StatusOK False" "$got"
st=$(curl -s -m 5 "http://127.0.0.1:$ADMIN/api/v1/nodes/exporter:otlphttp" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
expect_eq "/api/v1/nodes: status ok" ok "$st"
expect_eq "the page draws the exporter ok again" "node ok" "$(page_status)"
for _ in $(seq 100); do grep -q survivor "$TMP/cap.txt" 2>/dev/null && break; sleep 0.05; done
grep -q survivor "$TMP/cap.txt" && ok "the record retried through the outage arrived" || bad "record lost"
grep -q "recovered: status ok" "$TMP/otflow.log" && ok "recovery logged" || bad "no recovery line"
kill -TERM "$PID"
wait_pid "$PID" 20 && ok "exits 0" || bad "exit status"
finish
