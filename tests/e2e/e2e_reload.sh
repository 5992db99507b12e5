#!/usr/bin/env bash
# SIGHUP reloads the config file while two clients send logs through a
# filter on two workers:
# - the filter rule changes (drop "a" -> drop "b"): only that node is
#   reconfigured (the log names it alone), every request sent after the
#   reload follows the new rule, every one answered before it the old;
# - the traces pipeline's batch, unchanged, keeps the span it holds across
#   the reload (its client is answered 200 once the batch timeout passes,
#   and the span is in the output);
# - a broken file (YAML syntax) and an unknown key are each refused with a
#   log line naming file:line, and the running config stays (requests
#   after them still follow the rule in force); a change of the DAG's
#   shape is applied live (e2e_reload_shape.sh);
# - nothing is lost: accepted = sent + filtered; the process exits 0.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export OTF_E2E_ADMIN_PORT
OTF_E2E_ADMIN_PORT=$(free_port)
C="$TMP/reload.yaml"
sed 's/batch: {timeout: 20ms}/batch: {timeout: 1500ms}/' "$E2E_DIR/cfg.yaml" > "$C"
grep -q 'timeout: 1500ms' "$C" || { bad "cfg.yaml has no batch timeout to change"; finish; }
otf_start reload "$C" || { bad "otflow did not start"; finish; }
mono() { python3 -c 'import time; print(time.monotonic_ns())'; }
answered() { cat "$TMP/load.log" 2>/dev/null | wc -l; }
answered_after() { awk -v t="$1" '$2 > t' "$TMP/load.log" | wc -l; }
# wait_log N TEXT: waits (10 s) until the log has N lines with TEXT.
wait_log() {
	local i
	for i in $(seq 200); do
		[ "$(grep -cF -- "$2" "$OTF_LOG")" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
# more_after NS: waits until 20 requests sent after NS were answered.
more_after() {
	local i
	for i in $(seq 200); do
		[ "$(answered_after "$1")" -ge 20 ] && return 0
		sleep 0.05
	done
	bad "only $(answered_after "$1") requests answered after the reload"
}

python3 "$E2E_DIR/cfg_load.py" "$OTF_PORT" "$TMP/load.log" "$TMP/stop" 2 &
LOAD=$!
track "$LOAD"
for _ in $(seq 200); do [ "$(answered)" -ge 30 ] && break; sleep 0.05; done

# A span the batch holds for 1.5 s while the reload happens.
span='{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"held-across-reload","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}'
curl -s -m 20 -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
	--data "$span" "$OTF_URL/v1/traces" > "$TMP/span.code" &
SPAN=$!
track "$SPAN"
sleep 0.2 # the span reaches the batch (it then waits 1.5 s for its timeout)

sed -i 's/log.attributes\["k"\] == "a"/log.attributes["k"] == "b"/' "$C"
T0=$(mono)
kill -HUP "$OTF_PID"
wait_log 1 "reload: 1 node(s) changed: processor:filter@logs" &&
	ok "SIGHUP: only the changed node is reconfigured (log names it alone)" ||
	bad "no reload line: $(grep reload "$OTF_LOG")"
T1=$(mono)
more_after "$T1"

cp "$C" "$TMP/good.yaml"
printf 'bad: [\n' >> "$C"
kill -HUP "$OTF_PID"
wait_log 1 "reload refused, the running configuration stays: $C:" &&
	ok "a broken file is refused naming file:line" || bad "broken file: $(tail -3 "$OTF_LOG")"
cp "$TMP/good.yaml" "$C"
sed -i 's/log_conditions: \[/log_condition: [/' "$C"
kill -HUP "$OTF_PID"
wait_log 2 "reload refused" && grep -q "reload refused.*reload.yaml:[0-9]*:[0-9]*: .*unknown key \"log_condition\"" "$OTF_LOG" &&
	ok "an unknown key is refused naming file:line:col and the key" ||
	bad "unknown key: $(tail -3 "$OTF_LOG")"
cp "$TMP/good.yaml" "$C"
T2=$(mono)
more_after "$T2"
otf_alive && ok "still running after two refused reloads" || bad "otflow died"

wait_pid "$SPAN" 20
expect_eq "the span held by the unchanged batch is answered 200" 200 "$(cat "$TMP/span.code")"
touch "$TMP/stop"
wait_pid "$LOAD" 20
counts=$(curl -s -m 5 "http://127.0.0.1:$OTF_E2E_ADMIN_PORT/api/v1/dag" | python3 -c '
import json, sys
n = {x["id"]: x["counters"] for x in json.load(sys.stdin)["nodes"]}
print(n["receiver:otlp"]["accepted"], n["exporter:file"]["sent"], n["processor:filter@logs"]["dropped"])')
read -r acc sent dropped <<< "$counts"
[ "$acc" -gt 0 ] && [ "$acc" = $((sent + dropped)) ] &&
	ok "nothing lost: accepted $acc = sent $sent + filtered $dropped" ||
	bad "counters: accepted $acc, sent $sent, dropped $dropped"
otf_stop
grep -q '"held-across-reload"' "$OTF_OUT" && ok "the held span is in the output" ||
	bad "the held span is missing"
verdict=$(python3 "$E2E_DIR/cfg_load.py" check "$TMP/load.log" "$OTF_OUT" "$T0" "$T1")
expect_eq "each request follows the rule in force (also after the refused reloads)" ok \
	"$(sed -n 1p <<< "$verdict")"
echo "requests before / after / during the reload: $(sed -n 2p <<< "$verdict")"
finish
