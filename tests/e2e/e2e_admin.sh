#!/usr/bin/env bash
# The admin endpoint (service.admin.endpoint): GET /api/v1/dag lists the
# running nodes, ports and edges with counters that match what was sent
# (the engine's items/messages in and out of every node, a processor's too, also
# as otelcol_processor_incoming_items/outgoing_items on /metrics);
# /api/v1/nodes/{id} one node, 404 for an unknown one; the CFG route answers
# 200 for a node rebuilt (no in-place change) (e2e_cfg.sh tests the rest) and a
# body over 1 MiB 413; GET / is a page that
# headless Chromium renders into an SVG with every node's name and an item
# counter that grows while records are sent, and paints (its screenshot is
# far from an empty page's). A bad service key is refused.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=$(free_port)
ADMIN=$(free_port)
HEALTH=$(free_port)
PROM=$(free_port)
cat > "$TMP/c.yaml" <<Y
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:$PORT"}}}}
processors: {batch: {timeout: 50ms}}
exporters: {nop: {}, file: {path: "$TMP/out.jsonl", format: json}}
extensions: {health_check: {endpoint: "127.0.0.1:$HEALTH"}}
service:
  extensions: [health_check]
  admin: {endpoint: "127.0.0.1:$ADMIN"}
  telemetry:
    metrics:
      level: basic
      readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: $PROM}}}}]
  pipelines: {logs: {receivers: [otlp], processors: [batch], exporters: [nop, file]}}
runtime: {workers: 1}
Y
printf 'receivers: {nop: {}}\nexporters: {nop: {}}\nservice:\n  adminn: {}\n  pipelines: {logs: {receivers: [nop], exporters: [nop]}}\n' > "$TMP/bad.yaml"
msg=$("$OTF_BIN" validate --config "$TMP/bad.yaml" 2>&1)
[ $? = 2 ] && printf '%s' "$msg" | grep -q "bad.yaml:4:.*unknown key service.adminn" &&
	ok "an unknown service key is refused with file:line" || bad "service.adminn: $msg"

"$OTF_BIN" --config "$TMP/c.yaml" > "$TMP/otflow.log" 2>&1 &
PID=$!
track "$PID"
for _ in $(seq 100); do
	[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HEALTH/")" = 200 ] && break
	sleep 0.1
done
post() { # N records in one request
	local recs="" i
	for i in $(seq "$1"); do recs="$recs${recs:+,}{\"body\":{\"stringValue\":\"r$i\"}}"; done
	curl -s -m 10 -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
		--data "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[$recs]}]}]}" "http://127.0.0.1:$PORT/v1/logs"
}
expect_eq "7 records accepted" 200 "$(post 7)"
api() { curl -s -m 5 "http://127.0.0.1:$ADMIN$1"; }
# The exporters count once the batch timeout passed: poll.
for _ in $(seq 100); do
	api /api/v1/dag > "$TMP/dag.json"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); n={x["id"]:x for x in d["nodes"]}; sys.exit(0 if n["exporter:nop"]["counters"]["sent"]==7 else 1)' "$TMP/dag.json" 2>/dev/null && break
	sleep 0.1
done
got=$(python3 - "$TMP/dag.json" <<'P'
import json, sys
d = json.load(open(sys.argv[1]))
nodes = {n["id"]: n for n in d["nodes"]}
print(" ".join(sorted(nodes)))
print(" ".join(sorted("%s>%s:%s" % (e["from"], e["to"], ",".join(e["signals"])) for e in d["edges"])))
print(nodes["receiver:otlp"]["counters"]["accepted"], nodes["exporter:nop"]["counters"]["sent"],
      nodes["exporter:file"]["counters"]["sent"], nodes["processor:batch@logs"]["ports"],
      nodes["receiver:otlp"]["origin"].rsplit("/", 1)[-1])
b = nodes["processor:batch@logs"]["counters"]
print(b["items_in"], b["items_out"], b["messages_in"], b["messages_out"],
      nodes["receiver:otlp"]["counters"]["items_out"], nodes["exporter:nop"]["counters"]["items_in"])
P
)
expect_eq "nodes" "exporter:file exporter:nop processor:batch@logs receiver:otlp" "$(sed -n 1p <<< "$got")"
expect_eq "edges" "processor:batch@logs>exporter:file:logs processor:batch@logs>exporter:nop:logs receiver:otlp>processor:batch@logs:logs" "$(sed -n 2p <<< "$got")"
expect_eq "counters: accepted and sent by each exporter, ports, origin" "7 7 7 ['default'] c.yaml:1" "$(sed -n 3p <<< "$got")"
# The engine counts every node's items and messages in and out, the
# processor's too (before, only receivers and exporters counted).
expect_eq "batch processor: items in/out, messages in/out; receiver out, exporter in" "7 7 1 1 7 7" "$(sed -n 4p <<< "$got")"
prom=$(curl -s -m 5 "http://127.0.0.1:$PROM/metrics")
flow=$(for m in incoming outgoing; do
	printf '%s\n' "$prom" | sed -n "s/^otelcol_processor_${m}_items{processor=\"batch@logs\",otel_signal=\"logs\"} \([0-9]*\)\$/\1/p"
done | tr '\n' ' ')
expect_eq "/metrics: otelcol_processor_incoming_items and outgoing_items of the batch processor" "7 7 " "$flow"
one=$(api "/api/v1/nodes/exporter%3Anop")
printf '%s' "$one" | grep -q '"id":"exporter:nop"' && ok "GET /api/v1/nodes/{id}" || bad "node: $one"
expect_eq "unknown node: 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN/api/v1/nodes/nope")"
expect_eq "CFG route: 200 for a node rebuilt with its new config" 200 "$(curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' --data '{}' "http://127.0.0.1:$ADMIN/api/v1/nodes/exporter:nop/config")"
head -c 1100000 /dev/zero | tr '\0' a > "$TMP/big"
expect_eq "a body over 1 MiB: 413" 413 "$(curl -s -o /dev/null -w '%{http_code}' -XPOST --data-binary @"$TMP/big" "http://127.0.0.1:$ADMIN/api/v1/nodes/exporter:nop/config")"
ctype=$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$ADMIN/")
expect_eq "the page is HTML" "text/html; charset=utf-8" "$ctype"

CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
	echo "SKIPPED: the page in a browser (no chromium; scripts/deps.sh installs it)"
	kill -TERM "$PID"; wait_pid "$PID" 20
	finish
fi
render() { # prints the rendered DOM of the page
	timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
		--user-data-dir="$TMP/chrome" --virtual-time-budget=4000 --dump-dom \
		"http://127.0.0.1:$ADMIN/" 2> "$TMP/chrome.log"
}
items() { # the exporter:nop item counter in a rendered DOM
	python3 -c '
import re, sys
m = re.search(r"<g id=\"node-exporter:nop\">.*?data-items=\"(\d+)\"", sys.stdin.read(), re.S)
print(m.group(1) if m else "none")'
}
shot() { # PNG [URL]: a screenshot of the page (or URL) as painted
	timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
		--user-data-dir="$TMP/chrome" --virtual-time-budget=4000 --window-size=1200,700 \
		--hide-scrollbars --screenshot="$1" "${2:-http://127.0.0.1:$ADMIN/}" \
		2>>"$TMP/chrome.log" >/dev/null
}
dom1=$(render)
for n in receiver:otlp processor:batch@logs exporter:nop exporter:file; do
	printf '%s' "$dom1" | grep -q "<text class=\"name\"[^>]*>$n</text>" && ok "the page draws $n" ||
		bad "the page lacks $n: $(printf '%s' "$dom1" | head -c 300) $(tail -3 "$TMP/chrome.log")"
done
c1=$(printf '%s' "$dom1" | items)
expect_eq "the page shows the nop exporter's 7 items" 7 "$c1"
expect_eq "13 more records" 200 "$(post 13)"
for _ in $(seq 100); do
	api /api/v1/nodes/exporter:nop | grep -q '"sent":20' && break
	sleep 0.1
done
c2=$(render | items)
expect_eq "the page's counter follows (20 items)" 20 "$c2"
# Painted, not only in the DOM: a screenshot of the page holds far more
# than one of an empty page (the PNG of a blank 1200x700 is a few kB; the
# four boxes, their text and edges are several times that).
shot "$TMP/page.png"
shot "$TMP/blank.png" "data:text/html,<body></body>"
page=$(stat -c %s "$TMP/page.png" 2>/dev/null || echo 0)
blank=$(stat -c %s "$TMP/blank.png" 2>/dev/null || echo 0)
[ "$blank" -gt 0 ] && [ "$page" -gt $((blank * 3)) ] &&
	ok "the screenshot shows a drawn page ($page bytes; empty page $blank)" ||
	bad "the screenshot looks empty: $page bytes, empty page $blank: $(tail -3 "$TMP/chrome.log")"
kill -TERM "$PID"
wait_pid "$PID" 20
expect_eq "exit status after SIGTERM" 0 "$?"
finish
