#!/usr/bin/env bash
# The Collector's failover connector in Collector YAML
# (tests/e2e/failover-connector.yaml: priority_levels, retry_interval,
# retry_gap, max_retries), with real processes: an OTLP/HTTP receiver ->
# connector failover -> pipeline traces/primary (otlphttp to the primary)
# or traces/secondary (otlphttp to the secondary), both backends otflow
# writing a file (tests/e2e/otflow-e2e.yaml).
#  - print-dag: the connector's levels are its ports 0 and 1;
# then the scenario of e2e_failover.sh (tests/e2e/failover_lib.sh):
#  - primary up: a request lands at the primary;
#  - primary killed (SIGKILL): every request still gets 200 and lands at the
#    secondary, each once (the message that failed is resent, not lost);
#  - primary back: after retry_interval (1 s) traffic returns to it.
# Over the whole run every request posted is held by exactly one backend.
set -u
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/failover_lib.sh
. "$E2E_DIR/failover_lib.sh"
CFG="$E2E_DIR/failover-connector.yaml"
# shellcheck disable=SC2034 # the request failover_lib.sh posts
TRACES="$OTF_SOURCE_DIR/examples/pdata/traces.json"

OTF_E2E_PORT=1 OTF_E2E_HEALTH_PORT=2 OTF_PRIMARY_PORT=3 OTF_SECONDARY_PORT=4 \
	"$OTF_BIN" print-dag --config "$CFG" >"$TMP/dag.txt" 2>&1
grep -q "^connector connector:failover (type failover, ports default, 0, 1," "$TMP/dag.txt" &&
	grep -q -- "-> exporter:otlphttp/primary \[traces\] port 0" "$TMP/dag.txt" &&
	grep -q -- "-> exporter:otlphttp/secondary \[traces\] port 1" "$TMP/dag.txt" &&
	ok "print-dag: level 0 feeds the primary's pipeline, level 1 the secondary's" ||
	bad "print-dag: $(cat "$TMP/dag.txt")"

# front_exec PORT HEALTH PRIMARY SECONDARY
front_exec() {
	OTF_E2E_PORT=$1 OTF_E2E_HEALTH_PORT=$2 OTF_PRIMARY_PORT=$3 OTF_SECONDARY_PORT=$4 \
		exec "$OTF_BIN" --config "$CFG"
}
failover_run
