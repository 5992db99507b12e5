#!/usr/bin/env bash
# CAN in the batch processor: two OTLP/HTTP clients (wait_for_result) send
# one log record each; both wait in the same pending batch (timeout 3s).
# Client A gives up (curl -m 1: it disconnects), which cancels its request:
# the batch drops A's record before it is built and counts it cancelled.
# At the flush the backend receives B's record and never A's, and B is
# answered 200. Before, A's record was merged into the batch and exported.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BACK=$(free_port)
python3 "$E2E_DIR/capture_http.py" "$BACK" X-None "$TMP/cap.txt" &
track $!
config() {
	cat <<Y
receivers:
  otlp: {wait_for_result: true, protocols: {http: {endpoint: "127.0.0.1:$PORT"}}}
processors:
  batch: {timeout: 3s, send_batch_size: 1000}
exporters:
  otlphttp: {endpoint: "http://127.0.0.1:$BACK", encoding: json, compression: none}
extensions:
  health_check: {endpoint: "127.0.0.1:$HEALTH"}
service:
  extensions: [health_check]
  admin: {endpoint: ""}
  telemetry:
    metrics:
      level: basic
      readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: $PROM, without_units: true}}}}]
  pipelines: {logs: {receivers: [otlp], processors: [batch], exporters: [otlphttp]}}
runtime: {workers: 1}
Y
}
otf_start_yaml config || finish
# The backend answers before the test starts.
for _ in $(seq 100); do
	curl -s -m 1 -o /dev/null -XPOST --data '{}' "http://127.0.0.1:$BACK/" && break
	sleep 0.1
done
rm -f "$TMP/cap.txt"
post() { # post BODY MAX_SECONDS: prints the HTTP code (000 when curl gave up)
	curl -s -m "$2" -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
		--data "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"stringValue\":\"$1\"}}]}]}]}" \
		"http://127.0.0.1:$PORT/v1/logs"
}
post kept-record 15 > "$TMP/b.code" &
B=$!
post cancelled-record 1 > "$TMP/a.code"
expect_eq "client A gave up before the flush" 000 "$(cat "$TMP/a.code")"
for _ in $(seq 100); do [ "$(prom_metric otelcol_processor_cancelled_log_records)" -ge 1 ] && break; sleep 0.05; done
expect_eq "the batch counted A's record cancelled" 1 "$(prom_metric otelcol_processor_cancelled_log_records)"
wait "$B"
expect_eq "client B answered 200 at the flush" 200 "$(cat "$TMP/b.code")"
for _ in $(seq 100); do grep -q kept-record "$TMP/cap.txt" 2>/dev/null && break; sleep 0.05; done
grep -q kept-record "$TMP/cap.txt" && ok "B's record reached the backend" || bad "B's record missing: $(cat "$TMP/cap.txt" 2>/dev/null)"
if grep -q cancelled-record "$TMP/cap.txt"; then
	bad "A's cancelled record was exported: $(cat "$TMP/cap.txt")"
else
	ok "A's record was not exported"
fi
expect_eq "one export, with B's record only" "$(printf -- '-\tkept-record')" "$(cat "$TMP/cap.txt")"
kill -TERM "$PID"
wait_pid "$PID" 20 && ok "exits 0" || bad "exit status"
finish
