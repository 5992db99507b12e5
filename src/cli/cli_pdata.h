/* otflow pdata: helpers shared by the subcommands (options, input/output,
 * format and signal detection, codec dispatch by signal and format). */
#ifndef OTF_CLI_PDATA_H
#define OTF_CLI_PDATA_H

#include "otflow/arena.h"
#include "otflow/buf.h"
#include "otflow/pdata_codec.h"

#include <stdbool.h>

typedef enum otf__fmt {
	OTF__FMT_NONE = -1,
	OTF__FMT_JSON = 0,
	OTF__FMT_PROTO = 1,
} otf__fmt_t;

/* Which options a subcommand accepts. */
enum {
	OTF__OPT_SIGNAL = 1,
	OTF__OPT_FROM = 2,
	OTF__OPT_TO = 4,
	OTF__OPT_OUT = 8,
};

typedef struct otf__pdata_opts {
	int signal;      /* otf_signal_t, or -1 when not given */
	otf__fmt_t from; /* OTF__FMT_NONE when not given */
	otf__fmt_t to;
	const char *out; /* NULL: stdout */
	const char *in;  /* NULL or "-": stdin */
	bool help;
} otf__pdata_opts_t;

/* Parses argv[1..] (argv[0] is the subcommand). Returns 0, or 2 after
 * printing the problem to stderr. */
int otf__pdata_parse(const char *cmd, int argc, char **argv, unsigned allowed,
                     otf__pdata_opts_t *o);

/* Whole input (path NULL or "-": stdin) into a new buffer. 0 or 1 after
 * printing the problem. */
int otf__pdata_read(const char *cmd, const char *path, otf_buf_t **out);
/* Writes len bytes (plus a newline when nl) to path (NULL: stdout). 0 or 1. */
int otf__pdata_write(const char *cmd, const char *path, const uint8_t *data, size_t len, bool nl);

/* '{' as the first non-space byte means JSON. */
otf__fmt_t otf__pdata_guess_format(const uint8_t *data, size_t len);
/* The signal named by a JSON document's resource* key, or -1. */
int otf__pdata_guess_signal(const uint8_t *data, size_t len);

/* A decoded tree of any signal. */
typedef struct otf__tree {
	otf_signal_t signal;
	union {
		otf_traces_t traces;
		otf_metrics_t metrics;
		otf_logs_t logs;
	} u;
} otf__tree_t;

int otf__pdata_decode(otf__tree_t *t, otf_signal_t signal, otf__fmt_t fmt, const uint8_t *data,
                      size_t len, otf_arena_t *arena, otf_pdata_error_t *err);
int otf__pdata_encode(const otf__tree_t *t, otf__fmt_t fmt, otf_buf_t **out);

/* Counts of a decoded tree, in the shape of otf_view_counts_t. */
void otf__pdata_tree_counts(const otf__tree_t *t, size_t *resources, size_t *scopes,
                            size_t *metrics, size_t *records);

int otf__pdata_summary(int argc, char **argv);

#endif
