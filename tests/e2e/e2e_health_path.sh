#!/usr/bin/env bash
# health_check `path` is honoured (it was accepted and ignored): the status
# answers on that path only, other paths get 404.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PORT=$(free_port)
HEALTH=$(free_port)
cat > "$TMP/c.yaml" <<Y
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:$PORT"}}}}
exporters: {nop: }
extensions:
  health_check: {endpoint: "127.0.0.1:$HEALTH", path: /health/status}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines: {traces: {receivers: [otlp], exporters: [nop]}}
runtime: {workers: 1}
Y
"$OTF_BIN" --config "$TMP/c.yaml" > "$TMP/log" 2>&1 &
PID=$!
track "$PID"
code=""
for _ in $(seq 100); do
	code=$(curl -s -m 2 -o "$TMP/body" -w '%{http_code}' "http://127.0.0.1:$HEALTH/health/status?verbose")
	[ "$code" = 200 ] && break
	sleep 0.1
done
expect_eq "status on the configured path" 200 "$code"
expect_eq "status body" '{"status":"Server available"}' "$(cat "$TMP/body")"
expect_eq "other paths get 404" 404 "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HEALTH/")"
"$OTF_BIN" validate --config /dev/stdin > "$TMP/v" 2>&1 <<Y
receivers: {nop: }
exporters: {nop: }
extensions: {health_check: {path: status}}
service: {extensions: [health_check], pipelines: {traces: {receivers: [nop], exporters: [nop]}}}
Y
expect_eq "a path without / is refused" 2 "$?"
kill -TERM "$PID"
wait_pid "$PID" 20
expect_eq "exit status after SIGTERM" 0 "$?"
finish
