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

# No default_pipelines while data can match nothing: refused, naming the
# connector's file:line (the Collector would drop such data silently).
sed '/default_pipelines/d; /logs\/other:/,/exporters: \[file\/other\]/d; s/pipelines: \[logs\/acme, logs\/other\]/pipelines: [logs\/acme]/' \
	"$CFG" >"$TMP/nodefault.yaml"
if OTF_E2E_PORT=1 OTF_E2E_HEALTH_PORT=2 OTF_E2E_OUT=x "$OTF_BIN" validate --config "$TMP/nodefault.yaml" >"$TMP/v.txt" 2>&1; then
	bad "a routing connector without default_pipelines was accepted"
elif grep -q "nodefault.yaml:[0-9]*.*connector:routing.*match no route have nowhere to go.*default_pipelines" "$TMP/v.txt"; then
	ok "no default_pipelines: refused with file:line ($(head -c 200 "$TMP/v.txt"))"
else
	bad "unexpected refusal: $(cat "$TMP/v.txt")"
fi
finish
