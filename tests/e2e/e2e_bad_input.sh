#!/usr/bin/env bash
# Bad input over real sockets: every malformed request gets the right status
# and a message, otflow stays up, and a well-behaved client posting valid
# data in the background the whole time sees only 200s, each of which
# reaches the file exporter. otflow runs with max_request_body_size 1KiB and
# idle_timeout 1s. Cases: garbage and truncated protobuf, invalid JSON (400),
# wrong Content-Type (415), unknown path (404), GET (405), oversize body
# (413 before the body is sent; also after a decompression), invalid gzip
# (400), unsupported Content-Encoding (415), valid gzip/deflate/zstd (200),
# idle and stalled connections closed after idle_timeout, a client that
# disconnects mid-body; then a valid request still succeeds and SIGTERM
# exits 0.
set -u
. "$(dirname "$0")/lib.sh"
RAW="$E2E_DIR/rawhttp.py"

# A small valid request (under the 1KiB limit) in both encodings.
cat >"$TMP/small.json" <<'J'
{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"e2e-bad-input"}}]},
"scopeSpans":[{"scope":{"name":"e2e"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",
"spanId":"eee19b7ec3c1b174","name":"ok","kind":1,"startTimeUnixNano":"1700000000000000000",
"endTimeUnixNano":"1700000000500000000","attributes":[{"key":"n","value":{"intValue":"7"}}]}]}]}]}
J
"$OTF_BIN" pdata convert --signal traces --from json --to proto "$TMP/small.json" -o "$TMP/small.pb" ||
	bad "pdata convert small.json"
# A valid request larger than the limit, and a truncated protobuf one.
"$OTF_BIN" pdata convert --signal traces --from json --to proto \
	"$OTF_SOURCE_DIR/examples/pdata/traces.json" -o "$TMP/big.pb" || bad "pdata convert traces.json"
head -c $(($(wc -c <"$TMP/small.pb") / 2)) "$TMP/small.pb" >"$TMP/truncated.pb"

export OTF_E2E_MAX_BODY=1KiB OTF_E2E_IDLE_TIMEOUT=1s
if ! otf_start bad; then
	bad "otflow did not start"
	finish
fi
PORT=$OTF_PORT

# req NAME WANT_STATUS WANT_TEXT curl-args...: one request; asserts the
# status and that the response body contains WANT_TEXT.
req() {
	local name=$1 want=$2 text=$3
	shift 3
	local code
	code=$(curl -s -m 10 -o "$TMP/resp" -w '%{http_code}' "$@")
	if [ "$code" != "$want" ]; then
		bad "$name: status $code, want $want; body: $(head -c 300 "$TMP/resp" | tr -c '[:print:]' '.')"
	elif [ -n "$text" ] && ! grep -qaF -- "$text" "$TMP/resp"; then
		bad "$name: $code but the body lacks '$text': $(head -c 300 "$TMP/resp" | tr -c '[:print:]' '.')"
	else
		ok "$name: $code ($(head -c 120 "$TMP/resp" | tr -c '[:print:]' '.'))"
	fi
}
POST=(-X POST -H 'Expect:')
PB=(-H 'Content-Type: application/x-protobuf')
JS=(-H 'Content-Type: application/json')

# wait_200s FILE N: waits (15s at most) until FILE has N lines "200".
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

# ---- the well-behaved client, in the background throughout ----
python3 "$RAW" good "$PORT" "$TMP/stop-good" "$TMP/good.txt" "$TMP/small.json" "$TMP/small.pb" &
GOOD=$!
track "$GOOD"
wait_200s "$TMP/good.txt" 1 || bad "the background client got no 200 within 15s"

# ---- bad input ----
printf 'this is not protobuf\x00\xff\xfe' >"$TMP/garbage"
req "garbage as protobuf" 400 "invalid OTLP protobuf" "${POST[@]}" "${PB[@]}" \
	--data-binary "@$TMP/garbage" "http://127.0.0.1:$PORT/v1/traces"
printf '\x0a\xff\xff\xff\xff\x0f\x01' >"$TMP/garbage2"
req "protobuf with an impossible length" 400 "invalid OTLP protobuf" "${POST[@]}" "${PB[@]}" \
	--data-binary "@$TMP/garbage2" "http://127.0.0.1:$PORT/v1/logs"
req "truncated protobuf" 400 "invalid OTLP protobuf" "${POST[@]}" "${PB[@]}" \
	--data-binary "@$TMP/truncated.pb" "http://127.0.0.1:$PORT/v1/traces"
req "invalid JSON" 400 '"message":"invalid OTLP/JSON' "${POST[@]}" "${JS[@]}" \
	--data-binary '{"resourceSpans":[{"resource":' "http://127.0.0.1:$PORT/v1/traces"
req "JSON of the wrong shape" 400 '"code":3' "${POST[@]}" "${JS[@]}" \
	--data-binary '{"resourceSpans":"nope"}' "http://127.0.0.1:$PORT/v1/traces"
req "wrong Content-Type" 415 "unsupported Content-Type" "${POST[@]}" -H 'Content-Type: text/plain' \
	--data-binary "@$TMP/small.json" "http://127.0.0.1:$PORT/v1/traces"
req "no Content-Type" 415 "unsupported Content-Type" "${POST[@]}" -H 'Content-Type:' \
	--data-binary "@$TMP/small.pb" "http://127.0.0.1:$PORT/v1/traces"
req "unknown path" 404 "/v1/nothing is not an OTLP path" "${POST[@]}" "${PB[@]}" \
	--data-binary "@$TMP/small.pb" "http://127.0.0.1:$PORT/v1/nothing"
req "GET /v1/traces" 405 "method not allowed" "http://127.0.0.1:$PORT/v1/traces"
allow=$(curl -s -m 10 -o /dev/null -D - "http://127.0.0.1:$PORT/v1/traces" | tr -d '\r' |
	sed -n 's/^[Aa]llow: //p')
expect_eq "405 names the allowed methods" "POST, OPTIONS" "$allow"

# Oversize: announced by Content-Length, answered before any body byte.
if out=$(timeout 20 python3 "$RAW" early413 "$PORT" /v1/traces 100000 2>&1); then
	ok "413 before the body is sent: $out"
else
	bad "oversize announced body: $out"
fi
req "oversize body sent in full" 413 "larger than the configured limit" "${POST[@]}" "${PB[@]}" \
	--data-binary "@$TMP/big.pb" "http://127.0.0.1:$PORT/v1/traces"
head -c 65536 /dev/zero | gzip -c >"$TMP/bomb.gz"
req "gzip body expanding over the limit" 413 "" "${POST[@]}" "${PB[@]}" \
	-H 'Content-Encoding: gzip' --data-binary "@$TMP/bomb.gz" "http://127.0.0.1:$PORT/v1/traces"

# Content-Encoding.
req "invalid gzip" 400 "" "${POST[@]}" "${PB[@]}" -H 'Content-Encoding: gzip' \
	--data-binary "@$TMP/small.pb" "http://127.0.0.1:$PORT/v1/traces"
req "unsupported Content-Encoding" 415 "Content-Encoding" "${POST[@]}" "${PB[@]}" \
	-H 'Content-Encoding: br' --data-binary "@$TMP/small.pb" "http://127.0.0.1:$PORT/v1/traces"
VALID=0 # valid requests of ours (besides the background client's)
gzip -c "$TMP/small.pb" >"$TMP/small.pb.gz"
req "valid gzip" 200 "" "${POST[@]}" "${PB[@]}" -H 'Content-Encoding: gzip' \
	--data-binary "@$TMP/small.pb.gz" "http://127.0.0.1:$PORT/v1/traces" && VALID=$((VALID + 1))
python3 -c 'import sys,zlib; sys.stdout.buffer.write(zlib.compress(open(sys.argv[1],"rb").read()))' \
	"$TMP/small.json" >"$TMP/small.json.zz"
req "valid deflate (zlib)" 200 "" "${POST[@]}" "${JS[@]}" -H 'Content-Encoding: deflate' \
	--data-binary "@$TMP/small.json.zz" "http://127.0.0.1:$PORT/v1/traces" && VALID=$((VALID + 1))
if command -v zstd >/dev/null 2>&1; then
	zstd -q -c "$TMP/small.pb" >"$TMP/small.pb.zst"
	req "valid zstd" 200 "" "${POST[@]}" "${PB[@]}" -H 'Content-Encoding: zstd' \
		--data-binary "@$TMP/small.pb.zst" "http://127.0.0.1:$PORT/v1/traces" && VALID=$((VALID + 1))
else
	echo "skip: zstd CLI not installed"
fi

# HTTP/1.1 framing: chunked bodies, Expect: 100-continue, pipelining.
req "valid chunked body" 200 "" "${POST[@]}" "${PB[@]}" -H 'Transfer-Encoding: chunked' \
	--data-binary "@$TMP/small.pb" "http://127.0.0.1:$PORT/v1/traces" && VALID=$((VALID + 1))
req "chunked body over the limit" 413 "larger than the configured limit" "${POST[@]}" "${PB[@]}" \
	-H 'Transfer-Encoding: chunked' --data-binary "@$TMP/big.pb" "http://127.0.0.1:$PORT/v1/traces"
req "Expect: 100-continue, oversize" 413 "larger than the configured limit" -X POST "${PB[@]}" \
	-H 'Expect: 100-continue' --data-binary "@$TMP/big.pb" "http://127.0.0.1:$PORT/v1/traces"
req "Expect: 100-continue, valid" 200 "" -X POST "${PB[@]}" -H 'Expect: 100-continue' \
	--data-binary "@$TMP/small.pb" "http://127.0.0.1:$PORT/v1/traces" && VALID=$((VALID + 1))
if out=$(timeout 20 python3 "$RAW" pipeline "$PORT" "$TMP/small.json" 2>&1); then
	ok "two pipelined requests: $out"
	VALID=$((VALID + 2))
else
	bad "pipelined requests: $out"
fi

# Connections that misbehave.
if out=$(timeout 20 python3 "$RAW" idle "$PORT" 5 2>&1); then
	ok "idle connection closed after idle_timeout: $out"
else
	bad "idle connection: $out"
fi
if out=$(timeout 20 python3 "$RAW" stall-headers "$PORT" 5 2>&1); then
	ok "connection stalled mid-head closed: $out"
else
	bad "stalled connection: $out"
fi
if out=$(timeout 20 python3 "$RAW" midbody "$PORT" /v1/traces 2>&1); then
	ok "client disconnecting mid-body: $out"
else
	bad "mid-body disconnect: $out"
fi

# Still up and serving.
sleep 0.2
if otf_alive; then ok "otflow still running after the bad input"; else bad "otflow died"; fi
req "valid request after the bad input" 200 "" "${POST[@]}" "${JS[@]}" \
	--data-binary "@$TMP/small.json" "http://127.0.0.1:$PORT/v1/traces" && VALID=$((VALID + 1))

# ---- the background client's view ----
touch "$TMP/stop-good"
wait_pid "$GOOD" 30 || bad "background client exited with $?"
total=$(wc -l <"$TMP/good.txt")
n200=$(grep -cx 200 "$TMP/good.txt")
if [ "$total" -ge 5 ] && [ "$total" = "$n200" ]; then
	ok "background client: $total requests during the bad input, all 200"
else
	bad "background client: $n200 of $total requests got 200: $(grep -vx 200 "$TMP/good.txt" | sort | uniq -c | head -5 | tr '\n' ';')"
fi

# SIGTERM while the client keeps posting: every request answered 200
# before the exit must be in the file (drained, not lost).
python3 "$RAW" good "$PORT" "$TMP/stop-good2" "$TMP/good2.txt" "$TMP/small.json" "$TMP/small.pb" &
GOOD=$!
track "$GOOD"
wait_200s "$TMP/good2.txt" 3 || bad "the background client got no 200s within 15s"
otf_stop
touch "$TMP/stop-good2"
wait_pid "$GOOD" 30 || bad "background client exited with $?"
late200=$(grep -cx 200 "$TMP/good2.txt")
late=$(wc -l <"$TMP/good2.txt")
[ "$late200" -gt 0 ] || bad "no request succeeded before SIGTERM"

# Nothing lost: every 200 is one request in the file, and nothing else is
# (a request in flight at SIGTERM may be written yet its answer lost).
lines=$(grep -c . "$OTF_OUT" 2>/dev/null)
lines=${lines:-0}
if [ "$lines" -ge $((n200 + VALID + late200)) ] && [ "$lines" -le $((n200 + VALID + late)) ]; then
	ok "file output holds every accepted request: $lines lines ($n200 + $VALID + $late200 answered 200)"
else
	bad "file output has $lines lines; answered 200: $n200 + $VALID + $late200 (of $late during SIGTERM)"
fi
if [ -s "$OTF_OUT" ] && python3 - "$OTF_OUT" <<'P'; then
import json, sys
for i, line in enumerate(open(sys.argv[1]), 1):
    d = json.loads(line)
    spans = [s for rs in d["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    assert len(spans) == 1 and spans[0]["spanId"] == "eee19b7ec3c1b174", f"line {i}: {line[:200]}"
P
	ok "every output line is the valid span"
else
	bad "output lines are not all the valid span"
fi
finish
