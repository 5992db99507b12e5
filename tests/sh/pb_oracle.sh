#!/bin/sh
# protoc as an independent oracle for the OTLP protobuf codec, both ways:
#  (a) bytes our encoder writes (from a JSON document written here) are read
#      by `protoc --decode_raw`; the expected field numbers, wire types and
#      values must appear (trace ids as bytes, fixed64 times, zigzag sint32,
#      sfixed64, packed arrays, optional doubles that are present but 0);
#  (b) bytes `protoc --encode` makes from text format (with the schema in
#      tests/proto/otlp.proto) are decoded by ours to the expected OTLP/JSON
#      fields, and our re-encoding is byte-identical to protobuf's.
# Traces, metrics (all five types) and logs. Conversions use the test tool
# tests/tools/otf_pdata_tool (the codec API, no CLI); when `otflow pdata
# convert` works, its output must equal the tool's.
# Prints "N passed, M failed"; exits non-zero on any failure.
set -u

src=${OTF_SOURCE_DIR:?OTF_SOURCE_DIR not set}
build=${OTF_BUILD_DIR:?OTF_BUILD_DIR not set}
tool=$build/tests/tools/otf_pdata_tool
schema=$src/tests/proto

if ! command -v protoc >/dev/null 2>&1; then
	echo "SKIP: protoc not installed"
	exit 0
fi
[ -x "$tool" ] || { echo "missing $tool" >&2; exit 1; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() {
	fail=$((fail + 1))
	echo "FAIL: $*" >&2
}

# The CLI is compared only when its convert command works at all.
cli=0
if [ -n "${OTF_BIN:-}" ] && [ -x "$OTF_BIN" ] &&
	printf '{}' | "$OTF_BIN" pdata convert --signal logs --from json --to proto - \
		>/dev/null 2>&1; then
	cli=1
fi

# conv SIGNAL FROM TO IN OUT
conv() {
	if ! "$tool" "$1" "$2" "$3" <"$4" >"$5"; then
		bad "$1: $2 -> $3 conversion of $(basename "$4") failed"
		return 1
	fi
	if [ "$cli" = 1 ]; then
		# (the CLI may end JSON with a newline; $(...) drops trailing ones)
		if "$OTF_BIN" pdata convert --signal "$1" --from "$2" --to "$3" -o "$5.cli" "$4" &&
			{ cmp -s "$5" "$5.cli" ||
				{ [ "$3" = json ] && [ "$(cat "$5")" = "$(cat "$5.cli")" ]; }; }; then
			ok
		else
			bad "$1: otflow pdata convert --from $2 --to $3 differs from the codec"
		fi
	fi
	return 0
}

# decode_raw's nested text as one line per scalar with its field-number path:
#   1 { 2 { 5: "x" } }  ->  1.2.5: "x"
flatten() {
	awk '
	/^ *[0-9]+ \{$/ { stack[++d] = $1; next }
	/^ *\}$/ { d--; next }
	{
		line = $0
		sub(/^ +/, "", line)
		p = ""
		for (k = 1; k <= d; k++)
			p = p stack[k] "."
		print p line
	}'
}

# raw_has FILE LINE...: each LINE must be a line of the flattened decode_raw.
raw_has() {
	f=$1
	shift
	for want in "$@"; do
		if grep -qxF -- "$want" "$f"; then
			ok
		else
			bad "decode_raw of $(basename "$f" .raw) lacks: $want"
		fi
	done
}

# json_has FILE FRAGMENT...: each fragment must occur in our JSON output.
json_has() {
	f=$1
	shift
	for want in "$@"; do
		if grep -qF -- "$want" "$f"; then
			ok
		else
			bad "$(basename "$f"): missing $want"
		fi
	done
}

# ---- (a) our encoder, read by protoc --decode_raw ----

# encode_raw SIGNAL NAME: $tmp/NAME.json -> $tmp/NAME.pb -> $tmp/NAME.raw
encode_raw() {
	conv "$1" json proto "$tmp/$2.json" "$tmp/$2.pb" || return 0
	if protoc --decode_raw <"$tmp/$2.pb" >"$tmp/$2.txt"; then
		ok
		flatten <"$tmp/$2.txt" >"$tmp/$2.raw"
	else
		bad "protoc --decode_raw rejects our $2 encoding"
		: >"$tmp/$2.raw"
	fi
}

# Strings are chosen so that decode_raw cannot mistake them for messages
# (their first byte is not a valid tag with a complete field after it).
cat >"$tmp/a_traces.json" <<'JSON'
{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"oracle-svc"}}]},
 "scopeSpans":[{"scope":{"name":"lib","version":"1.2"},
  "spans":[{"traceId":"4142434445464748494a4b4c4d4e4f50","spanId":"6162636465666768",
   "parentSpanId":"696a6b6c6d6e6f70","name":"GET /x","kind":2,
   "startTimeUnixNano":"1700000000000000001","endTimeUnixNano":"1700000000000000002",
   "attributes":[{"key":"http.status","value":{"intValue":"-200"}},
                 {"key":"ratio","value":{"doubleValue":0.25}},
                 {"key":"ok","value":{"boolValue":true}}],
   "status":{"code":2,"message":"boom"},"flags":257}]}]}]}
JSON
encode_raw traces a_traces
raw_has "$tmp/a_traces.raw" \
	'1.1.1.1: "service.name"' \
	'1.1.1.2.1: "oracle-svc"' \
	'1.2.1.1: "lib"' \
	'1.2.1.2: "1.2"' \
	'1.2.2.1: "ABCDEFGHIJKLMNOP"' \
	'1.2.2.2: "abcdefgh"' \
	'1.2.2.4: "ijklmnop"' \
	'1.2.2.5: "GET /x"' \
	'1.2.2.6: 2' \
	'1.2.2.7: 0x17979cfe362a0001' \
	'1.2.2.8: 0x17979cfe362a0002' \
	'1.2.2.9.1: "http.status"' \
	'1.2.2.9.2.3: 18446744073709551416' \
	'1.2.2.9.2.4: 0x3fd0000000000000' \
	'1.2.2.9.2.2: 1' \
	'1.2.2.15.2: "boom"' \
	'1.2.2.15.3: 2' \
	'1.2.2.16: 0x00000101'

cat >"$tmp/a_metrics.json" <<'JSON'
{"resourceMetrics":[{"scopeMetrics":[{"metrics":[
 {"name":"g","gauge":{"dataPoints":[{"asDouble":-2.5,"timeUnixNano":"3"}]}},
 {"name":"s","unit":"By","sum":{"dataPoints":[{"asInt":"-7",
   "attributes":[{"key":"k","value":{"stringValue":"v"}}]}],
   "aggregationTemporality":2,"isMonotonic":true}},
 {"name":"h","histogram":{"dataPoints":[{"count":"5","sum":0,"bucketCounts":["2","3"],
   "explicitBounds":[1.5],"min":-1,"max":9}],"aggregationTemporality":1}},
 {"name":"e","exponentialHistogram":{"dataPoints":[{"scale":-3,"zeroCount":"4",
   "positive":{"offset":-2,"bucketCounts":["1","300"]},"negative":{"offset":5}}],
   "aggregationTemporality":2}},
 {"name":"q","summary":{"dataPoints":[{"count":"2","sum":7.5,
   "quantileValues":[{"quantile":0.5,"value":3}]}]}}]}]}]}
JSON
encode_raw metrics a_metrics
# Metric.data oneof: gauge 5, sum 7, histogram 9, exponential_histogram 10,
# summary 11. sint32 is zigzag (-3 -> 5, -2 -> 3, 5 -> 10); sfixed64 -7 is
# two's complement; packed fixed64/double/varint arrays are one bytes field.
raw_has "$tmp/a_metrics.raw" \
	'1.2.2.1: "g"' \
	'1.2.2.5.1.3: 0x0000000000000003' \
	'1.2.2.5.1.4: 0xc004000000000000' \
	'1.2.2.3: "By"' \
	'1.2.2.7.1.6: 0xfffffffffffffff9' \
	'1.2.2.7.1.7.1: "k"' \
	'1.2.2.7.2: 2' \
	'1.2.2.7.3: 1' \
	'1.2.2.9.1.4: 0x0000000000000005' \
	'1.2.2.9.1.5: 0x0000000000000000' \
	'1.2.2.9.1.6: "\002\000\000\000\000\000\000\000\003\000\000\000\000\000\000\000"' \
	'1.2.2.9.1.7: "\000\000\000\000\000\000\370?"' \
	'1.2.2.9.1.11: 0xbff0000000000000' \
	'1.2.2.9.1.12: 0x4022000000000000' \
	'1.2.2.9.2: 1' \
	'1.2.2.10.1.6: 5' \
	'1.2.2.10.1.7: 0x0000000000000004' \
	'1.2.2.10.1.8.1: 3' \
	'1.2.2.10.1.8.2: "\001\254\002"' \
	'1.2.2.10.1.9.1: 10' \
	'1.2.2.10.2: 2' \
	'1.2.2.11.1.4: 0x0000000000000002' \
	'1.2.2.11.1.5: 0x401e000000000000' \
	'1.2.2.11.1.6.1: 0x3fe0000000000000' \
	'1.2.2.11.1.6.2: 0x4008000000000000'

cat >"$tmp/a_logs.json" <<'JSON'
{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1","observedTimeUnixNano":"2",
 "severityNumber":17,"severityText":"Warn","body":{"stringValue":"disk full"},
 "attributes":[{"key":"n","value":{"intValue":"42"}}],"droppedAttributesCount":3,"flags":1,
 "traceId":"4142434445464748494a4b4c4d4e4f50","spanId":"6162636465666768","eventName":"ev.x"}]}]}]}
JSON
encode_raw logs a_logs
raw_has "$tmp/a_logs.raw" \
	'1.2.2.1: 0x0000000000000001' \
	'1.2.2.11: 0x0000000000000002' \
	'1.2.2.2: 17' \
	'1.2.2.3: "Warn"' \
	'1.2.2.5.1: "disk full"' \
	'1.2.2.6.1: "n"' \
	'1.2.2.6.2.3: 42' \
	'1.2.2.7: 3' \
	'1.2.2.8: 0x00000001' \
	'1.2.2.9: "ABCDEFGHIJKLMNOP"' \
	'1.2.2.10: "abcdefgh"' \
	'1.2.2.12: "ev.x"'

# ---- (b) protoc --encode from text format, read by our decoder ----

# decode_check SIGNAL TYPE NAME: $tmp/NAME.txt -> protoc -> ours -> NAME.out.json
decode_check() {
	if ! protoc -I "$schema" --encode="otlp.$2" otlp.proto <"$tmp/$3.txt" >"$tmp/$3.pb"; then
		bad "protoc --encode=otlp.$2 failed on $3"
		return 0
	fi
	conv "$1" proto json "$tmp/$3.pb" "$tmp/$3.out.json" || return 0
	# canonical both: our re-encoding equals protobuf's bytes
	conv "$1" proto proto "$tmp/$3.pb" "$tmp/$3.re.pb" || return 0
	if cmp -s "$tmp/$3.pb" "$tmp/$3.re.pb"; then ok; else bad "$3: re-encoding differs from protoc's"; fi
	ok
}

cat >"$tmp/b_traces.txt" <<'TXT'
resource_spans {
  resource {
    attributes { key: "host" value { string_value: "h\303\251" } }
    dropped_attributes_count: 3
    entity_refs { type: "service" id_keys: "service.name" description_keys: "d1" description_keys: "d2" }
  }
  scope_spans {
    scope { name: "lib" version: "1.0" dropped_attributes_count: 1 }
    spans {
      trace_id: "ABCDEFGHIJKLMNOP"
      span_id: "abcdefgh"
      parent_span_id: "ijklmnop"
      trace_state: "k=v"
      flags: 256
      name: "op"
      kind: 3
      start_time_unix_nano: 18446744073709551615
      end_time_unix_nano: 1700000000000000000
      attributes { key: "arr" value { array_value { values { int_value: -5 } values { double_value: 1.5 }
                                                    values { bytes_value: "\001\002\377" } values { bool_value: true } } } }
      attributes { key: "kv" value { kvlist_value { values { key: "in" value { string_value: "x" } } } } }
      attributes { key: "empty" value { } }
      dropped_attributes_count: 2
      events { time_unix_nano: 5 name: "ev" attributes { key: "ea" value { int_value: 1 } } dropped_attributes_count: 9 }
      dropped_events_count: 4
      links { trace_id: "PONMLKJIHGFEDCBA" span_id: "hgfedcba" trace_state: "t" flags: 7 dropped_attributes_count: 1 }
      dropped_links_count: 6
      status { message: "bad" code: 2 }
    }
    schema_url: "https:s1"
  }
  schema_url: "https:r1"
}
TXT
decode_check traces TracesData b_traces
json_has "$tmp/b_traces.out.json" \
	'"stringValue":"hé"' \
	'"entityRefs":[{"type":"service","idKeys":["service.name"],"descriptionKeys":["d1","d2"]}]' \
	'"scope":{"name":"lib","version":"1.0","droppedAttributesCount":1}' \
	'"traceId":"4142434445464748494a4b4c4d4e4f50"' \
	'"spanId":"6162636465666768"' \
	'"parentSpanId":"696a6b6c6d6e6f70"' \
	'"traceState":"k=v"' \
	'"flags":256' \
	'"name":"op"' \
	'"kind":3' \
	'"startTimeUnixNano":"18446744073709551615"' \
	'"endTimeUnixNano":"1700000000000000000"' \
	'{"intValue":"-5"},{"doubleValue":1.5},{"bytesValue":"AQL/"},{"boolValue":true}' \
	'"kvlistValue":{"values":[{"key":"in","value":{"stringValue":"x"}}]}' \
	'"key":"empty"' \
	'"droppedAttributesCount":2' \
	'"timeUnixNano":"5","name":"ev"' \
	'"droppedAttributesCount":9' \
	'"droppedEventsCount":4' \
	'"traceId":"504f4e4d4c4b4a494847464544434241"' \
	'"spanId":"6867666564636261"' \
	'"traceState":"t"' \
	'"flags":7' \
	'"droppedLinksCount":6' \
	'"message":"bad"' \
	'"code":2' \
	'"schemaUrl":"https:s1"' \
	'"schemaUrl":"https:r1"'

cat >"$tmp/b_metrics.txt" <<'TXT'
resource_metrics {
  scope_metrics {
    metrics {
      name: "g" description: "gd" unit: "1"
      gauge { data_points { as_double: -0.0 time_unix_nano: 3 flags: 1 } data_points { as_int: -9 } }
      metadata { key: "m" value { int_value: 1 } }
    }
    metrics {
      name: "s"
      sum {
        data_points {
          as_int: 9223372036854775807 start_time_unix_nano: 1
          exemplars { as_int: -3 span_id: "abcdefgh" trace_id: "ABCDEFGHIJKLMNOP" time_unix_nano: 4
                      filtered_attributes { key: "f" value { bool_value: false } } }
          exemplars { as_double: 2.5 }
        }
        aggregation_temporality: 1 is_monotonic: true
      }
    }
    metrics {
      name: "h"
      histogram {
        data_points { count: 5 sum: 0 bucket_counts: 2 bucket_counts: 3 explicit_bounds: 1.5 min: -1 max: 1e300 }
        aggregation_temporality: 2
      }
    }
    metrics {
      name: "e"
      exponential_histogram {
        data_points { count: 7 sum: -4.25 scale: -3 zero_count: 4 zero_threshold: 1e-9
                      positive { offset: -2 bucket_counts: 1 bucket_counts: 300 } negative { offset: 5 } }
        aggregation_temporality: 99
      }
    }
    metrics {
      name: "q"
      summary { data_points { count: 2 sum: 7.5 quantile_values { quantile: 0.5 value: 3 }
                              quantile_values { quantile: 1 value: inf } } }
    }
  }
}
TXT
decode_check metrics MetricsData b_metrics
json_has "$tmp/b_metrics.out.json" \
	'"name":"g","description":"gd","unit":"1"' \
	'"gauge":{"dataPoints":[{"timeUnixNano":"3","asDouble":-0.0,"flags":1},{"asInt":"-9"}]}' \
	'"metadata":[{"key":"m","value":{"intValue":"1"}}]' \
	'"startTimeUnixNano":"1","asInt":"9223372036854775807"' \
	'"filteredAttributes":[{"key":"f","value":{"boolValue":false}}]' \
	'"timeUnixNano":"4","asInt":"-3","spanId":"6162636465666768","traceId":"4142434445464748494a4b4c4d4e4f50"' \
	'{"asDouble":2.5}' \
	'"aggregationTemporality":1,"isMonotonic":true' \
	'"count":"5","sum":0,"bucketCounts":["2","3"],"explicitBounds":[1.5],"min":-1,"max":1e+300' \
	'"aggregationTemporality":2' \
	'"count":"7","sum":-4.25,"scale":-3,"zeroCount":"4"' \
	'"positive":{"offset":-2,"bucketCounts":["1","300"]}' \
	'"negative":{"offset":5}' \
	'"zeroThreshold":1e-09' \
	'"aggregationTemporality":99' \
	'"summary":{"dataPoints":[{"count":"2","sum":7.5' \
	'{"quantile":0.5,"value":3}' \
	'{"quantile":1,"value":"Infinity"}'

cat >"$tmp/b_logs.txt" <<'TXT'
resource_logs {
  resource { attributes { key: "svc" value { string_value: "a" } } }
  scope_logs {
    scope { name: "s" }
    log_records {
      time_unix_nano: 1
      observed_time_unix_nano: 2
      severity_number: 9
      severity_text: "Info"
      body { kvlist_value { values { key: "msg" value { string_value: "hi \"there\"\n" } }
                            values { key: "n" value { array_value { values { double_value: 0.1 } } } } } }
      attributes { key: "a" value { int_value: 7 } }
      dropped_attributes_count: 1
      flags: 1
      trace_id: "ABCDEFGHIJKLMNOP"
      span_id: "abcdefgh"
      event_name: "ev"
    }
    log_records { severity_number: 30 body { bytes_value: "" } }
  }
}
TXT
decode_check logs LogsData b_logs
json_has "$tmp/b_logs.out.json" \
	'"resource":{"attributes":[{"key":"svc","value":{"stringValue":"a"}}]}' \
	'"scope":{"name":"s"}' \
	'"timeUnixNano":"1","observedTimeUnixNano":"2","severityNumber":9,"severityText":"Info"' \
	'"body":{"kvlistValue":{"values":[{"key":"msg","value":{"stringValue":"hi \"there\"\n"}}' \
	'{"key":"n","value":{"arrayValue":{"values":[{"doubleValue":0.1}]}}}' \
	'"attributes":[{"key":"a","value":{"intValue":"7"}}],"droppedAttributesCount":1,"flags":1' \
	'"traceId":"4142434445464748494a4b4c4d4e4f50","spanId":"6162636465666768","eventName":"ev"' \
	'{"severityNumber":30,"body":{"bytesValue":""}}'

[ "$cli" = 1 ] || echo "note: otflow pdata convert not available; checked the codec only"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
