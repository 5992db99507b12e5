#!/usr/bin/env bash
# ERR from the kafka exporter (librdkafka's mock cluster, health_check
# use_v2 with include_recoverable_errors): the broker stopped while a
# client waits for its record makes every attempt fail: the exporter is
# StatusRecoverableError with export_failed, health 500,
# otelcol_component_errors counts it; the broker back, the retried record
# is delivered (200: acked on its delivery report), the exporter
# StatusOK, health 200.
set -u
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/kafka_lib.sh"

mock_start 1
export BROKERS KAFKA_TOPIC=kerr KAFKA_GROUP=gk
mock topic kerr 1
PORT=$(free_port)
HEALTH=$(free_port)
PROM=$(free_port)
cat > "$TMP/c.yaml" <<Y
receivers: {otlp: {wait_for_result: true, protocols: {http: {endpoint: "127.0.0.1:$PORT"}}}}
exporters:
  kafka:
    brokers: ["$BROKERS"]
    logs: {topic: kerr, encoding: otlp_proto}
    timeout: 500ms
    retry_on_failure: {initial_interval: 100ms, max_interval: 200ms, max_elapsed_time: 60s}
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
  pipelines: {logs: {receivers: [otlp], exporters: [kafka]}}
runtime: {workers: 1}
Y
otf_run K "$TMP/c.yaml"
wait_http "$HEALTH" K
code() { curl -s -m 5 -o "$TMP/h.json" -w '%{http_code}' "http://127.0.0.1:$HEALTH/${1:-}"; }
status() {
	code "?verbose" > /dev/null
	python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["components"]["pipeline:logs"]["components"]["exporter:kafka"]
print(e["status"], "export_failed" in e.get("error", ""))' "$TMP/h.json"
}
expect_eq "healthy at start" 200 "$(code)"
python3 "$KAFKA_TOOL" send "http://127.0.0.1:$PORT" 0 1 1 "$TMP/sent" > "$TMP/s0" 2>&1
expect_eq "broker up: delivered" "200 x1" "$(cat "$TMP/s0")"
mock down 1
python3 "$KAFKA_TOOL" send "http://127.0.0.1:$PORT" 10 1 1 "$TMP/sent" > "$TMP/s1" 2>&1 &
SENDER=$!
for _ in $(seq 200); do [ "$(code)" = 500 ] && break; sleep 0.05; done
expect_eq "broker down: health 500" 500 "$(code)"
expect_eq "exporter:kafka StatusRecoverableError export_failed" "StatusRecoverableError True" "$(status)"
n=$(curl -s -m 5 "http://127.0.0.1:$PROM/metrics" | sed -n 's/^otelcol_component_errors{component="exporter:kafka",reason="export_failed"} \([0-9]*\)$/\1/p')
[ "${n:-0}" -ge 1 ] && ok "otelcol_component_errors counts export_failed ($n)" || bad "metric: '$n'"
mock up 1
wait "$SENDER"
expect_eq "broker back: the waiting client gets 200" "200 x1" "$(cat "$TMP/s1")"
for _ in $(seq 200); do [ "$(code)" = 200 ] && break; sleep 0.05; done
expect_eq "recovered: health 200" 200 "$(code)"
expect_eq "exporter:kafka StatusOK" "StatusOK False" "$(status)"
stop K
finish
