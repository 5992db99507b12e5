#!/usr/bin/env bash
# The Rust and Go example plugins together (examples/plugins/rust, go), built
# here with the machine's toolchains (cargo --offline, no crates; Debian's Go
# with cgo, standard library only): OTLP/HTTP -> drop_attributes (Rust:
# rewrites the protobuf bytes) -> gofiles (Go: writes each request from a
# goroutine, acks asynchronously) and the file exporter. Every record
# arrives in both with the same body, timestamp, severity and the attributes
# that were not dropped; the dropped keys are gone; the client got 200 only
# after the Go exporter's asynchronous acknowledgement (wait_for_result).
# Exits 77 (skipped) only when a toolchain is missing; scripts/deps.sh
# installs both.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for t in cargo go; do
	command -v $t >/dev/null || { echo "SKIPPED: no $t (scripts/deps.sh installs it)"; exit 77; }
done
BUILD=${OTF_BUILD_DIR:-$(dirname "$OTF_BIN")}
EX="$OTF_SOURCE_DIR/examples/plugins"
mkdir -p "$BUILD/plugins"
if cargo build --offline --release --quiet --manifest-path "$EX/rust/Cargo.toml" \
	--target-dir "$BUILD/rust-target" > "$TMP/cargo.log" 2>&1; then
	ok "the Rust plugin builds offline"
else
	bad "cargo build: $(tail -20 "$TMP/cargo.log")"
	finish
fi
# Its hand-written bindings must match the C headers' layouts.
if cargo test --offline --release --quiet --manifest-path "$EX/rust/Cargo.toml" \
	--target-dir "$BUILD/rust-target" > "$TMP/cargo-test.log" 2>&1; then
	ok "the Rust bindings' layouts match the C headers"
else
	bad "cargo test: $(tail -20 "$TMP/cargo-test.log")"
	finish
fi
RUST_SO="$BUILD/rust-target/release/libotflow_attr_drop.so"
if (cd "$EX/go" && GOCACHE="$BUILD/go-cache" GOPATH="$BUILD/go-path" GOPROXY=off GOFLAGS=-mod=mod \
	go build -buildmode=c-shared -o "$BUILD/plugins/gofiles.so" .) > "$TMP/go.log" 2>&1; then
	ok "the Go plugin builds"
else
	bad "go build: $(tail -20 "$TMP/go.log")"
	finish
fi

PORT=$(free_port)
HEALTH=$(free_port)
cat > "$TMP/c.yaml" <<Y
plugins: ["$RUST_SO", "$BUILD/plugins/gofiles.so"]
receivers:
  otlp: {protocols: {http: {endpoint: "127.0.0.1:$PORT"}}, wait_for_result: true}
processors:
  drop_attributes: {keys: [secret], key_prefixes: [internal.]}
exporters:
  gofiles: {directory: "$TMP/go-out"}
  file: {path: "$TMP/out.jsonl", format: json, flush_interval: 50ms}
extensions:
  health_check: {endpoint: "127.0.0.1:$HEALTH"}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [drop_attributes], exporters: [gofiles, file]}
runtime: {workers: 2}
Y
"$OTF_BIN" --config "$TMP/c.yaml" > "$TMP/c.log" 2>&1 &
PID=$!
track "$PID"
up=0
for _ in $(seq 100); do
	[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HEALTH/")" = 200 ] && { up=1; break; }
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
done
[ $up = 1 ] || { bad "otflow with the plugins did not start: $(tail -5 "$TMP/c.log")"; finish; }
grep -q "drop_attributes: Rust plugin loaded" "$TMP/c.log" && ok "the Rust plugin logs through the host" ||
	bad "no load line from the Rust plugin"

attr() { printf '{"key":"%s","value":{"stringValue":"%s"}}' "$1" "$2"; }
N=20
for i in $(seq 1 $N); do
	body="{\"resourceLogs\":[{\"resource\":{\"attributes\":[$(attr service.name svc)]},\"scopeLogs\":[{\"scope\":{\"name\":\"lib\"},\"logRecords\":[{\"timeUnixNano\":\"$((1700000000000000000 + i))\",\"severityNumber\":9,\"body\":{\"stringValue\":\"rec-$i\"},\"attributes\":[$(attr user u$i),$(attr secret s$i),$(attr internal.trace x),$(attr keep.me k$i)]}]}]}]}"
	code=$(curl -s -m 20 -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' --data "$body" "http://127.0.0.1:$PORT/v1/logs")
	[ "$code" = 200 ] || bad "request $i: $code"
done
ok "$N requests answered 200 after the Go exporter's asynchronous ack"
for _ in $(seq 100); do
	[ "$(grep -c rec- "$TMP/out.jsonl" 2>/dev/null)" -ge $N ] && break
	sleep 0.1
done

summ() { # reads OTLP/JSON lines, prints one sorted line per record
	python3 -c '
import json, sys
out = []
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    for rl in json.loads(line)["resourceLogs"]:
        res = ",".join(a["key"] + "=" + a["value"]["stringValue"] for a in rl["resource"].get("attributes", []))
        for sl in rl["scopeLogs"]:
            for r in sl["logRecords"]:
                attrs = ",".join(a["key"] + "=" + a["value"]["stringValue"] for a in r.get("attributes", []))
                out.append("%s|%s|%s|%s|%s|%s" % (res, sl.get("scope", {}).get("name", ""), r["timeUnixNano"],
                                                  r.get("severityNumber", 0), r["body"]["stringValue"], attrs))
print("\n".join(sorted(out)))'
}
from_file=$(summ < "$TMP/out.jsonl")
from_go=$(for f in "$TMP"/go-out/*.pb; do "$OTF_BIN" pdata convert --signal logs --to json "$f"; done | summ)
expect_eq "records in the file exporter" $N "$(printf '%s\n' "$from_file" | grep -c rec-)"
expect_eq "files written by the Go exporter" $N "$(ls "$TMP"/go-out/*.pb | wc -l)"
if [ "$from_file" = "$from_go" ]; then
	ok "the Go exporter's records equal the file exporter's, record by record"
else
	bad "Go vs file differ: $(diff <(printf '%s\n' "$from_file") <(printf '%s\n' "$from_go") | head -5)"
fi
want="service.name=svc|lib|1700000000000000007|9|rec-7|user=u7,keep.me=k7"
if printf '%s\n' "$from_file" | grep -qxF "$want"; then
	ok "secret and internal.* dropped, the rest intact"
else
	bad "record 7: want '$want', got '$(printf '%s\n' "$from_file" | grep 'rec-7|')'"
fi
expect_eq "no dropped key left" 0 "$(printf '%s\n' "$from_file" | grep -c 'secret=\|internal\.')"
kill -TERM "$PID"
wait_pid "$PID" 20
expect_eq "exit status after SIGTERM" 0 "$?"
finish
