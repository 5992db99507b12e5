#!/bin/bash
# End to end with libotmmap's Python example app (sdk/examples/example_app.py, ctypes binding
# sdk/python/otmm, the shared library via OTMM_LIBRARY): example_app.py -> file -> otflow
# (otlp_mmap receiver) -> file exporter. The spans, log records, resource, scope and metric
# values otflow exports equal the app's JSON description, for format 1 (measurements on the
# ring) and format 1001 (--aggregate: metrics in the file's cells).
set -u
pass=0
fail=0
tmp=$(mktemp -d)
pid=""
LIB="$OTF_BUILD_DIR/sdk/libotmmap.so"
APP="$OTF_SOURCE_DIR/sdk/examples/example_app.py"
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
ok() { pass=$((pass + 1)); }
bad() {
	echo "FAIL: $*"
	fail=$((fail + 1))
}
# A sanitizer-instrumented libotmmap.so cannot be loaded into python (the runtime must come
# first); the uninstrumented build runs this test.
if grep -q '^OTF_SANITIZE:BOOL=ON' "$OTF_BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
	echo "skipped: sanitizer build (python cannot load an instrumented libotmmap.so)"
	echo "0 passed, 0 failed"
	exit 0
fi
if [ ! -f "$LIB" ] || ! command -v python3 > /dev/null; then
	echo "FAIL: $LIB not built or no python3"
	echo "0 passed, 1 failed"
	exit 1
fi

compare() {
	python3 - "$1" "$2" <<'PY'
import json, sys
exp = json.load(open(sys.argv[1]))
def val(v):
    for k in ("stringValue", "boolValue", "doubleValue"):
        if k in v:
            return v[k]
    return int(v["intValue"]) if "intValue" in v else None
spans, logs, points, mres = {}, [], {}, []
for line in open(sys.argv[2]):
    r = json.loads(line)
    for rs in r.get("resourceSpans", []):
        res = {a["key"]: val(a["value"]) for a in rs["resource"].get("attributes", [])}
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                spans[s["spanId"]] = (s, res, ss["scope"])
    for rl in r.get("resourceLogs", []):
        res = {a["key"]: val(a["value"]) for a in rl["resource"].get("attributes", [])}
        for sl in rl["scopeLogs"]:
            logs += [(l, res, sl["scope"]) for l in sl["logRecords"]]
    for rm in r.get("resourceMetrics", []):
        res = {a["key"]: val(a["value"]) for a in rm["resource"].get("attributes", [])}
        for sm in rm["scopeMetrics"]:
            mres.append((res, sm["scope"]))
            for m in sm["metrics"]:
                for kind in ("sum", "gauge", "histogram"):
                    for p in m.get(kind, {}).get("dataPoints", []):
                        key = (m["name"], json.dumps(sorted((a["key"], val(a["value"])) for a in p.get("attributes", []))))
                        points[key] = (p, m.get("unit"))  # cumulative: the last export wins
bad = []
want_scope = (exp["scope"]["name"], exp["scope"]["version"])
def check_rs(what, res, scope):
    if res != exp["resource"] or (scope.get("name"), scope.get("version")) != want_scope:
        bad.append("%s resource/scope differ: %s %s" % (what, res, scope))
for e in exp["spans"]:
    got = spans.get(e["span_id"])
    if not got:
        bad.append("span %s missing" % e["span_id"])
        continue
    s, res, scope = got
    attrs = {a["key"]: val(a["value"]) for a in s.get("attributes", [])}
    if (s["traceId"], s["name"], s["kind"], int(s["startTimeUnixNano"]), int(s["endTimeUnixNano"]),
            s.get("parentSpanId", ""), attrs, s.get("status", {}).get("code", 0),
            s.get("status", {}).get("message", ""),
            [(l["traceId"], l["spanId"]) for l in s.get("links", [])]) != \
            (e["trace_id"], e["name"], e["kind"], e["start_time_unix_nano"], e["end_time_unix_nano"],
             e["parent_span_id"], e["attributes"], e["status"]["code"], e["status"]["message"],
             [(l["trace_id"], l["span_id"]) for l in e["links"]]):
        bad.append("span differs: %s vs %s" % (json.dumps(s), json.dumps(e)))
    check_rs("span", res, scope)
if len(spans) != len(exp["spans"]):
    bad.append("%d spans exported, %d written" % (len(spans), len(exp["spans"])))
got_logs = {(l.get("spanId"), int(l["timeUnixNano"])): (l, res, sc) for l, res, sc in logs}
for e in exp["logs"]:
    got = got_logs.get((e["span_id"], e["time_unix_nano"]))
    if not got:
        bad.append("log %s missing" % e)
        continue
    l, res, scope = got
    attrs = {a["key"]: val(a["value"]) for a in l.get("attributes", [])}
    if (l.get("traceId"), l.get("severityNumber", 0), l.get("severityText", ""), l.get("eventName", ""),
            l.get("body", {}).get("stringValue"), attrs) != \
            (e["trace_id"], e["severity_number"], e.get("severity_text", ""), e.get("event_name", ""),
             e.get("body"), e["attributes"]):
        bad.append("log differs: %s vs %s" % (json.dumps(l), json.dumps(e)))
    check_rs("log", res, scope)
if len(logs) != len(exp["logs"]):
    bad.append("%d logs exported, %d written" % (len(logs), len(exp["logs"])))
for res, scope in mres:
    check_rs("metric", res, scope)
for m in exp["metrics"]:
    if m["type"] == "histogram":
        ps = [p for (n, _), (p, u) in points.items() if n == m["name"]]
        t = m["total"]
        got = (sum(int(p["count"]) for p in ps), sum(p["sum"] for p in ps),
               [sum(int(p["bucketCounts"][i]) for p in ps) for i in range(len(m["bounds"]) + 1)] if ps else [],
               ps[0]["explicitBounds"] if ps else None)
        if abs(got[1] - t["sum"]) < 1e-9:
            got = (got[0], t["sum"]) + got[2:]
        if got != (t["count"], t["sum"], t["bucket_counts"], m["bounds"]):
            bad.append("histogram %s: %s vs %s" % (m["name"], got, m))
        continue
    for e in m["points"]:
        got = points.get((m["name"], json.dumps(sorted(e["attributes"].items()))))
        want = e.get("sum", e.get("value"))
        p, unit = got if got else ({}, None)
        v = (int(p["asInt"]) if "asInt" in p else p.get("asDouble")) if got else None
        if v != want or unit != m["unit"]:
            bad.append("%s %s: %s %s, want %s %s" % (m["name"], e["attributes"], v, unit, want, m["unit"]))
drops = exp.get("dropped") or []
if any(drops.values() if isinstance(drops, dict) else drops):
    bad.append("the app dropped records: %s" % exp["dropped"])
for b in bad[:10]:
    print(b)
sys.exit(1 if bad else 0)
PY
}

for mode in v1 aggregate; do
	flag=""
	[ "$mode" = aggregate ] && flag="--aggregate"
	cat > "$tmp/c.yaml" <<Y
receivers:
  otlp_mmap:
    path: $tmp/$mode.mmap
    scan_interval: 50ms
    metrics: {export_interval: 200ms, temporality: cumulative}
exporters:
  file: {path: $tmp/$mode.jsonl, flush_interval: 50ms}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp_mmap], exporters: [file]}
    logs: {receivers: [otlp_mmap], exporters: [file]}
    metrics: {receivers: [otlp_mmap], exporters: [file]}
runtime: {workers: 2}
Y
	"$OTF_BIN" --config "$tmp/c.yaml" > "$tmp/otflow-$mode.log" 2>&1 &
	pid=$!
	OTMM_LIBRARY="$LIB" PYTHONDONTWRITEBYTECODE=1 python3 "$APP" "$tmp/$mode.mmap" --count 40 $flag \
		> "$tmp/$mode.json" || bad "$mode: example_app.py failed"
	want_fmt=1
	[ "$mode" = aggregate ] && want_fmt=1001
	python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["format"] == int(sys.argv[2])' \
		"$tmp/$mode.json" "$want_fmt" && ok || bad "$mode: file format is not $want_fmt"
	res=1
	for _ in $(seq 1 50); do
		sleep 0.2
		compare "$tmp/$mode.json" "$tmp/$mode.jsonl" > "$tmp/cmp.txt" 2>&1 && res=0 && break
	done
	[ "$res" -eq 0 ] && ok || bad "$mode: $(head -5 "$tmp/cmp.txt")"
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	pid=""
	[ "$rc" -eq 0 ] && ok || bad "$mode: otflow exited $rc"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
