#!/bin/bash
# otlp_mmap receiver with files written as the original project's SDKs
# write them (tests/e2e/mmap_orig_writer.py: the Java SDK's field order and
# definitions, no flock), one directory, three files:
#  - Java counters and up-down counters declared CUMULATIVE carry
#    increments: 5 x add(1) exports 5, add(3) + add(-1) exports 2; an
#    observable counter (same declaration, no span context) keeps its last
#    observation (25); the exp histogram counts 3 values summing to 7;
#  - a writer descheduled 300 ms between claim and publish (no flock) loses
#    nothing: the hole is waited for hole_timeout, not skipped at once;
#  - a file with 2 holes, 1 undecodable slot, 3 producer drops, a span that
#    never ends and an epoch change: the self-metrics on the Prometheus
#    endpoint say exactly that, and a warning names the file.
source "$(dirname "$0")/lib.sh"
W="$OTF_SOURCE_DIR/tests/e2e/mmap_orig_writer.py"
D="$TMP/mm"
mkdir -p "$D"
MPORT=$(free_port)
cat >"$TMP/c.yaml" <<Y
receivers:
  otlp_mmap:
    path: $D
    hole_timeout: 1500ms
    scan_interval: 100ms
    metrics: {export_interval: 200ms}
exporters:
  file: {path: "\${env:OTF_E2E_OUT}", flush_interval: 50ms}
extensions:
  health_check: {endpoint: "127.0.0.1:\${env:OTF_E2E_HEALTH_PORT}"}
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: basic
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: $MPORT}}}
  pipelines:
    traces: {receivers: [otlp_mmap], exporters: [file]}
    logs: {receivers: [otlp_mmap], exporters: [file]}
    metrics: {receivers: [otlp_mmap], exporters: [file]}
runtime: {workers: 1}
Y
cat >"$TMP/q.py" <<'P'
import json, sys
def lines(path):
    try:
        with open(path) as f:
            for l in f:
                if l.strip():
                    yield json.loads(l)
    except (OSError, ValueError):
        return
def bodies(path):
    out = []
    for r in lines(path):
        for rl in r.get("resourceLogs", []):
            for sl in rl.get("scopeLogs", []):
                for lr in sl.get("logRecords", []):
                    out.append(lr.get("body", {}).get("stringValue"))
    return out
def metric(path, name):
    last = None
    for r in lines(path):
        for rm in r.get("resourceMetrics", []):
            for sm in rm.get("scopeMetrics", []):
                for m in sm.get("metrics", []):
                    if m.get("name") == name:
                        last = m
    return last
cmd, path = sys.argv[1], sys.argv[2]
if cmd == "logs":  # every named body exactly once
    b = bodies(path)
    sys.exit(0 if all(b.count(x) == 1 for x in sys.argv[3:]) else 1)
if cmd == "count":
    print(len(bodies(path)))
if cmd == "metric":  # name -> "kind value"
    m = metric(path, sys.argv[3])
    if not m:
        print("none")
    elif "sum" in m:
        p = m["sum"]["dataPoints"][0]
        print("sum", p.get("asInt", p.get("asDouble")))
    elif "exponentialHistogram" in m:
        p = m["exponentialHistogram"]["dataPoints"][0]
        print("exphist", p.get("count"), p.get("sum"))
    else:
        print("other")
P
q() { python3 "$TMP/q.py" "$@"; }
# await WHAT CMD...: retries CMD for 20 s
await() {
	local what=$1 i=0
	shift
	while [ $i -lt 200 ]; do
		"$@" && { ok "$what"; return 0; }
		sleep 0.1
		i=$((i + 1))
	done
	bad "$what (not within 20 s)"
	return 1
}
metric_is() { [ "$(q metric "$OTF_OUT" "$1")" = "$2" ]; }
scrape() { curl -s -m 2 "http://127.0.0.1:$MPORT/metrics"; }
counter_is() { # NAME VALUE
	[ "$(scrape | awk -v n="otelcol_receiver_otlp_mmap_$1" '$1 == n "{receiver=\"otlp_mmap\"}" {print $2}')" = "$2" ]
}

otf_start orig "$TMP/c.yaml" || { bad "otflow did not start"; finish; }

python3 "$W" java-metrics "$D/java-metrics.mm" || bad "writer java-metrics"
await "5 x add(1) on a Java CUMULATIVE counter exports 5" metric_is orig.requests "sum 5"
await "up-down add(3), add(-1) exports 2" metric_is orig.queue "sum 2"
await "observable counter keeps its last observation" metric_is orig.cpu_time "sum 25"
await "exp histogram: 3 values, sum 7" metric_is orig.latency "exphist 3 7"

python3 "$W" stall "$D/stall.mm" --logs 6 --delay 0.3 || bad "writer stall"
await "a writer descheduled 300 ms between claim and publish loses nothing" \
	q logs "$OTF_OUT" stall-0 stall-1 stall-2 stall-3 stall-4 stall-5

python3 "$W" loss "$D/loss.mm" --holes 2 --undecodable 1 --drops 3 --wait-file "$TMP/go" &
wpid=$!
track $wpid
await "records after the holes arrive" q logs "$OTF_OUT" after-0 after-1 after-2
touch "$TMP/go"
await "the new producer's record arrives" q logs "$OTF_OUT" epoch-2
wait_pid $wpid 20 || bad "writer loss exited $?"
await "otelcol_receiver_otlp_mmap_holes = 2 (none from the stalled writer)" counter_is holes 2
await "undecodable_records = 1" counter_is undecodable_records 1
await "producer_dropped_records = 3" counter_is producer_dropped_records 3
await "epoch_changes = 1" counter_is epoch_changes 1
await "incomplete_spans = 1" counter_is incomplete_spans 1
await "corrupt_files = 0" counter_is corrupt_files 0
grep -q "warn.*loss.mm: 3 dropped by the producer" "$OTF_LOG" &&
	ok "the first loss is a warning at once" || bad "no warning for the drops"
otf_stop
# The rest is summed into one line per 10 s, flushed at shutdown.
grep -q "warn.*loss.mm: .*2 hole(s) skipped, 1 undecodable record(s) skipped, 1 epoch change(s), 1 span(s) emitted incomplete" "$OTF_LOG" &&
	ok "one rate-limited warning sums the rest" || bad "no summary warning: $(grep warn "$OTF_LOG")"
finish
