#!/usr/bin/env bash
# Plugins (otflow/plugin.h): the C example processor loaded from a config's
# `plugins:` list (path relative to the config) filters log records by
# severity, the survivors arriving with bodies, severities and timestamps
# intact; `otflow components --plugin` lists it; the ABI rules hold: an
# older factory struct loads, a newer minor and another major are refused
# naming both versions, a type clashing with a built-in, a missing entry
# point and a failing init are refused naming the plugin; a config naming a
# missing plugin is an error with file:line.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PLUGINS="${OTF_BUILD_DIR:-$(dirname "$OTF_BIN")}/plugins"
[ -f "$PLUGINS/severity_filter.so" ] || { bad "no $PLUGINS/severity_filter.so: build first"; finish; }

out=$("$OTF_BIN" components --plugin "$PLUGINS/severity_filter.so")
if printf '%s\n' "$out" | grep -Eq '^processor +severity_filter +undefined +undefined +development'; then
	ok "components --plugin lists the plugin's processor"
else
	bad "components --plugin: $(printf '%s\n' "$out" | tail -3)"
fi

PORT=$(free_port)
HEALTH=$(free_port)
mkdir -p "$TMP/conf"
cp "$PLUGINS/severity_filter.so" "$TMP/conf/"
cat > "$TMP/conf/c.yaml" <<Y
plugins: [./severity_filter.so]
receivers:
  otlp: {protocols: {http: {endpoint: "127.0.0.1:$PORT"}}}
processors:
  severity_filter: {min_severity_number: 9}
exporters:
  file: {path: "$TMP/out.jsonl", format: json, flush_interval: 50ms}
extensions:
  health_check: {endpoint: "127.0.0.1:$HEALTH"}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [severity_filter], exporters: [file]}
runtime: {workers: 2}
Y

validate() { # EXPECT_RC PLUGIN NEEDLE WHAT
	local msg rc
	msg=$("$OTF_BIN" validate --plugin "$PLUGINS/$2.so" --config "$TMP/conf/c.yaml" 2>&1)
	rc=$?
	if [ "$rc" = "$1" ] && printf '%s' "$msg" | grep -qF -- "$3"; then
		ok "$4"
	else
		bad "$4: rc $rc: $msg"
	fi
}
validate 0 abi_current "" "a plugin of the host's ABI loads"
validate 0 abi_old_factory "" "a factory struct of an older minor loads"
validate 2 abi_newer_minor "built for plugin ABI 1.9, this otflow has 1.3" "a newer minor is refused, both versions named"
validate 2 abi_other_major "built for plugin ABI 2.3, this otflow has 1.3" "another major is refused, both versions named"
validate 2 abi_clash "processor type 'batch' is already taken by a built-in component" "a type clashing with a built-in is refused"
validate 2 abi_no_init "missing entry point otf_plugin_init" "a missing entry point is refused"
validate 2 abi_fail_init "abi_fail_init.so: otf_plugin_init failed" "a failing init is refused"
sed 's#\./severity_filter.so#./nowhere.so#' "$TMP/conf/c.yaml" > "$TMP/conf/missing.yaml"
msg=$("$OTF_BIN" validate --config "$TMP/conf/missing.yaml" 2>&1)
if [ $? = 2 ] && printf '%s' "$msg" | grep -q "missing.yaml:1:.*nowhere.so: No such file"; then
	ok "a missing plugin is a config error with file:line"
else
	bad "missing plugin: $msg"
fi

OTF_E2E_PORT=$PORT "$OTF_BIN" --config "$TMP/conf/c.yaml" > "$TMP/c.log" 2>&1 &
PID=$!
track "$PID"
for _ in $(seq 100); do
	[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HEALTH/")" = 200 ] && break
	sleep 0.1
done
rec() { # BODY SEVERITY
	printf '{"timeUnixNano":"170000000000000000%d","severityNumber":%d,"body":{"stringValue":"%s"}}' "$2" "$2" "$1"
}
body="{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"svc\"}}]},\"scopeLogs\":[{\"logRecords\":[$(rec debug 5),$(rec info 9),$(rec warn 13),$(rec none 0)]}]}]}"
code=$(curl -s -m 20 -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' --data "$body" "http://127.0.0.1:$PORT/v1/logs")
expect_eq "request accepted" 200 "$code"
only_debug="{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[$(rec trace 1)]}]}]}"
code=$(curl -s -m 20 -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' --data "$only_debug" "http://127.0.0.1:$PORT/v1/logs")
expect_eq "a request left empty is acknowledged" 200 "$code"
for _ in $(seq 100); do
	grep -q '"warn"' "$TMP/out.jsonl" 2>/dev/null && break
	sleep 0.1
done
got=$(python3 - "$TMP/out.jsonl" <<'P'
import json, sys
out = []
for line in open(sys.argv[1]):
    for rl in json.loads(line)["resourceLogs"]:
        svc = [a["value"]["stringValue"] for a in rl["resource"].get("attributes", [])]
        for sl in rl["scopeLogs"]:
            for r in sl["logRecords"]:
                out.append("%s/%s/%s/%s" % (",".join(svc), r["body"]["stringValue"],
                                            r.get("severityNumber", 0), r["timeUnixNano"]))
print(" ".join(out))
P
)
expect_eq "the records at or above INFO, and the one without severity, arrive intact" \
	"svc/info/9/1700000000000000009 svc/warn/13/17000000000000000013 svc/none/0/1700000000000000000" "$got"
kill -TERM "$PID"
wait_pid "$PID" 20
expect_eq "exit status after SIGTERM" 0 "$?"

# A plugin that fails a message: a client waiting for the result is told, with the plugin's
# reason, and the process stays up for the next request.
cp "$PLUGINS/abi_reject.so" "$TMP/conf/"
sed -e 's#\./severity_filter.so#./abi_reject.so#' \
	-e 's#severity_filter: {min_severity_number: 9}#abi_reject: {}#' \
	-e 's#processors: \[severity_filter\]#processors: [abi_reject]#' \
	-e 's#otlp: {protocols:#otlp: {wait_for_result: true, protocols:#' \
	"$TMP/conf/c.yaml" > "$TMP/conf/reject.yaml"
OTF_E2E_PORT=$PORT "$OTF_BIN" --config "$TMP/conf/reject.yaml" > "$TMP/r.log" 2>&1 &
PID=$!
track "$PID"
for _ in $(seq 100); do
	[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HEALTH/")" = 200 ] && break
	sleep 0.1
done
for i in 1 2; do
	code=$(curl -s -m 20 -o "$TMP/reject.body" -w '%{http_code}' -XPOST -H 'Content-Type: application/json' --data "$body" "http://127.0.0.1:$PORT/v1/logs")
	expect_eq "request $i refused by the plugin: 400 (permanent)" 400 "$code"
	if grep -q 'abi_reject: records refused by the plugin' "$TMP/reject.body"; then
		ok "request $i: the answer carries the plugin's reason"
	else
		bad "request $i: answer body $(head -c 300 "$TMP/reject.body")"
	fi
done
kill -TERM "$PID"
wait_pid "$PID" 20
expect_eq "exit status after SIGTERM" 0 "$?"
finish
