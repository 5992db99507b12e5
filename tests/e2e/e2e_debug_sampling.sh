#!/usr/bin/env bash
# debug exporter sampling_initial / sampling_thereafter: with initial 1 and
# thereafter 0, a burst of 8 trace requests prints one summary per second
# of the burst (at most 2 for a burst that straddles a second), while every
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
	for i in 1 2 3 4 5 6 7 8; do
		codes="$codes$(curl -s -m 10 -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
			--data "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"0af7651916cd43dd8448eb211c80319c\",\"spanId\":\"b7ad6b716920333$i\",\"name\":\"sampled-$i\"}]}]}]}" \
			"http://127.0.0.1:$PORT/v1/traces") "
	done
	kill -TERM "$pid"
	wait_pid "$pid" 20
	echo "$codes|$(grep -c 'Traces {"resources": 1, "spans": 1}' "$TMP/log")|$(grep -c 'sampled-' "$TMP/log")"
}

cfg "$TMP/s.yaml" 1 0
IFS='|' read -r codes summaries spans <<< "$(run "$TMP/s.yaml")"
expect_eq "sampled: every request acknowledged" "200 200 200 200 200 200 200 200 " "$codes"
if [ "$summaries" -ge 1 ] && [ "$summaries" -le 2 ] && [ "$spans" = "$summaries" ]; then
	ok "sampling_initial 1, thereafter 0: $summaries of 8 printed"
else
	bad "sampling_initial 1, thereafter 0: $summaries summaries, $spans spans printed of 8"
fi

cfg "$TMP/d.yaml" 2 1
IFS='|' read -r codes summaries spans <<< "$(run "$TMP/d.yaml")"
expect_eq "defaults: every request acknowledged" "200 200 200 200 200 200 200 200 " "$codes"
expect_eq "defaults (2, 1): all 8 printed" "8 8" "$summaries $spans"
finish
