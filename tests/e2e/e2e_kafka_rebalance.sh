#!/usr/bin/env bash
# Kafka consumer group rebalances (mock cluster, topic of 4 partitions):
# while A produces, a second consumer B2 joins B1's group (partitions move
# to it), then B1 leaves (SIGTERM: it commits and its partitions go to
# B2). Every acknowledged record arrives; duplicates, allowed only across
# the rebalances, are counted. B2's per-partition self-metrics
# (otelcol_kafka_receiver_commits) are on its Prometheus endpoint.
set -u
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/kafka_lib.sh"

mock_start 1
export BROKERS KAFKA_TOPIC=reb KAFKA_GROUP=greb
mock topic reb 4
export A_PORT
A_PORT=$(free_port)
otf_run A "$E2E_DIR/kafka-a.yaml"
wait_http "$A_PORT" A
PROM=$(free_port)
cat >"$TMP/prom.yaml" <<Y
service:
  telemetry:
    metrics:
      level: basic
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: $PROM}}}
Y
export B_OUT="$TMP/b1.jsonl"
otf_run B1 "$E2E_DIR/kafka-b.yaml"
wait_log B1 "partition\(s\) assigned" 20

# assigned_n NAME: how many assignments of at least one partition NAME logged
assigned_n() { grep -cE "kafka: [1-9][0-9]* partition\(s\) assigned" "$TMP/$1.log"; }

python3 "$KAFKA_TOOL" send "http://127.0.0.1:$A_PORT" 0 50 5 "$TMP/sent" >"$TMP/s1" 2>&1
wait_records "$TMP/b1.jsonl" 250 30
export B_OUT="$TMP/b2.jsonl"
otf_run B2 "$E2E_DIR/kafka-b.yaml" "$TMP/prom.yaml"
wait_log B2 "kafka: [1-9][0-9]* partition\(s\) assigned" 30 && ok "B2 joined the group and got partitions"
wait_log B1 "partition\(s\) revoked" 30 && ok "B1 gave partitions up"
python3 "$KAFKA_TOOL" send "http://127.0.0.1:$A_PORT" 50 50 5 "$TMP/sent" >"$TMP/s2" 2>&1
wait_records "$TMP/b1.jsonl,$TMP/b2.jsonl" 500 30
n2=$(python3 "$KAFKA_TOOL" count "$TMP/b2.jsonl")
[ "$n2" -gt 0 ] && ok "B2 consumes its partitions ($n2 records)" || bad "B2 consumed nothing"
stop B1
i=0
until [ "$(assigned_n B2)" -ge 2 ]; do
	i=$((i + 1))
	[ $i -lt 300 ] || { bad "B2 did not get B1's partitions: $(tail -3 "$TMP/B2.log")"; break; }
	sleep 0.1
done
python3 "$KAFKA_TOOL" send "http://127.0.0.1:$A_PORT" 100 50 5 "$TMP/sent" >"$TMP/s3" 2>&1
expect_eq "150 requests acknowledged across the rebalances" "200 x50 200 x50 200 x50" \
	"$(cat "$TMP/s1") $(cat "$TMP/s2") $(cat "$TMP/s3")"
wait_complete "$TMP/b1.jsonl,$TMP/b2.jsonl" "$TMP/sent" 60
if python3 "$KAFKA_TOOL" check "$TMP/b1.jsonl,$TMP/b2.jsonl" "$TMP/sent" --allow-dups >"$TMP/c1" 2>&1; then
	ok "every record arrived across two rebalances: $(head -1 "$TMP/c1")"
else
	bad "rebalance: $(cat "$TMP/c1")"
fi
i=0
until curl -s "http://127.0.0.1:$PROM/metrics" >"$TMP/metrics.txt" &&
	[ "$(grep -c '^otelcol_kafka_receiver_commits.*reb/[0-3]' "$TMP/metrics.txt")" -ge 4 ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || break
	sleep 0.1
done
n=$(grep -c '^otelcol_kafka_receiver_commits.*reb/[0-3]' "$TMP/metrics.txt")
expect_eq "B2 shows a commit counter per partition it owns" 4 "$n"
sum=$(awk '/^otelcol_kafka_receiver_commits.*reb/ {s += $NF} END {print s + 0}' "$TMP/metrics.txt")
[ "$sum" -gt 0 ] && ok "B2 counted $sum commits" || bad "no commits counted: $(grep kafka "$TMP/metrics.txt")"
stop B2
stop A
finish
