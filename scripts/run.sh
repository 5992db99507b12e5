#!/bin/sh
# make run: the main job. Runs the collector on CONFIG (default
# examples/default.yaml: OTLP/gRPC on localhost:4317 and OTLP/HTTP on
# localhost:4318 -> debug exporter and
# file exporter writing otflow-output.jsonl). Stop it with Ctrl-C.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
config=${2:-examples/default.yaml}
echo "otflow: OTLP/gRPC on localhost:4317, OTLP/HTTP on localhost:4318, metrics on localhost:8888/metrics, health on localhost:13133"
echo "otflow: try: curl -XPOST -H 'Content-Type: application/json' --data @examples/pdata/traces.json localhost:4318/v1/traces"
exec "$build/otflow" --config "$config"
