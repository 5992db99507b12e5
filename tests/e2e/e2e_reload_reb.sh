#!/usr/bin/env bash
# SIGHUP and REB: an OTLP/HTTP receiver (wait_for_result false) feeds two
# pipelines, a file and an otlphttp exporter whose backend is down and
# whose sending queue holds 5 requests. The queue fills and publishes
# budget 0: the receiver refuses with 503. A reload removes the otlphttp
# pipeline: the receiver's budget is recomputed from its new consumers
# (the file exporter), so it accepts again, and what it takes lands in
# the file. The receiver authenticates with a bearertokenauth extension:
# after the reload, a config posted to it that names the extension is
# applied (the new DAG uses the extensions the process started with).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export OTF_E2E_DEAD OTF_E2E_ADMIN_PORT
OTF_E2E_DEAD=$(free_port) # nothing listens there
OTF_E2E_ADMIN_PORT=$(free_port)
C="$TMP/reb.yaml"
# cfg [q]: with the pipeline to the dead backend.
cfg() {
	{
		echo 'receivers:'
		echo '  otlp: {wait_for_result: false, protocols: {http: {endpoint: "127.0.0.1:${env:OTF_E2E_PORT}", auth: {authenticator: bearertokenauth/x}}}}'
		echo 'exporters:'
		echo '  file: {path: "${env:OTF_E2E_OUT}", format: json, flush_interval: 50ms}'
		[ "${1:-}" = q ] && echo '  otlphttp/q: {endpoint: "http://127.0.0.1:${env:OTF_E2E_DEAD}", encoding: json, timeout: 1s, retry_on_failure: {enabled: true, initial_interval: 100ms, max_interval: 200ms, max_elapsed_time: 0s}, sending_queue: {queue_size: 5, num_consumers: 1}}'
		echo 'extensions:'
		echo '  health_check: {endpoint: "127.0.0.1:${env:OTF_E2E_HEALTH_PORT}"}'
		echo '  bearertokenauth/x: {token: s3cret}'
		echo 'service:'
		echo '  extensions: [health_check, bearertokenauth/x]'
		echo '  admin: {endpoint: "127.0.0.1:${env:OTF_E2E_ADMIN_PORT}"}'
		echo '  telemetry: {metrics: {level: none}}'
		echo '  pipelines:'
		echo '    logs: {receivers: [otlp], exporters: [file]}'
		[ "${1:-}" = q ] && echo '    logs/q: {receivers: [otlp], exporters: [otlphttp/q]}'
		echo 'runtime: {workers: 1, shutdown_timeout: 1s}'
	} > "$C"
}
# post N: sends record "r-N"; prints the status.
post() {
	curl -s -m 5 -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
		-H 'Authorization: Bearer s3cret' \
		--data "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"stringValue\":\"r-$1\"}}]}]}]}" \
		"$OTF_URL/v1/logs"
}

cfg q
otf_start reb "$C" || { bad "otflow did not start"; finish; }
code=""
for i in $(seq 200); do
	code=$(post "$i")
	[ "$code" = 503 ] && break
done
expect_eq "the full queue's budget 0 makes the receiver refuse" 503 "$code"

cfg
kill -HUP "$OTF_PID"
for _ in $(seq 200); do grep -q "reload: .*otlphttp/q removed" "$OTF_LOG" && break; sleep 0.05; done
grep -q "reload: .*otlphttp/q removed.*receiver:otlp rewired" "$OTF_LOG" &&
	ok "SIGHUP removes its pipeline, the receiver rewired" ||
	bad "no reload line: $(grep reload "$OTF_LOG")"
code=""
for _ in $(seq 100); do
	code=$(post after)
	[ "$code" = 200 ] && break
	sleep 0.05
done
expect_eq "the receiver accepts again (its budget is the file exporter's)" 200 "$code"
body="{\"wait_for_result\": true, \"protocols\": {\"http\": {\"endpoint\": \"127.0.0.1:$OTF_PORT\", \"auth\": {\"authenticator\": \"bearertokenauth/x\"}}}}"
code=$(curl -s -m 10 -o "$TMP/cfg.out" -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
	--data "$body" "http://127.0.0.1:$OTF_E2E_ADMIN_PORT/api/v1/nodes/receiver:otlp/config")
expect_eq "a config naming the extension is applied after the reload ($(head -c 150 "$TMP/cfg.out"))" 200 "$code"
expect_eq "the rebuilt receiver takes the token" 200 "$(post rebuilt)"
otf_stop
grep -q '"r-rebuilt"' "$OTF_OUT" && ok "the record after the rebuild is in the file" ||
	bad "r-rebuilt missing from the file"
grep -q '"r-after"' "$OTF_OUT" && ok "the record it accepted is in the file" ||
	bad "r-after missing from the file"
finish
