/* otflow: entry point and subcommand dispatch. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: otflow <command> [options]\n"
	           "\n"
	           "commands:\n"
	           "  pdata       convert and summarise OTLP payloads (protobuf <-> JSON)\n"
	           "\n"
	           "options:\n"
	           "  --version   print the version\n"
	           "  --help      this text\n"
	           "\n"
	           "'otflow <command> --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		printf("otflow %s\n", OTF_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "pdata"))
		return otf_cli_pdata(argc - 1, argv + 1);
	fprintf(stderr, "otflow: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
