#!/usr/bin/env bash
# processor `admission` (REB source from its own thresholds), real otflow
# and curl: the OTLP/HTTP receiver in front of it refuses as soon as the
# budget it publishes is spent, and says why.
#  - rate_limit 5 items/s (bucket not refilled during the test): 5 spans
#    accepted, the 6th answered 429 with Retry-After;
#  - max_in_flight_messages 2 in front of an exporter whose backend never
#    answers: 2 accepted (in flight), the 3rd answered 503 with Retry-After;
#  - max_rss_mib 1 (always exceeded): refused 503 from the first request.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HOLE=$(free_port)
# A backend that accepts TCP (the kernel's backlog) and never answers.
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
time.sleep(600)' "$HOLE" &
track $!

run() { # NAME ADMISSION_CONFIG EXPORTER
	RX=$(free_port)
	HEALTH=$(free_port)
	cat > "$TMP/$1.yaml" <<Y
receivers:
  otlp:
    wait_for_result: false
    protocols: {http: {endpoint: "127.0.0.1:$RX"}}
processors:
  admission: $2
exporters:
  nop:
  otlphttp:
    endpoint: "http://127.0.0.1:$HOLE"
    timeout: 60s
    retry_on_failure: {enabled: false}
    sending_queue: {wait_for_result: true}
extensions:
  health_check: {endpoint: "127.0.0.1:$HEALTH"}
service:
  extensions: [health_check]
  admin: {endpoint: ""}
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], processors: [admission], exporters: [$3]}
runtime: {workers: 1, shutdown_timeout: 1s}
Y
	"$OTF_BIN" --config "$TMP/$1.yaml" > "$TMP/$1.log" 2>&1 &
	PID=$!
	track "$PID"
	for _ in $(seq 100); do
		[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HEALTH/")" = 200 ] && return 0
		sleep 0.1
	done
	bad "$1: otflow did not come up"
	tail -20 "$TMP/$1.log"
	finish
}
stop() {
	kill -TERM "$PID"
	wait_pid "$PID" 20
	expect_eq "$1: otflow exits 0 on SIGTERM" 0 "$?"
}
post() { # N -> "code retry-after"
	curl -s -m 10 -D "$TMP/h.$1" -o "$TMP/b.$1" -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
		--data "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"0af7651916cd43dd8448eb211c80319c\",\"spanId\":\"00000000000000a1\",\"name\":\"s$1\"}]}]}]}" \
		"http://127.0.0.1:$RX/v1/traces"
	printf ' %s' "$(grep -i '^Retry-After:' "$TMP/h.$1" | tr -d '\r' | awk '{print $2}')"
}
codes() { # N -> the N codes, sequential
	local i out=""
	for i in $(seq "$1"); do out="$out$(post "$i" | cut -d' ' -f1) "; done
	echo "$out"
}

run rate "{rate_limit: 5, check_interval: 60s}" nop
expect_eq "rate_limit 5: 5 accepted, then 429" "200 200 200 200 200 429 429 " "$(codes 7)"
r=$(post 8)
expect_eq "rate refusal: 429, Retry-After the refill (check_interval 60s)" "429 60" "$r"
grep -q "resource budget" "$TMP/b.8" && ok "refusal says why" || bad "refusal body: $(cat "$TMP/b.8")"
stop rate

run inflight "{max_in_flight_messages: 2}" otlphttp
expect_eq "max_in_flight_messages 2: 2 accepted, then 503" "200 200 503 503 " "$(codes 4)"
r=$(post 5)
expect_eq "in-flight refusal: 503 with Retry-After" "503 1" "$r"
stop inflight

run rss "{max_rss_mib: 1}" nop
expect_eq "max_rss_mib 1: refused from the first request" "503 503 " "$(codes 2)"
grep -q "max_rss_mib 1: refusing data" "$TMP/rss.log" && ok "the refusal is logged" || bad "no log line"
stop rss

finish
