#!/bin/sh
# spanmetrics benchmark: ns per span of the connector's aggregation over the protobuf views
# (bench/spanmetrics_bench.c); writes the "spanmetrics" section of docs/benchmarks.md.
# usage: bench/suite-spanmetrics.sh BUILD_DIR
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench}
. bench/lib.sh
pin=""
command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -gt 1 ] && pin="taskset -c 1"
table=$($pin "$build/bench/spanmetrics_bench")
load=$(cut -d' ' -f1-3 /proc/loadavg)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
{
	echo "## spanmetrics connector (issue: data processors and connectors)"
	echo
	bench_machine
	echo "- load average while measuring: $load (the machine is shared: compare rows of one run)"
	echo "- command: \`bench/suite-spanmetrics.sh build-bench\` (runs \`$pin build-bench/bench/spanmetrics_bench\`;"
	echo "  \`make bench\` runs it too)"
	echo "- workload: the codec benchmark's 1000-span request (bench/bench_data.c: one resource with"
	echo "  service.name, 30 span names, server and client spans, 9 attributes and one event each)."
	echo "  The connector's otf_sm_agg_add over the request bytes, timed per span: views, key build,"
	echo "  hash, probe, calls and histogram update (what consume does before the ack). Next to it,"
	echo "  in the same run, the floors: walking the request, and reading every span's fields with"
	echo "  the views; and a full protobuf decode, which a tree-based connector pays before counting."
	echo "  Flush (build + encode the metrics request, every metrics_flush_interval) is per series."
	echo "  Rows interleaved round by round, each the best of 20 slices of >= 0.1 s. Target from the"
	echo "  issue: <= 200 ns/span. \"/ decode\": the row's time over the decode's in the same run."
	echo
	printf "%s\n" "$table"
} > "$out"
bench_section spanmetrics "$out"
echo "bench: spanmetrics figures written to docs/benchmarks.md"
