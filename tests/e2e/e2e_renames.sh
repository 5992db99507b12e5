#!/usr/bin/env bash
# The Collector's lower_snake_case component names (v0.144: `otlp_grpc`
# for the otlp exporter, `otlp_http` for otlphttp) work as aliases: otflow A
# exports through `otlp_http/b` and `otlp_grpc` to otflow B, and the span
# posted to A reaches B once through each, with its ids and name intact.
# `otflow components` lists the aliases.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

B_PORT=$(free_port)
B_GPORT=$(free_port)
B_HEALTH=$(free_port)
A_PORT=$(free_port)
A_HEALTH=$(free_port)

cat > "$TMP/b.yaml" <<Y
receivers:
  otlp:
    protocols:
      http: {endpoint: "127.0.0.1:$B_PORT"}
      grpc: {endpoint: "127.0.0.1:$B_GPORT"}
exporters:
  file: {path: "$TMP/b.jsonl", format: json, flush_interval: 50ms}
extensions:
  health_check: {endpoint: "127.0.0.1:$B_HEALTH"}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], exporters: [file]}
runtime: {workers: 1}
Y
cat > "$TMP/a.yaml" <<Y
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:$A_PORT"}}
exporters:
  otlp_http/b: {endpoint: "http://127.0.0.1:$B_PORT"}
  otlp_grpc: {endpoint: "127.0.0.1:$B_GPORT", tls: {insecure: true}}
extensions:
  health_check: {endpoint: "127.0.0.1:$A_HEALTH"}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], exporters: [otlp_http/b, otlp_grpc]}
runtime: {workers: 1}
Y

out=$("$OTF_BIN" components)
if printf '%s\n' "$out" | grep -Eq '^exporter +otlphttp .* otlp_http$' &&
	printf '%s\n' "$out" | grep -Eq '^exporter +otlp .* otlp_grpc$'; then
	ok "otflow components lists the aliases"
else
	bad "otflow components lacks the aliases: $out"
fi
dag=$("$OTF_BIN" print-dag --config "$TMP/a.yaml")
if printf '%s\n' "$dag" | grep -qF "exporter:otlp_http/b (type otlp_http)" &&
	printf '%s\n' "$dag" | grep -qF "exporter:otlp_grpc (type otlp_grpc)"; then
	ok "print-dag keeps the names written"
else
	bad "print-dag: $dag"
fi

wait_health() { # PID PORT NAME
	local i=0
	while [ $i -lt 100 ]; do
		kill -0 "$1" 2>/dev/null || break
		[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$2/")" = 200 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	bad "$3 did not come up"
	tail -20 "$TMP/$3.log"
	finish
}
"$OTF_BIN" --config "$TMP/b.yaml" > "$TMP/b.log" 2>&1 &
B_PID=$!
track "$B_PID"
wait_health "$B_PID" "$B_HEALTH" b
"$OTF_BIN" --config "$TMP/a.yaml" > "$TMP/a.log" 2>&1 &
A_PID=$!
track "$A_PID"
wait_health "$A_PID" "$A_HEALTH" a

TRACE=5b8efff798038103d269b633813fc60c
SPAN=eee19b7ec3c1b174
code=$(curl -s -m 20 -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
	--data "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"$TRACE\",\"spanId\":\"$SPAN\",\"name\":\"renamed\",\"startTimeUnixNano\":\"1\",\"endTimeUnixNano\":\"2\"}]}]}]}" \
	"http://127.0.0.1:$A_PORT/v1/traces")
expect_eq "A accepts the span" 200 "$code"

# Both exporters deliver: the span is in B's file twice (poll, 10 s).
n=0
for _ in $(seq 100); do
	n=$(grep -o "\"spanId\":\"$SPAN\"" "$TMP/b.jsonl" 2>/dev/null | wc -l)
	[ "$n" -ge 2 ] && break
	sleep 0.1
done
expect_eq "span delivered through otlp_http/b and otlp_grpc" 2 "$n"
expect_eq "trace id intact" 2 "$(grep -o "\"traceId\":\"$TRACE\"" "$TMP/b.jsonl" | wc -l)"
expect_eq "name intact" 2 "$(grep -o '"name":"renamed"' "$TMP/b.jsonl" | wc -l)"

for p in "$A_PID" "$B_PID"; do
	kill -TERM "$p"
	wait_pid "$p" 20
	expect_eq "exit status after SIGTERM" 0 "$?"
done
finish
