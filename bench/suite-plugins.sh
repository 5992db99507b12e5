#!/bin/sh
# Plugin benchmark: CPU per message across the plugin boundary (bench/plugin_bench.c);
# writes the "plugins" section of docs/benchmarks.md.
# usage: bench/suite-plugins.sh BUILD_DIR
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench}
. bench/lib.sh
pin=""
command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -gt 1 ] && pin="taskset -c 1"
rust=""
if command -v cargo >/dev/null 2>&1 &&
	cargo build --offline --release --quiet --manifest-path examples/plugins/rust/Cargo.toml \
		--target-dir "$build/rust-target" >/dev/null 2>&1; then
	rust="$PWD/$build/rust-target/release/libotflow_attr_drop.so"
fi
table=$($pin "$build/bench/plugin_bench" "$PWD/$build/plugins/abi_current.so" $rust)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
{
	echo "## Plugins (issue: components from other languages)"
	echo
	bench_machine
	echo "- command: \`bench/suite-plugins.sh build-bench\` (runs \`$pin build-bench/bench/plugin_bench\`;"
	echo "  \`make bench\` runs it too)"
	echo "- method: one embedding process (libotflow.so), one worker, push receiver -> processor ->"
	echo "  nop exporter; 200,000 messages of one small log record each, 64 in flight; CPU of all"
	echo "  threads (getrusage) per message, best of 3 rounds per pipeline, the pipelines one after"
	echo "  the other in the same run. Every processor forwards the message it received: no copy"
	echo "  of the payload. Target: <= 20 ns per message for crossing the plugin boundary."
	echo
	printf "%s\n" "$table"
} > "$out"
bench_section plugins "$out"
echo "bench: plugins figures written to docs/benchmarks.md"
