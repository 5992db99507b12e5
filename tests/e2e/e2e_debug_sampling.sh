#!/usr/bin/env bash
# debug exporter sampling_initial / sampling_thereafter: with initial 1 and
# thereafter 0, a parallel burst of 8 trace requests prints one summary
# per 1 s window it spans (never all 8), while every
# request is still acknowledged (200); with the defaults (2, 1) all 8 are
# printed.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=$(free_port)
HEALTH=$(free_port)
cfg() { # FILE INITIAL THEREAFTER
	cat > "$1" <<Y
receivers:
  otlp: {protocols: {http: {endpoint: "127.0.0.1:$PORT"}}}
exporters:
  debug: {verbosity: normal, sampling_initial: $2, sampling_thereafter: $3}
extensions:
  health_check: {endpoint: "127.0.0.1:$HEALTH"}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
runtime: {workers: 2}
Y
}
run() { # CONFIG -> "codes|printed summaries|printed spans"
	"$OTF_BIN" --config "$1" > "$TMP/log" 2>&1 &
	local pid=$! codes="" i
	track "$pid"
	for _ in $(seq 100); do
		[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HEALTH/")" = 200 ] && break
		sleep 0.1
	done
	# The burst in parallel, timed: the sampler's windows are 1 s, so a
	# burst of T ms spans at most T/1000 + 1 of them.
	local t0 t1 pids=""
	t0=$(date +%s%N)
	for i in 1 2 3 4 5 6 7 8; do
		curl -s -m 10 -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
			--data "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"0af7651916cd43dd8448eb211c80319c\",\"spanId\":\"b7ad6b716920333$i\",\"name\":\"sampled-$i\"}]}]}]}" \
			"http://127.0.0.1:$PORT/v1/traces" > "$TMP/code.$i" &
		pids="$pids $!"
	done
	for i in $pids; do wait "$i"; done
	t1=$(date +%s%N)
	for i in 1 2 3 4 5 6 7 8; do codes="$codes$(cat "$TMP/code.$i") "; done
	kill -TERM "$pid"
	wait_pid "$pid" 20
	echo "$codes|$(grep -c 'Traces {"resources": 1, "spans": 1}' "$TMP/log")|$(grep -c 'sampled-' "$TMP/log")|$(((t1 - t0) / 1000000000 + 1))"
}

cfg "$TMP/s.yaml" 1 0
IFS='|' read -r codes summaries spans windows <<< "$(run "$TMP/s.yaml")"
expect_eq "sampled: every request acknowledged" "200 200 200 200 200 200 200 200 " "$codes"
if [ "$summaries" -ge 1 ] && [ "$summaries" -le "$windows" ] && [ "$summaries" -lt 8 ] &&
	[ "$spans" = "$summaries" ]; then
	ok "sampling_initial 1, thereafter 0: $summaries of 8 printed (burst over $windows window(s) at most)"
else
	bad "sampling_initial 1, thereafter 0: $summaries summaries, $spans spans printed of 8 ($windows windows)"
fi

cfg "$TMP/d.yaml" 2 1
IFS='|' read -r codes summaries spans windows <<< "$(run "$TMP/d.yaml")"
expect_eq "defaults: every request acknowledged" "200 200 200 200 200 200 200 200 " "$codes"
expect_eq "defaults (2, 1): all 8 printed" "8 8" "$summaries $spans"
finish
