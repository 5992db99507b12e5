/* otflow pdata: placeholder until the codec CLI lands. */
#include "cli/cli.h"

#include <stdio.h>

int otf_cli_pdata(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "otflow pdata: not built yet\n");
	return 1;
}
