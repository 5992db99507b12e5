#!/usr/bin/env bash
# End to end over OTLP/gRPC with the OpenTelemetry JS SDK's gRPC exporters
# (@opentelemetry/exporter-{trace,logs,metrics}-otlp-grpc on @grpc/grpc-js):
#  1. single hop: the SDK (send.mjs --protocol grpc) exports spans, log
#     records and metrics, plain and gzip, then three clients at once, into
#     otflow (otlp receiver grpc, wait_for_result -> batch -> file, 2
#     workers); after SIGTERM (exit 0) the file holds exactly what the SDK
#     exported, every id, name, attribute, timestamp and value, nothing lost
#     or duplicated (check.mjs sdk). The plain and gzip runs go through
#     h2relay.py, which reads the gRPC message prefixes on the wire: one
#     message per SDK export call, compressed flag 0 (plain) or 1 (gzip);
#  2. chains: the SDK over gRPC into otflow A (otlp receiver grpc -> batch
#     -> exporter) -> otflow B (otlp receiver grpc + http -> file). SIGTERM
#     A, then B: both exit 0 and B's file holds exactly what the SDK
#     exported. Exporters: otlp (gRPC, tls insecure, gzip and none) and
#     otlphttp (encoding proto and json). Two modes of A:
#       acked:   receiver wait_for_result, batch timeout 200ms: the SDK is
#                answered once B has the data;
#       drained: receiver answers at once, batch holds everything for 60s:
#                at SIGTERM nothing has reached B yet, so A must flush the
#                batches through its exporter into B before it exits; and
#                the batches merged the SDK's requests (B sees at most one
#                request per signal and worker).
#     Between A's otlp exporter and B sits h2relay.py: one message per
#     request B wrote, compressed exactly when compression is gzip.
#     The otlp variants run when the binary has the otlp exporter.
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

# A sink: otlp receiver (gRPC on $OTF_E2E_PORT, HTTP on $OTF_E2E_HTTP_PORT)
# -> [processors] -> file. $1: the processors list ("[]" or "[batch]").
sink_config() {
	write_config "sink-${1//[^a-z]/}" <<EOF
receivers:
  otlp:
    wait_for_result: true
    protocols:
      grpc:
        endpoint: 127.0.0.1:\${env:OTF_E2E_PORT}
      http:
        endpoint: 127.0.0.1:\${env:OTF_E2E_HTTP_PORT}
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

# A relay: otlp receiver (gRPC on $OTF_E2E_PORT) -> batch -> exporter.
# relay_config NAME MODE EXPORTER_ID EXPORTER_SETTINGS (flow-style YAML).
relay_config() {
	local wfr=true timeout=200ms
	if [ "$2" = drained ]; then
		wfr=false
		timeout=60s
	fi
	write_config "relay-$1" <<EOF
receivers:
  otlp:
    wait_for_result: $wfr
    protocols:
      grpc:
        endpoint: 127.0.0.1:\${env:OTF_E2E_PORT}
processors:
  batch:
    send_batch_size: 8192
    timeout: $timeout
exporters:
  $3: $4
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
      processors: [batch]
      exporters: [$3]
    metrics:
      receivers: [otlp]
      processors: [batch]
      exporters: [$3]
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [$3]
runtime:
  workers: 2
EOF
}

# relay_start NAME TARGET_PORT: starts h2relay.py in front of
# 127.0.0.1:TARGET_PORT; sets RELAY_PID, RELAY_PORT, RELAY_REPORT.
relay_start() {
	local i=0
	RELAY_PORT=$(free_port)
	RELAY_REPORT="$TMP/relay-$1.txt"
	python3 "$E2E_DIR/h2relay.py" "$RELAY_PORT" "$2" "$RELAY_REPORT" 2>"$TMP/relay-$1.err" &
	RELAY_PID=$!
	track "$RELAY_PID"
	while [ ! -f "$RELAY_REPORT.ready" ] && [ $i -lt 100 ]; do
		kill -0 "$RELAY_PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	[ -f "$RELAY_REPORT.ready" ] || {
		bad "h2relay $1 did not start: $(cat "$TMP/relay-$1.err")"
		return 1
	}
}

relay_stop() {
	kill "$1" 2>/dev/null
	wait_pid "$1" 5 >/dev/null 2>&1
}

# relay_expect WHAT REPORT FLAG COUNT: REPORT lists COUNT gRPC messages,
# each with compressed flag FLAG.
relay_expect() {
	local what=$1 rep=$2 flag=$3 want=$4 got other
	got=$(grep -c "^compressed=$flag " "$rep" 2>/dev/null)
	other=$(grep -vc "^compressed=$flag " "$rep" 2>/dev/null)
	if [ "${got:-0}" = "$want" ] && [ "${other:-0}" = 0 ]; then
		ok "$what: $want gRPC messages on the wire, compressed flag $flag on each"
	else
		bad "$what: want $want messages with compressed flag $flag, got ${got:-0} (and ${other:-0} others):"
		sed 's/^/  | /' "$rep" | sort | uniq -c | head -10
	fi
}

# run_requests SENT.json: the SDK's export calls in one run.
run_requests() {
	node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).requests;
		console.log(r.traces + r.logs + r.metrics)' "$1"
}

# send_runs PREFIX EP_PLAIN EP_GZIP EP_PAR: the SDK over gRPC (endpoints
# host:port): plain into EP_PLAIN, gzip into EP_GZIP, then three clients
# at once into EP_PAR. Appends the descriptions of what it exported to
# SENT; every export must succeed.
SENT=()
send_runs() {
	local pre=$1 comp ep name desc p par=() n=0
	for comp in none gzip; do
		name="$pre-grpc-$comp"
		desc="$TMP/sent-$name.json"
		if [ $comp = none ]; then ep=$2; else ep=$3; fi
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
			--endpoint "$4" >"$TMP/sent-$name.json" 2>"$TMP/send-$name.err" &
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

# stop_as NAME PID LOG: SIGTERM, asserts exit status 0 within 20s.
stop_as() {
	OTF_PID=$2
	OTF_LOG=$3
	kill -TERM "$OTF_PID" 2>/dev/null
	wait_pid "$OTF_PID" 20
	local rc=$?
	OTF_PID=""
	if [ $rc -eq 0 ]; then
		ok "$1 exits 0 on SIGTERM"
	else
		bad "$1 exit status after SIGTERM: $rc (124: still running after 20s)"
		sed 's/^/  | /' "$OTF_LOG" | tail -20
	fi
}

# sdk_requests: OTLP export calls the SDK made in the runs of SENT.
sdk_requests() {
	node -e 'let n = 0; for (const f of process.argv.slice(1)) {
		const r = JSON.parse(require("fs").readFileSync(f, "utf8")).requests;
		n += r.traces + r.logs + r.metrics; } console.log(n)' "${SENT[@]}"
}

# chain NAME MODE EXPORTER_ID EXPORTER_SETTINGS: SDK -gRPC-> A -> B -> file.
# In the settings, @GRPC@ and @HTTP@ stand for B's gRPC endpoint
# (host:port) and HTTP base URL.
chain() {
	local name=$1 mode=$2 id=$3 settings=$4 b_pid b_port b_http b_out b_log a_pid a_port a_log lines reqs
	local r_pid="" r_report="" flag=0
	b_http=$(free_port)
	if ! OTF_E2E_HTTP_PORT=$b_http otf_start "$name-b" "$(sink_config '[]')"; then
		bad "$name: otflow B did not start"
		return
	fi
	b_pid=$OTF_PID b_port=$OTF_PORT b_out=$OTF_OUT b_log=$OTF_LOG
	if [ "$id" = otlp ] && relay_start "$name" "$b_port"; then
		# A's gRPC exporter reaches B through the relay.
		r_pid=$RELAY_PID r_report=$RELAY_REPORT
		b_port=$RELAY_PORT
	fi
	settings=${settings//@GRPC@/127.0.0.1:$b_port}
	settings=${settings//@HTTP@/http://127.0.0.1:$b_http}
	if ! otf_start "$name-a" "$(relay_config "$name" "$mode" "$id" "$settings")"; then
		bad "$name: otflow A did not start ($id: $settings)"
		stop_as "$name: B" "$b_pid" "$b_log"
		return
	fi
	a_pid=$OTF_PID a_port=$OTF_PORT a_log=$OTF_LOG
	ok "$name: A (gRPC on $a_port) -> $id $settings -> B started"
	SENT=()
	send_runs "$name" "127.0.0.1:$a_port" "127.0.0.1:$a_port" "127.0.0.1:$a_port"
	if kill -0 "$a_pid" 2>/dev/null && kill -0 "$b_pid" 2>/dev/null; then
		ok "$name: A and B still running after the SDK runs"
	else
		bad "$name: A or B died"
	fi
	if [ "$mode" = drained ]; then
		# The batches wait 60s: B must not have anything yet.
		lines=$(grep -c . "$b_out" 2>/dev/null)
		expect_eq "$name: B has received nothing before A's SIGTERM (held in A's batches)" 0 "${lines:-0}"
	fi
	stop_as "$name: A" "$a_pid" "$a_log"
	stop_as "$name: B" "$b_pid" "$b_log"
	check_sdk "$name: SDK gRPC -> A -> $id -> B -> file" "$b_out"
	if [ -n "$r_pid" ]; then
		relay_stop "$r_pid"
		case $settings in *"compression: gzip"*) flag=1 ;; esac
		relay_expect "$name: A -> B" "$r_report" $flag "$(grep -c . "$b_out" 2>/dev/null)"
	fi
	if [ "$mode" = drained ] && [ ${#SENT[@]} -gt 0 ]; then
		lines=$(grep -c . "$b_out" 2>/dev/null)
		reqs=$(sdk_requests)
		if [ "${lines:-0}" -ge 3 ] && [ "${lines:-0}" -le 6 ] && [ "$reqs" -gt 6 ]; then
			ok "$name: A's batches merged $reqs SDK requests into $lines requests to B"
		else
			bad "$name: $reqs SDK requests reached B as ${lines:-0} requests (want 3 to 6)"
		fi
	fi
}

# ---- 1. single hop: SDK gRPC -> otflow (batch) -> file ----
if OTF_E2E_HTTP_PORT=$(free_port) otf_start hop "$(sink_config '[batch]')"; then
	ok "otflow started (gRPC on $OTF_PORT)"
	SENT=()
	r_plain="" r_gzip="" rp_plain="" rp_gzip=""
	relay_start hop-plain "$OTF_PORT" && r_plain=$RELAY_PID rp_plain=$RELAY_PORT
	relay_start hop-gzip "$OTF_PORT" && r_gzip=$RELAY_PID rp_gzip=$RELAY_PORT
	send_runs hop "127.0.0.1:${rp_plain:-$OTF_PORT}" "127.0.0.1:${rp_gzip:-$OTF_PORT}" "127.0.0.1:$OTF_PORT"
	if otf_alive; then ok "hop: otflow still running after the SDK runs"; else bad "hop: otflow died"; fi
	otf_stop
	check_sdk "hop: SDK gRPC -> otflow -> file" "$OTF_OUT"
	for r in plain:0:$r_plain gzip:1:$r_gzip; do
		IFS=: read -r rn flag pid <<<"$r"
		[ -n "$pid" ] || continue
		relay_stop "$pid"
		[ -f "$TMP/sent-hop-grpc-${rn/plain/none}.json" ] &&
			relay_expect "hop: SDK $rn" "$TMP/relay-hop-$rn.txt" "$flag" \
				"$(run_requests "$TMP/sent-hop-grpc-${rn/plain/none}.json")"
	done
else
	bad "otflow did not start (single hop)"
fi

# ---- 2. chains: SDK gRPC -> A -> batch -> exporter -> B -> file ----
if "$OTF_BIN" components | grep -Eq '^exporter +otlp '; then
	chain otlp-gzip acked otlp '{endpoint: "@GRPC@", tls: {insecure: true}, compression: gzip}'
	chain otlp-none drained otlp '{endpoint: "@GRPC@", tls: {insecure: true}, compression: none}'
else
	echo "note: no otlp exporter in $OTF_BIN; the otlp (gRPC) chains are not run"
fi
chain otlphttp-proto acked otlphttp '{endpoint: "@HTTP@", encoding: proto, compression: gzip}'
chain otlphttp-json drained otlphttp '{endpoint: "@HTTP@", encoding: json, compression: zstd}'

finish
