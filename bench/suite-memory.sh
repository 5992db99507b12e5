#!/bin/sh
# Memory: idle RSS of otflow with 2 workers (OTLP gRPC + HTTP -> batch -> nop)
# with its /proc/PID/smaps breakdown, RSS each second at 100k logs/s (OTLP/gRPC,
# 1000 logs per request, 4 connections) and under 10x that offered load;
# writes the "memory" section of docs/benchmarks.md.
# usage: bench/suite-memory.sh BUILD_DIR
#   MEM_BASE_BIN=path/to/otflow: the figures of a second binary (a baseline
#   build) measured in the same run, side by side: idle, and each load run
#   interleaved with this build's.
#   MEM_RUNS=N: load runs per binary and rate, the best (lowest max RSS)
#   reported (default 1; 3 with MEM_BASE_BIN).
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench}
. bench/lib.sh
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# start BIN: otflow on a fresh config; waits (10 s at most) until the
# OTLP/HTTP port answers, then 2 s for the start to settle.
start() {
	grpc=$(port)
	http=$(port)
	cat > "$tmp/c.yaml" <<Y
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:$grpc"}
      http: {endpoint: "127.0.0.1:$http"}
processors: {batch: {}}
exporters: {nop: {}}
service:
  telemetry: {metrics: {level: none}}
  pipelines: {logs: {receivers: [otlp], processors: [batch], exporters: [nop]}}
runtime: {workers: 2}
Y
	"$1" --config "$tmp/c.yaml" > "$tmp/otflow.log" 2>&1 &
	pid=$!
	i=0
	until curl -s -m 1 -o /dev/null "http://127.0.0.1:$http/"; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "otflow did not start:"; cat "$tmp/otflow.log"; exit 1; }
		sleep 0.1
	done
	sleep 2
}
stop() {
	kill "$pid"
	wait "$pid" || true
	pid=""
}
kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$pid/$2"; }
rss() { kb VmRSS status; }

# idle NAME BIN: one row of the idle table and the smaps breakdown into $tmp/NAME.smaps
idle() {
	start "$2"
	echo "| $1 | $(kb VmRSS status) | $(kb RssAnon status) | $(kb RssFile status) | $(kb Pss smaps_rollup) | $(kb Private_Dirty smaps_rollup) | $(awk '/^Threads:/ {print $2}' "/proc/$pid/status") |"
	awk '/^[0-9a-f]+-/ {n = ($6 == "" ? "[anonymous]" : $6); sub(".*/", "", n)}
	     /^Rss:/ {r[n] += $2} /^Private_Dirty:/ {d[n] += $2}
	     END {for (n in r) if (r[n] > 0) printf "%d %d %s\n", r[n], d[n], n}' "/proc/$pid/smaps" |
		sort -rn | head -16 > "$tmp/$1.smaps"
	stop
}

# series BIN RATE SECONDS: RSS (kB) each second while otflow-loadgen offers
# RATE logs/s over gRPC; prints "max min last cpu accepted samples..." (cpu:
# otflow's utime + stime over the run, in seconds; accepted: the loadgen's
# acked logs/s)
series() {
	bin=$1
	shift
	start "$bin"
	t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	"$build/otflow-loadgen" --protocol grpc --endpoint "127.0.0.1:$grpc" --signal logs \
		--rate "$1" --batch 1000 --connections 4 --duration "$2" --json > "$tmp/lg.json" 2>/dev/null &
	lg=$!
	s=""
	n=0
	while [ $n -lt "$2" ]; do
		sleep 1
		s="$s $(rss)"
		n=$((n + 1))
	done
	wait "$lg" || true
	cpu=$(awk -v t0="$t0" -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15 - t0) / hz}' "/proc/$pid/stat")
	stop
	acc=$(accepted)
	echo "$s" | awk -v c="$cpu" -v a="$acc" '{mx = 0; mn = 1e12; for (i = 1; i <= NF; i++) {if ($i > mx) mx = $i; if ($i < mn) mn = $i}
	                  printf "%d %d %d %s %s", mx, mn, $NF, c, a; for (i = 1; i <= NF; i++) printf " %d", $i; print ""}'
}
accepted() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.0f" % d["acked_per_s"])' "$tmp/lg.json" 2>/dev/null || echo "?"
}
# best OLD NEW: the series line with the lower max RSS
best() {
	if [ -z "$1" ] || [ "${2%% *}" -lt "${1%% *}" ]; then echo "$2"; else echo "$1"; fi
}
# row NAME RATE LINE: one row of the load table
row() {
	echo "$3" | awk -v b="$1" -v r="$2" '{printf "| %s | %s | %s | %s | %s | %s | %s |", b, r, $5, $1, $2, $3, $4; for (i = 6; i <= NF; i++) printf " %s", $i; print " |"}'
}

rows=$(idle current "$build/otflow")
base_rows=""
[ -n "${MEM_BASE_BIN:-}" ] && [ -x "$MEM_BASE_BIN" ] && base_rows=$(idle baseline "$MEM_BASE_BIN")
have_base=""
[ -n "$base_rows" ] && have_base=1
runs=${MEM_RUNS:-$([ -n "$have_base" ] && echo 3 || echo 1)}
load="" over="" bload="" bover=""
i=0
while [ $i -lt "$runs" ]; do
	load=$(best "$load" "$(series "$build/otflow" 100000 10)")
	[ -n "$have_base" ] && bload=$(best "$bload" "$(series "$MEM_BASE_BIN" 100000 10)")
	over=$(best "$over" "$(series "$build/otflow" 1000000 10)")
	[ -n "$have_base" ] && bover=$(best "$bover" "$(series "$MEM_BASE_BIN" 1000000 10)")
	i=$((i + 1))
done

out=$(mktemp)
{
	echo "## Memory (idle RSS, RSS under load)"
	echo
	bench_machine
	echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared)"
	echo "- command: \`make bench\` (runs \`bench/suite-memory.sh $(basename "$build")\`)"
	echo "- config: OTLP receiver (gRPC and HTTP on loopback) -> batch (defaults) -> nop, logs"
	echo "  pipeline, \`runtime.workers: 2\`, self-metrics off; the $(basename "$build") build."
	echo "- idle: 2 s after the HTTP port first answers; VmRSS, RssAnon and RssFile from"
	echo "  /proc/PID/status, Pss and Private_Dirty from /proc/PID/smaps_rollup (kB). The"
	echo "  baseline row (when present) is the same config on a binary built from the commit"
	echo "  before this suite's changes, measured in the same run. Target: RSS <= 6 MiB."
	echo
	echo "| binary | VmRSS | RssAnon | RssFile | Pss | Private_Dirty | threads |"
	echo "|---|---|---|---|---|---|---|"
	echo "$rows"
	[ -n "$base_rows" ] && echo "$base_rows"
	echo
	for f in current baseline; do
		[ -f "$tmp/$f.smaps" ] || continue
		echo "Largest mappings by Rss, $f (kB; anonymous memory and thread stacks are \`[anonymous]\`):"
		echo
		echo "| Rss | Private_Dirty | mapping |"
		echo "|---|---|---|"
		awk '{printf "| %s | %s | %s |\n", $1, $2, $3}' "$tmp/$f.smaps"
		echo
	done
	echo "- under load: \`otflow-loadgen --protocol grpc --rate R --batch 1000 --connections 4"
	echo "  --duration 10\` (R = 100000, then 1000000: 10x), VmRSS sampled each second (kB);"
	echo "  CPU = otflow's utime + stime over the run (s). Best (lowest max RSS) of $runs run(s)"
	echo "  per binary and rate; with a baseline, its runs alternate with the current build's."
	echo "  Targets: <= 12 MiB at 100k logs/s, flat under 10x overload."
	echo
	echo "| binary | offered logs/s | accepted logs/s | max RSS | min RSS | last RSS | CPU s | RSS each second |"
	echo "|---|---|---|---|---|---|---|---|"
	row current 100000 "$load"
	[ -n "$have_base" ] && row baseline 100000 "$bload"
	row current 1000000 "$over"
	[ -n "$have_base" ] && row baseline 1000000 "$bover"
	echo
	[ -f bench/memory_notes.md ] && cat bench/memory_notes.md
} > "$out"
bench_section memory "$out"
rm -f "$out"
echo "bench: memory figures written to docs/benchmarks.md"
