#!/usr/bin/env bash
# Data refused after the client was answered is counted and logged, not
# lost in silence: the OTLP receiver answers at ingress (wait_for_result
# false, the default), the routing connector's condition fails to
# evaluate under error_mode propagate and refuses the request (a permanent
# NACK no one upstream hears any more). Each request still gets its 200,
# the connector counts the refused records (dropped_after_answer in
# /api/v1/dag, otelcol_component_errors{reason="refused_after_answer"} on
# /metrics, one per request), and its log says so once, not once per
# request (the ERR rate limit: one line per 10 s per node and reason).
# A record whose condition evaluates is still delivered. Before, the
# propagate answer went nowhere: no count, no log line.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=$(free_port)
ADMIN=$(free_port)
HEALTH=$(free_port)
PROM=$(free_port)
cat > "$TMP/c.yaml" <<Y
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:$PORT"}}}}
exporters:
  file/matched: {path: "$TMP/matched.jsonl", format: json, flush_interval: 50ms}
  file/default: {path: "$TMP/default.jsonl", format: json, flush_interval: 50ms}
connectors:
  routing:
    default_pipelines: [logs/default]
    error_mode: propagate
    table:
      - condition: Len(attributes["region"]) > 0
        pipelines: [logs/matched]
extensions: {health_check: {endpoint: "127.0.0.1:$HEALTH"}}
service:
  extensions: [health_check]
  admin: {endpoint: "127.0.0.1:$ADMIN"}
  telemetry:
    logs: {level: info}
    metrics:
      level: basic
      readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: $PROM}}}}]
  pipelines:
    logs/in: {receivers: [otlp], exporters: [routing]}
    logs/matched: {receivers: [routing], exporters: [file/matched]}
    logs/default: {receivers: [routing], exporters: [file/default]}
runtime: {workers: 1}
Y
"$OTF_BIN" --config "$TMP/c.yaml" > "$TMP/otflow.log" 2>&1 &
PID=$!
track "$PID"
for _ in $(seq 100); do
	[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HEALTH/")" = 200 ] && break
	sleep 0.1
done
post() { # BODY RECORDS [REGION]: status of one request of RECORDS records
	local attrs="" recs="" i
	[ -n "${3:-}" ] && attrs="{\"key\":\"region\",\"value\":{\"stringValue\":\"$3\"}}"
	for i in $(seq "$2"); do recs="$recs${recs:+,}{\"body\":{\"stringValue\":\"$1-$i\"}}"; done
	curl -s -m 10 -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
		--data "{\"resourceLogs\":[{\"resource\":{\"attributes\":[$attrs]},\"scopeLogs\":[{\"logRecords\":[$recs]}]}]}" \
		"http://127.0.0.1:$PORT/v1/logs"
}
codes=""
for i in 1 2 3 4 5; do codes="$codes$(post "fails$i" 3) "; done
expect_eq "each request whose condition fails is told 200 (answered at ingress)" "200 200 200 200 200 " "$codes"
expect_eq "a request whose condition evaluates" 200 "$(post east 2 east)"
dropped() {
	curl -s -m 5 "http://127.0.0.1:$ADMIN/api/v1/nodes/connector:routing" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"]["dropped_after_answer"])' 2>/dev/null
}
for _ in $(seq 100); do [ "$(dropped)" = 15 ] && break; sleep 0.05; done
expect_eq "the connector counts the 15 refused records (dropped_after_answer)" 15 "$(dropped)"
metric() {
	curl -s -m 5 "http://127.0.0.1:$PROM/metrics" |
		sed -n 's/^otelcol_component_errors{component="connector:routing",reason="refused_after_answer"} \([0-9]*\)$/\1/p'
}
expect_eq "otelcol_component_errors counts the 5 refused requests" 5 "$(metric)"
for _ in $(seq 100); do grep -q east-2 "$TMP/matched.jsonl" 2>/dev/null && break; sleep 0.05; done
grep -q east-2 "$TMP/matched.jsonl" 2>/dev/null && ok "the evaluable request is delivered" ||
	bad "matched pipeline lacks east: $(head -c 300 "$TMP/matched.jsonl" 2>/dev/null)"
n=$(grep -c "refused_after_answer: 3 logs dropped after the client was answered" "$TMP/otflow.log")
expect_eq "one log line at the connector for 5 refused requests (rate-limited)" 1 "$n"
grep "refused_after_answer" "$TMP/otflow.log" | grep -q "connector:routing" &&
	ok "the line names the node that refused" || bad "log: $(grep refused "$TMP/otflow.log")"
kill -TERM "$PID"
wait_pid "$PID" 20
expect_eq "exit status after SIGTERM" 0 "$?"
finish
