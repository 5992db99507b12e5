#!/bin/sh
# otflow-loadgen's latency at a fixed rate counts from each request's
# scheduled send time (no coordinated omission). A real otflow (nop
# exporter) is stopped (SIGSTOP) for 1 s while the load generator sends 20
# requests/s over one connection: the ~20 requests due during the stall
# wait for it, so at least 10% of the latencies are >= 300 ms. Measured
# from when the client got round to sending, only the one request caught
# in the stall would be slow and p90 would stay at a few ms. Over gRPC and
# HTTP; every latency is in --latency-out, ascending.
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
	"$LG" --protocol "$1" --endpoint "$2" --signal logs --rate 200 --batch 10 --duration 3 \
		--connections 1 --json --latency-out "$tmp/$1.lat" >"$tmp/$1.json" &
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
	python3 - "$1" "$tmp/$1.json" "$tmp/$1.lat" <<'PY'
import json, sys
name, summary, latfile = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
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
