#!/usr/bin/env bash
# The retry node with real processes (examples/scenarios/retry.yaml): OTLP
# -> retry -> otlphttp exporter to a backend otflow (tests/e2e/otflow-e2e.yaml)
# that starts 2 s after the clients posted. The receiver waits for the
# result: every client gets 200 once the backend is up, and the backend
# holds exactly the spans posted (each request once).
set -u
. "$(dirname "$0")/lib.sh"
CFG="$OTF_SOURCE_DIR/examples/scenarios/retry.yaml"
TRACES="$OTF_SOURCE_DIR/examples/pdata/traces.json"
N=3

"$OTF_BIN" pdata convert --signal traces --from json --to json "$TRACES" -o "$TMP/expect.json" ||
	bad "pdata convert"

B_PORT=$(free_port) B_HEALTH=$(free_port)
FRONT_PORT=$(free_port) FRONT_HEALTH=$(free_port)
OTF_PORT=$FRONT_PORT OTF_HEALTH_PORT=$FRONT_HEALTH OTF_BACKEND_PORT=$B_PORT \
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

# The clients post while the backend is down; each waits for its answer.
CURLS=""
for ((k = 0; k < N; k++)); do
	curl -s -m 60 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "@$TRACES" "http://127.0.0.1:$FRONT_PORT/v1/traces" >"$TMP/code.$k" &
	CURLS="$CURLS $!"
done
# Await the first failed attempt, then keep the backend down 2 s (the
# outage under test: several retries fall into it).
i=0
until grep -q "will retry" "$TMP/front.log"; do
	i=$((i + 1))
	[ $i -lt 100 ] || { bad "no retry logged: $(tail -5 "$TMP/front.log")"; break; }
	sleep 0.1
done
sleep 2
for ((k = 0; k < N; k++)); do
	[ -s "$TMP/code.$k" ] && bad "client $k answered while the backend was down: $(cat "$TMP/code.$k")"
done

OTF_OUT="$TMP/backend.jsonl"
OTF_E2E_PORT=$B_PORT OTF_E2E_HEALTH_PORT=$B_HEALTH OTF_E2E_OUT=$OTF_OUT \
	"$OTF_BIN" --config "$E2E_DIR/otflow-e2e.yaml" >"$TMP/backend.log" 2>&1 &
OTF_PID=$!
track "$OTF_PID"

for p in $CURLS; do wait "$p"; done
for ((k = 0; k < N; k++)); do
	expect_eq "client $k told (backend up 2 s late)" 200 "$(cat "$TMP/code.$k")"
done

want=()
for ((k = 0; k < N; k++)); do want+=("$TMP/expect.json"); done
i=0
until timeout 60 node "$E2E_DIR/check.mjs" same "$OTF_OUT" "${want[@]}" >"$TMP/c.txt" 2>&1; do
	i=$((i + 1))
	[ $i -lt 50 ] || break
	sleep 0.1
done
if timeout 60 node "$E2E_DIR/check.mjs" same "$OTF_OUT" "${want[@]}" >"$TMP/c.txt" 2>&1; then
	ok "backend holds exactly the spans posted, each request once"
else
	bad "backend does not hold the spans posted: $(head -10 "$TMP/c.txt")"
fi
grep -q "will retry" "$TMP/front.log" && ok "retries logged" || bad "no retry in the log"

otf_stop
kill -TERM "$FRONT_PID" 2>/dev/null
if wait_pid "$FRONT_PID" 20; then ok "front exits 0 on SIGTERM"; else bad "front: exit status $?"; fi
finish
