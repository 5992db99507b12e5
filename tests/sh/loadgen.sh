#!/bin/sh
# otflow-loadgen against a real otflow (OTLP/HTTP -> nop exporter): every
# item the load generator reports as acknowledged is counted by the
# exporter, per signal, as the Prometheus self-metrics show.
set -u
pass=0
fail=0
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
LG="$(dirname "$OTF_BIN")/otflow-loadgen"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
GPORT=$(free_port)
MPORT=$(free_port)
cat > "$tmp/c.yaml" <<Y
receivers:
  otlp:
    wait_for_result: true
    protocols: {http: {endpoint: "127.0.0.1:$PORT"}, grpc: {endpoint: "127.0.0.1:$GPORT"}}
exporters:
  nop:
service:
  telemetry: {metrics: {address: "127.0.0.1:$MPORT"}}
  pipelines:
    traces: {receivers: [otlp], exporters: [nop]}
    metrics: {receivers: [otlp], exporters: [nop]}
    logs: {receivers: [otlp], exporters: [nop]}
runtime: {workers: 2}
Y
"$OTF_BIN" --config "$tmp/c.yaml" > "$tmp/log" 2>&1 &
pid=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$MPORT/metrics"; do
	i=$((i + 1))
	[ $i -gt 100 ] && { cat "$tmp/log"; exit 1; }
	sleep 0.1
done

for sig in logs traces metrics; do
	"$LG" --protocol http --endpoint "127.0.0.1:$PORT" --signal "$sig" --requests 20 \
		--batch 100 --connections 4 --compression gzip --json > "$tmp/$sig.json" || bad "$sig: loadgen failed"
	acked=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items_acked"])' "$tmp/$sig.json")
	[ "$acked" = 2000 ] || bad "$sig: acked $acked, want 2000"
done
# and over gRPC (logs only): 2000 more log records
"$LG" --protocol grpc --endpoint "127.0.0.1:$GPORT" --signal logs --requests 20 --batch 100 \
	--connections 2 --compression gzip --json > "$tmp/grpc.json" || bad "grpc: loadgen failed"
acked=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items_acked"])' "$tmp/grpc.json")
[ "$acked" = 2000 ] || bad "grpc: acked $acked, want 2000"
# --streams: 8 concurrent calls on one connection, in waves: 4000 more
acked=$("$LG" --protocol grpc --endpoint "127.0.0.1:$GPORT" --signal logs --requests 40 \
	--batch 100 --connections 1 --streams 8 --json |
	python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["items_acked"], r["requests"])')
[ "$acked" = "4000 40" ] && pass=$((pass + 1)) || bad "grpc --streams 8: acked/requests $acked, want 4000 40"
"$LG" --protocol http --streams 2 --requests 1 > /dev/null 2>&1
[ $? = 2 ] && pass=$((pass + 1)) || bad "--streams over HTTP not refused with exit 2"
# --write-body: the request it sends, for other clients; sent once each by
# curl (OTLP/HTTP) and nghttp (gRPC): 100 log records more each.
"$LG" --protocol http --batch 100 --write-body "$tmp/h.bin" || bad "write-body http failed"
"$LG" --protocol grpc --batch 100 --write-body "$tmp/g.bin" || bad "write-body grpc failed"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/x-protobuf' \
	--data-binary @"$tmp/h.bin" "http://127.0.0.1:$PORT/v1/logs")
[ "$code" = 200 ] && pass=$((pass + 1)) || bad "write-body http: status $code"
nghttp -v -d "$tmp/g.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
	"http://127.0.0.1:$GPORT/opentelemetry.proto.collector.logs.v1.LogsService/Export" 2>&1 |
	grep -aq 'grpc-status: 0' && pass=$((pass + 1)) || bad "write-body grpc: no grpc-status 0"
curl -s "http://127.0.0.1:$MPORT/metrics" > "$tmp/metrics.txt"
for m in 'otelcol_exporter_sent_log_records{exporter="nop"} 8200' \
	'otelcol_exporter_sent_spans{exporter="nop"} 2000' \
	'otelcol_exporter_sent_metric_points{exporter="nop"} 2000' \
	'otelcol_receiver_accepted_log_records{receiver="otlp"} 8200' \
	'otelcol_receiver_refused_log_records{receiver="otlp"} 0'; do
	grep -qF "$m" "$tmp/metrics.txt" && pass=$((pass + 1)) || bad "metrics lack: $m"
done
grep -q '^otelcol_process_memory_rss [1-9]' "$tmp/metrics.txt" && pass=$((pass + 1)) || bad "no RSS metric"
kill -TERM "$pid"
wait "$pid" && pass=$((pass + 1)) || bad "otflow did not exit 0"
pid=""
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
