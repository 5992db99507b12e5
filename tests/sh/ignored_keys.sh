#!/bin/sh
# Keys accepted for Collector compatibility without effect warn at startup
# (file, line, key path), once per component, used or not; keys that work
# (debug sampling, block_on_overflow, tls.insecure_skip_verify since TLS
# exists) do not warn.
set -u
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/c.yaml" <<'Y'
receivers: {nop: }
exporters:
  otlp:
    endpoint: 127.0.0.1:4317
    tls: {insecure: true, insecure_skip_verify: true}
    sending_queue: {block_on_overflow: true}
  otlp_http/unused:
    endpoint: http://127.0.0.1:4318
    tls:
      insecure_skip_verify: true
  debug: {sampling_initial: 5, sampling_thereafter: 10}
service:
  telemetry: {metrics: {level: none}}
  pipelines: {traces: {receivers: [nop], exporters: [otlp, debug]}}
Y
out=$("$OTF_BIN" validate --config "$tmp/c.yaml" 2>&1)
rc=$?
expect() { # name, count, pattern
	n=$(printf '%s\n' "$out" | grep -cF -- "$3")
	if [ "$n" -eq "$2" ]; then pass=$((pass + 1)); else
		echo "FAIL $1: '$3' appears $n times, want $2: $out"
		fail=$((fail + 1))
	fi
}
[ "$rc" -eq 0 ] && pass=$((pass + 1)) || { echo "FAIL validate exit $rc: $out"; fail=$((fail + 1)); }
expect tls 0 "insecure_skip_verify"
expect sampling 0 "sampling_"
expect block 0 "block_on_overflow"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
