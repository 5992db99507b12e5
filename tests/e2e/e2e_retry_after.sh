#!/usr/bin/env bash
# Retry-After reaches the retry node, with real processes: OTLP/HTTP client
# -> otflow (examples/scenarios/retry.yaml: retry node, 100 ms backoff ->
# otlphttp exporter with its own retry off) -> a backend answering the first
# export 429 "Retry-After: 2" (tests/e2e/throttle_http.py). The exporter's
# NACK carries the 2 s, so the retry node sends again no earlier than 2 s
# after the refusal (not 100 ms); the client is told 200; the backend
# accepted the spans posted, once. Then the same with 503 and the exporter's
# own retry_on_failure (no retry node). Then through a second otflow
# between the two (its exporter's retry off): its receiver passes the
# delay on (HTTP: 503 Retry-After: 2; gRPC: UNAVAILABLE with a RetryInfo),
# so the first otflow's retry node still waits 2 s.
set -u
. "$(dirname "$0")/lib.sh"
TRACES="$OTF_SOURCE_DIR/examples/pdata/traces.json"
"$OTF_BIN" pdata convert --signal traces --from json --to json "$TRACES" -o "$TMP/expect.json" ||
	bad "pdata convert"

# The middle otflow of the chain: OTLP (HTTP on OTF_PORT, gRPC on
# OTF_GRPC_PORT), waiting for the result -> otlphttp with no retry of its
# own to OTF_BACKEND_PORT.
cat >"$TMP/middle.yaml" <<'YAML'
receivers:
  otlp:
    wait_for_result: true
    protocols:
      http: {endpoint: "127.0.0.1:${env:OTF_PORT}"}
      grpc: {endpoint: "127.0.0.1:${env:OTF_GRPC_PORT}"}
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:${env:OTF_BACKEND_PORT}
    retry_on_failure: {enabled: false}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], exporters: [otlphttp]}
YAML

# run NAME CONFIG CODE [MIDDLE]: one client post through CONFIG to a
# backend that refuses the first export with CODE and Retry-After: 2;
# MIDDLE http|grpc puts the middle otflow in between (CONFIG's backend
# port is then its HTTP or gRPC port).
run() {
	local name=$1 cfg=$2 code=$3 middle=${4:-} d="$TMP/$1"
	mkdir -p "$d"
	local bport fport fhealth mhttp mgrpc target
	bport=$(free_port) fport=$(free_port) fhealth=$(free_port)
	python3 "$E2E_DIR/throttle_http.py" "$bport" "$d" "$code" 2 1 2>"$d/backend.err" &
	local bpid=$!
	track "$bpid"
	target=$bport
	local mpid=""
	if [ -n "$middle" ]; then
		mhttp=$(free_port) mgrpc=$(free_port)
		OTF_PORT=$mhttp OTF_GRPC_PORT=$mgrpc OTF_BACKEND_PORT=$bport \
			"$OTF_BIN" --config "$TMP/middle.yaml" >"$d/middle.log" 2>&1 &
		mpid=$!
		track "$mpid"
		if [ "$middle" = grpc ]; then target=$mgrpc; else target=$mhttp; fi
		local j=0
		until curl -s -m 1 -o /dev/null "http://127.0.0.1:$mhttp/"; do
			j=$((j + 1))
			if [ $j -ge 100 ] || ! kill -0 "$mpid" 2>/dev/null; then
				bad "$name: middle did not start: $(tail -3 "$d/middle.log")"
				return
			fi
			sleep 0.1
		done
	fi
	OTF_PORT=$fport OTF_HEALTH_PORT=$fhealth OTF_BACKEND_PORT=$target \
		"$OTF_BIN" --config "$cfg" >"$d/front.log" 2>&1 &
	local fpid=$!
	track "$fpid"
	local i=0
	until [ -e "$d/ready" ] &&
		[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$fhealth/")" = 200 ]; do
		i=$((i + 1))
		if [ $i -ge 150 ] || ! kill -0 "$fpid" 2>/dev/null; then
			bad "$name: front or backend did not start: $(tail -3 "$d/front.log" "$d/backend.err" | tr "\n" " ")"
			return
		fi
		sleep 0.1
	done
	local told
	told=$(curl -s -m 30 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "@$TRACES" "http://127.0.0.1:$fport/v1/traces")
	expect_eq "$name: client told" 200 "$told"
	expect_eq "$name: backend answers (refused, then accepted)" "$code 200" \
		"$(awk '{print $2}' "$d/log" 2>/dev/null | xargs)"
	local gap
	gap=$(awk 'NR == 1 {a = $1} NR == 2 {printf "%d", ($1 - a) / 1000000}' "$d/log")
	if [ "${gap:-0}" -ge 2000 ]; then
		ok "$name: resent ${gap} ms after the $code (Retry-After: 2)"
	else
		bad "$name: resent ${gap:-?} ms after the $code, before Retry-After: 2"
	fi
	"$OTF_BIN" pdata convert --signal traces --from proto --to json "$d/body.1" -o "$d/got.json" ||
		bad "$name: accepted body is not an OTLP traces request"
	if timeout 60 node "$E2E_DIR/check.mjs" same "$d/got.json" "$TMP/expect.json" >"$d/c.txt" 2>&1; then
		ok "$name: the backend accepted exactly the spans posted"
	else
		bad "$name: accepted spans differ: $(head -5 "$d/c.txt")"
	fi
	cmp -s "$d/body.0" "$d/body.1" && ok "$name: the resend carries the same bytes" ||
		bad "$name: the resend differs from the refused export"
	kill -TERM "$fpid" 2>/dev/null
	wait_pid "$fpid" 20 && ok "$name: front exits 0" || bad "$name: front exit status $?"
	untrack "$fpid"
	if [ -n "$mpid" ]; then
		kill -TERM "$mpid" 2>/dev/null
		wait_pid "$mpid" 20 && ok "$name: middle exits 0" || bad "$name: middle exit status $?"
	fi
	kill "$bpid" 2>/dev/null
	wait "$bpid" 2>/dev/null
	untrack "$bpid"
}

run retry-node "$OTF_SOURCE_DIR/examples/scenarios/retry.yaml" 429

# The exporter's own retry: retry.yaml without the node, retry_on_failure on.
sed -e '/^  retry:/,/^      max_bytes/d' -e 's/{from: otlp, to: retry}/{from: otlp, to: backend}/' \
	-e '/{from: retry, to: backend}/d' \
	-e 's/retry_on_failure: {enabled: false}/retry_on_failure: {enabled: true, initial_interval: 100ms, randomization_factor: 0}/' \
	"$OTF_SOURCE_DIR/examples/scenarios/retry.yaml" >"$TMP/exporter-retry.yaml"
grep -q "type: retry" "$TMP/exporter-retry.yaml" && bad "exporter-retry.yaml still has the node"
run exporter-retry "$TMP/exporter-retry.yaml" 503

# Through a second otflow, over OTLP/HTTP and over OTLP/gRPC (retry.yaml
# with an otlp exporter instead of otlphttp).
run chain-http "$OTF_SOURCE_DIR/examples/scenarios/retry.yaml" 429 http
sed -e 's/^    type: otlphttp$/    kind: exporter\n    type: otlp/' \
	-e 's|endpoint: http://127.0.0.1:${env:OTF_BACKEND_PORT:-14318}|endpoint: 127.0.0.1:${env:OTF_BACKEND_PORT:-14317}\n      tls: {insecure: true}|' \
	"$OTF_SOURCE_DIR/examples/scenarios/retry.yaml" >"$TMP/retry-grpc.yaml"
grep -q "type: otlp$" "$TMP/retry-grpc.yaml" && grep -q "insecure: true" "$TMP/retry-grpc.yaml" ||
	bad "retry-grpc.yaml: $(grep -A3 'backend:' "$TMP/retry-grpc.yaml")"
run chain-grpc "$TMP/retry-grpc.yaml" 429 grpc
finish
