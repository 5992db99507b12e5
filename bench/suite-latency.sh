#!/bin/sh
# Tail latency benchmark: request-to-response time of OTLP/gRPC export calls
# with the receiver's wait_for_result, through batch -> otlp exporter -> a
# second otflow (nop exporter), at 10%, 50% and 90% of the saturation
# measured first in the same run. otflow (1 worker) on core 0; the second
# otflow and otflow-loadgen (4 connections, fixed rate, latency from each
# request's scheduled send time) on core 1. send_batch_size equals the
# items per request, so every request is sent on by size at once; the batch
# timeout (10 s) would show as 10 s latencies if it were ever hit.
# Each level runs BENCH_LATENCY_RUNS times (default 5), interleaved; every
# run is published with what the machine did meanwhile (run-queue wait of
# the three processes, steal, other load), then the median. A last traced
# run at 50% (perf, when allowed) decomposes the requests' time
# (bench/latency_breakdown.py); BENCH_LATENCY_TRACE=0 skips it.
# Writes the "latency" section of docs/benchmarks.md and docs/latency.png
# (gnuplot). Public tools only.
# usage: bench/suite-latency.sh BUILD_DIR
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench}
. bench/lib.sh
OTF="$build/otflow"
LG="$build/otflow-loadgen"
tmp=$(mktemp -d)
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
DUR=${BENCH_LATENCY_SECONDS:-5}
RUNS=${BENCH_LATENCY_RUNS:-5}
SAT_DUR=2
CONNS=4

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# CPU µs, run-queue wait µs and timeslices of every thread of PID
# (/proc/PID/task/*/schedstat: ns on CPU, ns waiting to run, timeslices).
sched() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null |
		awk '{r += $1; w += $2; n += $3} END {printf "%.0f %.0f %.0f\n", r / 1000, w / 1000, n}'
}

# On a machine shared with other work, the run queue decides the tail: a
# process woken for a request waits for whatever else runs on its core.
# A real-time policy (SCHED_FIFO, Linux caps it at 95% of each core) takes
# the three processes out of that wait when allowed (root or
# CAP_SYS_NICE); otherwise the figures include it, and the run-queue
# column shows how much.
RT=""
RT_DESC="normal scheduling (no permission for SCHED_FIFO): the run-queue column is other load's share"
if chrt -f 10 true 2>/dev/null; then
	RT="chrt -f 10"
	RT_DESC="all three processes under SCHED_FIFO priority 10 (\`chrt -f 10\`), so that other work on this shared machine does not queue in front of them"
fi

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
throttled() { dmesg 2>/dev/null | grep -c "RT throttling activated" || true; }
THR0=$(throttled)
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
    logs: {receivers: [otlp], exporters: [nop]}
runtime: {workers: 1}
Y
cat >"$tmp/otflow.yaml" <<Y
receivers:
  otlp:
    wait_for_result: true
    protocols: {grpc: {endpoint: "127.0.0.1:$PORT"}}
processors:
  batch: {send_batch_size: 1000, send_batch_max_size: 1000, timeout: 10s}
exporters:
  otlp: {endpoint: "127.0.0.1:$SINK_PORT", tls: {insecure: true}, compression: none}
service:
  admin: {endpoint: ""}
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [batch], exporters: [otlp]}
runtime: {workers: 1}
Y
# shellcheck disable=SC2086
$RT taskset -c 1 "$OTF" --config "$tmp/sink.yaml" >"$tmp/sink.log" 2>&1 &
SPID=$!
pids="$pids $SPID"
# shellcheck disable=SC2086
$RT taskset -c 0 "$OTF" --config "$tmp/otflow.yaml" >"$tmp/otflow.log" 2>&1 &
OPID=$!
pids="$pids $OPID"
i=0
until grep -q "everything is ready" "$tmp/otflow.log" && grep -q "everything is ready" "$tmp/sink.log"; do
	i=$((i + 1))
	[ $i -le 100 ] || {
		cat "$tmp/otflow.log" "$tmp/sink.log"
		echo "bench latency: otflow did not start" >&2
		exit 1
	}
	sleep 0.1
done
# warm-up: connections, the exporter's connection to the sink, caches
# shellcheck disable=SC2086
$RT taskset -c 1 "$LG" --endpoint "127.0.0.1:$PORT" --rate 0 --duration 1 --connections $CONNS \
	--batch 1000 --json >/dev/null

# /proc/stat of the whole machine: busy (user, nice, system, irq, softirq)
# and steal, in ms (USER_HZ ticks of 10 ms): steal is time the hypervisor
# ran something else on our virtual CPUs, invisible to the schedstat run
# queue: a task "running" through it shows as one long timeslice.
machine() {
	awk '/^cpu / {b = ($2 + $3 + $4 + $7 + $8) * 10; t = $9 * 10}
		/^cpu0 / {s0 = $9 * 10} /^cpu1 / {s1 = $9 * 10}
		END {printf "%d %d %d %d\n", b, t, s0, s1}' /proc/stat
}

# point NAME LEVEL RUN RATE [SECONDS]: one fixed-rate run (RATE 0 = as
# fast as possible; SECONDS defaults to DUR); appends one JSON line to
# $tmp/rows.jsonl (for bench/latency_table.py) and prints the acknowledged
# logs/s; latencies to $tmp/NAME.lat, the client's trace to NAME.trace. The
# CPU and run-queue wait of otflow and the second otflow from their
# schedstat, the client's from its own summary.
point() {
	o0=$(sched "$OPID")
	s0=$(sched "$SPID")
	m0=$(machine)
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	$RT taskset -c 1 "$LG" --endpoint "127.0.0.1:$PORT" --rate "$4" --duration "${5:-$DUR}" \
		--connections $CONNS --batch 1000 --size 360 --json --latency-out "$tmp/$1.lat" \
		--trace-out "$tmp/$1.trace" >"$tmp/$1.json" || true
	t1=$(date +%s.%N)
	o1=$(sched "$OPID")
	s1=$(sched "$SPID")
	m1=$(machine)
	python3 - "$tmp/$1.json" "$tmp/$1.trace" "$1" "$2" "$3" "$4" "$o0" "$o1" "$s0" "$s1" \
		"$m0" "$m1" "$t0" "$t1" >>"$tmp/rows.jsonl" <<'PY'
import json, sys
a = sys.argv
r = json.load(open(a[1]))
# the client's trace (due, sent, done; per connection in order): how late
# its thread began sending once the connection was free (its own wakeup and
# run-queue wait), and the latency from then on
late, sent = [], []
prev = None
for l in open(a[2]):
    if not l.strip() or l.startswith("#"):
        continue
    due, snt, done = map(float, l.split())
    free = max(due, prev[2]) if prev and prev[0] <= due else due
    late.append(max(0.0, snt - free))
    sent.append(done - snt)
    prev = (due, snt, done)
late.sort()
sent.sort()
q = lambda v, p: v[min(len(v) - 1, int(p * len(v)))] if v else 0.0
o0, o1, s0, s1, m0, m1 = [list(map(float, x.split())) for x in a[7:13]]
ds = lambda x0, x1: {"cpu_us": x1[0] - x0[0], "runq_us": x1[1] - x0[1], "slices": x1[2] - x0[2]}
print(json.dumps({
    "name": a[3], "level": int(a[4]), "run": int(a[5]), "offered": int(a[6]),
    "requests": r["requests"], "acked_per_s": r["acked_per_s"], "failed": r["items_failed"],
    "lat": r["latency_ms"], "late": {"p50": q(late, .5), "p99": q(late, .99), "p999": q(late, .999)},
    "from_sent": {"p50": q(sent, .5), "p99": q(sent, .99), "p999": q(sent, .999)},
    "otflow": ds(o0, o1), "sink": ds(s0, s1),
    "client": {"cpu_us": r["sched"]["cpu_us"], "runq_us": r["sched"]["runq_us"],
               "slices": r["sched"]["slices"]},
    "busy_ms": m1[0] - m0[0], "steal_ms": m1[1] - m0[1],
    "steal_cpu_ms": [m1[2] - m0[2], m1[3] - m0[3]], "dur_s": float(a[14]) - float(a[13])}))
PY
	tail -n 1 "$tmp/rows.jsonl" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["acked_per_s"])' | cut -d. -f1
}

# Saturation twice, the lower one counts: a run that happens to get the
# cores to itself would put the 90% point beyond what the pipeline holds.
a=$(point sat1 0 1 0)
b=$(point sat2 0 2 0)
SAT=$a
[ "$b" -lt "$SAT" ] && SAT=$b
[ "$SAT" -gt 0 ] || {
	echo "bench latency: no request acknowledged at saturation" >&2
	exit 1
}
# Each load level RUNS times, interleaved (10, 50, 90, 10, ...), so that
# the machine's other work, which comes and goes, falls on every level
# alike; every run is published, the median beside them. This machine's
# speed changes under us (other work, and the host under the VM), so each
# round measures saturation again (${SAT_DUR} s) and takes its rates from
# the lower of that and the first figure: a slower machine must not turn
# the 90% point into an overload. A run that still could not keep up
# (acknowledged < 95% of offered) is marked and left out of the medians:
# its latency is a queue growing for the whole run, not a tail.
r=1
while [ $r -le "$RUNS" ]; do
	RSAT=$(point "satr$r" 0 $((r + 2)) 0 "$SAT_DUR")
	[ "$RSAT" -lt "$SAT" ] || RSAT=$SAT
	for p in 10 50 90; do
		point "p${p}r$r" $p $r $((RSAT * p / 100)) >/dev/null
	done
	r=$((r + 1))
done
# One more run at 50%, traced, for where the time goes (not in the tables
# above: tracing adds ~1 µs per syscall): otflow's socket reads and writes
# (syscall tracepoints) and every thread's scheduling on the machine
# (perf sched), decomposed by bench/latency_breakdown.py. Needs perf and
# permission for tracepoints; BENCH_LATENCY_TRACE=0 skips it.
SYS_EVENTS=""
for c in read readv write writev; do
	SYS_EVENTS="$SYS_EVENTS${SYS_EVENTS:+,}syscalls:sys_enter_$c,syscalls:sys_exit_$c"
done
if [ "${BENCH_LATENCY_TRACE:-1}" != 0 ] && command -v perf >/dev/null 2>&1 &&
	perf record -q -e syscalls:sys_enter_read -o "$tmp/probe.data" true >/dev/null 2>&1; then
	perf record -q -e "$SYS_EVENTS" -p "$OPID" -o "$tmp/sys.data" >/dev/null 2>&1 &
	PSYS=$!
	# CLOCK_MONOTONIC, the load generator's clock; the local timer
	# interrupts show when a virtual CPU was not run at all
	perf sched record -a -k CLOCK_MONOTONIC -e irq_vectors:local_timer_entry \
		-o "$tmp/sched.data" >/dev/null 2>&1 &
	PSCHED=$!
	pids="$pids $PSYS $PSCHED"
	sleep 0.5 # perf attached
	point traced 50 0 $((SAT * 50 / 100)) >/dev/null
	kill -INT "$PSYS" "$PSCHED"
	wait "$PSYS" "$PSCHED" || true
	perf script -i "$tmp/sys.data" >"$tmp/sys.txt" 2>/dev/null
	perf sched timehist -i "$tmp/sched.data" >"$tmp/hist.txt" 2>/dev/null
	perf script -i "$tmp/sched.data" -F cpu,time,event,trace >"$tmp/cpu.txt" 2>/dev/null
	python3 bench/latency_breakdown.py "$tmp/sys.txt" "$tmp/hist.txt" "$tmp/traced.trace" \
		"$OPID" "$SPID" "$tmp/bd.md" "$tmp/cpu.txt"
	# the traced run is not one of the table's runs
	grep -v '"name": "traced"' "$tmp/rows.jsonl" >"$tmp/rows.tmp" || true
	mv "$tmp/rows.tmp" "$tmp/rows.jsonl"
	{
		echo "Where the time goes: one more ${DUR} s run at 50%, traced (\`perf record\` of otflow's"
		echo "read/readv/write/writev tracepoints, \`perf sched record\` of the whole machine; tracing"
		echo "adds ~1 µs per syscall, so this run is not in the tables above). Client rows from the load"
		echo "generator's --trace-out; otflow rows follow each request through otflow's socket calls"
		echo "(bench/latency_breakdown.py); the second table is every wakeup of the three processes."
		echo
		cat "$tmp/bd.md"
	} >"$tmp/breakdown.md"
fi
python3 bench/latency_table.py "$tmp/rows.jsonl" "$tmp"
while read -r p run; do
	[ "$p" -eq 0 ] || cp "$tmp/p${p}r$run.lat" "$tmp/p$p.lat"
	# the same run from the client's send (without its wait for a busy
	# connection or for its own thread): the server side's share
	[ "$p" -ne 50 ] || awk '!/^#/ {printf "%.4f\n", $3 - $2}' "$tmp/p${p}r$run.trace" |
		sort -n >"$tmp/p50s.lat"
done <"$tmp/pick"
P50_P99=$(cat "$tmp/p50_p99")
P50_ALL=$(cat "$tmp/p50_all")
ABOVE="- load average at the start: $LOAD0 (the machine is shared)."
# Real-time tasks past their budget (sched_rt_runtime_us of every second)
# are stopped until the next period: the kernel says so once per boot.
THR1=$(throttled)
RT_GAP=$((1000 - $(cat /proc/sys/kernel/sched_rt_runtime_us) / 1000))
if [ "$THR1" -gt "$THR0" ]; then
	ABOVE="$ABOVE
- the kernel logged \"sched: RT throttling activated\" during this run: real-time tasks
  used their budget (sched_rt_runtime_us) on a core and were stopped for the rest of a
  period (up to $RT_GAP ms), as at saturation, where core 1 is busy all the time."
elif [ "$THR1" -gt 0 ]; then
	ABOVE="$ABOVE
- \"sched: RT throttling activated\" was in the kernel log before this run (it is logged once
  per boot), so whether real-time tasks were stopped (up to $RT_GAP ms) during it cannot be
  told from it."
elif dmesg >/dev/null 2>&1; then
	ABOVE="$ABOVE
- real-time throttling: never activated since boot (no \"RT throttling activated\" in the
  kernel log), so no stall below comes from the SCHED_FIFO budget."
fi

# Percentile spectrum: x = 1 / (1 - quantile) on a log axis, so 50%, 90%,
# 99%, 99.9% are evenly spaced.
for p in 10 50 90 50s; do
	awk -v n="$(wc -l <"$tmp/p$p.lat")" 'NR < n {print n / (n - NR), $1}' "$tmp/p$p.lat" >"$tmp/p$p.dat"
done
png="docs/latency.png"
if command -v gnuplot >/dev/null 2>&1; then
	gnuplot <<G
set terminal pngcairo size 900,520 font "sans,11" noenhanced
set output "$png"
set title "otflow: OTLP/gRPC request-to-response latency, batch -> otlp -> otflow (wait_for_result)"
set logscale x
set xrange [1:10000]
set xtics ("0%%" 1, "50%%" 2, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000)
set xlabel "percentile"
set logscale y
set yrange [0.2:*]
set ylabel "latency (ms, log scale)"
set grid
set key top left
set arrow from 100, graph 0 to 100, graph 1 nohead dashtype 2 lc rgb "#888888"
plot "$tmp/p10.dat" using 1:2 with lines lw 2 title "10% of saturation", \
     "$tmp/p50.dat" using 1:2 with lines lw 2 title "50% of saturation", \
     "$tmp/p90.dat" using 1:2 with lines lw 2 title "90% of saturation", \
     "$tmp/p50s.dat" using 1:2 with lines lw 1 dashtype 2 title "50%, from the client's send", \
     1 with lines dashtype 3 lc rgb "#cc0000" title "target: p99 <= 1 ms at 50%"
G
else
	echo "bench latency: gnuplot missing (scripts/deps.sh installs gnuplot-nox); plot not redrawn" >&2
fi

out="$tmp/section.md"
{
	echo "## Tail latency (wait_for_result, batch -> otlp -> otflow)"
	echo
	bench_machine
	echo "- command: \`make bench\` (bench/suite-latency.sh): otflow-loadgen (OTLP/gRPC, $CONNS"
	echo "  connections, 1000 logs of ~360 B per request) -> otflow (1 worker, core 0; otlp receiver"
	echo "  with \`wait_for_result: true\`, batch with send_batch_size = send_batch_max_size = 1000, so"
	echo "  each request is sent on by size at once, timeout 10 s; otlp exporter, no compression) ->"
	echo "  a second otflow (1 worker, nop exporter) on core 1 with the load generator; $RT_DESC."
	echo "- method: saturation first (as fast as possible over the $CONNS connections, twice ${DUR} s,"
	echo "  the lower counts), then $RUNS rounds of: saturation again (${SAT_DUR} s; the lower of it and"
	echo "  the first figure sets the round's rates, as this machine's speed changes under us), and"
	echo "  ${DUR} s at a fixed rate of 10%, 50% and 90% of it. Every run is in the second table (its"
	echo "  offered rate in brackets; **overloaded**: it acknowledged < 95% of that, a queue growing"
	echo "  for the whole run, left out of the medians); the first has the median per load (p99 in"
	echo "  bold, every counted run's p99 in brackets) and the plot shows the run with the median p99."
	echo "  Latency is from each request's scheduled send time to its response (no coordinated"
	echo "  omission); \"p99 from send\": from when the load generator's thread began sending;"
	echo "  \"client late\": how long after the request was due and its connection free that thread"
	echo "  began sending (its own wakeup and run-queue wait, part of the latency). CPU, run"
	echo "  queue and wakeups from /proc/PID/task/*/schedstat (ns on CPU, ns runnable but waiting for"
	echo "  a CPU, timeslices; the client reads its own threads'), per request; steal and the other"
	echo "  load from /proc/stat over the run (steal: time the hypervisor did not run our virtual"
	echo "  CPUs; other load: busy CPU of everything but these three processes, in cores of 2)."
	echo
	echo "$ABOVE"
	echo
	cat "$tmp/summary.md"
	echo
	echo "Target p99 <= 1 ms at 50% of saturation: median ${P50_P99} ms over $RUNS runs (${P50_ALL} ms)."
	echo
	echo "Every run:"
	echo
	cat "$tmp/runs.md"
	echo
	if [ -s "$tmp/breakdown.md" ]; then
		cat "$tmp/breakdown.md"
		echo
	fi
	echo "![latency percentiles](latency.png)"
	echo
	cat bench/latency_notes.md
} >"$out"
bench_section latency "$out"
echo "bench: latency figures written to docs/benchmarks.md and $png"
