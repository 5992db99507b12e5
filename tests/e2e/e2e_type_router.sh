#!/usr/bin/env bash
# processor type_router with real otflow and curl: traces, metrics and logs
# posted to one OTLP receiver; each file exporter gets only the signal of
# the router port it is wired to (logs, with no port of their own, the
# default port's), content-equal to `otflow pdata convert` of the inputs.
# print-dag shows the router's ports and the port of each edge.
set -u
. "$(dirname "$0")/lib.sh"
EX="$OTF_SOURCE_DIR/examples/pdata"
CFG="$E2E_DIR/type-router.yaml"

export OTF_E2E_PORT=4318 OTF_E2E_HEALTH_PORT=13133 OTF_E2E_OUT="$TMP/unused-by-print-dag"
"$OTF_BIN" print-dag --config "$CFG" >"$TMP/dag.txt" 2>&1 || bad "print-dag: $(cat "$TMP/dag.txt")"
if grep -q "processor router (type type_router, ports default, traces, metrics, logs)" "$TMP/dag.txt" &&
	grep -q -- "-> file/traces \[traces,metrics,logs\] port traces$" "$TMP/dag.txt" &&
	grep -q -- "-> file/metrics \[traces,metrics,logs\] port metrics$" "$TMP/dag.txt" &&
	grep -q -- "-> file/default \[traces,metrics,logs\]$" "$TMP/dag.txt"; then
	ok "print-dag shows the router's ports and each edge's port"
else
	bad "print-dag: $(cat "$TMP/dag.txt")"
fi
"$OTF_BIN" print-dag --format dot --config "$CFG" >"$TMP/dag.dot" 2>&1 || bad "print-dag dot"
if grep -qF '"router" -> "file/traces" [label="traces: traces,metrics,logs"];' "$TMP/dag.dot" &&
	grep -qF '"router" -> "file/default" [label="traces,metrics,logs"];' "$TMP/dag.dot"; then
	ok "print-dag --format dot labels edges with their port"
else
	bad "print-dag dot: $(cat "$TMP/dag.dot")"
fi
unset OTF_E2E_PORT OTF_E2E_HEALTH_PORT OTF_E2E_OUT

for s in traces logs metrics; do
	"$OTF_BIN" pdata convert --signal $s --from json --to json "$EX/$s.json" -o "$TMP/expect-$s.json" ||
		bad "pdata convert $s"
done

if ! otf_start router "$CFG"; then
	bad "otflow did not start"
	finish
fi
for s in traces metrics logs; do
	code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "@$EX/$s.json" "$OTF_URL/v1/$s")
	expect_eq "POST $s" 200 "$code"
done
otf_stop

# file exporter -> the one input it must hold
for pair in traces:traces metrics:metrics default:logs; do
	f=${pair%%:*} s=${pair##*:}
	if timeout 60 node "$E2E_DIR/check.mjs" same "$OTF_OUT.$f" "$TMP/expect-$s.json" >"$TMP/c.txt" 2>&1; then
		ok "file/$f holds exactly the $s posted: $(cat "$TMP/c.txt")"
	else
		bad "file/$f is not exactly the $s posted:"
		head -20 "$TMP/c.txt"
	fi
done
finish
