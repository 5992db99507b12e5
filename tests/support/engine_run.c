/* Engine runs of the unit tests (engine_run.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine_run.h"

#include "otflow/engine.h"

#include <string.h>

int otf_test_run_try_build(otf_test_run_t *r, const char *yaml, otf_config_error_t *err)
{
	memset(r, 0, sizeof *r);
	int rc = otf_config_load_string("test.yaml", yaml, strlen(yaml), NULL, &r->cfg, err);
	if (!rc)
		rc = otf_service_build(r->cfg, &r->dag, &r->st, err);
	otf_log_set_level(OTF_LOG_ERROR);
	return rc;
}

void otf_test_run_build(otf_test_run_t *r, const char *yaml)
{
	otf_config_error_t err;
	if (otf_test_run_try_build(r, yaml, &err))
		fail_msg("build: %s", err.text);
}

void otf_test_run_start(otf_test_run_t *r)
{
	assert_int_equal(otf_engine_start(r->dag, &r->st.runtime, &r->e), 0);
}

void otf_test_run_begin(otf_test_run_t *r, const char *yaml)
{
	otf_test_run_build(r, yaml);
	otf_test_run_start(r);
}

void otf_test_run_free(otf_test_run_t *r)
{
	otf_dag_destroy(r->dag);
	otf_config_destroy(r->cfg);
	r->dag = NULL;
	r->cfg = NULL;
}

void otf_test_run_stop(otf_test_run_t *r)
{
	otf_engine_request_stop(r->e);
	assert_int_equal(otf_engine_join(r->e), 0);
	otf_test_run_free(r);
}
