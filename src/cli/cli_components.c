/* otflow components: the registered factories, their signals and
 * stability; with --format markdown, also every config key (the source of
 * the tables in docs/components.md). */
#include "cli/cli.h"

#include "otflow/config_schema.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int otf_cli_components(int argc, char **argv)
{
	int markdown = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--format") && i + 1 < argc &&
		    !strcmp(argv[i + 1], "markdown")) {
			markdown = 1;
			i++;
		} else if (!strcmp(argv[i], "--plugin") && i + 1 < argc) {
			if (otf_cli_load_plugin(argv[++i]))
				return 2;
		} else {
			fprintf(
			    stderr,
			    "usage: otflow components [--format markdown] [--plugin PATH]...\n");
			return 2;
		}
	}
	otf_components_register_builtins();
	if (!markdown)
		printf("%-10s %-12s %-12s %-12s %-12s %s\n", "KIND", "TYPE", "TRACES", "METRICS",
		       "LOGS", "ALIASES");
	for (size_t i = 0; otf_component_at(i); i++) {
		const otf_component_factory_t *f = otf_component_at(i);
		if (!markdown) {
			bool aliased = f->aliases && f->aliases[0];
			printf("%-10s %-12s %-12s %-12s %-*s", otf_component_kind_name(f->kind),
			       f->type, otf_stability_name(f->stability[0]),
			       otf_stability_name(f->stability[1]), aliased ? 12 : 0,
			       otf_stability_name(f->stability[2]));
			for (const char *const *a = f->aliases; a && *a; a++)
				printf("%s%s", a == f->aliases ? " " : ",", *a);
			printf("\n");
			continue;
		}
		printf("### %s `%s`\n\n%s\n\n", otf_component_kind_name(f->kind), f->type,
		       f->description);
		for (const char *const *a = f->aliases; a && *a; a++)
			printf("%s`%s`", a == f->aliases ? "Also accepted as " : ", ", *a);
		if (f->aliases && f->aliases[0])
			printf(" (the same component; ids such as `%s/name` work too).\n\n",
			       f->aliases[0]);
		for (const char *const *p = f->ports; p && *p; p++)
			printf("%s`%s`", p == f->ports ? "Output ports: `default`, " : ", ", *p);
		if (f->ports && f->ports[0])
			printf(".\n\n");
		if (f->kind != OTF_KIND_EXTENSION)
			printf(
			    "Live reconfiguration (CFG: `POST /api/v1/nodes/{id}/config`, SIGHUP): "
			    "%s\n\n",
			    f->reconfigure ? "in place, between two messages."
			                   : "rebuilt: a new instance takes over, the old one "
			                     "drains beside it.");
		/* Extensions are outside the pipelines: no signals. */
		if (f->kind != OTF_KIND_EXTENSION) {
			printf("| signal | stability |\n|---|---|\n");
			for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
				printf("| %s | %s |\n", otf_signal_name((otf_signal_t)s),
				       otf_stability_name(f->stability[s]));
			printf("\n");
		}
		if (f->config_schema) {
			otf_config_schema_doc(f->config_schema, stdout);
			printf("\n");
		} else {
			printf("No configuration.\n\n");
		}
	}
	return 0;
}
