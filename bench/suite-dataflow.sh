#!/bin/sh
# Dataflow benchmark: CPU per message and per log of DAG nodes, pass-through
# vs content_router vs ack -> retry, side by side in one run
# (bench/dataflow_bench.c); writes the "dataflow" section of docs/benchmarks.md.
# usage: bench/suite-dataflow.sh BUILD_DIR
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench}
. bench/lib.sh
pin=""
command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -gt 1 ] && pin="taskset -c 1"
table=$($pin "$build/bench/dataflow_bench")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
{
	echo "## Dataflow nodes (issue 9: routers and delivery nodes)"
	echo
	bench_machine
	echo "- command: \`bench/suite-dataflow.sh build-bench\` (runs \`$pin build-bench/bench/dataflow_bench\`;"
	echo "  \`make bench\` runs it too)"
	echo "- workload: the codec benchmark's 1000-log request (bench/bench_data.c: one resource with"
	echo "  8 attributes), the same bytes in every message. A source node keeps 64 messages in"
	echo "  flight, each subscribed to its outcome, and sends the next on every ACK; the sink acks"
	echo "  at once; one worker, 200000 messages per run. Figure: the worker thread's CPU time"
	echo "  (CLOCK_THREAD_CPUTIME_ID) from the first send to the last answer, per message and per log"
	echo "  record; 5 rounds, the pipelines interleaved, each run twice in a row per round (the first"
	echo "  run after another pipeline inherits its allocator and cache state); the best run counts."
	echo "  \"added per"
	echo "  node\" is (pipeline - pass-through) / nodes added. content_router: 2 routes"
	echo "  (\`request[\"X-Tenant\"] == \"acme\"\`, then \`attributes[\"service.name\"] == \"checkout\"\`, which"
	echo "  matches, so both run on the one resource), no split. ack (ingress) makes a message of"
	echo "  its own per message; retry holds a reference to each payload until the answer."
	echo "- target (issue 9): each added node <= 10 ns per message, plus <= 5 ns per resource"
	echo "  evaluated."
	echo
	printf "%s\n" "$table"
	echo
	echo "Reading: the per-node target is not met. A hop through a node that does nothing"
	echo "(\`forward\`) already costs 15 to 20 ns per message on this machine: the input ring, the"
	echo "run queue, the consume call and the acknowledgement's control signal (a 200-byte"
	echo "\`otf_ctrl_t\` with its reason text, copied into the control ring) going back through the"
	echo "node. content_router costs about 40 ns more than a hop when its decision cache hits (the"
	echo "same resource bytes and header values as the previous message: a compare of the"
	echo "resource, the group walk and the port choice); a resource it has not seen last also"
	echo "pays the decode of its 8 attributes and the two conditions (about 90 ns more when"
	echo "measured before the cache existed). ack (ingress) and retry each create a message of"
	echo "their own per message (allocation, envelope copy, subscription), about 100 ns per node."
	echo "Per log record all of this is below 0.2 ns for 1000-log requests: the cost is per"
	echo "message, not per record, as the issue intends."
} > "$out"
bench_section dataflow "$out"
echo "bench: dataflow figures written to docs/benchmarks.md"
