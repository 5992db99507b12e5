#!/bin/sh
# kafka exporter and receiver configuration: keys accepted without effect
# warn with file, line and key; bad values are errors naming file, line and
# key (compression, SASL mechanism, regex topics, encodings).
set -u
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { # name, expected count, pattern, output
	n=$(printf '%s\n' "$4" | grep -cF -- "$3")
	if [ "$n" -eq "$2" ]; then pass=$((pass + 1)); else
		fail=$((fail + 1))
		echo "FAIL: $1: '$3' $n times, want $2:"
		printf '%s\n' "$4"
	fi
}
cat > "$tmp/w.yaml" <<'Y'
receivers:
  kafka:
    protocol_version: 3.0.0
exporters:
  kafka:
    partition_traces_by_id: true
    auth: {sasl: {mechanism: SCRAM-SHA-256, username: u, password: p, version: 1}}
service:
  telemetry: {metrics: {level: none}}
  pipelines: {traces: {receivers: [kafka], exporters: [kafka]}}
Y
out=$("$OTF_BIN" validate --config "$tmp/w.yaml" 2>&1)
check "valid" 1 "configuration is valid" "$out"
check "protocol_version warns" 1 "w.yaml:3:23: receivers.kafka.protocol_version: accepted and ignored" "$out"
check "partition_traces_by_id works: no warning" 0 "w.yaml:6:29: exporters.kafka.partition_traces_by_id: accepted and ignored" "$out"
check "sasl.version warns" 1 "exporters.kafka.auth.sasl.version: accepted and ignored" "$out"

bad() { # name, yaml body of the exporter or receiver, pattern
	printf '%s\n' "$2" > "$tmp/b.yaml"
	cat >> "$tmp/b.yaml" <<'Y'
service:
  telemetry: {metrics: {level: none}}
  pipelines: {logs: {receivers: [kafka], exporters: [kafka]}}
Y
	o=$("$OTF_BIN" validate --config "$tmp/b.yaml" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		fail=$((fail + 1))
		echo "FAIL: $1: accepted"
	fi
	check "$1" 1 "$3" "$o"
}
bad "compression" "receivers: {kafka: }
exporters:
  kafka:
    producer: {compression: brotli}" \
	"b.yaml:4: exporter 'exporter:kafka': producer.compression: \"brotli\" is not one of none, gzip, snappy, lz4, zstd"
bad "sasl mechanism" "receivers:
  kafka:
    auth: {sasl: {mechanism: GSSAPI, username: u, password: p}}
exporters: {kafka: }" \
	"receiver 'receiver:kafka': auth.sasl.mechanism: \"GSSAPI\" is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"
bad "regex topics" "receivers:
  kafka:
    logs: {topics: [\"^logs-.*\"]}
exporters: {kafka: }" \
	"logs.topics[0]: expected a topic name (regex topics are not supported)"
bad "encoding" "receivers: {kafka: }
exporters:
  kafka:
    logs: {encoding: raw}" \
	"logs.encoding: \"raw\" is not one of otlp_proto, otlp_json"
bad "initial_offset" "receivers:
  kafka:
    initial_offset: oldest
exporters: {kafka: }" \
	"receivers.kafka.initial_offset"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
