#!/usr/bin/env bash
# File-descriptor exhaustion: otflow runs under an open-file limit of 256
# (hard and soft, so it cannot raise it) with the default caps of 4096
# connections per receiver and worker, and 300 idle connections arrive on
# its OTLP/HTTP port and 200 on its OTLP/gRPC port. otflow must size its
# connection cap from the limit: connections past it are closed (the ones
# idle the longest), otflow does not spin (its CPU time over an interval
# stays low), well-behaved clients are served while the idle connections
# are held (curl over HTTP: its trace id reaches the file exporter; the JS
# SDK over gRPC: what it exported is in the file, field for field) and
# after they are gone, the limit is logged once, and SIGTERM exits 0.
set -u
. "$(dirname "$0")/lib.sh"

NOFILE=256
IDLE_HTTP=300
IDLE_GRPC=200
e2e_npm_ci || bad "npm ci"
GRPC_PORT=$(free_port)
export OTF_E2E_GRPC_PORT=$GRPC_PORT OTF_E2E_GRPC_OUT="$TMP/grpc.jsonl"
cat >"$TMP/fd.yaml" <<'Y'
receivers:
  otlp/http:
    protocols:
      http:
        endpoint: 127.0.0.1:${env:OTF_E2E_PORT}
  otlp/grpc:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${env:OTF_E2E_GRPC_PORT}
exporters:
  file/http:
    path: ${env:OTF_E2E_OUT}
    format: json
    flush_interval: 100ms
  file/grpc:
    path: ${env:OTF_E2E_GRPC_OUT}
    format: json
    flush_interval: 100ms
extensions:
  health_check:
    endpoint: 127.0.0.1:${env:OTF_E2E_HEALTH_PORT}
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces/http:
      receivers: [otlp/http]
      exporters: [file/http]
    traces/grpc:
      receivers: [otlp/grpc]
      exporters: [file/grpc]
    logs/grpc:
      receivers: [otlp/grpc]
      exporters: [file/grpc]
    metrics/grpc:
      receivers: [otlp/grpc]
      exporters: [file/grpc]
Y
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

if ! otf_start fd "$TMP/fd.yaml"; then
	bad "otflow did not start under prlimit --nofile=$NOFILE"
	finish
fi
expect_eq "otflow runs with the open-file limit" "$NOFILE" \
	"$(awk '/Max open files/ { print $4 }' "/proc/$OTF_PID/limits")"

python3 "$E2E_DIR/idle_conns.py" 127.0.0.1 "$OTF_PORT" $IDLE_HTTP "$TMP/idle-http.status" "$TMP/idle.stop" &
ATTACK_HTTP=$!
track $ATTACK_HTTP
python3 "$E2E_DIR/idle_conns.py" 127.0.0.1 "$GRPC_PORT" $IDLE_GRPC "$TMP/idle-grpc.status" "$TMP/idle.stop" &
ATTACK_GRPC=$!
track $ATTACK_GRPC
# counts FILE: "open closed" of an idle_conns.py status file
counts() { sed -n 's/^open=\([0-9]*\) closed=\([0-9]*\).*/\1 \2/p' "$1" 2>/dev/null; }
# Await the server's verdict: every connection either kept or closed, and
# fewer kept than the limit allows (the rest closed by otflow).
open=0 settled=0
for i in $(seq 1 150); do
	read -r oh ch <<<"$(counts "$TMP/idle-http.status")"
	read -r og cg <<<"$(counts "$TMP/idle-grpc.status")"
	if [ -n "${oh:-}" ] && [ -n "${og:-}" ]; then
		open=$((oh + og))
		settled=$((oh + ch + og + cg))
		[ $settled -ge $((IDLE_HTTP + IDLE_GRPC)) ] && [ $open -lt $((NOFILE - 64)) ] && break
	fi
	sleep 0.1
done
if [ $settled -ge $((IDLE_HTTP + IDLE_GRPC)) ] && [ $open -lt $((NOFILE - 64)) ]; then
	ok "idle connections past the cap are closed by otflow: $open kept of $settled" \
		"(http $(cat "$TMP/idle-http.status"), grpc $(cat "$TMP/idle-grpc.status"))"
else
	bad "idle connections: want fewer than $((NOFILE - 64)) kept and the rest closed, got" \
		"http '$(cat "$TMP/idle-http.status" 2>/dev/null)' grpc '$(cat "$TMP/idle-grpc.status" 2>/dev/null)'"
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

if timeout 60 node "$E2E_DIR/send.mjs" --protocol grpc --run fd-limit --endpoint "127.0.0.1:$GRPC_PORT" \
	>"$TMP/sent-grpc.json" 2>"$TMP/send-grpc.err"; then
	ok "the JS SDK exports over gRPC while the idle connections are held"
	same=0 # the file exporter flushes every 100 ms: retry, bounded
	for i in $(seq 1 50); do
		if timeout 60 node "$E2E_DIR/check.mjs" sdk "$OTF_E2E_GRPC_OUT" "$TMP/sent-grpc.json" \
			>"$TMP/check-grpc.txt" 2>&1; then
			same=1
			break
		fi
		sleep 0.2
	done
	if [ $same = 1 ]; then
		ok "gRPC: $(cat "$TMP/check-grpc.txt")"
	else
		bad "gRPC file output differs from what the SDK sent:"
		head -40 "$TMP/check-grpc.txt"
	fi
else
	bad "send.mjs --protocol grpc failed while the idle connections are held:"
	sed 's/^/  | /' "$TMP/send-grpc.err" | tail -20
fi

touch "$TMP/idle.stop"
wait_pid $ATTACK_HTTP 20
wait_pid $ATTACK_GRPC 20
expect_eq "a client is served after the idle connections are gone" 200 \
	"$(post 4bf92f3577b34da6a3ce929d0e0e4736)"
delivered 4bf92f3577b34da6a3ce929d0e0e4736 && ok "its trace reached the file exporter" ||
	bad "trace 4bf92f3577b34da6a3ce929d0e0e4736 not in the file output"

expect_eq "the connection limit is logged once" 1 "$(grep -c 'reached its connection limit' "$OTF_LOG")"
otf_stop

# runtime.max_connections sets the total without any open-file limit: 6
# over one worker loop and the admin loop = 3 per loop. Of 20 idle
# connections 3 stay, and a client is still served.
OTF_BIN=$REAL_BIN
printf 'runtime:\n  workers: 1\n  max_connections: 6\n' >"$TMP/max.yaml"
if otf_start max "$TMP/fd.yaml" "$TMP/max.yaml"; then
	rm -f "$TMP/idle.stop"
	python3 "$E2E_DIR/idle_conns.py" 127.0.0.1 "$OTF_PORT" 20 "$TMP/idle-max.status" "$TMP/idle.stop" &
	ATTACK=$!
	track $ATTACK
	for i in $(seq 1 100); do
		[ "$(cat "$TMP/idle-max.status" 2>/dev/null)" = "open=3 closed=17 failed=0" ] && break
		sleep 0.1
	done
	expect_eq "runtime.max_connections 6 (1 worker): idle connections kept" \
		"open=3 closed=17 failed=0" "$(cat "$TMP/idle-max.status" 2>/dev/null)"
	expect_eq "a client is served at runtime.max_connections" 200 \
		"$(post 8a3c60f7d188f8fa79d48a391a778fa6)"
	delivered 8a3c60f7d188f8fa79d48a391a778fa6 && ok "its trace reached the file exporter" ||
		bad "trace 8a3c60f7d188f8fa79d48a391a778fa6 not in the file output"
	touch "$TMP/idle.stop"
	wait_pid $ATTACK 20
	otf_stop
else
	bad "otflow did not start with runtime.max_connections"
fi
finish
