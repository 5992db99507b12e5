#!/bin/sh
# libotmmap benchmark (bench/mmap_sdk_bench.c): SDK cost per span, log record and counter add,
# from 1 and 2 threads, with the bare ring write as the floor; writes the "mmap-sdk" section
# of docs/benchmarks.md. usage: bench/suite-mmap-sdk.sh BUILD_DIR
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench}
. bench/lib.sh
dir=/dev/shm
[ -d "$dir" ] && [ -w "$dir" ] || dir=${TMPDIR:-/tmp}
out=$(mktemp)
{
	echo "## libotmmap SDK (memory-mapped file writer)"
	echo
	bench_machine
	echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared)"
	echo "- command: \`make bench\` (runs \`$(basename "$build")/bench/mmap_sdk_bench $dir\`)"
	echo "- method: CPU time of each writing thread (CLOCK_THREAD_CPUTIME_ID) per operation,"
	echo "  best of 5 rounds (1 thread) or 3 rounds (2 threads, worst thread) of 500,000"
	echo "  operations; files on $dir; rings of 16384 slots x 512 B kept from filling by the"
	echo "  writers (no reader competes for the cores). Targets: <= 150 ns per span, <= 20 ns"
	echo "  per in-file counter add, 0 allocations."
	echo
	"$build/bench/mmap_sdk_bench" "$dir"
	echo
	echo "Notes: a span is two records (start, end), two clock reads, two random ids and the"
	echo "interning lookup of each attribute key (hash + compare with the dictionary entry);"
	echo "the ring write itself is the floor row. A bound series in format 1001 is one atomic"
	echo "add on a mapped cache line (the 1001 target is met). Spans and log records miss the"
	echo "150 ns target on this machine: per-record profiles show the copy of the encoded"
	echo "record from the stack into the mapping and the per-key interning lookup (hash and"
	echo "compare with the dictionary) as the main costs; a bound series shows what is left"
	echo "without encoding and lookup. Figures move by 20-50% with the machine's load."
} > "$out"
bench_section mmap-sdk "$out"
rm -f "$out"
echo "bench: mmap-sdk figures written to docs/benchmarks.md"
