#!/usr/bin/env bash
# SIGHUP removing a pipeline whose exporter cannot drain: its backend
# takes the request and never answers (exporter timeout 30 s). The removed
# exporter gets KIL and is waited for until runtime.shutdown_timeout (1 s),
# then destroyed: the request it still held is NACKed retryable upstream,
# so the client waiting for it is answered at once (not after 30 s) with a
# retryable status naming the reload; the other pipeline serves all along.
# Then a traces pipeline on the same receiver and exporter: both change
# signals and are replaced (the receiver on its listening socket), and
# take traces and logs.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export OTF_E2E_PORT2 OTF_E2E_HANG
OTF_E2E_PORT2=$(free_port)
OTF_E2E_HANG=$(free_port)
C="$TMP/drain.yaml"
# cfg [h|t]: with the pipeline to the hanging backend, or with a traces
# pipeline on the same receiver and exporter.
cfg() {
	{
		echo 'receivers:'
		echo '  otlp: {wait_for_result: true, protocols: {http: {endpoint: "127.0.0.1:${env:OTF_E2E_PORT}"}}}'
		[ "${1:-}" = h ] && echo '  otlp/h: {wait_for_result: true, protocols: {http: {endpoint: "127.0.0.1:${env:OTF_E2E_PORT2}"}}}'
		echo 'exporters:'
		echo '  file: {path: "${env:OTF_E2E_OUT}", format: json, flush_interval: 50ms}'
		[ "${1:-}" = h ] && echo '  otlphttp/h: {endpoint: "http://127.0.0.1:${env:OTF_E2E_HANG}", encoding: json, timeout: 30s, retry_on_failure: {enabled: false}}'
		echo 'extensions:'
		echo '  health_check: {endpoint: "127.0.0.1:${env:OTF_E2E_HEALTH_PORT}"}'
		echo 'service:'
		echo '  extensions: [health_check]'
		echo '  telemetry: {metrics: {level: none}}'
		echo '  pipelines:'
		echo '    logs: {receivers: [otlp], exporters: [file]}'
		[ "${1:-}" = h ] && echo '    logs/h: {receivers: [otlp/h], exporters: [otlphttp/h]}'
		[ "${1:-}" = t ] && echo '    traces: {receivers: [otlp], exporters: [file]}'
		echo 'runtime: {workers: 1, shutdown_timeout: 1s}'
	} > "$C"
}
# The backend: reads requests, never answers; touches GOT once one came.
python3 -c '
import socket, sys, os, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
    if c.recv(65536): open(sys.argv[2], "w").close()
' "$OTF_E2E_HANG" "$TMP/got" &
track $!
for _ in $(seq 100); do ss -ltn | grep -q ":$OTF_E2E_HANG " && break; sleep 0.05; done

cfg h
otf_start drain "$C" || { bad "otflow did not start"; finish; }
body='{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"held"}}]}]}]}'
curl -s -m 25 -o "$TMP/held.body" -w '%{http_code} %{time_total}' -XPOST \
	-H 'Content-Type: application/json' --data "$body" \
	"http://127.0.0.1:$OTF_E2E_PORT2/v1/logs" > "$TMP/held.code" &
HELD=$!
track "$HELD"
for _ in $(seq 200); do [ -e "$TMP/got" ] && break; sleep 0.05; done
[ -e "$TMP/got" ] && ok "the request is in flight to the backend that never answers" ||
	bad "the backend got nothing"

cfg
kill -HUP "$OTF_PID"
for _ in $(seq 200); do grep -q "reload: .*otlphttp/h removed" "$OTF_LOG" && break; sleep 0.05; done
grep -q "reload: .*otlphttp/h removed" "$OTF_LOG" && ok "SIGHUP removes the pipeline" ||
	bad "no reload line: $(grep reload "$OTF_LOG")"
wait_pid "$HELD" 20
read -r code secs < "$TMP/held.code"
case $code in 429 | 502 | 503 | 504) ok "the held request is answered $code (retryable)" ;;
*) bad "the held request: status $code ($(head -c 200 "$TMP/held.body"))" ;; esac
awk -v t="$secs" 'BEGIN { exit !(t < 15) }' && ok "... after ${secs}s, not the exporter's 30 s timeout" ||
	bad "the held request took ${secs}s"
grep -q "removed by a reload" "$TMP/held.body" && ok "its answer says the node was removed by a reload" ||
	bad "answer body: $(head -c 200 "$TMP/held.body")"
grep -q "exporter:otlphttp/h.*not drained within 1000 ms" "$OTF_LOG" &&
	ok "the log says the exporter did not drain within shutdown_timeout" ||
	bad "no drain timeout line: $(grep -i drain "$OTF_LOG")"
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
	--data "${body/held/after}" "$OTF_URL/v1/logs")
expect_eq "the other pipeline still serves" 200 "$code"

# The receiver and exporter also in a traces pipeline: their signals
# change, so both are replaced, the receiver on its listening socket.
cfg t
kill -HUP "$OTF_PID"
for _ in $(seq 200); do grep -q "reload: .*receiver:otlp replaced" "$OTF_LOG" && break; sleep 0.05; done
grep -q "reload: 2 node(s) changed: receiver:otlp replaced, exporter:file replaced" "$OTF_LOG" &&
	ok "SIGHUP: a traces pipeline on the receiver replaces it and the exporter" ||
	bad "no reload line: $(grep reload "$OTF_LOG" | tail -1)"
span='{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"span-after","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}'
expect_eq "the replaced receiver takes traces on its port" 200 "$(curl -s -m 5 -o /dev/null \
	-w '%{http_code}' -XPOST -H 'Content-Type: application/json' --data "$span" "$OTF_URL/v1/traces")"
expect_eq "... and logs" 200 "$(curl -s -m 5 -o /dev/null -w '%{http_code}' -XPOST \
	-H 'Content-Type: application/json' --data "${body/held/logs-after}" "$OTF_URL/v1/logs")"
otf_stop
grep -q '"after"' "$OTF_OUT" && ok "its record is in its file" || bad "the record after is missing"
grep -q '"span-after"' "$OTF_OUT" && grep -q '"logs-after"' "$OTF_OUT" &&
	ok "the span and the record after the replacement are in the file" ||
	bad "span-after or logs-after missing"
finish
