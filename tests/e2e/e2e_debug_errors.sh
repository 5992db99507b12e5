#!/usr/bin/env bash
# ERR from the debug exporter (verbosity detailed, health_check use_v2 with
# include_recoverable_errors): otflow's stderr is a FIFO read by `cat`.
#  - the reader runs: the dump of a record arrives, StatusOK, health 200;
#  - the reader is gone: the next dump cannot be written (EPIPE): the
#    exporter is StatusRecoverableError with write_failed, health 500,
#    otelcol_component_errors counts it; the record is still acked (200);
#  - a new reader opens the FIFO: the next dump is written, StatusOK and
#    health 200 again, and that record's dump is in what it read.
# Before, the debug exporter ignored its output errors (health stayed 200).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=$(free_port)
HEALTH=$(free_port)
PROM=$(free_port)
cat > "$TMP/c.yaml" <<Y
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:$PORT"}}}}
exporters:
  debug: {verbosity: detailed}
extensions:
  health_check:
    endpoint: "127.0.0.1:$HEALTH"
    use_v2: true
    component_health: {include_recoverable_errors: true, recovery_duration: 0s}
service:
  extensions: [health_check]
  admin: {endpoint: ""}
  telemetry:
    metrics:
      level: basic
      readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: $PROM}}}}]
  pipelines: {logs: {receivers: [otlp], exporters: [debug]}}
runtime: {workers: 1}
Y
mkfifo "$TMP/err.fifo"
cat "$TMP/err.fifo" > "$TMP/out1" &
R1=$!
track "$R1"
"$OTF_BIN" --config "$TMP/c.yaml" > "$TMP/otflow.log" 2> "$TMP/err.fifo" &
PID=$!
track "$PID"
code() { curl -s -m 5 -o "$TMP/h.json" -w '%{http_code}' "http://127.0.0.1:$HEALTH/${1:-}"; }
post() {
	curl -s -m 10 -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
		--data "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"stringValue\":\"$1\"}}]}]}]}" \
		"http://127.0.0.1:$PORT/v1/logs"
}
status() {
	code "?verbose" > /dev/null
	python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["components"]["pipeline:logs"]["components"]["exporter:debug"]
print(e["status"], "cannot write" in e.get("error", ""))' "$TMP/h.json"
}
for _ in $(seq 100); do [ "$(code)" = 200 ] && break; sleep 0.1; done
expect_eq "healthy at start" 200 "$(code)"
expect_eq "a record while the reader runs" 200 "$(post first-record)"
for _ in $(seq 100); do grep -q first-record "$TMP/out1" && break; sleep 0.05; done
grep -q first-record "$TMP/out1" && ok "its dump was read" || bad "no dump: $(head -c 300 "$TMP/out1")"
kill "$R1"
wait "$R1" 2>/dev/null
expect_eq "reader gone: the record is still acked" 200 "$(post second-record)"
for _ in $(seq 100); do [ "$(code)" = 500 ] && break; sleep 0.05; done
expect_eq "output failing: health 500" 500 "$(code)"
expect_eq "exporter:debug StatusRecoverableError with the error" "StatusRecoverableError True" "$(status)"
n=$(curl -s -m 5 "http://127.0.0.1:$PROM/metrics" | sed -n 's/^otelcol_component_errors{component="exporter:debug",reason="write_failed"} \([0-9]*\)$/\1/p')
[ "${n:-0}" -ge 1 ] && ok "otelcol_component_errors counts write_failed ($n)" || bad "metric: '$n'"
cat "$TMP/err.fifo" > "$TMP/out2" &
R2=$!
track "$R2"
# The new reader may take a moment to open the FIFO: each try sends one more.
for i in $(seq 100); do
	post "third-record-$i" > /dev/null
	[ "$(code)" = 200 ] && break
	sleep 0.05
done
expect_eq "a reader again: health 200" 200 "$(code)"
expect_eq "exporter:debug StatusOK" "StatusOK False" "$(status)"
for _ in $(seq 100); do grep -q third-record "$TMP/out2" && break; sleep 0.05; done
grep -q third-record "$TMP/out2" && ok "the new reader got the dump" || bad "no dump in the new reader"
kill -TERM "$PID"
wait_pid "$PID" 20 && ok "exits 0" || bad "exit status"
finish
