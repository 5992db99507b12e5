#!/bin/sh
# file_storage and sending_queue.storage configuration: errors name the
# file, line and key; compaction keys are accepted with a warning (they
# have no effect: consumed WAL segments are deleted as they go).
set -u
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { # WHAT STATUS_WANT PATTERN CONFIG_BODY
	printf '%s\n' "$4" >"$tmp/c.yaml"
	out=$("$OTF_BIN" validate --config "$tmp/c.yaml" 2>&1)
	st=$?
	if [ "$st" -eq "$2" ] && printf '%s' "$out" | grep -q -- "$3"; then
		pass=$((pass + 1))
		echo "ok: $1"
	else
		fail=$((fail + 1))
		echo "FAIL: $1: status $st, output:"
		printf '%s\n' "$out" | sed 's/^/  | /'
	fi
}
pipe() { # STORAGE_LINE EXTENSION_BODY
	cat <<Y
receivers: {nop: }
exporters:
  otlp:
    endpoint: 127.0.0.1:4317
    tls: {insecure: true}
    sending_queue: $1
extensions:
  file_storage/q:
$2
service:
  extensions: [file_storage/q]
  pipelines:
    logs: {receivers: [nop], exporters: [otlp]}
Y
}
D="    directory: $tmp
"
check "compaction keys warn with file:line:key" 0 \
	"c.yaml:11:.*extensions.file_storage/q.compaction.on_rebound: accepted and ignored" \
	"$(pipe '{storage: file_storage/q}' "$D    compaction: {on_start: false,
      on_rebound: true}")"
check "a valid persistent queue" 0 "configuration is valid" "$(pipe '{storage: file_storage/q}' "$D")"
check "missing directory without create_directory" 2 \
	"c.yaml:9:.*file_storage/q.*$tmp/none: No such file or directory (set create_directory: true" \
	"$(pipe '{storage: file_storage/q}' "    directory: $tmp/none")"
check "bad directory_permissions" 2 "directory_permissions: '0999' is not an octal mode" \
	"$(pipe '{storage: file_storage/q}' "$D    directory_permissions: \"0999\"")"
check "storage naming an unknown extension" 2 "c.yaml:6:.*sending_queue.storage" \
	"$(pipe '{storage: file_storage/other}' "$D")"
check "storage without a queue" 2 "sending_queue.storage: needs enabled: true" \
	"$(pipe '{enabled: false, storage: file_storage/q}' "$D")"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
