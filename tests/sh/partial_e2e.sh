#!/bin/sh
# partial exporter + receiver end to end: a private PostgreSQL
# (tests/e2e/pg_harness.sh, or OTF_TEST_POSTGRES), `otflow partial migrate`,
# real otflow processes fed heartbeat/stop logs over OTLP/HTTP (JSON):
# heartbeat/stop/tombstone/merge/skip rules, exactly-once emission of 10,000
# spans with three receiver processes racing, a database restart under load,
# examples/partial.yaml fed SDK-shaped (Python, .NET) heartbeats over
# OTLP/HTTP and OTLP/gRPC, and the exporter creating its schema at start
# (fresh database, two processes at once, create_schema: false).
# Scenarios: tests/e2e/partial_e2e.py.
set -u
. "$OTF_SOURCE_DIR/tests/e2e/pg_harness.sh"
work=$(mktemp -d)
cleanup() {
	pg_stop
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
pg_start || exit 1
fail=0
# `partial migrate --config` finds the database in the configuration.
cat > "$work/m.yaml" <<Y
exporters:
  partial: {postgres: "$PG_DSN"}
Y
if "$OTF_BIN" partial migrate --config "$work/m.yaml" 2>"$work/m.err" &&
	[ "$(pg_sql "SELECT version FROM otflow_partial_schema")" = 3 ]; then
	echo "migrate --config: ok"
else
	echo "FAIL: otflow partial migrate --config"
	cat "$work/m.err"
	fail=1
fi
"$OTF_BIN" partial migrate --postgres "host=127.0.0.1 port=1 connect_timeout=2" 2>/dev/null
[ $? -eq 1 ] || { echo "FAIL: migrate against no server must exit 1"; fail=1; }
"$OTF_BIN" validate --config "$OTF_SOURCE_DIR/examples/partial.yaml" >/dev/null ||
	{ echo "FAIL: examples/partial.yaml does not validate"; fail=1; }
for s in ${OTF_PARTIAL_SCENARIOS:-basic exactly_once db_restart sdk schema}; do
	python3 "$OTF_SOURCE_DIR/tests/e2e/partial_e2e.py" "$s" "$work" || fail=1
done
exit $fail
