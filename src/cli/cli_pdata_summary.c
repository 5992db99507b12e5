/* otflow pdata summary: counts of a payload. Protobuf is walked with the
 * views (no decode, no allocation), so it works on payloads the decoder
 * would reject in their details; JSON is decoded. */
#include "cli/cli_pdata.h"

#include "otflow/err.h"
#include "otflow/pdata_view.h"

#include <stdio.h>
#include <string.h>

static void summary_usage(FILE *f)
{
	fprintf(f,
	        "usage: otflow pdata summary [--signal traces|metrics|logs] [--from json|proto]\n"
	        "                            [FILE|-]\n"
	        "\n"
	        "Prints the number of resources, scopes and spans / metrics and data points /\n"
	        "log records. Protobuf input is walked lazily (framing only, see 'validate'\n"
	        "for a full check); JSON input is decoded.\n"
	        "\n"
	        "  --signal S  traces, metrics or logs; needed for protobuf input, detected\n"
	        "              from the top-level key for JSON input\n"
	        "  --from F    input format; default: JSON when the first non-space byte is\n"
	        "              '{', protobuf otherwise\n"
	        "\n"
	        "exit status: 0 done, 1 bad input or I/O error, 2 usage error\n");
}

static const char *records_name(otf_signal_t s)
{
	switch (s) {
	case OTF_SIGNAL_TRACES:
		return "spans";
	case OTF_SIGNAL_METRICS:
		return "data points";
	case OTF_SIGNAL_LOGS:
		return "log records";
	}
	return "records";
}

int otf__pdata_summary(int argc, char **argv)
{
	otf__pdata_opts_t o;
	int rc = otf__pdata_parse("summary", argc, argv, OTF__OPT_SIGNAL | OTF__OPT_FROM, &o);
	if (rc)
		return rc;
	if (o.help) {
		summary_usage(stdout);
		return 0;
	}
	otf_buf_t *in = NULL;
	if (otf__pdata_read("summary", o.in, &in))
		return 1;
	const char *name = o.in && strcmp(o.in, "-") ? o.in : "<stdin>";
	if (o.from == OTF__FMT_NONE)
		o.from = otf__pdata_guess_format(in->data, in->len);
	if (o.signal < 0 && o.from == OTF__FMT_JSON)
		o.signal = otf__pdata_guess_signal(in->data, in->len);
	if (o.signal < 0) {
		fprintf(stderr, "otflow pdata summary: %s\n",
		        o.from == OTF__FMT_JSON
		            ? "no resourceSpans, resourceMetrics or resourceLogs "
		              "key found; pass --signal"
		            : "--signal is required for protobuf input");
		otf_buf_unref(in);
		return 2;
	}
	otf_signal_t sig = (otf_signal_t)o.signal;
	size_t res = 0, scopes = 0, metrics = 0, records = 0;
	if (o.from == OTF__FMT_PROTO) {
		otf_view_counts_t c;
		rc = otf_view_count(sig, in->data, in->len, &c);
		if (rc < 0) {
			fprintf(stderr, "otflow pdata summary: %s: %s protobuf: %s at byte %zu\n",
			        name, otf_signal_name(sig), otf_strerror(rc), c.err_offset);
			otf_buf_unref(in);
			return 1;
		}
		res = c.resources;
		scopes = c.scopes;
		metrics = c.metrics;
		records = c.records;
	} else {
		otf_arena_t arena;
		otf_arena_init(&arena, 0);
		otf__tree_t t;
		otf_pdata_error_t err = {0};
		rc = otf__pdata_decode(&t, sig, o.from, in->data, in->len, &arena, &err);
		if (rc) {
			char msg[512];
			if (err.code == 0)
				err.code = rc;
			fprintf(stderr, "otflow pdata summary: %s: %s JSON: %s\n", name,
			        otf_signal_name(sig),
			        otf_pdata_error_format(&err, msg, sizeof msg));
			otf_arena_close(&arena);
			otf_buf_unref(in);
			return 1;
		}
		otf__pdata_tree_counts(&t, &res, &scopes, &metrics, &records);
		otf_arena_close(&arena);
	}
	printf("file: %s\n"
	       "signal: %s\n"
	       "format: %s\n"
	       "bytes: %zu\n"
	       "resources: %zu\n"
	       "scopes: %zu\n",
	       name, otf_signal_name(sig), o.from == OTF__FMT_JSON ? "json" : "proto", in->len, res,
	       scopes);
	if (sig == OTF_SIGNAL_METRICS)
		printf("metrics: %zu\n", metrics);
	printf("%s: %zu\n", records_name(sig), records);
	otf_buf_unref(in);
	return 0;
}
