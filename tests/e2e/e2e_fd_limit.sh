#!/usr/bin/env bash
# File-descriptor exhaustion: otflow runs under an open-file limit of 256
# (hard and soft, so it cannot raise it) with the default caps of 4096
# connections per receiver and worker, and 400 idle connections arrive.
# otflow must size its connection cap from the limit: connections past it
# are closed (the ones idle the longest), otflow does not spin (its CPU
# time over an interval stays low), a well-behaved client is served while
# the idle connections are held and after they are gone (its trace id
# reaches the file exporter), the limit is logged once, and SIGTERM exits 0.
set -u
. "$(dirname "$0")/lib.sh"

NOFILE=256
IDLE=400
REAL_BIN=$OTF_BIN
cat >"$TMP/otflow-limited" <<W
#!/bin/sh
exec prlimit --nofile=$NOFILE:$NOFILE "$REAL_BIN" "\$@"
W
chmod +x "$TMP/otflow-limited"
OTF_BIN="$TMP/otflow-limited"

# post TRACE_ID: one OTLP/JSON trace; prints the HTTP status.
post() {
	printf '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"%s","spanId":"eee19b7ec3c1b174","name":"fd","kind":1,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000500000000"}]}]}]}' "$1" |
		curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
			--data-binary @- "$OTF_URL/v1/traces"
}
# delivered TRACE_ID: waits (10s at most) for it in the file output.
delivered() {
	local i
	for i in $(seq 1 100); do
		grep -q "$1" "$OTF_OUT" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
cpu_ticks() { # utime + stime of PID, in clock ticks (proc(5))
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

if ! otf_start fd; then
	bad "otflow did not start under prlimit --nofile=$NOFILE"
	finish
fi
expect_eq "otflow runs with the open-file limit" "$NOFILE" \
	"$(awk '/Max open files/ { print $4 }' "/proc/$OTF_PID/limits")"

python3 "$E2E_DIR/idle_conns.py" 127.0.0.1 "$OTF_PORT" $IDLE "$TMP/idle.status" "$TMP/idle.stop" &
ATTACK=$!
track $ATTACK
# Await the server's verdict: every connection either kept or closed, and
# at most what the limit allows kept (the rest closed by otflow).
status="" open=0 closed=0
for i in $(seq 1 150); do
	status=$(cat "$TMP/idle.status" 2>/dev/null)
	open=$(echo "$status" | sed -n 's/.*open=\([0-9]*\).*/\1/p')
	closed=$(echo "$status" | sed -n 's/.*closed=\([0-9]*\).*/\1/p')
	[ -n "$open" ] && [ $((open + closed)) -ge $IDLE ] && [ "$open" -lt $NOFILE ] && break
	sleep 0.1
done
if [ -n "$open" ] && [ "$open" -lt $((NOFILE - 64)) ] && [ $((open + closed)) -ge $IDLE ]; then
	ok "idle connections past the cap are closed by otflow ($status)"
else
	bad "idle connections: want fewer than $((NOFILE - 64)) kept and the rest closed, got '$status'"
fi

# No spinning: over 2 s of holding the idle connections otflow uses well
# under 0.5 s of CPU (a spinning accept loop burns 2 s per worker).
hz=$(getconf CLK_TCK)
t0=$(cpu_ticks "$OTF_PID")
sleep 2 # the measured interval
t1=$(cpu_ticks "$OTF_PID")
if [ $((t1 - t0)) -lt $((hz / 2)) ]; then
	ok "otflow idle while connections are held: $((t1 - t0)) ticks of CPU in 2 s"
else
	bad "otflow burns CPU while connections are held: $((t1 - t0)) ticks (CLK_TCK $hz) in 2 s"
fi

expect_eq "a client is served while the idle connections are held" 200 \
	"$(post 0af7651916cd43dd8448eb211c80319c)"
delivered 0af7651916cd43dd8448eb211c80319c && ok "its trace reached the file exporter" ||
	bad "trace 0af7651916cd43dd8448eb211c80319c not in the file output"

touch "$TMP/idle.stop"
wait_pid $ATTACK 20
expect_eq "a client is served after the idle connections are gone" 200 \
	"$(post 4bf92f3577b34da6a3ce929d0e0e4736)"
delivered 4bf92f3577b34da6a3ce929d0e0e4736 && ok "its trace reached the file exporter" ||
	bad "trace 4bf92f3577b34da6a3ce929d0e0e4736 not in the file output"

expect_eq "the connection limit is logged once" 1 "$(grep -c 'reached its connection limit' "$OTF_LOG")"
otf_stop
finish
