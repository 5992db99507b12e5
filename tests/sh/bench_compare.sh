#!/bin/sh
# make bench-check's comparison (bench/compare.sh), fed numbers (no timing):
# a figure 26% worse than its baseline fails, 24% worse passes, in both
# directions (higher and lower is better); a figure missing from the run
# fails; a new one is reported and passes; the baseline is read from the
# marked block of a benchmarks document, ignoring figure-like lines outside it.
set -u
src=${OTF_SOURCE_DIR:-$(dirname "$0")/../..}
CMP="$src/bench/compare.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

cat >"$tmp/doc.md" <<'D'
# otflow benchmarks

codec.logs.decode_vs_protobuf_c higher 1
<!-- bench:baseline:begin -->
## Regression baseline

```
codec.logs.decode_vs_protobuf_c higher 10.0
pipeline.logs.cpu_per_item_vs_protobuf_c_unpack lower 0.2
```
<!-- bench:baseline:end -->
D

# expect NAME RC FILE [PATTERN...]: compare.sh exits RC on FILE and prints
# each PATTERN (a line of its output, as a grep -E pattern)
expect() {
	name=$1
	want=$2
	shift 2
	cur=$1
	shift
	sh "$CMP" "$tmp/doc.md" "$cur" >"$tmp/out" 2>&1
	rc=$?
	ok=1
	[ "$rc" = "$want" ] || {
		bad "$name: exit $rc, want $want"
		ok=0
	}
	for p in "$@"; do
		grep -Eq "$p" "$tmp/out" || {
			bad "$name: output lacks /$p/"
			ok=0
		}
	done
	[ $ok = 1 ] && pass=$((pass + 1))
	[ $ok = 1 ] || cat "$tmp/out"
}

# 24% worse: higher-is-better 10 -> 7.6, lower-is-better 0.2 -> 0.248
printf 'codec.logs.decode_vs_protobuf_c higher 7.6\npipeline.logs.cpu_per_item_vs_protobuf_c_unpack lower 0.248\n' >"$tmp/c24"
expect "24% worse" 0 "$tmp/c24" \
	'^codec\.logs\.decode_vs_protobuf_c +7\.6 +10 +-24\.0% +PASS$' \
	'^pipeline\.logs\.cpu_per_item_vs_protobuf_c_unpack +0\.248 +0\.2 +-24\.0% +PASS$' \
	'0 figure\(s\) more than 25% worse'

# 26% worse, higher is better: 10 -> 7.4
printf 'codec.logs.decode_vs_protobuf_c higher 7.4\npipeline.logs.cpu_per_item_vs_protobuf_c_unpack lower 0.2\n' >"$tmp/h26"
expect "26% worse (higher)" 1 "$tmp/h26" \
	'^codec\.logs\.decode_vs_protobuf_c +7\.4 +10 +-26\.0% +FAIL$' \
	'^pipeline\.logs\.cpu_per_item_vs_protobuf_c_unpack +0\.2 +0\.2 +\+0\.0% +PASS$' \
	'1 figure\(s\) more than 25% worse'

# 26% worse, lower is better: 0.2 -> 0.252
printf 'codec.logs.decode_vs_protobuf_c higher 12\npipeline.logs.cpu_per_item_vs_protobuf_c_unpack lower 0.252\n' >"$tmp/l26"
expect "26% worse (lower)" 1 "$tmp/l26" \
	'^codec\.logs\.decode_vs_protobuf_c +12 +10 +\+20\.0% +PASS$' \
	'^pipeline\.logs\.cpu_per_item_vs_protobuf_c_unpack +0\.252 +0\.2 +-26\.0% +FAIL$'

# a baseline figure not measured fails; a new one passes as NEW
printf 'codec.logs.decode_vs_protobuf_c higher 10\ncodec.logs.encode_vs_protobuf_c higher 3\n' >"$tmp/miss"
expect "missing and new" 1 "$tmp/miss" \
	'^codec\.logs\.encode_vs_protobuf_c +3 +- +- +NEW$' \
	'^pipeline\.logs\.cpu_per_item_vs_protobuf_c_unpack +- +0\.2 +- +FAIL \(not measured\)$'

# BENCH_TOLERANCE: 24% worse fails at 20
BENCH_TOLERANCE=20 sh "$CMP" "$tmp/doc.md" "$tmp/c24" >"$tmp/out" 2>&1
[ $? = 1 ] && grep -q '2 figure(s) more than 20% worse' "$tmp/out" && pass=$((pass + 1)) ||
	bad "BENCH_TOLERANCE=20: $(cat "$tmp/out")"

# no baseline block and no figures: a usage error, not a pass
printf '# nothing here\n' >"$tmp/empty.md"
sh "$CMP" "$tmp/empty.md" "$tmp/c24" >"$tmp/out" 2>&1
[ $? = 2 ] && grep -q 'no baseline figures' "$tmp/out" && pass=$((pass + 1)) ||
	bad "empty baseline: $(cat "$tmp/out")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
