#!/usr/bin/env bash
# A gRPC client's deadline (grpc-timeout) bounds the message only while the
# client waits for it. With wait_for_result: false (the default) the client
# is answered at once; the request must then not expire downstream at the
# client's deadline: here it is sent with grpc-timeout 1S to an otflow A
# whose backend B is down, and B, started 2 s later, still receives every
# log record (A's exporter retries), batch included (it used to flush at
# half the deadline and the exporter's queue to drop it at the deadline).
set -u
. "$(dirname "$0")/lib.sh"
EX="$OTF_SOURCE_DIR/examples/pdata"
export OTF_E2E_B_PORT
OTF_E2E_B_PORT=$(free_port)

cat >"$TMP/a.yaml" <<'Y'
receivers:
  otlp:
    protocols: {grpc: {endpoint: "127.0.0.1:${env:OTF_E2E_PORT}"}}
processors:
  batch: {timeout: 200ms}
exporters:
  otlp:
    endpoint: "127.0.0.1:${env:OTF_E2E_B_PORT}"
    tls: {insecure: true}
    timeout: 1s
    retry_on_failure: {initial_interval: 100ms, max_interval: 300ms, max_elapsed_time: 60s}
extensions:
  health_check: {endpoint: "127.0.0.1:${env:OTF_E2E_HEALTH_PORT}"}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [batch], exporters: [otlp]}
Y
cat >"$TMP/b.yaml" <<'Y'
receivers:
  otlp:
    protocols: {grpc: {endpoint: "127.0.0.1:${env:OTF_E2E_B_PORT}"}}
exporters:
  file: {path: "${env:OTF_E2E_OUT}", format: json, flush_interval: 50ms}
extensions:
  health_check: {endpoint: "127.0.0.1:${env:OTF_E2E_HEALTH_PORT}"}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], exporters: [file]}
Y

if ! otf_start a "$TMP/a.yaml"; then
	bad "otflow A did not start"
	finish
fi
A_PID=$OTF_PID A_PORT=$OTF_PORT A_LOG=$OTF_LOG

# One Export call with a 1 s deadline (h2load as the gRPC client: the
# 5-byte gRPC prefix, then the protobuf request).
"$OTF_BIN" pdata convert --signal logs --from json --to proto <"$EX/logs.json" >"$TMP/logs.pb"
python3 - "$TMP/logs.pb" "$TMP/call.bin" <<'P'
import struct, sys
b = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(b"\0" + struct.pack(">I", len(b)) + b)
P
h2load -n 1 -c 1 -d "$TMP/call.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
	-H 'grpc-timeout: 1S' "http://127.0.0.1:$A_PORT/opentelemetry.proto.collector.logs.v1.LogsService/Export" \
	>"$TMP/h2load.txt" 2>&1
if grep -q '1 succeeded' "$TMP/h2load.txt"; then
	ok "the client is answered at once (wait_for_result: false)"
else
	bad "h2load: $(tail -5 "$TMP/h2load.txt")"
fi

# Past the client's deadline, with B still down, then B comes up.
sleep 2
if ! otf_start b "$TMP/b.yaml"; then
	bad "otflow B did not start"
	finish
fi
want=$("$OTF_BIN" pdata summary --signal logs <"$TMP/logs.pb" | grep -o 'log records: [0-9]*')
for _ in $(seq 150); do
	[ -s "$OTF_OUT" ] && break
	sleep 0.1
done
got=$(python3 - "$OTF_OUT" "$EX/logs.json" <<'P'
import json, sys
def recs(doc):
    for rl in doc.get("resourceLogs", []):
        for sl in rl.get("scopeLogs", []):
            for r in sl.get("logRecords", []):
                yield (r.get("timeUnixNano") or "", json.dumps(r.get("body"), sort_keys=True),
                       r.get("traceId", ""), r.get("spanId", ""))
try:
    out = [r for line in open(sys.argv[1]) for r in recs(json.loads(line))]
except FileNotFoundError:
    out = []
want = list(recs(json.load(open(sys.argv[2]))))
print("same" if sorted(out) == sorted(want) and want else "got %d of %d records" % (len(out), len(want)))
P
)
expect_eq "B received every log record (times, bodies, ids) after the client's deadline ($want)" same "$got"
if grep -qi 'deadline' "$A_LOG"; then
	bad "A logged a deadline: $(grep -i deadline "$A_LOG" | head -3)"
else
	ok "A dropped nothing for the client's deadline"
fi
otf_stop
OTF_PID=$A_PID OTF_LOG=$A_LOG otf_stop
finish
