#!/bin/sh
# file exporter: proto format (uint32 big-endian length + request bytes)
# round-trips exactly what was posted; size rotation keeps max_backups files;
# json format writes one OTLP/JSON request per line. Real otflow, real
# sockets (curl), free loopback ports.
set -u
pass=0
fail=0
tmp=$(mktemp -d)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start() { # config
	"$OTF_BIN" --config "$1" > "$tmp/otflow.log" 2>&1 &
	pid=$!
	i=0
	while [ $i -lt 100 ]; do
		curl -s -o /dev/null "http://127.0.0.1:$HPORT/" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "otflow did not come up:"
	cat "$tmp/otflow.log"
	exit 1
}

stop() {
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	pid=""
	[ "$rc" -eq 0 ] && ok || bad "otflow exited $rc on SIGTERM"
}

PORT=$(free_port)
HPORT=$(free_port)
cat > "$tmp/proto.yaml" <<Y
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:$PORT"}}
exporters:
  file:
    path: $tmp/out.pb
    format: proto
    rotation: {max_megabytes: 1, max_backups: 2}
extensions:
  health_check: {endpoint: "127.0.0.1:$HPORT"}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], exporters: [file]}
runtime: {workers: 2}
Y
"$OTF_BIN" pdata convert --signal logs --from json --to proto "$OTF_SOURCE_DIR/examples/pdata/logs.json" -o "$tmp/in.pb"

start "$tmp/proto.yaml"
code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/x-protobuf' \
	--data-binary @"$tmp/in.pb" "http://127.0.0.1:$PORT/v1/logs")
[ "$code" = 200 ] && ok || bad "post returned $code"
stop

# The one record is exactly the posted bytes behind a big-endian length.
python3 - "$tmp/out.pb" "$tmp/in.pb" <<'PY' && ok || bad "proto record differs from the request"
import struct, sys
out = open(sys.argv[1], "rb").read()
want = open(sys.argv[2], "rb").read()
n = struct.unpack(">I", out[:4])[0]
assert n == len(want) and out[4:4 + n] == want and len(out) == 4 + n, (n, len(want), len(out))
PY

# Rotation: ~0.4 MiB requests, 1 MiB limit, 2 backups kept.
python3 - "$tmp/big.json" <<'PY'
import json, sys
recs = [{"timeUnixNano": str(1700000000000000000 + i), "severityNumber": 9,
         "body": {"stringValue": "x" * 400}, "attributes": [{"key": "i", "value": {"intValue": str(i)}}]}
        for i in range(1000)]
doc = {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "rot"}}]},
                         "scopeLogs": [{"scope": {"name": "t"}, "logRecords": recs}]}]}
json.dump(doc, open(sys.argv[1], "w"))
PY
start "$tmp/proto.yaml"
i=0
while [ $i -lt 8 ]; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
		--data-binary @"$tmp/big.json" "http://127.0.0.1:$PORT/v1/logs")
	[ "$code" = 200 ] || bad "big post $i returned $code"
	i=$((i + 1))
done
stop
backups=$(ls "$tmp" | grep -c '^out\.pb\.')
[ "$backups" -eq 2 ] && ok || bad "expected 2 rotated files, found $backups: $(ls "$tmp")"
size=$(stat -c %s "$tmp/out.pb")
[ "$size" -le $((1024 * 1024 + 500000)) ] && ok || bad "current file too large: $size"

# json format: one request per line, content-equal to the input.
sed -e 's/format: proto/format: json/' -e "s|$tmp/out.pb|$tmp/out.jsonl|" "$tmp/proto.yaml" > "$tmp/json.yaml"
start "$tmp/json.yaml"
for sig in logs logs; do
	curl -s -o /dev/null -XPOST -H 'Content-Type: application/x-protobuf' --data-binary @"$tmp/in.pb" \
		"http://127.0.0.1:$PORT/v1/$sig"
done
stop
lines=$(wc -l < "$tmp/out.jsonl")
[ "$lines" -eq 2 ] && ok || bad "expected 2 JSON lines, got $lines"
head -n 1 "$tmp/out.jsonl" > "$tmp/line1.json"
"$OTF_BIN" pdata convert --signal logs --from json --to proto "$tmp/line1.json" -o "$tmp/back.pb"
cmp -s "$tmp/back.pb" "$tmp/in.pb" && ok || bad "JSON line does not convert back to the posted request"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
