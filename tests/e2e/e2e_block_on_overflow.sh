#!/usr/bin/env bash
# sending_queue.block_on_overflow (exporterhelper): with a queue of one
# request and one consumer in front of a slow OTLP/HTTP server (0.4 s per
# request, answered in order),
#  - block_on_overflow: true: 4 concurrent requests all wait for room and
#    are delivered (4 x 200 at the receiver, 4 distinct spans at the server);
#  - block_on_overflow: false: the same burst is partly refused at once
#    (503, retryable), as before;
#  - the wait is bounded: against a server that never answers, a waiting
#    request is answered 503 within the exporter's timeout, not held.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SLOW=$(free_port)
A_PORT=$(free_port)
A_HEALTH=$(free_port)

# A single-threaded server: requests are answered one at a time, after
# DELAY seconds, with an empty ExportTraceServiceResponse; each body is
# appended (hex) to the log so the test can count distinct spans.
cat > "$TMP/slow.py" <<'PY'
import binascii, http.server, sys, time
port, delay, log = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        time.sleep(delay)
        with open(log, "a") as f:
            f.write(binascii.hexlify(body).decode() + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
start_slow() { # DELAY
	python3 "$TMP/slow.py" "$SLOW" "$1" "$TMP/slow.log" &
	SLOW_PID=$!
	track "$SLOW_PID"
	for _ in $(seq 50); do
		curl -s -m 1 -o /dev/null "http://127.0.0.1:$SLOW/" && return 0
		sleep 0.1
	done
	bad "slow server did not start"
	finish
}
stop_slow() { kill "$SLOW_PID"; wait "$SLOW_PID" 2>/dev/null; untrack "$SLOW_PID"; }

a_config() { # FILE BLOCK TIMEOUT
	cat > "$1" <<Y
receivers:
  otlp:
    wait_for_result: true
    protocols: {http: {endpoint: "127.0.0.1:$A_PORT"}}
exporters:
  otlphttp:
    endpoint: "http://127.0.0.1:$SLOW"
    compression: none
    timeout: $3
    retry_on_failure: {enabled: false}
    sending_queue: {queue_size: 1, num_consumers: 1, block_on_overflow: $2}
extensions:
  health_check: {endpoint: "127.0.0.1:$A_HEALTH"}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], exporters: [otlphttp]}
runtime: {workers: 1}
Y
}
start_a() {
	"$OTF_BIN" --config "$1" > "$TMP/a.log" 2>&1 &
	A_PID=$!
	track "$A_PID"
	for _ in $(seq 100); do
		[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$A_HEALTH/")" = 200 ] && return 0
		sleep 0.1
	done
	bad "otflow did not come up"
	tail -20 "$TMP/a.log"
	finish
}
stop_a() {
	kill -TERM "$A_PID"
	wait_pid "$A_PID" 20
	expect_eq "otflow exits 0 on SIGTERM" 0 "$?"
}
post() { # N -> writes the HTTP code to $TMP/code.N
	curl -s -m 30 -o "$TMP/body.$1" -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
		--data "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"0af7651916cd43dd8448eb211c80319c\",\"spanId\":\"00000000000000a$1\",\"name\":\"s$1\",\"startTimeUnixNano\":\"1\",\"endTimeUnixNano\":\"2\"}]}]}]}" \
		"http://127.0.0.1:$A_PORT/v1/traces" > "$TMP/code.$1"
}
burst() { # -> "codes" sorted
	local i pids=""
	for i in 1 2 3 4; do
		post "$i" &
		pids="$pids $!"
	done
	for i in $pids; do wait "$i"; done
	for i in 1 2 3 4; do cat "$TMP/code.$i"; echo; done | sort | tr '\n' ' '
}

start_slow 0.4
a_config "$TMP/block.yaml" true 10s
start_a "$TMP/block.yaml"
expect_eq "block_on_overflow: all 4 concurrent requests delivered" "200 200 200 200 " "$(burst)"
# Distinct spans at the server: each span id once (hex of "a1".."a4" ids).
n=$(grep -c . "$TMP/slow.log")
expect_eq "server received 4 requests" 4 "$n"
ids=$(for i in 1 2 3 4; do grep -c "00000000000000a$i" "$TMP/slow.log"; done | tr '\n' ' ')
expect_eq "each span delivered once" "1 1 1 1 " "$ids"
stop_a

stop_slow
rm -f "$TMP/slow.log"
# 1 s per request: the whole burst arrives while the first is in flight.
start_slow 1
a_config "$TMP/noblock.yaml" false 10s
start_a "$TMP/noblock.yaml"
codes=$(burst)
case "$codes" in
*503*) ok "without block_on_overflow a full queue refuses at once ($codes)" ;;
*) bad "without block_on_overflow: $codes" ;;
esac
stop_a
stop_slow

# Bounded wait: the server never answers within the exporter's 1 s timeout.
start_slow 30
a_config "$TMP/bound.yaml" true 1s
start_a "$TMP/bound.yaml"
post 1 &
P1=$!
# Wait until request 1 is in flight: otflow's connection to the server is up.
for _ in $(seq 100); do
	[ "$(ss -tnH state established "( dport = :$SLOW )" 2>/dev/null | grep -c .)" -ge 1 ] && break
	sleep 0.05
done
t0=$(date +%s%N)
post 2
t1=$(date +%s%N)
wait "$P1"
expect_eq "waiting request answered 503" 503 "$(cat "$TMP/code.2")"
ms=$(((t1 - t0) / 1000000))
if [ "$ms" -lt 8000 ]; then ok "waiting request answered in ${ms} ms (bounded by the timeout)"; else
	bad "waiting request held ${ms} ms"
fi
stop_a
stop_slow
finish
