#!/bin/sh
# docs/components.md must be what the components' schemas generate.
set -eu
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
sh "$OTF_SOURCE_DIR/scripts/gen-components-doc.sh" "$OTF_BIN" > "$tmp"
if ! diff -u "$OTF_SOURCE_DIR/docs/components.md" "$tmp"; then
	echo "docs/components.md is out of date: run scripts/gen-components-doc.sh build/otflow > docs/components.md"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "1 passed, 0 failed"
