#!/usr/bin/env bash
# Kafka encodings and marking (mock cluster):
#  1. otlp_json end to end: A produces OTLP/JSON, B decodes it: every
#     record once with its ids and body;
#  2. messages produced by another client (the mock helper): OTLP/JSON with
#     Kafka headers -> header_extraction puts kafka.header.tenant on the
#     resource; a message that is not OTLP/JSON, with
#     message_marking.on_permanent_error true, is marked and skipped (the
#     next one arrives);
#  3. the same bad message with the default on_error false blocks its
#     partition: it is redelivered, and the valid message after it is not
#     consumed past it.
set -u
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/kafka_lib.sh"

mock_start 1
export BROKERS KAFKA_GROUP=genc
mock topic enc_json 2
mock topic enc_ext 1
mock topic enc_block 1

# 1. otlp_json both ways
export A_PORT A_ENCODING=otlp_json KAFKA_TOPIC=enc_json
A_PORT=$(free_port)
otf_run A "$E2E_DIR/kafka-a.yaml"
wait_http "$A_PORT" A
cat >"$TMP/json.yaml" <<'Y'
receivers:
  kafka:
    logs: {encoding: otlp_json}
Y
export B_OUT="$TMP/b1.jsonl"
otf_run B1 "$E2E_DIR/kafka-b.yaml" "$TMP/json.yaml"
python3 "$KAFKA_TOOL" send "http://127.0.0.1:$A_PORT" 0 20 5 "$TMP/sent" 2 >"$TMP/s1" 2>&1
expect_eq "20 requests produced as otlp_json" "200 x20" "$(cat "$TMP/s1")"
wait_records "$TMP/b1.jsonl" 100 30
if python3 "$KAFKA_TOOL" check "$TMP/b1.jsonl" "$TMP/sent" >"$TMP/c1" 2>&1; then
	ok "otlp_json both ways: every record once, same ids and bodies: $(head -1 "$TMP/c1")"
else
	bad "otlp_json: $(cat "$TMP/c1")"
fi
stop B1

# 2. header_extraction, a bad message marked and skipped
log_json() { # body -> one OTLP/JSON logs request
	printf '{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"ext"}}]},"scopeLogs":[{"logRecords":[{"body":{"stringValue":"%s"}}]}]}]}' "$1"
}
log_json first >"$TMP/m1.json"
printf 'this is not OTLP/JSON' >"$TMP/bad.json"
log_json second >"$TMP/m2.json"
mock produce enc_ext 0 "$TMP/m1.json" tenant=acme other=x
mock produce enc_ext 0 "$TMP/bad.json" tenant=bad
mock produce enc_ext 0 "$TMP/m2.json" tenant=beta
cat >"$TMP/ext.yaml" <<'Y'
receivers:
  kafka:
    group_id: gext
    logs: {topics: [enc_ext], encoding: otlp_json}
    header_extraction: {extract_headers: true, headers: [tenant, absent]}
    message_marking: {on_permanent_error: true}
Y
export B_OUT="$TMP/b2.jsonl"
otf_run B2 "$E2E_DIR/kafka-b.yaml" "$TMP/ext.yaml"
wait_records "$TMP/b2.jsonl" 2 30
got=$(python3 - "$TMP/b2.jsonl" <<'P'
import json, sys
for line in open(sys.argv[1]):
    for rl in json.loads(line)["resourceLogs"]:
        attrs = {a["key"]: a["value"].get("stringValue") for a in rl["resource"]["attributes"]}
        for sl in rl["scopeLogs"]:
            for lr in sl["logRecords"]:
                print(lr["body"]["stringValue"], attrs.get("service.name"),
                      attrs.get("kafka.header.tenant"), "kafka.header.absent" in attrs,
                      "kafka.header.other" in attrs)
P
)
expect_eq "headers on the resources, bad message skipped" \
	"$(printf 'first ext acme False False\nsecond ext beta False False')" "$got"
wait_log B2 "enc_ext/0 offset 1 refused permanently, marked and skipped" 10 &&
	ok "the skipped message is logged with topic, partition and offset"
stop B2

# 3. on_error false (default): the bad message blocks its partition
mock produce enc_block 0 "$TMP/bad.json"
mock produce enc_block 0 "$TMP/m1.json"
cat >"$TMP/block.yaml" <<'Y'
receivers:
  kafka:
    group_id: gblock
    logs: {topics: [enc_block], encoding: otlp_json}
Y
export B_OUT="$TMP/b3.jsonl"
otf_run B3 "$E2E_DIR/kafka-b.yaml" "$TMP/block.yaml"
# Two redeliveries of offset 0 logged (one per second at most)...
i=0
until [ "$(grep -c 'enc_block/0 offset 0 failed, redelivered' "$TMP/B3.log")" -ge 2 ]; do
	i=$((i + 1))
	[ $i -lt 200 ] || { bad "no redeliveries of the bad message: $(tail -3 "$TMP/B3.log")"; break; }
	sleep 0.1
done
# ... and nothing after it consumed.
n=$(python3 "$KAFKA_TOOL" count "$TMP/b3.jsonl")
expect_eq "the message after the bad one is held back (partition blocked)" 0 "$n"
stop B3
stop A
finish
