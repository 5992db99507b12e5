#!/usr/bin/env bash
# ERR from the file exporter (rotation at 1 MiB, the receiver waiting for
# the outcome, health_check use_v2 with
# include_recoverable_errors): its directory is removed while it runs.
#  - a request past 1 MiB is written to the open file, then the rotation
#    cannot open a new one: the request is acked (200), the exporter's
#    status is StatusRecoverableError with rotation_failed, health 500;
#  - the next request cannot be written (no file): refused (not 200),
#    write_failed; otelcol_component_errors counts both reasons;
#  - the directory comes back: the next request is written, the status is
#    StatusOK again (health 200), and that record is in the new file.
# Before, the failed rotation nacked the record it had written, no file
# was ever opened again and health stayed 200.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=$(free_port)
HEALTH=$(free_port)
PROM=$(free_port)
mkdir -p "$TMP/d"
cat > "$TMP/c.yaml" <<Y
receivers: {otlp: {wait_for_result: true, protocols: {http: {endpoint: "127.0.0.1:$PORT"}}}}
exporters:
  file: {path: "$TMP/d/out.jsonl", flush_interval: 100ms, rotation: {max_megabytes: 1}}
extensions:
  health_check:
    endpoint: "127.0.0.1:$HEALTH"
    use_v2: true
    component_health: {include_recoverable_errors: true, recovery_duration: 0s}
service:
  extensions: [health_check]
  admin: {endpoint: ""}
  telemetry:
    metrics:
      level: basic
      readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: $PROM}}}}]
  pipelines: {logs: {receivers: [otlp], exporters: [file]}}
runtime: {workers: 1}
Y
"$OTF_BIN" --config "$TMP/c.yaml" > "$TMP/otflow.log" 2>&1 &
PID=$!
track "$PID"
code() { curl -s -m 5 -o "$TMP/h.json" -w '%{http_code}' "http://127.0.0.1:$HEALTH/${1:-}"; }
for _ in $(seq 100); do [ "$(code)" = 200 ] && break; sleep 0.1; done
expect_eq "healthy at start" 200 "$(code)"
post() { # post FILE: the HTTP code
	curl -s -m 10 -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
		--data-binary "@$1" "http://127.0.0.1:$PORT/v1/logs"
}
rec() { printf '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"%s"}}]}]}]}' "$1" > "$TMP/$1.json"; }
rec before
expect_eq "a record while the directory exists" 200 "$(post "$TMP/before.json")"
rm -rf "$TMP/d"
python3 -c 'import sys; sys.stdout.write("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"stringValue\":\"big-" + "x" * 1200000 + "\"}}]}]}]}")' > "$TMP/big.json"
expect_eq "the record past 1 MiB is written (acked) though the rotation fails" 200 "$(post "$TMP/big.json")"
for _ in $(seq 100); do [ "$(code)" = 500 ] && break; sleep 0.05; done
expect_eq "rotation failed: health 500" 500 "$(code)"
rec lost
got=$(post "$TMP/lost.json")
[ "$got" != 200 ] && [ "$got" != 000 ] && ok "no file: the next record is refused ($got)" || bad "no file: answered '$got'"
code "?verbose" > /dev/null
got=$(python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["components"]["pipeline:logs"]["components"]["exporter:file"]
print(e["status"], "cannot write" in e.get("error", "") or "cannot rotate" in e.get("error", ""))' "$TMP/h.json")
expect_eq "exporter:file is StatusRecoverableError with the error" "StatusRecoverableError True" "$got"
metrics=$(curl -s -m 5 "http://127.0.0.1:$PROM/metrics")
for r in rotation_failed write_failed; do
	n=$(printf '%s\n' "$metrics" | sed -n "s/^otelcol_component_errors{component=\"exporter:file\",reason=\"$r\"} \([0-9]*\)\$/\1/p")
	[ "${n:-0}" -ge 1 ] && ok "otelcol_component_errors counts $r ($n)" || bad "$r: '$n'"
done
mkdir -p "$TMP/d"
rec after
expect_eq "directory back: the record is written" 200 "$(post "$TMP/after.json")"
for _ in $(seq 100); do [ "$(code)" = 200 ] && break; sleep 0.05; done
expect_eq "recovered: health 200" 200 "$(code "?verbose")"
got=$(python3 -c '
import json, sys
print(json.load(open(sys.argv[1]))["components"]["pipeline:logs"]["components"]["exporter:file"]["status"])' "$TMP/h.json")
expect_eq "exporter:file StatusOK" StatusOK "$got"
for _ in $(seq 100); do grep -q '"after"' "$TMP/d/out.jsonl" 2>/dev/null && break; sleep 0.05; done
grep -q '"after"' "$TMP/d/out.jsonl" && ok "the record is in the new file" || bad "record missing from the new file"
grep -q '"lost"' "$TMP/d/out.jsonl" && bad "the refused record was written" || ok "the refused record is not in the file"
kill -TERM "$PID"
wait_pid "$PID" 20 && ok "exits 0" || bad "exit status"
finish
