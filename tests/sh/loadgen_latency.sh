#!/bin/sh
# otflow-loadgen's latency at a fixed rate counts from each request's
# scheduled send time (no coordinated omission). A real otflow (nop
# exporter) is stopped (SIGSTOP) for 1 s while the load generator sends 20
# requests/s over one connection: the ~20 requests due during the stall
# wait for it, so at least 10% of the latencies are >= 300 ms. Measured
# from when the client got round to sending, only the one request caught
# in the stall would be slow and p90 would stay at a few ms. Over gRPC and
# HTTP; every latency is in --latency-out, ascending. Over gRPC --trace-out
# has each request's due, sent and done times on CLOCK_MONOTONIC (the
# stall shows as requests sent long after they were due), and the summary
# has the client's own CPU and run-queue wait (schedstat).
set -u
pass=0
fail=0
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill -CONT "$pid" 2>/dev/null; [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
LG="$(dirname "$OTF_BIN")/otflow-loadgen"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
GPORT=$(free_port)
MPORT=$(free_port)
cat >"$tmp/c.yaml" <<Y
receivers:
  otlp:
    wait_for_result: true
    protocols: {http: {endpoint: "127.0.0.1:$PORT"}, grpc: {endpoint: "127.0.0.1:$GPORT"}}
exporters:
  nop:
service:
  admin: {endpoint: ""}
  telemetry: {metrics: {address: "127.0.0.1:$MPORT"}}
  pipelines:
    logs: {receivers: [otlp], exporters: [nop]}
runtime: {workers: 1}
Y
"$OTF_BIN" --config "$tmp/c.yaml" >"$tmp/log" 2>&1 &
pid=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$MPORT/metrics"; do
	i=$((i + 1))
	[ $i -gt 100 ] && {
		cat "$tmp/log"
		exit 1
	}
	sleep 0.1
done

accepted() {
	curl -s "http://127.0.0.1:$MPORT/metrics" |
		awk '/^otelcol_receiver_accepted_log_records\{/ {print $2}'
}

# stall PROTO ENDPOINT: 3 s at 200 logs/s (10 per request), otflow stopped
# for 1 s once the first requests were acknowledged.
stall() {
	before=$(accepted)
	trace=""
	[ "$1" = grpc ] && trace="--trace-out $tmp/$1.trace"
	python3 -c 'import time; print(time.clock_gettime(time.CLOCK_MONOTONIC))' >"$tmp/$1.t"
	# shellcheck disable=SC2086
	"$LG" --protocol "$1" --endpoint "$2" --signal logs --rate 200 --batch 10 --duration 3 \
		--connections 1 --json --latency-out "$tmp/$1.lat" $trace >"$tmp/$1.json" &
	lg=$!
	i=0
	while [ "$(accepted)" = "$before" ]; do
		i=$((i + 1))
		[ $i -gt 200 ] && {
			bad "$1: no request acknowledged within 10 s"
			break
		}
		sleep 0.05
	done
	kill -STOP "$pid"
	sleep 1 # the stall itself: what the test measures
	kill -CONT "$pid"
	wait "$lg" || bad "$1: loadgen failed: $(cat "$tmp/$1.json")"
	python3 - "$1" "$tmp/$1.json" "$tmp/$1.lat" "$tmp/$1.trace" "$tmp/$1.t" <<'PY'
import json, os, sys
name, summary, latfile = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
tracefile, started = sys.argv[4], float(open(sys.argv[5]).read())
lat = [float(x) for x in open(latfile)]
l = summary["latency_ms"]
ok = True
def check(cond, what):
    global ok
    if not cond:
        print(f"FAIL: {name}: {what} (summary {summary})")
        ok = False
check(summary["items_acked"] == summary["items_sent"] > 0, "every request acknowledged")
check(len(lat) == summary["requests"], f"{len(lat)} latencies for {summary['requests']} requests")
check(lat == sorted(lat), "latencies ascending")
check(l["p90"] >= 300, f"p90 {l['p90']} ms < 300 ms: the requests queued behind the 1 s stall are not counted from their scheduled time")
check(l["max"] >= 900, f"max {l['max']} ms < 900 ms: the stall itself is missing")
check(l["p50"] <= l["p90"] <= l["p99"] <= l["p999"] <= l["max"], "percentiles ordered")
check(abs(l["max"] - lat[-1]) < 0.01, "max is the largest latency written")
sc = summary.get("sched", {})
check(sc.get("cpu_us", 0) > 0 and sc.get("slices", 0) > 0 and sc.get("runq_us", -1) >= 0,
      f"client schedstat in the summary: {sc}")
if name == "grpc":
    lines = open(tracefile).read().splitlines()
    check(lines and lines[0].startswith("# t0 "), "trace starts with # t0")
    t0 = float(lines[0].split()[2]) if lines and lines[0].startswith("# t0 ") else 0
    check(started <= t0 <= started + 10, f"t0 {t0} is CLOCK_MONOTONIC near the start {started}")
    rows = [tuple(map(float, x.split())) for x in lines[1:]]
    check(len(rows) == summary["requests"], f"{len(rows)} trace lines for {summary['requests']} requests")
    check(all(u <= s_ <= d for u, s_, d in rows), "due <= sent <= done on every line")
    check([u for u, _, _ in rows] == sorted(u for u, _, _ in rows), "one connection: due ascending")
    check(all(abs(a - b) < 0.01 for a, b in zip(sorted(d - u for u, _, d in rows), lat)),
          "done - due are the latencies")
    # the 1 s stall: requests due during it were sent only once the call
    # caught in it came back
    late = sum(1 for u, s_, _ in rows if s_ - u >= 300)
    check(late >= len(rows) // 10, f"{late} of {len(rows)} requests sent >= 300 ms after due")
sys.exit(0 if ok else 1)
PY
	if [ $? -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}
stall grpc "127.0.0.1:$GPORT"
stall http "127.0.0.1:$PORT"

kill -TERM "$pid"
wait "$pid" && pass=$((pass + 1)) || bad "otflow did not exit 0"
pid=""
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
