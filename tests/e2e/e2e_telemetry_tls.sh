#!/usr/bin/env bash
# Self-telemetry pushed over TLS (service.telemetry.metrics.readers[]
# .periodic.exporter), certificates made here with openssl:
#  - otlp_http to https://localhost:PORT with tls.ca_file;
#  - otlp_grpc to a gRPC/TLS receiver that requires a client certificate
#    (client_ca_file), with tls {ca_file, cert_file, key_file};
#  - the older otlp form's certificate key to the same HTTPS port;
# B, an otflow with those TLS receivers, writes what arrives per transport:
# each file gets otelcol_receiver_accepted_spans{receiver=otlp} = 3 after A
# accepted 3 spans. A certificate file that does not exist is a config error
# naming file:line and the key.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_certs.sh"

C="$TMP/certs"
if tls_make_certs "$C"; then ok "certificates made with openssl"; else
	bad "openssl could not make the test certificates"
	finish
fi

B_HPORT=$(free_port) B_GPORT=$(free_port) B_HEALTH=$(free_port)
A_PORT=$(free_port) A_HEALTH=$(free_port)
cat >"$TMP/b.yaml" <<Y
receivers:
  otlp/h:
    protocols:
      http:
        endpoint: 127.0.0.1:$B_HPORT
        tls: {cert_file: "$C/server.pem", key_file: "$C/server.key"}
  otlp/g:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$B_GPORT
        tls: {cert_file: "$C/server.pem", key_file: "$C/server.key", client_ca_file: "$C/ca.pem"}
exporters:
  file/h: {path: "$TMP/b_http.jsonl", format: json, flush_interval: 100ms}
  file/g: {path: "$TMP/b_grpc.jsonl", format: json, flush_interval: 100ms}
extensions:
  health_check: {endpoint: "127.0.0.1:$B_HEALTH"}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    metrics/h: {receivers: [otlp/h], exporters: [file/h]}
    metrics/g: {receivers: [otlp/g], exporters: [file/g]}
Y
a_config() { # FILE READERS
	cat >"$1" <<Y
receivers:
  otlp: {protocols: {http: {endpoint: "127.0.0.1:$A_PORT"}}}
exporters:
  nop:
extensions:
  health_check: {endpoint: "127.0.0.1:$A_HEALTH"}
service:
  extensions: [health_check]
  admin: {endpoint: ""}
  telemetry:
    resource: {service.name: otflow-a}
    metrics:
      level: basic
      readers:
$2
  pipelines:
    traces: {receivers: [otlp], exporters: [nop]}
runtime: {workers: 1}
Y
}
PUSH="        - periodic:
            interval: 200
            exporter:
              otlp_http:
                endpoint: https://localhost:$B_HPORT
                tls: {ca_file: \"$C/ca.pem\"}
        - periodic:
            interval: 200
            exporter:
              otlp_grpc:
                endpoint: 127.0.0.1:$B_GPORT
                tls: {ca_file: \"$C/ca.pem\", cert_file: \"$C/client.pem\", key_file: \"$C/client.key\"}"

start() { # NAME CONFIG HEALTH_PORT -> STARTED_PID
	"$OTF_BIN" --config "$2" >"$TMP/$1.log" 2>&1 &
	STARTED_PID=$!
	track "$STARTED_PID"
	local i=0
	while [ $i -lt 100 ]; do
		kill -0 "$STARTED_PID" 2>/dev/null || break
		[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$3/")" = 200 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	bad "$1 did not come up: $(tail -5 "$TMP/$1.log")"
	finish
}
check_push() { # FILE -> "value service.name" of the newest accepted_spans point
	python3 "$E2E_DIR/telemetry_point.py" "$1" | cut -d" " -f1,2
}
span() { printf '{"traceId":"%s","spanId":"%s","name":"s","startTimeUnixNano":"1","endTimeUnixNano":"2"}' "$1" "$2"; }
spans="{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[$(span 0af7651916cd43dd8448eb211c80319c b7ad6b7169203331),$(span 0af7651916cd43dd8448eb211c80319c b7ad6b7169203332),$(span 0af7651916cd43dd8448eb211c80319c b7ad6b7169203333)]}]}]}"

start b "$TMP/b.yaml" "$B_HEALTH"
B_PID=$STARTED_PID
a_config "$TMP/a.yaml" "$PUSH"
start a "$TMP/a.yaml" "$A_HEALTH"
A_PID=$STARTED_PID
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	--data "$spans" "http://127.0.0.1:$A_PORT/v1/traces")
expect_eq "A accepts 3 spans" 200 "$code"
for t in http grpc; do
	got=""
	for _ in $(seq 100); do
		got=$(check_push "$TMP/b_$t.jsonl")
		[ "$got" = "3 otflow-a" ] && break
		sleep 0.1
	done
	expect_eq "push over $t/TLS delivers otelcol_receiver_accepted_spans{receiver=otlp} = 3" \
		"3 otflow-a" "$got"
done
grep -q "metrics exported to https://localhost:$B_HPORT/v1/metrics" "$TMP/a.log" &&
	ok "A logs the HTTPS export" || bad "no export log line: $(cat "$TMP/a.log")"
grep -q "metrics exported to 127.0.0.1:$B_GPORT" "$TMP/a.log" &&
	ok "A logs the gRPC/TLS export" || bad "no gRPC export log line: $(cat "$TMP/a.log")"
kill -TERM "$A_PID"
wait_pid "$A_PID" 20
expect_eq "A exits 0 on SIGTERM" 0 "$?"

# The older otlp form: certificate (the CA) with protocol http/protobuf.
# B's file keeps growing: the newest point is A2's (no spans accepted).
a_config "$TMP/a2.yaml" "        - periodic:
            interval: 200
            exporter: {otlp: {protocol: http/protobuf, endpoint: \"https://localhost:$B_HPORT\", certificate: \"$C/ca.pem\"}}"
start a2 "$TMP/a2.yaml" "$A_HEALTH"
A_PID=$STARTED_PID
got=""
for _ in $(seq 100); do
	got=$(check_push "$TMP/b_http.jsonl")
	[ "$got" = "0 otflow-a" ] && break
	sleep 0.1
done
expect_eq "otlp with certificate: the push arrives over HTTPS (0 spans yet)" "0 otflow-a" "$got"
kill -TERM "$A_PID"
wait_pid "$A_PID" 20

# A missing CA file: a config error with file:line and the key.
a_config "$TMP/a3.yaml" "        - periodic:
            exporter:
              otlp_http:
                endpoint: https://localhost:$B_HPORT
                tls: {ca_file: \"$C/nope.pem\"}"
out=$("$OTF_BIN" validate --config "$TMP/a3.yaml" 2>&1)
if printf '%s' "$out" | grep -q "a3.yaml:[0-9]*:.*ca_file" &&
	printf '%s' "$out" | grep -q "nope.pem"; then
	ok "a missing ca_file is a config error at its line: $(printf '%s' "$out" | head -c 200)"
else bad "missing ca_file: $out"; fi

kill -TERM "$B_PID"
wait_pid "$B_PID" 20
expect_eq "B exits 0 on SIGTERM" 0 "$?"
finish
