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
out=$(mktemp)
runs=$(mktemp -d)
trap 'rm -rf "$out" "$runs"' EXIT
# DATAFLOW_BASE=DIR: a second build (the baseline commit's build-bench)
# runs interleaved with this one, three times each (each run is already
# best of 5 rounds): the table shows both side by side, the best of all
# runs per row. DATAFLOW_BASE_LABEL names the baseline in the table.
base=${DATAFLOW_BASE:-}
if [ -n "$base" ]; then
	for i in 1 2 3; do
		$pin "$base/bench/dataflow_bench" > "$runs/base.$i"
		$pin "$build/bench/dataflow_bench" > "$runs/new.$i"
	done
	table=$(python3 - "$runs" "${DATAFLOW_BASE_LABEL:-baseline}" <<'PY'
import glob, sys
runs, label = sys.argv[1], sys.argv[2]
def load(kind):
    best, order = {}, []
    for f in sorted(glob.glob(f"{runs}/{kind}.*")):
        for line in open(f):
            c = [x.strip() for x in line.strip().strip("|").split("|")]
            if len(c) < 7 or not c[1].isdigit():
                continue
            name, nodes, ns, target = c[0], int(c[1]), float(c[2]), c[6]
            if name not in best:
                order.append(name)
                best[name] = (nodes, ns, target)
            elif ns < best[name][1]:
                best[name] = (nodes, ns, target)
    return best, order
old, _ = load("base")
new, order = load("new")
def added(rows, name):
    if name not in rows:
        return None
    nodes, ns, _ = rows[name]
    if not nodes:
        return None
    ref = "OTLP baseline: validate as the receiver, no processors" if name.startswith("OTLP") else "pass-through"
    return (ns - rows[ref][1]) / nodes if ref in rows else None
def f(v):
    return "-" if v is None else f"{v:.1f}"
print(f"| pipeline | nodes added | {label}: CPU ns/message | after: CPU ns/message | after / {label} "
      f"| {label}: added ns/message per node | after: added ns/message per node | target |")
print("|---|---|---|---|---|---|---|---|")
for name in order:
    nodes, ns, target = new[name]
    o = old.get(name)
    ratio = f"{ns / o[1]:.2f}" if o else "-"
    print(f"| {name} | {nodes} | {f(o[1] if o else None)} | {ns:.1f} | {ratio} "
          f"| {f(added(old, name))} | {f(added(new, name))} | {target} |")
PY
)
else
	table=$($pin "$build/bench/dataflow_bench")
fi
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
	echo "  \"added per node\" is (pipeline - baseline) / nodes added; the baseline is pass-through,"
	echo "  and for the two OTLP rows the OTLP baseline. content_router: 2 routes"
	echo "  (\`request[\"X-Tenant\"] == \"acme\"\`, then \`attributes[\"service.name\"] == \"checkout\"\`, which"
	echo "  matches, so both run on the one resource), no split. The chain of 4 is \`bench_pass\`"
	echo "  processors (consume = otf_node_send). Rows without \"not fused\" run with the default"
	echo "  \`runtime.fuse: true\`: every edge after the source's is fused there (the source is a"
	echo "  receiver, whose edge keeps its channel); \"not fused\" is \`runtime.fuse: false\`."
	echo "  OTLP baseline: the source validates every request as the OTLP receiver does before"
	echo "  sending it (otf_view_validate: wire types, lengths, UTF-8 of every string, record count;"
	echo "  5000 messages per run), the realistic floor of a pipeline's per-request cost."
	echo "- targets: issue 9, each added node <= 10 ns per message plus <= 5 ns per resource"
	echo "  evaluated; issue 10, each extra fused pass-through processor <= 5 ns per message and"
	echo "  CPU/log within 3% of no processors."
	echo
	printf "%s\n" "$table"
	echo
	echo "Reading (figures of the run above; this shared machine moves them by several ns):"
	echo "- content_router: each route whose condition is \`attributes[\"k\"] == \"v\"\`,"
	echo "  \`request[\"H\"] == \"v\"\` or and/or/not of those is compiled to byte compares on the"
	echo "  resource's encoded attributes (otf_ottl_fast_t): no decode, no OTTL values, no arena, the"
	echo "  request's headers looked up once per request, the message passed on when every"
	echo "  resource has one route. Before: the decision cache's compare of the resource bytes, the"
	echo "  arena and unit bookkeeping, about 53 ns per node (55 ns in the same run as this one's"
	echo "  base). What is left (perf record on this benchmark): the attribute walk and the two"
	echo "  compares (about a third), the per-request loop over the *Data fields, the port lookup"
	echo "  and the fused send. The 15 ns target is not met: about 35 ns."
	echo "  \`perf record\` of this row (DATAFLOW_BENCH_ONLY=2), top symbols: otf_node_send_port 9.4%,"
	echo "  otf__cr_consume 9.3% (the fast loop, inlined), otf__node_post_ctrl 6.2%, attr_eq 6.1%,"
	echo "  otf_ottl_fast_eval 5.2%, then the allocator of the source's messages."
	echo "- ack (ingress) -> retry: retry sends the message itself and gets it back with its"
	echo "  outcome (OTF_INTEREST_RETURN_MSG): no message, envelope copy or subscription of its own"
	echo "  per attempt, its bookkeeping from a free list. Every ACK's control signal was copied"
	echo "  whole (about 270 bytes: memset, into the control ring, out of it) and each ring slot"
	echo "  was found with a division; an ACK now skips its 160-byte reason both ways and the rings"
	echo "  use no division. That took the pass-through itself from about 95 to 75-78 ns and"
	echo "  ack -> retry from 66 to about 22 ns per node (before/after side by side in one run:"
	echo "  main at 66798d0 and this branch, built alike). The 10 ns target is not met: what is"
	echo "  left is mostly the second control signal per message (retry's ACK back; the ack node's"
	echo "  answer upstream is the one the pass-through has too) and the scheduler turn it takes:"
	echo "  otf__node_post_ctrl and the pump are the top two symbols of this row's profile."
	echo "  \`perf record\` of this row (DATAFLOW_BENCH_ONLY=3), top symbols: otf__node_post_ctrl"
	echo "  10.7%, otf__worker_pump_cb 9.2%, otf_free 6.8%, malloc 4.9%, otf_malloc 4.9%,"
	echo "  otf_node_send_acked 4.4% (the allocator is the source's otf_msg_create)."
	echo "- 4 fused pass-through processors: 4 to 6 ns each over runs. Against pass-through the chain is"
	echo "  +18-30%, because pass-through here does no work (one ring hop and one ACK per message)."
	echo "  Against the OTLP baseline (about 41 us per 1000-log request, validation alone) the four"
	echo "  hops add 4 x 4-6 ns = 16-24 ns, 0.04-0.06%: within the 3%. The measured OTLP pair differs by"
	echo "  its noise (a few percent of 41 us under this machine's load), not by the 16 ns."
	echo "Per log record everything here but the routing connector's log context is below 0.15 ns for"
	echo "1000-log requests: the cost is per message, not per record, as the issues intend."
	echo "- routing connector, context log: the one row whose work is per record (the Collector's"
	echo "  \`context: log\` entry \`severity_number >= SEVERITY_NUMBER_ERROR\`, default_pipelines for"
	echo "  the rest; 5000 messages per run): each of the 1000 records read lazily from its bytes"
	echo "  (otf_ottl_lazy_t) and its condition evaluated, then the request sliced into the ERROR"
	echo "  records' request and the others'. Its figure is per record, not per node: the"
	echo "  \"per record\" rate in the target column is logs routed per second of one worker's CPU;"
	echo "  \"vs baseline\" compares it with the OTLP baseline (validating the request at ingress)."
	echo "  \`perf record\` of this row (DATAFLOW_BENCH_ONLY=10), top symbols: otf_view_log_read 22.6%"
	echo "  (the lazy record's scalars), otf_view_iter_next_raw 13.8% (slicing), otf_view_group_read"
	echo "  8.3%, memmove 8.0% (the parts' copies), otf__ottl_lazy_load 6.9%. Decoding each request"
	echo "  instead (the first version) was 424 ns per log, 60% of it the decoder."
} > "$out"
bench_section dataflow "$out"
echo "bench: dataflow figures written to docs/benchmarks.md"
