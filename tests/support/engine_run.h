/* One engine run of a unit test: a configuration (YAML text) loaded,
 * built into a DAG, started and stopped with the real engine, for the
 * dataflow tests that drive components through it (flow_nodes.h and the
 * tests' own components). Failures fail the calling cmocka test. */
#ifndef OTF_TEST_ENGINE_RUN_H
#define OTF_TEST_ENGINE_RUN_H

#include "otflow/config.h"
#include "otflow/err.h"
#include "otflow/service.h"

typedef struct otf_test_run {
	otf_config_t *cfg;
	otf_dag_t *dag;
	otf_service_settings_t st;
	otf_engine_t *e;
} otf_test_run_t;

/* Loads ("test.yaml") and builds yaml into r (cleared first) and sets the
 * log level to errors; returns the load's or build's code, its message in
 * err. */
int otf_test_run_try_build(otf_test_run_t *r, const char *yaml, otf_config_error_t *err);
/* The same, failing the test with the message. */
void otf_test_run_build(otf_test_run_t *r, const char *yaml);
/* Starts the engine on r's DAG (fails the test if it does not start). */
void otf_test_run_start(otf_test_run_t *r);
/* Build then start. */
void otf_test_run_begin(otf_test_run_t *r, const char *yaml);
/* Asks the engine to stop, joins it (0 expected) and frees the run. */
void otf_test_run_stop(otf_test_run_t *r);
/* Frees the DAG and the configuration (after a join, or without a start). */
void otf_test_run_free(otf_test_run_t *r);

#endif
