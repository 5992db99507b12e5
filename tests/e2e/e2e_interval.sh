#!/usr/bin/env bash
# processor interval with a real otflow on two workers: the README's
# metric flow posted as OTLP/HTTP JSON, one point per connection. The
# delta metric is written at once; at the interval (3s) the latest point
# of each test_metric series (foo 12.8 at t=8, bar 6.4 at t=10), not the
# points it replaced. A point posted after that is sent at shutdown.
set -u
. "$(dirname "$0")/lib.sh"

if ! otf_start interval "$E2E_DIR/interval.yaml"; then
	bad "otflow did not start"
	finish
fi
T0=1700000000000000000
post() { # name temporality label value ts value -> http code
	local body
	body=$(printf '{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},"scopeMetrics":[{"scope":{"name":"lib"},"metrics":[{"name":"%s","sum":{"aggregationTemporality":%s,"isMonotonic":true,"dataPoints":[{"startTimeUnixNano":"%s","timeUnixNano":"%s","asDouble":%s,"attributes":[{"key":"%s","value":{"stringValue":"%s"}}]}]}}]}]}]}' \
		"$1" "$2" "$T0" $((T0 + $5)) "$6" "$3" "$4")
	curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "$body" "$OTF_URL/v1/metrics"
}
codes="$(post test_metric 2 labelA foo 0 4.0)$(post test_metric 2 labelA bar 2 3.1)"
codes="$codes$(post other_metric 1 fruitType orange 4 77.4)$(post test_metric 2 labelA foo 6 8.2)"
codes="$codes$(post test_metric 2 labelA foo 8 12.8)$(post test_metric 2 labelA bar 10 6.4)"
expect_eq "six POSTs answered" "200200200200200200" "$codes"
points() { # the points written so far, one "name label=value ts value" per line
	python3 - "$OTF_OUT" "$T0" <<'PY' 2>/dev/null
import json, sys
t0 = int(sys.argv[2])
for l in open(sys.argv[1]):
    for rm in json.loads(l)["resourceMetrics"]:
        for sm in rm["scopeMetrics"]:
            for m in sm["metrics"]:
                for p in m["sum"]["dataPoints"]:
                    a = p["attributes"][0]
                    print("%s %d %s=%s %d %s" % (m["name"], m["sum"]["aggregationTemporality"], a["key"],
                          a["value"]["stringValue"], int(p["timeUnixNano"]) - t0, p["asDouble"]))
PY
}
i=0
while [ $i -lt 100 ] && [ "$(points | grep -c test_metric)" -lt 2 ]; do
	sleep 0.1
	i=$((i + 1))
done
got=$(points | sort | tr '\n' ';')
expect_eq "delta passed at once, the interval's latest points" \
	"other_metric 1 fruitType=orange 4 77.4;test_metric 2 labelA=bar 10 6.4;test_metric 2 labelA=foo 8 12.8;" "$got"
expect_eq "one more POST answered" 200 "$(post test_metric 2 labelA foo 12 20.5)"
otf_stop
expect_eq "held point sent at shutdown" "test_metric 2 labelA=foo 12 20.5" "$(points | grep ' 12 ')"
finish
