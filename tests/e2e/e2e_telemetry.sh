#!/usr/bin/env bash
# service.telemetry.metrics as the Collector's schema has it:
#  - readers: a pull/prometheus reader serves /metrics on its own host:port
#    and nothing is bound on :8888; two periodic readers push otflow's own
#    metrics as OTLP (http/protobuf and grpc) to a second otflow, whose
#    files show the metric names, the values (3 spans accepted) and the
#    service.telemetry.resource attributes;
#  - level: basic leaves out the node queue depths, detailed adds the
#    allocator counters, none binds nothing but the pipeline's own ports;
#  - keys accepted for compatibility and ignored are warned about with
#    file and line.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

B_HPORT=$(free_port)
B_GPORT=$(free_port)
B_HEALTH=$(free_port)
A_PORT=$(free_port)
A_HEALTH=$(free_port)
A_PROM=$(free_port)

cat > "$TMP/b.yaml" <<Y
receivers:
  otlp/h: {protocols: {http: {endpoint: "127.0.0.1:$B_HPORT"}}}
  otlp/g: {protocols: {grpc: {endpoint: "127.0.0.1:$B_GPORT"}}}
exporters:
  file/h: {path: "$TMP/b_http.jsonl", format: json, flush_interval: 50ms}
  file/g: {path: "$TMP/b_grpc.jsonl", format: json, flush_interval: 50ms}
extensions:
  health_check: {endpoint: "127.0.0.1:$B_HEALTH"}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    metrics/h: {receivers: [otlp/h], exporters: [file/h]}
    metrics/g: {receivers: [otlp/g], exporters: [file/g]}
runtime: {workers: 1}
Y
# a_config FILE LEVEL READERS
a_config() {
	cat > "$1" <<Y
receivers:
  otlp: {protocols: {http: {endpoint: "127.0.0.1:$A_PORT"}}}
exporters:
  nop:
extensions:
  health_check: {endpoint: "127.0.0.1:$A_HEALTH"}
service:
  extensions: [health_check]
  admin: {endpoint: ""} # not telemetry: its own port would be counted below
  telemetry:
    logs: {level: info, encoding: json}
    resource: {service.name: otflow-a, deployment.environment.name: e2e}
    metrics:
      level: $2
      readers:
$3
  pipelines:
    traces: {receivers: [otlp], exporters: [nop]}
runtime: {workers: 1}
Y
}
PULL="        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: $A_PROM, without_units: true}}}"
PUSH="        - periodic:
            interval: 200
            timeout: 5000
            exporter: {otlp: {protocol: http/protobuf, endpoint: \"http://127.0.0.1:$B_HPORT\"}}
        - periodic:
            interval: 200
            exporter: {otlp_grpc: {endpoint: \"127.0.0.1:$B_GPORT\", compression: gzip, headers: [{name: x-tenant, value: t1}]}}"

start() { # NAME CONFIG HEALTH_PORT -> STARTED_PID
	"$OTF_BIN" --config "$2" > "$TMP/$1.log" 2>&1 &
	STARTED_PID=$!
	track "$STARTED_PID"
	local i=0
	while [ $i -lt 100 ]; do
		kill -0 "$STARTED_PID" 2>/dev/null || break
		[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$3/")" = 200 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	bad "$1 did not come up"
	tail -20 "$TMP/$1.log"
	finish
}
stop() { # NAME PID
	kill -TERM "$2"
	wait_pid "$2" 20
	expect_eq "$1 exits 0 on SIGTERM" 0 "$?"
}
# Listening TCP ports of a process, sorted, one line.
ports_of() {
	ss -ltnpH 2>/dev/null | grep "pid=$1," | awk '{n=split($4,a,":"); print a[n]}' | sort -n | tr '\n' ' '
}
sorted() { printf '%s\n' "$@" | sort -n | tr '\n' ' '; }

start b "$TMP/b.yaml" "$B_HEALTH"
B_PID=$STARTED_PID

a_config "$TMP/a.yaml" detailed "$PULL
$PUSH"
start a "$TMP/a.yaml" "$A_HEALTH"
A_PID=$STARTED_PID

expect_eq "A listens on its receiver, health and pull reader ports only (no :8888)" \
	"$(sorted "$A_PORT" "$A_HEALTH" "$A_PROM")" "$(ports_of "$A_PID")"
grep -q "a.yaml:11: service.telemetry.logs.encoding: accepted and ignored" "$TMP/a.log" &&
	ok "ignored logs.encoding is warned about with file and line" ||
	bad "no warning for logs.encoding: $(cat "$TMP/a.log")"
grep -q "prometheus.without_units: accepted and ignored" "$TMP/a.log" &&
	ok "ignored prometheus.without_units is warned about" || bad "no warning for without_units"

span() { # TRACE SPAN
	printf '{"traceId":"%s","spanId":"%s","name":"s","startTimeUnixNano":"1","endTimeUnixNano":"2"}' "$1" "$2"
}
body="{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[$(span 0af7651916cd43dd8448eb211c80319c b7ad6b7169203331),$(span 0af7651916cd43dd8448eb211c80319c b7ad6b7169203332),$(span 0af7651916cd43dd8448eb211c80319c b7ad6b7169203333)]}]}]}"
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
	--data "$body" "http://127.0.0.1:$A_PORT/v1/traces")
expect_eq "A accepts 3 spans" 200 "$code"

# Pull: the reader's own host:port serves the Collector's names.
got=""
for _ in $(seq 50); do
	got=$(curl -s -m 2 "http://127.0.0.1:$A_PROM/metrics" | grep '^otelcol_receiver_accepted_spans{receiver="otlp"}')
	[ "$got" = 'otelcol_receiver_accepted_spans{receiver="otlp"} 3' ] && break
	sleep 0.1
done
expect_eq "pull reader on 127.0.0.1:$A_PROM" 'otelcol_receiver_accepted_spans{receiver="otlp"} 3' "$got"
prom=$(curl -s -m 2 "http://127.0.0.1:$A_PROM/metrics")
printf '%s\n' "$prom" | grep -q '^otflow_node_queue_depth{node="exporter:nop"} ' &&
	ok "level detailed includes queue depths" || bad "no queue depths: $prom"
printf '%s\n' "$prom" | grep -q '^otflow_alloc_calls [1-9]' &&
	ok "level detailed includes allocator counters" || bad "no allocator counters: $prom"

# Push: the value 3 arrives at B through both transports, with the resource.
check_push() { # FILE -> "value service.name env instance-id-set" of the newest export
	python3 "$E2E_DIR/telemetry_point.py" "$1"
}
for t in http grpc; do
	got=""
	for _ in $(seq 100); do
		got=$(check_push "$TMP/b_$t.jsonl")
		[ "$got" = "3 otflow-a e2e True" ] && break
		sleep 0.1
	done
	expect_eq "periodic $t push delivers otelcol_receiver_accepted_spans{receiver=otlp} = 3 with the resource" \
		"3 otflow-a e2e True" "$got"
done
grep -q "metrics exported to http://127.0.0.1:$B_HPORT/v1/metrics" "$TMP/a.log" &&
	ok "A logs the first successful export" || bad "no export log line: $(cat "$TMP/a.log")"
stop A "$A_PID"

# level basic: counters and process figures, no queue depths.
a_config "$TMP/a2.yaml" basic "$PULL"
start a2 "$TMP/a2.yaml" "$A_HEALTH"
A_PID=$STARTED_PID
prom=$(curl -s -m 2 "http://127.0.0.1:$A_PROM/metrics")
printf '%s\n' "$prom" | grep -q '^otelcol_receiver_accepted_spans{receiver="otlp"} 0' &&
	! printf '%s\n' "$prom" | grep -q 'otflow_node_queue_depth' &&
	! printf '%s\n' "$prom" | grep -q 'otflow_alloc_calls' &&
	ok "level basic: counters only" || bad "level basic: $prom"
stop A2 "$A_PID"

# level none: nothing but the pipeline's and health check's ports, even
# with readers listed (warned about).
a_config "$TMP/a3.yaml" none "$PULL
$PUSH"
start a3 "$TMP/a3.yaml" "$A_HEALTH"
A_PID=$STARTED_PID
expect_eq "level none binds only the receiver and health ports" \
	"$(sorted "$A_PORT" "$A_HEALTH")" "$(ports_of "$A_PID")"
grep -q "service.telemetry.metrics.readers: unused with level none" "$TMP/a3.log" &&
	ok "readers with level none are warned about" || bad "no warning: $(cat "$TMP/a3.log")"
stop A3 "$A_PID"
stop B "$B_PID"
finish
