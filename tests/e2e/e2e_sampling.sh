#!/usr/bin/env bash
# processors tail_sampling and probabilistic_sampler in a real otflow:
# OTLP/HTTP JSON in, file exporters out.
# - tail_sampling (decision_wait 2s): a trace with an ERROR span (its
#   spans in two requests) and a 700 ms trace are kept whole, a fast OK
#   trace is dropped; late spans follow the decision (the ERROR trace's
#   are forwarded, the dropped trace's are not).
# - probabilistic_sampler on the same traces: the spans kept and their
#   tracestate as the Collector's hash_seed algorithm (recomputed in Python).
# - probabilistic_sampler (hash_seed 50%): of the Collector's
#   TestLogsSampling records exactly the 45 the Collector keeps, the same
#   set as the FNV algorithm recomputed in Python, each carrying
#   sampling.threshold 8 and its sampling.randomness.
# - policies that do not load are config errors with file:line.
set -u
. "$(dirname "$0")/lib.sh"
PY="$E2E_DIR/sampling_check.py"
CFG="$E2E_DIR/sampling.yaml"

python3 "$PY" make-traces "$TMP"
python3 "$PY" make-logs "$TMP/logs.json"

# await_eq WHAT WANT CMD...: polls CMD (up to 10 s) until it prints WANT.
await_eq() {
	local what=$1 want=$2 got i=0
	shift 2
	while :; do
		got=$("$@")
		[ "$got" = "$want" ] && break
		[ $i -ge 100 ] && break
		sleep 0.1
		i=$((i + 1))
	done
	expect_eq "$what" "$want" "$got"
}

post() {
	curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "@$2" "$OTF_URL/v1/$1"
}

OTF_E2E_PROM=$(free_port)
export OTF_E2E_PROM
if ! otf_start sampling "$CFG"; then
	bad "otflow did not start"
	finish
fi
for r in r1 r2 r3; do
	expect_eq "POST traces $r (acked once held)" 200 "$(post traces "$TMP/$r.json")"
done
A=$(printf 'aa%.0s' $(seq 16)) B=$(printf 'bb%.0s' $(seq 16)) C=$(printf 'cc%.0s' $(seq 16))
want="$A:a1a1a1a1a1a1a1a1 $A:a2a2a2a2a2a2a2a2 $B:b1b1b1b1b1b1b1b1 $B:b2b2b2b2b2b2b2b2"
await_eq "error trace and slow trace kept whole, fast trace dropped" "$want" \
	python3 "$PY" spans "$OTF_OUT.traces"

expect_eq "span a1 comes out as it went in (resource, scope, name, status, times, attributes)" \
	"shop e2e GET /cart 0 1700000000000000000 1700000000005000000 step=one" \
	"$(python3 "$PY" span "$OTF_OUT.traces" a1a1a1a1a1a1a1a1)"
expect_eq "span a2 comes out as it went in" \
	"shop e2e SELECT 2 1700000000001000000 1700000000002000000 " \
	"$(python3 "$PY" span "$OTF_OUT.traces" a2a2a2a2a2a2a2a2)"
want_ps=$(python3 "$PY" expect-ps "$TMP")
await_eq "probabilistic_sampler keeps the spans the Collector keeps, with ot=rv:..;th:8" \
	"$want_ps" python3 "$PY" ps-spans "$OTF_OUT.ps"
case "$want_ps" in
*"$(printf '12%.0s' $(seq 16))"*) bad "the test's trace 1212.. should be one that 50% drops" ;;
"") bad "no span of the test is kept at 50%: the check above says nothing" ;;
*) ok "the 50% sampler drops trace 1212.. and keeps the others" ;;
esac

expect_eq "POST late spans" 200 "$(post traces "$TMP/late.json")"
want=$(echo "$want $A:a3a3a3a3a3a3a3a3" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')
await_eq "late span of the kept trace forwarded, of the dropped one not" \
	"$want" python3 "$PY" spans "$OTF_OUT.traces"
if grep -q "$C" "$OTF_OUT.traces"; then bad "a span of the dropped trace came out"; else ok "no span of the dropped trace"; fi

expect_eq "POST logs" 200 "$(post logs "$TMP/logs.json")"
want_logs=$(python3 "$PY" expect-logs)
got_idx() { python3 "$PY" logs "$OTF_OUT.logs" | awk '{print $1}' | sort -n | tr '\n' ' ' | sed 's/ $//'; }
await_eq "probabilistic_sampler keeps the Collector's 45 records" "$want_logs" got_idx
bad_attrs=$(python3 "$PY" logs "$OTF_OUT.logs" | awk '$3 != "8" || length($4) != 14' | head -3)
expect_eq "every kept record has sampling.threshold 8 and a 14-digit sampling.randomness" "" "$bad_attrs"
# Counters (Prometheus pull reader): decisions, late spans, items kept and
# dropped, and the traces the num_traces: 2 instance forgets undecided
# (r1 brings 3 new traces, r2 2, the late request 1: 4 forgotten, whose
# spans a1, c1, d1 and a2 + a3 are 5 dropped spans).
metric() { # NAME PROCESSOR
	awk -v n="$1" -v p="processor=\"$2\"" '$1 == n "{" p "}" {print $2}' "$TMP/metrics.txt"
}
curl -s -m 10 "http://127.0.0.1:$OTF_E2E_PROM/metrics" >"$TMP/metrics.txt"
TS=otelcol_processor_tail_sampling PS=otelcol_processor_probabilistic_sampler
for c in "$TS""_global_count_traces_sampled tail_sampling@traces 2" \
	"$TS""_global_count_traces_not_sampled tail_sampling@traces 2" \
	"$TS""_new_trace_id_received tail_sampling@traces 4" \
	"$TS""_late_spans_kept tail_sampling@traces 1" \
	"$TS""_late_spans_dropped tail_sampling@traces 1" \
	"$TS""_sampling_trace_dropped_too_early tail_sampling/small@traces/small 4" \
	"otelcol_processor_dropped_spans tail_sampling/small@traces/small 5" \
	"$PS""_count_traces_sampled probabilistic_sampler@traces/ps 7" \
	"$PS""_count_traces_not_sampled probabilistic_sampler@traces/ps 1" \
	"$PS""_count_logs_sampled probabilistic_sampler@logs 45" \
	"$PS""_count_logs_not_sampled probabilistic_sampler@logs 55"; do
	set -- $c
	expect_eq "$1{processor=$2}" "$3" "$(metric "$1" "$2")"
done
otf_stop

# Config errors: file:line and what is wrong.
cat >"$TMP/bad-type.yaml" <<'Y'
receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}}}
processors:
  tail_sampling:
    policies:
      - {name: p1, type: latencyy}
exporters: {nop: {}}
service: {pipelines: {traces: {receivers: [otlp], processors: [tail_sampling], exporters: [nop]}}}
Y
sed 's/{name: p1, type: latencyy}/{name: p1, type: string_attribute, string_attribute: {key: k, values: ["a("], enabled_regex_matching: true}}/' \
	"$TMP/bad-type.yaml" >"$TMP/bad-regex.yaml"
sed 's/{name: p1, type: latencyy}/{name: p1, type: ottl_condition, ottl_condition: {span: ["attributes[\\"x\\"] == "]}}/' \
	"$TMP/bad-type.yaml" >"$TMP/bad-ottl.yaml"
for c in "bad-type:5:.*unknown or unsupported policy type \"latencyy\"" \
	"bad-regex:5:.*regex \"a\\(\" does not compile" \
	"bad-ottl:5:.*span condition 0, column"; do
	f=${c%%:*} rest=${c#*:} line=${rest%%:*} pat=${rest#*:}
	if "$OTF_BIN" validate --config "$TMP/$f.yaml" >"$TMP/$f.out" 2>&1; then
		bad "$f: validate accepted it"
	elif grep -Eq "$f.yaml:$line:[0-9]+: .*$pat" "$TMP/$f.out"; then
		ok "$f refused: $(grep -E "$f.yaml" "$TMP/$f.out" | head -1)"
	else
		bad "$f: unexpected message: $(cat "$TMP/$f.out")"
	fi
done
finish
