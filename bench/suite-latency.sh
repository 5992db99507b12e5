#!/bin/sh
# Tail latency benchmark: request-to-response time of OTLP/gRPC export calls
# with the receiver's wait_for_result, through batch -> otlp exporter -> a
# second otflow (nop exporter), at 10%, 50% and 90% of the saturation
# measured first in the same run. otflow (1 worker) on core 0; the second
# otflow and otflow-loadgen (4 connections, fixed rate, latency from each
# request's scheduled send time) on core 1. send_batch_size equals the
# items per request, so every request is sent on by size at once; the batch
# timeout (10 s) would show as 10 s latencies if it were ever hit.
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

# point NAME RATE: one fixed-rate run (0 = as fast as possible); prints
# "acked/s p50 p99 p999 max failed otflow_cpu_us sink_cpu_us runq_us
# wakeups" per request, latencies to $tmp/NAME.lat
point() {
	o0=$(sched "$OPID")
	s0=$(sched "$SPID")
	# shellcheck disable=SC2086
	$RT taskset -c 1 "$LG" --endpoint "127.0.0.1:$PORT" --rate "$2" --duration "$DUR" \
		--connections $CONNS --batch 1000 --size 360 --json --latency-out "$tmp/$1.lat" \
		>"$tmp/$1.json" || true
	o1=$(sched "$OPID")
	s1=$(sched "$SPID")
	python3 - "$tmp/$1.json" "$o0" "$o1" "$s0" "$s1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
o0, o1, s0, s1 = [list(map(int, a.split())) for a in sys.argv[2:6]]
n = max(r["requests"], 1)
l = r["latency_ms"]
runq = (o1[1] - o0[1] + s1[1] - s0[1]) / n
wake = (o1[2] - o0[2]) / n
print(f'{r["acked_per_s"]:.0f} {l["p50"]:.2f} {l["p99"]:.2f} {l["p999"]:.2f} {l["max"]:.2f} '
      f'{r["items_failed"]} {(o1[0] - o0[0]) / n:.0f} {(s1[0] - s0[0]) / n:.0f} {runq:.0f} {wake:.1f}')
PY
}

# Saturation twice, the lower one counts: a run that happens to get the
# cores to itself would put the 90% point beyond what the pipeline holds.
a=$(point sat0 0)
b=$(point sat 0)
if [ "${a%% *}" -lt "${b%% *}" ]; then set -- $a; else set -- $b; fi
SAT=$1
[ "$SAT" -gt 0 ] || {
	echo "bench latency: no request acknowledged at saturation" >&2
	exit 1
}
rows="| saturation (as fast as possible) | $1 | $2 | $3 | $4 | $5 | $6 | $7 | $8 | $9 | ${10} |"
# Each load level three times, interleaved; the run with the median p99 is
# published (and plotted), the three p99s beside it: the tail moves from
# run to run with the machine's other work.
for r in 1 2 3; do
	for p in 10 50 90; do
		point "p${p}r$r" $((SAT * p / 100)) >"$tmp/p${p}r$r.row"
	done
done
for p in 10 50 90; do
	rate=$((SAT * p / 100))
	med=$(for r in 1 2 3; do echo "$(cut -d' ' -f3 "$tmp/p${p}r$r.row") $r"; done | sort -n | sed -n 2p)
	all=$(for r in 1 2 3; do cut -d' ' -f3 "$tmp/p${p}r$r.row"; done | sort -n | tr '\n' ' ' | sed 's/ $//; s/ /, /g')
	cp "$tmp/p${p}r${med#* }.lat" "$tmp/p$p.lat"
	set -- $(cat "$tmp/p${p}r${med#* }.row")
	rows="$rows
| $p% ($rate logs/s) | $1 | $2 | $3 ($all) | $4 | $5 | $6 | $7 | $8 | $9 | ${10} |"
	eval "P${p}_P99=\$3"
	eval "P${p}_ALL=\$all"
done

# Percentile spectrum: x = 1 / (1 - quantile) on a log axis, so 50%, 90%,
# 99%, 99.9% are evenly spaced.
for p in 10 50 90; do
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
set yrange [0:*]
set ylabel "latency (ms)"
set grid
set key top left
set arrow from 100, graph 0 to 100, graph 1 nohead dashtype 2 lc rgb "#888888"
plot "$tmp/p10.dat" using 1:2 with lines lw 2 title "10% of saturation", \
     "$tmp/p50.dat" using 1:2 with lines lw 2 title "50% of saturation", \
     "$tmp/p90.dat" using 1:2 with lines lw 2 title "90% of saturation", \
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
	echo "  the lower counts), then"
	echo "  ${DUR} s at a fixed rate of 10%, 50% and 90% of it, three times each (interleaved); the"
	echo "  run with the median p99 is shown, the three p99s in brackets. Latency is from each request's"
	echo "  scheduled send time to its response (no coordinated omission: a request that waits for"
	echo "  a busy connection counts its wait). CPU µs per request from /proc/PID/task/*/schedstat;"
	echo "  run queue: µs per request both otflow processes waited to be run; wakeups: otflow's"
	echo "  timeslices per request."
	echo
	echo "| offered | acked logs/s | p50 ms | p99 ms (3 runs) | p999 ms | max ms | failed | otflow CPU µs/req | sink CPU µs/req | run queue µs/req | wakeups/req |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	echo "$rows"
	echo
	echo "Target p99 <= 1 ms at 50% of saturation: measured ${P50_P99} ms (median of three runs: ${P50_ALL} ms)."
	echo
	echo "![latency percentiles](latency.png)"
	echo
	cat bench/latency_notes.md
} >"$out"
bench_section latency "$out"
echo "bench: latency figures written to docs/benchmarks.md and $png"
