#!/usr/bin/env bash
# Hostile slow clients against a real otflow (otlp http -> memory_limiter ->
# file), with a well-behaved client posting valid spans in the background
# the whole time: every one of its requests must get 200 and be in the file.
#  - 60 connections send headers announcing a 20 MiB body, then nothing:
#    no memory is reserved for the promise, so memory_limiter (256 MiB)
#    keeps admitting the good client;
#  - a client trickling one header byte every 100 ms is answered 408 and
#    closed at read_header_timeout (500ms), however often it sends;
#  - "GET /" without an HTTP version (HTTP/0.9) gets 400 and is closed at
#    once, not at a timeout.
set -u
. "$(dirname "$0")/lib.sh"
RAW="$E2E_DIR/rawhttp.py"
SLOW="$E2E_DIR/slowclients.py"

cat >"$TMP/small.json" <<'J'
{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"e2e-slow"}}]},
"scopeSpans":[{"scope":{"name":"e2e"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",
"spanId":"eee19b7ec3c1b174","name":"ok","kind":1,"startTimeUnixNano":"1700000000000000000",
"endTimeUnixNano":"1700000000500000000"}]}]}]}
J
"$OTF_BIN" pdata convert --signal traces --from json --to proto "$TMP/small.json" -o "$TMP/small.pb" ||
	bad "pdata convert small.json"

cat >"$TMP/slow.yaml" <<'Y'
receivers:
  otlp:
    wait_for_result: true
    protocols:
      http:
        endpoint: 127.0.0.1:${env:OTF_E2E_PORT}
        max_request_body_size: 20MiB
        idle_timeout: 20s
        read_header_timeout: 500ms
processors:
  memory_limiter:
    check_interval: 100ms
    limit_mib: 256
    spike_limit_mib: 64
exporters:
  file:
    path: ${env:OTF_E2E_OUT}
    format: json
    flush_interval: 100ms
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
      processors: [memory_limiter]
      exporters: [file]
runtime:
  workers: 2
Y
if ! otf_start slow "$TMP/slow.yaml"; then
	bad "otflow did not start"
	finish
fi
PORT=$OTF_PORT

# wait_200s FILE N: waits (15 s at most) until FILE has N lines "200".
wait_200s() {
	local i=0 n
	while :; do
		n=$(grep -cx 200 "$1" 2>/dev/null)
		[ "${n:-0}" -lt "$2" ] || return 0
		[ $i -lt 150 ] || return 1
		sleep 0.1
		i=$((i + 1))
	done
}

python3 "$RAW" good "$PORT" "$TMP/stop-good" "$TMP/good.txt" "$TMP/small.json" "$TMP/small.pb" &
GOOD=$!
track "$GOOD"
wait_200s "$TMP/good.txt" 1 || bad "the background client got no 200 within 15s"

# ---- 60 x Content-Length 20 MiB, no body ----
python3 "$SLOW" hold "$PORT" 60 20971520 "$TMP/stop-hold" >"$TMP/hold.txt" 2>&1 &
HOLD=$!
track "$HOLD"
i=0
while [ ! -e "$TMP/stop-hold.ready" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -e "$TMP/stop-hold.ready" ] || bad "the 60 holding connections were not opened within 10s"
# While they hold, the limiter checks every 100 ms: the good client must
# get 20 more 200s (about 1 s) and nothing else.
before=$(wc -l <"$TMP/good.txt")
want=$(($(grep -cx 200 "$TMP/good.txt") + 20))
if wait_200s "$TMP/good.txt" "$want"; then
	bad_lines=$(tail -n +"$((before + 1))" "$TMP/good.txt" | grep -cvx 200)
	expect_eq "good client while 60 connections announce 20 MiB each: no refusal" 0 "$bad_lines"
else
	bad "good client got no 20 x 200 while 60 connections announce 20 MiB each: $(tail -n +"$((before + 1))" "$TMP/good.txt" | sort | uniq -c | tr '\n' ';')"
fi
touch "$TMP/stop-hold"
wait "$HOLD"
untrack "$HOLD"

# ---- slowloris and HTTP/0.9 ----
if python3 "$SLOW" slowloris "$PORT" 100 0.4 3 >"$TMP/loris.txt" 2>&1; then
	ok "slowloris: $(cat "$TMP/loris.txt")"
else
	bad "slowloris: $(cat "$TMP/loris.txt")"
fi
if python3 "$SLOW" http09 "$PORT" >"$TMP/h09.txt" 2>&1; then
	ok "HTTP/0.9: $(cat "$TMP/h09.txt")"
else
	bad "HTTP/0.9: $(cat "$TMP/h09.txt")"
fi

touch "$TMP/stop-good"
wait "$GOOD"
untrack "$GOOD"
total=$(wc -l <"$TMP/good.txt")
n200=$(grep -cx 200 "$TMP/good.txt")
expect_eq "background client: every one of its $total requests got 200" "$total" "$n200"

# Every 200 is in the file (wait_for_result: acknowledged = written).
i=0
while :; do
	lines=$(grep -c eee19b7ec3c1b174 "$OTF_OUT" 2>/dev/null)
	[ "${lines:-0}" -lt "$n200" ] && [ $i -lt 50 ] || break
	sleep 0.1
	i=$((i + 1))
done
expect_eq "file output holds each accepted span" "$n200" "${lines:-0}"
otf_stop
finish
