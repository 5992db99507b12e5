#!/usr/bin/env bash
# CAN into a batch already built: three OTLP/HTTP clients (wait_for_result)
# send one log record each; send_batch_size 3 builds one batch of the
# three, which the otlphttp exporter cannot deliver (its backend is down:
# connection refused, retried). Client A disconnects (its curl is
# killed) while the batch waits for its retry, which cancels A's
# request: the exporter cuts A's record out of the batch (counted
# cancelled on the exporter, not on the batch, which had nothing of A
# pending). The backend comes up: it receives one request holding B's and
# C's records, each once, and never A's; B and C are answered 200, A was
# told nothing (it left). Before, A's record stayed in the built batch
# and reached the backend.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The backend's port: bound late (once A left), reserved meanwhile.
BACK=$(free_port)
config() {
	cat <<Y
receivers:
  otlp: {wait_for_result: true, protocols: {http: {endpoint: "127.0.0.1:$PORT"}}}
processors:
  batch: {timeout: 10s, send_batch_size: 3}
exporters:
  otlphttp:
    endpoint: "http://127.0.0.1:$BACK"
    encoding: json
    compression: none
    sending_queue: {enabled: false}
    retry_on_failure: {initial_interval: 300ms, max_interval: 600ms, randomization_factor: 0}
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
post_log_record kept-b &
B=$!
post_log_record kept-c &
C=$!
post_log_record cancelled-a &
A=$!
# send_batch_size 3: the batch is built once all three arrived; its export
# fails (backend down) and waits for a retry.
for _ in $(seq 300); do grep -q "Will retry" "$TMP/otflow.log" && break; sleep 0.05; done
grep -q "Will retry" "$TMP/otflow.log" && ok "the built batch of three waits for a retry" ||
	bad "no retry seen: $(tail -5 "$TMP/otflow.log")"
kill "$A" # A disconnects
wait "$A" 2>/dev/null
expect_eq "client A was told nothing (it left)" "" "$(cat "$TMP/cancelled-a.code")"
for _ in $(seq 200); do [ "$(prom_metric otelcol_exporter_cancelled_log_records)" -ge 1 ] && break; sleep 0.05; done
expect_eq "the exporter cut A's one record out" 1 "$(prom_metric otelcol_exporter_cancelled_log_records)"
expect_eq "the batch had nothing of A pending" 0 "$(prom_metric otelcol_processor_cancelled_log_records)"
python3 "$E2E_DIR/capture_http.py" "$BACK" X-None "$TMP/cap.txt" &
track $!
wait "$B"
wait "$C"
expect_eq "client B answered 200 once the backend is up" 200 "$(cat "$TMP/kept-b.code")"
expect_eq "client C answered 200 once the backend is up" 200 "$(cat "$TMP/kept-c.code")"
# One export holding B's and C's records (in arrival order), nothing of A.
got=$(tr '\t' ' ' < "$TMP/cap.txt" 2>/dev/null)
case "$got" in
"- kept-b,kept-c" | "- kept-c,kept-b") ok "the backend got B's and C's records once each, in one export" ;;
*) bad "backend got: '$got'" ;;
esac
grep -q cancelled-a "$TMP/cap.txt" && bad "A's cancelled record was exported" || ok "A's record never reached the backend"
expect_eq "B's and C's records counted sent" 2 "$(prom_metric otelcol_exporter_sent_log_records)"
kill -TERM "$PID"
wait_pid "$PID" 20 && ok "exits 0" || bad "exit status"
finish
