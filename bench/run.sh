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
	echo "## Codec (OTLP data model)"
	echo
	bench_machine
	echo "- command: \`make bench\` (runs \`$pin $(basename "$build")/bench/codec_bench\`)"
	echo "- method: one process, the same request bytes for every operation; each figure is the"
	echo "  best of 5 rounds of at least 0.25 s; MB/s counts protobuf bytes (JSON bytes for the"
	echo "  JSON rows); \"vs protobuf-c\" is protobuf-c's time divided by ours (unpack with its"
	echo "  default allocator + free, or get_packed_size + pack), measured in the same run."
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
