#!/bin/sh
# Runs the cmocka tests test_partial and test_partial_lease against a
# private PostgreSQL (tests/e2e/pg_harness.sh): their database tests skip
# when CTest runs them without one.
set -u
. "$OTF_SOURCE_DIR/tests/e2e/pg_harness.sh"
trap pg_stop EXIT
trap 'exit 1' INT TERM
pg_start || exit 1
rc=0
OTF_TEST_PG_DSN=$PG_DSN "$OTF_BUILD_DIR/tests/test_partial" || rc=1
OTF_TEST_PG_DSN=$PG_DSN "$OTF_BUILD_DIR/tests/test_partial_lease" || rc=1
exit $rc
