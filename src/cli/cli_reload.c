/* SIGHUP: reload the configuration files the process was started with.
 * The files are loaded and built into a new DAG exactly as at start
 * (every schema, validate and check); a file that fails leaves the
 * running configuration as it is and the error is logged with its
 * file:line. A valid one goes to otf_engine_reload: node configs that
 * changed are applied in place, everything else keeps running; a DAG of
 * another shape is switched to live (pipelines and components added or
 * removed: src/engine/reshape.c), or refused with a log line saying why
 * (a new node that fails to start) and the old one keeps running.
 * service.telemetry.logs.level applies at once; other service settings
 * (runtime, extensions, service.admin, service.telemetry.metrics) are
 * read at start only, and a change of them is logged as such. */
#include "cli/cli.h"

#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/err.h"

#include <stdio.h>
#include <string.h>

struct otf_cli_reload {
	const char *const *paths;
	size_t n;
	otf_config_t **cfgs; /* every config loaded (node configs may point in) */
	size_t cfgs_len, cfgs_cap;
	otf_log_level_t log_level;
};

static void warn_cb(void *user, const otf_config_error_t *w)
{
	(void)user;
	otf_log(OTF_LOG_WARN, "config", "%s", w->text);
}

static bool node_equal(const otf_config_node_t *a, const otf_config_node_t *b)
{
	otf_config_kind_t ka = a ? otf_config_node_kind(a) : OTF_CONFIG_NULL;
	otf_config_kind_t kb = b ? otf_config_node_kind(b) : OTF_CONFIG_NULL;
	if (ka != kb)
		return false;
	size_t la = 0, lb = 0;
	switch (ka) {
	case OTF_CONFIG_NULL:
		return true;
	case OTF_CONFIG_SCALAR: {
		const char *sa = otf_config_scalar(a, &la), *sb = otf_config_scalar(b, &lb);
		return la == lb && !memcmp(sa, sb, la);
	}
	case OTF_CONFIG_SEQUENCE:
		if (otf_config_len(a) != otf_config_len(b))
			return false;
		for (size_t i = 0; i < otf_config_len(a); i++)
			if (!node_equal(otf_config_seq_at(a, i), otf_config_seq_at(b, i)))
				return false;
		return true;
	case OTF_CONFIG_MAPPING:
		if (otf_config_len(a) != otf_config_len(b))
			return false;
		for (size_t i = 0; i < otf_config_len(a); i++) {
			const otf_config_node_t *va;
			const char *k = otf_config_map_at(a, i, &va);
			const otf_config_node_t *vb = otf_config_map_get(b, k);
			if (!vb || !node_equal(va, vb))
				return false;
		}
		return true;
	}
	return false;
}

otf_cli_reload_t *otf_cli_reload_create(const char *const *paths, size_t n, otf_config_t *cfg,
                                        otf_log_level_t level)
{
	otf_cli_reload_t *r = otf_calloc(1, sizeof *r);
	otf_config_t **c = otf_calloc(4, sizeof *c);
	if (!r || !c) {
		otf_free(r);
		otf_free(c);
		return NULL;
	}
	r->paths = paths;
	r->n = n;
	r->cfgs = c;
	r->cfgs_cap = 4;
	r->cfgs[r->cfgs_len++] = cfg;
	r->log_level = level;
	return r;
}

/* The configs stay loaded until the process ends: the initial one is
 * destroyed by the caller, the reloaded ones here. */
void otf_cli_reload_destroy(otf_cli_reload_t *r)
{
	if (!r)
		return;
	for (size_t i = 1; i < r->cfgs_len; i++)
		otf_config_destroy(r->cfgs[i]);
	otf_free(r->cfgs);
	otf_free(r);
}

static const char *const k_restart_only[] = {"runtime", "extensions", "service.extensions",
                                             "service.admin", "service.telemetry.metrics"};

const otf_config_t *otf_cli_reload_config(const otf_cli_reload_t *r)
{
	return r->cfgs[r->cfgs_len - 1];
}

void otf_cli_reload_run(otf_cli_reload_t *r, otf_engine_t *engine)
{
	otf_log(OTF_LOG_INFO, "service", "received SIGHUP, reloading the configuration");
	otf_config_error_t err;
	otf_config_load_opts_t opts = {.warn = warn_cb};
	otf_config_t *cfg = NULL;
	int rc = otf_config_load_files_ex(r->paths, r->n, &opts, &cfg, &err);
	if (rc) {
		otf_log(OTF_LOG_ERROR, "service",
		        "reload refused, the running configuration stays: %s", err.text);
		return;
	}
	otf_dag_t *dag = NULL;
	otf_service_settings_t settings;
	rc = otf_service_build(cfg, &dag, &settings, &err);
	if (rc) {
		otf_log_set_level(r->log_level); /* the build set the new file's */
		otf_log(OTF_LOG_ERROR, "service",
		        "reload refused, the running configuration stays: %s", err.text);
		otf_config_destroy(cfg);
		return;
	}
	otf_log_set_level(r->log_level);
	char changed[1024], why[1024];
	int n = otf_engine_reload(engine, dag, changed, sizeof changed, why, sizeof why);
	otf_dag_destroy(dag);
	if (n == OTF_E_UNSUPPORTED) {
		otf_log(OTF_LOG_ERROR, "service",
		        "reload refused, the running configuration stays: %s (a change of a "
		        "node that cannot change while running needs a restart)",
		        why);
		otf_config_destroy(cfg);
		return;
	}
	if (n == OTF_E_IO) {
		/* A new node failed to start (a port in use): nothing applied. */
		otf_log(OTF_LOG_ERROR, "service",
		        "reload refused, the running configuration stays: %s", why);
		otf_config_destroy(cfg);
		return;
	}
	if (n < 0) {
		otf_log(OTF_LOG_ERROR, "service", "reload failed part way: %s", why);
	} else {
		otf_log(OTF_LOG_INFO, "service", "reload: %d node(s) changed%s%s", n, n ? ": " : "",
		        n ? changed : "");
	}
	if (settings.log_level != r->log_level) {
		otf_log_set_level(settings.log_level);
		r->log_level = settings.log_level;
		otf_log(OTF_LOG_INFO, "service", "reload: log level changed");
	}
	const otf_config_node_t *old_root = otf_config_root(r->cfgs[r->cfgs_len - 1]);
	const otf_config_node_t *new_root = otf_config_root(cfg);
	for (size_t i = 0; i < sizeof k_restart_only / sizeof k_restart_only[0]; i++)
		if (!node_equal(otf_config_get(old_root, k_restart_only[i]),
		                otf_config_get(new_root, k_restart_only[i])))
			otf_log(OTF_LOG_WARN, "service",
			        "reload: %s changed; it is read at start only, restart to apply it",
			        k_restart_only[i]);
	if (r->cfgs_len == r->cfgs_cap) {
		otf_config_t **g = otf_realloc(r->cfgs, 2 * r->cfgs_cap * sizeof *g);
		if (!g) {
			/* Cannot track it: keep it for the process's lifetime. */
			return;
		}
		r->cfgs = g;
		r->cfgs_cap *= 2;
	}
	r->cfgs[r->cfgs_len++] = cfg;
}
