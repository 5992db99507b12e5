#!/usr/bin/env bash
# A full durable queue pushes back (examples/scenarios/ack-ingress-wal.yaml
# with a 256 KiB disk budget): the backend is down, a client posts until a
# request is refused; the refusal is 503 with the reason ("storage is
# full"), otflow stays up, nothing acknowledged is dropped: otflow is
# stopped (SIGTERM) with the backend still down, then the backend comes up
# and otflow restarts: every acknowledged record arrives, the space comes
# back and new requests are acknowledged again.
set -u
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/wal_lib.sh"
export OTF_QUEUE_MAX_BYTES=256KiB OTF_QUEUE_SEGMENT=32KiB

front_start front || finish
: >"$TMP/acked"
timeout 120 python3 "$E2E_DIR/wal_client.py" "$FRONT_PORT" 0 100000 50 "$TMP/acked" --once \
	>"$TMP/client.txt" 2>&1
n=$(wc -l <"$TMP/acked")
if grep -q "last status 503" "$TMP/client.txt" && [ "$n" -gt 0 ] && [ "$n" -lt 100000 ]; then
	ok "refused with 503 once the disk budget is spent ($n records acknowledged before)"
else
	bad "no 503 push back: $n acknowledged, $(tail -2 "$TMP/client.txt")"
fi
python3 - "$FRONT_PORT" >"$TMP/refused.txt" 2>&1 <<'PY'
import http.client, json, sys
# Larger than the client's refused request (its records are about 100
# bytes each): refused too, whatever space the budget has left.
recs = [{"body": {"stringValue": "extra-%d-%s" % (i, "x" * 200)}} for i in range(50)]
data = json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": recs}]}]})
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=30)
c.request("POST", "/v1/logs", data, {"Content-Type": "application/json"})
r = c.getresponse()
print(r.status, r.read().decode(errors="replace"))
PY
grep -q "^503 .*storage is full" "$TMP/refused.txt" && ok "the refusal says why: $(head -c 160 "$TMP/refused.txt")" ||
	bad "refusal: $(head -c 300 "$TMP/refused.txt")"
kill -0 "$FRONT_PID" 2>/dev/null && ok "otflow stays up" || bad "otflow died"

# A clean stop with the backend still down keeps the queue on disk.
kill -TERM "$FRONT_PID" 2>/dev/null
if wait_pid "$FRONT_PID" 30; then ok "SIGTERM with the backend down: exit 0"; else bad "front: exit status $?"; fi
backend_start || finish
front_start front2 || finish
if await_all "$TMP/acked" 60 --expect "$n"; then
	ok "every acknowledged record arrives: $(cat "$TMP/check.txt")"
else
	bad "acknowledged records missing: $(cat "$TMP/check.txt")"
fi
# Sent and consumed: the budget is free again.
: >"$TMP/acked2"
if timeout 60 python3 "$E2E_DIR/wal_client.py" "$FRONT_PORT" 500000 200 50 "$TMP/acked2" \
	--deadline 30 >"$TMP/client2.txt" 2>&1; then
	ok "accepted again once the queue drained"
else
	bad "still refused after draining: $(tail -2 "$TMP/client2.txt")"
fi
# A second otflow on the same queue directory: the queue is locked by the
# first; the second waits `timeout` (1s) for it, then refuses its requests
# (503, saying why) and keeps running; the first is unaffected.
P2=$(free_port) H2=$(free_port) M2=$(free_port)
OTF_PORT=$P2 OTF_HEALTH_PORT=$H2 OTF_BACKEND_PORT=$B_PORT OTF_METRICS_PORT=$M2 OTF_QUEUE_DIR=$QDIR \
	"$OTF_BIN" --config "$WAL_CFG" >"$TMP/second.log" 2>&1 &
SECOND=$!
track "$SECOND"
i=0
until [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$H2/")" = 200 ]; do
	i=$((i + 1))
	[ $i -lt 200 ] && kill -0 "$SECOND" 2>/dev/null || { bad "second otflow did not start: $(tail -3 "$TMP/second.log")"; break; }
	sleep 0.1
done
code=$(curl -s -m 30 -o "$TMP/second.body" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x"}}]}]}]}' \
	"http://127.0.0.1:$P2/v1/logs")
if [ "$code" = 503 ] && grep -q "in use by another process" "$TMP/second.body"; then
	ok "a second process on the same queue is refused with the reason: $(head -c 160 "$TMP/second.body")"
else
	bad "second process: $code $(head -c 300 "$TMP/second.body")"
fi
grep -q "queue in use by another process" "$TMP/second.log" && ok "and logs it" || bad "not logged: $(tail -3 "$TMP/second.log")"
kill -TERM "$SECOND" 2>/dev/null
wait_pid "$SECOND" 20 || bad "second otflow: exit status $?"
: >"$TMP/acked3"
timeout 60 python3 "$E2E_DIR/wal_client.py" "$FRONT_PORT" 700000 50 50 "$TMP/acked3" --once \
	>"$TMP/client3.txt" 2>&1 && ok "the first still acknowledges" || bad "first: $(tail -2 "$TMP/client3.txt")"

kill -TERM "$FRONT_PID" 2>/dev/null
if wait_pid "$FRONT_PID" 20; then ok "front exits 0 on SIGTERM"; else bad "front: exit status $?"; fi
kill -TERM "$B_PID" 2>/dev/null
wait_pid "$B_PID" 20
finish
