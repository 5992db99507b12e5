#!/usr/bin/env bash
# A shutdown finishes within runtime.shutdown_timeout whatever the workers
# do: the file exporter writes into a FIFO whose reader never reads, so
# once the pipe is full a worker blocks in write() and never sees the stop
# request. SIGTERM must still end otflow within shutdown_timeout (1s) +
# 1s + a margin, with exit status 1 and a log naming the worker and the
# component that did not stop.
set -u
. "$(dirname "$0")/lib.sh"

mkfifo "$TMP/out.fifo"
# The reader opens the FIFO (so otflow's open does not block) and reports
# how many bytes wait in the pipe, never reading them.
python3 - "$TMP/out.fifo" "$TMP/fifo.status" "$TMP/fifo.stop" <<'P' &
import fcntl, os, struct, sys, termios, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
while not os.path.exists(sys.argv[3]):
    n = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write("%d\n" % n)
    os.replace(sys.argv[2] + ".tmp", sys.argv[2])
    time.sleep(0.05)
P
READER=$!
track $READER
for i in $(seq 1 100); do [ -s "$TMP/fifo.status" ] && break; sleep 0.1; done

cat >"$TMP/stuck.yaml" <<'Y'
receivers:
  otlp:
    wait_for_result: false
    protocols:
      http:
        endpoint: 127.0.0.1:${env:OTF_E2E_PORT}
exporters:
  file:
    path: ${env:OTF_E2E_FIFO}
    format: json
extensions:
  health_check:
    endpoint: 127.0.0.1:${env:OTF_E2E_HEALTH_PORT}
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [file]
runtime:
  shutdown_timeout: 1s
Y
export OTF_E2E_FIFO="$TMP/out.fifo"
if ! otf_start stuck "$TMP/stuck.yaml"; then
	bad "otflow did not start"
	finish
fi

# 4 x 100 KB of span names: more than the pipe (64 KiB) and stdio buffers.
python3 -c '
import sys
name = "x" * 100000
sys.stdout.write("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\",\"name\":\"%s\",\"kind\":1,\"startTimeUnixNano\":\"1\",\"endTimeUnixNano\":\"2\"}]}]}]}" % name)
' >"$TMP/big.json"
for i in 1 2 3 4; do
	curl -s -m 5 -o /dev/null -X POST -H 'Content-Type: application/json' \
		--data-binary "@$TMP/big.json" "$OTF_URL/v1/traces" &
done
full=0
for i in $(seq 1 100); do
	[ "$(cat "$TMP/fifo.status" 2>/dev/null || echo 0)" -ge 65536 ] && full=1 && break
	sleep 0.1
done
expect_eq "the FIFO is full (a worker blocks writing to it)" 1 $full

t0=$(date +%s%N)
kill -TERM "$OTF_PID"
wait_pid "$OTF_PID" 10
rc=$?
took=$((($(date +%s%N) - t0) / 1000000))
OTF_PID=""
expect_eq "otflow exit status after SIGTERM with a stuck worker" 1 $rc
if [ $rc -ne 124 ] && [ $took -lt 5000 ]; then
	ok "SIGTERM ended otflow in $took ms (shutdown_timeout 1s + 1s)"
else
	bad "SIGTERM took $took ms (status $rc; 124: still running after 10s)"
fi
if grep -q "did not stop within shutdown_timeout (1000 ms).*exporter:file" "$OTF_LOG"; then
	ok "the log names the worker and the component that did not stop"
else
	bad "log does not name the stuck worker and exporter:file:"
	sed 's/^/  | /' "$OTF_LOG" | tail -10
fi
touch "$TMP/fifo.stop"
finish
