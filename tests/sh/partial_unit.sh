#!/bin/sh
# Runs the cmocka test test_partial against a private PostgreSQL
# (tests/e2e/pg_harness.sh): its database tests skip when CTest runs it
# without one.
set -u
. "$OTF_SOURCE_DIR/tests/e2e/pg_harness.sh"
trap pg_stop EXIT
trap 'exit 1' INT TERM
pg_start || exit 1
OTF_TEST_PG_DSN=$PG_DSN "$OTF_BUILD_DIR/tests/test_partial"
