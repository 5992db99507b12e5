#!/usr/bin/env bash
# TLS and mTLS end to end, with certificates made here by the openssl
# command (tls_certs.sh: CA, server for localhost/127.0.0.1, client, a
# second CA and its client, an expired server certificate):
#  1. curl --cacert --cert --key to OTLP/HTTPS with mTLS: 200 and the log
#     record's body in the file exporter's output (by name and by address);
#  2. refusals, each closing that connection only: no client certificate,
#     a client certificate from another CA (both logged with the peer
#     address and the reason, and counted), plaintext HTTP on the TLS port
#     (400 "Client sent an HTTP request to an HTTPS server"), TLS on a
#     plaintext port, and a handshake that stalls (closed after
#     read_header_timeout); the process stays up and the next good client
#     is served;
#  3. otflow -> otflow: A's otlp exporter over gRPC/TLS (default TLS, CA
#     from ca_file) and its otlphttp exporter over HTTPS with mTLS, into B;
#     B's file holds the record twice;
#  4. an exporter facing an expired server certificate: the client of A
#     (wait_for_result) gets 503 (retryable, as the Collector treats a
#     transport failure: UNAVAILABLE) with "certificate has expired"; the
#     same exporter pointed at a plaintext port: 503 with the TLS reason;
#     insecure_skip_verify accepts the expired server; server_name_override
#     naming another host is refused (hostname mismatch);
#  5. certificate rotation with reload_interval while a client keeps
#     sending on one kept-alive HTTPS connection: openssl s_client sees the
#     new serial, and every request before, during and after is 200;
#  6. a key that does not match its certificate, and a missing file: the
#     config error names file:line and the key;
#  7. examples/tls.yaml validates after the openssl one-liner it documents;
#  8. the OpenTelemetry JS SDK's gRPC exporters with TLS credentials (CA and
#     client certificate): the file holds exactly what the SDK exported.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_certs.sh"

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

body() { # a log record whose body is $1
	printf '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"%s"}}]}]}]}' "$1"
}
count_in() { grep -o "$2" "$1" 2>/dev/null | wc -l; }
has_n() { [ "$(count_in "$1" "$2")" -eq "$3" ]; } # FILE PATTERN N

# ---- B: the TLS server (HTTPS with mTLS, gRPC over TLS) -> file ----
export OTF_E2E_GRPC_PORT OTF_E2E_TLS_DIR="$C"
OTF_E2E_GRPC_PORT=$(free_port)
cat >"$TMP/b.yaml" <<'EOF'
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${env:OTF_E2E_PORT}
        read_header_timeout: 1s
        tls:
          cert_file: ${env:OTF_E2E_TLS_DIR}/server.pem
          key_file: ${env:OTF_E2E_TLS_DIR}/server.key
          client_ca_file: ${env:OTF_E2E_TLS_DIR}/ca.pem
      grpc:
        endpoint: 127.0.0.1:${env:OTF_E2E_GRPC_PORT}
        tls:
          cert_file: ${env:OTF_E2E_TLS_DIR}/server.pem
          key_file: ${env:OTF_E2E_TLS_DIR}/server.key
exporters:
  file:
    path: ${env:OTF_E2E_OUT}
    format: json
    flush_interval: 100ms
  otlphttp/identity:
    endpoint: http://127.0.0.1:${env:OTF_E2E_CAPTURE}
    encoding: json
    compression: none
    auth: {authenticator: headers_setter/cn}
extensions:
  health_check:
    endpoint: 127.0.0.1:${env:OTF_E2E_HEALTH_PORT}
  headers_setter/cn:
    headers: [{key: X-Client, from_context: auth.cn, default_value: none}]
service:
  extensions: [health_check, headers_setter/cn]
  telemetry:
    metrics:
      level: basic
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: ${env:OTF_E2E_PROM}
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [file, otlphttp/identity]
EOF
export OTF_E2E_PROM OTF_E2E_CAPTURE
OTF_E2E_PROM=$(free_port)
# The client certificate's CN travels as auth.cn: B forwards every record to
# this backend with X-Client from it (headers_setter).
OTF_E2E_CAPTURE=$(free_port)
python3 "$E2E_DIR/capture_http.py" "$OTF_E2E_CAPTURE" X-Client "$TMP/identity.txt" &
track $!
if ! otf_start b "$TMP/b.yaml"; then
	bad "otflow with TLS receivers did not start"
	finish
fi
B_PORT=$OTF_PORT B_OUT=$OTF_OUT B_LOG=$OTF_LOG B_PID=$OTF_PID B_GRPC=$OTF_E2E_GRPC_PORT
OTF_HEALTH_PORT_B=$OTF_HEALTH_PORT
CURL_OK=(--cacert "$C/ca.pem" --cert "$C/client.pem" --key "$C/client.key")
post() { # URL BODY [curl options...]: prints the HTTP code
	local url=$1 b=$2
	shift 2
	curl -s -m 5 -o "$TMP/resp" -w '%{http_code}' -H 'Content-Type: application/json' \
		-d "$b" "$@" "$url"
}

# 1. curl over HTTPS with a client certificate
code=$(post "https://localhost:$B_PORT/v1/logs" "$(body curl-mtls-1)" "${CURL_OK[@]}")
expect_eq "curl --cacert --cert over mTLS: HTTP code" 200 "$code"
if wait_until 5 grep -q '"curl-mtls-1"' "$B_OUT"; then ok "the record reached the file exporter"; else
	bad "curl-mtls-1 not in $B_OUT"
fi
code=$(post "https://127.0.0.1:$B_PORT/v1/logs" "$(body curl-mtls-ip)" "${CURL_OK[@]}")
expect_eq "the certificate is valid for 127.0.0.1 too" 200 "$code"
if wait_until 5 grep -q 'curl-mtls-1' "$TMP/identity.txt"; then
	expect_eq "the client certificate's CN is the identity (auth.cn)" "otflow-test-client" \
		"$(grep -P '\tcurl-mtls-1$' "$TMP/identity.txt" | cut -f1)"
else
	bad "the identity backend got nothing: $(cat "$TMP/identity.txt" 2>/dev/null)"
fi

# 2. refusals
t0=$(date +%s%N)
code=$(post "https://localhost:$B_PORT/v1/logs" "$(body no-cert)" --cacert "$C/ca.pem")
expect_eq "no client certificate: refused in the handshake" 000 "$code"
code=$(post "https://localhost:$B_PORT/v1/logs" "$(body other-ca)" --cacert "$C/ca.pem" \
	--cert "$C/client2.pem" --key "$C/client2.key")
expect_eq "a client certificate from another CA: refused" 000 "$code"
code=$(post "http://127.0.0.1:$B_PORT/v1/logs" "$(body plaintext)")
expect_eq "plaintext HTTP on the TLS port: 400" 400 "$code"
if grep -q "Client sent an HTTP request to an HTTPS server" "$TMP/resp"; then
	ok "plaintext on the TLS port is told what is wrong"
else
	bad "plaintext answer: $(cat "$TMP/resp")"
fi
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$ms" -lt 3000 ]; then ok "the three refusals took ${ms} ms (closed at once)"; else
	bad "refusals took ${ms} ms"
fi
if wait_until 5 grep -q "protocols.http.tls: TLS handshake with 127.0.0.1:[0-9]* failed: peer did not return a certificate" "$B_LOG"; then
	ok "missing client certificate logged with the peer address and the reason"
else
	bad "no log line for the missing client certificate: $(grep tls "$B_LOG")"
fi
if grep -q "TLS handshake with 127.0.0.1:[0-9]* failed: certificate verify failed (unable to get local issuer certificate)" "$B_LOG"; then
	ok "untrusted client certificate logged with the verification reason"
else
	bad "no log line for the untrusted client: $(grep tls "$B_LOG")"
fi
# TLS to a plaintext port: B's health endpoint is plain HTTP.
t0=$(date +%s%N)
if curl -s -m 5 -o /dev/null --cacert "$C/ca.pem" "https://127.0.0.1:$OTF_HEALTH_PORT/"; then
	bad "TLS to a plaintext port succeeded"
else ok "TLS to a plaintext port fails"; fi
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$ms" -lt 3000 ]; then ok "... within ${ms} ms"; else bad "TLS to plaintext took ${ms} ms"; fi
# A handshake that stalls: a partial ClientHello, then silence.
stall=$(python3 - "$B_PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"\x16\x03\x01\x00\xff\x01")  # record header + 1 byte, then nothing
s.settimeout(10)
t = time.monotonic()
try:
    while s.recv(4096):
        pass
    print("closed %.1f" % (time.monotonic() - t))
except (socket.timeout, TimeoutError):
    print("open after 10s")
except ConnectionResetError:
    print("closed %.1f" % (time.monotonic() - t))
PY
)
case $stall in
closed*) ok "a stalled handshake is closed (${stall#closed }s; read_header_timeout 1s)" ;;
*) bad "stalled handshake: $stall" ;;
esac
if kill -0 "$B_PID" 2>/dev/null; then ok "otflow is up after the refusals"; else bad "otflow died"; fi
# Counted: no cert, other CA, plaintext, the stalled one (closed mid-handshake).
failures() {
	curl -s -m 2 "http://127.0.0.1:$OTF_E2E_PROM/metrics" |
		awk '/^otelcol_tls_handshake_failures.*component="receiver:otlp protocols.http.tls"/ {print $NF}'
}
atleast4() { [ "$(failures)" -ge 4 ] 2>/dev/null; }
if wait_until 5 atleast4; then
	ok "failed handshakes counted: otelcol_tls_handshake_failures = $(failures)"
else
	bad "otelcol_tls_handshake_failures: '$(failures)'; $(curl -s "http://127.0.0.1:$OTF_E2E_PROM/metrics" | grep -i tls)"
fi
code=$(post "https://localhost:$B_PORT/v1/logs" "$(body after-refusals)" "${CURL_OK[@]}")
expect_eq "a good client is served after the refusals" 200 "$code"

# 3. otflow A -> B over gRPC/TLS and HTTPS/mTLS
A_HTTP=$(free_port)
export OTF_E2E_B_GRPC=$B_GRPC OTF_E2E_B_HTTP=$B_PORT OTF_E2E_A_HTTP=$A_HTTP
cat >"$TMP/a.yaml" <<'EOF'
receivers:
  otlp:
    wait_for_result: true
    protocols:
      http:
        endpoint: 127.0.0.1:${env:OTF_E2E_A_HTTP}
exporters:
  otlp:
    endpoint: localhost:${env:OTF_E2E_B_GRPC}
    tls:
      ca_file: ${env:OTF_E2E_TLS_DIR}/ca.pem
    retry_on_failure: {enabled: false}
  otlphttp:
    endpoint: https://localhost:${env:OTF_E2E_B_HTTP}
    tls:
      ca_file: ${env:OTF_E2E_TLS_DIR}/ca.pem
      cert_file: ${env:OTF_E2E_TLS_DIR}/client.pem
      key_file: ${env:OTF_E2E_TLS_DIR}/client.key
    retry_on_failure: {enabled: false}
  file:
    path: ${env:OTF_E2E_OUT}
extensions:
  health_check:
    endpoint: 127.0.0.1:${env:OTF_E2E_HEALTH_PORT}
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [otlp, otlphttp]
EOF
OTF_PID=""
if otf_start a "$TMP/a.yaml"; then
	A_PID=$OTF_PID
	code=$(post "http://127.0.0.1:$A_HTTP/v1/logs" "$(body chained-record)")
	expect_eq "A answers 200 once B has the record both ways" 200 "$code"
	if wait_until 5 has_n "$B_OUT" '"chained-record"' 2; then
		ok "B holds the record twice (gRPC/TLS and HTTPS/mTLS)"
	else
		bad "B holds chained-record $(count_in "$B_OUT" '"chained-record"') times, want 2"
	fi
	otf_stop
else
	bad "otflow A (TLS exporters) did not start"
fi

# 4. an expired server certificate seen by the exporter
E_GRPC=$(free_port)
export OTF_E2E_E_GRPC=$E_GRPC
export OTF_E2E_E_PROM
OTF_E2E_E_PROM=$(free_port)
sed -e 's/OTF_E2E_GRPC_PORT/OTF_E2E_E_GRPC/' -e 's/server\.pem/expired.pem/' -e 's/OTF_E2E_PROM/OTF_E2E_E_PROM/' \
	-e 's/server\.key/expired.key/' "$TMP/b.yaml" >"$TMP/e.yaml"
sed -e 's/OTF_E2E_B_GRPC/OTF_E2E_E_GRPC/' -e '/otlphttp:/,/retry_on_failure/d' \
	-e 's/exporters: \[otlp, otlphttp\]/exporters: [otlp]/' \
	-e 's/retry_on_failure: {enabled: false}/&\n    sending_queue: {enabled: false}/' \
	"$TMP/a.yaml" >"$TMP/a2.yaml"
OTF_PID=""
if otf_start e "$TMP/e.yaml"; then
	E_PID=$OTF_PID
	OTF_PID=""
	if otf_start a2 "$TMP/a2.yaml"; then
		code=$(post "http://127.0.0.1:$A_HTTP/v1/logs" "$(body to-expired)")
		expect_eq "exporter facing an expired certificate: 503 (retryable)" 503 "$code"
		if grep -q "certificate has expired" "$TMP/resp"; then
			ok "the NACK says why: $(grep -o 'TLS: [^"]*' "$TMP/resp")"
		else
			bad "answer without the reason: $(cat "$TMP/resp")"
		fi
		otf_stop
	else
		bad "otflow A2 did not start"
	fi
	# insecure_skip_verify: the same expired server is accepted.
	sed -e 's|ca_file: .*|insecure_skip_verify: true|' "$TMP/a2.yaml" >"$TMP/a2skip.yaml"
	OTF_PID=""
	if otf_start a2skip "$TMP/a2skip.yaml"; then
		code=$(post "http://127.0.0.1:$A_HTTP/v1/logs" "$(body skip-verify)")
		expect_eq "insecure_skip_verify: the expired server is used" 200 "$code"
		otf_stop
	else
		bad "otflow A2 (insecure_skip_verify) did not start"
	fi
	OTF_PID=$E_PID
	otf_stop
else
	bad "otflow with the expired certificate did not start"
fi
# server_name_override: the name verified is that one, not the endpoint's.
sed -e 's/OTF_E2E_E_GRPC/OTF_E2E_B_GRPC/' \
	-e 's|ca_file: \(.*\)|ca_file: \1\n      server_name_override: other.example|' "$TMP/a2.yaml" >"$TMP/a2name.yaml"
OTF_PID=""
if otf_start a2name "$TMP/a2name.yaml"; then
	code=$(post "http://127.0.0.1:$A_HTTP/v1/logs" "$(body other-name)")
	expect_eq "server_name_override naming another host: 503" 503 "$code"
	if grep -q "hostname mismatch" "$TMP/resp"; then
		ok "... refused for the name: $(grep -o 'TLS: [^"]*' "$TMP/resp")"
	else
		bad "server_name_override answer: $(cat "$TMP/resp")"
	fi
	otf_stop
else
	bad "otflow A2 (server_name_override) did not start"
fi
# ... and a TLS exporter pointed at a plaintext port (B's health endpoint).
sed -e "s/localhost:\${env:OTF_E2E_E_GRPC}/127.0.0.1:$OTF_HEALTH_PORT_B/" "$TMP/a2.yaml" >"$TMP/a3.yaml"
OTF_PID=""
if otf_start a3 "$TMP/a3.yaml"; then
	code=$(post "http://127.0.0.1:$A_HTTP/v1/logs" "$(body to-plaintext)")
	expect_eq "TLS exporter facing a plaintext port: 503 (retryable)" 503 "$code"
	if grep -q '"not delivered: UNAVAILABLE from [^"]*TLS: ' "$TMP/resp"; then
		ok "... with the TLS reason: $(grep -o 'TLS: [^"]*' "$TMP/resp")"
	else
		bad "answer without the TLS reason: $(cat "$TMP/resp")"
	fi
	otf_stop
else
	bad "otflow A3 did not start"
fi

# 5. rotation with reload_interval while a client keeps sending
R_DIR="$TMP/rot"
mkdir -p "$R_DIR"
cp "$C/server.pem" "$R_DIR/cert.pem"
cp "$C/server.key" "$R_DIR/key.pem"
cat >"$TMP/r.yaml" <<'EOF'
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${env:OTF_E2E_PORT}
        tls:
          cert_file: ${env:OTF_E2E_ROT_DIR}/cert.pem
          key_file: ${env:OTF_E2E_ROT_DIR}/key.pem
          reload_interval: 500ms
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
    logs:
      receivers: [otlp]
      exporters: [file]
EOF
serial() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
served_serial() {
	echo | openssl s_client -connect "127.0.0.1:$1" -CAfile "$C/ca.pem" 2>/dev/null |
		openssl x509 -noout -serial 2>/dev/null | cut -d= -f2
}
export OTF_E2E_ROT_DIR=$R_DIR
OTF_PID=""
if otf_start r "$TMP/r.yaml"; then
	R_PORT=$OTF_PORT
	expect_eq "before rotation the first certificate is served" "$(serial "$C/server.pem")" \
		"$(served_serial "$R_PORT")"
	# One kept-alive connection sending every 50 ms until told to stop.
	python3 - "$R_PORT" "$C/ca.pem" "$TMP/stop" >"$TMP/keeper.out" 2>&1 <<'PY' &
import http.client, os, ssl, sys, time
port, ca, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
c = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=5)
n = bad = 0
sock = None
while not os.path.exists(stop) and n < 400:
    body = '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"keeper-%d"}}]}]}]}' % n
    c.request("POST", "/v1/logs", body, {"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    if sock is None:
        sock = c.sock
    if r.status != 200 or c.sock is not sock:
        bad += 1
    n += 1
    time.sleep(0.05)
print("sent %d bad %d" % (n, bad))
PY
	KEEPER=$!
	track $KEEPER
	wait_until 5 grep -q '"keeper-3"' "$OTF_OUT"
	cp "$C/server2.pem" "$R_DIR/cert.pem"
	want=$(serial "$C/server2.pem")
	serves() { [ "$(served_serial "$R_PORT")" = "$want" ]; }
	if wait_until 10 serves; then
		ok "after rotation new handshakes get the new certificate (serial $want)"
	else
		bad "served serial $(served_serial "$R_PORT"), want $want"
	fi
	sleep 0.3 # a few more requests on the old connection, after the swap
	touch "$TMP/stop"
	wait_pid $KEEPER 10
	untrack $KEEPER
	read -r _ sent _ nbad <"$TMP/keeper.out"
	if [ "${nbad:-x}" = 0 ] && [ "${sent:-0}" -gt 4 ]; then
		ok "the open connection kept working through the rotation ($sent requests, all 200, one connection)"
	else
		bad "keeper: $(cat "$TMP/keeper.out")"
	fi
	if grep -q "certificates reloaded" "$OTF_LOG"; then ok "the reload is logged"; else
		bad "no reload log line"
	fi
	otf_stop
else
	bad "otflow with reload_interval did not start"
fi

# 6. startup errors name file:line and the key
sed -e 's|key_file: ${env:OTF_E2E_TLS_DIR}/server.key|key_file: ${env:OTF_E2E_TLS_DIR}/client.key|' \
	"$TMP/b.yaml" >"$TMP/mismatch.yaml"
export OTF_E2E_PORT=1 OTF_E2E_OUT=$TMP/unused OTF_E2E_HEALTH_PORT=2
out=$("$OTF_BIN" validate --config "$TMP/mismatch.yaml" 2>&1)
if printf '%s' "$out" | grep -q "mismatch.yaml:[0-9]*:[0-9]*: .*protocols.grpc.tls.key_file: does not match cert_file"; then
	ok "mismatched key: $(printf '%s' "$out" | grep -o 'protocols.grpc.tls.key_file.*' | head -1)"
else
	bad "mismatched key not reported: $out"
fi
sed -e 's|client_ca_file: .*|client_ca_file: /nonexistent/ca.pem|' "$TMP/b.yaml" >"$TMP/missing.yaml"
out=$("$OTF_BIN" validate --config "$TMP/missing.yaml" 2>&1)
if printf '%s' "$out" | grep -q 'missing.yaml:[0-9]*:[0-9]*: .*protocols.http.tls.client_ca_file: cannot read "/nonexistent/ca.pem": No such file or directory'; then
	ok "unreadable CA file named with the key"
else
	bad "unreadable file not reported: $out"
fi

# 8. the OpenTelemetry JS SDK's gRPC exporters with TLS credentials (CA and
#    client certificate) into an mTLS gRPC receiver: the file holds exactly
#    what the SDK exported.
if e2e_npm_ci >"$TMP/npm.log" 2>&1; then
	S_GRPC=$(free_port)
	export OTF_E2E_S_GRPC=$S_GRPC
	cat >"$TMP/s.yaml" <<'EOF'
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${env:OTF_E2E_S_GRPC}
        tls:
          cert_file: ${env:OTF_E2E_TLS_DIR}/server.pem
          key_file: ${env:OTF_E2E_TLS_DIR}/server.key
          client_ca_file: ${env:OTF_E2E_TLS_DIR}/ca.pem
      http:
        endpoint: 127.0.0.1:${env:OTF_E2E_PORT}
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
    traces: {receivers: [otlp], exporters: [file]}
    metrics: {receivers: [otlp], exporters: [file]}
    logs: {receivers: [otlp], exporters: [file]}
EOF
	OTF_PID=""
	if otf_start sdk "$TMP/s.yaml"; then
		if timeout 60 node "$E2E_DIR/send.mjs" --protocol grpc --endpoint "localhost:$S_GRPC" \
			--ca "$C/ca.pem" --cert "$C/client.pem" --key "$C/client.key" --run tls \
			>"$TMP/sent-tls.json" 2>"$TMP/send-tls.err"; then
			ok "JS SDK gRPC exporters over mTLS: every export succeeded"
		else
			bad "send.mjs over TLS failed: $(tail -5 "$TMP/send-tls.err")"
		fi
		otf_stop
		if timeout 60 node "$E2E_DIR/check.mjs" sdk "$OTF_OUT" "$TMP/sent-tls.json" >"$TMP/check.txt" 2>&1; then
			ok "$(cat "$TMP/check.txt")"
		else
			bad "file output differs from what the SDK sent over TLS: $(head -20 "$TMP/check.txt")"
		fi
	else
		bad "otflow for the SDK over TLS did not start"
	fi
else
	echo "skip: npm ci failed, no JS SDK run ($(tail -3 "$TMP/npm.log"))"
fi

# 7. examples/tls.yaml is valid after its documented openssl one-liner
mkdir -p "$TMP/example"
line=$(grep '^#   openssl req -x509' "$OTF_SOURCE_DIR/examples/tls.yaml" | sed 's/^#   //')
if (cd "$TMP/example" && bash -c "$line" >/dev/null 2>&1 &&
	"$OTF_BIN" validate --config "$OTF_SOURCE_DIR/examples/tls.yaml" >/dev/null 2>&1); then
	ok "examples/tls.yaml validates after its openssl one-liner"
else
	bad "examples/tls.yaml with the one-liner's files: $(cd "$TMP/example" && "$OTF_BIN" validate --config "$OTF_SOURCE_DIR/examples/tls.yaml" 2>&1 | tail -2)"
fi

OTF_PID=$B_PID OTF_LOG=$B_LOG
otf_stop
finish
