# The failover scenario shared by e2e_failover.sh (failover_router
# processor) and e2e_failover_connector.sh (the Collector's failover
# connector), sourced after lib.sh. Two backends (otflow on
# tests/e2e/otflow-e2e.yaml writing $TMP/NAME.jsonl) behind a front the
# sourcing script starts:
#  - primary up: a request lands at the primary;
#  - primary killed (SIGKILL): every request still gets 200 and lands at the
#    secondary, each once;
#  - primary back on its port: after the retry interval (1 s) traffic
#    returns to it.
# Over the whole run every request posted is held by exactly one backend.
#
# The sourcing script sets TRACES (the request body, OTLP/JSON) and
# defines front_exec FRONT_PORT HEALTH_PORT PRIMARY_PORT SECONDARY_PORT,
# which runs (exec) otflow on its front config; then calls failover_run.

# start_backend NAME PORT: a backend otflow on PORT writing $TMP/NAME.jsonl;
# its PID in LAST_PID once healthy (30 s at most). Its health port is
# chosen at each start, afresh when it was taken meanwhile.
start_backend() {
	local health attempt end
	for attempt in 1 2 3; do
		health=$(free_port)
		OTF_E2E_PORT=$2 OTF_E2E_HEALTH_PORT=$health OTF_E2E_OUT="$TMP/$1.jsonl" \
			"$OTF_BIN" --config "$E2E_DIR/otflow-e2e.yaml" >"$TMP/$1.log" 2>&1 &
		LAST_PID=$!
		track "$LAST_PID"
		end=$((SECONDS + 30))
		until [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$health/")" = 200 ]; do
			if ! kill -0 "$LAST_PID" 2>/dev/null; then
				wait "$LAST_PID" 2>/dev/null
				untrack "$LAST_PID"
				echo "$1 exited while starting (attempt $attempt): $(tail -3 "$TMP/$1.log")"
				continue 2
			fi
			if [ $SECONDS -ge $end ]; then
				bad "$1 not healthy after 30 s: $(tail -5 "$TMP/$1.log")"
				return 1
			fi
			sleep 0.1
		done
		return 0
	done
	bad "$1 did not start: $(tail -5 "$TMP/$1.log")"
	return 1
}

# start_front: front_exec on fresh ports (FRONT_PORT, FRONT_HEALTH), healthy
# within 30 s; FRONT_PID. Started again on other ports if it exits first.
start_front() {
	local attempt end
	for attempt in 1 2 3; do
		FRONT_PORT=$(free_port) FRONT_HEALTH=$(free_port)
		front_exec "$FRONT_PORT" "$FRONT_HEALTH" "$P_PORT" "$S_PORT" >"$TMP/front.log" 2>&1 &
		FRONT_PID=$!
		track "$FRONT_PID"
		end=$((SECONDS + 30))
		until [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FRONT_HEALTH/")" = 200 ]; do
			if ! kill -0 "$FRONT_PID" 2>/dev/null; then
				wait "$FRONT_PID" 2>/dev/null
				untrack "$FRONT_PID"
				echo "front exited while starting (attempt $attempt): $(tail -3 "$TMP/front.log")"
				continue 2
			fi
			if [ $SECONDS -ge $end ]; then
				bad "front not healthy after 30 s: $(tail -5 "$TMP/front.log")"
				return 1
			fi
			sleep 0.1
		done
		return 0
	done
	bad "front did not start: $(tail -5 "$TMP/front.log")"
	return 1
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
# holds FILE WHAT N: polls (20 s at most) until FILE holds N copies
holds() {
	local end=$((SECONDS + 20))
	until copies "$1" "$3"; do
		[ $SECONDS -lt $end ] || break
		sleep 0.1
	done
	if copies "$1" "$3"; then
		ok "$2 holds exactly $3 copies of the request"
	else
		bad "$2 does not hold $3 copies: $(head -5 "$TMP/c.txt")"
	fi
}

failover_run() {
	local k i to_secondary back p
	"$OTF_BIN" pdata convert --signal traces --from json --to json "$TRACES" -o "$TMP/expect.json" ||
		bad "pdata convert"
	# The primary's port outlives its first process: free_port keeps it
	# reserved until the test ends.
	P_PORT=$(free_port) S_PORT=$(free_port)
	start_backend primary1 "$P_PORT" || finish
	P_PID=$LAST_PID
	start_backend secondary "$S_PORT" || finish
	S_PID=$LAST_PID
	start_front || finish

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
}
