#!/usr/bin/env bash
# A persistent sending queue behind a client authenticator: otflow A
# (otlp exporter with bearertokenauth, sending_queue.storage) queues 20
# requests while backend B (bearertokenauth on its gRPC receiver) is down,
# is SIGKILLed, and restarts once B is up: the replayed requests carry the
# token (made again at their first attempt), so B accepts every record.
set -u
. "$(dirname "$0")/lib.sh"
A_PORT=$(free_port) A_HEALTH=$(free_port) B_GRPC=$(free_port) B_HEALTH=$(free_port)
B_OUT="$TMP/b.jsonl"
cat >"$TMP/b.yaml" <<Y
extensions:
  health_check: {endpoint: "127.0.0.1:$B_HEALTH"}
  bearertokenauth/server: {token: s3cret}
receivers:
  otlp: {protocols: {grpc: {endpoint: "127.0.0.1:$B_GRPC", auth: {authenticator: bearertokenauth/server}}}}
exporters:
  file: {path: "$B_OUT", format: json, flush_interval: 50ms}
service:
  extensions: [health_check, bearertokenauth/server]
  telemetry: {metrics: {level: none}}
  pipelines: {logs: {receivers: [otlp], exporters: [file]}}
runtime: {workers: 1}
Y
cat >"$TMP/a.yaml" <<Y
extensions:
  health_check: {endpoint: "127.0.0.1:$A_HEALTH"}
  bearertokenauth/client: {token: s3cret}
  file_storage/q: {directory: "$TMP/queue", create_directory: true}
receivers:
  otlp: {wait_for_result: true, protocols: {http: {endpoint: "127.0.0.1:$A_PORT"}}}
exporters:
  otlp/b:
    endpoint: "127.0.0.1:$B_GRPC"
    tls: {insecure: true}
    auth: {authenticator: bearertokenauth/client}
    retry_on_failure: {initial_interval: 100ms, max_interval: 500ms, max_elapsed_time: 0}
    sending_queue: {storage: file_storage/q, wait_for_result: false}
service:
  extensions: [health_check, bearertokenauth/client, file_storage/q]
  telemetry: {metrics: {level: none}}
  pipelines: {logs: {receivers: [otlp], exporters: [otlp/b]}}
runtime: {workers: 1}
Y
start() { # NAME CONFIG HEALTH_PORT -> PID in $STARTED
	"$OTF_BIN" --config "$2" >>"$TMP/$1.log" 2>&1 &
	STARTED=$!
	track "$STARTED"
	local i=0
	until [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$3/")" = 200 ]; do
		i=$((i + 1))
		if [ $i -ge 200 ] || ! kill -0 "$STARTED" 2>/dev/null; then
			bad "$1 did not start: $(tail -5 "$TMP/$1.log")"
			finish
		fi
		sleep 0.1
	done
}
start a "$TMP/a.yaml" "$A_HEALTH"
A_PID=$STARTED
: >"$TMP/acked"
timeout 60 python3 "$E2E_DIR/wal_client.py" "$A_PORT" 0 200 10 "$TMP/acked" --once \
	>"$TMP/client.txt" 2>&1 && ok "20 requests acknowledged with B down" ||
	bad "client: $(tail -2 "$TMP/client.txt")"
kill -9 "$A_PID"
wait "$A_PID" 2>/dev/null
untrack "$A_PID"
start b "$TMP/b.yaml" "$B_HEALTH"
B_PID=$STARTED
start a "$TMP/a.yaml" "$A_HEALTH"
A_PID=$STARTED
i=0
until python3 "$E2E_DIR/wal_check.py" "$B_OUT" "$TMP/acked" --expect 200 >"$TMP/check.txt" 2>&1; do
	i=$((i + 1))
	[ $i -lt 150 ] || break
	sleep 0.2
done
if python3 "$E2E_DIR/wal_check.py" "$B_OUT" "$TMP/acked" --expect 200 >"$TMP/check.txt" 2>&1; then
	ok "B accepted every replayed record (the token was sent): $(cat "$TMP/check.txt")"
else
	bad "replayed records refused or missing: $(cat "$TMP/check.txt"); $(grep -i "unauth\|dropping" "$TMP/a.log" | head -2)"
fi
kill -TERM "$A_PID" 2>/dev/null
if wait_pid "$A_PID" 20; then ok "A exits 0 on SIGTERM"; else bad "A: exit status $?"; fi
kill -TERM "$B_PID" 2>/dev/null
wait_pid "$B_PID" 20
finish
