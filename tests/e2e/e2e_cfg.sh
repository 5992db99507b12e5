#!/usr/bin/env bash
# CFG, live reconfiguration (POST /api/v1/nodes/{id}/config): a filter rule
# changed under load on two workers. Two keep-alive clients send requests
# of two records (k "a" and k "b"); the rule drops "a", then is changed to
# drop "b". Every request answered before the POST was sent follows the old
# rule, every request sent after the POST's 200 the new one (one record of
# each request out, never both, never none), and the counters add up:
# accepted = sent + dropped. Then the bad requests: unknown key and bad
# OTTL (400 with the schema's text), malformed JSON (400), text/plain
# (415), unknown node (404), a node whose type is rebuilt (200, the file
# exporter: the next records go to its new path),
# over 1 MiB (413), and a YAML body that works; the process stays up.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ADMIN=$(free_port)
export OTF_E2E_ADMIN_PORT=$ADMIN
otf_start cfg "$E2E_DIR/cfg.yaml" || { bad "otflow did not start"; finish; }
A="http://127.0.0.1:$ADMIN"
FILTER="processor:filter@logs"
cfg() { # CTYPE BODY NODE -> "status body"
	curl -s -m 10 -o "$TMP/r" -w '%{http_code} %{time_total}' -XPOST -H "Content-Type: $1" \
		--data-binary "$2" "$A/api/v1/nodes/$3/config" > "$TMP/code"
	printf '%s %s' "$(cut -d' ' -f1 "$TMP/code")" "$(cat "$TMP/r")"
}
mono() { python3 -c 'import time; print(time.monotonic_ns())'; }
answered() { cat "$TMP/load.log" 2>/dev/null | wc -l; }
# answered_after NS: requests sent after NS and answered.
answered_after() { awk -v t="$1" '$2 > t' "$TMP/load.log" | wc -l; }

python3 "$E2E_DIR/cfg_load.py" "$OTF_PORT" "$TMP/load.log" "$TMP/stop" 2 &
LOAD=$!
track "$LOAD"
for _ in $(seq 200); do [ "$(answered)" -ge 30 ] && break; sleep 0.05; done
[ "$(answered)" -ge 30 ] || bad "load: only $(answered) requests answered in 10 s"

T0=$(mono)
got=$(cfg application/json '{"log_conditions": ["log.attributes[\"k\"] == \"b\""]}' "$FILTER")
T1=$(mono)
echo "POST answered (applied on every worker) in $(cut -d' ' -f2 "$TMP/code") s under load"
expect_eq "POST a new filter rule: 200, applied on both workers" \
	'200 {"id":"processor:filter@logs","applied":true,"workers":2}' "$got"
for _ in $(seq 200); do [ "$(answered_after "$T1")" -ge 30 ] && break; sleep 0.05; done
[ "$(answered_after "$T1")" -ge 30 ] || bad "load after the change: $(answered_after "$T1") requests"
touch "$TMP/stop"
wait_pid "$LOAD" 20

# Bad requests, while the process runs.
got=$(cfg application/json '{"log_condition": []}' "$FILTER")
case "$got" in
"400 "*'unknown key \"log_condition\"'*) ok "unknown key: 400 naming it" ;;
*) bad "unknown key: $got" ;;
esac
got=$(cfg application/yaml 'log_conditions: ["log.nope == 1"]' "$FILTER")
case "$got" in
"400 "*"body:1:"*"unknown path 'log.nope'"*) ok "bad OTTL: 400 with the position and the error" ;;
*) bad "bad OTTL: $got" ;;
esac
got=$(cfg application/json '{"log_conditions": [' "$FILTER")
case "$got" in "400 "*"malformed JSON"*) ok "malformed JSON: 400" ;; *) bad "malformed JSON: $got" ;; esac
got=$(cfg application/json '["x"]' "$FILTER")
case "$got" in "400 "*"must be a JSON object"*) ok "a JSON array: 400" ;; *) bad "array: $got" ;; esac
expect_eq "text/plain: 415" 415 "$(cfg text/plain '{}' "$FILTER" | cut -d' ' -f1)"
expect_eq "unknown node: 404" 404 "$(cfg application/json '{}' nope | cut -d' ' -f1)"
got=$(cfg application/json "{\"path\": \"$TMP/other.jsonl\", \"format\": \"json\"}" exporter:file)
expect_eq "exporter file (rebuilt): 200 on both workers" \
	'200 {"id":"exporter:file","applied":true,"workers":2}' "$got"
head -c 1100000 /dev/zero | tr '\0' ' ' > "$TMP/big"
expect_eq "over 1 MiB: 413" 413 "$(curl -s -o /dev/null -w '%{http_code}' -XPOST \
	-H 'Content-Type: application/json' --data-binary @"$TMP/big" "$A/api/v1/nodes/$FILTER/config")"
got=$(cfg application/yaml $'timeout: 30ms\nsend_batch_size: 5' "processor:batch@traces")
expect_eq "a YAML body for batch: 200" 200 "${got%% *}"
otf_alive && ok "still running after the bad requests" || bad "otflow died"

counts=$(curl -s -m 5 "$A/api/v1/dag" | python3 -c '
import json, sys
n = {x["id"]: x["counters"] for x in json.load(sys.stdin)["nodes"]}
print(n["receiver:otlp"]["accepted"], n["exporter:file"]["sent"], n["processor:filter@logs"]["dropped"])')
read -r acc sent dropped <<< "$counts"
[ "$acc" -gt 0 ] && [ "$acc" = $((sent + dropped)) ] &&
	ok "nothing lost: accepted $acc = sent $sent + filtered $dropped" ||
	bad "counters: accepted $acc, sent $sent, dropped $dropped"
otf_stop

verdict=$(python3 "$E2E_DIR/cfg_load.py" check "$TMP/load.log" "$OTF_OUT" "$T0" "$T1")
expect_eq "every request follows the rule in force when it ran (one record out each)" ok \
	"$(sed -n 1p <<< "$verdict")"
echo "requests before / after / during the change: $(sed -n 2p <<< "$verdict")"
finish
