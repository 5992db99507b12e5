/* otflow command-line subcommands. Each returns the process exit code:
 * 0 success, 1 runtime failure, 2 usage or configuration error. */
#ifndef OTF_CLI_H
#define OTF_CLI_H

int otf_cli_pdata(int argc, char **argv);

#endif
