#!/usr/bin/env bash
# Seed scenario 4 with a persistent queue (examples/scenarios/failover-kafka.yaml)
# on librdkafka's mock cluster, the primary being otflow writing a file
# (tests/e2e/otflow-e2e.yaml):
#  - primary up: requests land at the primary, nothing goes to Kafka;
#  - primary SIGKILLed (between requests): every client still gets 200,
#    the records go to Kafka (the kafka exporter's sent count);
#  - primary back on its port: the drain delivers every queued record, and
#    after retry_interval new requests go to the primary directly again.
# Over the whole run the primary's files hold every record answered 200
# exactly once: zero lost, none duplicated (no request was in flight at
# the kill, so at-least-once leaves nothing to resend twice).
set -u
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/kafka_lib.sh"
CFG="$OTF_SOURCE_DIR/examples/scenarios/failover-kafka.yaml"

mock_start 1
mock topic fo_logs 2
mock topic fo_spans 1
mock topic fo_metrics 1
export OTF_KAFKA_BROKERS=$BROKERS OTF_KAFKA_TOPIC=fo_logs OTF_KAFKA_GROUP=gfo \
	OTF_KAFKA_TOPIC_TRACES=fo_spans OTF_KAFKA_TOPIC_METRICS=fo_metrics OTF_RETRY_INTERVAL=1s

metric() {
	curl -s -m 2 "http://127.0.0.1:$OTF_METRICS_PORT/metrics" |
		awk -v n="$1" -v f="$2" '$0 ~ "^"n"({| )" && $0 ~ f {s += $NF} END {print s + 0}'
}
# start_backend NAME PORT: otflow writing $TMP/NAME.jsonl, healthy.
start_backend() {
	local health i=0
	health=$(free_port)
	OTF_E2E_PORT=$2 OTF_E2E_HEALTH_PORT=$health OTF_E2E_OUT="$TMP/$1.jsonl" \
		otf_run "$1" "$E2E_DIR/otflow-e2e.yaml"
	until [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$health/")" = 200 ]; do
		i=$((i + 1))
		if [ $i -ge 100 ]; then
			bad "$1 did not start: $(tail -5 "$TMP/$1.log")"
			finish
		fi
		sleep 0.1
	done
}

export OTF_PRIMARY_PORT OTF_PORT OTF_HEALTH_PORT OTF_METRICS_PORT
OTF_PRIMARY_PORT=$(free_port) OTF_PORT=$(free_port) OTF_HEALTH_PORT=$(free_port)
OTF_METRICS_PORT=$(free_port)
start_backend P1 "$OTF_PRIMARY_PORT"
otf_run S "$CFG"
wait_http "$OTF_PORT" S
URL="http://127.0.0.1:$OTF_PORT"

# 1. primary up
python3 "$KAFKA_TOOL" send "$URL" 0 5 10 "$TMP/sent" >"$TMP/s1" 2>&1
expect_eq "primary up: 5 requests answered" "200 x5" "$(cat "$TMP/s1")"
wait_records "$TMP/P1.jsonl" 50 20
expect_eq "primary up: nothing sent to Kafka" 0 "$(metric otelcol_exporter_sent_log_records kafka_out)"

# 2. primary killed: the records go to Kafka, the clients are told 200
kill -KILL "$PID_P1"
wait "$PID_P1" 2>/dev/null
untrack "$PID_P1"
python3 "$KAFKA_TOOL" send "$URL" 5 10 10 "$TMP/sent" >"$TMP/s2" 2>&1
expect_eq "primary down: 10 requests answered" "200 x10" "$(cat "$TMP/s2")"
grep -q "switching to level 1" "$TMP/S.log" && ok "the switch to Kafka is logged" ||
	bad "no switch in the log: $(tail -5 "$TMP/S.log")"
expect_eq "primary down: the 100 records are in Kafka" 100 \
	"$(metric otelcol_exporter_sent_log_records kafka_out)"
# The drain fails meanwhile: its retry node resends, the receiver holds.
end=$((SECONDS + 20))
until [ "$(metric otelcol_processor_retried_log_records retry_drain)" -gt 0 ] || [ $SECONDS -ge $end ]; do
	sleep 0.2
done
[ "$(metric otelcol_processor_retried_log_records retry_drain)" -gt 0 ] &&
	ok "the drain retries while the primary is down" || bad "the drain never retried"

# 3. primary back: the drain delivers the queued records
start_backend P2 "$OTF_PRIMARY_PORT"
if wait_records "$TMP/P2.jsonl" 100 30; then ok "the drain delivered 100 records"; else bad "drain"; fi
# Then, once the router probed the primary (retry_interval 1 s), new
# requests go straight to it (the Kafka count stops growing).
k=15 back=0
for ((j = 0; j < 20 && !back; j++)); do
	before=$(metric otelcol_exporter_sent_log_records kafka_out)
	python3 "$KAFKA_TOOL" send "$URL" $k 1 10 "$TMP/sent" >"$TMP/s3" 2>&1
	expect_eq "primary back: request $k answered" "200 x1" "$(cat "$TMP/s3")"
	k=$((k + 1))
	[ "$(metric otelcol_exporter_sent_log_records kafka_out)" -eq "$before" ] && back=1 || sleep 0.3
done
[ $back = 1 ] && ok "traffic returned to the primary after $((k - 15)) request(s)" ||
	bad "traffic did not return to the primary"
sent=$(grep -c '^200 ' "$TMP/sent")
if wait_records "$TMP/P1.jsonl,$TMP/P2.jsonl" "$sent" 30 &&
	python3 "$KAFKA_TOOL" check "$TMP/P1.jsonl,$TMP/P2.jsonl" "$TMP/sent" >"$TMP/c" 2>&1; then
	ok "the primary holds every record once (lost 0, duplicated 0): $(head -1 "$TMP/c")"
else
	bad "primary: $(python3 "$KAFKA_TOOL" check "$TMP/P1.jsonl,$TMP/P2.jsonl" "$TMP/sent" 2>&1 | head -3)"
fi

stop S
stop P2
finish
