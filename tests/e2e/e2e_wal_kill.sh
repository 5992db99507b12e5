#!/usr/bin/env bash
# The durable sending queue with real processes
# (examples/scenarios/ack-ingress-wal.yaml: OTLP -> otlphttp exporter with
# sending_queue.storage: file_storage). The backend is down; 10,000 log
# records are posted in 100 requests and each is acknowledged (200: on
# disk); otflow is SIGKILLed; the backend comes up and otflow restarts on
# the same directory: every acknowledged record arrives, once, with its
# body; the queue's size and capacity gauges say what it holds. Then a
# corrupted segment: 5 requests queued, otflow killed, one byte of the
# third record flipped on disk and the file cut inside the fifth: the other
# 3 requests arrive, the bad record and the torn tail are counted.
set -u
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/wal_lib.sh"

front_start front1 || finish
: >"$TMP/acked"
if timeout 120 python3 "$E2E_DIR/wal_client.py" "$FRONT_PORT" 0 10000 100 "$TMP/acked" \
	--once >"$TMP/client.txt" 2>&1; then
	ok "10000 records acknowledged with the backend down"
else
	bad "client: $(tail -3 "$TMP/client.txt")"
fi
expect_eq "acknowledged ids" 10000 "$(wc -l <"$TMP/acked")"
# Self-metrics: the 100 requests held (sizer requests), 2 workers x 100000.
metric() {
	curl -s -m 5 "http://127.0.0.1:$FRONT_METRICS/metrics" |
		sed -n "s/^$1{exporter=\"otlphttp\/backend\"} //p"
}
expect_eq "otelcol_exporter_queue_size" 100 "$(metric otelcol_exporter_queue_size)"
expect_eq "otelcol_exporter_queue_capacity" 200000 "$(metric otelcol_exporter_queue_capacity)"
front_kill9
[ -s "$B_OUT" ] && bad "the backend received data while down"

backend_start || finish
front_start front2 || finish
if await_all "$TMP/acked" 60 --expect 10000; then
	ok "after kill -9 and restart, all 10000 acknowledged records arrive: $(cat "$TMP/check.txt")"
else
	bad "not all acknowledged records arrived: $(cat "$TMP/check.txt")"
fi
grep -q "duplicates=0 " "$TMP/check.txt" && ok "each once" || bad "duplicates: $(cat "$TMP/check.txt")"
grep -q "100 requests from the previous run queued again" "$TMP/front2.log" &&
	ok "the restart logs what it resends" || bad "no resend logged: $(grep -i queue "$TMP/front2.log" | head -3)"
i=0
until [ "$(metric otelcol_exporter_queue_size)" = 0 ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || break
	sleep 0.1
done
expect_eq "otelcol_exporter_queue_size once all is sent" 0 "$(metric otelcol_exporter_queue_size)"
# Consumed: the segments of the first run are deleted once sent.
i=0
until [ "$(find "$QDIR" -name '*.wal' | wc -l)" -le 2 ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || break
	sleep 0.1
done
n=$(find "$QDIR" -name '*.wal' | wc -l)
[ "$n" -le 2 ] && ok "consumed segments deleted ($n left)" || bad "$n segments left after everything was sent"

# ---- a corrupted record in the middle of a segment ----
kill -TERM "$B_PID" 2>/dev/null
wait_pid "$B_PID" 20
rm -f "$B_OUT"
: >"$TMP/acked2"
timeout 60 python3 "$E2E_DIR/wal_client.py" "$FRONT_PORT" 20000 50 10 "$TMP/acked2" --once \
	>"$TMP/client2.txt" 2>&1 || bad "client (corruption part): $(tail -3 "$TMP/client2.txt")"
front_kill9
seg=$(ls -1 "$QDIR"/exporter_otlphttp_backend_logs/*.wal | sort | tail -1)
# Flip a payload byte of the third append record of the newest segment,
# and cut the file in the middle of the fifth (the last): a torn tail.
python3 - "$seg" <<'PY' || bad "could not corrupt $seg"
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
off, n = 8, 0
while off + 24 <= len(b):
    _, ln, _, typ, _ = struct.unpack_from("<IIIIQ", b, off)
    if typ == 1:
        n += 1
        if n == 3:
            b[off + 24 + ln // 2] ^= 0x55
        if n == 5 and off + 24 + ln == len(b):
            open(p, "wb").write(b[:off + 30])
            sys.exit(0)
    off += 24 + ln
sys.exit(1)
PY
backend_start || finish
front_start front3 || finish
# The third and fifth requests' records are lost with their records (the
# disk lost them); the rest come.
grep -v -E '^rec-200([24][0-9])$' "$TMP/acked2" >"$TMP/acked2.rest"
if await_all "$TMP/acked2.rest" 60 --expect 30; then
	ok "the records around the corrupted one are replayed: $(cat "$TMP/check.txt")"
else
	bad "after corruption: $(cat "$TMP/check.txt")"
fi
grep -q "torn tail truncated: 1 .*corrupted records skipped: 1" "$TMP/front3.log" &&
	ok "the corrupted record and the torn tail are counted" ||
	bad "corruption not counted: $(grep -i "queue" "$TMP/front3.log" | head -3)"
# ... and shown as self-metrics, per queue.
curl -s -m 5 "http://127.0.0.1:$FRONT_METRICS/metrics" >"$TMP/metrics3.txt"
for m in otelcol_file_storage_torn_tails otelcol_file_storage_corrupt_records; do
	got=$(awk -v n="$m" '$0 ~ "^"n"({| )" && /exporter_otlphttp_backend_logs/ {print $NF}' "$TMP/metrics3.txt")
	expect_eq "self-metric $m of the logs queue" 1 "$got"
done
got=$(awk '/^otelcol_file_storage_corrupt_bytes.*exporter_otlphttp_backend_logs/ {print $NF}' "$TMP/metrics3.txt")
[ "${got:-0}" -gt 0 ] && ok "corrupted bytes counted: $got" || bad "otelcol_file_storage_corrupt_bytes: '${got:-}'"

kill -TERM "$FRONT_PID" 2>/dev/null
if wait_pid "$FRONT_PID" 20; then ok "front exits 0 on SIGTERM"; else bad "front: exit status $?"; fi
kill -TERM "$B_PID" 2>/dev/null
wait_pid "$B_PID" 20
finish
