#!/bin/sh
# A Collector config otlp -> memory_limiter -> batch -> file: requests posted
# with curl (wait_for_result, in parallel) all get 200, the file holds every
# log record exactly once with its resource and scope, in batches of at most
# send_batch_max_size records and fewer batches than requests; SIGTERM
# flushes and exits 0. Real otflow, real sockets.
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

PORT=$(free_port)
HPORT=$(free_port)
cat > "$tmp/config.yaml" <<Y
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:$PORT"}}
    wait_for_result: true
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 512
    spike_limit_mib: 128
  batch:
    send_batch_size: 10
    send_batch_max_size: 15
    timeout: 100ms
exporters:
  file:
    path: $tmp/out.jsonl
extensions:
  health_check: {endpoint: "127.0.0.1:$HPORT"}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [file]
runtime: {workers: 2}
Y

# 16 requests of 1..8 records, two resources each, as protobuf
N=16
python3 - "$tmp" "$N" <<'PY'
import json, sys
tmp, n = sys.argv[1], int(sys.argv[2])
seq = 0
for r in range(n):
    res = []
    for a in range(2):
        recs = []
        for _ in range(1 + (r + a) % 4):
            recs.append({"timeUnixNano": str(1700000000000000000 + seq), "severityNumber": 9,
                         "body": {"stringValue": "rec-%d" % seq},
                         "attributes": [{"key": "seq", "value": {"intValue": str(seq)}}]})
            seq += 1
        res.append({"resource": {"attributes": [{"key": "service.name",
                                                 "value": {"stringValue": "svc-%d-%d" % (r, a)}}]},
                    "scopeLogs": [{"scope": {"name": "scope-%d" % r, "version": "1.0"},
                                   "logRecords": recs}]})
    json.dump({"resourceLogs": res}, open("%s/req%d.json" % (tmp, r), "w"))
PY
i=0
while [ $i -lt "$N" ]; do
	"$OTF_BIN" pdata convert --signal logs --from json --to proto "$tmp/req$i.json" -o "$tmp/req$i.pb" ||
		bad "convert req$i"
	i=$((i + 1))
done

"$OTF_BIN" --config "$tmp/config.yaml" > "$tmp/otflow.log" 2>&1 &
pid=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$HPORT/"; do
	i=$((i + 1))
	if [ $i -ge 100 ]; then
		echo "otflow did not come up:"
		cat "$tmp/otflow.log"
		exit 1
	fi
	sleep 0.1
done

i=0
cpids=""
while [ $i -lt "$N" ]; do
	curl -s -m 10 -o /dev/null -w '%{http_code}\n' -XPOST -H 'Content-Type: application/x-protobuf' \
		--data-binary @"$tmp/req$i.pb" "http://127.0.0.1:$PORT/v1/logs" > "$tmp/code$i" &
	cpids="$cpids $!"
	i=$((i + 1))
done
# shellcheck disable=SC2086
wait $cpids
i=0
while [ $i -lt "$N" ]; do
	code=$(cat "$tmp/code$i")
	[ "$code" = 200 ] && ok || bad "request $i answered $code"
	i=$((i + 1))
done

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
[ "$rc" -eq 0 ] && ok || bad "otflow exited $rc on SIGTERM"

python3 - "$tmp" "$N" <<'PY' && ok || bad "file content differs from the posted requests"
import json, sys
tmp, n = sys.argv[1], int(sys.argv[2])
def records(doc):
    out = []
    for rl in doc.get("resourceLogs", []):
        svc = [a["value"]["stringValue"] for a in rl["resource"]["attributes"]
               if a["key"] == "service.name"][0]
        for sl in rl.get("scopeLogs", []):
            for lr in sl.get("logRecords", []):
                out.append((svc, sl["scope"]["name"], sl["scope"].get("version"),
                            lr["body"]["stringValue"], lr["timeUnixNano"],
                            lr.get("severityNumber"), json.dumps(lr["attributes"], sort_keys=True)))
    return out
want = []
for r in range(n):
    want += records(json.load(open("%s/req%d.json" % (tmp, r))))
got, sizes = [], []
for line in open("%s/out.jsonl" % tmp):
    recs = records(json.loads(line))
    sizes.append(len(recs))
    got += recs
assert sorted(got) == sorted(want), "records differ: %d got, %d wanted" % (len(got), len(want))
assert len(set(got)) == len(got), "duplicates"
assert max(sizes) <= 15, "a batch over send_batch_max_size: %s" % sizes
assert len(sizes) < n, "no batching happened: %s" % sizes
# within one request, records keep their order
order = {r[3]: i for i, r in enumerate(got)}
for r in range(n):
    seqs = [order[x[3]] for x in records(json.load(open("%s/req%d.json" % (tmp, r))))]
    assert seqs == sorted(seqs), "request %d out of order" % r
print("batches:", sizes)
PY

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
