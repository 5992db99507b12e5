#!/usr/bin/env bash
# Kafka end to end, on librdkafka's mock cluster (tests/support/kafka_mock.c):
# OTLP/HTTP -> otflow A (kafka exporter) -> topic (3 partitions) -> otflow B
# (kafka receiver, message_marking.after) -> file exporter.
#  1. steady state: every record once, same trace id, span id and body;
#  2. B stopped and restarted in the same group while A keeps producing:
#     B resumes after its committed offsets, nothing lost, no duplicates;
#  3. B's downstream refusing (otlphttp to a closed port, its retries
#     running out): the receiver redelivers, and once a backend listens
#     every record arrives there: none skipped.
set -u
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/kafka_lib.sh"

mock_start 1
export BROKERS KAFKA_TOPIC=e2e_logs KAFKA_GROUP=g1
mock topic e2e_logs 3
export A_PORT
A_PORT=$(free_port)
otf_run A "$E2E_DIR/kafka-a.yaml"
wait_http "$A_PORT" A
export B_OUT="$TMP/b1.jsonl"
otf_run B1 "$E2E_DIR/kafka-b.yaml"

# 1. steady state
python3 "$KAFKA_TOOL" send "http://127.0.0.1:$A_PORT" 0 30 10 "$TMP/sent" 2 >"$TMP/send1" 2>&1
expect_eq "30 requests acknowledged by A" "200 x30" "$(cat "$TMP/send1")"
wait_records "$TMP/b1.jsonl" 300 30
if python3 "$KAFKA_TOOL" check "$TMP/b1.jsonl" "$TMP/sent" >"$TMP/c1" 2>&1; then
	ok "B wrote the 300 records once each, ids and bodies equal: $(head -1 "$TMP/c1")"
else
	bad "steady state: $(cat "$TMP/c1")"
fi

# 2. B restarted in the same group; records produced while it is down
stop B1
python3 "$KAFKA_TOOL" send "http://127.0.0.1:$A_PORT" 30 20 10 "$TMP/sent" >"$TMP/send2" 2>&1
expect_eq "20 requests acknowledged while B is down" "200 x20" "$(cat "$TMP/send2")"
export B_OUT="$TMP/b2.jsonl"
otf_run B2 "$E2E_DIR/kafka-b.yaml"
python3 "$KAFKA_TOOL" send "http://127.0.0.1:$A_PORT" 50 10 10 "$TMP/sent" >"$TMP/send3" 2>&1
expect_eq "10 more requests after B's restart" "200 x10" "$(cat "$TMP/send3")"
wait_records "$TMP/b1.jsonl,$TMP/b2.jsonl" 600 30
if python3 "$KAFKA_TOOL" check "$TMP/b1.jsonl,$TMP/b2.jsonl" "$TMP/sent" >"$TMP/c2" 2>&1; then
	ok "after the restart every record once (resumed at the committed offsets): $(head -1 "$TMP/c2")"
else
	bad "restart: $(cat "$TMP/c2")"
fi
b2_first=$(python3 "$KAFKA_TOOL" count "$TMP/b2.jsonl")
expect_eq "B2 consumed only what came after B1's commits" 300 "$b2_first"
stop B2

# 3. B's downstream refuses for a while
HTTP_PORT=$(free_port)
export B_EXPORTER=otlphttp B_HTTP_PORT=$HTTP_PORT B_OUT="$TMP/b3-unused.jsonl"
otf_run B3 "$E2E_DIR/kafka-b.yaml"
python3 "$KAFKA_TOOL" send "http://127.0.0.1:$A_PORT" 60 10 10 "$TMP/sent3" >"$TMP/send4" 2>&1
expect_eq "10 requests into Kafka while B's backend is down" "200 x10" "$(cat "$TMP/send4")"
# Await redeliveries (the otlphttp exporter gave up at least once), then
# keep the backend down a little longer.
wait_log B3 "failed, redelivered" 30
sleep 1
OTF_E2E_PORT=$HTTP_PORT OTF_E2E_HEALTH_PORT=$(free_port) OTF_E2E_OUT="$TMP/backend.jsonl" \
	otf_run BACKEND "$E2E_DIR/otflow-e2e.yaml"
wait_records "$TMP/backend.jsonl" 100 60
if python3 "$KAFKA_TOOL" check "$TMP/backend.jsonl" "$TMP/sent3" --allow-dups >"$TMP/c3" 2>&1; then
	ok "backend back: no record skipped: $(head -1 "$TMP/c3")"
else
	bad "downstream outage: $(cat "$TMP/c3")"
fi
stop B3
stop BACKEND
stop A
finish
