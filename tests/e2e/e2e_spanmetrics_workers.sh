#!/usr/bin/env bash
# connector spanmetrics with runtime.workers 2: 8 keep-alive connections
# (so that both workers' loops accept some) post 5 requests each; every
# request has one span of each of 3 names for service "checkout" and one
# of each of 5 names for service "limited" (aggregation_cardinality_limit
# 3). Awaited (bounded poll) and checked exactly on the latest flush: one
# data point per dimension set (no series twice, as one per worker would
# give), checkout's calls 40 per name, limited's 3 series + the
# otel.metric.overflow series summing to all 200 of its spans, histogram
# counts equal to calls; and that both workers took connections.
set -u
. "$(dirname "$0")/lib.sh"

if ! otf_start spanmetrics-workers "$E2E_DIR/spanmetrics-workers.yaml"; then
	bad "otflow did not start"
	finish
fi

python3 - "$OTF_PORT" >"$TMP/send.txt" 2>&1 <<'PY'
import http.client, json, sys, threading
port = int(sys.argv[1])
T0 = 1700000000000000000
def span(name, sid):
    return {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "%016x" % sid,
            "name": name, "kind": 2, "startTimeUnixNano": str(T0),
            "endTimeUnixNano": str(T0 + 5000000)}
def body(conn, req):
    sid = conn * 1000 + req * 100 + 1
    rs = []
    for svc, names in (("checkout", ["GET /cart", "POST /pay", "GET /item"]),
                       ("limited", ["n0", "n1", "n2", "n3", "n4"])):
        spans = [span(n, sid + i) for i, n in enumerate(names)]
        sid += 10
        rs.append({"resource": {"attributes": [{"key": "service.name",
                                                "value": {"stringValue": svc}}]},
                   "scopeSpans": [{"scope": {"name": "e2e"}, "spans": spans}]})
    return json.dumps({"resourceSpans": rs})
errors = []
def client(conn):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for req in range(5):
            c.request("POST", "/v1/traces", body(conn, req), {"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            if r.status != 200:
                errors.append("conn %d req %d: HTTP %d" % (conn, req, r.status))
        c.close()
    except Exception as e:
        errors.append("conn %d: %r" % (conn, e))
ts = [threading.Thread(target=client, args=(i,)) for i in range(8)]
for t in ts: t.start()
for t in ts: t.join()
print("; ".join(errors) if errors else "ok")
PY
expect_eq "40 requests over 8 connections answered 200" ok "$(cat "$TMP/send.txt")"

# Await a flush holding every span (cumulative: later flushes repeat them).
check() {
	python3 - "$OTF_OUT" <<'PY'
import json, sys
def attrs(a):
    return ",".join("%s=%s" % (kv["key"], kv["value"].get("stringValue", kv["value"].get("boolValue"))) for kv in a)
last = None
for line in open(sys.argv[1]):
    if not line.endswith("\n"):
        break  # the exporter is writing it
    m = json.loads(line)
    got = {}
    for rm in m.get("resourceMetrics", []):
        svc = attrs(rm["resource"]["attributes"])
        for sm in rm["scopeMetrics"]:
            for mt in sm["metrics"]:
                pts = mt["sum"]["dataPoints"] if "sum" in mt else mt["histogram"]["dataPoints"]
                for p in pts:
                    key = (svc, mt["name"], attrs(p["attributes"]))
                    got.setdefault(key, []).append(int(p["asInt"]) if "asInt" in p else int(p["count"]))
    if sum(v[0] for k, v in got.items() if k[1].endswith(".calls")) == 40 * 3 + 40 * 5:
        last = got
if last is None:
    print("no flush with all 320 spans yet")
    sys.exit(1)
dups = [k for k, v in last.items() if len(v) > 1]
assert not dups, "series twice in one flush: %s" % dups
calls = {k: v[0] for k, v in last.items() if k[1].endswith(".calls")}
hist = {(k[0], k[2]): v[0] for k, v in last.items() if k[1].endswith(".duration")}
for k, n in calls.items():
    assert hist[(k[0], k[2])] == n, ("histogram count", k, n, hist.get((k[0], k[2])))
co = {k[2].split(",")[1]: n for k, n in calls.items() if k[0] == "service.name=checkout"}
assert co == {"span.name=GET /cart": 40, "span.name=POST /pay": 40, "span.name=GET /item": 40}, co
lim = {k[2]: n for k, n in calls.items() if k[0] == "service.name=limited"}
over = lim.pop("otel.metric.overflow=True", None)
assert over is not None, ("no overflow series", lim)
assert len(lim) == 3, ("series under the limit of 3", sorted(lim))
assert sum(lim.values()) + over == 200, (lim, over)
print("checkout %s; limited %d series + overflow %d" % (sorted(co.values()), len(lim), over))
PY
}
i=0
while [ $i -lt 100 ]; do
	check >"$TMP/check.txt" 2>&1 && break
	grep -q "no flush with all" "$TMP/check.txt" || break
	sleep 0.1
	i=$((i + 1))
done
if check >"$TMP/check.txt" 2>&1; then
	ok "one series per dimension set across workers: $(cat "$TMP/check.txt")"
else
	bad "spanmetrics across workers: $(tail -3 "$TMP/check.txt")"
	head -c 1500 "$OTF_OUT" 2>/dev/null
fi
otf_stop
finish
