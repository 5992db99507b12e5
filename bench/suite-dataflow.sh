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
	echo "## Dataflow nodes (issue 9: routers and delivery nodes; issue 10: fused stages)"
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
	echo "  \"added per node\" is (pipeline - pass-through) / nodes added. content_router: 2 routes"
	echo "  (\`request[\"X-Tenant\"] == \"acme\"\`, then \`attributes[\"service.name\"] == \"checkout\"\`, which"
	echo "  matches, so both run on the one resource), no split. The chain of 4 is \`bench_pass\`"
	echo "  processors (consume = otf_node_send). Rows without \"not fused\" run with the default"
	echo "  \`runtime.fuse: true\`: every edge after the source's is fused there (the source is a"
	echo "  receiver, whose edge keeps its channel); \"not fused\" is \`runtime.fuse: false\`."
	echo "- targets: issue 9, each added node <= 10 ns per message plus <= 5 ns per resource"
	echo "  evaluated; issue 10, each extra fused pass-through processor <= 5 ns per message and"
	echo "  CPU/log within 3% of no processors."
	echo
	printf "%s\n" "$table"
	echo
	echo "Reading: fusing takes the channel and the scheduler turn out of a hop. A pass-through"
	echo "processor costs about 17 ns per message with a channel on its edge and about 5 ns fused"
	echo "(4.7 to 6.8 over runs on this shared machine: the target is met in the quieter runs only)."
	echo "A node whose one edge is fused keeps the next node"
	echo "and the edge's signals at hand, so otf_node_send skips the port and consumer lookup; what"
	echo "is left is the fused-edge check and the consume call (it was 8 ns with the lookup). The 3%"
	echo "is not met in this benchmark, and cannot be with this base: pass-through here does no work"
	echo "(about 80-100 ns per message, 0.1 ns per log: one ring hop and one ACK), so 4 x 5 ns is +18-25%."
	echo "Against the OTLP in, OTLP out pipeline (the Pipeline section: 0.238 us of CPU per log at"
	echo "saturation, 1000 logs per request) the 4 fused processors add about 0.02 ns per log, about"
	echo "0.01%: within 3% there, where the figure means something."
	echo "ack (ingress) -> retry: ack no longer makes a message of its own per message"
	echo "(otf_node_send_acked answers upstream and lets the same message go on); retry still makes"
	echo "one per attempt (allocation, envelope copy, subscription, and since the control plane its"
	echo "CAN bookkeeping), and its ACK is one more control signal per message (a 224-byte"
	echo "\`otf_ctrl_t\` copied into and out of the control ring, and a scheduler turn). Before the"
	echo "control plane was merged, retry sending the message itself (OTF_INTEREST_RETURN_MSG, no"
	echo "allocation until a first failure) measured about 25 ns per node here; that retry did not"
	echo "carry the CAN handling merged since and was set aside at the rebase. The 10 ns target is"
	echo "not met."
	echo "content_router costs about 50 ns more than a hop when its decision cache hits (a compare"
	echo "of the resource, the group walk and the port choice), about 6 ns less fused (its three"
	echo "routes lead to one sink, which is no branch)."
	echo "Per log record all of this is below 0.2 ns for 1000-log requests: the cost is per"
	echo "message, not per record, as the issues intend."
} > "$out"
bench_section dataflow "$out"
echo "bench: dataflow figures written to docs/benchmarks.md"
