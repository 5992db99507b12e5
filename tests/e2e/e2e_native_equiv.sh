#!/usr/bin/env bash
# A Collector-format configuration (equiv-collector.yaml) and the same graph
# in otflow's native format (equiv-native.yaml): both validate, give
# identical `print-dag` output (text and DOT), and, run on real sockets with
# the same requests (curl: traces JSON, logs protobuf, metrics JSON+gzip),
# write content-equal file output, equal to `otflow pdata convert` of the
# inputs. The component the Collector file defines but no pipeline uses is
# not started (its file is never created).
set -u
. "$(dirname "$0")/lib.sh"
EX="$OTF_SOURCE_DIR/examples/pdata"
COL="$E2E_DIR/equiv-collector.yaml"
NAT="$E2E_DIR/equiv-native.yaml"

# print-dag needs the env the configs expand; values do not matter here.
export OTF_E2E_PORT=4318 OTF_E2E_HEALTH_PORT=13133 OTF_E2E_OUT="$TMP/unused-by-print-dag.jsonl"
for f in "$COL" "$NAT"; do
	if "$OTF_BIN" validate --config "$f" >"$TMP/validate.txt" 2>&1; then
		ok "validate $(basename "$f")"
	else
		bad "validate $(basename "$f"): $(cat "$TMP/validate.txt")"
	fi
done
for fmt in text dot; do
	"$OTF_BIN" print-dag --format $fmt --config "$COL" >"$TMP/col.$fmt" 2>&1 || bad "print-dag $fmt collector"
	"$OTF_BIN" print-dag --format $fmt --config "$NAT" >"$TMP/nat.$fmt" 2>&1 || bad "print-dag $fmt native"
	if [ -s "$TMP/col.$fmt" ] && cmp -s "$TMP/col.$fmt" "$TMP/nat.$fmt"; then
		ok "print-dag --format $fmt identical ($(wc -l <"$TMP/col.$fmt") lines)"
	else
		bad "print-dag --format $fmt differs:"
		diff "$TMP/col.$fmt" "$TMP/nat.$fmt" | head -30
	fi
done
if grep -q "connector:forward" "$TMP/col.text" && ! grep -q "unused" "$TMP/col.text"; then
	ok "the DAG has the connector and not the unused exporter"
else
	bad "unexpected DAG: $(cat "$TMP/col.text")"
fi
unset OTF_E2E_PORT OTF_E2E_HEALTH_PORT OTF_E2E_OUT

"$OTF_BIN" pdata convert --signal logs --from json --to proto "$EX/logs.json" -o "$TMP/logs.pb" ||
	bad "pdata convert logs"
gzip -c "$EX/metrics.json" >"$TMP/metrics.json.gz"
for s in traces logs metrics; do
	"$OTF_BIN" pdata convert --signal $s --from json --to json "$EX/$s.json" -o "$TMP/expect-$s.json" ||
		bad "pdata convert $s"
done

run() { # NAME CONFIG: runs otflow on CONFIG and posts the three requests
	local name=$1 cfg=$2 code
	if ! otf_start "$name" "$cfg"; then
		bad "$name: otflow did not start"
		return
	fi
	code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "@$EX/traces.json" "$OTF_URL/v1/traces")
	expect_eq "$name: POST traces (JSON)" 200 "$code"
	code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/x-protobuf' \
		--data-binary "@$TMP/logs.pb" "$OTF_URL/v1/logs")
	expect_eq "$name: POST logs (protobuf)" 200 "$code"
	code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		-H 'Content-Encoding: gzip' --data-binary "@$TMP/metrics.json.gz" "$OTF_URL/v1/metrics")
	expect_eq "$name: POST metrics (JSON, gzip)" 200 "$code"
	otf_stop
	if [ -e "$OTF_OUT.unused" ]; then
		bad "$name: the unused file exporter was started ($OTF_OUT.unused exists)"
	fi
	# Routing: debug gets traces (via the connector) and logs, not metrics.
	if grep -q 'exporter:debug.*Traces {.*"spans": 7' "$OTF_LOG" &&
		grep -q 'exporter:debug.*Logs {' "$OTF_LOG" && ! grep -q 'exporter:debug.*Metrics {' "$OTF_LOG"; then
		ok "$name: debug exporter saw the traces and the logs, no metrics"
	else
		bad "$name: debug exporter routing: $(grep 'exporter:debug' "$OTF_LOG" | tr '\n' ';')"
	fi
}

run collector "$COL"
run native "$NAT"

if timeout 60 node "$E2E_DIR/check.mjs" same "$TMP/collector.jsonl" "$TMP/native.jsonl" >"$TMP/c1.txt" 2>&1; then
	ok "collector and native file output content-equal: $(cat "$TMP/c1.txt")"
else
	bad "collector and native file output differ:"
	head -40 "$TMP/c1.txt"
fi
for name in collector native; do
	if timeout 60 node "$E2E_DIR/check.mjs" same "$TMP/$name.jsonl" "$TMP/expect-traces.json" \
		"$TMP/expect-logs.json" "$TMP/expect-metrics.json" >"$TMP/c2.txt" 2>&1; then
		ok "$name output equals pdata convert of the inputs"
	else
		bad "$name output differs from the inputs:"
		head -40 "$TMP/c2.txt"
	fi
done
finish
