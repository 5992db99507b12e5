#!/usr/bin/env bash
# OTLP exporters end to end: otflow A (OTLP/HTTP receiver with
# wait_for_result) -> exporter otlphttp or otlp (gRPC) -> otflow B (OTLP
# HTTP and gRPC receiver -> file exporters, protobuf records). Checked:
#  - content: the requests posted to A arrive at B byte for byte (encoding
#    proto and gRPC are pass-through: never decoded or re-encoded), also
#    with encoding json (converted on the way) and every compression;
#  - outage (both exporters): B stopped for 10 s while otflow-loadgen sends
#    through A with retry and queue enabled: every item A acknowledged to the loadgen is in
#    B's file after B restarts, and nothing failed;
#  - overload: with a tiny queue and B down, A refuses with 503 at once
#    (retryable) instead of buffering, and its RSS stays bounded.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LG="$(dirname "$OTF_BIN")/otflow-loadgen"
OUTAGE=${E2E_OUTAGE_S:-10}

B_PORT=$(free_port)
B_GPORT=$(free_port)
B_HEALTH=$(free_port)
A_PORT=$(free_port)
A_HEALTH=$(free_port)
B_PID=""
A_PID=""

for s in logs traces metrics; do
	"$OTF_BIN" pdata convert --signal $s --from json --to proto \
		"$OTF_SOURCE_DIR/examples/pdata/$s.json" -o "$TMP/in_$s.pb" || exit 1
done

cat > "$TMP/b.yaml" <<Y
receivers:
  otlp:
    protocols:
      http: {endpoint: "127.0.0.1:$B_PORT"}
      grpc: {endpoint: "127.0.0.1:$B_GPORT"}
exporters:
  file/traces: {path: "$TMP/b_traces.pb", format: proto, flush_interval: 50ms, append: true}
  file/metrics: {path: "$TMP/b_metrics.pb", format: proto, flush_interval: 50ms, append: true}
  file/logs: {path: "$TMP/b_logs.pb", format: proto, flush_interval: 50ms, append: true}
extensions:
  health_check: {endpoint: "127.0.0.1:$B_HEALTH"}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], exporters: [file/traces]}
    metrics: {receivers: [otlp], exporters: [file/metrics]}
    logs: {receivers: [otlp], exporters: [file/logs]}
runtime: {workers: 2}
Y

# a_config FILE EXPORTER_ID EXPORTER_SETTINGS: A exporting through one exporter.
a_config() {
	cat > "$1" <<Y
receivers:
  otlp:
    wait_for_result: true
    protocols: {http: {endpoint: "127.0.0.1:$A_PORT"}}
exporters:
  $2: $3
extensions:
  health_check: {endpoint: "127.0.0.1:$A_HEALTH"}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], exporters: [$2]}
    metrics: {receivers: [otlp], exporters: [$2]}
    logs: {receivers: [otlp], exporters: [$2]}
runtime: {workers: ${A_WORKERS:-2}}
Y
}

# start NAME CONFIG HEALTH_PORT: sets STARTED_PID.
start() {
	"$OTF_BIN" --config "$2" >> "$TMP/$1.log" 2>&1 &
	STARTED_PID=$!
	track "$STARTED_PID"
	local i=0
	while [ $i -lt 100 ]; do
		kill -0 "$STARTED_PID" 2>/dev/null || break
		[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$3/")" = 200 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "$1 did not come up:"
	tail -20 "$TMP/$1.log"
	exit 1
}

# stop NAME PID: SIGTERM, clean exit within 20 s.
stop() {
	kill -TERM "$2" 2>/dev/null
	wait_pid "$2" 20
	local rc=$?
	if [ $rc -eq 0 ]; then ok "$1 exits 0 on SIGTERM"; else
		bad "$1 exit status after SIGTERM: $rc"
		tail -20 "$TMP/$1.log"
	fi
}

post() { # SIGNAL FILE -> http code
	curl -s -m 30 -o "$TMP/resp" -w '%{http_code}' -XPOST -H 'Content-Type: application/x-protobuf' \
		--data-binary @"$2" "http://127.0.0.1:$A_PORT/v1/$1"
}

# records FILE [OFFSET]: sha256 of each length-prefixed record from OFFSET
# on, one per line.
records() {
	python3 - "$1" "${2:-0}" <<'PY'
import hashlib, struct, sys
try:
    d = open(sys.argv[1], "rb").read()[int(sys.argv[2]):]
except FileNotFoundError:
    d = b""
i = 0
while i < len(d):
    n = struct.unpack(">I", d[i:i + 4])[0]
    print(hashlib.sha256(d[i + 4:i + 4 + n]).hexdigest())
    i += 4 + n
PY
}
fsize() { stat -c %s "$1" 2>/dev/null || echo 0; }

# content NAME EXPORTER_ID EXPORTER_SETTINGS: one request per signal
# through A to B.
content() {
	local s code off_traces off_metrics off_logs
	off_traces=$(fsize "$TMP/b_traces.pb")
	off_metrics=$(fsize "$TMP/b_metrics.pb")
	off_logs=$(fsize "$TMP/b_logs.pb")
	a_config "$TMP/a.yaml" "$2" "$3"
	start a "$TMP/a.yaml" "$A_HEALTH"
	A_PID=$STARTED_PID
	for s in traces metrics logs; do
		code=$(post $s "$TMP/in_$s.pb")
		expect_eq "$1: $s accepted by A (delivered to B)" 200 "$code"
	done
	stop "A ($1)" "$A_PID"
	sleep 0.3 # B's file flush_interval
	for s in traces metrics logs; do
		want=$(sha256sum < "$TMP/in_$s.pb" | cut -d' ' -f1)
		eval "off=\$off_$s"
		got=$(records "$TMP/b_$s.pb" "$off")
		expect_eq "$1: $s at B equals what was posted to A" "$want" "$got"
	done
}

start b "$TMP/b.yaml" "$B_HEALTH"
B_PID=$STARTED_PID

H="http://127.0.0.1:$B_PORT"
content "otlphttp proto gzip" otlphttp "{endpoint: \"$H\"}"
content "otlphttp proto zstd" otlphttp "{endpoint: \"$H\", compression: zstd}"
content "otlphttp json none" otlphttp/json "{endpoint: \"$H\", encoding: json, compression: none}"
content "otlphttp json gzip, per-signal URLs" otlphttp "{encoding: json, traces_endpoint: \"$H/v1/traces\", metrics_endpoint: \"$H/v1/metrics\", logs_endpoint: \"$H/v1/logs\"}"
G="127.0.0.1:$B_GPORT"
content "otlp (gRPC) gzip" otlp "{endpoint: \"$G\", tls: {insecure: true}}"
content "otlp (gRPC) zstd" otlp/z "{endpoint: \"$G\", tls: {insecure: true}, compression: zstd}"
content "otlp (gRPC) none, http:// endpoint" otlp "{endpoint: \"http://$G\", compression: none, headers: {X-Tenant: t1}}"


# ---- outage: B stopped for $OUTAGE s while the loadgen sends through A ----
# outage NAME EXPORTER_ID EXPORTER_SETTINGS
outage() {
	a_config "$TMP/a.yaml" "$2" "$3"
	start a "$TMP/a.yaml" "$A_HEALTH"
	A_PID=$STARTED_PID
	local off acked failed nrec
	off=$(fsize "$TMP/b_logs.pb")
	"$LG" --protocol http --endpoint "127.0.0.1:$A_PORT" --signal logs --rate 1000 --duration 6 \
		--batch 20 --connections 32 --json > "$TMP/lg_outage.json" 2> "$TMP/lg_outage.err" &
	LG_PID=$!
	track "$LG_PID"
	sleep 1
	stop "B ($1 outage begins)" "$B_PID"
	sleep "$OUTAGE"
	start b "$TMP/b.yaml" "$B_HEALTH"
	B_PID=$STARTED_PID
	wait_pid "$LG_PID" 90 || bad "$1: loadgen exit status $?: $(cat "$TMP/lg_outage.err")"
	stop "A ($1 outage)" "$A_PID"
	sleep 0.3
	acked=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items_acked"])' "$TMP/lg_outage.json")
	failed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items_failed"])' "$TMP/lg_outage.json")
	nrec=$(records "$TMP/b_logs.pb" "$off" | wc -l)
	# 32 requests were held in A (retrying or queued) across the outage.
	[ "$acked" -gt 640 ] && ok "$1 outage: loadgen got $acked items acknowledged" ||
		bad "$1 outage: only $acked items acknowledged"
	expect_eq "$1 outage: nothing failed at the sender" 0 "$failed"
	expect_eq "$1 outage: every acknowledged item is at B after the restart" "$acked" "$((nrec * 20))"
	grep -q "Will retry the request" "$TMP/a.log" && ok "$1 outage: A logged its retries" ||
		bad "$1 outage: A never retried"
	: > "$TMP/a.log"
}
R="retry_on_failure: {initial_interval: 100ms, max_interval: 1s, max_elapsed_time: 120s}"
outage otlphttp otlphttp "{endpoint: \"$H\", timeout: 2s, $R}"
outage otlp otlp "{endpoint: \"127.0.0.1:$B_GPORT\", tls: {insecure: true}, timeout: 2s, $R}"

# ---- overload: B down, a tiny queue: refused at once, memory flat ----
# (one worker: queues are per worker)
stop "B (down for the overload)" "$B_PID"
A_WORKERS=1 a_config "$TMP/a.yaml" otlphttp "{endpoint: \"$H\", timeout: 1s, sending_queue: {num_consumers: 1, queue_size: 2}, retry_on_failure: {initial_interval: 500ms, max_interval: 500ms, max_elapsed_time: 4s}}"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8" start a "$TMP/a.yaml" "$A_HEALTH"
A_PID=$STARTED_PID
# Two requests fill the queue (one attempting, one waiting); the third is
# refused with 503 and Retry-After without waiting.
post logs "$TMP/in_logs.pb" > "$TMP/held1.code" &
H1=$!
sleep 0.3
post logs "$TMP/in_logs.pb" > "$TMP/held2.code" &
H2=$!
sleep 0.3
t0=$(date +%s%N)
code=$(curl -s -m 10 -D "$TMP/hdr" -o /dev/null -w '%{http_code}' -XPOST \
	-H 'Content-Type: application/x-protobuf' --data-binary @"$TMP/in_logs.pb" \
	"http://127.0.0.1:$A_PORT/v1/logs")
t1=$(date +%s%N)
expect_eq "overload: queue full -> 503" 503 "$code"
grep -qi '^Retry-After:' "$TMP/hdr" && ok "overload: 503 carries Retry-After" || bad "no Retry-After"
[ $(((t1 - t0) / 1000000)) -lt 1000 ] && ok "overload: refused at once" ||
	bad "overload: refusal took $(((t1 - t0) / 1000000)) ms"
wait "$H1"
wait "$H2"
expect_eq "overload: queued requests fail retryable after max_elapsed_time" "503 503" \
	"$(cat "$TMP/held1.code") $(cat "$TMP/held2.code")"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
rss0=$(rss "$A_PID")
"$LG" --protocol http --endpoint "127.0.0.1:$A_PORT" --signal logs --rate 0 --duration 3 \
	--batch 200 --connections 16 --json > "$TMP/lg_over.json" 2> "$TMP/lg_over.err" &
LG_PID=$!
track "$LG_PID"
max=$rss0
while kill -0 "$LG_PID" 2>/dev/null; do
	r=$(rss "$A_PID")
	[ "${r:-0}" -gt "$max" ] && max=$r
	sleep 0.2
done
wait_pid "$LG_PID" 60
lg_failed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items_failed"])' "$TMP/lg_over.json")
lg_sent=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items_sent"])' "$TMP/lg_over.json")
[ "$lg_failed" -gt 0 ] && [ "$lg_failed" = "$lg_sent" ] &&
	ok "overload: all $lg_sent items refused (retryable) while B is down" ||
	bad "overload: sent $lg_sent, failed $lg_failed"
[ $((max - rss0)) -lt 32768 ] && ok "overload: RSS grew $(((max - rss0) / 1024)) MiB (< 32)" ||
	bad "overload: RSS grew from $((rss0 / 1024)) to $((max / 1024)) MiB"
stop "A (overload)" "$A_PID"

finish
