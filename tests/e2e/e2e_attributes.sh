#!/usr/bin/env bash
# processors attributes and resource with a real otflow: OTLP/HTTP JSON in
# (with an X-Tenant header), file exporter out, every attribute of every
# record asserted: a rename and a resource upsert/delete on logs (the
# in-place byte editor), and on traces a hash equal to `sha256sum` of the
# value, the tenant from client metadata and a convert, applied only to
# the service that include selects. A config with a bad action is refused
# naming file, line and key.
set -u
. "$(dirname "$0")/lib.sh"
CFG="$E2E_DIR/attributes.yaml"

cat >"$TMP/logs.json" <<'JSON'
{"resourceLogs":[{"resource":{"attributes":[
  {"key":"service.name","value":{"stringValue":"shop"}},
  {"key":"host.ip","value":{"stringValue":"10.1.2.3"}}]},
 "scopeLogs":[{"scope":{"name":"app"},"logRecords":[
  {"timeUnixNano":"1700000000000000001","body":{"stringValue":"GET /"},"attributes":[
    {"key":"http.request.method","value":{"stringValue":"GET"}},
    {"key":"user_agent.original","value":{"stringValue":"curl/8.5.0"}},
    {"key":"http.response.status_code","value":{"intValue":"200"}}]},
  {"timeUnixNano":"1700000000000000002","body":{"stringValue":"no agent"},"attributes":[
    {"key":"http.request.method","value":{"stringValue":"POST"}}]}]}]}]}
JSON
cat >"$TMP/traces.json" <<'JSON'
{"resourceSpans":[
 {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
  "scopeSpans":[{"scope":{"name":"s"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",
   "spanId":"eee19b7ec3c1b174","name":"pay","kind":2,"startTimeUnixNano":"1","endTimeUnixNano":"2",
   "attributes":[{"key":"user.email","value":{"stringValue":"ann@example.com"}},
                 {"key":"http.status_code","value":{"stringValue":"402"}}]}]}]},
 {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},
  "scopeSpans":[{"scope":{"name":"s"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60d",
   "spanId":"eee19b7ec3c1b175","name":"add","kind":2,"startTimeUnixNano":"1","endTimeUnixNano":"2",
   "attributes":[{"key":"user.email","value":{"stringValue":"bob@example.com"}}]}]}]}]}
JSON
cat >"$TMP/metrics.json" <<'JSON'
{"resourceMetrics":[{"resource":{},"scopeMetrics":[{"metrics":[{"name":"reqs","sum":{
 "aggregationTemporality":2,"isMonotonic":true,"dataPoints":[{"asInt":"5","timeUnixNano":"3",
 "attributes":[{"key":"user_agent.original","value":{"stringValue":"wget"}}]}]}}]}]}]}
JSON

if ! otf_start attrs "$CFG"; then
	bad "otflow did not start"
	finish
fi
for s in logs traces metrics; do
	code=$(curl -s -m 10 -o "$TMP/resp-$s" -w '%{http_code}' -H 'Content-Type: application/json' \
		-H 'X-Tenant: acme' --data-binary "@$TMP/$s.json" "$OTF_URL/v1/$s")
	expect_eq "POST $s" 200 "$code"
done
# the file exporter flushes every 100ms: wait for both requests (10s at most)
i=0
while [ $i -lt 100 ] && [ "$(grep -c . "$OTF_OUT" 2>/dev/null || echo 0)" -lt 3 ]; do
	sleep 0.1
	i=$((i + 1))
done
otf_stop
if grep -q 'attributes/rename.*applied to the request bytes in place' "$OTF_LOG" &&
	grep -q 'resource.*applied to the request bytes in place' "$OTF_LOG" &&
	grep -q 'attributes/traces.*applied on the decoded request' "$OTF_LOG"; then
	ok "logs edited in place, traces on the decoded request (startup log)"
else
	bad "startup log does not say which path: $(grep -i applied "$OTF_LOG")"
fi
if grep -q 'regexp (cacheenabled, cachemaxnumentries) accepted and ignored' "$OTF_LOG"; then
	ok "include.regexp (match cache) warned about at startup"
else
	bad "no startup warning for include.regexp"
fi

ann=$(printf %s ann@example.com | sha256sum | cut -d' ' -f1)
if python3 - "$OTF_OUT" "$ann" >"$TMP/check.txt" 2>&1 <<'PY'; then
import json, sys
out, ann = sys.argv[1], sys.argv[2]
docs = [json.loads(l) for l in open(out) if l.strip()]
logs = [d for d in docs if "resourceLogs" in d]
traces = [d for d in docs if "resourceSpans" in d]
metrics = [d for d in docs if "resourceMetrics" in d]
assert len(logs) == 1 and len(traces) == 1 and len(metrics) == 1, f"{len(docs)} requests"

def attrs(lst):
    r = {}
    for kv in lst or []:
        v = kv.get("value", {})
        assert kv["key"] not in r, f"duplicate {kv['key']}"
        (t, x), = v.items()
        r[kv["key"]] = (t, x)
    return r

rl = logs[0]["resourceLogs"][0]
res = attrs(rl["resource"]["attributes"])
assert res == {"service.name": ("stringValue", "shop"),
               "deployment.environment": ("stringValue", "prod")}, res
recs = rl["scopeLogs"][0]["logRecords"]
assert [r["body"]["stringValue"] for r in recs] == ["GET /", "no agent"]
assert [r["timeUnixNano"] for r in recs] == ["1700000000000000001", "1700000000000000002"]
a0 = attrs(recs[0]["attributes"])
assert a0 == {"http.request.method": ("stringValue", "GET"),
              "http.response.status_code": ("intValue", "200"),
              "http.user_agent": ("stringValue", "curl/8.5.0")}, a0
assert list(a0)[-1] == "http.user_agent"
a1 = attrs(recs[1]["attributes"])
assert a1 == {"http.request.method": ("stringValue", "POST")}, a1

rs = traces[0]["resourceSpans"]
assert [attrs(r["resource"]["attributes"])["service.name"][1] for r in rs] == ["checkout", "cart"]
s0 = rs[0]["scopeSpans"][0]["spans"][0]
assert s0["spanId"] == "eee19b7ec3c1b174" and s0["name"] == "pay"
assert attrs(s0["attributes"]) == {"user.email": ("stringValue", ann),
                                   "http.status_code": ("intValue", "402"),
                                   "tenant": ("stringValue", "acme")}, attrs(s0["attributes"])
s1 = rs[1]["scopeSpans"][0]["spans"][0]
assert s1["spanId"] == "eee19b7ec3c1b175"
assert attrs(s1["attributes"]) == {"user.email": ("stringValue", "bob@example.com")}
dp = metrics[0]["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["sum"]["dataPoints"][0]
assert dp["asInt"] == "5" and attrs(dp["attributes"]) == {"http.user_agent": ("stringValue", "wget")}, dp
print("data point renamed; logs renamed, resource upserted/deleted; checkout span hashed (sha256sum), tenant acme, "
      "status converted; cart span untouched")
PY
	ok "$(cat "$TMP/check.txt")"
else
	bad "file output: $(cat "$TMP/check.txt")"
	head -c 2000 "$OTF_OUT"
fi

# the outcome downstream reaches the client through the processor's own
# message: an exporter whose backend is down fails the request retryable
dead=$(free_port)
cat >"$TMP/down.yaml" <<YAML
receivers:
  otlp:
    wait_for_result: true
    protocols: {http: {endpoint: "127.0.0.1:\${env:OTF_E2E_PORT}"}}
processors:
  attributes: {actions: [{key: a, value: 1, action: upsert}]}
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:$dead
    timeout: 1s
    retry_on_failure: {enabled: false}
    sending_queue: {enabled: false}
extensions:
  health_check: {endpoint: "127.0.0.1:\${env:OTF_E2E_HEALTH_PORT}"}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [attributes], exporters: [otlphttp]}
YAML
if otf_start down "$TMP/down.yaml"; then
	code=$(curl -s -m 20 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "@$TMP/logs.json" "$OTF_URL/v1/logs")
	expect_eq "backend down: the client learns it (retryable)" 503 "$code"
	otf_alive && ok "otflow still up" || bad "otflow died"
	otf_stop
else
	bad "otflow (backend down) did not start"
fi

# a bad action is a config error naming file, line and key
sed 's/action: hash}/action: hsh}/' "$CFG" >"$TMP/bad.yaml"
OTF_E2E_PORT=$(free_port) OTF_E2E_HEALTH_PORT=$(free_port) OTF_E2E_OUT="$TMP/none" \
	timeout 20 "$OTF_BIN" --config "$TMP/bad.yaml" >"$TMP/bad.log" 2>&1
rc=$?
line=$(grep -n 'action: hsh' "$TMP/bad.yaml" | cut -d: -f1)
if [ $rc -ne 0 ] && [ $rc -ne 124 ] &&
	grep -q "bad.yaml:$line:.*processors.attributes/traces.actions.*unsupported action \"hsh\"" "$TMP/bad.log"; then
	ok "bad action refused: $(grep -m1 hsh "$TMP/bad.log")"
else
	bad "bad action (exit $rc): $(cat "$TMP/bad.log")"
fi
finish
