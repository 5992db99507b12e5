#!/bin/bash
# otlp_mmap at_least_once checkpoints are untrusted input: a checkpoint
# (format 1, as earlier otflow versions wrote it) whose events position is
# 1000 on a file whose writer_index is 59, or INT64_MAX (a signed overflow
# under UBSan before), is refused, counted and logged, and the receiver
# resumes at the file's own reader index: all 60 records arrive.
source "$(dirname "$0")/lib.sh"
W="$OTF_SOURCE_DIR/tests/e2e/mmap_orig_writer.py"
MPORT=$(free_port)
cat >"$TMP/c.yaml" <<Y
receivers:
  otlp_mmap:
    path: $TMP/app.mm
    delivery: at_least_once
    scan_interval: 100ms
exporters:
  file: {path: "\${env:OTF_E2E_OUT}", flush_interval: 50ms}
extensions:
  health_check: {endpoint: "127.0.0.1:\${env:OTF_E2E_HEALTH_PORT}"}
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: basic
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: $MPORT}}}
  pipelines:
    logs: {receivers: [otlp_mmap], exporters: [file]}
runtime: {workers: 1}
Y
count() {
	python3 - "$OTF_OUT" <<'P'
import json, sys
n = set()
try:
    for l in open(sys.argv[1]):
        for rl in json.loads(l).get("resourceLogs", []):
            for sl in rl.get("scopeLogs", []):
                for lr in sl.get("logRecords", []):
                    n.add(lr["body"]["stringValue"])
except (OSError, ValueError):
    pass
print(len(n))
P
}
refused() {
	curl -s -m 2 "http://127.0.0.1:$MPORT/metrics" |
		awk '$1 == "otelcol_receiver_otlp_mmap_checkpoints_refused{receiver=\"otlp_mmap\"}" {print $2}'
}
for pos in 1000 9223372036854775807; do
	rm -f "$TMP/app.mm" "$TMP/app.mm.otflow-ckpt"
	python3 "$W" logs "$TMP/app.mm" --count 60 || bad "writer"
	python3 "$W" ckpt "$TMP/app.mm" --pos "$pos" || bad "checkpoint writer"
	otf_start "ckpt-$pos" "$TMP/c.yaml" || { bad "otflow did not start"; continue; }
	i=0
	while [ $i -lt 100 ] && [ "$(count)" != 60 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	expect_eq "position $pos: all 60 records arrive" 60 "$(count)"
	i=0
	while [ $i -lt 50 ] && [ "$(refused)" != 1 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	expect_eq "position $pos: checkpoints_refused" 1 "$(refused)"
	grep -q "checkpoint refused (events position $pos outside the ring's \[-1, writer_index 59\])" "$OTF_LOG" &&
		ok "position $pos: the refusal is logged with the reason" || bad "no refusal in the log"
	otf_alive && ok "position $pos: otflow is up" || bad "position $pos: otflow died"
	otf_stop
done
finish
