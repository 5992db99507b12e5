#!/bin/bash
# End to end with libotmmap's C example app: example_app -> file -> otflow
# (otlp_mmap receiver) -> file exporter; the spans, log records and metric
# values otflow exports equal what the app says it wrote (its JSON on
# stdout). The independent Python v1 reader (tests/e2e/mmap_v1_writer.py
# read) also reads a libotmmap file record for record.
set -u
pass=0
fail=0
tmp=$(mktemp -d)
pid=""
APP="$OTF_BUILD_DIR/sdk/example_app"
W="$OTF_SOURCE_DIR/tests/e2e/mmap_v1_writer.py"
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
if [ ! -x "$APP" ]; then
	echo "FAIL: $APP not built"
	echo "0 passed, 1 failed"
	exit 1
fi

cat > "$tmp/c.yaml" <<Y
receivers:
  otlp_mmap:
    path: $tmp/app.mmap
    scan_interval: 50ms
    metrics: {export_interval: 200ms, temporality: cumulative}
exporters:
  file: {path: $tmp/out.jsonl, flush_interval: 50ms}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp_mmap], exporters: [file]}
    logs: {receivers: [otlp_mmap], exporters: [file]}
    metrics: {receivers: [otlp_mmap], exporters: [file]}
runtime: {workers: 2}
Y
"$OTF_BIN" --config "$tmp/c.yaml" > "$tmp/otflow.log" 2>&1 &
pid=$!
"$APP" "$tmp/app.mmap" --count 50 > "$tmp/expected.json" || bad "example_app failed"

compare() {
	python3 - "$tmp/expected.json" "$tmp/out.jsonl" <<'PY'
import json, sys
exp = json.load(open(sys.argv[1]))
def val(v):
    for k in ("stringValue", "boolValue", "doubleValue"):
        if k in v:
            return v[k]
    return int(v["intValue"]) if "intValue" in v else None
spans, logs, points = {}, [], {}
for line in open(sys.argv[2]):
    r = json.loads(line)
    for rs in r.get("resourceSpans", []):
        res = {a["key"]: val(a["value"]) for a in rs["resource"].get("attributes", [])}
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                spans[s["spanId"]] = (s, res, ss["scope"])
    for rl in r.get("resourceLogs", []):
        for sl in rl["scopeLogs"]:
            logs += sl["logRecords"]
    for rm in r.get("resourceMetrics", []):
        for sm in rm["scopeMetrics"]:
            for m in sm["metrics"]:
                for kind in ("sum", "gauge", "histogram"):
                    for p in m.get(kind, {}).get("dataPoints", []):
                        key = (m["name"], json.dumps(sorted((a["key"], val(a["value"])) for a in p.get("attributes", []))))
                        points[key] = p  # cumulative: the last export wins
bad = []
for e in exp["spans"]:
    got = spans.get(e["span_id"])
    if not got:
        bad.append("span %s missing" % e["span_id"])
        continue
    s, res, scope = got
    attrs = {a["key"]: val(a["value"]) for a in s.get("attributes", [])}
    if (s["traceId"], s["name"], s["kind"], int(s["startTimeUnixNano"]), int(s["endTimeUnixNano"]),
            s.get("parentSpanId", ""), attrs, s.get("status", {}).get("code", 0),
            [(l["traceId"], l["spanId"]) for l in s.get("links", [])]) != \
            (e["trace_id"], e["name"], e["kind"], e["start_time_unix_nano"], e["end_time_unix_nano"],
             e["parent_span_id"], e["attributes"], e["status"]["code"],
             [(l["trace_id"], l["span_id"]) for l in e["links"]]):
        bad.append("span differs: %s vs %s" % (json.dumps(s), json.dumps(e)))
    if res != exp["resource"] or scope.get("name") != exp["scope"]["name"]:
        bad.append("resource/scope differ: %s %s" % (res, scope))
if len(spans) != len(exp["spans"]):
    bad.append("%d spans exported, %d written" % (len(spans), len(exp["spans"])))
got_logs = {(l.get("spanId"), int(l["timeUnixNano"])): l for l in logs}
for e in exp["logs"]:
    l = got_logs.get((e["span_id"], e["time_unix_nano"]))
    if not l:
        bad.append("log %s missing" % e)
        continue
    attrs = {a["key"]: val(a["value"]) for a in l.get("attributes", [])}
    if (l.get("severityNumber", 0), l.get("eventName", ""), l.get("body", {}).get("stringValue"), attrs) != \
            (e["severity_number"], e.get("event_name", ""), e.get("body"), e["attributes"]):
        bad.append("log differs: %s vs %s" % (json.dumps(l), json.dumps(e)))
if len(logs) != len(exp["logs"]):
    bad.append("%d logs exported, %d written" % (len(logs), len(exp["logs"])))
for m in exp["metrics"]:
    if m["type"] == "histogram":
        # "total" is over every attribute set: add up the series
        ps = [p for (n, _), p in points.items() if n == m["name"]]
        t = m["total"]
        got = (sum(int(p["count"]) for p in ps), sum(p["sum"] for p in ps),
               [sum(int(p["bucketCounts"][i]) for p in ps) for i in range(len(m["bounds"]) + 1)] if ps else [],
               ps[0]["explicitBounds"] if ps else None)
        if got != (t["count"], t["sum"], t["bucket_counts"], m["bounds"]):
            bad.append("histogram %s: %s vs %s" % (m["name"], got, m))
        continue
    for e in m["points"]:
        key = (m["name"], json.dumps(sorted(e["attributes"].items())))
        p = points.get(key)
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
	compare > "$tmp/cmp.txt" 2>&1 && res=0 && break
done
[ "$res" -eq 0 ] && ok || bad "example_app content: $(head -5 "$tmp/cmp.txt")"
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
[ "$rc" -eq 0 ] && ok || bad "otflow exited $rc"

# The independent Python reader reads a libotmmap file nobody drained:
# every span record (start + end per span, links) and log record.
"$APP" "$tmp/raw.mmap" --count 5 > "$tmp/raw.json"
python3 "$W" read "$tmp/raw.mmap" > "$tmp/read.jsonl" || bad "python reader failed"
python3 - "$tmp/raw.json" "$tmp/read.jsonl" <<'PY' && ok || bad "python reader: $(head -3 "$tmp/read.jsonl")"
import json, sys
exp = json.load(open(sys.argv[1]))
recs = [json.loads(l) for l in open(sys.argv[2])][1:]
span_ids = set()
starts = 0
for r in recs:
    if r["ring"] == "span":
        f = dict((k, v) for k, v in r["fields"] if k in (2, 11))
        span_ids.add(f[2])
        starts += 11 in f
want = {s["span_id"] for s in exp["spans"]}
assert span_ids == want and starts == len(want), (len(span_ids), len(want), starts)
assert sum(r["ring"] == "event" for r in recs) == len(exp["logs"])
PY
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
