/* The embedding API (otflow/service.h, otf_embedded_*): a service built
 * from a config and run on the engine's workers, fed through the `push`
 * receiver. It lives next to that receiver because pushing is its only
 * way in; starting and stopping are the engine's and the front-end's own
 * calls, as cli_run.c makes them, without the command's endpoints. */
#include "push_internal.h"

#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/err.h"

#include <stdio.h>
#include <string.h>

struct otf_embedded {
	otf_config_t *cfg;
	otf_dag_t *dag;
	otf_engine_t *engine;
};

static int start(otf_config_t *cfg, otf_embedded_t **out, char *err, size_t errlen)
{
	otf_service_settings_t st;
	otf_config_error_t cerr;
	otf_dag_t *dag = NULL;
	int rc = otf_service_build(cfg, &dag, &st, &cerr);
	if (rc) {
		snprintf(err, errlen, "%s", cerr.text);
		otf_config_destroy(cfg);
		return rc;
	}
	otf_embedded_t *e = otf_calloc(1, sizeof *e);
	if (!e) {
		otf_dag_destroy(dag);
		otf_config_destroy(cfg);
		return OTF_E_NOMEM;
	}
	rc = otf_engine_start(dag, &st.runtime, &e->engine);
	if (rc) {
		snprintf(err, errlen, "engine failed to start: %s", otf_strerror(rc));
		otf_dag_destroy(dag);
		otf_config_destroy(cfg);
		otf_free(e);
		return rc;
	}
	e->cfg = cfg;
	e->dag = dag;
	*out = e;
	return 0;
}

int otf_embedded_start_string(const char *name, const char *yaml, size_t len, otf_embedded_t **out,
                              char *err, size_t errlen)
{
	otf_components_register_builtins();
	otf_config_t *cfg;
	otf_config_error_t cerr;
	int rc =
	    otf_config_load_string(name ? name : "embedded.yaml", yaml, len, NULL, &cfg, &cerr);
	if (rc) {
		snprintf(err, errlen, "%s", cerr.text);
		return rc;
	}
	return start(cfg, out, err, errlen);
}

int otf_embedded_start_files(const char *const *paths, size_t n, otf_embedded_t **out, char *err,
                             size_t errlen)
{
	otf_components_register_builtins();
	otf_config_t *cfg;
	otf_config_error_t cerr;
	int rc = otf_config_load_files(paths, n, &cfg, &cerr);
	if (rc) {
		snprintf(err, errlen, "%s", cerr.text);
		return rc;
	}
	return start(cfg, out, err, errlen);
}

int otf_embedded_push(otf_embedded_t *e, const char *receiver, otf_signal_t signal,
                      const void *data, size_t len, otf_push_cb cb, void *arg, char *err,
                      size_t errlen)
{
	(void)e; /* push receivers are found by id (one service per id) */
	return otf__push(receiver, signal, data, len, cb, arg, err, errlen);
}

int otf_embedded_stop(otf_embedded_t *e)
{
	if (!e)
		return 0;
	otf_engine_request_stop(e->engine);
	int64_t rc = otf_engine_join(e->engine);
	if (rc < 0)
		return (int)rc; /* a worker is still running: leak, do not free under it */
	otf_dag_destroy(e->dag);
	otf_config_destroy(e->cfg);
	otf_free(e);
	return 0;
}
