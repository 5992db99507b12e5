#!/usr/bin/env bash
# Live rebuild of an exporter whose sending queue is persistent
# (sending_queue.storage: file_storage): the new instance takes the old
# one's queue, records on disk and all. OTLP/HTTP in (answered once the
# record is durable) -> otlp exporter (gRPC) on two workers, under load
# from two clients whose every request carries one record with its own id
# (rebuild_load.py); the sending queue answers once a record is durable
# (wait_for_result: false):
#  1. the endpoint moves from backend B1 to B2 under load: 200 on both
#     workers; every record answered 200 reached B1 or B2 exactly once;
#  2. the endpoint's backend is down, records wait in the persistent queue
#     (retrying); the endpoint moves to B3: every one of them reaches B3,
#     exactly once (before, the old instance's last attempt failed and the
#     records stayed on disk, sent by nobody until a restart);
#  3. afterwards the queue directory holds nothing pending: otflow started
#     again on it replays nothing and B3 gets nothing more;
#  4. a change of sending_queue.storage itself (another file_storage, or
#     none) is refused with 409 naming why (the records would stay behind
#     in the old directory); the exporter keeps sending.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ADMIN=$(free_port)
A="http://127.0.0.1:$ADMIN"
QDIR="$TMP/queue"
C="$TMP/front.yaml"
front_cfg() { # BACKEND_PORT
	cat > "$C" <<Y
receivers:
  otlp:
    wait_for_result: true
    protocols: {http: {endpoint: "127.0.0.1:\${env:OTF_E2E_PORT}"}}
exporters:
  otlp:
    endpoint: "127.0.0.1:$1"
    tls: {insecure: true}
    retry_on_failure: {initial_interval: 100ms, max_interval: 200ms}
    sending_queue: {storage: file_storage/q, wait_for_result: false}
extensions:
  health_check: {endpoint: "127.0.0.1:\${env:OTF_E2E_HEALTH_PORT}"}
  file_storage/q: {directory: "$QDIR", create_directory: true}
  file_storage/other: {directory: "$TMP/other", create_directory: true}
service:
  extensions: [health_check, file_storage/q, file_storage/other]
  admin: {endpoint: "127.0.0.1:$ADMIN"}
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], exporters: [otlp]}
runtime: {workers: 2}
Y
}
cfg() { # JSON -> "status body"
	curl -s -m 15 -o "$TMP/r" -w '%{http_code}' -XPOST -H "Content-Type: application/json" \
		--data-binary "$1" "$A/api/v1/nodes/exporter:otlp/config" > "$TMP/code"
	printf '%s %s' "$(cat "$TMP/code")" "$(sed 's|\\/|/|g' "$TMP/r")"
}
endpoint() { # PORT [SENDING_QUEUE_JSON] -> the exporter's config as JSON
	local q='{"storage": "file_storage/q", "wait_for_result": false}'
	[ $# -gt 1 ] && q=$2
	printf '{"endpoint": "127.0.0.1:%s", "tls": {"insecure": true}, "retry_on_failure": {"initial_interval": "100ms", "max_interval": "200ms"}, "sending_queue": %s}' \
		"$1" "$q"
}
ok200() { awk '$3 == 200' "$TMP/load.log" 2>/dev/null | wc -l; }
more() { # N: waits (20 s) until N more requests were answered 200
	local want=$(($(ok200) + $1)) i
	for i in $(seq 400); do
		[ "$(ok200)" -ge "$want" ] && return 0
		sleep 0.05
	done
	bad "only $(ok200) requests answered 200 (wanted $want)"
	return 1
}
load_start() {
	rm -f "$TMP/stop" "$TMP/load.log"
	echo "$OTF_PORT" > "$TMP/port"
	python3 "$E2E_DIR/rebuild_load.py" "$TMP/port" "$TMP/load.log" "$TMP/stop" 2 &
	LOAD=$!
	track "$LOAD"
}
load_stop() {
	touch "$TMP/stop"
	wait_pid "$LOAD" 30 || bad "the load did not end"
}
backend() { # NAME -> starts an otflow sink (gRPC in, file out), sets BPID BPORT
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
outn() { # FILES... -> records out over them
	python3 "$E2E_DIR/rebuild_load.py" check "$TMP/load.log" "$@" | sed -n 2p | cut -d' ' -f3
}

# ---- 1: B1 -> B2 under load ----
backend b1 || finish
B1PID=$BPID
B1PORT=$BPORT
backend b2 || finish
B2PID=$BPID
B2PORT=$BPORT
front_cfg "$B1PORT"
otf_start front "$C" || { bad "otflow did not start"; finish; }
load_start
more 40
got=$(cfg "$(endpoint "$B2PORT")")
expect_eq "endpoint B1 -> B2 under load, same storage: 200 on both workers" \
	'200 {"id":"exporter:otlp","applied":true,"workers":2}' "$got"
more 40
load_stop
good=$(ok200)
for _ in $(seq 200); do [ "$(outn "$TMP/b1.jsonl" "$TMP/b2.jsonl")" -ge "$good" ] 2>/dev/null && break; sleep 0.1; done
verdict=$(python3 "$E2E_DIR/rebuild_load.py" check "$TMP/load.log" "$TMP/b1.jsonl" "$TMP/b2.jsonl")
expect_eq "every record answered 200 reached B1 or B2 exactly once" ok "$(sed -n 1p <<< "$verdict")"
echo "  sent, answered 200, out: $(sed -n 2p <<< "$verdict")"
[ -s "$TMP/b1.jsonl" ] && [ -s "$TMP/b2.jsonl" ] && ok "both backends got records" ||
	bad "B1 or B2 got nothing"
otf_stop

# ---- 2: a dead backend's queue moves to B3 ----
backend b3 || finish
B3PID=$BPID
B3PORT=$BPORT
front_cfg "$(free_port)" # nothing listens there
otf_start front2 "$C" || { bad "otflow (dead backend) did not start"; finish; }
load_start
more 40
load_stop
queued=$(ok200)
grep -q "Will retry" "$OTF_LOG" && ok "the records wait in the persistent queue, retrying" ||
	bad "no retry in the log"
got=$(cfg "$(endpoint "$B3PORT")")
expect_eq "endpoint from a dead backend to B3: 200" \
	'200 {"id":"exporter:otlp","applied":true,"workers":2}' "$got"
for _ in $(seq 200); do [ "$(outn "$TMP/b3.jsonl")" -ge "$queued" ] 2>/dev/null && break; sleep 0.1; done
verdict=$(python3 "$E2E_DIR/rebuild_load.py" check "$TMP/load.log" "$TMP/b3.jsonl")
expect_eq "every record queued for the dead backend ($queued answered 200) reached B3 exactly once" \
	ok "$(sed -n 1p <<< "$verdict")"

# ---- 4: a change of the storage is refused ----
got=$(cfg "$(endpoint "$B3PORT" '{"storage": "file_storage/other"}')")
case "$got" in
"409 "*"sending_queue.storage cannot change from 'file_storage/q' to 'file_storage/other'"*)
	ok "storage q -> other: 409 naming why" ;;
*) bad "storage q -> other: $got" ;;
esac
got=$(cfg "$(endpoint "$B3PORT" '{"enabled": true}')")
case "$got" in
"409 "*"sending_queue.storage cannot change from 'file_storage/q' to '(none)'"*)
	ok "storage q -> none: 409 naming why" ;;
*) bad "storage q -> none: $got" ;;
esac
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
	--data '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"r-999999"}}]}]}]}' \
	"$OTF_URL/v1/logs")
expect_eq "the exporter still takes data after the refused changes" 200 "$code"
echo "999999 $OTF_PORT 200" >> "$TMP/load.log"
for _ in $(seq 100); do grep -q r-999999 "$TMP/b3.jsonl" 2>/dev/null && break; sleep 0.1; done
grep -q r-999999 "$TMP/b3.jsonl" && ok "... and sends it to B3" || bad "r-999999 not at B3"
otf_stop

# ---- 3: nothing pending is left in the queue directory ----
before=$(outn "$TMP/b3.jsonl")
front_cfg "$B3PORT"
otf_start front3 "$C" || { bad "otflow (restart on the queue) did not start"; finish; }
# A replay is logged at create, before the health check answers.
grep -q "from the previous run" "$OTF_LOG" && bad "records replayed: $(grep 'previous run' "$OTF_LOG")" ||
	ok "restarted on the queue directory: nothing replayed"
expect_eq "B3 got nothing more" "$before" "$(outn "$TMP/b3.jsonl")"
otf_stop
kill -TERM "$B1PID" "$B2PID" "$B3PID"
wait_pid "$B1PID" 20 || bad "backend b1 did not exit 0"
wait_pid "$B2PID" 20 || bad "backend b2 did not exit 0"
wait_pid "$B3PID" 20 || bad "backend b3 did not exit 0"
finish
