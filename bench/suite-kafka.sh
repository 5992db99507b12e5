#!/bin/sh
# Kafka benchmark against librdkafka's mock cluster (tests/support/
# kafka_mock.c, brokers in one process): export rate (otflow-loadgen ->
# OTLP/gRPC -> otflow with the kafka exporter, otlp_proto pass-through,
# lz4, 1 worker on core 0) and consume rate (otflow with the kafka receiver
# reading the same topic from the start into the nop exporter, 1 worker on
# core 0), logs/s and CPU per log from /proc/PID/stat. The load generator
# and the mock cluster share core 1. Writes the "kafka" section of
# docs/benchmarks.md.
# usage: bench/suite-kafka.sh BUILD_DIR
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench}
. bench/lib.sh
OTF="$build/otflow"
LG="$build/otflow-loadgen"
MOCK="$build/bench/kafka_mock"
DUR=${BENCH_KAFKA_SECONDS:-3}
tmp=$(mktemp -d)
pids=""
trap 'exec 3>&- 2>/dev/null; for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
TCK=$(getconf CLK_TCK)
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pin0="" pin1=""
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -gt 1 ]; then
	pin0="taskset -c 0" pin1="taskset -c 1"
fi

mkfifo "$tmp/mock.in"
$pin1 "$MOCK" 1 < "$tmp/mock.in" > "$tmp/mock.out" 2>"$tmp/mock.err" &
pids="$pids $!"
exec 3> "$tmp/mock.in"
i=0
until [ -s "$tmp/mock.out" ]; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "bench kafka: mock did not start" >&2; exit 1; }
	sleep 0.1
done
BROKERS=$(head -1 "$tmp/mock.out")
# The mock keeps about 5 MB per partition (older segments are dropped):
# enough partitions that a few seconds of export stay readable.
echo "topic bench 64" >&3

PORT=$(free_port) PROM=$(free_port)
cat > "$tmp/a.yaml" <<Y
receivers:
  otlp: {wait_for_result: true, protocols: {grpc: {endpoint: "127.0.0.1:$PORT"}}}
exporters:
  kafka:
    brokers: ["$BROKERS"]
    logs: {topic: bench}
    producer: {compression: lz4}
service:
  telemetry: {metrics: {level: none}}
  pipelines: {logs: {receivers: [otlp], exporters: [kafka]}}
runtime: {workers: 1}
Y
$pin0 "$OTF" --config "$tmp/a.yaml" > "$tmp/a.log" 2>&1 &
APID=$!
pids="$pids $APID"
sleep 1
c0=$(cpu_ticks "$APID")
$pin1 "$LG" --protocol grpc --endpoint "127.0.0.1:$PORT" --signal logs --duration "$DUR" \
	--batch 1000 --connections 8 --json > "$tmp/lg.json"
c1=$(cpu_ticks "$APID")
kill -TERM "$APID"; wait "$APID" || true
acked=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items_acked"])' "$tmp/lg.json")
exp_rate=$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["acked_per_s"]))' "$tmp/lg.json")
p99=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["latency_ms"]["p99"])' "$tmp/lg.json")
exp_cpu=$(python3 -c "print(round(($c1 - $c0) / $TCK / max($acked, 1) * 1e9))")

cat > "$tmp/b.yaml" <<Y
receivers:
  kafka:
    brokers: ["$BROKERS"]
    logs: {topics: [bench]}
    initial_offset: earliest
    message_marking: {after: true}
exporters:
  nop:
service:
  telemetry:
    metrics:
      level: basic
      readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: $PROM}}}}]
  pipelines: {logs: {receivers: [kafka], exporters: [nop]}}
runtime: {workers: 1}
Y
accepted() {
	curl -s "http://127.0.0.1:$PROM/metrics" | awk '/^otelcol_receiver_accepted_log_records/ {print $NF}' | head -1
}
$pin0 "$OTF" --config "$tmp/b.yaml" > "$tmp/b.log" 2>&1 &
BPID=$!
pids="$pids $BPID"
# The clock starts at the first record consumed (group join excluded).
i=0
until [ "$(accepted || echo 0)" -gt 0 ] 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 600 ] || { echo "bench kafka: nothing consumed" >&2; exit 1; }
	sleep 0.05
done
t0=$(date +%s.%N) b0=$(cpu_ticks "$BPID") n0=$(accepted)
# Until nothing more arrives for 2 s (what the mock retained), or all.
n1=$n0 t1=$t0 b1=$b0 idle=0
while [ "$n1" -lt "$acked" ] && [ $idle -lt 40 ]; do
	sleep 0.05
	n=$(accepted)
	if [ "$n" -gt "$n1" ]; then
		n1=$n t1=$(date +%s.%N) b1=$(cpu_ticks "$BPID") idle=0
	else
		idle=$((idle + 1))
	fi
done
kill -TERM "$BPID"; wait "$BPID" || true
con_rate=$(python3 -c "print(round(($n1 - $n0) / ($t1 - $t0)))")
con_cpu=$(python3 -c "print(round(($b1 - $b0) / $TCK / max($n1 - $n0, 1) * 1e9))")

out="$tmp/section.md"
{
	echo "## Kafka (exporter and receiver, librdkafka mock cluster)"
	echo
	bench_machine
	echo "- command: \`bench/run.sh $(basename "$build") kafka\` (bench/suite-kafka.sh)"
	echo "- export: otflow-loadgen (OTLP/gRPC, 8 connections, 1000 logs of ~360 B per request,"
	echo "  ${DUR} s) -> otflow (1 worker, core 0, wait_for_result) -> kafka exporter (otlp_proto"
	echo "  pass-through, lz4, acknowledged on the delivery report) -> mock cluster (core 1, with"
	echo "  the load generator). consume: otflow (1 worker, core 0) with the kafka receiver"
	echo "  (message_marking.after, in-order commits) reading those records from the start into"
	echo "  the nop exporter, timed from the first record consumed to the last (Prometheus"
	echo "  otelcol_receiver_accepted_log_records). CPU: utime + stime of the otflow process over"
	echo "  the window (librdkafka's threads included) per log."
	echo
	echo "| direction | logs/s | CPU per log | other |"
	echo "|---|---|---|---|"
	echo "| export (OTLP in, Kafka out) | $exp_rate | ${exp_cpu} ns | request p99 ${p99} ms, $acked logs |"
	echo "| consume (Kafka in, nop out) | $con_rate | ${con_cpu} ns | $((n1 - n0)) logs of the $n1 the mock kept |"
	echo
	echo "The mock cluster is librdkafka's in-process broker: no disk, no replication, so these"
	echo "are otflow's and librdkafka's costs, not a Kafka cluster's throughput."
} > "$out"
bench_section kafka "$out"
echo "bench: kafka figures written to docs/benchmarks.md"
cat "$out"
