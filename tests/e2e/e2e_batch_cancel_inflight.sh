#!/usr/bin/env bash
# CAN into a built batch whose send is in flight: two OTLP/HTTP clients
# (wait_for_result) in one batch (send_batch_size 2), sent by otlphttp to a
# backend that reads the request and never answers. Client A disconnects:
# the send carries B's record too, so it goes on (the backend's connection
# stays open, nothing is counted cancelled on the exporter yet). Client B
# disconnects as well: nothing is left for anyone, so the transfer is
# aborted (curl removes it: the backend sees its connection closed) and
# both records are counted cancelled on the exporter. Before, the in-flight
# batch ran until the exporter's 30 s timeout whoever left.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BACK=$(free_port)
# The backend: per connection, "got BYTES" once the request's bytes came,
# "closed" when the client closed the connection; $TMP/back.up once it
# listens.
python3 -c '
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
open(sys.argv[3], "w").close()
def serve(c):
    n = 0
    while True:
        b = c.recv(65536)
        if not b:
            break
        n += len(b)
        if b"kept-b" in b or b"left-a" in b:
            open(sys.argv[2], "a").write("got %d\n" % n)
    open(sys.argv[2], "a").write("closed\n")
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
' "$BACK" "$TMP/back.txt" "$TMP/back.up" &
track $!
end=$((SECONDS + 30))
until [ -e "$TMP/back.up" ]; do
	if [ $SECONDS -ge $end ]; then
		bad "the backend does not listen on $BACK after 30 s"
		finish
	fi
	sleep 0.05
done
config() {
	cat <<Y
receivers:
  otlp: {wait_for_result: true, protocols: {http: {endpoint: "127.0.0.1:$PORT"}}}
processors:
  batch: {timeout: 10s, send_batch_size: 2}
exporters:
  otlphttp:
    endpoint: "http://127.0.0.1:$BACK"
    encoding: json
    compression: none
    timeout: 30s
    sending_queue: {enabled: false}
extensions:
  health_check: {endpoint: "127.0.0.1:$HEALTH"}
service:
  extensions: [health_check]
  admin: {endpoint: ""}
  telemetry:
    metrics:
      level: basic
      readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: $PROM}}}}]
  pipelines: {logs: {receivers: [otlp], processors: [batch], exporters: [otlphttp]}}
runtime: {workers: 1}
Y
}
otf_start_yaml config || finish
post_log_record left-a &
A=$!
post_log_record kept-b &
B=$!
for _ in $(seq 200); do grep -q "^got" "$TMP/back.txt" 2>/dev/null && break; sleep 0.05; done
grep -q "^got" "$TMP/back.txt" && ok "the batch of both is in flight at the backend" ||
	bad "nothing reached the backend"
kill "$A"
wait "$A" 2>/dev/null
for _ in $(seq 200); do [ "$(prom_metric otelcol_receiver_cancelled_log_records)" -ge 1 ] && break; sleep 0.05; done
expect_eq "A's request cancelled by the receiver" 1 "$(prom_metric otelcol_receiver_cancelled_log_records)"
expect_eq "the send in flight still carries B: nothing cancelled on the exporter" 0 \
	"$(prom_metric otelcol_exporter_cancelled_log_records)"
grep -q closed "$TMP/back.txt" && bad "the transfer was aborted though B still waits" ||
	ok "the transfer goes on for B"
kill "$B"
wait "$B" 2>/dev/null
for _ in $(seq 200); do grep -q closed "$TMP/back.txt" && break; sleep 0.05; done
grep -q closed "$TMP/back.txt" && ok "once B left too, the transfer is aborted (connection closed)" ||
	bad "the transfer was not aborted: $(cat "$TMP/back.txt")"
for _ in $(seq 200); do [ "$(prom_metric otelcol_exporter_cancelled_log_records)" -ge 2 ] && break; sleep 0.05; done
expect_eq "both records counted cancelled on the exporter" 2 "$(prom_metric otelcol_exporter_cancelled_log_records)"
expect_eq "nothing counted sent" 0 "$(prom_metric otelcol_exporter_sent_log_records)"
expect_eq "A was told nothing" "" "$(cat "$TMP/left-a.code")"
expect_eq "B was told nothing" "" "$(cat "$TMP/kept-b.code")"
kill -TERM "$PID"
wait_pid "$PID" 20 && ok "exits 0" || bad "exit status"
finish
