/* otflow pdata: option parsing, file input/output, format and signal
 * guessing, and codec dispatch. */
#include "cli/cli_pdata.h"

#include "otflow/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int parse_signal(const char *s)
{
	if (!strcmp(s, "traces"))
		return OTF_SIGNAL_TRACES;
	if (!strcmp(s, "metrics"))
		return OTF_SIGNAL_METRICS;
	if (!strcmp(s, "logs"))
		return OTF_SIGNAL_LOGS;
	return -1;
}

static otf__fmt_t parse_fmt(const char *s)
{
	if (!strcmp(s, "json"))
		return OTF__FMT_JSON;
	if (!strcmp(s, "proto") || !strcmp(s, "protobuf"))
		return OTF__FMT_PROTO;
	return OTF__FMT_NONE;
}

/* "--name VALUE" or "--name=VALUE": returns the value, advancing *i past a
 * separate one; NULL when arg is not this option. *missing is set when the
 * option is last with no value. */
static const char *opt_value(const char *arg, const char *name, int argc, char **argv, int *i,
                             bool *missing)
{
	size_t n = strlen(name);
	if (strncmp(arg, name, n) != 0)
		return NULL;
	if (arg[n] == '=')
		return arg + n + 1;
	if (arg[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

int otf__pdata_parse(const char *cmd, int argc, char **argv, unsigned allowed, otf__pdata_opts_t *o)
{
	*o = (otf__pdata_opts_t){.signal = -1, .from = OTF__FMT_NONE, .to = OTF__FMT_NONE};
	bool positional_only = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v;
		bool missing = false;
		if (positional_only || a[0] != '-' || !strcmp(a, "-")) {
			if (o->in) {
				fprintf(stderr,
				        "otflow pdata %s: more than one input ('%s', '%s')\n", cmd,
				        o->in, a);
				return 2;
			}
			o->in = a;
		} else if (!strcmp(a, "--")) {
			positional_only = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			o->help = true;
		} else if ((allowed & OTF__OPT_SIGNAL) &&
		           ((v = opt_value(a, "--signal", argc, argv, &i, &missing)) || missing)) {
			if (missing || (o->signal = parse_signal(v)) < 0) {
				fprintf(stderr,
				        "otflow pdata %s: --signal needs traces, metrics or logs\n",
				        cmd);
				return 2;
			}
		} else if ((allowed & OTF__OPT_FROM) &&
		           ((v = opt_value(a, "--from", argc, argv, &i, &missing)) || missing)) {
			if (missing || (o->from = parse_fmt(v)) == OTF__FMT_NONE) {
				fprintf(stderr, "otflow pdata %s: --from needs json or proto\n",
				        cmd);
				return 2;
			}
		} else if ((allowed & OTF__OPT_TO) &&
		           ((v = opt_value(a, "--to", argc, argv, &i, &missing)) || missing)) {
			if (missing || (o->to = parse_fmt(v)) == OTF__FMT_NONE) {
				fprintf(stderr, "otflow pdata %s: --to needs json or proto\n", cmd);
				return 2;
			}
		} else if ((allowed & OTF__OPT_OUT) &&
		           (((v = opt_value(a, "-o", argc, argv, &i, &missing)) || missing) ||
		            ((v = opt_value(a, "--output", argc, argv, &i, &missing)) ||
		             missing))) {
			if (missing) {
				fprintf(stderr, "otflow pdata %s: -o needs a file name\n", cmd);
				return 2;
			}
			o->out = v;
		} else {
			fprintf(stderr, "otflow pdata %s: unknown option '%s' (see --help)\n", cmd,
			        a);
			return 2;
		}
	}
	return 0;
}

int otf__pdata_read(const char *cmd, const char *path, otf_buf_t **out)
{
	bool std = !path || !strcmp(path, "-");
	FILE *f = std ? stdin : fopen(path, "rb");
	const char *name = std ? "<stdin>" : path;
	if (!f) {
		fprintf(stderr, "otflow pdata %s: %s: %s\n", cmd, name, strerror(errno));
		return 1;
	}
	otf_buf_t *b = otf_buf_create(64 * 1024);
	int rc = b ? 0 : OTF_E_NOMEM;
	while (rc == 0) {
		if (b->len == b->cap)
			rc = otf_buf_reserve(&b, b->cap * 2);
		if (rc)
			break;
		size_t n = fread(b->data + b->len, 1, b->cap - b->len, f);
		b->len += n;
		if (n == 0) {
			if (ferror(f))
				rc = -errno;
			break;
		}
	}
	if (!std)
		fclose(f);
	if (rc) {
		fprintf(stderr, "otflow pdata %s: %s: %s\n", cmd, name, otf_strerror(rc));
		otf_buf_unref(b);
		return 1;
	}
	*out = b;
	return 0;
}

int otf__pdata_write(const char *cmd, const char *path, const uint8_t *data, size_t len, bool nl)
{
	bool std = !path || !strcmp(path, "-");
	FILE *f = std ? stdout : fopen(path, "wb");
	const char *name = std ? "<stdout>" : path;
	if (!f) {
		fprintf(stderr, "otflow pdata %s: %s: %s\n", cmd, name, strerror(errno));
		return 1;
	}
	bool ok = fwrite(data, 1, len, f) == len;
	if (nl)
		ok = ok && fputc('\n', f) != EOF;
	ok = (std ? fflush(f) : fclose(f)) == 0 && ok;
	if (!ok) {
		fprintf(stderr, "otflow pdata %s: %s: write failed: %s\n", cmd, name,
		        strerror(errno));
		return 1;
	}
	return 0;
}

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

otf__fmt_t otf__pdata_guess_format(const uint8_t *data, size_t len)
{
	size_t i = 0;
	while (i < len && is_space(data[i]))
		i++;
	/* 0x7b would be field 15 with wire type 3 (a group), which OTLP never
	 * sends, so '{' cannot start a valid protobuf payload. */
	return i < len && data[i] == '{' ? OTF__FMT_JSON : OTF__FMT_PROTO;
}

int otf__pdata_guess_signal(const uint8_t *data, size_t len)
{
	static const struct {
		const char *key;
		otf_signal_t sig;
	} keys[] = {
	    {"\"resourceSpans\"", OTF_SIGNAL_TRACES},
	    {"\"resource_spans\"", OTF_SIGNAL_TRACES},
	    {"\"resourceMetrics\"", OTF_SIGNAL_METRICS},
	    {"\"resource_metrics\"", OTF_SIGNAL_METRICS},
	    {"\"resourceLogs\"", OTF_SIGNAL_LOGS},
	    {"\"resource_logs\"", OTF_SIGNAL_LOGS},
	};
	/* The top-level key is the first of these names in the document: each
	 * occurs only as the top key, and a string value containing one would
	 * come after it. */
	const uint8_t *best = NULL;
	int sig = -1;
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
		const uint8_t *p = memmem(data, len, keys[k].key, strlen(keys[k].key));
		if (p && (!best || p < best)) {
			best = p;
			sig = (int)keys[k].sig;
		}
	}
	return sig;
}

int otf__pdata_decode(otf__tree_t *t, otf_signal_t signal, otf__fmt_t fmt, const uint8_t *data,
                      size_t len, otf_arena_t *arena, otf_pdata_error_t *err)
{
	const char *js = (const char *)data;
	t->signal = signal;
	switch (signal) {
	case OTF_SIGNAL_TRACES:
		return fmt == OTF__FMT_JSON
		           ? otf_pdata_json_decode_traces(&t->u.traces, js, len, arena, NULL, err)
		           : otf_pdata_decode_traces(&t->u.traces, data, len, arena, NULL, err);
	case OTF_SIGNAL_METRICS:
		return fmt == OTF__FMT_JSON
		           ? otf_pdata_json_decode_metrics(&t->u.metrics, js, len, arena, NULL, err)
		           : otf_pdata_decode_metrics(&t->u.metrics, data, len, arena, NULL, err);
	case OTF_SIGNAL_LOGS:
		return fmt == OTF__FMT_JSON
		           ? otf_pdata_json_decode_logs(&t->u.logs, js, len, arena, NULL, err)
		           : otf_pdata_decode_logs(&t->u.logs, data, len, arena, NULL, err);
	}
	return OTF_E_INVAL;
}

int otf__pdata_encode(const otf__tree_t *t, otf__fmt_t fmt, otf_buf_t **out)
{
	switch (t->signal) {
	case OTF_SIGNAL_TRACES:
		return fmt == OTF__FMT_JSON ? otf_pdata_json_encode_traces(&t->u.traces, out)
		                            : otf_pdata_encode_traces(&t->u.traces, out);
	case OTF_SIGNAL_METRICS:
		return fmt == OTF__FMT_JSON ? otf_pdata_json_encode_metrics(&t->u.metrics, out)
		                            : otf_pdata_encode_metrics(&t->u.metrics, out);
	case OTF_SIGNAL_LOGS:
		return fmt == OTF__FMT_JSON ? otf_pdata_json_encode_logs(&t->u.logs, out)
		                            : otf_pdata_encode_logs(&t->u.logs, out);
	}
	return OTF_E_INVAL;
}

void otf__pdata_tree_counts(const otf__tree_t *t, size_t *resources, size_t *scopes,
                            size_t *metrics, size_t *records)
{
	*resources = *scopes = *metrics = *records = 0;
	switch (t->signal) {
	case OTF_SIGNAL_TRACES:
		*resources = t->u.traces.resource_spans_len;
		for (size_t i = 0; i < *resources; i++) {
			const otf_resource_spans_t *r = &t->u.traces.resource_spans[i];
			*scopes += r->scope_spans_len;
			for (size_t j = 0; j < r->scope_spans_len; j++)
				*records += r->scope_spans[j].spans_len;
		}
		break;
	case OTF_SIGNAL_METRICS:
		*resources = t->u.metrics.resource_metrics_len;
		for (size_t i = 0; i < *resources; i++) {
			const otf_resource_metrics_t *r = &t->u.metrics.resource_metrics[i];
			*scopes += r->scope_metrics_len;
			for (size_t j = 0; j < r->scope_metrics_len; j++) {
				const otf_scope_metrics_t *s = &r->scope_metrics[j];
				*metrics += s->metrics_len;
				for (size_t k = 0; k < s->metrics_len; k++)
					*records += s->metrics[k].data_points_len;
			}
		}
		break;
	case OTF_SIGNAL_LOGS:
		*resources = t->u.logs.resource_logs_len;
		for (size_t i = 0; i < *resources; i++) {
			const otf_resource_logs_t *r = &t->u.logs.resource_logs[i];
			*scopes += r->scope_logs_len;
			for (size_t j = 0; j < r->scope_logs_len; j++)
				*records += r->scope_logs[j].log_records_len;
		}
		break;
	}
}
