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
recs = [{"body": {"stringValue": "extra-%d" % i}} for i in range(50)]
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
kill -TERM "$FRONT_PID" 2>/dev/null
if wait_pid "$FRONT_PID" 20; then ok "front exits 0 on SIGTERM"; else bad "front: exit status $?"; fi
kill -TERM "$B_PID" 2>/dev/null
wait_pid "$B_PID" 20
finish
