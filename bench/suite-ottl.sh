#!/bin/sh
# OTTL benchmark: ns per log record of compiled conditions and statements on a decoded request
# (bench/ottl_bench.c); writes the "ottl" section of docs/benchmarks.md.
# usage: bench/suite-ottl.sh BUILD_DIR
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench}
. bench/lib.sh
pin=""
command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -gt 1 ] && pin="taskset -c 1"
table=$($pin "$build/bench/ottl_bench")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
{
	echo "## OTTL (issue: one OTTL module)"
	echo
	bench_machine
	echo "- command: \`bench/suite-ottl.sh build-bench\` (runs \`$pin build-bench/bench/ottl_bench\`;"
	echo "  \`make bench\` runs it too)"
	echo "- workload: the codec benchmark's 1000-log request (bench/bench_data.c: 6 HTTP attributes,"
	echo "  a string body), decoded by otflow's protobuf decoder before each timed run, which is"
	echo "  not timed. Conditions: otf_ottl_match_any per record; statements: otf_ottl_run_logs."
	echo "  Best of 5 rounds of at least 0.25 s. Targets from the issue, for the processors that"
	echo "  will call this: a transform with a \`where\` clause on every record <= 300 ns/log"
	echo "  (decode and encode included there, not here)."
	echo
	printf "%s\n" "$table"
} > "$out"
bench_section ottl "$out"
echo "bench: ottl figures written to docs/benchmarks.md"
