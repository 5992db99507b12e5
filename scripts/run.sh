#!/bin/sh
# make run: the main job. Until the engine lands this runs the codec's
# command-line tool on the bundled samples: OTLP/JSON -> protobuf -> summary
# -> OTLP/JSON again.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
bin="$build/otflow"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for sig in traces metrics logs; do
	in="examples/pdata/$sig.json"
	echo "== $in"
	"$bin" pdata convert --signal "$sig" --from json --to proto "$in" -o "$tmp/$sig.pb"
	"$bin" pdata summary --signal "$sig" "$tmp/$sig.pb"
	"$bin" pdata convert --signal "$sig" --from proto --to json "$tmp/$sig.pb"
	echo
done
