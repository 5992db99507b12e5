#!/usr/bin/env bash
# processor cumulativetodelta with a real otflow on two workers: a
# cumulative counter posted as OTLP/HTTP JSON, one point per request and
# one connection per request (curl), so its points land on both workers;
# the file exporter's OTLP/JSON lines are checked exactly. First in
# order: 5, 12, 20, a reset to 3, 9 -> deltas 5 (auto keeps it: started
# after otflow), 7, 8, 3, 6, each starting at the previous timestamp.
# Then 40 points of a second counter from four concurrent clients: the
# deltas sent tile [first start, last timestamp] with no gap or overlap
# and add up to the counter's last value. A metric the include does not
# name stays cumulative, untouched. A second pipeline converts the same
# requests.total to deltas and back with deltatocumulative: running totals
# 5, 12, 20, 23, 29 from the first start time (the reset's 3 counted).
set -u
. "$(dirname "$0")/lib.sh"

if ! otf_start ctd "$E2E_DIR/cumulativetodelta.yaml"; then
	bad "otflow did not start"
	finish
fi
NOW=$(date +%s%N)
START=$((NOW + 1000000000)) # after otflow started: initial_value auto keeps it
post() {                    # name start time value -> http code
	local body
	body=$(printf '{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},"scopeMetrics":[{"scope":{"name":"lib"},"metrics":[{"name":"%s","sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[{"startTimeUnixNano":"%s","timeUnixNano":"%s","asInt":"%s","attributes":[{"key":"route","value":{"stringValue":"/a"}}]}]}}]}]}]}' "$1" "$2" "$3" "$4")
	curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "$body" "$OTF_URL/v1/metrics"
}
codes=""
i=0
for v in 5 12 20 3 9; do
	i=$((i + 1))
	codes="$codes $(post requests.total "$START" $((START + i * 1000000000)) "$v")"
done
codes="$codes $(post other.total "$START" $((START + 1000000000)) 42)"
expect_eq "six sequential POSTs answered" " 200 200 200 200 200 200" "$codes"

burst() { # client: points client, client+4, ... of requests.burst
	local k=$1 out=""
	while [ "$k" -le 40 ]; do
		out="$out$(post requests.burst "$START" $((START + k * 1000000)) $((k * 10 + 1)))"
		k=$((k + 4))
	done
	echo "$out" >"$TMP/burst.$1"
}
bp=""
for c in 1 2 3 4; do
	burst $c &
	bp="$bp $!"
done
# shellcheck disable=SC2086 # the clients' pids (not otflow's)
wait $bp
expect_eq "40 concurrent POSTs answered" "$(printf '200%.0s' $(seq 40))" "$(cat "$TMP"/burst.* | tr -d '\n')"

# Awaited: the check is retried (bounded) until what every answered
# request produced has reached the file (the exporter writes every 50ms).
check_deltas() {
python3 - "$OTF_OUT" "$START" >"$TMP/check.txt" 2>&1 <<'PY'
import json, sys
start = int(sys.argv[2])
pts = {}
for l in open(sys.argv[1]):
    for rm in json.loads(l)["resourceMetrics"]:
        assert rm["resource"]["attributes"][0]["value"]["stringValue"] == "cart", rm
        for sm in rm["scopeMetrics"]:
            assert sm["scope"]["name"] == "lib", sm
            for m in sm["metrics"]:
                s = m["sum"]
                for p in s["dataPoints"]:
                    assert p["attributes"] == [{"key": "route", "value": {"stringValue": "/a"}}], p
                    pts.setdefault(m["name"], []).append(
                        (s["aggregationTemporality"], s.get("isMonotonic"),
                         int(p["startTimeUnixNano"]), int(p["timeUnixNano"]), int(p["asInt"])))
S = 1000000000
want = [(1, True, start if i == 0 else start + i * S, start + (i + 1) * S, d)
        for i, d in enumerate([5, 7, 8, 3, 6])]
assert pts.get("requests.total") == want, pts.get("requests.total")
assert pts.get("other.total") == [(2, True, start, start + S, 42)], pts.get("other.total")
b = sorted(pts.get("requests.burst", []), key=lambda p: p[3])
assert b and all(p[0] == 1 for p in b), b
assert b[0][2] == start and b[-1][3] == start + 40 * 1000000, b
for x, y in zip(b, b[1:]):
    assert y[2] == x[3], ("gap or overlap", x, y)
assert sum(p[4] for p in b) == 401, sum(p[4] for p in b)
print("requests.total", [p[4] for p in want], "burst: %d deltas adding to 401" % len(b))
PY
}
i=0
until check_deltas; do
	i=$((i + 1))
	[ $i -lt 100 ] || break
	sleep 0.1
done
if check_deltas; then
	ok "deltas exact: $(cat "$TMP/check.txt")"
else
	bad "deltas: $(cat "$TMP/check.txt")"
	head -c 3000 "$OTF_OUT" 2>/dev/null
fi
check_totals() {
python3 - "$OTF_OUT.dtc" "$START" >"$TMP/check2.txt" 2>&1 <<'PY'
import json, sys
start = int(sys.argv[2])
got = []
for l in open(sys.argv[1]):
    for rm in json.loads(l)["resourceMetrics"]:
        for sm in rm["scopeMetrics"]:
            for m in sm["metrics"]:
                s = m["sum"]
                for p in s["dataPoints"]:
                    got.append((m["name"], s["aggregationTemporality"], int(p["startTimeUnixNano"]),
                                int(p["timeUnixNano"]), int(p["asInt"])))
S = 1000000000
want = [("requests.total", 2, start, start + (i + 1) * S, v) for i, v in enumerate([5, 12, 20, 23, 29])]
tot = [g for g in got if g[0] == "requests.total"]
assert tot == want, tot
print([g[4] for g in tot])
PY
}
i=0
until check_totals; do
	i=$((i + 1))
	[ $i -lt 100 ] || break
	sleep 0.1
done
if check_totals; then
	ok "round trip through deltatocumulative: $(cat "$TMP/check2.txt")"
else
	bad "round trip: $(cat "$TMP/check2.txt")"
	head -c 3000 "$OTF_OUT.dtc" 2>/dev/null
fi
if otf_alive; then ok "otflow still running"; else bad "otflow died"; fi
otf_stop
finish
