/* otflow: entry point and subcommand dispatch. */
#include "cli/cli.h"

#include "otflow/component.h"
#include "otflow/plugin.h"

#include <otmm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fputs("usage: otflow --config FILE [--config FILE ...]   run the collector\n"
	      "       otflow <command> [options]\n"
	      "\n"
	      "commands:\n"
	      "  validate    --config FILE...  check a configuration (exit 2 when invalid) and "
	      "list\n"
	      "              the components it uses with their stability\n"
	      "  print-dag   --config FILE... [--format text|dot]  show the compiled dataflow\n"
	      "  components  [--format markdown] [--plugin PATH]  components, signals, stability,\n"
	      "              config keys\n"
	      "  pdata       convert, summarise and validate OTLP payloads (protobuf, JSON)\n"
	      "  partial     migrate --config FILE... | --postgres CONNSTR  create the partial "
	      "spans table\n"
	      "  mmap        dump FILE [--format text|json]  show an otlp-mmap file and its unread "
	      "records\n"
	      "\n"
	      "options:\n"
	      "  --plugin PATH  load a component plugin (shared library) first; with run,\n"
	      "              validate, print-dag and components; also `plugins:` in a config\n"
	      "  --version   print the version, git commit and ABI versions\n"
	      "  --help      this text\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	otf_cli_malloc_tune();
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		/* What a bug report needs: the build, and which plug-ins and files fit it. */
		printf("otflow %s\n"
		       "commit:                  %s\n"
		       "component ABI:           %u\n"
		       "plugin ABI:              %u.%u\n"
		       "otlp-mmap file formats:  %d, %d\n"
		       "libotmmap SONAME:        libotmmap.so.%d\n",
		       OTF_VERSION, OTF_GIT_COMMIT, OTF_COMPONENT_ABI_VERSION, OTF_PLUGIN_ABI_MAJOR,
		       OTF_PLUGIN_ABI_MINOR, OTMM_FORMAT_V1, OTMM_FORMAT_AGGREGATED,
		       OTMM_SOVERSION);
		return 0;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strncmp(cmd, "--config", 8) || !strcmp(cmd, "-c") || !strncmp(cmd, "--plugin", 8))
		return otf_cli_run(argc, argv);
	if (!strcmp(cmd, "validate"))
		return otf_cli_validate(argc - 1, argv + 1);
	if (!strcmp(cmd, "print-dag"))
		return otf_cli_print_dag(argc - 1, argv + 1);
	if (!strcmp(cmd, "components"))
		return otf_cli_components(argc - 1, argv + 1);
	if (!strcmp(cmd, "pdata"))
		return otf_cli_pdata(argc - 1, argv + 1);
	if (!strcmp(cmd, "partial"))
		return otf_cli_partial(argc - 1, argv + 1);
	if (!strcmp(cmd, "mmap"))
		return otf_cli_mmap(argc - 1, argv + 1);
	fprintf(stderr, "otflow: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
