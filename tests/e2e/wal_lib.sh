# Helpers of the durable-queue tests (e2e_wal_*.sh), sourced after lib.sh:
# the front otflow of examples/scenarios/ack-ingress-wal.yaml (OTLP ->
# otlphttp exporter with a file_storage sending queue), started and killed
# on fixed ports chosen once, and the backend otflow (tests/e2e/otflow-e2e.yaml)
# writing what it receives to a file.
WAL_CFG="$OTF_SOURCE_DIR/examples/scenarios/ack-ingress-wal.yaml"
FRONT_PORT=$(free_port)
FRONT_HEALTH=$(free_port)
B_PORT=$(free_port)
B_HEALTH=$(free_port)
FRONT_METRICS=$(free_port)
QDIR="$TMP/queue"
FRONT_PID=""
B_PID=""
B_OUT="$TMP/backend.jsonl"

# front_start LOGNAME: starts the front, waits (20 s at most) for health.
front_start() {
	OTF_PORT=$FRONT_PORT OTF_HEALTH_PORT=$FRONT_HEALTH OTF_BACKEND_PORT=$B_PORT \
		OTF_METRICS_PORT=$FRONT_METRICS OTF_QUEUE_DIR=$QDIR "$OTF_BIN" --config "$WAL_CFG" >>"$TMP/$1.log" 2>&1 &
	FRONT_PID=$!
	track "$FRONT_PID"
	local i=0
	until [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FRONT_HEALTH/")" = 200 ]; do
		i=$((i + 1))
		if [ $i -ge 200 ] || ! kill -0 "$FRONT_PID" 2>/dev/null; then
			bad "front did not start: $(tail -5 "$TMP/$1.log")"
			return 1
		fi
		sleep 0.1
	done
}

front_kill9() {
	kill -9 "$FRONT_PID" 2>/dev/null
	wait "$FRONT_PID" 2>/dev/null
	untrack "$FRONT_PID"
	FRONT_PID=""
}

backend_start() {
	OTF_E2E_PORT=$B_PORT OTF_E2E_HEALTH_PORT=$B_HEALTH OTF_E2E_OUT=$B_OUT \
		"$OTF_BIN" --config "$E2E_DIR/otflow-e2e.yaml" >>"$TMP/backend.log" 2>&1 &
	B_PID=$!
	track "$B_PID"
	local i=0
	until [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$B_HEALTH/")" = 200 ]; do
		i=$((i + 1))
		if [ $i -ge 200 ] || ! kill -0 "$B_PID" 2>/dev/null; then
			bad "backend did not start: $(tail -5 "$TMP/backend.log")"
			return 1
		fi
		sleep 0.1
	done
}

# await_all ACKED SECONDS [--expect N]: polls the backend's file until every
# acknowledged id is there; leaves wal_check's summary in $TMP/check.txt.
await_all() {
	local acked=$1 limit=$(($2 * 5)) i=0
	shift 2
	until python3 "$E2E_DIR/wal_check.py" "$B_OUT" "$acked" "$@" >"$TMP/check.txt" 2>&1; do
		i=$((i + 1))
		[ $i -lt $limit ] || return 1
		sleep 0.2
	done
}
