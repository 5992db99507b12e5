#!/bin/sh
# In-place attribute editing: ns per log record of an attribute rename (insert from_attribute,
# then delete) on a 1000-log request, in place vs decode/re-encode, side by side in one run
# (bench/edit_bench.c); writes the "edit" section of docs/benchmarks.md.
# usage: bench/suite-edit.sh BUILD_DIR
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench}
. bench/lib.sh
pin=""
command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -gt 1 ] && pin="taskset -c 1"
table=$($pin "$build/bench/edit_bench")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
{
	echo "## In-place attribute edit (issue: edit the bytes, not a tree)"
	echo
	bench_machine
	echo "- command: \`bench/suite-edit.sh build-bench\` (runs \`$pin build-bench/bench/edit_bench\`;"
	echo "  \`make bench\` runs it too)"
	echo "- workload: the codec benchmark's 1000-log request (bench/bench_data.c: 6 HTTP attributes,"
	echo "  a string body); rename \`user_agent.original\` to \`http.user_agent\` (the attributes"
	echo "  processor's \`insert\` with \`from_attribute\`, then \`delete\`). In place: the request"
	echo "  bytes in, a new request out (otf_pdata_edit_apply). Decode/re-encode: decode, the same"
	echo "  two actions on every record (the processors' tree path), encode. Both outputs are"
	echo "  checked to hold every record renamed before timing. Best of 5 rounds of at least"
	echo "  0.25 s of the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), one core; the machine's"
	echo "  load average when it ran: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo "- target from the issue: <= 150 ns/log in place (published, 1 core: Fluent Bit"
	echo "  content_modifier 8.4 us, Collector 1.6 us, OTel-Arrow DFE 1.2 us)."
	echo
	printf "%s\n" "$table"
} > "$out"
bench_section edit "$out"
echo "bench: edit figures written to docs/benchmarks.md"
