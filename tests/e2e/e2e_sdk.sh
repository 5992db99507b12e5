#!/usr/bin/env bash
# End to end with real clients and real sockets:
#  1. the OpenTelemetry JS SDK (send.mjs) exports spans, log records and
#     metrics over OTLP/HTTP protobuf, JSON, protobuf+gzip and JSON+gzip to
#     otflow (2 workers, wait_for_result), then three clients at once; after
#     SIGTERM (exit 0) the file exporter's OTLP/JSON lines hold exactly what
#     the SDK exported, every id, name, attribute, timestamp and value, with
#     nothing lost or duplicated (check.mjs sdk);
#  2. curl posts examples/pdata/traces.json (JSON), the logs example as
#     protobuf (converted by `otflow pdata convert`) and the metrics example
#     as protobuf+gzip: 200 each, and the file output is content-equal to
#     `otflow pdata convert` of the inputs (check.mjs same).
set -u
. "$(dirname "$0")/lib.sh"
EX="$OTF_SOURCE_DIR/examples/pdata"

# ---- 1. the JS SDK ----
if e2e_npm_ci; then
	ok "npm ci (or node_modules up to date)"
else
	bad "npm ci failed"
	finish
fi

if otf_start sdk; then
	ok "otflow started (port $OTF_PORT)"
	sent=()
	for run in proto:none json:none proto:gzip json:gzip; do
		proto=${run%%:*}
		comp=${run#*:}
		desc="$TMP/sent-$proto-$comp.json"
		if timeout 60 node "$E2E_DIR/send.mjs" --protocol "$proto" --compression "$comp" \
			--endpoint "$OTF_URL" >"$desc" 2>"$TMP/send-$proto-$comp.err"; then
			ok "send.mjs --protocol $proto --compression $comp: every export succeeded"
			sent+=("$desc")
		else
			bad "send.mjs --protocol $proto --compression $comp failed:"
			sed 's/^/  | /' "$TMP/send-$proto-$comp.err" | tail -20
		fi
	done
	# Three SDK clients at once, spread over both workers.
	par=()
	for run in par1:proto par2:json par3:proto; do
		name=${run%%:*}
		timeout 60 node "$E2E_DIR/send.mjs" --protocol "${run#*:}" --run "$name" --endpoint "$OTF_URL" \
			>"$TMP/sent-$name.json" 2>"$TMP/send-$name.err" &
		par+=("$!:$name")
	done
	for p in "${par[@]}"; do
		if wait "${p%%:*}"; then
			sent+=("$TMP/sent-${p#*:}.json")
		else
			bad "concurrent send.mjs ${p#*:} failed:"
			sed 's/^/  | /' "$TMP/send-${p#*:}.err" | tail -20
		fi
	done
	[ ${#sent[@]} -eq 7 ] && ok "3 concurrent send.mjs clients: every export succeeded"
	if otf_alive; then ok "otflow still running after the SDK runs"; else bad "otflow died"; fi
	otf_stop
	if [ ${#sent[@]} -gt 0 ]; then
		if timeout 60 node "$E2E_DIR/check.mjs" sdk "$OTF_OUT" "${sent[@]}" >"$TMP/check-sdk.txt" 2>&1; then
			ok "$(cat "$TMP/check-sdk.txt")"
		else
			bad "file output differs from what the SDK sent:"
			head -80 "$TMP/check-sdk.txt"
		fi
	fi
else
	bad "otflow did not start"
fi

# ---- 2. curl with the example payloads ----
post() { # PATH CONTENT-TYPE FILE [extra curl args...] -> prints the status code
	local path=$1 ct=$2 file=$3
	shift 3
	curl -s -m 10 -o "$TMP/resp.body" -w '%{http_code}' -X POST -H "Content-Type: $ct" "$@" \
		--data-binary "@$file" "$OTF_URL$path"
}

"$OTF_BIN" pdata convert --signal logs --from json --to proto "$EX/logs.json" -o "$TMP/logs.pb" ||
	bad "pdata convert logs to proto"
"$OTF_BIN" pdata convert --signal metrics --from json --to proto "$EX/metrics.json" -o "$TMP/metrics.pb" ||
	bad "pdata convert metrics to proto"
gzip -c "$TMP/metrics.pb" >"$TMP/metrics.pb.gz"
for s in traces logs metrics; do
	"$OTF_BIN" pdata convert --signal $s --from json --to json "$EX/$s.json" -o "$TMP/expect-$s.json" ||
		bad "pdata convert $s to json"
done

if otf_start curl; then
	expect_eq "curl POST traces.json (JSON)" 200 "$(post /v1/traces application/json "$EX/traces.json")"
	if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if "partialSuccess" not in d or not d["partialSuccess"].get("rejectedSpans") else 1)' "$TMP/resp.body" 2>/dev/null; then
		ok "JSON response is an ExportTraceServiceResponse without rejections"
	else
		bad "JSON response body: $(head -c 300 "$TMP/resp.body")"
	fi
	expect_eq "curl POST logs (protobuf)" 200 "$(post /v1/logs application/x-protobuf "$TMP/logs.pb")"
	expect_eq "curl POST metrics (protobuf, gzip)" 200 \
		"$(post /v1/metrics application/x-protobuf "$TMP/metrics.pb.gz" -H 'Content-Encoding: gzip')"
	otf_stop
	if timeout 60 node "$E2E_DIR/check.mjs" same "$OTF_OUT" "$TMP/expect-traces.json" \
		"$TMP/expect-logs.json" "$TMP/expect-metrics.json" >"$TMP/check-same.txt" 2>&1; then
		ok "file output equals pdata convert of the inputs: $(cat "$TMP/check-same.txt")"
	else
		bad "file output differs from the posted examples:"
		head -60 "$TMP/check-same.txt"
	fi
else
	bad "otflow did not start (curl part)"
fi

finish
