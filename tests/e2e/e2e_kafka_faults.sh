#!/usr/bin/env bash
# Kafka faults, injected into librdkafka's mock cluster (3 brokers):
#  1. broker down, the exporter's retries running out: the client is told
#     (503), nothing is acknowledged that Kafka does not hold;
#  2. broker down for 2 s under longer retries: the clients wait, get 200
#     once it is back, and every record is in Kafka once;
#  3. produce requests failing (NOT_LEADER_OR_FOLLOWER x5) and a leader
#     change mid-stream: acknowledged records all arrive, none twice;
#  4. producer.max_message_bytes: a request over it is split by resource
#     (every record arrives), one resource over it is refused with 400 and
#     the sizes;
#  5. the consumer SIGKILLed mid-stream: after its restart every record is
#     there; duplicates only from the uncommitted tail (counted).
set -u
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/kafka_lib.sh"

mock_start 3
# One bootstrap broker is enough: the others come with the metadata.
BROKERS=${BROKERS%%,*}
export BROKERS KAFKA_TOPIC=faults KAFKA_GROUP=gf
mock topic faults 2
# Every broker leads nothing but broker 1, so "down 1" stops the topic.
mock leader faults 0 1
mock leader faults 1 1

export A_PORT A_TIMEOUT=1s A_MAX_ELAPSED=2s
A_PORT=$(free_port)
otf_run AFAST "$E2E_DIR/kafka-a.yaml"
FAST=$A_PORT
A_PORT=$(free_port) A_MAX_ELAPSED=60s
otf_run A "$E2E_DIR/kafka-a.yaml"
SLOW=$A_PORT
A_PORT=$(free_port)
export A_MAX_MESSAGE_BYTES=700
otf_run ASMALL "$E2E_DIR/kafka-a.yaml"
SMALL=$A_PORT
wait_http "$FAST" AFAST
wait_http "$SLOW" A
wait_http "$SMALL" ASMALL

# 1. broker down, retries exhausted: the client learns it
mock down 1
python3 "$KAFKA_TOOL" send "http://127.0.0.1:$FAST" 0 1 5 "$TMP/sent" >"$TMP/s1" 2>"$TMP/s1.err"
expect_eq "broker down, retries over: the client gets 503" "503 x1" "$(cat "$TMP/s1")"

# 2. down for 2 s while clients wait: all answered 200 after it is back
python3 "$KAFKA_TOOL" send "http://127.0.0.1:$SLOW" 10 3 5 "$TMP/sent" >"$TMP/s2" 2>&1 &
SENDER=$!
sleep 2
mock up 1
wait "$SENDER"
expect_eq "broker back: the waiting clients get 200" "200 x3" "$(cat "$TMP/s2")"

# 3. produce errors and a leader change
mock error 0 6 5
python3 "$KAFKA_TOOL" send "http://127.0.0.1:$SLOW" 20 5 5 "$TMP/sent" >"$TMP/s3" 2>&1
mock leader faults 0 2
mock leader faults 1 3
python3 "$KAFKA_TOOL" send "http://127.0.0.1:$SLOW" 30 5 5 "$TMP/sent" >"$TMP/s4" 2>&1
expect_eq "produce errors: acknowledged" "200 x5" "$(cat "$TMP/s3")"
expect_eq "after a leader change: acknowledged" "200 x5" "$(cat "$TMP/s4")"

# 4. max_message_bytes 700: 3 resources of ~300 bytes are split; one
# resource of 40 records is refused permanently
python3 "$KAFKA_TOOL" send "http://127.0.0.1:$SMALL" 40 2 6 "$TMP/sent" 3 >"$TMP/s5" 2>&1
expect_eq "a request over max_message_bytes, split by resource" "200 x2" "$(cat "$TMP/s5")"
python3 "$KAFKA_TOOL" send "http://127.0.0.1:$SMALL" 50 1 40 "$TMP/sent" >"$TMP/s6" 2>"$TMP/s6.err"
expect_eq "one resource over max_message_bytes: 400" "400 x1" "$(cat "$TMP/s6")"
grep -q "larger than producer.max_message_bytes (700)" "$TMP/s6.err" &&
	ok "the refusal names the sizes: $(grep -o 'a resource of [0-9]* bytes[^"]*' "$TMP/s6.err" | head -1)" ||
	bad "refusal without the sizes: $(cat "$TMP/s6.err")"

export B_OUT="$TMP/b1.jsonl"
otf_run B1 "$E2E_DIR/kafka-b.yaml"
wait_records "$TMP/b1.jsonl" 77 30
if python3 "$KAFKA_TOOL" check "$TMP/b1.jsonl" "$TMP/sent" >"$TMP/c1" 2>&1; then
	ok "Kafka holds every acknowledged record once, nothing refused: $(head -1 "$TMP/c1")"
else
	bad "after the faults: $(cat "$TMP/c1")"
fi

# 5. the consumer killed mid-stream
python3 "$KAFKA_TOOL" send "http://127.0.0.1:$SLOW" 100 100 10 "$TMP/sent" >"$TMP/s7" 2>&1 &
SENDER=$!
wait_records "$TMP/b1.jsonl" 300 30
kill -9 "$PID_B1"
wait_pid "$PID_B1" 5
wait "$SENDER"
expect_eq "100 requests acknowledged around the kill" "200 x100" "$(cat "$TMP/s7")"
export B_OUT="$TMP/b2.jsonl"
otf_run B2 "$E2E_DIR/kafka-b.yaml"
wait_complete "$TMP/b1.jsonl,$TMP/b2.jsonl" "$TMP/sent" 60
if python3 "$KAFKA_TOOL" check "$TMP/b1.jsonl,$TMP/b2.jsonl" "$TMP/sent" --allow-dups >"$TMP/c2" 2>&1; then
	ok "after SIGKILL and restart every record is there: $(head -1 "$TMP/c2")"
else
	bad "after SIGKILL: $(cat "$TMP/c2")"
fi
stop B2
stop ASMALL
stop A
stop AFAST
finish
