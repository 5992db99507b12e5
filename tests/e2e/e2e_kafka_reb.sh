#!/usr/bin/env bash
# REB at the kafka receiver: the receiver (at-least-once marking) feeds an
# otlphttp exporter whose sending queue holds 2 requests and whose backend
# is down. The full queue publishes budget 0, the receiver pauses its
# partitions instead of pushing records into a queue that refuses them:
# no redelivery while the backend is down (before REB every record past
# the queue was refused and redelivered, over and over). Backend back: the
# partitions resume and every record acknowledged by side A arrives once.
set -u
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/kafka_lib.sh"

mock_start 1
export BROKERS KAFKA_TOPIC=reb KAFKA_GROUP=greb
mock topic reb 1

export A_PORT
A_PORT=$(free_port)
otf_run A "$E2E_DIR/kafka-a.yaml"
wait_http "$A_PORT" A
python3 "$KAFKA_TOOL" send "http://127.0.0.1:$A_PORT" 0 20 1 "$TMP/sent" >"$TMP/s1" 2>&1
expect_eq "side A: 20 requests in Kafka" "200 x20" "$(cat "$TMP/s1")"

BACK=$(free_port)
PROM=$(free_port)
cat > "$TMP/back.py" <<'PY'
import http.server, sys
port, log = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(log, "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
cat > "$TMP/b.yaml" <<Y
receivers:
  kafka:
    brokers: ["$BROKERS"]
    group_id: greb
    logs: {topics: [reb]}
    initial_offset: earliest
    session_timeout: 6s
    heartbeat_interval: 500ms
    autocommit: {interval: 200ms}
    message_marking: {after: true}
    error_backoff: {initial_interval: 100ms, max_interval: 200ms}
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:$BACK
    encoding: json
    compression: none
    retry_on_failure: {initial_interval: 100ms, max_interval: 200ms, max_elapsed_time: 0s}
    sending_queue: {queue_size: 2, num_consumers: 1}
service:
  admin: {endpoint: ""}
  telemetry:
    metrics:
      level: basic
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: $PROM, without_units: true}}}
  pipelines:
    logs: {receivers: [kafka], exporters: [otlphttp]}
runtime: {workers: 1}
Y
otf_run B "$TMP/b.yaml"
metric() { # NAME-PREFIX -> sum of its samples ("" when absent)
	curl -s -m 2 "http://127.0.0.1:$PROM/metrics" | awk -v p="$1" 'index($0, p) == 1 { s += $NF; n++ } END { if (n) print s }'
}
full=""
for _ in $(seq 150); do
	full=$(metric otelcol_exporter_queue_size)
	[ "$full" = 2 ] && break
	sleep 0.1
done
expect_eq "the exporter's queue fills (backend down)" 2 "$full"
# An absence can only be watched: for 2 s (ten error backoffs) nothing is
# refused and redelivered while the backend stays down.
red=0
for _ in $(seq 20); do
	red=$(metric otelcol_kafka_receiver_redeliveries)
	[ "${red:-0}" = 0 ] || break
	sleep 0.1
done
echo "figures: redeliveries while the backend was down: ${red:-0}"
expect_eq "partitions paused: no record refused and redelivered" 0 "${red:-0}"

python3 "$TMP/back.py" "$BACK" "$TMP/back.jsonl" &
track $!
if wait_complete "$TMP/back.jsonl" "$TMP/sent" 30 &&
	python3 "$KAFKA_TOOL" check "$TMP/back.jsonl" "$TMP/sent" >"$TMP/c1" 2>&1; then
	ok "backend back: every record delivered once: $(head -1 "$TMP/c1")"
else
	bad "after the backend came back: $(python3 "$KAFKA_TOOL" check "$TMP/back.jsonl" "$TMP/sent" 2>&1 | head -3)"
fi
stop B
stop A
finish
