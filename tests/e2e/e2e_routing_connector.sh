#!/usr/bin/env bash
# The Collector's routing connector in Collector YAML (routing-connector.yaml),
# with real otflow and curl: the request context (X-Tenant header) sends a
# request to logs/acme only; a request with a resource of tenant ecorp
# (statement route() where ...) and one of another tenant is split: the
# ecorp resource reaches both pipelines of its entry, the other resource
# default_pipelines. Two file exporters, exact content of each.
set -u
. "$(dirname "$0")/lib.sh"
CFG="$E2E_DIR/routing-connector.yaml"

res() {
	local t=$1 recs="" b
	shift
	for b in "$@"; do
		recs="$recs${recs:+,}{\"timeUnixNano\":\"1700000000000000000\",\"body\":{\"stringValue\":\"$b\"}}"
	done
	printf '{"resource":{"attributes":[{"key":"tenant","value":{"stringValue":"%s"}}]},"scopeLogs":[{"scope":{"name":"e2e"},"logRecords":[%s]}]}' "$t" "$recs"
}
req() { printf '{"resourceLogs":[%s]}\n' "$(
	IFS=,
	echo "$*"
)"; }

req "$(res x a1 a2)" >"$TMP/acme.json"
req "$(res ecorp e1)" "$(res y o1)" >"$TMP/mixed.json"
req "$(res ecorp e1)" >"$TMP/expect-ecorp.json"
req "$(res y o1)" >"$TMP/expect-y.json"

export OTF_E2E_PORT=4318 OTF_E2E_HEALTH_PORT=13133 OTF_E2E_OUT="$TMP/unused-by-print-dag"
"$OTF_BIN" print-dag --config "$CFG" >"$TMP/dag.txt" 2>&1 || bad "print-dag: $(cat "$TMP/dag.txt")"
if grep -q "connector connector:routing (type routing, ports default, table\[0\], table\[1\])" "$TMP/dag.txt" &&
	grep -q -- "-> exporter:file/acme \[logs\] port table\[0\]$" "$TMP/dag.txt" &&
	grep -q -- "-> exporter:file/other \[logs\] port table\[1\]$" "$TMP/dag.txt" &&
	grep -q -- "-> exporter:file/other \[logs\]$" "$TMP/dag.txt"; then
	ok "print-dag: the connector is a router node with one port per table entry"
else
	bad "print-dag: $(cat "$TMP/dag.txt")"
fi
unset OTF_E2E_PORT OTF_E2E_HEALTH_PORT OTF_E2E_OUT

if ! otf_start routing "$CFG"; then
	bad "otflow did not start"
	finish
fi
post() {
	curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' "$@" \
		"$OTF_URL/v1/logs"
}
expect_eq "POST with X-Tenant: acme" 200 "$(post -H 'X-Tenant: acme' --data-binary "@$TMP/acme.json")"
expect_eq "POST of tenants ecorp and y" 200 "$(post --data-binary "@$TMP/mixed.json")"
otf_stop

check() {
	local f=$1
	shift
	if timeout 60 node "$E2E_DIR/check.mjs" same "$OTF_OUT.$f" "$@" >"$TMP/c.txt" 2>&1; then
		ok "file/$f holds exactly its data: $(cat "$TMP/c.txt")"
	else
		bad "file/$f is not exactly its data:"
		head -20 "$TMP/c.txt"
	fi
}
check acme "$TMP/acme.json" "$TMP/expect-ecorp.json"
check other "$TMP/expect-ecorp.json" "$TMP/expect-y.json"

# No default_pipelines (as the Collector): data that matches no entry is
# dropped and the request acknowledged, but the drop is logged (a warning
# naming the connector), once for the first of them.
sed '/default_pipelines/d; /logs\/other:/,/exporters: \[file\/other\]/d; s/pipelines: \[logs\/acme, logs\/other\]/pipelines: [logs\/acme]/' \
	"$CFG" >"$TMP/nodefault.yaml"
rm -f "$TMP/routing.jsonl.acme"
if ! otf_start nodefault "$TMP/nodefault.yaml"; then
	bad "no default_pipelines: otflow did not start: $(tail -5 "$OTF_LOG")"
	finish
fi
expect_eq "no default_pipelines: POST of tenants ecorp and y" 200 "$(post --data-binary "@$TMP/mixed.json")"
expect_eq "no default_pipelines: another POST of tenant y only" 200 "$(post --data-binary "@$TMP/expect-y.json")"
otf_stop
if timeout 60 node "$E2E_DIR/check.mjs" same "$OTF_OUT.acme" "$TMP/expect-ecorp.json" >"$TMP/c.txt" 2>&1; then
	ok "no default_pipelines: file/acme holds the ecorp resource only"
else
	bad "no default_pipelines: file/acme: $(head -10 "$TMP/c.txt")"
fi
n=$(grep -c "connector:routing.*dropped 1 logs that match no table entry" "$OTF_LOG")
expect_eq "no default_pipelines: the first drop logged, once" 1 "$n"
finish
