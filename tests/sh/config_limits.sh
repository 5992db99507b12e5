#!/bin/sh
# Config loader limits from the command line: an endless file (/dev/zero)
# is refused at the size bound naming the file, under an address-space
# limit far below what reading it whole would need; runtime.workers past
# the per-core bound and unknown extension types fail validation naming
# file, line and key.
set -u
. "$OTF_SOURCE_DIR/tests/support/check.sh"

# 1 GiB of address space: the 16 MiB bound fits, reading /dev/zero whole
# does not. A sanitizer build cannot run under it (its shadow memory
# reserves terabytes of address space): there only the timeout bounds it.
limit="ulimit -v 1048576 2>/dev/null;"
sh -c "$limit exec \"$OTF_BIN\" --version" >/dev/null 2>&1 || limit=""
check dev_zero 2 "/dev/zero: the file is larger than 16 MiB" \
	sh -c "$limit exec timeout 20 \"$OTF_BIN\" validate --config /dev/zero"

cat > "$tmp/workers.yaml" <<'Y'
receivers: {nop: }
exporters: {nop: }
service: {pipelines: {traces: {receivers: [nop], exporters: [nop]}}}
runtime:
  workers: 100000
Y
check workers 2 "workers.yaml:5:12: runtime.workers: 100000 is out of range" \
	"$OTF_BIN" validate --config "$tmp/workers.yaml"

cat > "$tmp/ext.yaml" <<'Y'
receivers: {nop: }
exporters: {nop: }
extensions:
  health_check:
  not_an_extension/1: {}
service: {pipelines: {traces: {receivers: [nop], exporters: [nop]}}}
Y
check unknown_extension 2 "ext.yaml:5:23: extensions.not_an_extension/1: unknown extension type 'not_an_extension'" \
	"$OTF_BIN" validate --config "$tmp/ext.yaml"

check_done
