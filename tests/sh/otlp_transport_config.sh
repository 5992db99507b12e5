#!/bin/sh
# The otlp receiver's connection keys: http read_header_timeout /
# read_timeout / idle_timeout and grpc read_buffer_size / write_buffer_size
# validate (exit 0), and out-of-range values exit 2 naming file, line and
# key; `otflow components` documents them (no key accepted silently).
set -u
. "$OTF_SOURCE_DIR/tests/support/check.sh"

# cfg FILE GRPC_EXTRA HTTP_EXTRA: a config with those lines under each protocol.
cfg() {
	cat >"$1" <<Y
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:4317
        $2
      http:
        endpoint: 127.0.0.1:4318
        $3
exporters:
  debug:
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
Y
}

cfg "$tmp/ok.yaml" "read_buffer_size: 1KiB" "read_header_timeout: 2s"
printf '        read_timeout: 30s\n        idle_timeout: 10s\n' >"$tmp/extra"
sed -i "/read_header_timeout/r $tmp/extra" "$tmp/ok.yaml"
sed -i 's/^        read_buffer_size: 1KiB$/        read_buffer_size: 1KiB\n        write_buffer_size: 64KiB/' "$tmp/ok.yaml"
check "all connection keys validate" 0 "" "$OTF_BIN" validate --config "$tmp/ok.yaml"

cfg "$tmp/rb.yaml" "read_buffer_size: 32MiB" ""
check "read_buffer_size above 16MiB" 2 "rb.yaml:6:27: receivers.otlp.protocols.grpc.read_buffer_size: 32MiB is out of range: expected at most 16MiB" \
	"$OTF_BIN" validate --config "$tmp/rb.yaml"
cfg "$tmp/wb.yaml" "write_buffer_size: 17MiB" ""
check "write_buffer_size above 16MiB" 2 "wb.yaml:6:28: receivers.otlp.protocols.grpc.write_buffer_size: 17MiB is out of range: expected at most 16MiB" \
	"$OTF_BIN" validate --config "$tmp/wb.yaml"
cfg "$tmp/rh.yaml" "" "read_header_timeout: 0s"
check "read_header_timeout 0" 2 "rh.yaml:9:30: receivers.otlp.protocols.http.read_header_timeout: 0s is out of range: expected 1ms..1000h" \
	"$OTF_BIN" validate --config "$tmp/rh.yaml"
cfg "$tmp/rt.yaml" "" "read_timeout: -1s"
check "read_timeout negative" 2 "receivers.otlp.protocols.http.read_timeout: -1s is out of range: expected 0s..1000h" \
	"$OTF_BIN" validate --config "$tmp/rt.yaml"

comps=$("$OTF_BIN" components --format markdown 2>&1)
for k in read_header_timeout read_timeout read_buffer_size write_buffer_size; do
	if printf '%s' "$comps" | grep -F "$k" | grep -qiF "accepted for collector compatibility"; then
		echo "FAIL $k is documented as accepted but unused"
		fail=$((fail + 1))
	elif printf '%s' "$comps" | grep -qF "$k"; then
		echo "ok $k documented"
		pass=$((pass + 1))
	else
		echo "FAIL $k missing from otflow components"
		fail=$((fail + 1))
	fi
done

check_done
