#!/bin/sh
# make bench: runs every benchmark suite and writes its section of
# docs/benchmarks.md. Public tools only (taskset, /proc, the compiler).
# usage: bench/run.sh BUILD_DIR [SUITE...]   (suites: codec and bench/suite-NAME.sh;
#        default all)
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench}
[ $# -gt 0 ] && shift
WANT="$*"
selected() { [ -z "$WANT" ] || echo " $WANT " | grep -q " $1 "; }
. bench/lib.sh

pin=""
command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -gt 1 ] && pin="taskset -c 1"

# --- codec ---
if selected codec; then
out=$(mktemp)
{
	echo "## Codec (issue: OTLP data model)"
	echo
	bench_machine
	echo "- command: \`make bench\` (runs \`$pin $(basename "$build")/bench/codec_bench\`)"
	echo "- workloads (bench/bench_data.c, fixed seed and clock, so the bytes are the same on every"
	echo "  run): one resource (8 attributes), one scope, 1000 records per request. Logs: ~360 B"
	echo "  each, 6 HTTP semantic-convention attributes, a string body, trace/span ids. Spans: 9"
	echo "  attributes, one event with 2 attributes, a status, traces of 4 spans. Data points:"
	echo "  10 metrics of 100 points, half int sums, half 15-bucket histograms, 4 attributes each."
	echo "- method: one process, the same request bytes for every operation, thread CPU time"
	echo "  (CLOCK_THREAD_CPUTIME_ID); each figure is the best of 5 rounds of at least 0.25 s (the best"
	echo "  because interference on a shared machine only adds time). MB/s counts protobuf bytes"
	echo "  (JSON bytes for the JSON rows). \"vs protobuf-c\" is protobuf-c's time divided by ours"
	echo "  (unpack with its default allocator + free_unpacked, or get_packed_size + pack into a"
	echo "  preallocated buffer), measured in the same run; both sides built with the same flags."
	echo "  Decode resets one arena per request (chunks kept). Views walk (count) skips records"
	echo "  whole; views read reads every record field and attribute as slices."
	echo "- checked before timing: our views, our decoder and protobuf-c count the same records;"
	echo "  protobuf-c's re-encoding of our bytes is byte-identical and our decoder reads it back."
	echo
	$pin "$build/bench/codec_bench" 2>/dev/null
	echo
	cat bench/codec_notes.md
} > "$out"
bench_section codec "$out"
rm -f "$out"
echo "bench: codec figures written to docs/benchmarks.md"
fi

# --- further suites register here ---
for suite in bench/suite-*.sh; do
	[ -f "$suite" ] || continue
	name=$(basename "$suite" .sh)
	selected "${name#suite-}" || continue
	sh "$suite" "$build"
done
# bench/suite-memory.sh (idle RSS with its smaps breakdown, RSS at 100k logs/s and at 10x) runs through the loop above
