#!/usr/bin/env bash
# The ack node's pre_export mode with real processes
# (examples/scenarios/pre-export.yaml, queue_size 1, one worker): with the backend down,
# the first client is answered 200 once its request is in the exporter's
# sending queue, without waiting for the backend; a second client, while
# that request still fills the queue, is answered 503 (retryable: the queue
# did not take it, so it was not acknowledged). The backend, started later,
# receives the first request's spans exactly once.
set -u
. "$(dirname "$0")/lib.sh"
CFG="$OTF_SOURCE_DIR/examples/scenarios/pre-export.yaml"
TRACES="$OTF_SOURCE_DIR/examples/pdata/traces.json"
"$OTF_BIN" pdata convert --signal traces --from json --to json "$TRACES" -o "$TMP/expect.json" ||
	bad "pdata convert"

B_PORT=$(free_port) B_HEALTH=$(free_port)
FRONT_PORT=$(free_port) FRONT_HEALTH=$(free_port)
OTF_PORT=$FRONT_PORT OTF_HEALTH_PORT=$FRONT_HEALTH OTF_BACKEND_PORT=$B_PORT OTF_QUEUE_SIZE=1 OTF_WORKERS=1 \
	"$OTF_BIN" --config "$CFG" >"$TMP/front.log" 2>&1 &
FRONT_PID=$!
track "$FRONT_PID"
i=0
until [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FRONT_HEALTH/")" = 200 ]; do
	i=$((i + 1))
	if [ $i -ge 100 ] || ! kill -0 "$FRONT_PID" 2>/dev/null; then
		bad "front did not start: $(tail -5 "$TMP/front.log")"
		finish
	fi
	sleep 0.1
done

post() {
	curl -s -m 30 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "@$TRACES" "http://127.0.0.1:$FRONT_PORT/v1/traces"
}
expect_eq "client 1 (backend down) told, once queued" 200 "$(post)"
# The request is retrying in the queue: the backend was never up.
i=0
until grep -q "Will retry" "$TMP/front.log"; do
	i=$((i + 1))
	[ $i -lt 100 ] || { bad "no retry logged: $(tail -5 "$TMP/front.log")"; break; }
	sleep 0.1
done
expect_eq "client 2 (queue full) told retryable" 503 "$(post)"

OTF_OUT="$TMP/backend.jsonl"
OTF_E2E_PORT=$B_PORT OTF_E2E_HEALTH_PORT=$B_HEALTH OTF_E2E_OUT=$OTF_OUT \
	"$OTF_BIN" --config "$E2E_DIR/otflow-e2e.yaml" >"$TMP/backend.log" 2>&1 &
OTF_PID=$!
track "$OTF_PID"
i=0
until timeout 60 node "$E2E_DIR/check.mjs" same "$OTF_OUT" "$TMP/expect.json" >"$TMP/c.txt" 2>&1; do
	i=$((i + 1))
	[ $i -lt 150 ] || break
	sleep 0.1
done
if timeout 60 node "$E2E_DIR/check.mjs" same "$OTF_OUT" "$TMP/expect.json" >"$TMP/c.txt" 2>&1; then
	ok "backend holds client 1's spans, once (client 2's were refused)"
else
	bad "backend does not hold client 1's spans once: $(head -10 "$TMP/c.txt")"
fi
grep -q "dropped" "$TMP/front.log" && bad "the ack node dropped data: $(grep dropped "$TMP/front.log")"

# Without a sending queue to report (queue disabled), pre_export acts as
# downstream, and says so once at the first such delivery.
sed 's/^      enabled: true # unused$//; /^    sending_queue:/,/^      queue_size:/s/^      enabled: true$/      enabled: false/' \
	"$CFG" >"$TMP/noqueue.yaml"
grep -A1 "sending_queue:" "$TMP/noqueue.yaml" | grep -q "enabled: false" || bad "noqueue.yaml: queue still on"
P2=$(free_port) H2=$(free_port)
OTF_PORT=$P2 OTF_HEALTH_PORT=$H2 OTF_BACKEND_PORT=$B_PORT OTF_WORKERS=1 \
	"$OTF_BIN" --config "$TMP/noqueue.yaml" >"$TMP/noqueue.log" 2>&1 &
NQ_PID=$!
track "$NQ_PID"
i=0
until [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$H2/")" = 200 ]; do
	i=$((i + 1))
	[ $i -lt 100 ] && kill -0 "$NQ_PID" 2>/dev/null || { bad "noqueue front did not start"; break; }
	sleep 0.1
done
for k in 1 2; do
	expect_eq "no queue: client $k told (backend up)" 200 "$(curl -s -m 30 -o /dev/null -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary "@$TRACES" "http://127.0.0.1:$P2/v1/traces")"
done
expect_eq "no queue: pre_export warns once that it acts as downstream" 1 \
	"$(grep -c "mode pre_export: a message was delivered without a queued report" "$TMP/noqueue.log")"
kill -TERM "$NQ_PID" 2>/dev/null
wait_pid "$NQ_PID" 20 || bad "noqueue front: exit status $?"

otf_stop
kill -TERM "$FRONT_PID" 2>/dev/null
if wait_pid "$FRONT_PID" 20; then ok "front exits 0 on SIGTERM"; else bad "front: exit status $?"; fi
finish
