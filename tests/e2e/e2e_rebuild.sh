#!/usr/bin/env bash
# CFG for nodes that cannot change their config in place: they are rebuilt
# (a new instance takes over, the old one drains beside it), on two workers,
# under load from two clients whose every request carries one record with
# its own id (rebuild_load.py; the receiver answers once the exporter has
# the record):
#  1. the otlp receiver's endpoint moves to a new port (POST, 200 applied on
#     both workers): the old port is closed afterwards, the new one serves,
#     and every record answered 200 is in the file exactly once;
#  2. a change to a port already taken is refused with 500 naming the
#     error, and the receiver keeps serving on its port;
#  3. SIGHUP with the file exporter's path changed: that node alone is
#     rebuilt; records answered after it are in the new file, before it in
#     the old one, each exactly once over both;
#  4. the otlp exporter's endpoint moves from backend B1 to backend B2
#     (two other otflow processes) under load: every record answered 200
#     reached B1 or B2 exactly once, and each backend got some;
#  5. the sending queue survives the rebuild: with the receiver answering
#     at once and the otlp exporter's backend down, records wait in the
#     queue (retrying); the endpoint moved to a live backend B3, every one
#     of them reaches B3, exactly once.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export OTF_E2E_ADMIN_PORT OTF_E2E_BACKEND OTF_E2E_EXPORTER
OTF_E2E_ADMIN_PORT=$(free_port)
OTF_E2E_BACKEND=$(free_port) # unused until part 4
OTF_E2E_EXPORTER=file
A="http://127.0.0.1:$OTF_E2E_ADMIN_PORT"
C="$TMP/rebuild.yaml"
cp "$E2E_DIR/rebuild.yaml" "$C"
cfg() { # NODE JSON -> "status body"
	curl -s -m 15 -o "$TMP/r" -w '%{http_code}' -XPOST -H "Content-Type: application/json" \
		--data-binary "$2" "$A/api/v1/nodes/$1/config" > "$TMP/code"
	printf '%s %s' "$(cat "$TMP/code")" "$(cat "$TMP/r")"
}
# ok200 PORT: requests answered 200 on PORT so far.
ok200() { awk -v p="$1" '$2 == p && $3 == 200' "$TMP/load.log" 2>/dev/null | wc -l; }
# more PORT N: waits (20 s) until N more requests were answered 200 on PORT.
more() {
	local want=$(($(ok200 "$1") + $2)) i
	for i in $(seq 400); do
		[ "$(ok200 "$1")" -ge "$want" ] && return 0
		sleep 0.05
	done
	bad "only $(ok200 "$1") requests answered 200 on port $1 (wanted $want)"
	return 1
}
wait_log() { # TEXT: waits (10 s) for TEXT in the log
	local i
	for i in $(seq 200); do
		grep -qF -- "$1" "$OTF_LOG" && return 0
		sleep 0.05
	done
	return 1
}
load_start() { # PORT
	rm -f "$TMP/stop"
	echo "$1" > "$TMP/port"
	python3 "$E2E_DIR/rebuild_load.py" "$TMP/port" "$TMP/load.log" "$TMP/stop" 2 &
	LOAD=$!
	track "$LOAD"
}
load_stop() {
	touch "$TMP/stop"
	wait_pid "$LOAD" 30 || bad "the load did not end"
}

# ---- 1-3: receiver endpoint, a refused change, SIGHUP on the file exporter ----
otf_start rebuild "$C" || { bad "otflow did not start"; finish; }
P1=$OTF_PORT
load_start "$P1"
more "$P1" 30

P2=$(free_port)
got=$(cfg receiver:otlp "{\"wait_for_result\": true, \"protocols\": {\"http\": {\"endpoint\": \"127.0.0.1:$P2\"}}}")
expect_eq "receiver endpoint to a new port: 200, rebuilt on both workers" \
	'200 {"id":"receiver:otlp","applied":true,"workers":2}' "$got"
echo "$P2" > "$TMP/port"
more "$P2" 30 && ok "the new port serves"
closed=no
for _ in $(seq 100); do
	curl -s -m 2 -o /dev/null "http://127.0.0.1:$P1/v1/logs"
	[ $? = 7 ] && closed=yes && break
	sleep 0.05
done
expect_eq "the old port is closed (connection refused)" yes "$closed"

got=$(cfg receiver:otlp "{\"wait_for_result\": true, \"protocols\": {\"http\": {\"endpoint\": \"127.0.0.1:$OTF_E2E_ADMIN_PORT\"}}}")
case "$got" in
"500 "*"new instance failed to start"*"old instance keeps running"*) ok "a port already taken: 500 naming why" ;;
*) bad "a port already taken: $got" ;;
esac
more "$P2" 20 && ok "the receiver still serves on its port after the refused change"

sed -i "s|path: \"\${env:OTF_E2E_OUT}\"|path: \"$TMP/second.jsonl\"|" "$C"
sed -i "s|127.0.0.1:\${env:OTF_E2E_PORT}|127.0.0.1:$P2|" "$C"
grep -q second.jsonl "$C" || bad "the file exporter's path did not change in $C"
N1=$(wc -l < "$TMP/load.log")
kill -HUP "$OTF_PID"
wait_log "reload: 1 node(s) changed: exporter:file" &&
	ok "SIGHUP: the file exporter alone is rebuilt" ||
	bad "no reload line: $(grep reload "$OTF_LOG")"
N2=$(wc -l < "$TMP/load.log")
more "$P2" 30
load_stop
otf_alive && ok "still running" || bad "otflow died"
otf_stop
verdict=$(python3 "$E2E_DIR/rebuild_load.py" check "$TMP/load.log" "$OTF_OUT" "$TMP/second.jsonl")
expect_eq "every record answered 200 is out exactly once (port change, refused change, reload)" \
	ok "$(sed -n 1p <<< "$verdict")"
echo "sent, answered 200, out; 200s per port: $(sed -n 2p <<< "$verdict")"
# Requests answered before the SIGHUP are in the first file, those sent
# after its log line in the second.
first=$(python3 - "$TMP/load.log" "$OTF_OUT" "$TMP/second.jsonl" "$N1" "$N2" <<'EOF'
import json, sys
log, a, b, n1, n2 = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
def ids(p):
    s = set()
    for line in open(p):
        for rl in json.loads(line).get("resourceLogs", []):
            for sl in rl.get("scopeLogs", []):
                for r in sl.get("logRecords", []):
                    s.add(int(r["body"]["stringValue"].split("-")[1]))
    return s
A, B = ids(a), ids(b)
lines = [l.split() for l in open(log)]
before = [int(x[0]) for x in lines[:n1] if x[2] == "200"]
after = [int(x[0]) for x in lines[n2 + 4:] if x[2] == "200"]
errs = [n for n in before if n not in A] + [n for n in after if n not in B]
print("ok" if before and after and not errs else "misplaced: %s (before %d, after %d)" % (errs[:5], len(before), len(after)))
EOF
)
expect_eq "before the reload in the first file, after it in the second" ok "$first"

# ---- 4: the otlp exporter's endpoint moves from B1 to B2 under load ----
backend() { # NAME -> starts an otflow sink, sets BPID BPORT
	local hp i code
	BPORT=$(free_port)
	hp=$(free_port)
	OTF_E2E_PORT=$BPORT OTF_E2E_HEALTH_PORT=$hp OTF_E2E_OUT="$TMP/$1.jsonl" \
		"$OTF_BIN" --config "$E2E_DIR/rebuild-backend.yaml" > "$TMP/$1.log" 2>&1 &
	BPID=$!
	track "$BPID"
	for i in $(seq 100); do
		code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$hp/")
		[ "$code" = 200 ] && return 0
		sleep 0.1
	done
	bad "backend $1 did not start: $(tail -5 "$TMP/$1.log")"
	return 1
}
backend b1 || finish
B1PID=$BPID
OTF_E2E_BACKEND=$BPORT
backend b2 || finish
B2PID=$BPID
B2PORT=$BPORT
OTF_E2E_EXPORTER=otlp
cp "$E2E_DIR/rebuild.yaml" "$C"
rm -f "$TMP/load.log"
otf_start exp "$C" || { bad "otflow (otlp exporter) did not start"; finish; }
load_start "$OTF_PORT"
more "$OTF_PORT" 40
got=$(cfg exporter:otlp "{\"endpoint\": \"127.0.0.1:$B2PORT\", \"tls\": {\"insecure\": true}}")
expect_eq "otlp exporter endpoint to B2 under load: 200 on both workers" \
	'200 {"id":"exporter:otlp","applied":true,"workers":2}' "$got"
more "$OTF_PORT" 40
load_stop
otf_stop
kill -TERM "$B1PID" "$B2PID"
wait_pid "$B1PID" 20 || bad "backend b1 did not exit 0"
wait_pid "$B2PID" 20 || bad "backend b2 did not exit 0"
verdict=$(python3 "$E2E_DIR/rebuild_load.py" check "$TMP/load.log" "$TMP/b1.jsonl" "$TMP/b2.jsonl")
expect_eq "every record answered 200 reached B1 or B2 exactly once" ok "$(sed -n 1p <<< "$verdict")"
echo "sent, answered 200, out: $(sed -n 2p <<< "$verdict")"
n1=$(python3 -c 'import sys,json; print(sum(1 for l in open(sys.argv[1]) for _ in [0]))' "$TMP/b1.jsonl" 2>/dev/null || echo 0)
n2=$(python3 -c 'import sys,json; print(sum(1 for l in open(sys.argv[1]) for _ in [0]))' "$TMP/b2.jsonl" 2>/dev/null || echo 0)
[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] && ok "both backends got data (B1 $n1, B2 $n2 lines)" ||
	bad "B1 $n1, B2 $n2 lines"
# ---- 5: what waits in the sending queue goes to the new endpoint ----
backend b3 || finish
B3PID=$BPID
B3PORT=$BPORT
OTF_E2E_BACKEND=$(free_port) # nothing listens there
sed -e 's/wait_for_result: true/wait_for_result: false/' \
	-e 's/tls: {insecure: true}/tls: {insecure: true}\n    retry_on_failure: {initial_interval: 100ms, max_interval: 200ms}/' \
	"$E2E_DIR/rebuild.yaml" > "$C"
grep -q 'initial_interval: 100ms' "$C" || bad "no retry settings in $C"
rm -f "$TMP/load.log"
otf_start queue "$C" || { bad "otflow (dead backend) did not start"; finish; }
load_start "$OTF_PORT"
more "$OTF_PORT" 40
load_stop
queued=$(ok200 "$OTF_PORT")
got=$(cfg exporter:otlp "{\"endpoint\": \"127.0.0.1:$B3PORT\", \"tls\": {\"insecure\": true}}")
expect_eq "otlp exporter endpoint from a dead backend to B3: 200" \
	'200 {"id":"exporter:otlp","applied":true,"workers":2}' "$got"
out3() { python3 "$E2E_DIR/rebuild_load.py" check "$TMP/load.log" "$TMP/b3.jsonl" | sed -n 2p | cut -d' ' -f3; }
for _ in $(seq 200); do [ "$(out3)" -ge "$queued" ] 2>/dev/null && break; sleep 0.1; done
otf_stop
kill -TERM "$B3PID"
wait_pid "$B3PID" 20 || bad "backend b3 did not exit 0"
verdict=$(python3 "$E2E_DIR/rebuild_load.py" check "$TMP/load.log" "$TMP/b3.jsonl")
expect_eq "every record queued for the dead backend ($queued answered 200) reached B3 exactly once" \
	ok "$(sed -n 1p <<< "$verdict")"
finish
