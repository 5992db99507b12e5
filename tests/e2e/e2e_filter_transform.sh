#!/usr/bin/env bash
# processors filter and transform in a real otflow (OTLP/HTTP JSON in, file
# exporter out): resource attributes detected (env, system) are added to
# the traces' resources without overriding theirs; spans on /healthz, span events named debug and log records
# below WARN are dropped; card numbers in log attributes are masked by the
# redaction processor (with its summary attributes); span names are rewritten by the OpenTelemetry
# demo's transform statements; a request left empty is answered 200 and
# writes nothing; a statement failing under error_mode propagate answers
# 400 with the OTTL error while otflow stays up; the dropped items are
# counted under the Collector's otelcol_processor_filter_*_filtered names. The file's content is
# compared exactly (names, ids, bodies, attributes). Config errors name
# file:line:col, the key and the column in the statement.
set -u
. "$(dirname "$0")/lib.sh"
CFG="$E2E_DIR/filter-transform.yaml"

span() { # NAME SPANID ROUTE EVENTS
	printf '{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"%s","name":"%s","kind":2,' "$2" "$1"
	printf '"attributes":[{"key":"http.route","value":{"stringValue":"%s"}}],"events":[%s]}' "$3" "$4"
}
cat >"$TMP/traces.json" <<J
{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"frontend"}}]},
"scopeSpans":[{"scope":{"name":"next"},"spans":[
$(span "GET /api/products/OLJCESPC7Z?currencyCode=USD" 1111111111111111 "/api/products/{id}" '{"name":"debug"},{"name":"cache.miss"}'),
$(span "GET /healthz" 2222222222222222 "/healthz" ''),
$(span "POST /api/checkout?x=1" 3333333333333333 "/api/checkout" '')]}]},
{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"probe"}}]},
"scopeSpans":[{"scope":{"name":"k8s"},"spans":[$(span "GET /healthz" 4444444444444444 "/healthz" '')]}]}]}
J
log() { # SEVERITY BODY [ATTRS]
	printf '{"severityNumber":%s,"body":{"stringValue":"%s"},"attributes":[%s]}' "$1" "$2" "${3:-}"
}
cat >"$TMP/logs.json" <<J
{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},
"scopeLogs":[{"scope":{"name":"a"},"logRecords":[$(log 9 "info dropped"),$(log 13 "warn kept" '{"key":"card","value":{"stringValue":"paid 4111111111111111"}}'),
$(log 17 "error kept" '{"key":"level","value":{"stringValue":"E"}}')]},
{"scope":{"name":"b"},"logRecords":[$(log 5 "debug dropped")]}]}]}
J
cat >"$TMP/logs-empty.json" <<J
{"resourceLogs":[{"resource":{},"scopeLogs":[{"scope":{},"logRecords":[$(log 1 "trace"),$(log 9 "info")]}]}]}
J
cat >"$TMP/logs-bad.json" <<J
{"resourceLogs":[{"resource":{},"scopeLogs":[{"scope":{},"logRecords":[$(log 13 "bad level" '{"key":"level","value":{"intValue":"3"}}')]}]}]}
J

OTF_E2E_PROM_PORT=$(free_port)
export OTF_E2E_PROM_PORT
# The env detector's input; override: false keeps the request's service.name.
export OTEL_RESOURCE_ATTRIBUTES="deployment.environment.name=e2e,service.name=from-env"
HOST=$(python3 -c 'import socket; print(socket.gethostname())')
if ! otf_start ft "$CFG"; then
	bad "otflow did not start"
	finish
fi
post() { # SIGNAL FILE -> "code body"
	curl -s -m 10 -o "$TMP/resp" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "@$2" "$OTF_URL/v1/$1"
}
expect_eq "POST traces" 200 "$(post traces "$TMP/traces.json")"
expect_eq "POST logs" 200 "$(post logs "$TMP/logs.json")"
expect_eq "POST logs that are all filtered out" 200 "$(post logs "$TMP/logs-empty.json")"
code=$(post logs "$TMP/logs-bad.json")
expect_eq "a statement failing under error_mode propagate is refused" 400 "$code"
if grep -q "cannot set severity_text to an int" "$TMP/resp"; then
	ok "the refusal carries the OTTL error"
else
	bad "refusal body: $(cat "$TMP/resp")"
fi
expect_eq "otflow still serves after the refusal" 200 "$(post traces "$TMP/traces.json")"

# The file exporter flushes every 50 ms: wait for the three requests kept.
want_lines=3
i=0
while [ $i -lt 100 ]; do
	[ -f "$OTF_OUT" ] && [ "$(wc -l <"$OTF_OUT")" -ge $want_lines ] && break
	sleep 0.1
	i=$((i + 1))
done
# Dropped items under the Collector's names, one point per filter node
# whatever the number of workers (2 healthz spans per traces request; info
# and debug, then trace and info, log records).
metric() { # NAME NODE
	curl -s -m 2 "http://127.0.0.1:$OTF_E2E_PROM_PORT/metrics" |
		awk -v n="$1{processor=\"$2\"}" '$1 == n {print $2; c++} END {if (c != 1) print "points:" c+0}'
}
expect_eq "otelcol_processor_filter_spans_filtered" 4 "$(metric otelcol_processor_filter_spans_filtered filter@traces)"
expect_eq "otelcol_processor_filter_logs_filtered" 4 "$(metric otelcol_processor_filter_logs_filtered filter@logs)"
expect_eq "otelcol_processor_dropped_spans of the filter" 4 "$(metric otelcol_processor_dropped_spans filter@traces)"
otf_stop

RES="service.name=frontend,deployment.environment.name=e2e,host.name=$HOST,os.type=linux"
cat >"$TMP/want.txt" <<W
traces frontend/next 1111111111111111 GET /api/products/{productId} events=cache.miss route=/api/products/{id} res=$RES
traces frontend/next 3333333333333333 POST /api/checkout events= route=/api/checkout res=$RES
logs cart/a 13 warn kept attrs=card=paid ****,redaction.masked.keys=card,redaction.masked.count=1
logs cart/a 17 error kept attrs=level=E sev_text=E
traces frontend/next 1111111111111111 GET /api/products/{productId} events=cache.miss route=/api/products/{id} res=$RES
traces frontend/next 3333333333333333 POST /api/checkout events= route=/api/checkout res=$RES
W
python3 - "$OTF_OUT" >"$TMP/got.txt" <<'PY'
import json, sys
def attrs(a):
    return ",".join("%s=%s" % (kv["key"], list(kv["value"].values())[0]) for kv in a or [])
def svc(r):
    for kv in r.get("resource", {}).get("attributes", []):
        if kv["key"] == "service.name":
            return kv["value"]["stringValue"]
    return "-"
for line in open(sys.argv[1]):
    d = json.loads(line)
    for rs in d.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for s in ss.get("spans", []):
                print("traces %s/%s %s %s events=%s route=%s res=%s" % (svc(rs), ss["scope"]["name"],
                      s["spanId"], s["name"], ",".join(e["name"] for e in s.get("events", [])),
                      attrs(s.get("attributes"))[len("http.route="):],
                      attrs(rs["resource"].get("attributes"))))
    for rl in d.get("resourceLogs", []):
        for sl in rl.get("scopeLogs", []):
            for r in sl.get("logRecords", []):
                st = r.get("severityText")
                print("logs %s/%s %s %s attrs=%s%s" % (svc(rl), sl["scope"]["name"],
                      r["severityNumber"], r["body"]["stringValue"], attrs(r.get("attributes")),
                      " sev_text=" + st if st else ""))
PY
if diff -u "$TMP/want.txt" "$TMP/got.txt" >"$TMP/diff.txt"; then
	ok "the file holds exactly the records left, rewritten"
else
	bad "file content differs:"
	cat "$TMP/diff.txt"
fi

# Config errors: file:line:col, the key, the column in the statement.
sed 's/replace_match(name, /replace_match(nme, /' "$CFG" >"$TMP/bad.yaml"
export OTF_E2E_PORT=1 OTF_E2E_HEALTH_PORT=2 OTF_E2E_PROM_PORT=3 OTF_E2E_OUT="$TMP/unused"
line=$(grep -n 'replace_match(name, ' "$CFG" | cut -d: -f1)
out=$("$OTF_BIN" validate --config "$TMP/bad.yaml" 2>&1)
rc=$?
if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q "bad.yaml:$line:13: .*transform.trace_statements\[0\].statements\[1\]: OTTL statement: unknown path 'nme' .* at column 15"; then
	ok "a statement that does not check is a config error with its position"
else
	bad "validate (rc $rc): $out"
fi
sed '0,/^    traces:$/s//    traces:\n      include: {match_type: strict, services: [a]}/' "$CFG" >"$TMP/legacy.yaml"
line=$(($(grep -n '^    traces:$' "$CFG" | head -1 | cut -d: -f1) + 1))
out=$("$OTF_BIN" validate --config "$TMP/legacy.yaml" 2>&1)
rc=$?
if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q "legacy.yaml:$line:16: .*filter.traces.include: the legacy traces.include form"; then
	ok "the legacy include/exclude form is refused naming the key"
else
	bad "validate legacy (rc $rc): $out"
fi
finish
