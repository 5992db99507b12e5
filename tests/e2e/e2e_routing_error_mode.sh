#!/usr/bin/env bash
# The routing connector's error_mode (contrib README: propagate, the
# default; ignore; silent), with a real otflow and curl
# (tests/e2e/routing-error-mode.yaml): a request whose resource lacks the
# attribute the table's condition measures makes the condition fail.
#  - ignore: routed to default_pipelines, client told 200, the failure
#    logged (a warning naming the entry);
#  - silent: routed to default_pipelines, client told 200, nothing logged;
#  - propagate: the request is refused, client told 400 naming the entry,
#    nothing written to default_pipelines.
# A resource with the attribute is routed to its entry's pipeline in each
# mode (the condition works when it can be evaluated).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CFG="$E2E_DIR/routing-error-mode.yaml"

rec() { # BODY [REGION]: one log record, its resource with region when given
	local attrs=""
	[ -n "${2:-}" ] && attrs="{\"key\":\"region\",\"value\":{\"stringValue\":\"$2\"}}"
	printf '{"resourceLogs":[{"resource":{"attributes":[%s]},"scopeLogs":[{"logRecords":[{"body":{"stringValue":"%s"}}]}]}]}\n' \
		"$attrs" "$1"
}
post() { # FILE: status and body
	curl -s -m 10 -w ' %{http_code}' -H 'Content-Type: application/json' \
		--data-binary "@$1" "$OTF_URL/v1/logs"
}
# bodies FILE: the log bodies it holds, sorted, space separated
bodies() {
	[ -s "$1" ] || return 0
	python3 -c '
import json, sys
out = []
for line in open(sys.argv[1]):
    for rl in json.loads(line).get("resourceLogs", []):
        for sl in rl.get("scopeLogs", []):
            for r in sl.get("logRecords", []):
                out.append(r["body"]["stringValue"])
print(" ".join(sorted(out)))' "$1"
}
# settle FILE WANT: polls (5 s at most) until FILE holds the bodies WANT
settle() {
	local i=0
	until [ "$(bodies "$1")" = "$2" ] || [ $i -ge 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	bodies "$1"
}

for mode in ignore silent propagate; do
	rec "fails-$mode" >"$TMP/fails.json"
	rec "east-$mode" east >"$TMP/east.json"
	if ! OTF_ERROR_MODE=$mode otf_start "$mode" "$CFG"; then
		bad "$mode: otflow did not start"
		continue
	fi
	got=$(post "$TMP/fails.json")
	case $mode in
	propagate)
		case "$got" in
		*"table[0]"*" 400") ok "propagate: the failing condition refuses the request: 400 naming the entry" ;;
		*) bad "propagate: want 400 naming table[0], got: $got" ;;
		esac
		;;
	*) expect_eq "$mode: the failing condition's request is told" 200 "${got##* }" ;;
	esac
	expect_eq "$mode: a resource with the attribute is told" 200 "$(post "$TMP/east.json" | sed 's/.* //')"
	expect_eq "$mode: the matched pipeline holds the resource with the attribute" "east-$mode" \
		"$(settle "$OTF_OUT.matched" "east-$mode")"
	if [ "$mode" = propagate ]; then
		expect_eq "propagate: default_pipelines holds nothing" "" "$(bodies "$OTF_OUT.default")"
	else
		expect_eq "$mode: default_pipelines holds the request whose condition failed" \
			"fails-$mode" "$(settle "$OTF_OUT.default" "fails-$mode")"
	fi
	n=$(grep -c "route 'table\[0\]' not taken, its condition failed" "$OTF_LOG")
	case $mode in
	ignore) [ "$n" -ge 1 ] && ok "ignore: the failure is logged" || bad "ignore: not logged: $(tail -3 "$OTF_LOG")" ;;
	silent) expect_eq "silent: the failure is not logged" 0 "$n" ;;
	esac
	otf_stop
done
finish
