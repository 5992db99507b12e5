#!/usr/bin/env bash
# Memory after a burst: otflow keeps request-sized buffers in malloc's heap
# while traffic flows (a fresh mapping per request cost a page fault per
# 4 KiB), but what a burst leaves free goes back to the kernel once it is
# over (src/cli/cli_memtrim.c; one malloc arena for every thread, so that
# malloc_trim can cut it). A 2-worker otflow (OTLP gRPC -> batch -> nop)
# takes 3 s of 200 requests/s of 1000 logs; every record sent is acked; then,
# with no traffic, its private anonymous memory (RssAnon) falls back under
# 4 MiB within 10 s (it stayed at its high-water mark, 15-18 MiB, before).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LG="$(dirname "$OTF_BIN")/otflow-loadgen"
[ -x "$LG" ] || { echo "SKIPPED: no otflow-loadgen next to $OTF_BIN"; exit 77; }
# Sanitizer builds keep freed blocks in quarantine: their RSS says nothing.
if grep -q __asan_init "$OTF_BIN" 2>/dev/null; then
	echo "SKIPPED: RSS after a burst (sanitizer build)"
	exit 77
fi

GRPC=$(free_port)
HEALTH=$(free_port)
cat >"$TMP/c.yaml" <<Y
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:$GRPC"}
processors: {batch: {}}
exporters: {nop: {}}
extensions: {health_check: {endpoint: "127.0.0.1:$HEALTH"}}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines: {logs: {receivers: [otlp], processors: [batch], exporters: [nop]}}
runtime: {workers: 2}
Y
"$OTF_BIN" --config "$TMP/c.yaml" >"$TMP/otflow.log" 2>&1 &
PID=$!
track "$PID"
up=0
for _ in $(seq 100); do
	[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HEALTH/")" = 200 ] && up=1 && break
	sleep 0.1
done
[ $up = 1 ] || { bad "otflow did not become healthy"; sed 's/^/  | /' "$TMP/otflow.log" | tail; finish; }

anon() { awk '/^RssAnon:/ {print $2}' "/proc/$PID/status"; }
"$LG" --protocol grpc --endpoint "127.0.0.1:$GRPC" --signal logs --rate 200000 --batch 1000 \
	--connections 4 --duration 3 --json >"$TMP/lg.json" 2>"$TMP/lg.err"
high=$(anon)
# On a loaded machine the client may send fewer than 600 requests in 3 s:
# every record it sent must be acked.
read -r sent acked failed < <(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["items_sent"], d["items_acked"], d["items_failed"])' "$TMP/lg.json" 2>/dev/null)
if [ "${sent:-0}" -ge 100000 ] && [ "$acked" = "$sent" ] && [ "$failed" = 0 ]; then
	ok "every record of the burst acked: $acked of $sent"
else
	bad "burst: sent ${sent:-?}, acked ${acked:-?}, failed ${failed:-?} (want >= 100000 sent, all acked)"
	sed 's/^/  | /' "$TMP/lg.err" | tail -5
fi

low=$high
for _ in $(seq 100); do
	low=$(anon)
	[ "$low" -le 4096 ] && break
	sleep 0.1
done
if [ "$low" -le 4096 ]; then
	ok "RssAnon after the burst: $high kB at its end, $low kB once idle (<= 4096 kB)"
else
	bad "RssAnon after the burst: $high kB at its end, still $low kB 10 s later (> 4096 kB)"
	grep -E 'Rss|Threads' "/proc/$PID/status" | sed 's/^/  | /'
fi

kill -TERM "$PID"
wait_pid "$PID" 20
expect_eq "otflow exits 0 on SIGTERM" 0 $?
finish
