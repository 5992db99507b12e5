/* Shared by the run, validate and print-dag commands: collect --config
 * arguments, load and merge the files, build and compile the DAG. */
#include "cli/cli.h"

#include "otflow/service.h"

#include <stdio.h>
#include <string.h>

static void warn_cb(void *user, const otf_config_error_t *w)
{
	(void)user;
	otf_log(OTF_LOG_WARN, "config", "%s", w->text);
}

int otf_cli_parse_configs(int argc, char **argv, const char **paths, size_t cap, size_t *n,
                          const char **format)
{
	*n = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
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
