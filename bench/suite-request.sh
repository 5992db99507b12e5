#!/bin/sh
# Per-request cost: otflow (1 worker pinned to core 0, nop exporter)
# receives OTLP logs (1000 per request, ~340 B each, no compression, 4
# connections) at 100 requests/s (100k logs/s) and at saturation, from
# otflow-loadgen and from independent clients on core 1: h2load (Debian's
# nghttp2-client) for gRPC and `h2load --h1` for OTLP/HTTP, sending the
# very bytes otflow-loadgen sends (otflow-loadgen --write-body). CPU is
# the sum over otflow's threads of /proc/PID/task/*/schedstat (ns on
# CPU) over the run, per log acknowledged; syscalls and wakeups per
# request come from `perf stat` tracepoints when perf may read them.
# Packets otflow's context sent (net:net_dev_xmit: its answers and the
# ACKs its reads send, with the loopback delivery of both on its core).
# BASE_OTFLOW=path (a baseline build's otflow) adds a side-by-side table:
# the 100 req/s rows, both binaries in turns (a fresh process each run),
# REQUEST_ROUNDS (3) runs each, best and median ratio; REQUEST_BASE_LABEL
# names the baseline in the text. Writes the
# "request" section of docs/benchmarks.md. Public tools only.
# usage: [BASE_OTFLOW=path] bench/suite-request.sh BUILD_DIR
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench}
. bench/lib.sh
OTF="$build/otflow"
LG="$build/otflow-loadgen"
DUR=${BENCH_REQUEST_DURATION:-5}
tmp=$(mktemp -d)
OPID=""
trap '[ -n "$OPID" ] && kill "$OPID" 2>/dev/null; rm -rf "$tmp"' EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'; }

GP=$(free_port)
HP=$(free_port)
cat > "$tmp/otflow.yaml" <<Y
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:$GP"}
      http: {endpoint: "127.0.0.1:$HP"}
exporters:
  nop:
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], exporters: [nop]}
runtime: {workers: 1}
Y
GPATH=/opentelemetry.proto.collector.logs.v1.LogsService/Export
"$LG" --protocol grpc --size 340 --write-body "$tmp/grpc.bin"
"$LG" --protocol http --size 340 --write-body "$tmp/http.bin"

# start_otf BIN: otflow on core 0, up once its HTTP port accepts.
start_otf() {
	taskset -c 0 "$1" --config "$tmp/otflow.yaml" > "$tmp/otflow.log" 2>&1 &
	OPID=$!
	i=0
	until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$HP),0.2)" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "bench: otflow did not start:" >&2; cat "$tmp/otflow.log" >&2; exit 1; }
		sleep 0.1
	done
}
stop_otf() {
	kill -TERM "$OPID"
	wait "$OPID" || true
	OPID=""
}
start_otf "$OTF"

HAVE_H2LOAD=0
command -v h2load > /dev/null 2>&1 && HAVE_H2LOAD=1
# The gRPC answers must be grpc-status 0, which h2load does not check
# (it counts HTTP statuses): one call through nghttp shows the trailer.
GRPC_OK="not checked (nghttp missing)"
if command -v nghttp > /dev/null 2>&1; then
	if nghttp -v -d "$tmp/grpc.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
		"http://127.0.0.1:$GP$GPATH" 2>&1 | grep -aq 'grpc-status: 0'; then
		GRPC_OK="grpc-status 0 (checked with nghttp on the same body)"
	else
		echo "bench: the gRPC body was not answered with grpc-status 0" >&2
		exit 1
	fi
fi

PERF_EV="syscalls:sys_enter_read,syscalls:sys_enter_readv,syscalls:sys_enter_write,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_ctl,syscalls:sys_enter_setsockopt,sched:sched_switch,net:net_dev_xmit"
HAVE_PERF=0
if command -v perf > /dev/null 2>&1 &&
	perf stat -e syscalls:sys_enter_read -p "$OPID" -o /dev/null -- sleep 0.1 > /dev/null 2>&1; then
	HAVE_PERF=1
fi

# client: loadgen | h2load; proto: grpc | http; rps: requests/s, 0 = saturation.
# Prints "acked/s ns_per_log reads readvs epoll_waits writes epoll_ctl setsockopt switches failed packets"
run() {
	client=$1 proto=$2 rps=$3
	[ "$proto" = grpc ] && port=$GP || port=$HP
	if [ "$client" = loadgen ]; then
		set -- taskset -c 1 "$LG" --protocol "$proto" --endpoint "127.0.0.1:$port" \
			--rate $((rps * 1000)) --duration "$DUR" --batch 1000 --connections 4 --size 340 --json
	else
		rate=""
		[ "$rps" -gt 0 ] && rate="--rps $((rps / 4))"
		if [ "$proto" = grpc ]; then
			set -- taskset -c 1 h2load -c 4 -m 1 $rate -D "$DUR" -d "$tmp/grpc.bin" \
				-H 'content-type: application/grpc' -H 'te: trailers' "http://127.0.0.1:$port$GPATH"
		else
			set -- taskset -c 1 h2load --h1 -c 4 $rate -D "$DUR" -d "$tmp/http.bin" \
				-H 'content-type: application/x-protobuf' "http://127.0.0.1:$port/v1/logs"
		fi
	fi
	"$@" > /dev/null 2>&1 || true # warm-up: connections, buffers, caches
	if [ $HAVE_PERF = 1 ]; then
		perf stat -x, -e "$PERF_EV" -p "$OPID" -o "$tmp/perf.txt" &
		ppid=$!
	fi
	c0=$(cpu_ns "$OPID")
	"$@" > "$tmp/client.out" 2>&1 || true
	c1=$(cpu_ns "$OPID")
	if [ $HAVE_PERF = 1 ]; then
		kill -INT "$ppid" 2>/dev/null || true
		wait "$ppid" 2>/dev/null || true
	else
		: > "$tmp/perf.txt"
	fi
	python3 - "$client" "$tmp/client.out" "$tmp/perf.txt" "$c0" "$c1" "$DUR" <<'PY'
import json, re, sys
client, out, perf, c0, c1, dur = sys.argv[1:]
text = open(out, errors="replace").read()
if client == "loadgen":
    r = json.loads(text.strip().splitlines()[-1])
    reqs, failed, rate = r["requests"] - r["items_failed"] // 1000, r["items_failed"], r["acked_per_s"]
else:
    m = re.search(r"(\d+) succeeded, (\d+) failed, (\d+) errored", text)
    reqs, failed = int(m.group(1)), int(m.group(2)) + int(m.group(3))
    s = re.search(r"finished in ([0-9.]+)(m?s)", text)
    secs = float(s.group(1)) / (1000 if s.group(2) == "ms" else 1)
    rate = reqs * 1000 / secs
    failed *= 1000
logs = max(reqs * 1000, 1)
counts = {}
for line in open(perf, errors="replace"):
    f = line.strip().split(",")
    if len(f) > 2 and f[0].isdigit():
        counts[f[2].split(":")[-1]] = int(f[0])
def per(name):
    return f"{counts[name] / max(reqs, 1):.1f}" if name in counts else "n/a"
print(f"{rate:.0f} {(int(c1) - int(c0)) / logs:.0f} {per('sys_enter_read')} {per('sys_enter_readv')} {per('sys_enter_epoll_wait')} "
      f"{per('sys_enter_write')} {per('sys_enter_epoll_ctl')} {per('sys_enter_setsockopt')} "
      f"{per('sched_switch')} {failed} {per('net_dev_xmit')}")
PY
}

out="$tmp/section.md"
{
	echo "## Per-request cost (OTLP logs at 100k logs/s and at saturation; independent clients)"
	echo
	bench_machine
	echo "- command: \`make bench\` (bench/suite-request.sh): otflow with 1 worker pinned to core 0,"
	echo "  nop exporter; clients on core 1 with 4 connections, 1000 logs of ~340 B per request"
	echo "  (338 kB), no compression, ${DUR} s per row after a warm-up run. h2load and \`h2load --h1\`"
	echo "  send the bytes otflow-loadgen sends (\`otflow-loadgen --write-body\`); gRPC answers:"
	echo "  $GRPC_OK."
	echo "- CPU: ns per log acknowledged, summed over otflow's threads from"
	echo "  /proc/PID/task/*/schedstat. Per request: syscalls and context switches of otflow from"
	echo "  \`perf stat\` tracepoints (n/a when perf may not read them)."
	echo
	echo "| client | protocol | offered | logs/s | CPU ns/log | read | readv | epoll_wait | write | epoll_ctl | setsockopt | ctx switches | packets sent | failed |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	for proto in grpc http; do
		for rps in 100 0; do
			[ "$rps" = 0 ] && offered=saturation || offered="100 req/s (100k logs/s)"
			for client in loadgen h2load; do
				[ "$client" = h2load ] && [ $HAVE_H2LOAD = 0 ] && continue
				name=otflow-loadgen
				[ "$client" = h2load ] && { [ "$proto" = grpc ] && name=h2load || name="h2load --h1"; }
				set -- $(run "$client" "$proto" "$rps")
				echo "| $name | $proto | $offered | $1 | $2 | $3 | $4 | $5 | $6 | $7 | $8 | $9 | ${11} | ${10} |"
			done
		done
	done
	echo
	stop_otf
	if [ -n "${BASE_OTFLOW:-}" ]; then
		rounds=${REQUEST_ROUNDS:-3}
		echo "Side by side at 100 req/s (base: ${REQUEST_BASE_LABEL:-the BASE_OTFLOW binary}; this: $OTF"
		echo "at $(git rev-parse --short HEAD 2>/dev/null || echo unknown)): the two binaries in turns, a fresh process per run, $rounds runs"
		echo "each; CPU ns/log of every run, the ratio this/base of the best and of the median runs;"
		echo "per request (medians): reads + readvs, epoll_waits, packets sent."
		echo
		echo "| client | protocol | base ns/log | this ns/log | best | median | base read+readv / epoll_wait / packets | this |"
		echo "|---|---|---|---|---|---|---|---|"
		for proto in grpc http; do
			for client in loadgen h2load; do
				[ "$client" = h2load ] && [ $HAVE_H2LOAD = 0 ] && continue
				name=otflow-loadgen
				[ "$client" = h2load ] && { [ "$proto" = grpc ] && name=h2load || name="h2load --h1"; }
				: > "$tmp/pairs"
				r=0
				while [ $r -lt "$rounds" ]; do
					for which in base this; do
						[ $which = base ] && bin=$BASE_OTFLOW || bin=$OTF
						start_otf "$bin"
						echo "$which $(run "$client" "$proto" 100)" >> "$tmp/pairs"
						stop_otf
					done
					r=$((r + 1))
				done
				python3 - "$name" "$proto" "$tmp/pairs" <<'PY'
import statistics, sys
name, proto, path = sys.argv[1:]
runs = {"base": [], "this": []}
for line in open(path):
    f = line.split()
    runs[f[0]].append(f[1:])
def num(x):
    try:
        return float(x)
    except ValueError:
        return float("nan")
def col(w, i):
    return [num(r[i]) for r in runs[w]]
def counts(w):
    rd = statistics.median([a + b for a, b in zip(col(w, 2), col(w, 3))])
    return f"{rd:.1f} / {statistics.median(col(w, 4)):.1f} / {statistics.median(col(w, 10)):.1f}"
b, t = col("base", 1), col("this", 1)
print(f"| {name} | {proto} | {' '.join(f'{x:.0f}' for x in b)} | {' '.join(f'{x:.0f}' for x in t)} | "
      f"{min(t) / min(b):.2f} | {statistics.median(t) / statistics.median(b):.2f} | {counts('base')} | {counts('this')} |")
PY
			done
		done
		echo
	fi
	cat bench/request_notes.md
} > "$out"
bench_section request "$out"
echo "bench: request figures written to docs/benchmarks.md"
