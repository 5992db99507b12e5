# Shared helpers of the end-to-end tests (tests/e2e/e2e_*.sh), sourced by
# bash. Provides: a temp dir ($TMP), pass/fail counters, cleanup of every
# process started (trap), free loopback ports, starting otflow on the test
# configuration (or one a script writes) and waiting for its health check,
# stopping it with SIGTERM, bounded waits, Prometheus metrics, a one-record
# OTLP/HTTP log client, and `npm ci` of the test clients when needed.
#
# Environment (set by CTest): OTF_BIN (the otflow binary), OTF_SOURCE_DIR.

set -u
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${OTF_SOURCE_DIR:=$(cd "$E2E_DIR/../.." && pwd)}"
if [ -z "${OTF_BIN:-}" ] || [ ! -x "$OTF_BIN" ]; then
	echo "OTF_BIN must name the otflow binary (got '${OTF_BIN:-}')"
	exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/otflow-e2e.XXXXXX")
PASS=0
FAIL=0
PIDS=""      # every background process we started
OTF_PID=""   # the running otflow, if any

cleanup() {
	local p
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $PIDS; do
		# give each a moment, then make sure
		local i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 20 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$p" 2>/dev/null
	done
	python3 "$E2E_DIR/free_port.py" --release $$ 2>/dev/null
	if [ "${E2E_KEEP_TMP:-0}" = 1 ]; then
		echo "kept $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

track() { PIDS="$PIDS $1"; }
untrack() {
	local p out=""
	for p in $PIDS; do [ "$p" = "$1" ] || out="$out $p"; done
	PIDS=$out
}

ok() {
	PASS=$((PASS + 1))
	echo "ok: $*"
}
bad() {
	FAIL=$((FAIL + 1))
	echo "FAIL: $*"
}
# expect_eq WHAT WANT GOT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: want '$2', got '$3'"; fi
}

finish() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ] && [ "$PASS" -gt 0 ]
	exit $?
}

# free_port: a free loopback port, reserved for this test until it exits
# (tests/e2e/free_port.py: below the ephemeral range, so that a port chosen
# now and bound later is not taken meanwhile by a parallel test's bind(0)
# or by the local end of an outgoing connection). $$ is this script's pid
# in the $(free_port) subshell too.
free_port() {
	python3 "$E2E_DIR/free_port.py" $$
}

# wait_pid PID SECONDS: waits for PID to exit; returns its exit status, or
# 124 when it is still running after SECONDS (it is then killed).
wait_pid() {
	local pid=$1 limit=$(($2 * 10)) i=0
	while kill -0 "$pid" 2>/dev/null; do
		if [ $i -ge $limit ]; then
			kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			untrack "$pid"
			return 124
		fi
		sleep 0.1
		i=$((i + 1))
	done
	wait "$pid"
	local rc=$?
	untrack "$pid"
	return $rc
}

# otf_wait_healthy PID HEALTH_PORT: until the health check on HEALTH_PORT
# answers 200 while PID runs, OTF_START_WAIT seconds at most (default 30:
# an ASan build on a loaded machine takes seconds to start). Returns 0
# when healthy, 1 when PID exited first (most often: a port taken between
# its choice and the bind; start it again on fresh ports), 2 on timeout.
otf_wait_healthy() {
	local end=$((SECONDS + ${OTF_START_WAIT:-30})) code
	while kill -0 "$1" 2>/dev/null; do
		code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$2/" 2>/dev/null)
		[ "$code" = 200 ] && return 0
		[ $SECONDS -lt $end ] || return 2
		sleep 0.1
	done
	return 1
}

# otf__failed_start PID LOG WHY ATTEMPT: kills and forgets a start that
# did not become healthy, with the log's tail.
otf__failed_start() {
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	untrack "$1"
	if [ "$3" = 1 ]; then
		echo "otflow exited while starting (attempt $4):"
	else
		echo "otflow not healthy after ${OTF_START_WAIT:-30} s (attempt $4):"
	fi
	sed 's/^/  | /' "$2" | tail -20
}

# otf_start NAME [CONFIG...]: starts otflow on the configs (default: the
# e2e test config) with fresh free ports, output file $TMP/NAME.jsonl and
# log $TMP/NAME.log; waits for the health check (otf_wait_healthy). A
# process that exits first is started again on fresh ports, 3 attempts in
# all; the variables named in OTF_START_PORT_VARS (e.g.
# "OTF_E2E_ADMIN_PORT") get fresh ports too on each attempt. Sets OTF_PID,
# OTF_PORT, OTF_URL, OTF_OUT, OTF_LOG. Extra environment for the config
# (OTF_E2E_MAX_BODY, OTF_E2E_IDLE_TIMEOUT ...) is inherited.
otf_start() {
	local name=$1
	shift
	[ $# -gt 0 ] || set -- "$E2E_DIR/otflow-e2e.yaml"
	local cfgs=() c attempt v rc
	for c in "$@"; do cfgs+=(--config "$c"); done
	OTF_OUT="$TMP/$name.jsonl"
	OTF_LOG="$TMP/$name.log"
	for attempt in 1 2 3; do
		OTF_PORT=$(free_port)
		OTF_HEALTH_PORT=$(free_port)
		for v in ${OTF_START_PORT_VARS:-}; do
			printf -v "$v" '%s' "$(free_port)"
			export "${v?}"
		done
		# shellcheck disable=SC2034 # for the sourcing scripts
		OTF_URL="http://127.0.0.1:$OTF_PORT"
		rm -f "$OTF_OUT"
		OTF_E2E_PORT=$OTF_PORT OTF_E2E_HEALTH_PORT=$OTF_HEALTH_PORT OTF_E2E_OUT=$OTF_OUT \
			"$OTF_BIN" "${cfgs[@]}" >"$OTF_LOG" 2>&1 &
		OTF_PID=$!
		track "$OTF_PID"
		otf_wait_healthy "$OTF_PID" "$OTF_HEALTH_PORT"
		rc=$?
		[ $rc = 0 ] && return 0
		echo "ports $OTF_PORT/$OTF_HEALTH_PORT:"
		otf__failed_start "$OTF_PID" "$OTF_LOG" $rc $attempt
		[ $rc = 1 ] || break
	done
	OTF_PID=""
	return 1
}

# otf_start_yaml CONFIG_FN: starts otflow on the config CONFIG_FN writes
# to stdout ($TMP/c.yaml), which uses PORT (the OTLP receiver), HEALTH
# (health_check) and PROM (Prometheus metrics) as its ports: each attempt
# chooses them afresh, then as otf_start. Log $TMP/otflow.log; sets
# OTF_PID (and PID), OTF_LOG; fails the test when it does not start.
otf_start_yaml() {
	local attempt rc
	OTF_LOG="$TMP/otflow.log"
	for attempt in 1 2 3; do
		PORT=$(free_port) HEALTH=$(free_port) PROM=$(free_port)
		"$1" >"$TMP/c.yaml"
		"$OTF_BIN" --config "$TMP/c.yaml" >"$OTF_LOG" 2>&1 &
		OTF_PID=$!
		track "$OTF_PID"
		otf_wait_healthy "$OTF_PID" "$HEALTH"
		rc=$?
		if [ $rc = 0 ]; then
			# shellcheck disable=SC2034 # for the sourcing scripts
			PID=$OTF_PID
			return 0
		fi
		otf__failed_start "$OTF_PID" "$OTF_LOG" $rc $attempt
		[ $rc = 1 ] || break
	done
	OTF_PID=""
	bad "otflow did not start"
	return 1
}

# prom_metric PREFIX: the sum of the series whose line starts with PREFIX
# on the Prometheus endpoint at $PROM.
prom_metric() {
	curl -s -m 2 "http://127.0.0.1:$PROM/metrics" |
		awk -v p="$1" 'index($0, p) == 1 { s += $NF } END { print s + 0 }'
}

# post_log_record BODY: exec's curl (run it in the background: killing it
# is a client leaving) POSTing one log record with BODY as its body to
# OTLP/HTTP on $PORT; the HTTP code goes into $TMP/BODY.code (nothing when
# curl was killed first).
post_log_record() {
	exec curl -s -m 60 -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
		--data "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"stringValue\":\"$1\"}}]}]}]}" \
		"http://127.0.0.1:$PORT/v1/logs" >"$TMP/$1.code"
}

# otf_stop: SIGTERM, then asserts a clean exit (status 0) within 20s.
otf_stop() {
	[ -n "$OTF_PID" ] || return 0
	kill -TERM "$OTF_PID" 2>/dev/null
	wait_pid "$OTF_PID" 20
	local rc=$?
	OTF_PID=""
	if [ $rc -eq 0 ]; then
		ok "otflow exits 0 on SIGTERM"
	else
		bad "otflow exit status after SIGTERM: $rc (124: still running after 20s)"
		# a sanitizer report: its kind and stack, not only its shadow legend
		if grep -q '^==[0-9]*==ERROR' "$OTF_LOG"; then
			sed -n '/^==[0-9]*==ERROR/,/^SUMMARY/p' "$OTF_LOG" | grep -v '^  0x\|^Shadow' |
				sed 's/^/  | /' | head -60
		else
			sed 's/^/  | /' "$OTF_LOG" | tail -20
		fi
	fi
}

otf_alive() { [ -n "$OTF_PID" ] && kill -0 "$OTF_PID" 2>/dev/null; }

# Installs the test clients' npm packages (tests/e2e/node_modules) when they
# are missing or older than package-lock.json. Serialised by a lock so that
# parallel runs from one source tree do not race.
e2e_npm_ci() {
	local stamp="$E2E_DIR/node_modules/.package-lock.json"
	if [ -f "$stamp" ] && [ ! "$E2E_DIR/package-lock.json" -nt "$stamp" ]; then
		return 0
	fi
	command -v npm >/dev/null 2>&1 || {
		echo "npm is missing (scripts/deps.sh installs it)"
		return 1
	}
	(
		flock -w 300 9 || exit 1
		if [ -f "$stamp" ] && [ ! "$E2E_DIR/package-lock.json" -nt "$stamp" ]; then
			exit 0
		fi
		echo "npm ci in $E2E_DIR"
		cd "$E2E_DIR" || exit 1
		if ! timeout 300 npm ci --no-audit --no-fund --loglevel=error >"$TMP/npm.log" 2>&1; then
			cat "$TMP/npm.log"
			exit 1
		fi
		touch "$stamp"
	) 9>"${TMPDIR:-/tmp}/otflow-e2e-npm.lock"
}
