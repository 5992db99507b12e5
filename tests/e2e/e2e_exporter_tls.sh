#!/usr/bin/env bash
# Exporter TLS against real otflow receivers, certificates made here:
#  1. otlphttp tls.server_name_override: B's HTTPS receiver has a
#     certificate naming only backend.example; A's otlphttp exporter to
#     https://127.0.0.1:PORT with server_name_override: backend.example
#     delivers (the record is in B's file), and the Host header B saw is the
#     endpoint's, 127.0.0.1:PORT, as the Collector sends it (B forwards it
#     with include_metadata + headers_setter to a capture backend); the same
#     exporter without the override is refused (hostname mismatch);
#  2. the otlp exporter's TLS handshake is bounded by its timeout: against
#     a socket that accepts and never answers, timeout 2s, each export
#     fails retryable (503, UNAVAILABLE with "no handshake within") in
#     2s + slack, twice in a row; with timeout 11s it is not given up at
#     the 10 s that used to be fixed but at 11 s; the process stays up.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_certs.sh"

C="$TMP/certs"
if tls_make_certs "$C" && (cd "$C" &&
	printf 'subjectAltName=DNS:backend.example\nextendedKeyUsage=serverAuth\n' >alt.ext &&
	tls__sign alt ca "/CN=backend.example" alt.ext); then
	ok "certificates made with openssl (alt.pem names only backend.example)"
else
	bad "openssl could not make the test certificates"
	finish
fi

wait_until() { # SECONDS CMD...
	local limit=$(($1 * 10)) i=0
	shift
	while [ $i -lt "$limit" ]; do
		"$@" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
body() { printf '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"%s"}}]}]}]}' "$1"; }
post() { # URL BODY: prints "CODE SECONDS"; the answer in $TMP/resp
	curl -s -m 30 -o "$TMP/resp" -w '%{http_code} %{time_total}' \
		-H 'Content-Type: application/json' -d "$2" "$1"
}

# ---- B: HTTPS receiver with the backend.example certificate ----
export OTF_E2E_TLS_DIR="$C" OTF_E2E_CAPTURE
OTF_E2E_CAPTURE=$(free_port)
python3 "$E2E_DIR/capture_http.py" "$OTF_E2E_CAPTURE" X-Seen-Host "$TMP/hosts.txt" &
track $!
cat >"$TMP/b.yaml" <<'EOF'
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${env:OTF_E2E_PORT}
        include_metadata: true
        tls:
          cert_file: ${env:OTF_E2E_TLS_DIR}/alt.pem
          key_file: ${env:OTF_E2E_TLS_DIR}/alt.key
exporters:
  file:
    path: ${env:OTF_E2E_OUT}
    format: json
    flush_interval: 100ms
  otlphttp/capture:
    endpoint: http://127.0.0.1:${env:OTF_E2E_CAPTURE}
    encoding: json
    compression: none
    auth: {authenticator: headers_setter/host}
extensions:
  health_check:
    endpoint: 127.0.0.1:${env:OTF_E2E_HEALTH_PORT}
  headers_setter/host:
    headers: [{key: X-Seen-Host, from_context: host, default_value: none}]
service:
  extensions: [health_check, headers_setter/host]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [file, otlphttp/capture]
EOF
if ! otf_start b "$TMP/b.yaml"; then
	bad "B did not start"
	finish
fi
B_PORT=$OTF_PORT B_OUT=$OTF_OUT B_PID=$OTF_PID

# ---- A: otlphttp with and without the override; otlp to a silent socket ----
export OTF_E2E_B="$B_PORT" OTF_E2E_NOSNO OTF_E2E_STALL OTF_E2E_SILENT OTF_E2E_STALL11
OTF_E2E_STALL11=$(free_port)
OTF_E2E_NOSNO=$(free_port)
OTF_E2E_STALL=$(free_port)
OTF_E2E_SILENT=$(free_port)
python3 - "$OTF_E2E_SILENT" <<'PY' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
held = []
while True:  # accept, never answer the ClientHello
    held.append(s.accept()[0])
PY
track $!
cat >"$TMP/a.yaml" <<'EOF'
receivers:
  otlp:
    wait_for_result: true
    protocols:
      http: {endpoint: "127.0.0.1:${env:OTF_E2E_PORT}"}
  otlp/nosno:
    wait_for_result: true
    protocols:
      http: {endpoint: "127.0.0.1:${env:OTF_E2E_NOSNO}"}
  otlp/stall:
    wait_for_result: true
    protocols:
      http: {endpoint: "127.0.0.1:${env:OTF_E2E_STALL}"}
  otlp/stall11:
    wait_for_result: true
    protocols:
      http: {endpoint: "127.0.0.1:${env:OTF_E2E_STALL11}"}
exporters:
  otlphttp/sno:
    endpoint: https://127.0.0.1:${env:OTF_E2E_B}
    encoding: json
    retry_on_failure: {enabled: false}
    tls:
      ca_file: ${env:OTF_E2E_TLS_DIR}/ca.pem
      server_name_override: backend.example
  otlphttp/nosno:
    endpoint: https://127.0.0.1:${env:OTF_E2E_B}
    encoding: json
    retry_on_failure: {enabled: false}
    tls: {ca_file: "${env:OTF_E2E_TLS_DIR}/ca.pem"}
  otlp/stall:
    endpoint: 127.0.0.1:${env:OTF_E2E_SILENT}
    timeout: 2s
    retry_on_failure: {enabled: false}
    sending_queue: {enabled: false}
    tls: {ca_file: "${env:OTF_E2E_TLS_DIR}/ca.pem"}
  otlp/stall11:
    endpoint: 127.0.0.1:${env:OTF_E2E_SILENT}
    timeout: 11s
    retry_on_failure: {enabled: false}
    sending_queue: {enabled: false}
    tls: {ca_file: "${env:OTF_E2E_TLS_DIR}/ca.pem"}
extensions:
  health_check:
    endpoint: 127.0.0.1:${env:OTF_E2E_HEALTH_PORT}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs/sno: {receivers: [otlp], exporters: [otlphttp/sno]}
    logs/nosno: {receivers: [otlp/nosno], exporters: [otlphttp/nosno]}
    logs/stall: {receivers: [otlp/stall], exporters: [otlp/stall]}
    logs/stall11: {receivers: [otlp/stall11], exporters: [otlp/stall11]}
EOF
if ! otf_start a "$TMP/a.yaml"; then
	bad "A did not start"
	finish
fi
A_PORT=$OTF_PORT

# 1. server_name_override
got=$(post "http://127.0.0.1:$A_PORT/v1/logs" "$(body via-override)")
expect_eq "otlphttp with server_name_override: delivered" 200 "${got% *}"
if wait_until 5 grep -q '"via-override"' "$B_OUT"; then ok "the record is in B's file"; else
	bad "via-override not in B's file; A answered: $(cat "$TMP/resp")"
fi
if wait_until 5 grep -q 'via-override' "$TMP/hosts.txt"; then
	expect_eq "the Host header B saw is the endpoint's" "127.0.0.1:$B_PORT" \
		"$(grep -P '\tvia-override$' "$TMP/hosts.txt" | cut -f1)"
else bad "the capture backend got nothing: $(cat "$TMP/hosts.txt" 2>/dev/null)"; fi
got=$(post "http://127.0.0.1:$OTF_E2E_NOSNO/v1/logs" "$(body no-override)")
expect_eq "the same exporter without the override: refused (503)" 503 "${got% *}"
if grep -q "127.0.0.1" "$TMP/resp" && grep -qi "certificate\|SSL" "$TMP/resp"; then
	ok "... with the certificate name reason: $(head -c 200 "$TMP/resp")"
else bad "no-override answer: $(cat "$TMP/resp")"; fi

# 2. handshake bounded by timeout
for i in 1 2; do
	got=$(post "http://127.0.0.1:$OTF_E2E_STALL/v1/logs" "$(body stall-$i)")
	code=${got% *} secs=${got#* }
	ms=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 1000 }')
	expect_eq "export $i to a server that never answers the handshake: 503 (retryable)" 503 "$code"
	if grep -q "UNAVAILABLE.*no handshake within" "$TMP/resp"; then
		ok "... UNAVAILABLE with the reason: $(head -c 160 "$TMP/resp")"
	else bad "... answer: $(cat "$TMP/resp")"; fi
	if [ "$ms" -ge 1800 ] && [ "$ms" -le 5000 ]; then
		ok "... after ${ms} ms (timeout 2s)"
	else bad "... after ${ms} ms, want 2000 ms + slack"; fi
done
got=$(post "http://127.0.0.1:$OTF_E2E_STALL11/v1/logs" "$(body stall-11)")
ms=$(awk -v s="${got#* }" 'BEGIN { printf "%d", s * 1000 }')
expect_eq "timeout 11s, a stalled handshake: 503" 503 "${got% *}"
if [ "$ms" -ge 10800 ] && [ "$ms" -le 15000 ] && grep -q "no handshake within" "$TMP/resp"; then
	ok "... given up after ${ms} ms, at the exporter's timeout (not a fixed 10 s)"
else bad "... after ${ms} ms: $(cat "$TMP/resp")"; fi
if otf_alive; then ok "A is still up"; else bad "A died"; fi
got=$(post "http://127.0.0.1:$A_PORT/v1/logs" "$(body after-stall)")
expect_eq "A still delivers through its other exporter" 200 "${got% *}"

otf_stop
OTF_PID=$B_PID
otf_stop
finish
