#!/bin/sh
# Regenerates the fuzz seed corpus (tests/fuzz/corpus/{pb,json}; http and
# grpc via gen-fuzz-corpus-net.py) from the
# bundled samples with our own CLI: protobuf and compact OTLP/JSON of each
# sample, plus each scope group cut out on its own, so small seeds exist too.
# Usage: scripts/gen-fuzz-corpus.sh [BUILD_DIR]   (default: build)
set -eu
cd "$(dirname "$0")/.."
bin=${1:-build}/otflow
[ -x "$bin" ] || { echo "gen-fuzz-corpus: build first ($bin not found)" >&2; exit 2; }
pb=tests/fuzz/corpus/pb
json=tests/fuzz/corpus/json
rm -rf "$pb" "$json"
mkdir -p "$pb" "$json"
for sig in traces metrics logs; do
	"$bin" pdata convert --signal "$sig" --from json --to proto \
		-o "$pb/$sig.pb" "examples/pdata/$sig.json"
	"$bin" pdata convert --signal "$sig" --from proto --to json \
		-o "$json/$sig.json" "$pb/$sig.pb"
	# The first resource only: shorter seeds reach deep fields sooner.
	python3 - "$sig" "$json/$sig.json" "$json/$sig-first.json" <<'PY'
import json, sys
sig, src, dst = sys.argv[1:]
key = {"traces": "resourceSpans", "metrics": "resourceMetrics", "logs": "resourceLogs"}[sig]
doc = json.load(open(src))
doc[key] = doc[key][:1]
open(dst, "w").write(json.dumps(doc, separators=(",", ":")))
PY
	"$bin" pdata convert --signal "$sig" --from json --to proto \
		-o "$pb/$sig-first.pb" "$json/$sig-first.json"
	"$bin" pdata convert --signal "$sig" --from proto --to json \
		-o "$json/$sig-first.json" "$pb/$sig-first.pb"
done
# fuzz_routing_records: byte 0 = signal (0 traces, 1 metrics, 2 logs), + 4
# the table with a datapoint entry, + 8 the X-Tenant header; then the pb.
routing=tests/fuzz/corpus/routing
rm -rf "$routing"
mkdir -p "$routing"
python3 - "$pb" "$routing" <<'PY'
import os, sys
pb, out = sys.argv[1:]
for name in sorted(os.listdir(pb)):
    sig = {"traces": 0, "metrics": 1, "logs": 2}[name.split(".")[0].split("-")[0]]
    body = open(os.path.join(pb, name), "rb").read()
    for extra in (0, 4, 12):
        with open(os.path.join(out, "%s-%d" % (name, extra)), "wb") as f:
            f.write(bytes([sig | extra]) + body)
PY
scripts/gen-fuzz-corpus-net.py
echo "gen-fuzz-corpus: $(find "$pb" -type f | wc -l) protobuf and $(find "$json" -type f | wc -l) JSON seeds"
