#!/usr/bin/env bash
# processor metricstransform with a real otflow: one OTLP/HTTP JSON request
# with four system.cpu.usage points (state x cpu) and another metric; the
# file exporter's line must hold the points aggregated to state (user 3,
# idle 30, earliest start, latest time), then the inserted copy renamed
# with the regexp's capture group, then the other metric unchanged.
set -u
. "$(dirname "$0")/lib.sh"

if ! otf_start mt "$E2E_DIR/metricstransform.yaml"; then
	bad "otflow did not start"
	finish
fi
pt() { # state cpu value start time
	printf '{"startTimeUnixNano":"%s","timeUnixNano":"%s","asInt":"%s","attributes":[{"key":"state","value":{"stringValue":"%s"}},{"key":"cpu","value":{"stringValue":"%s"}}]}' "$4" "$5" "$3" "$1" "$2"
}
BODY=$(printf '{"resourceMetrics":[{"resource":{"attributes":[{"key":"host.name","value":{"stringValue":"h1"}}]},"scopeMetrics":[{"scope":{"name":"hostmetrics"},"metrics":[{"name":"system.cpu.usage","sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[%s,%s,%s,%s]}},{"name":"system.memory.usage","gauge":{"dataPoints":[{"timeUnixNano":"7","asDouble":1.5}]}}]}]}]}' \
	"$(pt user 0 1 100 200)" "$(pt idle 0 10 90 210)" "$(pt user 1 2 95 205)" "$(pt idle 1 20 100 220)")
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary "$BODY" "$OTF_URL/v1/metrics")
expect_eq "POST answered" 200 "$code"
# Retried (bounded) until the exporter's line is complete.
check() {
python3 - "$OTF_OUT" >"$TMP/check.txt" 2>&1 <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == 1, len(lines)
(rm,) = lines[0]["resourceMetrics"]
assert rm["resource"]["attributes"] == [{"key": "host.name", "value": {"stringValue": "h1"}}]
(sm,) = rm["scopeMetrics"]
assert sm["scope"]["name"] == "hostmetrics"
got = []
for m in sm["metrics"]:
    if "sum" in m:
        s = m["sum"]
        assert s["aggregationTemporality"] == 2 and s["isMonotonic"], m
        pts = [(p["attributes"], int(p["asInt"]), int(p["startTimeUnixNano"]), int(p["timeUnixNano"]))
               for p in s["dataPoints"]]
    else:
        pts = [(p.get("attributes", []), p["asDouble"]) for p in m["gauge"]["dataPoints"]]
    got.append((m["name"], pts))
st = lambda v: [{"key": "state", "value": {"stringValue": v}}]
agg = [(st("user"), 3, 95, 205), (st("idle"), 30, 90, 220)]
want = [("system.cpu.usage", agg), ("system.processor.usage.stat", agg),
        ("system.memory.usage", [([], 1.5)])]
assert got == want, got
print([g[0] for g in got])
PY
}
i=0
until check; do
	i=$((i + 1))
	[ $i -lt 100 ] || break
	sleep 0.1
done
if check; then
	ok "metrics transformed: $(cat "$TMP/check.txt")"
else
	bad "metrics: $(cat "$TMP/check.txt")"
	head -c 3000 "$OTF_OUT" 2>/dev/null
fi
otf_stop
finish
