/* Shared by the run, validate and print-dag commands: collect --config
 * arguments, load and merge the files, build and compile the DAG. */
#include "cli/cli.h"

#include "otflow/component.h"
#include "otflow/pdata.h"
#include "otflow/plugin.h"
#include "otflow/service.h"

#include <stdio.h>
#include <string.h>

static void warn_cb(void *user, const otf_config_error_t *w)
{
	(void)user;
	otf_log(OTF_LOG_WARN, "config", "%s", w->text);
}

int otf_cli_load_plugin(const char *path)
{
	otf_components_register_builtins(); /* a plugin type must not clash with one */
	char err[600];
	if (otf_plugin_load(path, err, sizeof err)) {
		fprintf(stderr, "otflow: %s\n", err);
		return 2;
	}
	return 0;
}

int otf_cli_parse_configs(int argc, char **argv, const char **paths, size_t cap, size_t *n,
                          const char **format)
{
	*n = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		if (!strcmp(a, "--plugin") || !strncmp(a, "--plugin=", 9)) {
			const char *p = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
			if (!p) {
				fprintf(stderr, "otflow: --plugin needs a shared library path\n");
				return 2;
			}
			int rc = otf_cli_load_plugin(p);
			if (rc)
				return rc;
			continue;
		}
		if (!strncmp(a, "--config=", 9)) {
			val = a + 9;
		} else if (!strcmp(a, "--config") || !strcmp(a, "-c")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "otflow: %s needs a file\n", a);
				return 2;
			}
			val = argv[++i];
		} else if (format && !strncmp(a, "--format=", 9)) {
			*format = a + 9;
			continue;
		} else if (format && !strcmp(a, "--format") && i + 1 < argc) {
			*format = argv[++i];
			continue;
		} else {
			fprintf(stderr, "otflow: unknown argument '%s'\n", a);
			return 2;
		}
		if (*n == cap) {
			fprintf(stderr, "otflow: too many --config files (max %zu)\n", cap);
			return 2;
		}
		paths[(*n)++] = val;
	}
	if (!*n) {
		fprintf(stderr, "otflow: at least one --config FILE is required\n");
		return 2;
	}
	return 0;
}

int otf_cli_load(const char **paths, size_t n, otf_config_t **cfg, otf_dag_t **dag,
                 otf_service_settings_t *settings)
{
	otf_components_register_builtins();
	otf_config_error_t err;
	otf_config_load_opts_t opts = {.warn = warn_cb};
	int rc = otf_config_load_files_ex(paths, n, &opts, cfg, &err);
	if (rc) {
		fprintf(stderr, "otflow: invalid configuration: %s\n", err.text);
		return 2;
	}
	rc = otf_service_build(*cfg, dag, settings, &err);
	if (rc) {
		fprintf(stderr, "otflow: invalid configuration: %s\n", err.text);
		otf_config_destroy(*cfg);
		*cfg = NULL;
		return 2;
	}
	return 0;
}

static const struct {
	const char *section, *list, *name;
	otf_component_kind_t kind;
} k_kinds[] = {
    {"receivers", "receivers", "receiver", OTF_KIND_RECEIVER},
    {"processors", "processors", "processor", OTF_KIND_PROCESSOR},
    {"exporters", "exporters", "exporter", OTF_KIND_EXPORTER},
    {"connectors", NULL, "connector", OTF_KIND_CONNECTOR},
    {"extensions", NULL, "extension", OTF_KIND_EXTENSION},
};

static bool listed(const otf_config_node_t *seq, const char *id)
{
	for (size_t i = 0; i < otf_config_len(seq); i++) {
		const char *v = otf_config_scalar(otf_config_seq_at(seq, i), NULL);
		if (v && !strcmp(v, id))
			return true;
	}
	return false;
}

static int signal_of(const char *pipeline)
{
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
		const char *n = otf_signal_name((otf_signal_t)s);
		size_t len = strlen(n);
		if (!strncmp(pipeline, n, len) && (pipeline[len] == 0 || pipeline[len] == '/'))
			return s;
	}
	return -1;
}

void otf_cli_print_used(const otf_config_t *cfg, FILE *out)
{
	const otf_config_node_t *root = otf_config_root(cfg);
	const otf_config_node_t *pipes = otf_config_get(root, "service.pipelines");
	const otf_config_node_t *exts = otf_config_get(root, "service.extensions");
	fprintf(out, "components used:\n");
	for (size_t k = 0; k < sizeof k_kinds / sizeof k_kinds[0]; k++) {
		const otf_config_node_t *sec = otf_config_get(root, k_kinds[k].section);
		for (size_t i = 0; i < otf_config_len(sec); i++) {
			const char *id = otf_config_map_at(sec, i, NULL);
			if (!id)
				continue;
			bool used[OTF_SIGNAL_COUNT] = {false};
			bool any = false;
			/* A connector is an exporter of one pipeline and a receiver of another. */
			for (size_t p = 0; p < otf_config_len(pipes); p++) {
				const otf_config_node_t *pl = NULL;
				const char *pname = otf_config_map_at(pipes, p, &pl);
				int sig = pname ? signal_of(pname) : -1;
				if (sig < 0)
					continue;
				bool in = k_kinds[k].list
				              ? listed(otf_config_map_get(pl, k_kinds[k].list), id)
				              : listed(otf_config_map_get(pl, "receivers"), id) ||
				                    listed(otf_config_map_get(pl, "exporters"), id);
				if (in)
					used[sig] = any = true;
			}
			if (k_kinds[k].kind == OTF_KIND_EXTENSION)
				any = listed(exts, id);
			if (!any)
				continue;
			char type[128];
			const char *slash = strchr(id, '/');
			snprintf(type, sizeof type, "%.*s",
			         (int)(slash ? (size_t)(slash - id) : strlen(id)), id);
			const otf_component_factory_t *f =
			    otf_component_find(k_kinds[k].kind, type);
			fprintf(out, "  %-9s %-24s", k_kinds[k].name, id);
			if (!f) {
				/* health_check and friends live in the service, not the registry. */
				fprintf(out, " %s\n",
				        k_kinds[k].kind == OTF_KIND_EXTENSION
				            ? "built into the service"
				            : "(unknown type)");
				continue;
			}
			if (k_kinds[k].kind == OTF_KIND_EXTENSION) {
				fprintf(out, " %s\n", otf_stability_name(f->stability[0]));
				continue;
			}
			const char *sep = " ";
			for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
				if (!used[s])
					continue;
				fprintf(out, "%s%s: %s", sep, otf_signal_name((otf_signal_t)s),
				        otf_stability_name(f->stability[s]));
				sep = ", ";
			}
			fputc('\n', out);
		}
	}
}
