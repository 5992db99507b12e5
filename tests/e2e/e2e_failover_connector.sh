#!/usr/bin/env bash
# The Collector's failover connector in Collector YAML
# (tests/e2e/failover-connector.yaml: priority_levels, retry_interval,
# retry_gap, max_retries), with real processes: an OTLP/HTTP receiver ->
# connector failover -> pipeline traces/primary (otlphttp to the primary)
# or traces/secondary (otlphttp to the secondary), both backends otflow
# writing a file (tests/e2e/otflow-e2e.yaml).
#  - print-dag: the connector's levels are its ports 0 and 1;
#  - primary up: a request lands at the primary;
#  - primary killed (SIGKILL): every request still gets 200 and lands at the
#    secondary, each once (the message that failed is resent, not lost);
#  - primary back: after retry_interval (1 s) traffic returns to it.
# Over the whole run every request posted is held by exactly one backend.
set -u
. "$(dirname "$0")/lib.sh"
CFG="$E2E_DIR/failover-connector.yaml"
TRACES="$OTF_SOURCE_DIR/examples/pdata/traces.json"

OTF_E2E_PORT=1 OTF_E2E_HEALTH_PORT=2 OTF_PRIMARY_PORT=3 OTF_SECONDARY_PORT=4 \
	"$OTF_BIN" print-dag --config "$CFG" >"$TMP/dag.txt" 2>&1
grep -q "^connector connector:failover (type failover, ports default, 0, 1," "$TMP/dag.txt" &&
	grep -q -- "-> exporter:otlphttp/primary \[traces\] port 0" "$TMP/dag.txt" &&
	grep -q -- "-> exporter:otlphttp/secondary \[traces\] port 1" "$TMP/dag.txt" &&
	ok "print-dag: level 0 feeds the primary's pipeline, level 1 the secondary's" ||
	bad "print-dag: $(cat "$TMP/dag.txt")"

"$OTF_BIN" pdata convert --signal traces --from json --to json "$TRACES" -o "$TMP/expect.json" ||
	bad "pdata convert"

# start_backend NAME PORT: a backend otflow on PORT writing $TMP/NAME.jsonl;
# its PID in LAST_PID once healthy.
start_backend() {
	local health i=0
	health=$(free_port)
	OTF_E2E_PORT=$2 OTF_E2E_HEALTH_PORT=$health OTF_E2E_OUT="$TMP/$1.jsonl" \
		"$OTF_BIN" --config "$E2E_DIR/otflow-e2e.yaml" >"$TMP/$1.log" 2>&1 &
	LAST_PID=$!
	track "$LAST_PID"
	until [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$health/")" = 200 ]; do
		i=$((i + 1))
		if [ $i -ge 100 ] || ! kill -0 "$LAST_PID" 2>/dev/null; then
			bad "$1 did not start: $(tail -5 "$TMP/$1.log")"
			return 1
		fi
		sleep 0.1
	done
}
post() {
	curl -s -m 30 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "@$TRACES" "http://127.0.0.1:$FRONT_PORT/v1/traces"
}
# copies FILE N: true when FILE is content-equal to N copies of the request
copies() {
	local want=() k
	for ((k = 0; k < $2; k++)); do want+=("$TMP/expect.json"); done
	timeout 60 node "$E2E_DIR/check.mjs" same "$1" "${want[@]}" >"$TMP/c.txt" 2>&1
}
# holds FILE WHAT N: polls (5 s at most) until FILE holds N copies
holds() {
	local i=0
	until copies "$1" "$3"; do
		i=$((i + 1))
		[ $i -lt 50 ] || break
		sleep 0.1
	done
	if copies "$1" "$3"; then
		ok "$2 holds exactly $3 copies of the request"
	else
		bad "$2 does not hold $3 copies: $(head -5 "$TMP/c.txt")"
	fi
}

P_PORT=$(free_port) S_PORT=$(free_port)
start_backend primary1 "$P_PORT" || finish
P_PID=$LAST_PID
start_backend secondary "$S_PORT" || finish
S_PID=$LAST_PID

FRONT_PORT=$(free_port) FRONT_HEALTH=$(free_port)
OTF_E2E_PORT=$FRONT_PORT OTF_E2E_HEALTH_PORT=$FRONT_HEALTH OTF_PRIMARY_PORT=$P_PORT \
	OTF_SECONDARY_PORT=$S_PORT \
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

expect_eq "primary up: client told" 200 "$(post)"
holds "$TMP/primary1.jsonl" "primary" 1

kill -KILL "$P_PID"
wait "$P_PID" 2>/dev/null
for k in 1 2 3; do
	expect_eq "primary killed: request $k told" 200 "$(post)"
done
holds "$TMP/secondary.jsonl" "secondary (primary killed)" 3
grep -q "switching to level 1" "$TMP/front.log" && ok "the switch is logged" ||
	bad "no switch in the log: $(tail -5 "$TMP/front.log")"

# Primary back on its port: requests go on to the secondary until the
# router probes the primary again (retry_interval 1 s), then land there.
start_backend primary2 "$P_PORT" || finish
to_secondary=3 back=0
for ((k = 0; k < 20 && !back; k++)); do
	expect_eq "primary back: request told" 200 "$(post)"
	i=0
	while [ $i -lt 10 ]; do
		if copies "$TMP/primary2.jsonl" 1; then
			back=1
			break
		fi
		sleep 0.1
		i=$((i + 1))
	done
	[ $back = 1 ] || to_secondary=$((to_secondary + 1))
done
[ $back = 1 ] && ok "traffic returned to the primary" || bad "traffic did not return to the primary"
holds "$TMP/primary2.jsonl" "restarted primary" 1
holds "$TMP/secondary.jsonl" "secondary (every request it was sent, once)" "$to_secondary"

kill -TERM "$FRONT_PID" 2>/dev/null
if wait_pid "$FRONT_PID" 20; then ok "front exits 0 on SIGTERM"; else bad "front: exit status $?"; fi
for p in "$S_PID" "$LAST_PID"; do
	kill -TERM "$p" 2>/dev/null
	if wait_pid "$p" 20; then ok "backend exits 0 on SIGTERM"; else bad "backend: exit status $?"; fi
done
finish
