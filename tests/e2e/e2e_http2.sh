#!/usr/bin/env bash
# OTLP/HTTP over HTTP/2 on the HTTP port, as Go's Collector serves it:
#  1. over TLS, ALPN offers h2 and http/1.1: curl --http2 negotiates h2
#     (%{http_version} = 2), JSON logs and gzip'd protobuf traces arrive in
#     the file exporter with their ids and bodies; curl --http1.1 on the
#     same port still gets HTTP/1.1;
#  2. plaintext h2c with prior knowledge (the connection preface in the
#     first bytes): zstd'd JSON arrives; 404, 415, 413 and a CORS preflight
#     are answered as over HTTP/1.1 (same code, same body / header);
#     bearertokenauth: 401 without the token, 200 with it;
#  3. h2load: 400 requests on 4 connections x 10 concurrent streams over
#     TLS, every one 200, and the file holds exactly 400 of its records;
#  4. a client sending the preface and then garbage is closed; the process
#     stays up and the next client is served.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_certs.sh"

for t in h2load curl; do
	if ! command -v $t >/dev/null; then
		bad "$t is missing (scripts/deps.sh installs it)"
		finish
	fi
done
C="$TMP/certs"
if tls_make_certs "$C"; then ok "certificates made with openssl"; else
	bad "openssl could not make the test certificates"
	finish
fi

# wait_until SECONDS CMD...: polls CMD every 0.1s; 0 when it succeeded.
wait_until() {
	local limit=$(($1 * 10)) i=0
	shift
	while [ $i -lt "$limit" ]; do
		"$@" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
count_in() { grep -o "$2" "$1" 2>/dev/null | wc -l; }
has_n() { [ "$(count_in "$1" "$2")" -eq "$3" ]; } # FILE PATTERN N
body() { printf '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"%s"}}]}]}]}' "$1"; }

export OTF_E2E_TLS_DIR="$C" OTF_E2E_PLAIN OTF_E2E_AUTH
OTF_E2E_PLAIN=$(free_port)
OTF_E2E_AUTH=$(free_port)
cat >"$TMP/h2.yaml" <<'EOF'
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${env:OTF_E2E_PORT}
        tls:
          cert_file: ${env:OTF_E2E_TLS_DIR}/server.pem
          key_file: ${env:OTF_E2E_TLS_DIR}/server.key
  otlp/plain:
    protocols:
      http:
        endpoint: 127.0.0.1:${env:OTF_E2E_PLAIN}
        max_request_body_size: 2KiB
        cors:
          allowed_origins: ["https://app.example"]
  otlp/auth:
    protocols:
      http:
        endpoint: 127.0.0.1:${env:OTF_E2E_AUTH}
        auth: {authenticator: bearertokenauth/server}
exporters:
  file:
    path: ${env:OTF_E2E_OUT}
    format: json
    flush_interval: 100ms
extensions:
  health_check:
    endpoint: 127.0.0.1:${env:OTF_E2E_HEALTH_PORT}
  bearertokenauth/server: {token: s3cret}
service:
  extensions: [health_check, bearertokenauth/server]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [otlp, otlp/plain, otlp/auth]
      exporters: [file]
    traces:
      receivers: [otlp, otlp/plain]
      exporters: [file]
EOF
if ! otf_start h2 "$TMP/h2.yaml"; then
	bad "otflow with an HTTPS receiver did not start"
	finish
fi
TLS_URL="https://localhost:$OTF_PORT"
PLAIN_URL="http://127.0.0.1:$OTF_E2E_PLAIN"
JS=(-H 'Content-Type: application/json')
# curlv OUT ARGS...: prints "CODE VERSION"; the body goes to OUT, headers to OUT.h.
curlv() {
	local out=$1
	shift
	curl -s -m 10 -o "$out" -D "$out.h" -w '%{http_code} %{http_version}' "$@"
}

# ---- 1. TLS, ALPN h2 ----
got=$(curlv "$TMP/r1" --http2 --cacert "$C/ca.pem" "${JS[@]}" -d "$(body h2-tls-json)" \
	"$TLS_URL/v1/logs")
expect_eq "curl --http2 over TLS: 200 on HTTP/2 (ALPN h2)" "200 2" "$got"
expect_eq "... the OTLP answer (an empty JSON response)" "{}" "$(cat "$TMP/r1")"
if wait_until 5 grep -q '"h2-tls-json"' "$OTF_OUT"; then ok "the HTTP/2 record reached the file"; else
	bad "h2-tls-json not in the file: $(head -c 300 "$OTF_OUT")"
fi
cat >"$TMP/tr.json" <<'J'
{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"h2svc"}}]},
"scopeSpans":[{"scope":{"name":"e2e"},"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c",
"spanId":"b7ad6b7169203331","name":"h2-span","kind":2,"startTimeUnixNano":"1700000000000000000",
"endTimeUnixNano":"1700000000500000000"}]}]}]}
J
"$OTF_BIN" pdata convert --signal traces --from json --to proto "$TMP/tr.json" -o "$TMP/tr.pb" ||
	bad "pdata convert"
gzip -c "$TMP/tr.pb" >"$TMP/tr.pb.gz"
got=$(curlv "$TMP/r2" --http2 --cacert "$C/ca.pem" -H 'Content-Type: application/x-protobuf' \
	-H 'Content-Encoding: gzip' --data-binary "@$TMP/tr.pb.gz" "$TLS_URL/v1/traces")
expect_eq "gzip'd protobuf traces over h2/TLS" "200 2" "$got"
if grep -qi '^content-type: application/x-protobuf' "$TMP/r2.h"; then
	ok "protobuf in, protobuf answer"
else bad "answer headers: $(tr -d '\r' <"$TMP/r2.h")"; fi
if wait_until 5 grep -q '0af7651916cd43dd8448eb211c80319c' "$OTF_OUT" &&
	grep '0af7651916cd43dd8448eb211c80319c' "$OTF_OUT" | grep -q 'b7ad6b7169203331' &&
	grep '0af7651916cd43dd8448eb211c80319c' "$OTF_OUT" | grep -q '"h2-span"'; then
	ok "the span arrived with its trace id, span id and name"
else bad "the span is not in the file: $(tail -c 400 "$OTF_OUT")"; fi
got=$(curlv "$TMP/r3" --http1.1 --cacert "$C/ca.pem" "${JS[@]}" -d "$(body h1-tls-json)" \
	"$TLS_URL/v1/logs")
expect_eq "curl --http1.1 on the same TLS port: HTTP/1.1" "200 1.1" "$got"
if wait_until 5 grep -q '"h1-tls-json"' "$OTF_OUT"; then ok "the HTTP/1.1 record too"; else
	bad "h1-tls-json not in the file"
fi

# ---- 2. h2c with prior knowledge ----
body h2c-zstd >"$TMP/z.json"
zstd -q -c "$TMP/z.json" >"$TMP/z.json.zst"
got=$(curlv "$TMP/r4" --http2-prior-knowledge "${JS[@]}" -H 'Content-Encoding: zstd' \
	--data-binary "@$TMP/z.json.zst" "$PLAIN_URL/v1/logs")
expect_eq "curl --http2-prior-knowledge (h2c), zstd'd JSON: 200 on HTTP/2" "200 2" "$got"
if wait_until 5 grep -q '"h2c-zstd"' "$OTF_OUT"; then ok "the h2c record reached the file"; else
	bad "h2c-zstd not in the file"
fi
# same_as NAME CURL-ARGS...: the HTTP/2 answer equals the HTTP/1.1 one.
same_as() {
	local name=$1
	shift
	local a b
	a=$(curlv "$TMP/a" --http2-prior-knowledge "$@")
	b=$(curlv "$TMP/b" --http1.1 "$@")
	if [ "${a% *}" = "${b% *}" ] && [ "${a#* }" = 2 ] && cmp -s "$TMP/a" "$TMP/b"; then
		ok "$name: ${a% *} on HTTP/2 as on HTTP/1.1 ($(head -c 80 "$TMP/a" | tr -c '[:print:]' '.'))"
	else
		bad "$name: h2 '$a' $(head -c 200 "$TMP/a") vs http/1.1 '$b' $(head -c 200 "$TMP/b")"
	fi
}
same_as "unknown path" "${JS[@]}" -d '{}' "$PLAIN_URL/v1/nothing"
same_as "unknown Content-Encoding" "${JS[@]}" -H 'Content-Encoding: br' -d '{}' "$PLAIN_URL/v1/logs"
head -c 4096 /dev/zero | tr '\0' 'x' >"$TMP/big"
same_as "body above max_request_body_size" "${JS[@]}" --data-binary "@$TMP/big" "$PLAIN_URL/v1/logs"
same_as "invalid JSON" "${JS[@]}" -d '{"resourceLogs":' "$PLAIN_URL/v1/logs"
PRE=(-X OPTIONS -H 'Origin: https://app.example' -H 'Access-Control-Request-Method: POST')
same_as "CORS preflight" "${PRE[@]}" "$PLAIN_URL/v1/logs"
if grep -qi '^access-control-allow-origin: https://app.example' "$TMP/a.h"; then
	ok "the h2 preflight allows the origin"
else bad "h2 preflight headers: $(tr -d '\r' <"$TMP/a.h")"; fi
got=$(curlv "$TMP/r5" --http2-prior-knowledge "${JS[@]}" -d "$(body no-token)" \
	"http://127.0.0.1:$OTF_E2E_AUTH/v1/logs")
expect_eq "bearertokenauth over h2c without the token" "401 2" "$got"
got=$(curlv "$TMP/r6" --http2-prior-knowledge "${JS[@]}" -H 'Authorization: Bearer s3cret' \
	-d "$(body with-token)" "http://127.0.0.1:$OTF_E2E_AUTH/v1/logs")
expect_eq "bearertokenauth over h2c with the token" "200 2" "$got"
if wait_until 5 grep -q '"with-token"' "$OTF_OUT" && ! grep -q '"no-token"' "$OTF_OUT"; then
	ok "only the authenticated record reached the file"
else bad "auth records: $(grep -o '"[a-z]*-token"' "$OTF_OUT")"; fi

# ---- 3. h2load over TLS ----
body h2load-rec >"$TMP/load.json"
if h2load -n 400 -c 4 -m 10 -d "$TMP/load.json" -H 'Content-Type: application/json' \
	"$TLS_URL/v1/logs" >"$TMP/h2load.txt" 2>&1; then :; fi
sed 's/^/  | /' "$TMP/h2load.txt" | grep -E 'requests:|status codes:|finished in|Protocol' || true
if grep -q 'requests: 400 total, 400 started, 400 done, 400 succeeded' "$TMP/h2load.txt" &&
	grep -q 'status codes: 400 2xx' "$TMP/h2load.txt" && grep -q 'Application protocol: h2' "$TMP/h2load.txt"; then
	ok "h2load: 400 requests over h2/TLS, all 2xx"
else bad "h2load: $(cat "$TMP/h2load.txt")"; fi
if wait_until 10 has_n "$OTF_OUT" '"h2load-rec"' 400; then
	ok "the file holds exactly 400 h2load records"
else bad "h2load records in the file: $(count_in "$OTF_OUT" '"h2load-rec"')"; fi

# ---- 4. a broken HTTP/2 client ----
res=$(python3 - "$OTF_E2E_PLAIN" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\xff" * 64)
s.settimeout(5)
try:
    while s.recv(4096):
        pass
    print("closed")
except (socket.timeout, TimeoutError):
    print("open after 5s")
except ConnectionResetError:
    print("closed")
PY
)
expect_eq "preface then garbage: the connection is closed" closed "$res"
if otf_alive; then ok "otflow is still up"; else bad "otflow died"; fi
got=$(curlv "$TMP/r7" --http2-prior-knowledge "${JS[@]}" -d "$(body after-garbage)" "$PLAIN_URL/v1/logs")
expect_eq "the next h2c client is served" "200 2" "$got"

otf_stop
finish
