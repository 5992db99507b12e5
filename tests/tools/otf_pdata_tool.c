/* otf_pdata_tool SIGNAL FROM TO: converts one OTLP message from stdin to
 * stdout, calling the codec API directly (FROM/TO: proto or json).
 *
 * The protoc oracle test (tests/sh/pb_oracle.sh) uses it so that it checks
 * the codec alone, independent of the CLI. Exit status: 0 ok, 1 codec
 * error (message on stderr), 2 usage.
 */
#include "otflow/arena.h"
#include "otflow/buf.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *read_all(FILE *f, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	uint8_t *buf = malloc(cap);
	while (buf) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		cap *= 2;
		uint8_t *nb = realloc(buf, cap);
		if (!nb)
			free(buf);
		buf = nb;
	}
	*len = n;
	return buf;
}

typedef union tree {
	otf_traces_t traces;
	otf_metrics_t metrics;
	otf_logs_t logs;
} tree_t;

static int decode(int sig, int json, tree_t *t, const uint8_t *in, size_t n, otf_arena_t *a,
                  otf_pdata_error_t *err)
{
	const char *s = (const char *)in;
	switch (sig) {
	case OTF_SIGNAL_TRACES:
		return json ? otf_pdata_json_decode_traces(&t->traces, s, n, a, NULL, err)
		            : otf_pdata_decode_traces(&t->traces, in, n, a, NULL, err);
	case OTF_SIGNAL_METRICS:
		return json ? otf_pdata_json_decode_metrics(&t->metrics, s, n, a, NULL, err)
		            : otf_pdata_decode_metrics(&t->metrics, in, n, a, NULL, err);
	default:
		return json ? otf_pdata_json_decode_logs(&t->logs, s, n, a, NULL, err)
		            : otf_pdata_decode_logs(&t->logs, in, n, a, NULL, err);
	}
}

static int encode(int sig, int json, const tree_t *t, otf_buf_t **out)
{
	switch (sig) {
	case OTF_SIGNAL_TRACES:
		return json ? otf_pdata_json_encode_traces(&t->traces, out)
		            : otf_pdata_encode_traces(&t->traces, out);
	case OTF_SIGNAL_METRICS:
		return json ? otf_pdata_json_encode_metrics(&t->metrics, out)
		            : otf_pdata_encode_metrics(&t->metrics, out);
	default:
		return json ? otf_pdata_json_encode_logs(&t->logs, out)
		            : otf_pdata_encode_logs(&t->logs, out);
	}
}

static int format_of(const char *s)
{
	if (strcmp(s, "json") == 0)
		return 1;
	if (strcmp(s, "proto") == 0)
		return 0;
	return -1;
}

int main(int argc, char **argv)
{
	int sig = -1;
	if (argc == 4) {
		if (strcmp(argv[1], "traces") == 0)
			sig = OTF_SIGNAL_TRACES;
		else if (strcmp(argv[1], "metrics") == 0)
			sig = OTF_SIGNAL_METRICS;
		else if (strcmp(argv[1], "logs") == 0)
			sig = OTF_SIGNAL_LOGS;
	}
	int from = argc == 4 ? format_of(argv[2]) : -1;
	int to = argc == 4 ? format_of(argv[3]) : -1;
	if (sig < 0 || from < 0 || to < 0) {
		fprintf(stderr, "usage: otf_pdata_tool traces|metrics|logs proto|json proto|json "
		                "< in > out\n");
		return 2;
	}
	size_t n;
	uint8_t *in = read_all(stdin, &n);
	if (!in) {
		fprintf(stderr, "otf_pdata_tool: out of memory\n");
		return 1;
	}
	otf_arena_t a;
	otf_arena_init(&a, 0);
	tree_t t;
	otf_pdata_error_t err;
	int rc = decode(sig, from, &t, in, n, &a, &err);
	if (rc) {
		char m[512];
		fprintf(stderr, "otf_pdata_tool: decode: %s\n",
		        otf_pdata_error_format(&err, m, sizeof m));
	} else {
		otf_buf_t *out = NULL;
		rc = encode(sig, to, &t, &out);
		if (rc)
			fprintf(stderr, "otf_pdata_tool: encode: %s\n", otf_strerror(rc));
		else if (fwrite(out->data, 1, out->len, stdout) != out->len || fflush(stdout))
			rc = OTF_E_IO;
		otf_buf_unref(out);
	}
	otf_arena_close(&a);
	free(in);
	return rc ? 1 : 0;
}
