#!/usr/bin/env bash
# connector spanmetrics with a real otflow: OTLP/HTTP JSON traces posted
# with curl into a traces pipeline ending in spanmetrics, whose metrics
# pipeline writes OTLP/JSON lines with the file exporter. Awaited (bounded
# poll) and checked exactly: metric names, the resource, every data
# point's attributes, calls, histogram count, sum and bucket counts, and
# that cumulative points keep their start time from flush to flush; and
# that the last interval is sent at shutdown.
set -u
. "$(dirname "$0")/lib.sh"

if ! otf_start spanmetrics "$E2E_DIR/spanmetrics.yaml"; then
	bad "otflow did not start"
	finish
fi
T0=1700000000000000000
span() { # name kind status_code duration_ms span_id [attributes json]
	printf '{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"%s","name":"%s","kind":%s,"startTimeUnixNano":"%s","endTimeUnixNano":"%s","status":{"code":%s},"attributes":[%s]}' \
		"$5" "$1" "$2" "$T0" "$((T0 + $4 * 1000000))" "$3" "${6:-}"
}
BODY=$(printf '{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},"scopeSpans":[{"scope":{"name":"e2e"},"spans":[%s,%s,%s]}]}]}' \
	"$(span "GET /cart" 2 0 5 eee19b7ec3c1b171)" \
	"$(span "GET /cart" 2 0 5 eee19b7ec3c1b172)" \
	"$(span "GET /cart" 2 2 50 eee19b7ec3c1b173 '{"key":"http.method","value":{"stringValue":"POST"}}')")
code=$(curl -s -m 10 -o "$TMP/resp" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary "$BODY" "$OTF_URL/v1/traces")
expect_eq "POST traces answered once the spans are counted" 200 "$code"

# Await two flushes that hold all 3 calls (cumulative: every flush repeats them).
i=0
n=0
while [ $i -lt 100 ]; do
	n=$(python3 - "$OTF_OUT" <<'PY' 2>/dev/null
import json, sys
n = 0
for line in open(sys.argv[1]):
    m = json.loads(line)
    for rm in m.get("resourceMetrics", []):
        for sm in rm["scopeMetrics"]:
            for mt in sm["metrics"]:
                if mt["name"] == "traces.span.metrics.calls":
                    if sum(int(p["asInt"]) for p in mt["sum"]["dataPoints"]) == 3:
                        n += 1
print(n)
PY
	)
	[ "${n:-0}" -ge 2 ] && break
	sleep 0.1
	i=$((i + 1))
done
if [ "${n:-0}" -lt 2 ]; then
	bad "no two flushes with 3 calls in $OTF_OUT within 10s"
	head -c 2000 "$OTF_OUT" 2>/dev/null
	sed 's/^/  | /' "$OTF_LOG" | tail -20
	finish
fi
ok "metrics flushed every metrics_flush_interval"

python3 - "$OTF_OUT" >"$TMP/check.txt" 2>&1 <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
def attrs(a):
    return ",".join("%s=%s" % (kv["key"], kv["value"].get("stringValue")) for kv in a)
got = []
for m in lines:
    (rm,) = m["resourceMetrics"]
    assert attrs(rm["resource"]["attributes"]) == "service.name=checkout", rm["resource"]
    (sm,) = rm["scopeMetrics"]
    assert sm["scope"]["name"] == "spanmetricsconnector", sm["scope"]
    by = {mt["name"]: mt for mt in sm["metrics"]}
    assert sorted(by) == ["traces.span.metrics.calls", "traces.span.metrics.duration"], sorted(by)
    calls, dur = by["traces.span.metrics.calls"]["sum"], by["traces.span.metrics.duration"]
    assert calls["isMonotonic"] and calls["aggregationTemporality"] == 2, calls
    assert dur["unit"] == "ms", dur
    c = {attrs(p["attributes"]): (int(p["asInt"]), p["startTimeUnixNano"]) for p in calls["dataPoints"]}
    h = {attrs(p["attributes"]): (int(p["count"]), p["sum"], [int(b) for b in p["bucketCounts"]],
         p["explicitBounds"]) for p in dur["histogram"]["dataPoints"]}
    got.append((c, h))
base = "service.name=checkout,span.name=GET /cart,span.kind=SPAN_KIND_SERVER,status.code="
ok_key, err_key = base + "STATUS_CODE_UNSET,http.method=GET", base + "STATUS_CODE_ERROR,http.method=POST"
c, h = got[-1]
assert sorted(c) == sorted([ok_key, err_key]), sorted(c)
assert c[ok_key][0] == 2 and c[err_key][0] == 1, c
b = [2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10000, 15000]
assert h[ok_key][0] == 2 and h[ok_key][1] == 10 and h[ok_key][3] == b, h[ok_key]
assert h[ok_key][2] == [0, 0, 2] + [0] * 14, h[ok_key][2]   # 5ms in (4, 6]
assert h[err_key][2] == [0] * 5 + [1] + [0] * 11, h[err_key][2]  # 50ms in (10, 50]
assert h[err_key][1] == 50, h[err_key]
full = [g for g in got if sum(v[0] for v in g[0].values()) == 3]
assert len(full) >= 2 and full[0][0][ok_key][1] == full[-1][0][ok_key][1], "start time moved"
print("%d flushes, calls %s" % (len(got), {k.split(",")[3]: v[0] for k, v in c.items()}))
PY
if [ $? -eq 0 ]; then
	ok "calls, duration buckets and sums exact: $(cat "$TMP/check.txt")"
else
	bad "metrics content: $(cat "$TMP/check.txt")"
fi
otf_stop

# The last interval is sent at shutdown: with an interval of an hour,
# nothing is flushed before SIGTERM, and everything is after it.
export OTF_E2E_SM_INTERVAL=1h
if ! otf_start spanmetrics-kil "$E2E_DIR/spanmetrics.yaml"; then
	bad "otflow (1h interval) did not start"
	finish
fi
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary "$BODY" "$OTF_URL/v1/traces")
expect_eq "POST traces (1h interval)" 200 "$code"
expect_eq "nothing flushed before the interval" 0 "$(cat "$OTF_OUT" 2>/dev/null | wc -l)"
otf_stop
got=$(python3 - "$OTF_OUT" <<'PY' 2>&1
import json, sys
(line,) = open(sys.argv[1]).read().splitlines()
(rm,) = json.loads(line)["resourceMetrics"]
mt = {m["name"]: m for m in rm["scopeMetrics"][0]["metrics"]}
print(sorted(int(p["asInt"]) for p in mt["traces.span.metrics.calls"]["sum"]["dataPoints"]))
PY
)
expect_eq "the interval's calls written at shutdown" "[1, 2]" "$got"
finish
