#!/usr/bin/env bash
# The OpenTelemetry demo's trace pipeline with a real SDK: the JS SDK
# (send_demo.mjs) exports 21 spans of two services shaped like the demo's
# frontend over OTLP/HTTP protobuf to otflow (2 workers) running the demo's
# memory_limiter, transform (replace_pattern of the query string,
# replace_match of product ids) and batch, exporting to a file and to
# spanmetrics, whose metrics go to a second file. Checked against what the
# SDK exported: every span arrives once with its name rewritten as the
# statements say (computed here from the sent names), its kind, status and
# attributes unchanged; the latest metrics flush holding all 21 calls has
# exactly one calls point per (service.name, span.name, span.kind,
# status.code) the spans give, with that many calls, and histogram counts
# equal to calls.
set -u
. "$(dirname "$0")/lib.sh"

if ! e2e_npm_ci >"$TMP/npm.log" 2>&1; then
	bad "npm ci failed: $(tail -3 "$TMP/npm.log")"
	finish
fi
export OTF_E2E_METRICS_OUT="$TMP/demo-metrics.jsonl"
if ! otf_start demo "$E2E_DIR/demo-transform.yaml"; then
	bad "otflow did not start"
	finish
fi
if timeout 60 node "$E2E_DIR/send_demo.mjs" --endpoint "$OTF_URL" >"$TMP/sent.json" 2>"$TMP/send.err"; then
	ok "send_demo.mjs: every export succeeded"
else
	bad "send_demo.mjs failed: $(tail -5 "$TMP/send.err")"
	finish
fi

check() {
	python3 - "$TMP/sent.json" "$OTF_OUT" "$OTF_E2E_METRICS_OUT" <<'PY'
import fnmatch, json, re, sys
from collections import Counter
sent = json.load(open(sys.argv[1]))["spans"]
KIND = ["SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER",
        "SPAN_KIND_CONSUMER"]
STATUS = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"]
def demo(name):  # the two statements, as the Collector runs them
    name = re.sub(r"\?.*", "", name)
    return "GET /api/products/{productId}" if fnmatch.fnmatchcase(name, "GET /api/products/*") else name
def val(v):
    for k in ("stringValue", "boolValue", "doubleValue"):
        if k in v:
            return v[k]
    return int(v["intValue"])
def attrs(a):
    return {kv["key"]: val(kv["value"]) for kv in a}
def lines(path):  # whole lines only: the exporter may be writing the last one
    with open(path) as f:
        for line in f:
            if line.endswith("\n"):
                yield json.loads(line)
want = Counter()
for s in sent:
    want[(s["service"], demo(s["name"]), s["kind"] + 1, s["status"],
          json.dumps(s["attributes"], sort_keys=True))] += 1
got = Counter()
for m in lines(sys.argv[2]):
    for rs in m.get("resourceSpans", []):
        svc = attrs(rs["resource"]["attributes"])["service.name"]
        for ss in rs["scopeSpans"]:
            for sp in ss["spans"]:
                got[(svc, sp["name"], sp.get("kind", 0), sp.get("status", {}).get("code", 0),
                     json.dumps(attrs(sp.get("attributes", [])), sort_keys=True))] += 1
if got != want:
    print("spans differ: missing %s; unexpected %s" % (dict(want - got), dict(got - want)))
    sys.exit(1)
calls_want = Counter()
for s in sent:
    calls_want[",".join(["service.name=" + s["service"], "span.name=" + demo(s["name"]),
                         "span.kind=" + KIND[s["kind"] + 1], "status.code=" + STATUS[s["status"]]])] += 1
last = None
for m in lines(sys.argv[3]):
    pts = {}
    for rm in m.get("resourceMetrics", []):
        for sm in rm["scopeMetrics"]:
            for mt in sm["metrics"]:
                kind = "calls" if mt["name"] == "traces.span.metrics.calls" else "duration"
                data = mt["sum"] if "sum" in mt else mt["histogram"]
                for p in data["dataPoints"]:
                    key = (kind, ",".join("%s=%s" % (kv["key"], val(kv["value"])) for kv in p["attributes"]))
                    pts.setdefault(key, []).append(int(p.get("asInt", p.get("count", 0))))
    if sum(v[0] for k, v in pts.items() if k[0] == "calls") == len(sent):
        last = pts
if last is None:
    print("no metrics flush with all %d calls yet" % len(sent))
    sys.exit(2)
dups = [k for k, v in last.items() if len(v) > 1]
assert not dups, ("series twice", dups)
calls = {k[1]: v[0] for k, v in last.items() if k[0] == "calls"}
hist = {k[1]: v[0] for k, v in last.items() if k[0] == "duration"}
assert calls == dict(calls_want), ("calls", calls, dict(calls_want))
assert hist == calls, ("histogram counts", hist)
print("%d spans, %d series: %s" % (len(sent), len(calls),
      "; ".join("%s=%d" % (k.split(",")[1][10:], n) for k, n in sorted(calls.items()))))
PY
}
i=0
while [ $i -lt 100 ]; do
	check >"$TMP/check.txt" 2>&1
	rc=$?
	[ $rc -eq 0 ] && break
	sleep 0.1
	i=$((i + 1))
done
if [ $rc -eq 0 ]; then
	ok "spans transformed as the demo's statements say, spanmetrics calls equal: $(cat "$TMP/check.txt")"
else
	bad "demo pipeline output: $(tail -3 "$TMP/check.txt")"
	sed 's/^/  | /' "$OTF_LOG" | tail -10
fi
otf_stop
finish
