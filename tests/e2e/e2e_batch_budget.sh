#!/usr/bin/env bash
# REB through a batch: an otlp receiver that waits for the result, behind
# batch -> otlp exporter -> a second otflow. The exporter's sending queue
# (queue_size 1000 requests) empties as fast as it fills and republishes
# the same budget; the receiver spends one request of it per call. It used
# to reach 0 after exactly 1000 calls and stop reading its connections for
# good (the calls after timed out). 2500 calls of 100 log records must all
# be answered OK, i.e. delivered to B.
set -u
. "$(dirname "$0")/lib.sh"
LG="$(dirname "$OTF_BIN")/otflow-loadgen"
[ -x "$LG" ] || { echo "SKIPPED: no otflow-loadgen next to $OTF_BIN"; exit 77; }
export OTF_E2E_B_PORT
OTF_E2E_B_PORT=$(free_port)

cat >"$TMP/b.yaml" <<'Y'
receivers:
  otlp:
    protocols: {grpc: {endpoint: "127.0.0.1:${env:OTF_E2E_B_PORT}"}}
exporters:
  nop:
extensions:
  health_check: {endpoint: "127.0.0.1:${env:OTF_E2E_HEALTH_PORT}"}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  admin: {endpoint: ""}
  pipelines:
    logs: {receivers: [otlp], exporters: [nop]}
Y
cat >"$TMP/a.yaml" <<'Y'
receivers:
  otlp:
    wait_for_result: true
    protocols: {grpc: {endpoint: "127.0.0.1:${env:OTF_E2E_PORT}"}}
processors:
  batch: {timeout: 5ms, send_batch_size: 2000}
exporters:
  otlp:
    endpoint: "127.0.0.1:${env:OTF_E2E_B_PORT}"
    tls: {insecure: true}
extensions:
  health_check: {endpoint: "127.0.0.1:${env:OTF_E2E_HEALTH_PORT}"}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  admin: {endpoint: ""}
  pipelines:
    logs: {receivers: [otlp], processors: [batch], exporters: [otlp]}
Y

if ! otf_start b "$TMP/b.yaml"; then
	bad "otflow B did not start"
	finish
fi
if ! otf_start a "$TMP/a.yaml"; then
	bad "otflow A did not start"
	finish
fi
"$LG" --protocol grpc --endpoint "127.0.0.1:$OTF_PORT" --requests 2500 --batch 100 \
	--connections 8 --duration 120 --json >"$TMP/lg.json" 2>"$TMP/lg.err"
acked=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["items_acked"], d["items_failed"])' "$TMP/lg.json" 2>/dev/null)
if [ "$acked" = "250000 0" ]; then
	ok "2500 calls through batch answered OK (250000 log records acknowledged by B)"
else
	bad "acked/failed: ${acked:-none}; $(cat "$TMP/lg.err") $(head -c 300 "$TMP/lg.json")"
fi
otf_stop
finish
