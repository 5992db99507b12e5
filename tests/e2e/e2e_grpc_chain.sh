#!/usr/bin/env bash
# End to end over OTLP/gRPC with the OpenTelemetry JS SDK's gRPC exporters
# (@opentelemetry/exporter-{trace,logs,metrics}-otlp-grpc on @grpc/grpc-js):
#  1. single hop: the SDK (send.mjs --protocol grpc) exports spans, log
#     records and metrics, plain and gzip, then three clients at once, into
#     otflow (otlp receiver grpc, wait_for_result -> batch -> file, 2
#     workers); after SIGTERM (exit 0) the file holds exactly what the SDK
#     exported, every id, name, attribute, timestamp and value, nothing lost
#     or duplicated (check.mjs sdk).
# Every otflow runs on fresh loopback ports with its own temp dir; every
# wait is bounded (lib.sh).
set -u
. "$(dirname "$0")/lib.sh"

if e2e_npm_ci; then
	ok "npm ci (or node_modules up to date)"
else
	bad "npm ci failed"
	finish
fi

# write_config NAME: writes $TMP/NAME.yaml from stdin and prints its path.
write_config() {
	cat >"$TMP/$1.yaml"
	echo "$TMP/$1.yaml"
}

# A sink: otlp receiver (gRPC on $OTF_E2E_PORT) -> [processors] -> file.
# $1: the processors list ("[]" or "[batch]").
sink_config() {
	write_config "sink-${1//[^a-z]/}" <<EOF
receivers:
  otlp:
    wait_for_result: true
    protocols:
      grpc:
        endpoint: 127.0.0.1:\${env:OTF_E2E_PORT}
processors:
  batch:
    send_batch_size: 8192
    timeout: 200ms
exporters:
  file:
    path: \${env:OTF_E2E_OUT}
    format: json
    flush_interval: 100ms
extensions:
  health_check:
    endpoint: 127.0.0.1:\${env:OTF_E2E_HEALTH_PORT}
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: $1
      exporters: [file]
    metrics:
      receivers: [otlp]
      processors: $1
      exporters: [file]
    logs:
      receivers: [otlp]
      processors: $1
      exporters: [file]
runtime:
  workers: 2
EOF
}

# send_runs ENDPOINT PREFIX: the SDK over gRPC into ENDPOINT (host:port):
# plain, gzip, then three clients at once. Appends the descriptions of
# what it exported to SENT; every export must succeed.
SENT=()
send_runs() {
	local ep=$1 pre=$2 comp name desc p par=() n=0
	for comp in none gzip; do
		name="$pre-grpc-$comp"
		desc="$TMP/sent-$name.json"
		if timeout 60 node "$E2E_DIR/send.mjs" --protocol grpc --compression "$comp" --run "$name" \
			--endpoint "$ep" >"$desc" 2>"$TMP/send-$name.err"; then
			ok "$pre: send.mjs --protocol grpc --compression $comp: every export succeeded"
			SENT+=("$desc")
		else
			bad "$pre: send.mjs --protocol grpc --compression $comp failed:"
			sed 's/^/  | /' "$TMP/send-$name.err" | tail -20
		fi
	done
	for comp in none gzip none; do
		n=$((n + 1))
		name="$pre-par$n"
		timeout 60 node "$E2E_DIR/send.mjs" --protocol grpc --compression "$comp" --run "$name" \
			--endpoint "$ep" >"$TMP/sent-$name.json" 2>"$TMP/send-$name.err" &
		par+=("$!:$name")
	done
	n=0
	for p in "${par[@]}"; do
		if wait "${p%%:*}"; then
			SENT+=("$TMP/sent-${p#*:}.json")
			n=$((n + 1))
		else
			bad "$pre: concurrent send.mjs ${p#*:} failed:"
			sed 's/^/  | /' "$TMP/send-${p#*:}.err" | tail -20
		fi
	done
	[ $n -eq 3 ] && ok "$pre: 3 concurrent send.mjs clients over gRPC: every export succeeded"
}

# check_sdk WHAT OUT: OUT holds exactly what SENT describes.
check_sdk() {
	local what=$1 out=$2
	if [ ${#SENT[@]} -eq 0 ]; then
		bad "$what: nothing was sent"
		return
	fi
	if timeout 60 node "$E2E_DIR/check.mjs" sdk "$out" "${SENT[@]}" >"$TMP/check.txt" 2>&1; then
		ok "$what: $(cat "$TMP/check.txt")"
	else
		bad "$what: file output differs from what the SDK sent:"
		head -80 "$TMP/check.txt"
	fi
}

# ---- 1. single hop: SDK gRPC -> otflow (batch) -> file ----
if otf_start hop "$(sink_config '[batch]')"; then
	ok "otflow started (gRPC on $OTF_PORT)"
	SENT=()
	send_runs "127.0.0.1:$OTF_PORT" hop
	if otf_alive; then ok "hop: otflow still running after the SDK runs"; else bad "hop: otflow died"; fi
	otf_stop
	check_sdk "hop: SDK gRPC -> otflow -> file" "$OTF_OUT"
else
	bad "otflow did not start (single hop)"
fi

finish
