#!/usr/bin/env bash
# connector count with a real otflow: OTLP/HTTP JSON logs and traces
# posted with curl into pipelines ending in count, whose metrics pipeline
# writes OTLP/JSON lines with the file exporter. Each request is answered
# only once its counts were delivered (wait_for_result); the file is
# awaited with a bounded poll and checked exactly: the README's "Error+
# logs per environment" counts and the default trace.span.count /
# trace.span.event.count, with the resources and the Collector's scope.
# Then, with the counts' backend down, the input fails with them (503).
set -u
. "$(dirname "$0")/lib.sh"

if ! otf_start count "$E2E_DIR/count.yaml"; then
	bad "otflow did not start"
	finish
fi
log() { # severity_number [env]
	if [ -n "${2:-}" ]; then
		printf '{"severityNumber":%s,"body":{"stringValue":"x"},"attributes":[{"key":"env","value":{"stringValue":"%s"}}]}' "$1" "$2"
	else
		printf '{"severityNumber":%s,"body":{"stringValue":"x"}}' "$1"
	fi
}
LOGS=$(printf '{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},"scopeLogs":[{"logRecords":[%s,%s,%s,%s]}]}]}' \
	"$(log 17 prod)" "$(log 21 prod)" "$(log 9 prod)" "$(log 18)")
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary "$LOGS" "$OTF_URL/v1/logs")
expect_eq "POST logs answered once the counts were delivered" 200 "$code"
TRACES='{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"web"}}]},"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b171","name":"a","events":[{"name":"e1"},{"name":"e2"}]},{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b172","name":"b"}]}]}]}'
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary "$TRACES" "$OTF_URL/v1/traces")
expect_eq "POST traces answered once the counts were delivered" 200 "$code"

i=0
while [ $i -lt 100 ] && [ "$(wc -l <"$OTF_OUT" 2>/dev/null || echo 0)" -lt 2 ]; do
	sleep 0.1
	i=$((i + 1))
done
python3 - "$OTF_OUT" >"$TMP/check.txt" 2>&1 <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == 2, "want 2 metrics requests, got %d" % len(lines)
got = {}
for m in lines:
    (rm,) = m["resourceMetrics"]
    svc = rm["resource"]["attributes"][0]["value"]["stringValue"]
    (sm,) = rm["scopeMetrics"]
    assert sm["scope"]["name"] == "otelcol/countconnector", sm["scope"]
    for mt in sm["metrics"]:
        s = mt["sum"]
        assert s["isMonotonic"] and s["aggregationTemporality"] == 1, mt
        for p in s["dataPoints"]:
            a = ",".join("%s=%s" % (kv["key"], kv["value"]["stringValue"]) for kv in p.get("attributes", []))
            got["%s %s %s" % (svc, mt["name"], a)] = int(p["asInt"])
want = {
    "cart my.error.log.count env=prod": 2,
    "cart my.error.log.count env=unspecified_environment": 1,
    "web trace.span.count ": 2,
    "web trace.span.event.count ": 2,
}
assert got == want, got
print(sorted(got.items()))
PY
if [ $? -eq 0 ]; then
	ok "counts exact: $(cat "$TMP/check.txt")"
else
	bad "counts: $(cat "$TMP/check.txt")"
	head -c 2000 "$OTF_OUT" 2>/dev/null
fi
otf_stop

# The input's outcome is its counts': a backend that is down makes the
# logs request fail as retryable (503), and otflow stays up.
export OTF_E2E_DEAD_PORT
OTF_E2E_DEAD_PORT=$(free_port)
if ! otf_start count-fail "$E2E_DIR/count-fail.yaml"; then
	bad "otflow (count-fail) did not start"
	finish
fi
code=$(curl -s -m 20 -o "$TMP/fail.txt" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary "$LOGS" "$OTF_URL/v1/logs")
expect_eq "POST logs with the counts' backend down: retryable failure" 503 "$code"
if otf_alive; then ok "otflow still running"; else bad "otflow died"; fi
otf_stop
finish
