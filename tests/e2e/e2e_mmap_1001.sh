#!/bin/bash
# End to end with format 1001 (metrics aggregated in the file's cells): mmap_agg_producer
# (libotmmap) -> file -> otflow (otlp_mmap receiver) -> file exporter.
# 1. cumulative: the exported sums, gauge and histogram equal what the producer recorded, with
#    start times from the cells; the producer is then SIGKILLed and later exports still carry
#    the same last values (the file outlives its writer).
# 2. delta: the exported differences add up to the producer's totals.
# 3. libotmmap's C example app with --aggregate: the metric values it reports come out.
set -u
pass=0
fail=0
tmp=$(mktemp -d)
pid=""
ppid_=""
PROD="$OTF_BUILD_DIR/sdk/mmap_agg_producer"
APP="$OTF_BUILD_DIR/sdk/example_app"
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	[ -n "$ppid_" ] && kill -9 "$ppid_" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
ok() { pass=$((pass + 1)); }
bad() {
	echo "FAIL: $*"
	fail=$((fail + 1))
}
if [ ! -x "$PROD" ] || [ ! -x "$APP" ]; then
	echo "FAIL: $PROD or $APP not built"
	echo "0 passed, 1 failed"
	exit 1
fi

start_otflow() { # file temporality out
	cat > "$tmp/c.yaml" <<Y
receivers:
  otlp_mmap:
    path: $1
    scan_interval: 50ms
    metrics: {export_interval: 200ms, temporality: $2}
exporters:
  file: {path: $3, flush_interval: 50ms}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp_mmap], exporters: [file]}
    logs: {receivers: [otlp_mmap], exporters: [file]}
    metrics: {receivers: [otlp_mmap], exporters: [file]}
runtime: {workers: 2}
Y
	"$OTF_BIN" --config "$tmp/c.yaml" >> "$tmp/otflow.log" 2>&1 &
	pid=$!
}
stop_otflow() {
	kill -TERM "$pid"
	wait "$pid"
	local rc=$?
	pid=""
	[ "$rc" -eq 0 ] && ok || bad "otflow exited $rc"
}

# compare EXPECTED OUT MODE [SKIP_LINES]: MODE cumulative = the last point of each series equals
# the expectation; delta = the points of each series add up to it.
compare() {
	python3 - "$@" <<'PY'
import json, sys
exp = json.load(open(sys.argv[1]))
mode = sys.argv[3]
skip = int(sys.argv[4]) if len(sys.argv) > 4 else 0
def val(v):
    for k in ("stringValue", "boolValue", "doubleValue"):
        if k in v:
            return v[k]
    return int(v["intValue"]) if "intValue" in v else None
last, acc, meta, res = {}, {}, {}, None
for line in open(sys.argv[2]).readlines()[skip:]:
    r = json.loads(line)
    for rm in r.get("resourceMetrics", []):
        res = {a["key"]: val(a["value"]) for a in rm["resource"].get("attributes", [])}
        for sm in rm["scopeMetrics"]:
            for m in sm["metrics"]:
                for kind in ("sum", "gauge", "histogram"):
                    if kind not in m:
                        continue
                    meta[m["name"]] = (kind, m[kind].get("aggregationTemporality"),
                                       m[kind].get("isMonotonic", False), sm["scope"], m.get("unit"))
                    for p in m[kind]["dataPoints"]:
                        attrs = ",".join(str(val(a["value"])) for a in p.get("attributes", []))
                        key = m["name"] + "|" + attrs
                        last[key] = p
                        a = acc.setdefault(key, {"v": 0, "count": 0, "sum": 0.0, "b": None})
                        if kind == "histogram":
                            a["count"] += int(p["count"])
                            a["sum"] += p["sum"]
                            b = [int(x) for x in p["bucketCounts"]]
                            a["b"] = b if a["b"] is None else [x + y for x, y in zip(a["b"], b)]
                        else:
                            a["v"] += int(p["asInt"]) if "asInt" in p else p.get("asDouble", 0)
bad = []
want_t = 1 if mode == "delta" else 2
for key, want in list(exp["sums"].items()) + list(exp["gauges"].items()):
    p = last.get(key)
    if not p:
        bad.append("%s missing" % key)
        continue
    gauge = key in exp["gauges"]
    got = acc[key]["v"] if mode == "delta" and not gauge else (
        int(p["asInt"]) if "asInt" in p else p.get("asDouble"))
    if abs(got - want) > 1e-9:
        bad.append("%s: %s, want %s" % (key, got, want))
    kind, temp, mono, scope, unit = meta[key.split("|")[0]]
    if gauge:
        if kind != "gauge" or int(p["timeUnixNano"]) == 0:
            bad.append("%s: %s %s" % (key, kind, p))
    else:
        start, t = int(p["startTimeUnixNano"]), int(p["timeUnixNano"])
        if kind != "sum" or temp != want_t or not 0 < start <= t:
            bad.append("%s: kind %s temporality %s times %d %d" % (key, kind, temp, start, t))
        if mono != (key.split("|")[0] != "agg.active"):
            bad.append("%s: monotonic %s" % (key, mono))
    if scope.get("name") != "agg.test" or scope.get("version") != "2.0":
        bad.append("scope %s" % scope)
h = exp["histogram"]
key = h["name"] + "|"
p = last.get(key)
if not p:
    bad.append("histogram missing")
else:
    if mode == "delta":
        got = (acc[key]["count"], acc[key]["sum"], acc[key]["b"])
    else:
        got = (int(p["count"]), p["sum"], [int(x) for x in p["bucketCounts"]])
        if (p.get("min"), p.get("max")) != (h["min"], h["max"]):
            bad.append("histogram min/max %s %s" % (p.get("min"), p.get("max")))
    if got != (h["count"], h["sum"], h["bucket_counts"]) or p["explicitBounds"] != h["bounds"]:
        bad.append("histogram %s, want %s" % (got, h))
    if meta[h["name"]][1] != want_t or meta[h["name"]][4] != "ms":
        bad.append("histogram meta %s" % (meta[h["name"]],))
if res != {"service.name": "agg-producer"}:
    bad.append("resource %s" % res)
for b in bad[:10]:
    print(b)
sys.exit(1 if bad else 0)
PY
}
wait_match() { # expected out mode [skip]
	local i
	for i in $(seq 1 50); do
		sleep 0.2
		compare "$@" > "$tmp/cmp.txt" 2>&1 && return 0
	done
	return 1
}

# 1. cumulative, then SIGKILL of the producer
start_otflow "$tmp/a.mmap" cumulative "$tmp/a.jsonl"
"$PROD" "$tmp/a.mmap" --hold --phases 3 > "$tmp/a.json" &
ppid_=$!
for _ in $(seq 1 50); do
	[ -s "$tmp/a.json" ] && break
	sleep 0.1
done
if wait_match "$tmp/a.json" "$tmp/a.jsonl" cumulative; then ok; else bad "cumulative: $(head -5 "$tmp/cmp.txt")"; fi
kill -9 "$ppid_"
wait "$ppid_" 2>/dev/null
ppid_=""
sleep 0.3
n=$(wc -l < "$tmp/a.jsonl")
# only exports made after the producer died count here
got_more=1
for _ in $(seq 1 50); do
	sleep 0.2
	[ "$(wc -l < "$tmp/a.jsonl")" -gt "$n" ] && got_more=0 && break
done
if [ "$got_more" -eq 0 ] && wait_match "$tmp/a.json" "$tmp/a.jsonl" cumulative "$n"; then ok; else
	bad "after SIGKILL: $(head -5 "$tmp/cmp.txt")"
fi
stop_otflow

# 2. delta: the reader keeps the last export and sends differences
start_otflow "$tmp/d.mmap" delta "$tmp/d.jsonl"
"$PROD" "$tmp/d.mmap" --phases 4 > "$tmp/d.json" || bad "producer failed"
if wait_match "$tmp/d.json" "$tmp/d.jsonl" delta; then ok; else bad "delta: $(head -5 "$tmp/cmp.txt")"; fi
# several intervals were exported (the producer ran for about 900 ms)
[ "$(grep -c agg.requests "$tmp/d.jsonl")" -ge 2 ] && ok || bad "delta: a single export"
stop_otflow

# 3. the C example app writing format 1001: its metric values come out
start_otflow "$tmp/app.mmap" cumulative "$tmp/app.jsonl"
"$APP" "$tmp/app.mmap" --count 20 --aggregate > "$tmp/app.json" || bad "example_app failed"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["format"] == 1001' "$tmp/app.json" || bad "example_app did not write format 1001"
cmp_app() {
	python3 - "$tmp/app.json" "$tmp/app.jsonl" <<'PY'
import json, sys
exp = json.load(open(sys.argv[1]))
def val(v):
    for k in ("stringValue", "boolValue", "doubleValue"):
        if k in v:
            return v[k]
    return int(v["intValue"]) if "intValue" in v else None
points = {}
for line in open(sys.argv[2]):
    r = json.loads(line)
    for rm in r.get("resourceMetrics", []):
        for sm in rm["scopeMetrics"]:
            for m in sm["metrics"]:
                for kind in ("sum", "gauge", "histogram"):
                    for p in m.get(kind, {}).get("dataPoints", []):
                        key = (m["name"], json.dumps(sorted((a["key"], val(a["value"])) for a in p.get("attributes", []))))
                        points[key] = p
bad = []
for m in exp["metrics"]:
    if m["type"] == "histogram":
        ps = [p for (n, _), p in points.items() if n == m["name"]]
        t = m["total"]
        got = (sum(int(p["count"]) for p in ps), sum(p["sum"] for p in ps),
               [sum(int(p["bucketCounts"][i]) for p in ps) for i in range(len(m["bounds"]) + 1)] if ps else [])
        if got != (t["count"], t["sum"], t["bucket_counts"]):
            bad.append("histogram %s: %s vs %s" % (m["name"], got, t))
        continue
    for e in m["points"]:
        p = points.get((m["name"], json.dumps(sorted(e["attributes"].items()))))
        want = e.get("sum", e.get("value"))
        v = (int(p["asInt"]) if "asInt" in p else p.get("asDouble")) if p else None
        if v != want:
            bad.append("%s %s: %s, want %s" % (m["name"], e["attributes"], v, want))
for b in bad[:10]:
    print(b)
sys.exit(1 if bad else 0)
PY
}
res=1
for _ in $(seq 1 50); do
	sleep 0.2
	cmp_app > "$tmp/cmp.txt" 2>&1 && res=0 && break
done
[ "$res" -eq 0 ] && ok || bad "example_app --aggregate: $(head -5 "$tmp/cmp.txt")"
stop_otflow
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
