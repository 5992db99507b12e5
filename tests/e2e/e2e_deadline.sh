#!/usr/bin/env bash
# processor deadline with real otflow, curl and a backend that never
# answers (deadline.yaml). A first request with the header grpc-timeout: 4S
# takes the exporter's one consumer; three more with the default 1 s
# deadline wait in the sending queue. Each is answered 504 with
# DEADLINE_EXCEEDED (code 4) when its own deadline passes: the three
# after about 1 s (at least one while still queued, by the queue or the
# deadline processor's backstop, without
# waiting for the consumer), the first after about 4 s (its attempt cut at
# its deadline), none after the exporter's 30 s timeout; otflow stays up.
set -u
. "$(dirname "$0")/lib.sh"
EX="$OTF_SOURCE_DIR/examples/pdata"

# The backend binds a port of its own choice (nothing can take it between
# a choice and the bind) and says which in $TMP/backend.port once it
# listens; each request it receives (and never answers) adds a line to
# $TMP/backend.got.
export OTF_E2E_BACKEND_PORT
python3 -c '
import os, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(16)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept(); held.append(c)   # answer nothing
    if c.recv(65536):
        with open(sys.argv[2], "a") as f:
            f.write("request\n")
' "$TMP/backend.port" "$TMP/backend.got" &
track $!
end=$((SECONDS + 30))
until [ -s "$TMP/backend.port" ]; do
	if [ $SECONDS -ge $end ]; then
		bad "the backend did not listen within 30 s"
		finish
	fi
	sleep 0.05
done
OTF_E2E_BACKEND_PORT=$(cat "$TMP/backend.port")

if ! otf_start deadline "$E2E_DIR/deadline.yaml"; then
	bad "otflow did not start"
	finish
fi
post() { # post N [header]: status and seconds into $TMP/code.N, body into $TMP/body.N
	local i=$1
	shift
	curl -s -m 20 -o "$TMP/body.$i" -w '%{http_code} %{time_total}\n' -H 'Content-Type: application/json' \
		"$@" --data-binary "@$EX/traces.json" "$OTF_URL/v1/traces" >"$TMP/code.$i"
}
post 0 -H 'grpc-timeout: 4S' &
clients=$!
# Request 0 takes the exporter's one consumer first: the others follow
# once the backend has it (3 s at most: then it is late, and they queue
# all the same).
end=$((SECONDS + 3))
until [ -s "$TMP/backend.got" ] || [ $SECONDS -ge $end ]; do sleep 0.02; done
[ -s "$TMP/backend.got" ] || echo "note: request 0 not at the backend after 3 s"
for i in 1 2 3; do
	post $i &
	clients="$clients $!"
done
# shellcheck disable=SC2086 # the clients only, not the backend (curl -m 20 bounds each)
wait $clients
queued=0
for i in 0 1 2 3; do
	read -r code t <"$TMP/code.$i" || code=none
	ms=$(awk -v t="${t:-99}" 'BEGIN { printf "%d", t * 1000 }')
	echo "  request $i: $code after $ms ms: $(head -c 160 "$TMP/body.$i")"
	if [ "$code" = 504 ] && grep -q '"code":4' "$TMP/body.$i" && grep -q "deadline exceeded" "$TMP/body.$i"; then
		ok "request $i: 504 DEADLINE_EXCEEDED"
	else
		bad "request $i: not 504 DEADLINE_EXCEEDED"
	fi
	if [ "$i" = 0 ]; then
		if [ "$ms" -ge 3500 ] && [ "$ms" -lt 8000 ]; then ok "request 0 answered at its own 4 s deadline"; else bad "request 0 after $ms ms"; fi
	else
		if [ "$ms" -lt 3000 ]; then ok "request $i answered at its 1 s deadline, before request 0"; else bad "request $i after $ms ms"; fi
		# Answered while queued: by the queue itself, or (a loaded loop
		# running both timers in one turn) by the deadline processor's
		# backstop 2 ms later, which cancels the queued copy.
		grep -qE "in the sending queue|deadline: deadline exceeded" "$TMP/body.$i" && queued=$((queued + 1))
	fi
done
if [ "$queued" -ge 1 ]; then
	ok "$queued queued requests answered when their deadline passed"
else
	bad "no queued request was answered at its deadline"
fi
if otf_alive; then ok "otflow still running"; else bad "otflow died"; fi
otf_stop
finish
