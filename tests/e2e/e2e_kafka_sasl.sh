#!/usr/bin/env bash
# Kafka SASL failures reach the client. librdkafka's mock cluster (2.0.2,
# Debian 12) has no SaslHandshake/SaslAuthenticate handlers and listens in
# plaintext only, so a successful SASL or TLS session cannot be tested
# here (the librdkafka properties they map to are unit-tested in
# test_kafka_offsets, test_conn_props); what can be tested is the failure path. One otflow,
# three pipelines into the same mock cluster: kafka/plain (no auth),
# kafka/plainsasl (auth.sasl PLAIN) and kafka/scram (SCRAM-SHA-256):
#  - the SASL pipelines' clients get 503 (retryable) naming the cause
#    ("SASL authentication" ...), not only "Message timed out";
#  - otflow stays up, and the plain pipeline's client in the same process
#    gets 200 and its records are in Kafka (read back by a consumer).
set -u
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/kafka_lib.sh"

mock_start 1
mock topic sasl_logs 1
P_PLAIN=$(free_port) P_PLAINSASL=$(free_port) P_SCRAM=$(free_port) HEALTH=$(free_port)
cat >"$TMP/a.yaml" <<Y
receivers:
  otlp/plain: {wait_for_result: true, protocols: {http: {endpoint: "127.0.0.1:$P_PLAIN"}}}
  otlp/plainsasl: {wait_for_result: true, protocols: {http: {endpoint: "127.0.0.1:$P_PLAINSASL"}}}
  otlp/scram: {wait_for_result: true, protocols: {http: {endpoint: "127.0.0.1:$P_SCRAM"}}}
exporters:
  kafka/plain:
    brokers: ["$BROKERS"]
    logs: {topic: sasl_logs}
    timeout: 1s
    retry_on_failure: {initial_interval: 100ms, max_elapsed_time: 2s}
  kafka/plainsasl:
    brokers: ["$BROKERS"]
    logs: {topic: sasl_logs}
    auth: {sasl: {mechanism: PLAIN, username: otflow, password: wrong}}
    timeout: 1s
    retry_on_failure: {initial_interval: 100ms, max_elapsed_time: 2s}
  kafka/scram:
    brokers: ["$BROKERS"]
    logs: {topic: sasl_logs}
    auth: {sasl: {mechanism: SCRAM-SHA-256, username: otflow, password: wrong}}
    timeout: 1s
    retry_on_failure: {initial_interval: 100ms, max_elapsed_time: 2s}
extensions:
  health_check: {endpoint: "127.0.0.1:$HEALTH"}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs/plain: {receivers: [otlp/plain], exporters: [kafka/plain]}
    logs/plainsasl: {receivers: [otlp/plainsasl], exporters: [kafka/plainsasl]}
    logs/scram: {receivers: [otlp/scram], exporters: [kafka/scram]}
runtime: {workers: 1}
Y
otf_run A "$TMP/a.yaml"
wait_http "$P_PLAIN" A

for p in PLAINSASL SCRAM; do
	eval "port=\$P_$p"
	python3 "$KAFKA_TOOL" send "http://127.0.0.1:$port" 0 1 5 "$TMP/sent_$p" >"$TMP/s_$p" 2>"$TMP/e_$p"
	expect_eq "$p: the client is told to retry" "503 x1" "$(cat "$TMP/s_$p")"
	grep -q "SASL authentication" "$TMP/e_$p" && ok "$p: the answer names the cause: $(grep -o 'kafka: .*' "$TMP/e_$p" | head -c 150)" ||
		bad "$p: the answer does not name the SASL failure: $(cat "$TMP/e_$p")"
done
[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HEALTH/")" = 200 ] &&
	ok "otflow stays up and healthy" || bad "otflow is not healthy: $(tail -3 "$TMP/A.log")"

python3 "$KAFKA_TOOL" send "http://127.0.0.1:$P_PLAIN" 100 3 5 "$TMP/sent" >"$TMP/s_plain" 2>&1
expect_eq "the plain pipeline's client in the same process is unaffected" "200 x3" "$(cat "$TMP/s_plain")"
export BROKERS KAFKA_TOPIC=sasl_logs KAFKA_GROUP=gs B_OUT="$TMP/b.jsonl"
otf_run B "$E2E_DIR/kafka-b.yaml"
if wait_records "$TMP/b.jsonl" 15 30 &&
	python3 "$KAFKA_TOOL" check "$TMP/b.jsonl" "$TMP/sent" >"$TMP/c" 2>&1; then
	ok "its records are in Kafka, once each: $(head -1 "$TMP/c")"
else
	bad "plain pipeline: $(python3 "$KAFKA_TOOL" check "$TMP/b.jsonl" "$TMP/sent" 2>&1 | head -3)"
fi
stop B
stop A
finish
