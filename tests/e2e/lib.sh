# Shared helpers of the end-to-end tests (tests/e2e/e2e_*.sh), sourced by
# bash. Provides: a temp dir ($TMP), pass/fail counters, cleanup of every
# process started (trap), free loopback ports, starting otflow on the test
# configuration and waiting for its health check, stopping it with SIGTERM,
# bounded waits, and `npm ci` of the test clients when needed.
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

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
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

# otf_start NAME [CONFIG...]: starts otflow on the configs (default: the
# e2e test config) with fresh free ports, output file $TMP/NAME.jsonl and
# log $TMP/NAME.log; waits (10s at most) for the health check to answer 200.
# Sets OTF_PID, OTF_PORT, OTF_URL, OTF_OUT, OTF_LOG. Extra environment for
# the config (OTF_E2E_MAX_BODY, OTF_E2E_IDLE_TIMEOUT ...) is inherited.
otf_start() {
	local name=$1
	shift
	[ $# -gt 0 ] || set -- "$E2E_DIR/otflow-e2e.yaml"
	local cfgs=() c attempt i code
	for c in "$@"; do cfgs+=(--config "$c"); done
	OTF_OUT="$TMP/$name.jsonl"
	OTF_LOG="$TMP/$name.log"
	for attempt in 1 2 3; do
		OTF_PORT=$(free_port)
		OTF_HEALTH_PORT=$(free_port)
		# shellcheck disable=SC2034 # for the sourcing scripts
		OTF_URL="http://127.0.0.1:$OTF_PORT"
		rm -f "$OTF_OUT"
		OTF_E2E_PORT=$OTF_PORT OTF_E2E_HEALTH_PORT=$OTF_HEALTH_PORT OTF_E2E_OUT=$OTF_OUT \
			"$OTF_BIN" "${cfgs[@]}" >"$OTF_LOG" 2>&1 &
		OTF_PID=$!
		track "$OTF_PID"
		i=0
		while [ $i -lt 100 ]; do
			if ! kill -0 "$OTF_PID" 2>/dev/null; then
				break
			fi
			code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$OTF_HEALTH_PORT/" 2>/dev/null)
			if [ "$code" = 200 ]; then
				return 0
			fi
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$OTF_PID" 2>/dev/null
		wait "$OTF_PID" 2>/dev/null
		untrack "$OTF_PID"
		echo "otflow did not become healthy (attempt $attempt, ports $OTF_PORT/$OTF_HEALTH_PORT):"
		sed 's/^/  | /' "$OTF_LOG" | tail -20
	done
	OTF_PID=""
	return 1
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
