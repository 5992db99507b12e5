#!/usr/bin/env bash
# A port is bound once per process: a second otflow started on an OTLP/HTTP,
# OTLP/gRPC or health_check endpoint that a first otflow serves must exit
# non-zero at start with a message naming host:port (as the Collector does
# with "address already in use"), instead of sharing the port through
# SO_REUSEPORT. The first one keeps serving every worker: a trace posted to
# it afterwards reaches its file exporter with the same trace id.
set -u
. "$(dirname "$0")/lib.sh"

cat >"$TMP/grpc.yaml" <<'Y'
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${env:OTF_E2E_GRPC_PORT}
exporters:
  debug:
    verbosity: basic
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
Y

# second NAME WANT_TEXT: runs a second otflow (env set by the caller) and
# asserts that it exits non-zero within 10s with WANT_TEXT in its log.
second() {
	local name=$1 want=$2 rc
	"$OTF_BIN" "${SECOND_ARGS[@]}" >"$TMP/$name.log" 2>&1 &
	local pid=$!
	track "$pid"
	wait_pid "$pid" 10
	rc=$?
	if [ $rc -eq 0 ] || [ $rc -eq 124 ]; then
		bad "$name: second otflow exit status $rc (0: started and exited cleanly, 124: still running)"
	elif grep -q -- "$want" "$TMP/$name.log" && grep -qi "address already in use" "$TMP/$name.log"; then
		ok "$name: second otflow exits $rc naming $want"
	else
		bad "$name: log does not name $want / address already in use:"
		sed 's/^/  | /' "$TMP/$name.log" | tail -10
	fi
}

if ! otf_start first; then
	bad "otflow did not start"
	finish
fi
PORT=$OTF_PORT
HEALTH=$OTF_HEALTH_PORT

SECOND_ARGS=(--config "$E2E_DIR/otflow-e2e.yaml")
OTF_E2E_PORT=$PORT OTF_E2E_HEALTH_PORT=$(free_port) OTF_E2E_OUT="$TMP/second.jsonl" \
	second http "127.0.0.1:$PORT"
OTF_E2E_PORT=$(free_port) OTF_E2E_HEALTH_PORT=$HEALTH OTF_E2E_OUT="$TMP/second.jsonl" \
	second health "127.0.0.1:$HEALTH"

# The first one still serves, and alone: every request is answered by it.
TRACE=5b8efff798038103d269b633813fc60c
cat >"$TMP/t.json" <<J
{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"$TRACE","spanId":"eee19b7ec3c1b174",
"name":"port-taken","kind":1,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000500000000"}]}]}]}
J
codes=""
for i in 1 2 3 4 5 6; do
	codes="$codes$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		--data-binary "@$TMP/t.json" "$OTF_URL/v1/traces") "
done
expect_eq "six posts to the first otflow" "200 200 200 200 200 200 " "$codes"
n=0
for i in $(seq 1 100); do
	n=$(grep -o "$TRACE" "$OTF_OUT" 2>/dev/null | wc -l)
	[ "$n" -ge 6 ] && break
	sleep 0.1
done
expect_eq "trace id in the first otflow's file output" 6 "$n"
otf_stop

# gRPC: same with an OTLP/gRPC endpoint.
GRPC=$(free_port)
OTF_E2E_GRPC_PORT=$GRPC "$OTF_BIN" --config "$TMP/grpc.yaml" >"$TMP/grpc-first.log" 2>&1 &
FIRST=$!
track $FIRST
up=0
for i in $(seq 1 100); do
	grep -q "everything is ready" "$TMP/grpc-first.log" && up=1 && break
	sleep 0.1
done
if [ $up = 1 ]; then
	SECOND_ARGS=(--config "$TMP/grpc.yaml")
	OTF_E2E_GRPC_PORT=$GRPC second grpc "127.0.0.1:$GRPC"
	kill -TERM $FIRST
	wait_pid $FIRST 20
	expect_eq "first gRPC otflow exits 0 on SIGTERM" 0 $?
else
	bad "gRPC otflow did not start:"
	sed 's/^/  | /' "$TMP/grpc-first.log" | tail -10
fi
finish
