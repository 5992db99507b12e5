# Helpers of the Kafka end-to-end tests (e2e_kafka*.sh), sourced after
# lib.sh: the librdkafka mock cluster (tests/support/kafka_mock.c) as a
# coprocess taking commands, otflow instances on generated configs, and
# bounded waits on the records a file exporter wrote.
KAFKA_TOOL="$E2E_DIR/kafka_tool.py"
KAFKA_MOCK="${OTF_BUILD_DIR:-$OTF_SOURCE_DIR/build}/tests/kafka_mock"
[ -x "$KAFKA_MOCK" ] || KAFKA_MOCK="$(dirname "$OTF_BIN")/tests/kafka_mock"

# mock_start [BROKERS]: starts the mock cluster; sets BROKERS (host:port,...).
mock_start() {
	coproc MOCK { exec "$KAFKA_MOCK" "${1:-1}" 2>"$TMP/mock.err"; }
	track "$MOCK_PID"
	MOCK_IN=${MOCK[1]}
	MOCK_OUT=${MOCK[0]}
	read -r -t 10 BROKERS <&"$MOCK_OUT" || {
		bad "mock cluster did not start: $(cat "$TMP/mock.err")"
		finish
	}
}

# mock CMD...: one command to the mock cluster; fails the test unless "ok".
mock() {
	local reply
	echo "$*" >&"$MOCK_IN"
	read -r -t 10 reply <&"$MOCK_OUT"
	[ "$reply" = ok ] || bad "mock '$*': ${reply:-no answer}"
}

# otf_run NAME CONFIG [CONFIG...]: starts otflow on the configs (merged) in
# the background (log $TMP/NAME.log), sets PID_<NAME>; the environment
# carries the config's values.
otf_run() {
	local name=$1 c args=()
	shift
	for c in "$@"; do args+=(--config "$c"); done
	"$OTF_BIN" "${args[@]}" >>"$TMP/$name.log" 2>&1 &
	local pid=$!
	track "$pid"
	eval "PID_$name=$pid"
}

# wait_http PORT NAME: until the OTLP/HTTP port of NAME accepts (10 s).
wait_http() {
	local i=0
	until curl -s -o /dev/null -m 1 "http://127.0.0.1:$1/"; do
		i=$((i + 1))
		if [ $i -ge 100 ]; then
			bad "$2 does not listen on $1: $(tail -5 "$TMP/$2.log")"
			finish
		fi
		sleep 0.1
	done
}

# wait_up NAME URL [CODE] [SECONDS]: until URL answers CODE (default: any
# HTTP answer) while NAME's process runs, SECONDS (30) at most. Returns 0
# once up, 1 when the process exited first (most often a port taken: start
# it again on other ports), 2 when it is still not up; the log's tail is
# printed on failure.
wait_up() {
	local pid code end=$((SECONDS + ${4:-30}))
	eval "pid=\$PID_$1"
	while :; do
		code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$2" 2>/dev/null)
		if [ -n "${3:-}" ]; then [ "$code" = "$3" ] && return 0; else [ "$code" != 000 ] && return 0; fi
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			untrack "$pid"
			echo "$1 exited while starting: $(tail -3 "$TMP/$1.log")"
			return 1
		fi
		if [ $SECONDS -ge $end ]; then
			echo "$1 not up on $2 after ${4:-30} s: $(tail -3 "$TMP/$1.log")"
			return 2
		fi
		sleep 0.1
	done
}

# wait_log NAME PATTERN SECONDS: until NAME's log matches (grep -E).
wait_log() {
	local i=0
	until grep -qE "$2" "$TMP/$1.log"; do
		i=$((i + 1))
		if [ $i -ge $(($3 * 10)) ]; then
			bad "$1: no '$2' in the log after $3 s: $(tail -5 "$TMP/$1.log")"
			return 1
		fi
		sleep 0.1
	done
}

# wait_records OUTS N SECONDS: until the outputs (comma-separated) hold at
# least N log records; returns 1 (no failure counted) when they do not.
wait_records() {
	local end=$((SECONDS + $3)) n
	while :; do
		n=$(python3 "$KAFKA_TOOL" count "$1" 2>/dev/null || echo 0)
		[ "$n" -ge "$2" ] && return 0
		if [ $SECONDS -ge $end ]; then
			echo "wait_records: $n of $2 after $3 s"
			return 1
		fi
		sleep 0.2
	done
}

# wait_complete OUTS SENT SECONDS: until the outputs hold every record SENT
# acknowledged (duplicates allowed: a count alone would be fooled by them).
wait_complete() {
	local end=$((SECONDS + $3))
	until python3 "$KAFKA_TOOL" check "$1" "$2" --allow-dups >/dev/null 2>&1; do
		if [ $SECONDS -ge $end ]; then
			echo "wait_complete: not complete after $3 s"
			return 1
		fi
		sleep 0.3
	done
}

# stop NAME: SIGTERM, and exit 0 within 20 s.
stop() {
	local pid
	eval "pid=\$PID_$1"
	kill -TERM "$pid" 2>/dev/null
	if wait_pid "$pid" 20; then ok "$1 exits 0 on SIGTERM"; else bad "$1: exit status $?"; fi
}
