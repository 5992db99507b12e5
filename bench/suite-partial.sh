#!/bin/sh
# bench/run.sh suite: partial spans on PostgreSQL (bench/partial_bench.sh).
set -eu
sh "$(dirname "$0")/partial_bench.sh" "${1:-build-bench}"
