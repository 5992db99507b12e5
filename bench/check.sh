#!/bin/sh
# make bench-check: a short version of the codec and pipeline benchmarks
# whose figures are ratios against a reference measured in the same run, so
# that the machine's speed and its other load cancel out; fails when one is
# more than 25% worse than the baseline committed in docs/benchmarks.md
# (bench/compare.sh). Not part of make test (timing).
#   codec.*: our time against protobuf-c's for the same bytes, same process
#            (codec_bench's "vs protobuf-c" column, thread CPU time, median of
#            three short runs; higher is better).
#   pipeline.*: otflow's CPU per item (all threads, 1 worker, as fast as
#            possible, otlp exporter to a second otflow with nop; best of three
#            runs) divided by
#            protobuf-c's unpack + free CPU time per item of the same workload
#            measured just before (lower is better).
# usage: bench/check.sh BUILD_DIR          compare with the baseline
#        bench/check.sh BUILD_DIR --update  write this run as the baseline
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench}
update=${2:-}
. bench/lib.sh
OTF="$build/otflow"
LG="$build/otflow-loadgen"
tmp=$(mktemp -d)
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
DUR=${BENCH_CHECK_SECONDS:-2}
pin0="" pin1=""
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -gt 1 ]; then
	pin0="taskset -c 0"
	pin1="taskset -c 1"
fi
# The pipeline runs under SCHED_FIFO when allowed (root or CAP_SYS_NICE;
# Linux caps it at 95% of a core): at saturation, time otflow spends
# preempted by other work changes how many requests each wakeup serves,
# and so the CPU per item; the reference (thread CPU time) does not move.
rt=""
chrt -f 10 true 2>/dev/null && rt="chrt -f 10"
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
cpu_ns() { # every thread of PID, ns on CPU
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{r += $1} END {printf "%.0f\n", r}'
}

cur="$tmp/current.txt"
: >"$cur"

# --- codec: three runs of 0.05 s rounds, thread CPU time; the median of
# each "vs protobuf-c" ratio ---
for n in 1 2 3; do
	# shellcheck disable=SC2086
	CODEC_BENCH_CLOCK=cpu $pin1 "$build/bench/codec_bench" 0.05 >"$tmp/codec$n.md" 2>/dev/null
done
python3 - "$tmp"/codec1.md "$tmp"/codec2.md "$tmp"/codec3.md >>"$cur" <<'PY'
import statistics, sys
names = {"logs": "logs", "spans": "spans", "data points": "metrics"}
ops = {"views read (every field, attributes)": "read", "views validate (ingress check)": "validate",
       "decode to tree": "decode", "encode": "encode"}
fig, unpack, json_ns = {}, {}, {}
for path in sys.argv[1:]:
    for line in open(path):
        c = [x.strip() for x in line.strip().strip("|").split("|")]
        if len(c) != 5 or c[0] not in names:
            continue
        w = names[c[0]]
        if c[1] in ops and c[4].endswith("x"):
            fig.setdefault(f"codec.{w}.{ops[c[1]]}_vs_protobuf_c", []).append(float(c[4][:-1]))
        if c[1] == "protobuf-c unpack + free":
            unpack.setdefault(w, []).append(float(c[3]))
        if c[1].startswith("JSON decode"):
            json_ns.setdefault(w, []).append(float(c[3]))
# JSON has no protobuf-c counterpart: its decode against protobuf-c's unpack
# of the same records (per record, same run)
for w in json_ns:
    if w in unpack:
        r = [u / j for u, j in zip(unpack[w], json_ns[w]) if j > 0]
        if r:
            fig[f"codec.{w}.json_decode_vs_protobuf_c_unpack"] = r
for name, v in fig.items():
    print(f"{name} higher {statistics.median(v):.3f}")
for w, v in unpack.items():
    print(f"#ref {w} {statistics.median(v)}")
PY

# --- pipeline: as fast as possible for DUR s, per signal ---
SINK_PORT=$(free_port)
PORT=$(free_port)
cat >"$tmp/sink.yaml" <<Y
receivers:
  otlp: {protocols: {grpc: {endpoint: "127.0.0.1:$SINK_PORT"}}}
exporters:
  nop:
service:
  admin: {endpoint: ""}
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], exporters: [nop]}
    logs: {receivers: [otlp], exporters: [nop]}
runtime: {workers: 1}
Y
cat >"$tmp/otflow.yaml" <<Y
receivers:
  otlp: {protocols: {grpc: {endpoint: "127.0.0.1:$PORT"}}}
exporters:
  otlp: {endpoint: "127.0.0.1:$SINK_PORT", tls: {insecure: true}, compression: none, sending_queue: {queue_size: 64}}
service:
  admin: {endpoint: ""}
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], exporters: [otlp]}
    logs: {receivers: [otlp], exporters: [otlp]}
runtime: {workers: 1}
Y
# shellcheck disable=SC2086
$rt $pin1 "$OTF" --config "$tmp/sink.yaml" >"$tmp/sink.log" 2>&1 &
pids="$pids $!"
# shellcheck disable=SC2086
$rt $pin0 "$OTF" --config "$tmp/otflow.yaml" >"$tmp/otflow.log" 2>&1 &
OPID=$!
pids="$pids $OPID"
i=0
until grep -q "everything is ready" "$tmp/otflow.log" && grep -q "everything is ready" "$tmp/sink.log"; do
	i=$((i + 1))
	[ $i -le 100 ] || {
		cat "$tmp/otflow.log" "$tmp/sink.log" >&2
		echo "bench-check: otflow did not start" >&2
		exit 1
	}
	sleep 0.1
done
# pipeline SIGNAL WORKLOAD SIZE: CPU ns per item / protobuf-c unpack ns per
# item; the best of three runs (other work on the machine only adds CPU per
# item: it takes cache and splits the batches each wakeup serves)
pipeline() {
	ref=$(awk -v w="$2" '$1 == "#ref" && $2 == w {print $3}' "$cur")
	: >"$tmp/$1.runs"
	for n in 1 2 3; do
		c0=$(cpu_ns "$OPID")
		# (refusals at saturation are backpressure: the figure counts acked items)
		# shellcheck disable=SC2086
		$rt $pin1 "$LG" --endpoint "127.0.0.1:$PORT" --signal "$1" --rate 0 --duration "$DUR" \
			--batch 1000 --connections 4 --size "$3" --json >"$tmp/$1.json" 2>/dev/null || true
		c1=$(cpu_ns "$OPID")
		python3 - "$tmp/$1.json" "$c0" "$c1" >>"$tmp/$1.runs" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
if r["items_acked"]:
    ns = (int(sys.argv[3]) - int(sys.argv[2])) / r["items_acked"]
    print(f'{ns:.1f} {r["acked_per_s"]:.0f} {r["items_failed"]}')
PY
	done
	python3 - "$tmp/$1.runs" "$ref" "$2" <<'PY'
import sys
runs = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
if runs and sys.argv[2]:
    ns, rate, failed = min(runs)
    ref = float(sys.argv[2])
    print(f"pipeline.{sys.argv[3]}.cpu_per_item_vs_protobuf_c_unpack lower {ns / ref:.4f}")
    print(f"#info pipeline {sys.argv[3]}: {ns:.0f} ns CPU/item (best of {len(runs)}: "
          f"{', '.join(f'{r[0]:.0f}' for r in runs)}), {rate:.0f} items/s acked, "
          f"protobuf-c unpack {ref:.0f} ns/item")
PY
}
# warm-up (connections, caches), then the measured runs
# shellcheck disable=SC2086
$rt $pin1 "$LG" --endpoint "127.0.0.1:$PORT" --rate 0 --duration 1 --connections 4 --batch 1000 \
	--json >/dev/null 2>&1 || true
pipeline logs logs 360 >>"$cur"
pipeline traces spans 800 >>"$cur"

grep '^#info' "$cur" | sed 's/^#info /bench-check: /' || true
grep -v '^#' "$cur" >"$tmp/figures.txt"
if [ "$update" = "--update" ]; then
	{
		echo "## Regression baseline (make bench-check)"
		echo
		bench_machine
		echo "- command: \`make bench-check\` compares a short run with these figures and fails when one"
		echo "  is more than 25% worse; \`make bench-baseline\` (bench/check.sh BUILD --update) rewrites"
		echo "  them. Each is a ratio against a reference measured in the same run (bench/check.sh):"
		echo "  codec.* our speed over protobuf-c's for the same bytes, thread CPU time, median of three"
		echo "  short runs (higher is better; JSON decode against protobuf-c's unpack of the same"
		echo "  records); pipeline.* otflow's CPU per item at saturation (1 worker, otlp exporter to a"
		echo "  second otflow, SCHED_FIFO when allowed; best of three 2 s runs) over protobuf-c's"
		echo "  unpack CPU time per item of the same workload (lower is better). On this shared machine"
		echo "  the pipeline figures have two modes (logs ~0.15 and ~0.22: at saturation the batches each"
		echo "  wakeup serves depend on how the other processes interleave); record the baseline in the"
		echo "  slower one, which a run in the faster one passes."
		echo
		echo '```'
		cat "$tmp/figures.txt"
		echo '```'
	} >"$tmp/section.md"
	bench_section baseline "$tmp/section.md"
	cat "$tmp/figures.txt"
	echo "bench-check: baseline written to docs/benchmarks.md"
	exit 0
fi
sh bench/compare.sh docs/benchmarks.md "$tmp/figures.txt"
