#!/usr/bin/env bash
# Seed scenario 1, acknowledgment on ingress via Kafka
# (examples/scenarios/ack-ingress-kafka.yaml) on librdkafka's mock cluster,
# two backends being otflow writing a file (tests/e2e/otflow-e2e.yaml):
#  - backend A down from the start: every client is answered 200 at once
#    (the answer cannot have waited for A: A's retry never gives up);
#  - backend B, up, holds every record once (trace id, span id, body);
#  - while A is down the receiver commits nothing: its consumer lag
#    (otelcol_kafka_receiver_offset_lag, summed over the partitions) grows
#    to the 20 messages;
#  - A started later receives every record once, the lag returns to 0, and
#    B got none twice (A's resends do not reach B; nothing redelivered).
set -u
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/kafka_lib.sh"
CFG="$OTF_SOURCE_DIR/examples/scenarios/ack-ingress-kafka.yaml"

mock_start 1
mock topic ingress_logs 2
mock topic ingress_spans 1
mock topic ingress_metrics 1
export OTF_KAFKA_BROKERS=$BROKERS OTF_KAFKA_TOPIC=ingress_logs OTF_KAFKA_GROUP=gi \
	OTF_KAFKA_TOPIC_TRACES=ingress_spans OTF_KAFKA_TOPIC_METRICS=ingress_metrics

# start_backend NAME PORT: otflow writing $TMP/NAME.jsonl, healthy. Its
# health port is chosen when it starts, afresh if it was taken meanwhile
# (its data port is the one the front's config names).
start_backend() {
	local health attempt rc
	for attempt in 1 2 3; do
		health=$(free_port)
		OTF_E2E_PORT=$2 OTF_E2E_HEALTH_PORT=$health OTF_E2E_OUT="$TMP/$1.jsonl" \
			otf_run "$1" "$E2E_DIR/otflow-e2e.yaml"
		wait_up "$1" "http://127.0.0.1:$health/" 200
		rc=$?
		[ $rc = 0 ] && return 0
		[ $rc = 1 ] || break
	done
	bad "$1 did not start (attempt $attempt): $(tail -5 "$TMP/$1.log")"
	finish
}

# metric NAME FILTER: the sum of the series of NAME whose labels match FILTER.
metric() {
	curl -s -m 2 "http://127.0.0.1:$OTF_METRICS_PORT/metrics" |
		awk -v n="$1" -v f="$2" '$0 ~ "^"n"({| )" && $0 ~ f {s += $NF} END {print s + 0}'
}
# wait_metric NAME FILTER MIN SECONDS: until metric NAME FILTER >= MIN.
wait_metric() {
	local end=$((SECONDS + $4))
	until [ "$(metric "$1" "$2")" -ge "$3" ]; do
		if [ $SECONDS -ge $end ]; then
			bad "$1{$2} below $3 after $4 s: $(metric "$1" "$2")"
			return 1
		fi
		sleep 0.2
	done
}

export OTF_BACKEND_A_PORT OTF_BACKEND_B_PORT OTF_PORT OTF_HEALTH_PORT OTF_METRICS_PORT
# A's port is bound only once A starts, long after this: free_port keeps
# it reserved (below the ephemeral range) meanwhile.
OTF_BACKEND_A_PORT=$(free_port) OTF_BACKEND_B_PORT=$(free_port)
start_backend B "$OTF_BACKEND_B_PORT"
# S's own ports (nobody else names them): fresh ones if it cannot bind.
for attempt in 1 2 3; do
	OTF_PORT=$(free_port) OTF_HEALTH_PORT=$(free_port) OTF_METRICS_PORT=$(free_port)
	otf_run S "$CFG"
	wait_up S "http://127.0.0.1:$OTF_PORT/"
	rc=$?
	[ $rc = 0 ] && break
	if [ $rc = 2 ] || [ $attempt = 3 ]; then
		bad "S did not start"
		finish
	fi
done

# Backend A is down: 20 requests of 10 records, each answered at once.
t0=$SECONDS
python3 "$KAFKA_TOOL" send "http://127.0.0.1:$OTF_PORT" 0 20 10 "$TMP/sent" 2 >"$TMP/send" 2>&1
took=$((SECONDS - t0))
expect_eq "backend A down: the 20 clients are answered 200" "200 x20" "$(cat "$TMP/send")"
[ "$took" -le 10 ] && ok "answered at once (20 requests in ${took} s)" ||
	bad "the answers took $took s"

if wait_records "$TMP/B.jsonl" 200 30 &&
	python3 "$KAFKA_TOOL" check "$TMP/B.jsonl" "$TMP/sent" >"$TMP/cb" 2>&1; then
	ok "backend B holds every record once, ids and bodies equal: $(head -1 "$TMP/cb")"
else
	bad "backend B: $(python3 "$KAFKA_TOOL" check "$TMP/B.jsonl" "$TMP/sent" 2>&1 | head -3)"
fi
[ ! -e "$TMP/A.jsonl" ] && ok "backend A received nothing while down" || bad "A.jsonl exists"
# A has been down for a while: its retry node resent (each of) the messages.
wait_metric otelcol_processor_retried_log_records retry_a 200 30 &&
	ok "retry_a resent while A was down: $(metric otelcol_processor_retried_log_records retry_a) records"

# The consumer is behind by every message: nothing could be committed.
wait_metric otelcol_kafka_receiver_offset_lag kafka_in 20 20 &&
	ok "consumer lag while A is down: $(metric otelcol_kafka_receiver_offset_lag kafka_in) messages"

# Backend A comes up (after a few of its retries): it receives everything.
start_backend A "$OTF_BACKEND_A_PORT"
if wait_records "$TMP/A.jsonl" 200 30 &&
	python3 "$KAFKA_TOOL" check "$TMP/A.jsonl" "$TMP/sent" >"$TMP/ca" 2>&1; then
	ok "backend A, back, holds every record once: $(head -1 "$TMP/ca")"
else
	bad "backend A: $(python3 "$KAFKA_TOOL" check "$TMP/A.jsonl" "$TMP/sent" 2>&1 | head -3)"
fi
# Every offset committed: the lag is back to 0.
end=$((SECONDS + 20))
until [ "$(metric otelcol_kafka_receiver_offset_lag kafka_in)" = 0 ] || [ $SECONDS -ge $end ]; do
	sleep 0.2
done
expect_eq "consumer lag back to 0 once A took everything" 0 \
	"$(metric otelcol_kafka_receiver_offset_lag kafka_in)"
expect_eq "the lag is shown per partition" 2 \
	"$(curl -s "http://127.0.0.1:$OTF_METRICS_PORT/metrics" | grep -c '^otelcol_kafka_receiver_offset_lag{.*ingress_logs/')"
# A record sent twice to B would show here (a resend to both branches,
# or a redelivery by the receiver).
python3 "$KAFKA_TOOL" check "$TMP/B.jsonl" "$TMP/sent" >"$TMP/cb2" 2>&1 &&
	ok "backend B still holds every record once: $(head -1 "$TMP/cb2")" ||
	bad "backend B after A's return: $(head -3 "$TMP/cb2")"

stop S
stop A
stop B
finish
