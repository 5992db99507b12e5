/* otflow pdata: convert and validate OTLP payloads; dispatch of the pdata
 * subcommands (summary lives in cli_pdata_summary.c). */
#include "cli/cli.h"
#include "cli/cli_pdata.h"

#include "otflow/err.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: otflow pdata <subcommand> [options]\n"
	           "\n"
	           "subcommands:\n"
	           "  convert    convert an OTLP payload between protobuf and OTLP/JSON\n"
	           "  summary    count resources, scopes and spans / data points / log records\n"
	           "  validate   fully decode a payload and report the first error\n"
	           "\n"
	           "'otflow pdata <subcommand> --help' describes a subcommand.\n");
}

static void convert_usage(FILE *f)
{
	fprintf(f,
	        "usage: otflow pdata convert [--signal traces|metrics|logs] [--from json|proto]\n"
	        "                            [--to json|proto] [-o OUT] [IN|-]\n"
	        "\n"
	        "Decodes IN (stdin when absent or '-') and writes it re-encoded to OUT\n"
	        "(stdout when absent). Protobuf output is canonical proto3; JSON output is\n"
	        "compact OTLP/JSON followed by a newline.\n"
	        "\n"
	        "  --signal S  traces, metrics or logs; needed for protobuf input, detected\n"
	        "              from the top-level key for JSON input\n"
	        "  --from F    input format; default: JSON when the first non-space byte is\n"
	        "              '{', protobuf otherwise\n"
	        "  --to F      output format; default: the other one\n"
	        "  -o OUT      output file\n"
	        "\n"
	        "exit status: 0 converted, 1 bad input or I/O error, 2 usage error\n");
}

static void validate_usage(FILE *f)
{
	fprintf(f,
	        "usage: otflow pdata validate [--signal traces|metrics|logs] [--from json|proto]\n"
	        "                             [IN|-]\n"
	        "\n"
	        "Fully decodes IN (every field, UTF-8, id lengths, nesting limits) and prints\n"
	        "'IN: OK' with the counts, or the first error: field path, message and byte\n"
	        "offset. --signal and --from are guessed as for 'convert'.\n"
	        "\n"
	        "exit status: 0 valid, 1 invalid or unreadable, 2 usage error\n");
}

/* Fills in the format and signal that were not given. 0 or 2. */
static int resolve(const char *cmd, otf__pdata_opts_t *o, const otf_buf_t *in)
{
	if (o->from == OTF__FMT_NONE)
		o->from = otf__pdata_guess_format(in->data, in->len);
	if (o->signal < 0 && o->from == OTF__FMT_JSON)
		o->signal = otf__pdata_guess_signal(in->data, in->len);
	if (o->signal < 0) {
		fprintf(stderr,
		        o->from == OTF__FMT_JSON
		            ? "otflow pdata %s: no resourceSpans, resourceMetrics or resourceLogs "
		              "key found; pass --signal\n"
		            : "otflow pdata %s: --signal is required for protobuf input\n",
		        cmd);
		return 2;
	}
	return 0;
}

static const char *input_name(const otf__pdata_opts_t *o)
{
	return o->in && strcmp(o->in, "-") ? o->in : "<stdin>";
}

static int decode_or_report(const char *cmd, const otf__pdata_opts_t *o, const otf_buf_t *in,
                            otf__tree_t *t, otf_arena_t *arena)
{
	otf_pdata_error_t err = {0};
	int rc =
	    otf__pdata_decode(t, (otf_signal_t)o->signal, o->from, in->data, in->len, arena, &err);
	if (rc == 0)
		return 0;
	char msg[512];
	if (err.code == 0) /* a decoder that left no detail */
		err.code = rc;
	fprintf(stderr, "otflow pdata %s: %s: %s %s: %s\n", cmd, input_name(o),
	        otf_signal_name((otf_signal_t)o->signal),
	        o->from == OTF__FMT_JSON ? "JSON" : "protobuf",
	        otf_pdata_error_format(&err, msg, sizeof msg));
	return 1;
}

static int cmd_convert(int argc, char **argv)
{
	otf__pdata_opts_t o;
	int rc = otf__pdata_parse("convert", argc, argv,
	                          OTF__OPT_SIGNAL | OTF__OPT_FROM | OTF__OPT_TO | OTF__OPT_OUT, &o);
	if (rc)
		return rc;
	if (o.help) {
		convert_usage(stdout);
		return 0;
	}
	otf_buf_t *in = NULL;
	if (otf__pdata_read("convert", o.in, &in))
		return 1;
	rc = resolve("convert", &o, in);
	if (rc) {
		otf_buf_unref(in);
		return rc;
	}
	if (o.to == OTF__FMT_NONE)
		o.to = o.from == OTF__FMT_JSON ? OTF__FMT_PROTO : OTF__FMT_JSON;

	otf_arena_t arena;
	otf_arena_init(&arena, 0);
	otf__tree_t t;
	rc = decode_or_report("convert", &o, in, &t, &arena);
	if (rc == 0) {
		otf_buf_t *out = NULL;
		int erc = otf__pdata_encode(&t, o.to, &out);
		if (erc) {
			fprintf(stderr, "otflow pdata convert: encoding %s failed: %s\n",
			        o.to == OTF__FMT_JSON ? "JSON" : "protobuf", otf_strerror(erc));
			rc = 1;
		} else {
			rc = otf__pdata_write("convert", o.out, out->data, out->len,
			                      o.to == OTF__FMT_JSON);
			otf_buf_unref(out);
		}
	}
	otf_arena_close(&arena);
	otf_buf_unref(in);
	return rc;
}

static int cmd_validate(int argc, char **argv)
{
	otf__pdata_opts_t o;
	int rc = otf__pdata_parse("validate", argc, argv, OTF__OPT_SIGNAL | OTF__OPT_FROM, &o);
	if (rc)
		return rc;
	if (o.help) {
		validate_usage(stdout);
		return 0;
	}
	otf_buf_t *in = NULL;
	if (otf__pdata_read("validate", o.in, &in))
		return 1;
	rc = resolve("validate", &o, in);
	if (rc) {
		otf_buf_unref(in);
		return rc;
	}
	otf_arena_t arena;
	otf_arena_init(&arena, 0);
	otf__tree_t t;
	rc = decode_or_report("validate", &o, in, &t, &arena);
	if (rc == 0) {
		size_t res, scopes, metrics, records;
		otf__pdata_tree_counts(&t, &res, &scopes, &metrics, &records);
		printf("%s: OK (%s %s, %zu bytes, %zu resources, %zu scopes, %zu %s)\n",
		       input_name(&o), otf_signal_name(t.signal),
		       o.from == OTF__FMT_JSON ? "JSON" : "protobuf", in->len, res, scopes, records,
		       t.signal == OTF_SIGNAL_TRACES    ? "spans"
		       : t.signal == OTF_SIGNAL_METRICS ? "data points"
		                                        : "log records");
	}
	otf_arena_close(&arena);
	otf_buf_unref(in);
	return rc;
}

int otf_cli_pdata(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(sub, "convert"))
		return cmd_convert(argc - 1, argv + 1);
	if (!strcmp(sub, "summary"))
		return otf__pdata_summary(argc - 1, argv + 1);
	if (!strcmp(sub, "validate"))
		return cmd_validate(argc - 1, argv + 1);
	fprintf(stderr, "otflow pdata: unknown subcommand '%s'\n", sub);
	usage(stderr);
	return 2;
}
