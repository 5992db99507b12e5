#!/usr/bin/env bash
# Seed scenario 3, best effort (examples/scenarios/best-effort.yaml), with
# real processes: OTLP/HTTP -> ack(ingress) -> otlphttp exporter.
#  - backend down: the client gets 200 at once and the spans are counted as
#    dropped (otelcol_processor_dropped_spans on the Prometheus endpoint);
#  - the same graph with mode downstream: the client is told 503 (the
#    backend's failure), so it is the ack node that answered before;
#  - backend up (a second otflow writing a file): the spans posted arrive,
#    content-equal to the request.
set -u
. "$(dirname "$0")/lib.sh"
CFG="$OTF_SOURCE_DIR/examples/scenarios/best-effort.yaml"
TRACES="$OTF_SOURCE_DIR/examples/pdata/traces.json"
FRONT_PID=""

start_front() { # NAME MODE BACKEND_PORT: starts otflow on CFG, waits for health
	FRONT_PORT=$(free_port) FRONT_HEALTH=$(free_port) FRONT_PROM=$(free_port)
	OTF_PORT=$FRONT_PORT OTF_HEALTH_PORT=$FRONT_HEALTH OTF_PROM_PORT=$FRONT_PROM \
		OTF_BACKEND_PORT=$3 OTF_ACK_MODE=$2 "$OTF_BIN" --config "$CFG" >"$TMP/$1.log" 2>&1 &
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

post() { # -> "CODE SECONDS"
	curl -s -m 20 -o /dev/null -w '%{http_code} %{time_total}' -H 'Content-Type: application/json' \
		--data-binary "@$TRACES" "http://127.0.0.1:$FRONT_PORT/v1/traces"
}

DOWN=$(free_port) # nothing listens there

# 1. ingress, backend down
if start_front ingress ingress "$DOWN"; then
	read -r code secs <<<"$(post)"
	expect_eq "ingress, backend down: client told" 200 "$code"
	if awk -v s="$secs" 'BEGIN { exit !(s < 2) }'; then
		ok "ingress: answered at once (${secs}s)"
	else
		bad "ingress: answer took ${secs}s"
	fi
	got="" i=0
	while [ $i -lt 100 ]; do
		got=$(curl -s -m 2 "http://127.0.0.1:$FRONT_PROM/metrics" | grep '^otelcol_processor_dropped_spans' | grep 'ack@traces' | awk '{print $2}')
		[ "$got" = 7 ] && break
		sleep 0.1
		i=$((i + 1))
	done
	expect_eq "ingress: the 7 spans the backend never got are counted as dropped" 7 "$got"
	grep -q "dropped 7 traces items acknowledged at ingress" "$TMP/ingress.log" &&
		ok "ingress: the drop is logged" || bad "ingress: no drop log line: $(tail -5 "$TMP/ingress.log")"
	stop_front ingress
fi

# 2. downstream, backend down: the client learns the failure
if start_front downstream downstream "$DOWN"; then
	read -r code _ <<<"$(post)"
	expect_eq "downstream, backend down: client told (retryable)" 503 "$code"
	stop_front downstream
fi

# 3. ingress, backend up: what was posted arrives
"$OTF_BIN" pdata convert --signal traces --from json --to json "$TRACES" -o "$TMP/expect.json" ||
	bad "pdata convert"
if otf_start backend; then
	if start_front up ingress "$OTF_PORT"; then
		read -r code _ <<<"$(post)"
		expect_eq "ingress, backend up: client told" 200 "$code"
		i=0
		while [ $i -lt 100 ] && ! timeout 60 node "$E2E_DIR/check.mjs" same "$OTF_OUT" "$TMP/expect.json" >"$TMP/c.txt" 2>&1; do
			sleep 0.1
			i=$((i + 1))
		done
		if timeout 60 node "$E2E_DIR/check.mjs" same "$OTF_OUT" "$TMP/expect.json" >"$TMP/c.txt" 2>&1; then
			ok "backend received exactly the spans posted: $(cat "$TMP/c.txt")"
		else
			bad "backend output differs from the request: $(head -20 "$TMP/c.txt")"
		fi
		stop_front up
	fi
	otf_stop
else
	bad "backend otflow did not start"
fi
finish
