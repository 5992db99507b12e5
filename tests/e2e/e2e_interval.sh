#!/usr/bin/env bash
# processor interval with a real otflow on two workers. First with an
# interval longer than the test (60s): the README's metric flow posted as
# OTLP/HTTP JSON, one point per connection; the delta metric is written
# at once and nothing else; at SIGTERM the held points are sent: the
# latest of each test_metric series (foo 12.8 at t=8, bar 6.4 at t=10),
# not the points they replaced. Then with a 200ms interval: a point is
# sent by the timer, and once sent it is forgotten (a later point is sent
# at a later interval; the first is never sent twice).
set -u
. "$(dirname "$0")/lib.sh"

export OTF_E2E_INTERVAL=60s
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
while [ $i -lt 100 ] && ! points | grep -q other_metric; do
	sleep 0.1
	i=$((i + 1))
done
expect_eq "the delta metric passed at once, nothing held sent" \
	"other_metric 1 fruitType=orange 4 77.4;" "$(points | sort | tr '\n' ';')"
otf_stop
expect_eq "at shutdown, the latest point of each series" \
	"other_metric 1 fruitType=orange 4 77.4;test_metric 2 labelA=bar 10 6.4;test_metric 2 labelA=foo 8 12.8;" \
	"$(points | sort | tr '\n' ';')"

export OTF_E2E_INTERVAL=200ms
if ! otf_start interval-timer "$E2E_DIR/interval.yaml"; then
	bad "otflow (200ms) did not start"
	finish
fi
expect_eq "first point answered" 200 "$(post test_metric 2 labelA foo 20 1.5)"
i=0
while [ $i -lt 100 ] && ! points | grep -q " 20 "; do
	sleep 0.1
	i=$((i + 1))
done
expect_eq "sent by the interval timer" "test_metric 2 labelA=foo 20 1.5" "$(points)"
expect_eq "second point answered" 200 "$(post test_metric 2 labelA foo 21 2.5)"
i=0
while [ $i -lt 100 ] && ! points | grep -q " 21 "; do
	sleep 0.1
	i=$((i + 1))
done
expect_eq "the next interval sends only the new point" \
	"test_metric 2 labelA=foo 20 1.5;test_metric 2 labelA=foo 21 2.5;" "$(points | tr '\n' ';')"
otf_stop
finish
