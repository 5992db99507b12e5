# Sourced by the command-line tests in tests/sh: one assertion helper and the
# pass/fail tally, so each test file holds only its cases.
#   check NAME WANT_EXIT WANT_TEXT COMMAND...   runs COMMAND, passes when it
#   exits WANT_EXIT and its output (stdout+stderr) contains WANT_TEXT.
#   check_done                                   prints the tally, fails if any failed.
# Sets $tmp to a directory removed at exit.
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {
	name=$1 want=$2 text=$3
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL $name: exit $rc, want $want: $out"
		fail=$((fail + 1))
	elif ! printf '%s' "$out" | grep -qF -- "$text"; then
		echo "FAIL $name: output lacks '$text': $out"
		fail=$((fail + 1))
	else
		echo "ok $name"
		pass=$((pass + 1))
	fi
}

check_done() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
