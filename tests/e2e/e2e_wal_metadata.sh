#!/usr/bin/env bash
# Client metadata survives the persistent sending queue: otflow A (otlp
# receiver with include_metadata, otlphttp exporter with headers_setter
# X-Scope-OrgID from_context X-Tenant, sending_queue.storage) takes 6
# requests, each with its own X-Tenant, while the backend is down; A is
# SIGKILLed and restarted once the backend (capture_http.py) is up: every
# replayed request carries its own client's tenant, not the default_value.
# A request sent without the header gets the default_value as before.
set -u
. "$(dirname "$0")/lib.sh"
A_PORT=$(free_port) A_HEALTH=$(free_port) CAP=$(free_port)
cat >"$TMP/a.yaml" <<Y
extensions:
  health_check: {endpoint: "127.0.0.1:$A_HEALTH"}
  headers_setter/tenant:
    headers: [{key: X-Scope-OrgID, from_context: X-Tenant, default_value: anon}]
  file_storage/q: {directory: "$TMP/queue", create_directory: true}
receivers:
  otlp:
    wait_for_result: true
    protocols: {http: {endpoint: "127.0.0.1:$A_PORT", include_metadata: true}}
exporters:
  otlphttp/cap:
    endpoint: "http://127.0.0.1:$CAP"
    encoding: json
    compression: none
    auth: {authenticator: headers_setter/tenant}
    retry_on_failure: {initial_interval: 100ms, max_interval: 300ms, max_elapsed_time: 0}
    sending_queue: {storage: file_storage/q, wait_for_result: false}
service:
  extensions: [health_check, headers_setter/tenant, file_storage/q]
  telemetry: {metrics: {level: none}}
  pipelines: {logs: {receivers: [otlp], exporters: [otlphttp/cap]}}
runtime: {workers: 1}
Y
start_a() {
	"$OTF_BIN" --config "$TMP/a.yaml" >>"$TMP/a.log" 2>&1 &
	A_PID=$!
	track "$A_PID"
	local i=0
	until [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$A_HEALTH/")" = 200 ]; do
		i=$((i + 1))
		if [ $i -ge 200 ] || ! kill -0 "$A_PID" 2>/dev/null; then
			bad "A did not start: $(tail -5 "$TMP/a.log")"
			finish
		fi
		sleep 0.1
	done
}
# post K [TENANT]: one log record "rec-K", with X-Tenant: TENANT if given.
post() {
	local hdr=()
	[ $# -gt 1 ] && hdr=(-H "X-Tenant: $2")
	curl -s -m 30 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' "${hdr[@]}" \
		--data-binary "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"stringValue\":\"rec-$1\"}}]}]}]}" \
		"http://127.0.0.1:$A_PORT/v1/logs"
}

start_a
codes=""
for k in 1 2 3 4 5; do codes="$codes $(post $k "tenant-$k")"; done
codes="$codes $(post 6)"
expect_eq "6 requests acknowledged on disk with the backend down" " 200 200 200 200 200 200" "$codes"
kill -9 "$A_PID"
wait "$A_PID" 2>/dev/null
untrack "$A_PID"

python3 "$E2E_DIR/capture_http.py" "$CAP" X-Scope-OrgID "$TMP/cap.txt" &
track $!
start_a
i=0
until [ "$(wc -l 2>/dev/null <"$TMP/cap.txt" || echo 0)" -ge 6 ]; do
	i=$((i + 1))
	if [ $i -ge 150 ]; then
		bad "the backend got $(wc -l 2>/dev/null <"$TMP/cap.txt" || echo 0) of 6 replayed requests: $(tail -3 "$TMP/a.log")"
		break
	fi
	sleep 0.2
done
want=$(printf 'tenant-1\trec-1\ntenant-2\trec-2\ntenant-3\trec-3\ntenant-4\trec-4\ntenant-5\trec-5\nanon\trec-6')
expect_eq "after kill -9 and replay each request carries its own client's X-Tenant" \
	"$want" "$(sort -t "$(printf '\t')" -k2 "$TMP/cap.txt" 2>/dev/null)"

kill -TERM "$A_PID" 2>/dev/null
if wait_pid "$A_PID" 20; then ok "A exits 0 on SIGTERM"; else bad "A: exit status $?"; fi
finish
