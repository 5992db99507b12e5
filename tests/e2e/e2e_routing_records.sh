#!/usr/bin/env bash
# The routing connector's record contexts (routing-records.yaml) with real
# otflow and curl: one logs request and one traces request, each of two
# resources, are split by record: every log record (by region attribute,
# then severity) and every span (by name, then the resource's tenant) lands
# in the file of the first entry true for it, the rest in the default
# pipelines' files, under their own resource and scope (attributes and
# schema_url kept). Exact content of each of the six files; then once more
# with error_mode ignore and a failing entry first.
set -u
. "$(dirname "$0")/lib.sh"
CFG="$E2E_DIR/routing-records.yaml"

# res TENANT SCOPE KIND RECORDS: one resource of one scope
res() {
	printf '{"resource":{"attributes":[{"key":"tenant","value":{"stringValue":"%s"}}]},"schemaUrl":"https://s/%s","scope%s":[{"scope":{"name":"%s"},%s}]}' \
		"$1" "$1" "$3" "$2" "$4"
}
# log BODY SEVERITY_NUMBER [REGION]
log() {
	local attrs=""
	[ $# -gt 2 ] && attrs="{\"key\":\"region\",\"value\":{\"stringValue\":\"$3\"}}"
	printf '{"timeUnixNano":"1700000000000000000","severityNumber":%s,"body":{"stringValue":"%s"},"attributes":[%s]}' \
		"$2" "$1" "$attrs"
}
# span ID NAME
span() {
	printf '{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"%s","name":"%s","kind":2,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000"}' \
		"$1" "$2"
}
logs() { printf '{"resourceLogs":[%s]}\n' "$(IFS=, && echo "$*")"; }
traces() { printf '{"resourceSpans":[%s]}\n' "$(IFS=, && echo "$*")"; }
lr() { printf '"logRecords":[%s]' "$(IFS=, && echo "$*")"; }
sp() { printf '"spans":[%s]' "$(IFS=, && echo "$*")"; }

logs "$(res a app Logs "$(lr "$(log e1 9 east)" "$(log x1 17)" "$(log d1 9)")")" \
	"$(res b db Logs "$(lr "$(log d2 13)" "$(log x2 21 east)" "$(log x3 18 west)")")" >"$TMP/logs.json"
logs "$(res a app Logs "$(lr "$(log e1 9 east)")")" \
	"$(res b db Logs "$(lr "$(log x2 21 east)")")" >"$TMP/expect-east.json"
logs "$(res a app Logs "$(lr "$(log x1 17)")")" \
	"$(res b db Logs "$(lr "$(log x3 18 west)")")" >"$TMP/expect-errors.json"
# d2 matches the resource entry of tenant b, which has no logs pipeline:
# it goes to default_pipelines too, in the same request as d1
logs "$(res a app Logs "$(lr "$(log d1 9)")")" \
	"$(res b db Logs "$(lr "$(log d2 13)")")" >"$TMP/expect-logs-other.json"

traces "$(res a http Spans "$(sp "$(span 00000000000000a1 GET)" "$(span 00000000000000a2 db)")")" \
	"$(res b http Spans "$(sp "$(span 00000000000000b1 db)" "$(span 00000000000000b2 GET)")")" >"$TMP/traces.json"
traces "$(res a http Spans "$(sp "$(span 00000000000000a1 GET)")")" \
	"$(res b http Spans "$(sp "$(span 00000000000000b2 GET)")")" >"$TMP/expect-get.json"
traces "$(res b http Spans "$(sp "$(span 00000000000000b1 db)")")" >"$TMP/expect-tenant-b.json"
traces "$(res a http Spans "$(sp "$(span 00000000000000a2 db)")")" >"$TMP/expect-spans-other.json"

if ! otf_start records "$CFG"; then
	bad "otflow did not start"
	finish
fi
post() {
	curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "@$2" "$OTF_URL/v1/$1"
}
expect_eq "POST of six log records of two resources" 200 "$(post logs "$TMP/logs.json")"
expect_eq "POST of four spans of two resources" 200 "$(post traces "$TMP/traces.json")"
otf_stop

for f in east errors logs-other get tenant-b spans-other; do
	if timeout 60 node "$E2E_DIR/check.mjs" same "$OTF_OUT.$f" "$TMP/expect-$f.json" >"$TMP/c.txt" 2>&1; then
		ok "file/$f holds exactly its records"
	else
		bad "file/$f is not exactly its records:"
		head -20 "$TMP/c.txt"
	fi
done

# error_mode ignore: an entry whose condition fails on every record (Len
# of a missing attribute) is not taken, logged once naming it; the
# records go on down the table as before.
sed 's/^    table:$/    error_mode: ignore\n    table:\n      - context: log\n        condition: Len(attributes["missing"]) > 0\n        pipelines: [logs\/east]/' \
	"$CFG" >"$TMP/ignore.yaml"
if ! otf_start ignore "$TMP/ignore.yaml"; then
	bad "error_mode ignore: otflow did not start"
	finish
fi
expect_eq "error_mode ignore: POST of six log records" 200 "$(post logs "$TMP/logs.json")"
otf_stop
n=$(grep -c "route 'table\[0\]' not taken, its condition failed" "$OTF_LOG")
expect_eq "error_mode ignore: the failing entry logged once" 1 "$n"
for f in east errors logs-other; do
	if timeout 60 node "$E2E_DIR/check.mjs" same "$OTF_OUT.$f" "$TMP/expect-$f.json" >"$TMP/c.txt" 2>&1; then
		ok "error_mode ignore: file/$f holds exactly its records"
	else
		bad "error_mode ignore: file/$f is not exactly its records:"
		head -20 "$TMP/c.txt"
	fi
done
finish
