#!/bin/sh
# Durable sending queue benchmark (issue: durable queue): WAL append
# throughput and acknowledgement latency with group commit (bench/wal_bench.c
# on the build directory's file system), then in one run the CPU per log
# of otflow with an in-memory and with a durable (file_storage, fsync)
# sending queue: otflow (1 worker, core 0) receives OTLP/gRPC logs from
# otflow-loadgen (core 1) and exports them with the otlp exporter to a
# second otflow (nop exporter, core 1). Writes the "wal" section of
# docs/benchmarks.md.
# usage: bench/suite-wal.sh BUILD_DIR
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench}
. bench/lib.sh
OTF="$build/otflow"
LG="$build/otflow-loadgen"
tmp=$(mktemp -d "$build/wal-bench.XXXXXX")
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
TCK=$(getconf CLK_TCK)
pin0="" pin1=""
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -gt 1 ]; then
	pin0="taskset -c 0"
	pin1="taskset -c 1"
fi
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
await_health() {
	i=0
	until [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/")" = 200 ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "suite-wal: otflow did not start" >&2; exit 1; }
		sleep 0.1
	done
}

micro=$($pin1 "$build/bench/wal_bench" "$tmp" 2)

SINK_PORT=$(free_port) SINK_H=$(free_port)
cat > "$tmp/sink.yaml" <<Y
receivers: {otlp: {protocols: {grpc: {endpoint: "127.0.0.1:$SINK_PORT"}}}}
exporters: {nop: }
extensions: {health_check: {endpoint: "127.0.0.1:$SINK_H"}}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines: {logs: {receivers: [otlp], exporters: [nop]}}
runtime: {workers: 1}
Y
$pin1 "$OTF" --config "$tmp/sink.yaml" > "$tmp/sink.log" 2>&1 &
pids="$pids $!"
await_health "$SINK_H"

# run QUEUE_BLOCK EXT_BLOCK RATE: prints "acked/s cpu_us_per_log p50 p99 failed"
run() {
	port=$(free_port) h=$(free_port)
	cat > "$tmp/front.yaml" <<Y
receivers: {otlp: {wait_for_result: true, protocols: {grpc: {endpoint: "127.0.0.1:$port"}}}}
exporters:
  otlp:
    endpoint: "127.0.0.1:$SINK_PORT"
    tls: {insecure: true}
    compression: none
    sending_queue: $1
extensions:
  health_check: {endpoint: "127.0.0.1:$h"}
$2
service:
  extensions: [health_check$3]
  telemetry: {metrics: {level: none}}
  pipelines: {logs: {receivers: [otlp], exporters: [otlp]}}
runtime: {workers: 1}
Y
	$pin0 "$OTF" --config "$tmp/front.yaml" > "$tmp/front.log" 2>&1 &
	fp=$!
	pids="$pids $fp"
	await_health "$h"
	c0=$(cpu_ticks "$fp")
	$pin1 "$LG" --protocol grpc --endpoint "127.0.0.1:$port" --signal logs --rate "$4" \
		--duration 5 --batch 100 --connections 8 --size 360 --json > "$tmp/lg.json" || true
	c1=$(cpu_ticks "$fp")
	kill -TERM "$fp"
	wait "$fp" || true
	python3 - "$tmp/lg.json" "$c0" "$c1" "$TCK" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ticks = int(sys.argv[3]) - int(sys.argv[2])
items = max(r["items_acked"], 1)
print(f'{r["acked_per_s"]:.0f} {ticks / int(sys.argv[4]) * 1e6 / items:.3f} '
      f'{r["latency_ms"]["p50"]:.2f} {r["latency_ms"]["p99"]:.2f} {r["items_failed"]}')
PY
}
MEM="{queue_size: 256, wait_for_result: false}"
DUR="{queue_size: 256, wait_for_result: false, storage: file_storage/q}"
EXT="  file_storage/q: {directory: \"$tmp/queue\", create_directory: true}"
out="$tmp/section.md"
{
	echo "## Durable sending queue (issue: durable queue, file_storage)"
	echo
	bench_machine
	echo "- command: \`bench/suite-wal.sh build-bench\` (\`make bench\` runs it too); the WAL on the"
	echo "  build directory's file system ($(df -T "$tmp" | awk 'NR==2 {print $2}'))."
	echo "- WAL (bench/wal_bench.c, \`$pin1\`): records appended in groups (one worker loop turn's"
	echo "  requests), one \`otf_wal_sync\` per group as the sending queue does, then each record"
	echo "  consumed; 2 s per row. Latency: from a record's append to the end of its group's sync."
	echo
	printf "%s\n" "$micro"
	echo
	echo "- pipeline, one run: otflow (1 worker, \`$pin0\`) receives OTLP/gRPC logs (100 per"
	echo "  request, ~360 B each, 8 connections, from otflow-loadgen on core 1) and exports them with"
	echo "  the otlp exporter to a second otflow (nop) on core 1; the receiver waits for the result,"
	echo "  the queue answers when it holds the request (\`wait_for_result: false\`): in memory, or"
	echo "  on disk with fsync. CPU: otflow's utime+stime over the 5 s run per log acknowledged."
	echo
	echo "| sending queue | offered | acked logs/s | CPU µs/log | p50 ms | p99 ms | failed |"
	echo "|---|---|---|---|---|---|---|"
	for rate in 50000 0; do
		label=$([ "$rate" = 0 ] && echo saturation || echo "${rate}/s")
		set -- $(run "$MEM" "" "" "$rate")
		echo "| in memory | $label | $1 | $2 | $3 | $4 | $5 |"
		set -- $(run "$DUR" "$EXT" ", file_storage/q" "$rate")
		echo "| file_storage (fsync: true) | $label | $1 | $2 | $3 | $4 | $5 |"
	done
	echo
	echo "The durable queue's fdatasync runs on the WAL's sync thread: the worker loop hands it the"
	echo "records of a loop turn and goes on taking requests, whose records gather for the next sync"
	echo "(group commit); a request is answered once the sync that covers its record returned"
	echo "(polled every 1 ms). At saturation the in-memory run is not bound by otflow (CPU per log"
	echo "x rate is under a quarter of core 0): the load generator and the sink share core 1. The"
	echo "durable queue's extra CPU per log is the write, the fdatasync (kernel time of the sync"
	echo "thread counts) and the polls. Figures vary by tens of percent between runs here."
} > "$out"
bench_section wal "$out"
echo "bench: wal figures written to docs/benchmarks.md"
