#!/bin/bash
# A Collector gateway configuration (examples/gateway.yaml: otlp receiver
# grpc+http, memory_limiter, batch, otlp exporter with queue and retries,
# health_check/pprof/zpages) runs unchanged in otflow: loadgen traffic over
# gRPC and HTTP arrives, all of it, at a second otflow behind the gateway.
# Only the listening ports are rewritten (free loopback ports for the test).
set -u
E2E_DIR=$(cd "$(dirname "$0")" && pwd)
. "$E2E_DIR/lib.sh"
LG="$(dirname "$OTF_BIN")/otflow-loadgen"

SINK_PORT=$(free_port)
SINK_HEALTH=$(free_port)
cat > "$TMP/sink.yaml" <<Y
receivers:
  otlp: {protocols: {grpc: {endpoint: "127.0.0.1:$SINK_PORT"}}}
exporters:
  file: {path: "$TMP/sink.jsonl", flush_interval: 100ms}
extensions:
  health_check: {endpoint: "127.0.0.1:$SINK_HEALTH"}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], exporters: [file]}
    logs: {receivers: [otlp], exporters: [file]}
    metrics: {receivers: [otlp], exporters: [file]}
Y
"$OTF_BIN" --config "$TMP/sink.yaml" > "$TMP/sink.log" 2>&1 &
SINK_PID=$!
track "$SINK_PID"

GRPC=$(free_port)
HTTP=$(free_port)
HEALTH=$(free_port)
METRICS=$(free_port)
sed -e "s/0.0.0.0:4317/127.0.0.1:$GRPC/" -e "s/0.0.0.0:4318/127.0.0.1:$HTTP/" \
	-e "s/0.0.0.0:13133/127.0.0.1:$HEALTH/" -e "s/0.0.0.0:8888/127.0.0.1:$METRICS/" \
	"$OTF_SOURCE_DIR/examples/gateway.yaml" > "$TMP/gateway.yaml"
# everything but the ports is the example as shipped
diff "$OTF_SOURCE_DIR/examples/gateway.yaml" "$TMP/gateway.yaml" | grep '^>' | grep -qv '127.0.0.1:' &&
	bad "the test changed more than ports" || ok "gateway config used as shipped (ports only)"

BACKEND_ENDPOINT="127.0.0.1:$SINK_PORT" "$OTF_BIN" --config "$TMP/gateway.yaml" > "$TMP/gw.log" 2>&1 &
GW_PID=$!
track "$GW_PID"
i=0
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HEALTH/")" = 200 ] &&
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SINK_HEALTH/")" = 200 ]; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		bad "gateway or sink did not come up"
		tail -5 "$TMP/gw.log" "$TMP/sink.log"
		finish
	fi
	sleep 0.1
done
ok "gateway and sink healthy"
grep -q "extension 'pprof' has no otflow equivalent; ignored" "$TMP/gw.log" && ok "pprof accepted with a warning" || bad "no pprof warning"

"$LG" --protocol grpc --endpoint "127.0.0.1:$GRPC" --signal logs --requests 30 --batch 200 \
	--connections 3 --compression gzip --json > "$TMP/lg1.json"
expect_eq "loadgen logs over gRPC acked" 6000 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items_acked"])' "$TMP/lg1.json")"
"$LG" --protocol http --endpoint "127.0.0.1:$HTTP" --signal traces --requests 20 --batch 100 \
	--connections 2 --json > "$TMP/lg2.json"
expect_eq "loadgen spans over HTTP acked" 2000 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items_acked"])' "$TMP/lg2.json")"
"$LG" --protocol grpc --endpoint "127.0.0.1:$GRPC" --signal metrics --requests 10 --batch 100 \
	--json > "$TMP/lg3.json"
expect_eq "loadgen points over gRPC acked" 1000 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items_acked"])' "$TMP/lg3.json")"
curl -s "http://127.0.0.1:$METRICS/metrics" | grep -q '^otelcol_receiver_accepted_log_records{receiver="otlp"} 6000' &&
	ok "gateway self-metrics count the logs" || bad "gateway metrics lack accepted logs 6000"

# Gateway first (it drains its batches into the sink), then the sink.
kill -TERM "$GW_PID"
wait_pid "$GW_PID" 30
expect_eq "gateway exit status" 0 $?
kill -TERM "$SINK_PID"
wait_pid "$SINK_PID" 30
expect_eq "sink exit status" 0 $?
read -r logs spans points < <(python3 - "$TMP/sink.jsonl" <<'PY'
import json, sys
logs = spans = points = 0
for line in open(sys.argv[1]):
    d = json.loads(line)
    for rl in d.get("resourceLogs", []):
        for sl in rl.get("scopeLogs", []):
            logs += len(sl.get("logRecords", []))
    for rs in d.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            spans += len(ss.get("spans", []))
    for rm in d.get("resourceMetrics", []):
        for sm in rm.get("scopeMetrics", []):
            for m in sm.get("metrics", []):
                for k in ("sum", "gauge", "histogram"):
                    points += len(m.get(k, {}).get("dataPoints", []))
print(logs, spans, points)
PY
)
expect_eq "log records at the sink" 6000 "$logs"
expect_eq "spans at the sink" 2000 "$spans"
expect_eq "data points at the sink" 1000 "$points"
finish
