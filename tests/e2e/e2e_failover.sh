#!/usr/bin/env bash
# Seed scenario 4, failover (examples/scenarios/failover.yaml), with real
# processes: OTLP -> ack -> failover_router -> (retry -> primary, retry ->
# secondary), both backends otflow writing a file (tests/e2e/otflow-e2e.yaml).
# The scenario (tests/e2e/failover_lib.sh):
#  - primary up: a request lands at the primary;
#  - primary killed (SIGKILL): every request still gets 200 and lands at the
#    secondary, each once;
#  - primary back: after retry_interval (1 s here) traffic returns to it.
# Over the whole run every request posted is held by exactly one backend.
set -u
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/failover_lib.sh
. "$E2E_DIR/failover_lib.sh"
CFG="$OTF_SOURCE_DIR/examples/scenarios/failover.yaml"
# shellcheck disable=SC2034 # the request failover_lib.sh posts
TRACES="$OTF_SOURCE_DIR/examples/pdata/traces.json"

# front_exec PORT HEALTH PRIMARY SECONDARY
front_exec() {
	OTF_PORT=$1 OTF_HEALTH_PORT=$2 OTF_PRIMARY_PORT=$3 OTF_SECONDARY_PORT=$4 \
		OTF_RETRY_INTERVAL=1s exec "$OTF_BIN" --config "$CFG"
}
failover_run
