#!/usr/bin/env bash
# Authentication extensions end to end, with real processes and real
# htpasswd hashes (Apache's htpasswd: bcrypt, MD5 $apr1$, {SHA}):
# - otflow B's OTLP/HTTP receiver uses basicauth: no credentials, a wrong
#   password and an unknown user get 401 and nothing reaches B's file;
#   each hash kind lets its user in, the record arrives intact.
# - B's OTLP/gRPC receiver uses bearertokenauth; otflow A exports to it with
#   a bearertokenauth client reading its token from a file: records arrive;
#   after the file is rewritten with a wrong token, B refuses
#   (UNAUTHENTICATED) and nothing arrives that way; the right token back,
#   records arrive again (the file is re-read without a restart).
# - A also exports over OTLP/HTTP with a basicauth client to B.
# - The authenticated identity travels in the envelope: B forwards to a
#   capture backend with headers_setter X-User from_context auth.username,
#   which sees the user who posted each record, even when a client sends
#   its own "auth.username" header; A's headers_setter sets X-Scope-OrgID
#   from the client's X-Tenant header, or its default_value.
# - A reference to an extension not enabled is a config error naming it.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v htpasswd >/dev/null || { bad "htpasswd (apache2-utils) is missing: scripts/deps.sh"; finish; }

B_HTTP=$(free_port)
B_GRPC=$(free_port)
B_HEALTH=$(free_port)
A_HTTP=$(free_port)
A_HEALTH=$(free_port)
CAP_B=$(free_port)
CAP_A=$(free_port)

htpasswd -c -b -B "$TMP/htpasswd" alice 'pw-alice' 2>/dev/null
htpasswd -b -m "$TMP/htpasswd" bob 'pw-bob' 2>/dev/null
htpasswd -b -s "$TMP/htpasswd" carol 'pw-carol' 2>/dev/null
grep -q '^alice:\$2y\$' "$TMP/htpasswd" && grep -q '^bob:\$apr1\$' "$TMP/htpasswd" &&
	grep -q '^carol:{SHA}' "$TMP/htpasswd" && ok "htpasswd wrote bcrypt, apr1 and SHA entries" ||
	bad "htpasswd file: $(cat "$TMP/htpasswd")"
printf 's3cret\n' > "$TMP/token"

python3 "$E2E_DIR/capture_http.py" "$CAP_B" X-User "$TMP/cap_b.txt" &
track $!
python3 "$E2E_DIR/capture_http.py" "$CAP_A" X-Scope-OrgID "$TMP/cap_a.txt" &
track $!

cat > "$TMP/b.yaml" <<Y
extensions:
  health_check: {endpoint: "127.0.0.1:$B_HEALTH"}
  basicauth/server: {htpasswd: {file: "$TMP/htpasswd"}}
  bearertokenauth/server: {token: s3cret}
  headers_setter/user:
    headers: [{key: X-User, from_context: auth.username, default_value: nobody}]
receivers:
  otlp:
    protocols:
      http: {endpoint: "127.0.0.1:$B_HTTP", include_metadata: true, auth: {authenticator: basicauth/server}}
      grpc: {endpoint: "127.0.0.1:$B_GRPC", auth: {authenticator: bearertokenauth/server}}
exporters:
  file: {path: "$TMP/b.jsonl", format: json, flush_interval: 50ms}
  otlphttp/capture:
    endpoint: "http://127.0.0.1:$CAP_B"
    encoding: json
    compression: none
    auth: {authenticator: headers_setter/user}
service:
  extensions: [health_check, basicauth/server, bearertokenauth/server, headers_setter/user]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], exporters: [file, otlphttp/capture]}
runtime: {workers: 1}
Y
cat > "$TMP/a.yaml" <<Y
extensions:
  health_check: {endpoint: "127.0.0.1:$A_HEALTH"}
  bearertokenauth/client: {filename: "$TMP/token"}
  basicauth/client: {client_auth: {username: alice, password: pw-alice}}
  headers_setter/tenant:
    headers: [{key: X-Scope-OrgID, from_context: X-Tenant, default_value: anon}]
receivers:
  otlp:
    protocols:
      http: {endpoint: "127.0.0.1:$A_HTTP", include_metadata: true}
exporters:
  otlp/b:
    endpoint: "127.0.0.1:$B_GRPC"
    tls: {insecure: true}
    auth: {authenticator: bearertokenauth/client}
    retry_on_failure: {enabled: false}
  otlphttp/b:
    endpoint: "http://127.0.0.1:$B_HTTP"
    auth: {authenticator: basicauth/client}
  otlphttp/tenant:
    endpoint: "http://127.0.0.1:$CAP_A"
    encoding: json
    compression: none
    auth: {authenticator: headers_setter/tenant}
service:
  extensions: [health_check, bearertokenauth/client, basicauth/client, headers_setter/tenant]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], exporters: [otlp/b, otlphttp/b, otlphttp/tenant]}
runtime: {workers: 1}
Y

# A reference to an extension that is defined but not enabled.
sed 's/extensions: \[health_check, bearertokenauth\/client, /extensions: [health_check, /' \
	"$TMP/a.yaml" > "$TMP/a-bad.yaml"
msg=$("$OTF_BIN" validate --config "$TMP/a-bad.yaml" 2>&1)
rc=$?
if [ $rc -ne 0 ] && printf '%s' "$msg" | grep -q "auth.authenticator: 'bearertokenauth/client' is not an extension enabled in service.extensions"; then
	ok "validate names the reference to a disabled extension"
else
	bad "validate of a disabled authenticator (rc $rc): $msg"
fi

wait_health() { # PID PORT NAME
	local i=0
	while [ $i -lt 100 ]; do
		kill -0 "$1" 2>/dev/null || break
		[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$2/")" = 200 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	bad "$3 did not come up"
	tail -20 "$TMP/$3.log"
	finish
}
"$OTF_BIN" --config "$TMP/b.yaml" > "$TMP/b.log" 2>&1 &
B_PID=$!
track "$B_PID"
wait_health "$B_PID" "$B_HEALTH" b
"$OTF_BIN" --config "$TMP/a.yaml" > "$TMP/a.log" 2>&1 &
A_PID=$!
track "$A_PID"
wait_health "$A_PID" "$A_HEALTH" a

log_json() { # BODY
	printf '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1700000000000000000","body":{"stringValue":"%s"}}]}]}]}' "$1"
}
post() { # URL BODY [curl args...]: prints the HTTP status
	local url=$1 body=$2
	shift 2
	curl -s -m 20 -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
		--data "$(log_json "$body")" "$@" "$url/v1/logs"
}
count_in() { # FILE NEEDLE
	grep -o -- "$2" "$1" 2>/dev/null | wc -l
}
await_count() { # FILE NEEDLE N: polls 10 s for N occurrences, prints the count
	local n=0
	for _ in $(seq 100); do
		n=$(count_in "$1" "$2")
		[ "$n" -ge "$3" ] && break
		sleep 0.1
	done
	echo "$n"
}

B="http://127.0.0.1:$B_HTTP"
expect_eq "no credentials: 401" 401 "$(post "$B" refused-none)"
expect_eq "wrong password: 401" 401 "$(post "$B" refused-wrong -u alice:nope)"
expect_eq "unknown user: 401" 401 "$(post "$B" refused-user -u mallory:pw-alice)"
expect_eq "bcrypt user: 200" 200 "$(post "$B" from-alice -u alice:pw-alice)"
expect_eq "apr1 user: 200" 200 "$(post "$B" from-bob -u bob:pw-bob)"
expect_eq "SHA user: 200" 200 "$(post "$B" from-carol -u carol:pw-carol \
	-H 'auth.username: mallory')"
expect_eq "record of the bcrypt user arrives" 1 "$(await_count "$TMP/b.jsonl" '"from-alice"' 1)"
expect_eq "record of the apr1 user arrives" 1 "$(await_count "$TMP/b.jsonl" '"from-bob"' 1)"
expect_eq "record of the SHA user arrives" 1 "$(await_count "$TMP/b.jsonl" '"from-carol"' 1)"
expect_eq "refused records never reach the pipeline" 0 "$(count_in "$TMP/b.jsonl" refused-)"
expect_eq "timestamp intact" 3 "$(count_in "$TMP/b.jsonl" '"timeUnixNano":"1700000000000000000"')"

# Identity from the envelope, not from a client header.
for who in alice bob carol; do await_count "$TMP/cap_b.txt" "from-$who" 1 >/dev/null; done
expect_eq "X-User of alice's record" "alice" "$(grep -P '\tfrom-alice$' "$TMP/cap_b.txt" | cut -f1)"
expect_eq "X-User of bob's record" "bob" "$(grep -P '\tfrom-bob$' "$TMP/cap_b.txt" | cut -f1)"
expect_eq "a client's auth.username header is not the identity" "carol" \
	"$(grep -P '\tfrom-carol$' "$TMP/cap_b.txt" | cut -f1)"

# Through A: bearer over gRPC and basic over HTTP both deliver.
A="http://127.0.0.1:$A_HTTP"
expect_eq "A accepts" 200 "$(post "$A" via-a-1 -H 'X-Tenant: acme')"
expect_eq "via A: once over gRPC (bearer) and once over HTTP (basic)" 2 \
	"$(await_count "$TMP/b.jsonl" '"via-a-1"' 2)"
expect_eq "A's headers_setter: X-Scope-OrgID from X-Tenant" "acme" \
	"$(await_count "$TMP/cap_a.txt" via-a-1 1 >/dev/null; grep -P '\tvia-a-1$' "$TMP/cap_a.txt" | cut -f1)"
expect_eq "A accepts (no tenant)" 200 "$(post "$A" via-a-0)"
expect_eq "A's headers_setter: default_value without X-Tenant" "anon" \
	"$(await_count "$TMP/cap_a.txt" via-a-0 1 >/dev/null; grep -P '\tvia-a-0$' "$TMP/cap_a.txt" | cut -f1)"
expect_eq "B sees alice over basicauth, nobody over bearer (no username)" "alice nobody " \
	"$(await_count "$TMP/cap_b.txt" via-a-1 2 >/dev/null; grep -P '\tvia-a-1$' "$TMP/cap_b.txt" | cut -f1 | sort | tr '\n' ' ')"

# Token rotation: a wrong token in the file is used without a restart.
printf 'wrong\n' > "$TMP/token"
# The file is re-read on the first use at least 100 ms after the last
# check: waiting 0.3 s guarantees it (a lower bound, not a race).
sleep 0.3
expect_eq "A accepts" 200 "$(post "$A" via-a-2)"
expect_eq "wrong token: only the HTTP copy arrives" 1 "$(await_count "$TMP/b.jsonl" '"via-a-2"' 1)"
for _ in $(seq 100); do
	grep -q UNAUTHENTICATED "$TMP/a.log" && break
	sleep 0.1
done
if grep -q 'UNAUTHENTICATED' "$TMP/a.log"; then ok "A logs B's UNAUTHENTICATED"; else bad "A's log lacks UNAUTHENTICATED: $(tail -5 "$TMP/a.log")"; fi
expect_eq "nothing arrived over gRPC with the wrong token" 1 "$(count_in "$TMP/b.jsonl" '"via-a-2"')"
printf 's3cret\n' > "$TMP/token"
sleep 0.3 # as above
expect_eq "A accepts" 200 "$(post "$A" via-a-3)"
expect_eq "right token back: both copies arrive" 2 "$(await_count "$TMP/b.jsonl" '"via-a-3"' 2)"

for p in "$A_PID" "$B_PID"; do
	kill -TERM "$p"
	wait_pid "$p" 20
	expect_eq "exit status after SIGTERM" 0 "$?"
done
finish
