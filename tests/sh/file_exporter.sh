#!/bin/sh
# file exporter: proto format (uint32 big-endian length + request bytes)
# round-trips exactly what was posted; size rotation keeps max_backups files;
# json format writes one OTLP/JSON request per line; compression: zstd frames
# decompress to the requests; sync: acknowledged data survives SIGKILL and
# costs an fsync per request. Real otflow, real
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

# compression: zstd (the Collector's layout): every request is one zstd frame
# behind its uint32 big-endian length; each frame decompresses with the zstd
# tool to the request (proto: the exact bytes; json: the OTLP/JSON line).
for fmt in proto json; do
	sed -e "s/format: proto/format: $fmt\n    compression: zstd/" -e "s|$tmp/out.pb|$tmp/z.$fmt|" \
		"$tmp/proto.yaml" > "$tmp/z.yaml"
	start "$tmp/z.yaml"
	for n in 1 2 3; do
		curl -s -o /dev/null -XPOST -H 'Content-Type: application/x-protobuf' \
			--data-binary @"$tmp/in.pb" "http://127.0.0.1:$PORT/v1/logs"
	done
	stop
	python3 - "$tmp/z.$fmt" "$tmp" <<'PY' || bad "zstd $fmt: frames are not the 3 requests"
import os, struct, subprocess, sys
data = open(sys.argv[1], "rb").read()
frames, off = [], 0
while off < len(data):
    n = struct.unpack(">I", data[off:off + 4])[0]
    frames.append(data[off + 4:off + 4 + n])
    off += 4 + n
assert off == len(data) and len(frames) == 3, (off, len(data), len(frames))
for i, f in enumerate(frames):
    assert f[:4] == b"\x28\xb5\x2f\xfd", "frame %d has no zstd magic" % i
    plain = subprocess.run(["zstd", "-d", "-c", "-q"], input=f, capture_output=True, check=True).stdout
    open(os.path.join(sys.argv[2], "frame%d" % i), "wb").write(plain)
PY
	for i in 0 1 2; do
		if [ "$fmt" = json ]; then
			"$OTF_BIN" pdata convert --signal logs --from json --to proto "$tmp/frame$i" \
				-o "$tmp/frame$i.pb" || bad "zstd json frame $i is not OTLP/JSON"
		else
			cp "$tmp/frame$i" "$tmp/frame$i.pb"
		fi
		cmp -s "$tmp/frame$i.pb" "$tmp/in.pb" && ok || bad "zstd $fmt frame $i is not the request"
	done
done
sed -e 's/format: proto/format: proto\n    compression: gzip/' "$tmp/proto.yaml" > "$tmp/bad.yaml"
"$OTF_BIN" validate --config "$tmp/bad.yaml" > "$tmp/bad.out" 2>&1
[ $? -eq 2 ] && grep -q "compression.*gzip.*zstd" "$tmp/bad.out" && ok ||
	bad "compression: gzip must be refused naming zstd: $(cat "$tmp/bad.out")"
# An empty path is a config error (it was accepted, then failed at start,
# and a CFG setting it answered 500 instead of 400).
sed -e "s|path: $tmp/out.pb|path: \"\"|" "$tmp/proto.yaml" > "$tmp/nopath.yaml"
"$OTF_BIN" validate --config "$tmp/nopath.yaml" > "$tmp/nopath.out" 2>&1
[ $? -eq 2 ] && grep -q "nopath.yaml:[0-9]*:.*path: must name a file" "$tmp/nopath.out" && ok ||
	bad "path \"\" must be refused naming file:line: $(cat "$tmp/nopath.out")"

# sync: an acknowledged request is in the file even when otflow is killed
# (SIGKILL) right after the acknowledgement; without sync it may still sit in
# the process's buffer (flush_interval 1h here), which is the documented
# default. With strace available, every acknowledged request costs an fsync.
sync_yaml() { # sync out
	sed -e "s/format: proto/format: proto\n    sync: $1\n    flush_interval: 1h/" \
		-e "s|$tmp/out.pb|$2|" -e 's/protocols: {http:/wait_for_result: true\n    protocols: {http:/' \
		"$tmp/proto.yaml" > "$tmp/sync.yaml"
}
for mode in true false; do
	sync_yaml $mode "$tmp/sync.$mode"
	start "$tmp/sync.yaml"
	code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/x-protobuf' \
		--data-binary @"$tmp/in.pb" "http://127.0.0.1:$PORT/v1/logs")
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	pid=""
	[ "$code" = 200 ] || bad "sync $mode: post returned $code"
	want=$(($(stat -c %s "$tmp/in.pb") + 4))
	got=$(stat -c %s "$tmp/sync.$mode")
	if [ $mode = true ]; then
		[ "$got" -eq "$want" ] && ok || bad "sync: true: $got bytes on disk after SIGKILL, want $want"
	else
		[ "$got" -eq 0 ] && ok || bad "sync: false: expected the record still buffered, file has $got bytes"
	fi
done
if command -v strace >/dev/null 2>&1 && strace -f -o /dev/null true 2>/dev/null; then
	sync_yaml true "$tmp/sync.st"
	strace -f -qq -e trace=fsync -o "$tmp/strace.out" "$OTF_BIN" --config "$tmp/sync.yaml" \
		> "$tmp/otflow.log" 2>&1 &
	pid=$!
	i=0
	until curl -s -o /dev/null "http://127.0.0.1:$HPORT/"; do
		i=$((i + 1))
		[ $i -lt 300 ] || { bad "otflow under strace did not come up"; break; }
		sleep 0.1
	done
	before=$(grep -c 'fsync(' "$tmp/strace.out")
	for n in 1 2 3; do
		curl -s -o /dev/null -XPOST -H 'Content-Type: application/x-protobuf' \
			--data-binary @"$tmp/in.pb" "http://127.0.0.1:$PORT/v1/logs"
	done
	after=$(grep -c 'fsync(' "$tmp/strace.out")
	[ $((after - before)) -ge 3 ] && ok || bad "sync: $((after - before)) fsync calls for 3 acknowledged requests"
	# SIGTERM to otflow itself (strace's child); strace exits with it.
	kill -TERM $(ps -o pid= --ppid "$pid") 2>/dev/null
	wait "$pid"
	pid=""
else
	echo "strace unavailable or not permitted: fsync count not checked"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
