#!/usr/bin/env bash
# SIGHUP and REB: an OTLP/HTTP receiver (wait_for_result false) feeds two
# pipelines, a file and an otlphttp exporter whose backend is down and
# whose sending queue holds 5 requests. The queue fills and publishes
# budget 0: the receiver refuses with 503. A reload removes the otlphttp
# pipeline: the receiver's budget is recomputed from its new consumers
# (the file exporter), so it accepts again, and what it takes lands in
# the file.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export OTF_E2E_DEAD
OTF_E2E_DEAD=$(free_port) # nothing listens there
C="$TMP/reb.yaml"
# cfg [q]: with the pipeline to the dead backend.
cfg() {
	{
		echo 'receivers:'
		echo '  otlp: {wait_for_result: false, protocols: {http: {endpoint: "127.0.0.1:${env:OTF_E2E_PORT}"}}}'
		echo 'exporters:'
		echo '  file: {path: "${env:OTF_E2E_OUT}", format: json, flush_interval: 50ms}'
		[ "${1:-}" = q ] && echo '  otlphttp/q: {endpoint: "http://127.0.0.1:${env:OTF_E2E_DEAD}", encoding: json, timeout: 1s, retry_on_failure: {enabled: true, initial_interval: 100ms, max_interval: 200ms, max_elapsed_time: 0s}, sending_queue: {queue_size: 5, num_consumers: 1}}'
		echo 'extensions:'
		echo '  health_check: {endpoint: "127.0.0.1:${env:OTF_E2E_HEALTH_PORT}"}'
		echo 'service:'
		echo '  extensions: [health_check]'
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
otf_stop
grep -q '"r-after"' "$OTF_OUT" && ok "the record it accepted is in the file" ||
	bad "r-after missing from the file"
finish
