#!/usr/bin/env bash
# SIGHUP with a change of the DAG's shape, while a client sends logs
# continuously through the running pipeline (OTLP/HTTP, answered once the
# file exporter has the record, two workers):
# - a logs pipeline with a new file exporter is added on the same
#   receiver: the receiver keeps running (rewired), records sent after the
#   reload land in both files;
# - a pipeline with a new receiver on a new port is added: it listens,
#   and what it takes lands in its own file;
# - a broken file, and a new receiver on a port already in use, are
#   refused naming file:line; the running DAG stays and serves;
# - both added pipelines are removed: the second file gets what was
#   still pending (a 30 s flush interval: nothing was written before the
#   removal), is closed, and the removed receiver stops listening;
# - a batch processor is added to the running pipeline, then removed
#   (what it holds is flushed to the kept exporter);
# - GET /api/v1/dag and health_check show each shape; in the first pipeline's file every
#   answered record is exactly once (nothing lost or duplicated), and
#   every request was answered 200.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export OTF_E2E_ADMIN_PORT OTF_E2E_PORT2 OTF_E2E_PORT3
# The admin port is bound at start: otf_start chooses it afresh with the
# others on each attempt (OTF_START_PORT_VARS); ADMIN is set after it.
OTF_E2E_PORT2=$(free_port)
OTF_E2E_PORT3=$(free_port) # taken by another process before the reload that uses it
C="$TMP/shape.yaml"
B="$TMP/b.jsonl"
CF="$TMP/c.jsonl"

# cfg [b] [c] [taken] [batch]: the config with the optional pipelines
# (batch: a batch processor in the first one).
cfg() {
	local b=0 c=0 t=0 p=0 x
	for x in "$@"; do
		case $x in b) b=1 ;; c) c=1 ;; taken) t=1 ;; batch) p=1 ;; esac
	done
	{
		echo 'receivers:'
		echo '  otlp: {wait_for_result: true, protocols: {http: {endpoint: "127.0.0.1:${env:OTF_E2E_PORT}"}}}'
		[ $c = 1 ] && echo '  otlp/2: {wait_for_result: true, protocols: {http: {endpoint: "127.0.0.1:${env:OTF_E2E_PORT2}"}}}'
		[ $t = 1 ] && echo '  otlp/3: {protocols: {http: {endpoint: "127.0.0.1:${env:OTF_E2E_PORT3}"}}}'
		[ $p = 1 ] && printf 'processors:\n  batch: {timeout: 300ms}\n'
		echo 'exporters:'
		echo '  file/a: {path: "${env:OTF_E2E_OUT}", format: json, flush_interval: 50ms}'
		[ $b = 1 ] && echo "  file/b: {path: \"$B\", format: json, flush_interval: 30s}"
		[ $c = 1 ] && echo "  file/c: {path: \"$CF\", format: json, flush_interval: 50ms}"
		echo 'extensions:'
		echo '  health_check: {endpoint: "127.0.0.1:${env:OTF_E2E_HEALTH_PORT}", use_v2: true}'
		echo 'service:'
		echo '  extensions: [health_check]'
		echo '  admin: {endpoint: "127.0.0.1:${env:OTF_E2E_ADMIN_PORT}"}'
		echo '  telemetry: {metrics: {level: none}}'
		echo '  pipelines:'
		if [ $p = 1 ]; then
			echo '    logs/a: {receivers: [otlp], processors: [batch], exporters: [file/a]}'
		else
			echo '    logs/a: {receivers: [otlp], exporters: [file/a]}'
		fi
		[ $b = 1 ] && echo '    logs/b: {receivers: [otlp], exporters: [file/b]}'
		[ $c = 1 ] && echo '    logs/c: {receivers: [otlp/2], exporters: [file/c]}'
		[ $t = 1 ] && echo '    logs/t: {receivers: [otlp/3], exporters: [file/a]}'
		echo 'runtime: {workers: 2}'
	} > "$C"
}
mono() { python3 -c 'import time; print(time.monotonic_ns())'; }
# wait_log N TEXT: waits (30 s: a reload under ASan on a loaded machine)
# until the log has N lines with TEXT.
wait_log() {
	local end=$((SECONDS + 30))
	until [ "$(grep -cF -- "$2" "$OTF_LOG")" -ge "$1" ]; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.05
	done
}
answered_after() { awk -v t="$1" '$2 > t && $3 == 200' "$TMP/load.log" | wc -l; }
# more_after NS WHAT [N]: waits (30 s) until N (20) requests answered 200 after NS.
more_after() {
	local end=$((SECONDS + 30))
	until [ "$(answered_after "$1")" -ge "${3:-20}" ]; do
		if [ $SECONDS -ge $end ]; then
			bad "only $(answered_after "$1") requests answered after $2 (30 s)"
			return 1
		fi
		sleep 0.05
	done
}
# nodes: the node ids of GET /api/v1/dag, sorted, space-separated.
nodes() {
	curl -s -m 5 "$ADMIN/api/v1/dag" |
		python3 -c 'import json,sys; print(" ".join(sorted(n["id"] for n in json.load(sys.stdin)["nodes"])))'
}

cfg
OTF_START_PORT_VARS=OTF_E2E_ADMIN_PORT otf_start shape "$C" || { bad "otflow did not start"; finish; }
ADMIN="http://127.0.0.1:$OTF_E2E_ADMIN_PORT"
expect_eq "the DAG at start" "exporter:file/a receiver:otlp" "$(nodes)"
: > "$TMP/load.log"
: > "$TMP/load2.log"
python3 "$E2E_DIR/reshape_load.py" "$OTF_PORT" a "$TMP/load.log" "$TMP/stop" &
LOAD=$!
track "$LOAD"
more_after 0 "start" || finish

# 1. A pipeline added on the running receiver.
cfg b
kill -HUP "$OTF_PID"
wait_log 1 "reload: 2 node(s) changed" &&
	grep -q "reload: 2 node(s) changed: .*exporter:file/b added.*receiver:otlp rewired" "$OTF_LOG" &&
	ok "SIGHUP adds a pipeline: the exporter added, the receiver kept and rewired" ||
	bad "no reload line: $(grep reload "$OTF_LOG")"
T1=$(mono)
expect_eq "the DAG shows the added exporter" "exporter:file/a exporter:file/b receiver:otlp" "$(nodes)"
# health: the pipelines health_check reports, sorted.
health() {
	curl -s -m 5 "http://127.0.0.1:$OTF_HEALTH_PORT/?verbose" |
		python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["components"])))'
}
expect_eq "health_check reports the added pipeline" "pipeline:logs/a pipeline:logs/b" "$(health)"
more_after "$T1" "the pipeline was added"

# 2. A pipeline with a new receiver on a new port.
cfg b c
kill -HUP "$OTF_PID"
wait_log 1 "receiver:otlp/2 added" && ok "SIGHUP adds a receiver on a new port" ||
	bad "no reload line: $(grep reload "$OTF_LOG")"
expect_eq "the DAG shows the new receiver and its exporter" \
	"exporter:file/a exporter:file/b exporter:file/c receiver:otlp receiver:otlp/2" "$(nodes)"
python3 "$E2E_DIR/reshape_load.py" "$OTF_E2E_PORT2" c "$TMP/load2.log" "$TMP/stop2" &
LOAD2=$!
track "$LOAD2"
for _ in $(seq 200); do [ "$(grep -c ' 200$' "$TMP/load2.log" 2>/dev/null)" -ge 5 ] && break; sleep 0.05; done
touch "$TMP/stop2"
wait_pid "$LOAD2" 20
n2=$(grep -c ' 200$' "$TMP/load2.log")
for _ in $(seq 100); do
	[ "$(python3 "$E2E_DIR/reshape_load.py" count "$CF" c | wc -l)" -ge "$n2" ] && break
	sleep 0.05
done
got=$(python3 "$E2E_DIR/reshape_load.py" count "$CF" c | awk '$2 == 1' | wc -l)
[ "$n2" -ge 5 ] && [ "$got" = "$n2" ] &&
	ok "the new receiver's $n2 records are each once in its own file" ||
	bad "new receiver: $n2 answered, $got in its file ($(head -3 "$TMP/load2.log"))"
[ "$(python3 "$E2E_DIR/reshape_load.py" count "$OTF_OUT" c | wc -l)" = 0 ] &&
	ok "none of them in the first pipeline's file" || bad "the new receiver's records leak into file/a"

# 3. Refused: a broken file, and a new receiver on a port in use.
cp "$C" "$TMP/good.yaml"
printf 'bad: [\n' >> "$C"
kill -HUP "$OTF_PID"
wait_log 1 "reload refused, the running configuration stays: $C:" &&
	ok "a broken file is refused naming file:line" || bad "broken file: $(tail -3 "$OTF_LOG")"
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(60)' "$OTF_E2E_PORT3" &
HOLD=$!
track "$HOLD"
for _ in $(seq 100); do ss -ltn | grep -q ":$OTF_E2E_PORT3 " && break; sleep 0.05; done
cfg b c taken
kill -HUP "$OTF_PID"
wait_log 2 "reload refused" &&
	grep -q "reload refused, the running configuration stays: $C:[0-9]*.*receiver 'receiver:otlp/3' failed to start" "$OTF_LOG" &&
	ok "a new receiver on a port in use is refused naming file:line and the node" ||
	bad "port in use: $(grep -i refused "$OTF_LOG" | tail -2)"
kill "$HOLD"
expect_eq "after both refusals the DAG is unchanged" \
	"exporter:file/a exporter:file/b exporter:file/c receiver:otlp receiver:otlp/2" "$(nodes)"
T3=$(mono)
more_after "$T3" "the refused reloads"
otf_alive && ok "still running after the refused reloads" || bad "otflow died"

# 4. Both added pipelines removed.
# open_fd PATH: otflow has PATH open.
open_fd() {
	local f
	for f in "/proc/$OTF_PID/fd/"*; do
		[ "$(readlink "$f" 2>/dev/null)" = "$1" ] && return 0
	done
	return 1
}
[ ! -s "$B" ] && ok "nothing of file/b written before its removal (pending in its buffer)" ||
	echo "note: file/b already has $(wc -l < "$B") line(s) (its buffer filled)"
open_fd "$B" && ok "file/b is open while its pipeline runs" || bad "file/b is not open"
T4a=$(mono)
cfg
kill -HUP "$OTF_PID"
wait_log 1 "receiver:otlp/2 removed" &&
	grep -q "reload: 4 node(s) changed: .*exporter:file/b removed" "$OTF_LOG" &&
	ok "SIGHUP removes both pipelines" || bad "no reload line: $(grep reload "$OTF_LOG")"
T4=$(mono)
expect_eq "the DAG is the first one again" "exporter:file/a receiver:otlp" "$(nodes)"
expect_eq "health_check reports the first pipeline only" "pipeline:logs/a" "$(health)"
closed=0
for _ in $(seq 200); do
	if ! open_fd "$B" && ! open_fd "$CF"; then
		closed=1
		break
	fi
	sleep 0.05
done
[ $closed = 1 ] && ok "the removed exporters' files are closed" || bad "file/b or file/c still open"
refused=0
for _ in $(seq 200); do
	code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' -XPOST "http://127.0.0.1:$OTF_E2E_PORT2/v1/logs")
	[ "$code" = 000 ] && { refused=1; break; }
	sleep 0.05
done
[ $refused = 1 ] && ok "the removed receiver stops listening" || bad "port $OTF_E2E_PORT2 still answers"
more_after "$T4" "the pipelines were removed"
# Every record answered between the first reload and the removal is in
# file/b once (it was flushed on close); none sent after it.
inb=$(python3 "$E2E_DIR/reshape_load.py" count "$B" a)
want=$(awk -v a="$T1" -v b="$T4a" '$2 > a && $2 < b && $3 == 200 {print $1}' "$TMP/load.log")
missing=$(comm -23 <(sort <<< "$want") <(awk '{print $1}' <<< "$inb" | sort))
dups=$(awk '$2 != 1' <<< "$inb" | wc -l)
late=$(awk -v t="$T4" '$2 > t && $3 == 200 {print $1}' "$TMP/load.log" | sort |
	comm -12 - <(awk '{print $1}' <<< "$inb" | sort) | wc -l)
[ -n "$want" ] && [ -z "$missing" ] && [ "$dups" = 0 ] && [ "$late" = 0 ] &&
	ok "file/b has each of the $(wc -l <<< "$want") records answered while it ran, once, nothing after" ||
	bad "file/b: missing $(wc -w <<< "$missing") (e.g. $(head -c 60 <<< "$missing")), $dups duplicated, $late after its removal"


# 5. A processor added to the running pipeline, then removed: what it
# holds when removed is flushed to the kept exporter (checked below).
cfg batch
kill -HUP "$OTF_PID"
wait_log 1 "processor:batch@logs/a added" && ok "SIGHUP adds a processor to a pipeline" ||
	bad "no reload line: $(grep reload "$OTF_LOG" | tail -2)"
expect_eq "the DAG shows it" "exporter:file/a processor:batch@logs/a receiver:otlp" "$(nodes)"
T5=$(mono)
more_after "$T5" "the processor was added" 3 # each waits for the batch's 300 ms
# CFG reaches the added node on every worker (its id is past the
# ones the workers started with).
code=$(curl -s -m 10 -o "$TMP/cfg.out" -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
	--data '{"timeout": "100ms"}' "$ADMIN/api/v1/nodes/processor:batch@logs%2Fa/config")
[ "$code" = 200 ] && grep -q "processor:batch@logs/a: new config applied on 2 worker(s)" "$OTF_LOG" &&
	ok "POST config to the added processor: 200, applied on both workers" ||
	bad "CFG of the added node: $code $(head -c 200 "$TMP/cfg.out")"
cfg
kill -HUP "$OTF_PID"
wait_log 1 "processor:batch@logs/a removed" && ok "SIGHUP removes it again" ||
	bad "no reload line: $(grep reload "$OTF_LOG" | tail -2)"
T6=$(mono)
expect_eq "the DAG is the first one again" "exporter:file/a receiver:otlp" "$(nodes)"
more_after "$T6" "the processor was removed"

touch "$TMP/stop"
wait_pid "$LOAD" 20
otf_stop
total=$(wc -l < "$TMP/load.log")
ok200=$(awk '$3 == 200' "$TMP/load.log" | wc -l)
expect_eq "every request was answered 200 ($total)" "$total" "$ok200"
ina=$(python3 "$E2E_DIR/reshape_load.py" count "$OTF_OUT" a)
missing=$(comm -23 <(awk '$3 == 200 {print $1}' "$TMP/load.log" | sort) <(awk '{print $1}' <<< "$ina" | sort) | wc -l)
dups=$(awk '$2 != 1' <<< "$ina" | wc -l)
[ "$missing" = 0 ] && [ "$dups" = 0 ] &&
	ok "file/a has each of the $ok200 answered records exactly once through six reloads" ||
	bad "file/a: $missing missing, $dups duplicated"
finish
