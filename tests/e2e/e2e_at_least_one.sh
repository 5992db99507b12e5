#!/usr/bin/env bash
# Seed scenario 2, at-least-one acknowledgement
# (examples/scenarios/at-least-one.yaml), with real processes: OTLP ->
# deadline -> batch -> ack (fanout: at_least_one) -> (retry -> otlphttp
# exporter 1, retry -> otlphttp exporter 2), each to a backend otflow
# writing a file (tests/e2e/otflow-e2e.yaml).
#  - both backends up: 200, each backend holds the spans posted;
#  - backend 1 down: the client still gets 200, backend 2 holds the spans;
#  - both down, backend 2 started while the client waits: its retry node
#    delivers, the client gets 200 and backend 2 holds the spans;
#  - both down: the client gets a retryable failure (504) at the deadline
#    (3 s here), not at once.
# print-dag shows the policy and the retry node on each branch.
set -u
. "$(dirname "$0")/lib.sh"
CFG="$OTF_SOURCE_DIR/examples/scenarios/at-least-one.yaml"
TRACES="$OTF_SOURCE_DIR/examples/pdata/traces.json"

OTF_PORT=1 OTF_HEALTH_PORT=2 OTF_BACKEND1_PORT=3 OTF_BACKEND2_PORT=4 \
	"$OTF_BIN" print-dag --config "$CFG" >"$TMP/dag.txt" 2>&1
grep -q "processor ack (type ack, fanout at_least_one)" "$TMP/dag.txt" &&
	ok "print-dag shows the fan-out policy" || bad "print-dag: $(cat "$TMP/dag.txt")"
grep -A2 "^processor ack " "$TMP/dag.txt" | grep -q -- "-> retry1 " &&
	grep -A2 "^processor ack " "$TMP/dag.txt" | grep -q -- "-> retry2 " &&
	grep -A1 "^processor retry1 (type retry)" "$TMP/dag.txt" | grep -q -- "-> backend1 " &&
	grep -A1 "^processor retry2 (type retry)" "$TMP/dag.txt" | grep -q -- "-> backend2 " &&
	ok "each branch of the ack node goes through a retry node" ||
	bad "no retry node per branch: $(cat "$TMP/dag.txt")"

"$OTF_BIN" pdata convert --signal traces --from json --to json "$TRACES" -o "$TMP/expect.json" ||
	bad "pdata convert"

start_front() { # NAME BACKEND1_PORT BACKEND2_PORT [DEADLINE]
	FRONT_PORT=$(free_port) FRONT_HEALTH=$(free_port)
	OTF_DEADLINE=${4:-5s} \
		OTF_PORT=$FRONT_PORT OTF_HEALTH_PORT=$FRONT_HEALTH OTF_BACKEND1_PORT=$2 OTF_BACKEND2_PORT=$3 \
		"$OTF_BIN" --config "$CFG" >"$TMP/$1.log" 2>&1 &
	FRONT_PID=$!
	track "$FRONT_PID"
	local i=0
	while [ $i -lt 100 ]; do
		[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FRONT_HEALTH/")" = 200 ] && return 0
		kill -0 "$FRONT_PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	bad "$1: otflow did not start: $(tail -5 "$TMP/$1.log")"
	return 1
}
stop_front() {
	kill -TERM "$FRONT_PID" 2>/dev/null
	if wait_pid "$FRONT_PID" 20; then ok "$1: exits 0 on SIGTERM"; else bad "$1: exit status $?"; fi
}
post() {
	curl -s -m 20 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "@$TRACES" "http://127.0.0.1:$FRONT_PORT/v1/traces"
}
# holds FILE WHAT N: polls (5 s at most) until FILE is content-equal to N
# copies of the request
holds() {
	local i=0 want=() k
	for ((k = 0; k < $3; k++)); do want+=("$TMP/expect.json"); done
	while [ $i -lt 50 ]; do
		timeout 60 node "$E2E_DIR/check.mjs" same "$1" "${want[@]}" >"$TMP/c.txt" 2>&1 && break
		sleep 0.1
		i=$((i + 1))
	done
	if timeout 60 node "$E2E_DIR/check.mjs" same "$1" "${want[@]}" >"$TMP/c.txt" 2>&1; then
		ok "$2 holds exactly the spans posted"
	else
		bad "$2 does not hold the spans posted: $(head -10 "$TMP/c.txt")"
	fi
}

DOWN1=$(free_port) DOWN2=$(free_port)
otf_start backend2 || bad "backend 2 did not start"
B2_PID=$OTF_PID B2_PORT=$OTF_PORT B2_OUT=$OTF_OUT
otf_start backend1 || bad "backend 1 did not start"
B1_PORT=$OTF_PORT B1_OUT=$OTF_OUT

if start_front both "$B1_PORT" "$B2_PORT"; then
	expect_eq "both backends up: client told" 200 "$(post)"
	holds "$B1_OUT" "backend 1" 1
	holds "$B2_OUT" "backend 2" 1
	stop_front both
fi
otf_stop # backend 1

if start_front one "$DOWN1" "$B2_PORT"; then
	expect_eq "backend 1 down: client still told" 200 "$(post)"
	holds "$B2_OUT" "backend 2 (backend 1 down: its second copy)" 2
	stop_front one
fi
OTF_PID=$B2_PID
otf_stop # backend 2

# Both down at first; backend 2 comes up while the client waits (its
# retry node is retrying: the log says so): delivered, told 200.
LATE_PORT=$(free_port)
if start_front late "$DOWN1" "$LATE_PORT" 30s; then
	post >"$TMP/late.code" &
	CLIENT=$!
	i=0
	until grep -q "retry2.*will retry" "$TMP/late.log"; do
		i=$((i + 1))
		[ $i -lt 100 ] || break
		sleep 0.1
	done
	grep -q "retry2.*will retry" "$TMP/late.log" && ok "backend 2 down: its retry node retries" ||
		bad "retry2 never retried: $(tail -5 "$TMP/late.log")"
	LATE_HEALTH=$(free_port)
	OTF_E2E_PORT=$LATE_PORT OTF_E2E_HEALTH_PORT=$LATE_HEALTH OTF_E2E_OUT="$TMP/late.jsonl" \
		"$OTF_BIN" --config "$E2E_DIR/otflow-e2e.yaml" >"$TMP/late-backend.log" 2>&1 &
	track $!
	wait "$CLIENT"
	expect_eq "backend 2 up while the client waits: client told" 200 "$(cat "$TMP/late.code")"
	holds "$TMP/late.jsonl" "backend 2 (started late)" 1
	stop_front late
fi

# Both stay down: the retry nodes give up at the message's deadline (3 s),
# and the client is told so then (504, retryable), not at once.
if start_front none "$DOWN1" "$DOWN2" 3s; then
	t0=$(date +%s%N)
	code=$(post)
	ms=$((($(date +%s%N) - t0) / 1000000))
	expect_eq "both backends down: client told (retryable, deadline exceeded)" 504 "$code"
	[ "$ms" -ge 2000 ] && [ "$ms" -lt 15000 ] &&
		ok "both backends down: answered at the 3 s deadline (${ms} ms), after retries" ||
		bad "both backends down: answered after ${ms} ms, not at the 3 s deadline"
	stop_front none
fi
finish
