#!/bin/sh
# The comparison of `make bench-check`: each figure of CURRENT against the
# same figure in BASELINE, failing when one is more than TOLERANCE percent
# worse (default 25; BENCH_TOLERANCE overrides).
#
# Both files hold lines "NAME higher|lower VALUE" (other lines are ignored,
# so BASELINE may be docs/benchmarks.md itself: only the lines between
# <!-- bench:baseline:begin --> and <!-- bench:baseline:end --> count).
# "higher" means higher is better: worse by P% is VALUE < baseline * (1 -
# P/100); "lower": VALUE > baseline * (1 + P/100). Every figure is a ratio
# against a reference measured in the same run (bench/check.sh), so the
# machine's speed and load cancel out.
#
# Prints one line per figure: name, value, baseline, change, PASS or FAIL
# (NEW for a figure the baseline lacks). Exit 1 when any figure failed or
# a baseline figure is missing from CURRENT, 2 on bad usage.
# usage: bench/compare.sh BASELINE CURRENT
set -eu
[ $# -eq 2 ] || {
	echo "usage: bench/compare.sh BASELINE CURRENT" >&2
	exit 2
}
tol=${BENCH_TOLERANCE:-25}
for f in "$1" "$2"; do
	[ -r "$f" ] || {
		echo "bench compare: cannot read $f" >&2
		exit 2
	}
done
# the baseline lines: the marked block when there is one, else the file
base=$(mktemp)
trap 'rm -f "$base"' EXIT
if grep -q '<!-- bench:baseline:begin -->' "$1"; then
	sed -n '/<!-- bench:baseline:begin -->/,/<!-- bench:baseline:end -->/p' "$1" >"$base"
else
	cat "$1" >"$base"
fi
awk -v tol="$tol" '
function figure(line) {
	return line ~ /^[A-Za-z0-9_.:-]+ (higher|lower) [0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/
}
FILENAME == ARGV[1] && figure($0) { bdir[$1] = $2; bval[$1] = $3; border[++nb] = $1; next }
FILENAME == ARGV[2] && figure($0) { cdir[$1] = $2; cval[$1] = $3; corder[++nc] = $1; next }
END {
	if (nb == 0) {
		print "bench compare: no baseline figures (lines \"NAME higher|lower VALUE\")" > "/dev/stderr"
		exit 2
	}
	printf "%-50s %12s %12s %9s  %s\n", "figure", "now", "baseline", "change", "result"
	bad = 0
	for (i = 1; i <= nc; i++) {
		n = corder[i]
		v = cval[n] + 0
		if (!(n in bval)) {
			printf "%-50s %12.4g %12s %9s  NEW\n", n, v, "-", "-"
			continue
		}
		b = bval[n] + 0
		if (bdir[n] != cdir[n]) {
			printf "%-50s %12.4g %12.4g %9s  FAIL (direction %s, baseline %s)\n", n, v, b, "-", cdir[n], bdir[n]
			bad++
			continue
		}
		# change in percent, positive = better
		if (b == 0)
			worse = 0
		else if (bdir[n] == "higher")
			worse = (b - v) / b * 100
		else
			worse = (v - b) / b * 100
		res = worse > tol ? "FAIL" : "PASS"
		if (res == "FAIL")
			bad++
		chg = worse == 0 ? 0 : -worse
		printf "%-50s %12.4g %12.4g %+8.1f%%  %s\n", n, v, b, chg, res
	}
	for (i = 1; i <= nb; i++) {
		n = border[i]
		if (!(n in cval)) {
			printf "%-50s %12s %12.4g %9s  FAIL (not measured)\n", n, "-", bval[n], "-"
			bad++
		}
	}
	printf "bench-check: %d figure(s) more than %s%% worse than the baseline\n", bad, tol
	exit bad ? 1 : 0
}' "$base" "$2"
