#!/usr/bin/env bash
# Fused stages (channel elimination) with a real otflow and curl: OTLP/HTTP
# -> batch -> attributes -> file. batch -> attributes -> file is a linear
# chain, so it is one fused stage: print-dag and /api/v1/dag name it, and
# with runtime.fuse: false neither does. The same requests through both
# give the same file, every record (body, the attribute inserted) as
# posted, every client answered 200. The admin page (headless Chromium)
# draws the stage's edges bold.
set -u
. "$(dirname "$0")/lib.sh"

cat > "$TMP/fuse.yaml" <<'Y'
receivers: {otlp: {wait_for_result: true, protocols: {http: {endpoint: "127.0.0.1:${env:OTF_E2E_PORT}"}}}}
processors:
  batch: {timeout: 20ms}
  attributes: {actions: [{key: stage, value: fused, action: insert}]}
exporters: {file: {path: "${env:OTF_E2E_OUT}", format: json}}
extensions: {health_check: {endpoint: "127.0.0.1:${env:OTF_E2E_HEALTH_PORT}"}}
service:
  extensions: [health_check]
  admin: {endpoint: "127.0.0.1:${env:OTF_E2E_ADMIN_PORT}"}
  telemetry: {metrics: {level: none}}
  pipelines: {logs: {receivers: [otlp], processors: [batch, attributes], exporters: [file]}}
runtime:
  workers: 1
  fuse: ${env:OTF_E2E_FUSE}
Y
STAGE="fused stage 1: processor:batch@logs -> processor:attributes@logs -> exporter:file"

# print-dag, both ways (OTFLOW_FUSE=0 from the *_nofuse variant: none).
for fuse in true false; do
	OTF_E2E_PORT=1 OTF_E2E_HEALTH_PORT=2 OTF_E2E_ADMIN_PORT=3 OTF_E2E_OUT=/dev/null OTF_E2E_FUSE=$fuse \
		"$OTF_BIN" print-dag --config "$TMP/fuse.yaml" > "$TMP/dag-$fuse.txt" 2>&1 ||
		bad "print-dag (fuse $fuse): $(cat "$TMP/dag-$fuse.txt")"
done
if [ "${OTFLOW_FUSE:-}" != 0 ]; then
	grep -qxF "$STAGE" "$TMP/dag-true.txt" &&
		grep -qxF "  -> exporter:file [logs] fused" "$TMP/dag-true.txt" &&
		grep -qxF "  -> processor:batch@logs [logs]" "$TMP/dag-true.txt" &&
		ok "print-dag: the fused stage, and the receiver's edge is a channel" ||
		bad "print-dag: $(cat "$TMP/dag-true.txt")"
fi
grep -q "^exporter exporter:file" "$TMP/dag-false.txt" && ! grep -q fused "$TMP/dag-false.txt" &&
	ok "print-dag with runtime.fuse: false: no fused stage" ||
	bad "runtime.fuse: false: $(cat "$TMP/dag-false.txt")"

post() { # request $1 with $2 records r<$1>-<i>
	local recs="" i
	for i in $(seq "$2"); do recs="$recs${recs:+,}{\"body\":{\"stringValue\":\"r$1-$i\"}}"; done
	curl -s -m 10 -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
		--data "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[$recs]}]}]}" "$OTF_URL/v1/logs"
}

CHROME=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROME" ] || echo "SKIPPED: the admin page in a browser (no chromium; scripts/deps.sh installs it)"

# The same requests with fusing on and off: same records out.
for fuse in true false; do
	export OTF_E2E_ADMIN_PORT OTF_E2E_FUSE=$fuse
	OTF_E2E_ADMIN_PORT=$(free_port)
	if ! otf_start "run-$fuse" "$TMP/fuse.yaml"; then
		bad "otflow did not start (fuse $fuse)"
		finish
	fi
	codes=""
	for r in 1 2 3 4 5; do codes="$codes$(post "$r" $((r * 3)))"; done
	expect_eq "fuse $fuse: 5 requests answered 200 (wait_for_result)" 200200200200200 "$codes"
	curl -s -m 5 "http://127.0.0.1:$OTF_E2E_ADMIN_PORT/api/v1/dag" > "$TMP/dag-$fuse.json"
	if [ "$fuse" = true ] && [ "${OTFLOW_FUSE:-}" != 0 ] && [ -n "$CHROME" ]; then
		# The live page draws the stage's two edges bold and counts it.
		dom=$(timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
			--user-data-dir="$TMP/chrome" --virtual-time-budget=4000 --dump-dom \
			"http://127.0.0.1:$OTF_E2E_ADMIN_PORT/" 2> "$TMP/chrome.log")
		expect_eq "the admin page: fused edges drawn bold, the stage counted" "2 1" \
			"$(printf '%s' "$dom" | grep -o 'class="edge fused"' | wc -l) $(printf '%s' "$dom" |
				grep -c '3 edges, 1 fused stage (bold edges')"
	fi
	otf_stop
	got=$(python3 - "$TMP/dag-$fuse.json" <<'P'
import json, sys
d = json.load(open(sys.argv[1]))
print(json.dumps(d["fused_stages"]), sum(1 for e in d["edges"] if e["fused"]),
      {n["id"]: n["counters"]["sent"] for n in d["nodes"]}["exporter:file"])
P
	)
	if [ "$fuse" = true ] && [ "${OTFLOW_FUSE:-}" != 0 ]; then
		want='[{"stage": 1, "nodes": ["processor:batch@logs", "processor:attributes@logs", "exporter:file"]}] 2 45'
	else
		want='[] 0 45'
	fi
	expect_eq "fuse $fuse: /api/v1/dag fused_stages, fused edges, items the exporter sent" "$want" "$got"
	python3 - "$OTF_OUT" > "$TMP/records-$fuse.txt" <<'P'
import json, sys
for line in open(sys.argv[1]):
    for rl in json.loads(line)["resourceLogs"]:
        for sl in rl["scopeLogs"]:
            for r in sl["logRecords"]:
                attrs = {a["key"]: a["value"]["stringValue"] for a in r.get("attributes", [])}
                print(r["body"]["stringValue"], attrs.get("stage"))
P
done
want=$(for r in 1 2 3 4 5; do for i in $(seq $((r * 3))); do echo "r$r-$i fused"; done; done)
expect_eq "fused: every record as posted, in order, with the attribute" "$want" "$(cat "$TMP/records-true.txt")"
if cmp -s "$TMP/run-true.jsonl" "$TMP/run-false.jsonl"; then
	ok "runtime.fuse true and false wrote identical files ($(wc -l < "$TMP/run-true.jsonl") requests)"
else
	bad "the files differ with and without fusing"
	diff "$TMP/records-true.txt" "$TMP/records-false.txt" | head
fi
finish
