#!/bin/sh
# otflow pdata: round trips of the bundled samples (JSON -> proto -> JSON ->
# proto must be a fixed point), summary counts, validate errors, exit codes.
# Env: OTF_BIN (the otflow binary), OTF_SOURCE_DIR (the source tree).
set -u
bin=${OTF_BIN:-build/otflow}
src=${OTF_SOURCE_DIR:-.}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() {
	pass=$((pass + 1))
}
bad() {
	fail=$((fail + 1))
	echo "FAIL: $*" >&2
}

# expect_rc WANT DESCRIPTION CMD...: runs CMD, stdout to $tmp/out, stderr
# to $tmp/err, and checks the exit status.
expect_rc() {
	want=$1
	what=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -eq "$want" ]; then
		ok
	else
		bad "$what: exit $got, want $want"
		sed 's/^/    /' "$tmp/err" >&2
	fi
}

# expect_grep FILE PATTERN DESCRIPTION
expect_grep() {
	if grep -q -- "$2" "$1"; then
		ok
	else
		bad "$3: '$2' not in output"
		sed 's/^/    /' "$1" >&2
	fi
}

# Expected counts per sample: resources scopes records [metrics]
counts() {
	case $1 in
	traces) echo "2 3 7" ;;
	metrics) echo "2 2 8 6" ;;
	logs) echo "2 3 8" ;;
	esac
}

for sig in traces metrics logs; do
	in="$src/examples/pdata/$sig.json"
	expect_rc 0 "$sig json->proto" "$bin" pdata convert --signal "$sig" --from json --to proto \
		-o "$tmp/$sig.1.pb" "$in"
	expect_rc 0 "$sig proto->json" "$bin" pdata convert --signal "$sig" --from proto --to json \
		-o "$tmp/$sig.1.json" "$tmp/$sig.1.pb"
	# formats and signal guessed, stdin/stdout
	if "$bin" pdata convert <"$tmp/$sig.1.json" >"$tmp/$sig.2.pb" 2>"$tmp/err"; then
		ok
	else
		bad "$sig json->proto via stdin"
	fi
	expect_rc 0 "$sig proto->json again" "$bin" pdata convert --signal "$sig" \
		-o "$tmp/$sig.2.json" "$tmp/$sig.2.pb"
	if cmp -s "$tmp/$sig.1.pb" "$tmp/$sig.2.pb"; then ok; else bad "$sig: proto outputs differ"; fi
	if cmp -s "$tmp/$sig.1.json" "$tmp/$sig.2.json"; then ok; else bad "$sig: JSON outputs differ"; fi
	if [ -s "$tmp/$sig.1.pb" ]; then ok; else bad "$sig: empty protobuf output"; fi

	# shellcheck disable=SC2046
	set -- $(counts "$sig")
	case $sig in
	traces) rec=spans ;;
	metrics) rec="data points" ;;
	logs) rec="log records" ;;
	esac
	for f in "$tmp/$sig.1.pb" "$in"; do
		if [ "$f" = "$in" ]; then
			expect_rc 0 "$sig summary json" "$bin" pdata summary "$f"
		else
			expect_rc 0 "$sig summary proto" "$bin" pdata summary --signal "$sig" "$f"
		fi
		expect_grep "$tmp/out" "^signal: $sig\$" "$sig summary signal"
		expect_grep "$tmp/out" "^resources: $1\$" "$sig summary resources ($f)"
		expect_grep "$tmp/out" "^scopes: $2\$" "$sig summary scopes ($f)"
		expect_grep "$tmp/out" "^$rec: $3\$" "$sig summary $rec ($f)"
		if [ "$sig" = metrics ]; then
			expect_grep "$tmp/out" "^metrics: $4\$" "metrics summary metrics ($f)"
		fi
	done

	expect_rc 0 "$sig validate proto" "$bin" pdata validate --signal "$sig" "$tmp/$sig.1.pb"
	expect_grep "$tmp/out" "OK" "$sig validate proto"
	expect_rc 0 "$sig validate json" "$bin" pdata validate "$in"

	# Truncated protobuf: the decoder must fail with a path and an offset.
	size=$(wc -c <"$tmp/$sig.1.pb")
	head -c $((size - 3)) "$tmp/$sig.1.pb" >"$tmp/$sig.trunc.pb"
	expect_rc 1 "$sig validate truncated" "$bin" pdata validate --signal "$sig" \
		"$tmp/$sig.trunc.pb"
	expect_grep "$tmp/err" "resource_" "$sig truncated: field path"
	expect_grep "$tmp/err" "at byte [0-9]" "$sig truncated: offset"
	expect_rc 1 "$sig convert truncated" "$bin" pdata convert --signal "$sig" \
		"$tmp/$sig.trunc.pb"
done

# Invalid JSON: a syntax error, and a bad id with its field path.
printf '{"resourceSpans": [ {"scopeSpans": [ ' >"$tmp/broken.json"
expect_rc 1 "validate broken JSON" "$bin" pdata validate "$tmp/broken.json"
expect_grep "$tmp/err" "JSON" "broken JSON message"
printf '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abc"}]}]}]}' >"$tmp/badid.json"
expect_rc 1 "validate bad trace id" "$bin" pdata validate "$tmp/badid.json"
expect_grep "$tmp/err" "traceId" "bad trace id: field path"
expect_rc 1 "summary bad trace id" "$bin" pdata summary "$tmp/badid.json"
printf '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"x"}]}]}]}' \
	>"$tmp/badsev.json"
expect_rc 1 "validate bad severity" "$bin" pdata validate "$tmp/badsev.json"
expect_grep "$tmp/err" "severityNumber" "bad severity: field path"

# Malformed protobuf: summary (views) reports the offset.
printf '\012\005\022' >"$tmp/short.pb"
expect_rc 1 "summary malformed proto" "$bin" pdata summary --signal logs "$tmp/short.pb"
expect_grep "$tmp/err" "at byte 0" "summary malformed proto offset"

# Usage errors exit 2.
expect_rc 2 "no subcommand" "$bin" pdata
expect_rc 2 "unknown subcommand" "$bin" pdata frobnicate
expect_rc 2 "unknown option" "$bin" pdata convert --bogus "$src/examples/pdata/logs.json"
expect_rc 2 "bad signal" "$bin" pdata convert --signal spans "$src/examples/pdata/logs.json"
expect_rc 2 "bad format" "$bin" pdata convert --to yaml "$src/examples/pdata/logs.json"
expect_rc 2 "missing value" "$bin" pdata summary --signal
expect_rc 2 "proto without signal" "$bin" pdata summary "$tmp/logs.1.pb"
expect_rc 2 "two inputs" "$bin" pdata validate "$tmp/a" "$tmp/b"
expect_rc 1 "missing file" "$bin" pdata validate "$tmp/does-not-exist.json"

# Help exits 0 and describes the subcommand.
for sub in convert summary validate; do
	expect_rc 0 "$sub --help" "$bin" pdata "$sub" --help
	expect_grep "$tmp/out" "usage: otflow pdata $sub" "$sub --help text"
done
expect_rc 0 "pdata --help" "$bin" pdata --help

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
