#!/usr/bin/env bash
# processor content_router with real otflow and curl (content-router.yaml):
# a request with the header X-Tenant: acme goes whole to file/acme; a
# request holding a resource of tenant ecorp and one of another tenant is
# split, each file holding exactly its resource; a request matching no
# route lands in file/other (the default port). Every client gets 200.
set -u
. "$(dirname "$0")/lib.sh"
CFG="$E2E_DIR/content-router.yaml"

# resource JSON of tenant $1 holding the log bodies $2...
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
req "$(res ecorp e1)" "$(res y o1 o2)" >"$TMP/mixed.json"
req "$(res ecorp e1)" >"$TMP/expect-ecorp.json"
req "$(res y o1 o2)" >"$TMP/expect-split-other.json"
req "$(res z o3)" >"$TMP/plain.json"

if ! otf_start router "$CFG"; then
	bad "otflow did not start"
	finish
fi
post() {
	curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' "$@" \
		"$OTF_URL/v1/logs"
}
expect_eq "POST with X-Tenant: acme" 200 "$(post -H 'X-Tenant: acme' --data-binary "@$TMP/acme.json")"
expect_eq "POST of tenants ecorp and y" 200 "$(post --data-binary "@$TMP/mixed.json")"
expect_eq "POST of tenant z" 200 "$(post --data-binary "@$TMP/plain.json")"
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
check acme "$TMP/acme.json"
check ecorp "$TMP/expect-ecorp.json"
check other "$TMP/expect-split-other.json" "$TMP/plain.json"
finish
