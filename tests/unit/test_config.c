/* Configuration loader: Collector YAML into the node tree, positions, env
 * expansion, multi-file merge, syntax errors, typed scalar readers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes text to a fresh temp file; returns its path (free() it). */
static char *write_temp(const char *text)
{
	const char *dir = getenv("TMPDIR");
	char *path = malloc(4096);
	assert_non_null(path);
	snprintf(path, 4096, "%s/otf-config-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static void drop_temp(char *path)
{
	unlink(path);
	free(path);
}

static const char *str_at(const otf_config_node_t *root, const char *path)
{
	const char *s = otf_config_scalar(otf_config_get(root, path), NULL);
	if (!s)
		fail_msg("no scalar at %s", path);
	return s;
}

/* Line numbers below are 1-based lines of this text. */
static const char FULL[] = "receivers:\n"                                /* 1 */
                           "  otlp:\n"                                   /* 2 */
                           "    protocols:\n"                            /* 3 */
                           "      grpc:\n"                               /* 4 */
                           "        endpoint: 0.0.0.0:4317\n"            /* 5 */
                           "      http:\n"                               /* 6 */
                           "        endpoint: \"0.0.0.0:4318\"\n"        /* 7 */
                           "processors:\n"                               /* 8 */
                           "  batch:\n"                                  /* 9 */
                           "    timeout: 5s\n"                           /* 10 */
                           "    send_batch_size: 8192\n"                 /* 11 */
                           "  memory_limiter:\n"                         /* 12 */
                           "    check_interval: 1s\n"                    /* 13 */
                           "    limit_mib: 4000\n"                       /* 14 */
                           "    spike_limit_mib: 800\n"                  /* 15 */
                           "exporters:\n"                                /* 16 */
                           "  debug:\n"                                  /* 17 */
                           "    verbosity: detailed\n"                   /* 18 */
                           "extensions:\n"                               /* 19 */
                           "  health_check:\n"                           /* 20 */
                           "service:\n"                                  /* 21 */
                           "  extensions: [health_check]\n"              /* 22 */
                           "  telemetry:\n"                              /* 23 */
                           "    logs:\n"                                 /* 24 */
                           "      level: debug\n"                        /* 25 */
                           "    metrics:\n"                              /* 26 */
                           "      address: 127.0.0.1:8888\n"             /* 27 */
                           "  pipelines:\n"                              /* 28 */
                           "    traces:\n"                               /* 29 */
                           "      receivers: [otlp]\n"                   /* 30 */
                           "      processors: [memory_limiter, batch]\n" /* 31 */
                           "      exporters: [debug]\n"                  /* 32 */
                           "    traces/foo:\n"                           /* 33 */
                           "      receivers:\n"                          /* 34 */
                           "        - otlp\n"                            /* 35 */
                           "      exporters:\n"                          /* 36 */
                           "        - debug\n";                          /* 37 */

static void test_full_collector_config(void **state)
{
	(void)state;
	char *path = write_temp(FULL);
	const char *paths[] = {path};
	otf_config_t *cfg = NULL;
	otf_config_error_t err;
	assert_int_equal(otf_config_load_files(paths, 1, &cfg, &err), 0);
	const otf_config_node_t *root = otf_config_root(cfg);
	assert_int_equal(otf_config_node_kind(root), OTF_CONFIG_MAPPING);

	/* top-level keys in file order */
	const char *want[] = {"receivers", "processors", "exporters", "extensions", "service"};
	assert_int_equal(otf_config_len(root), 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(otf_config_map_at(root, i, NULL), want[i]);

	assert_string_equal(str_at(root, "receivers.otlp.protocols.grpc.endpoint"), "0.0.0.0:4317");
	const otf_config_node_t *http = otf_config_get(root, "receivers.otlp.protocols.http");
	assert_int_equal(otf_config_node_line(http), 7);
	const otf_config_node_t *ep = otf_config_map_get(http, "endpoint");
	assert_string_equal(otf_config_scalar(ep, NULL), "0.0.0.0:4318");
	assert_string_equal(otf_config_node_file(ep), path);
	assert_int_equal(otf_config_node_line(ep), 7);
	assert_int_equal(otf_config_node_column(ep), 19);
	char p[256];
	otf_config_node_path(ep, p, sizeof(p));
	assert_string_equal(p, "receivers.otlp.protocols.http.endpoint");

	int64_t ns;
	assert_int_equal(
	    otf_config_read_duration(otf_config_get(root, "processors.batch.timeout"), &ns, NULL),
	    0);
	assert_int_equal(ns, 5000000000LL);
	uint64_t u;
	assert_int_equal(otf_config_read_uint64(
	                     otf_config_get(root, "processors.batch.send_batch_size"), &u, NULL),
	                 0);
	assert_int_equal(u, 8192);
	const otf_config_node_t *lim = otf_config_get(root, "processors.memory_limiter.limit_mib");
	assert_int_equal(otf_config_node_line(lim), 14);
	assert_string_equal(str_at(root, "exporters.debug.verbosity"), "detailed");
	/* "health_check:" with no value is a null node, not missing */
	const otf_config_node_t *hc = otf_config_get(root, "extensions.health_check");
	assert_non_null(hc);
	assert_int_equal(otf_config_node_kind(hc), OTF_CONFIG_NULL);
	assert_int_equal(otf_config_node_line(hc), 20);

	assert_string_equal(str_at(root, "service.extensions.0"), "health_check");
	assert_string_equal(str_at(root, "service.telemetry.logs.level"), "debug");
	assert_string_equal(str_at(root, "service.telemetry.metrics.address"), "127.0.0.1:8888");

	const otf_config_node_t *pipes = otf_config_get(root, "service.pipelines");
	assert_int_equal(otf_config_len(pipes), 2);
	const otf_config_node_t *v;
	assert_string_equal(otf_config_map_at(pipes, 1, &v), "traces/foo");
	assert_int_equal(otf_config_node_line(v), 34);
	uint32_t kl, kc;
	otf_config_map_key_pos(pipes, 1, &kl, &kc);
	assert_int_equal(kl, 33);
	assert_int_equal(kc, 5);
	const otf_config_node_t *procs =
	    otf_config_get(root, "service.pipelines.traces.processors");
	assert_int_equal(otf_config_node_kind(procs), OTF_CONFIG_SEQUENCE);
	assert_int_equal(otf_config_len(procs), 2);
	assert_string_equal(otf_config_scalar(otf_config_seq_at(procs, 1), NULL), "batch");
	assert_int_equal(otf_config_node_line(otf_config_seq_at(procs, 1)), 31);
	const otf_config_node_t *r = otf_config_get(root, "service.pipelines.traces/foo.receivers");
	assert_int_equal(otf_config_len(r), 1);
	const otf_config_node_t *r0 = otf_config_seq_at(r, 0);
	assert_string_equal(otf_config_scalar(r0, NULL), "otlp");
	assert_int_equal(otf_config_node_line(r0), 35);
	otf_config_node_path(r0, p, sizeof(p));
	assert_string_equal(p, "service.pipelines.traces/foo.receivers[0]");

	/* misses */
	assert_null(otf_config_get(root, "service.pipelines.logs"));
	assert_null(otf_config_get(root, "service.extensions.1"));
	assert_null(otf_config_get(root, "service.extensions.-0"));
	assert_null(otf_config_get(root, "service.extensions. 0"));
	assert_null(otf_config_get(root, "receivers.otlp.protocols.grpc.endpoint.x"));
	assert_ptr_equal(otf_config_get(root, ""), root);

	/* type error in the documented shape */
	const otf_config_node_t *grpc = otf_config_get(root, "receivers.otlp.protocols.grpc");
	bool b;
	assert_int_equal(otf_config_read_bool(grpc, &b, &err), OTF_E_CONFIG);
	char want_text[512];
	snprintf(want_text, sizeof(want_text),
	         "%s:5:9: receivers.otlp.protocols.grpc: expected a boolean (true or false), got "
	         "a mapping",
	         path);
	assert_string_equal(err.text, want_text);
	assert_int_equal(err.line, 5);
	assert_string_equal(err.path, "receivers.otlp.protocols.grpc");

	otf_config_destroy(cfg);
	drop_temp(path);
}

typedef struct warnings {
	int n;
	char last[1200];
} warnings_t;

static void on_warn(void *user, const otf_config_error_t *w)
{
	warnings_t *ws = user;
	ws->n++;
	snprintf(ws->last, sizeof(ws->last), "%s", w->text);
}

static void test_env_expansion(void **state)
{
	(void)state;
	setenv("OTF_T_HOST", "collector.local", 1);
	setenv("OTF_T_PORT", "4317", 1);
	setenv("OTF_T_EMPTY", "", 1);
	setenv("OTF_T_DOLLAR", "a${OTF_T_HOST}b", 1);
	unsetenv("OTF_T_UNSET");
	static const char text[] = "a: ${env:OTF_T_HOST}:${OTF_T_PORT}\n"
	                           "b: ${env:OTF_T_UNSET:-fallback}\n"
	                           "c: ${env:OTF_T_EMPTY:-notused}\n"
	                           "d: price $$5 and $${env:OTF_T_HOST} and $$$$\n"
	                           "e: pre-${env:OTF_T_UNSET}-post\n"
	                           "f: ${env:OTF_T_DOLLAR}\n"
	                           "g: lone $ sign and $HOME\n"
	                           "h: [\"${OTF_T_PORT}\", x]\n"
	                           "${env:OTF_T_HOST}: key is not expanded\n"
	                           "i: \"${env:OTF_T_UNSET:-with space: and colon}\"\n";
	warnings_t ws = {0};
	otf_config_load_opts_t opts = {.warn = on_warn, .warn_user = &ws};
	otf_config_t *cfg;
	otf_config_error_t err;
	assert_int_equal(otf_config_load_string("env.yaml", text, strlen(text), &opts, &cfg, &err),
	                 0);
	const otf_config_node_t *root = otf_config_root(cfg);
	assert_string_equal(str_at(root, "a"), "collector.local:4317");
	assert_string_equal(str_at(root, "b"), "fallback");
	/* The Collector uses the default only for unset variables. */
	assert_string_equal(str_at(root, "c"), "");
	assert_string_equal(str_at(root, "d"), "price $5 and ${env:OTF_T_HOST} and $$");
	assert_string_equal(str_at(root, "e"), "pre--post");
	/* expanded text is not expanded again */
	assert_string_equal(str_at(root, "f"), "a${OTF_T_HOST}b");
	assert_string_equal(str_at(root, "g"), "lone $ sign and $HOME");
	assert_string_equal(str_at(root, "h.0"), "4317");
	assert_non_null(otf_config_map_get(root, "${env:OTF_T_HOST}"));
	assert_string_equal(str_at(root, "i"), "with space: and colon");
	int64_t port;
	assert_int_equal(otf_config_read_int64(otf_config_get(root, "h.0"), &port, NULL), 0);
	assert_int_equal(port, 4317);

	/* one warning: the unset variable without a default, with position */
	assert_int_equal(ws.n, 1);
	assert_string_equal(
	    ws.last, "env.yaml:5:4: e: environment variable OTF_T_UNSET is not set; using \"\"");
	otf_config_destroy(cfg);

	/* errors: other providers, bad names, unterminated */
	static const char *bad[] = {"x: ${file:/etc/passwd}\n", "x: ${env:1BAD}\n",
	                            "x:\n  y: ${env:OK\n", "x: ${OTF_T_HOST:-d}\n"};
	static const char *msg[] = {"unsupported config provider \"file\"",
	                            "invalid environment variable name \"1BAD\"",
	                            "unterminated \"${\"", "use ${env:OTF_T_HOST:-default}"};
	for (size_t i = 0; i < 4; i++) {
		cfg = (otf_config_t *)&cfg;
		assert_int_equal(
		    otf_config_load_string("bad.yaml", bad[i], strlen(bad[i]), NULL, &cfg, &err),
		    OTF_E_CONFIG);
		assert_null(cfg);
		if (!strstr(err.text, msg[i]))
			fail_msg("case %zu: %s", i, err.text);
	}
	assert_string_equal(err.file, "bad.yaml");
	assert_int_equal(err.line, 1);
	assert_string_equal(err.path, "x");
}

static void test_merge(void **state)
{
	(void)state;
	char *a = write_temp("receivers:\n"
	                     "  otlp:\n"
	                     "    protocols:\n"
	                     "      grpc:\n"
	                     "        endpoint: 0.0.0.0:4317\n"
	                     "        max_recv_msg_size_mib: 4\n"
	                     "exporters:\n"
	                     "  debug:\n"
	                     "    verbosity: basic\n"
	                     "service:\n"
	                     "  pipelines:\n"
	                     "    traces:\n"
	                     "      receivers: [otlp]\n"
	                     "      processors: [batch, memory_limiter]\n"
	                     "      exporters: [debug]\n");
	char *b = write_temp("receivers:\n"
	                     "  otlp:\n"
	                     "    protocols:\n"
	                     "      grpc:\n"
	                     "        endpoint: 127.0.0.1:5317\n"
	                     "      http:\n"
	                     "exporters:\n"
	                     "  debug: ~\n"
	                     "service:\n"
	                     "  pipelines:\n"
	                     "    traces:\n"
	                     "      processors: [batch]\n"
	                     "    logs:\n"
	                     "      receivers: [otlp]\n"
	                     "      exporters: [debug]\n");
	const char *paths[] = {a, b};
	otf_config_t *cfg;
	otf_config_error_t err;
	assert_int_equal(otf_config_load_files(paths, 2, &cfg, &err), 0);
	const otf_config_node_t *root = otf_config_root(cfg);
	/* scalar overridden; position is the later file's */
	const otf_config_node_t *ep =
	    otf_config_get(root, "receivers.otlp.protocols.grpc.endpoint");
	assert_string_equal(otf_config_scalar(ep, NULL), "127.0.0.1:5317");
	assert_string_equal(otf_config_node_file(ep), b);
	assert_int_equal(otf_config_node_line(ep), 5);
	/* sibling kept from the first file */
	const otf_config_node_t *sz =
	    otf_config_get(root, "receivers.otlp.protocols.grpc.max_recv_msg_size_mib");
	assert_string_equal(otf_config_scalar(sz, NULL), "4");
	assert_string_equal(otf_config_node_file(sz), a);
	/* new key added by the second file */
	const otf_config_node_t *http = otf_config_get(root, "receivers.otlp.protocols.http");
	assert_non_null(http);
	assert_int_equal(otf_config_node_kind(http), OTF_CONFIG_NULL);
	/* a later null replaces a mapping, as in confmap */
	assert_int_equal(otf_config_node_kind(otf_config_get(root, "exporters.debug")),
	                 OTF_CONFIG_NULL);
	/* lists replaced, not appended */
	const otf_config_node_t *procs =
	    otf_config_get(root, "service.pipelines.traces.processors");
	assert_int_equal(otf_config_len(procs), 1);
	assert_string_equal(otf_config_scalar(otf_config_seq_at(procs, 0), NULL), "batch");
	assert_int_equal(otf_config_len(otf_config_get(root, "service.pipelines.traces.receivers")),
	                 1);
	const otf_config_node_t *pipes = otf_config_get(root, "service.pipelines");
	assert_int_equal(otf_config_len(pipes), 2);
	assert_string_equal(otf_config_map_at(pipes, 1, NULL), "logs");
	char p[128];
	otf_config_node_path(otf_config_seq_at(procs, 0), p, sizeof(p));
	assert_string_equal(p, "service.pipelines.traces.processors[0]");
	/* a replaced pair's key position moves to the later file too */
	const otf_config_node_t *traces = otf_config_get(root, "service.pipelines.traces");
	uint32_t kl, kc;
	assert_string_equal(otf_config_map_at(traces, 1, NULL), "processors");
	otf_config_map_key_pos(traces, 1, &kl, &kc);
	assert_int_equal(kl, 12);
	assert_int_equal(kc, 7);
	otf_config_destroy(cfg);

	/* zero files: an empty mapping */
	assert_int_equal(otf_config_load_files(NULL, 0, &cfg, &err), 0);
	assert_int_equal(otf_config_node_kind(otf_config_root(cfg)), OTF_CONFIG_MAPPING);
	assert_int_equal(otf_config_len(otf_config_root(cfg)), 0);
	otf_config_destroy(cfg);
	drop_temp(a);
	drop_temp(b);
}

static void test_syntax_and_structure_errors(void **state)
{
	(void)state;
	char *path = write_temp("receivers:\n"
	                        "  otlp:\n"
	                        "    protocols: [grpc\n"
	                        "exporters:\n"
	                        "  debug: {}\n");
	const char *paths[] = {path};
	otf_config_t *cfg = (otf_config_t *)&cfg;
	otf_config_error_t err;
	assert_int_equal(otf_config_load_files(paths, 1, &cfg, &err), OTF_E_CONFIG);
	assert_null(cfg);
	assert_string_equal(err.file, path);
	assert_true(err.line >= 3 && err.line <= 5);
	assert_true(err.column > 0);
	char prefix[512];
	snprintf(prefix, sizeof(prefix), "%s:%u:%u: YAML syntax error: ", path, err.line,
	         err.column);
	assert_memory_equal(err.text, prefix, strlen(prefix));
	drop_temp(path);

	/* tab indentation, a classic */
	static const char tab[] = "a:\n\tb: 1\n";
	assert_int_equal(otf_config_load_string("t.yaml", tab, strlen(tab), NULL, &cfg, &err),
	                 OTF_E_CONFIG);
	assert_int_equal(err.line, 2);

	static const struct {
		const char *text, *msg;
		uint32_t line;
	} cases[] = {
	    {"a: 1\nb:\n  c: 1\n  c: 2\n", "key \"c\" is already defined at line 3", 4},
	    {"- a\n- b\n", "the configuration root must be a mapping, got a sequence", 1},
	    {"a: 1\n---\nb: 2\n", "more than one YAML document", 2},
	    {"a: *nope\n", "unknown alias *nope", 1},
	    {"? [a, b]\n: 1\n", "mapping keys must be scalars", 1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = otf_config_load_string("s.yaml", cases[i].text, strlen(cases[i].text),
		                                NULL, &cfg, &err);
		assert_int_equal(rc, OTF_E_CONFIG);
		if (!strstr(err.message, cases[i].msg) || err.line != cases[i].line)
			fail_msg("case %zu: %s", i, err.text);
	}
	assert_int_equal(otf_config_load_string("s.yaml", cases[0].text, strlen(cases[0].text),
	                                        NULL, &cfg, &err),
	                 OTF_E_CONFIG);
	assert_string_equal(err.text, "s.yaml:4:3: b: key \"c\" is already defined at line 3");

	/* missing file */
	const char *missing[] = {"/nonexistent/otf/config.yaml"};
	assert_int_equal(otf_config_load_files(missing, 1, &cfg, &err), -ENOENT);
	assert_non_null(strstr(err.text, "/nonexistent/otf/config.yaml: cannot open"));

	/* empty file and comment-only file: empty root mapping */
	static const char empty[] = "# nothing here\n";
	assert_int_equal(otf_config_load_string("e.yaml", empty, strlen(empty), NULL, &cfg, &err),
	                 0);
	assert_int_equal(otf_config_len(otf_config_root(cfg)), 0);
	otf_config_destroy(cfg);
}

static void test_anchors_and_nulls(void **state)
{
	(void)state;
	static const char text[] = "common: &c\n"
	                           "  endpoint: a:1\n"
	                           "  tls: {insecure: true}\n"
	                           "x: *c\n"
	                           "n1: ~\n"
	                           "n2: null\n"
	                           "s1: \"null\"\n"
	                           "s2: ''\n";
	otf_config_t *cfg;
	otf_config_error_t err;
	assert_int_equal(otf_config_load_string("a.yaml", text, strlen(text), NULL, &cfg, &err), 0);
	const otf_config_node_t *root = otf_config_root(cfg);
	assert_string_equal(str_at(root, "x.endpoint"), "a:1");
	bool b = false;
	assert_int_equal(otf_config_read_bool(otf_config_get(root, "x.tls.insecure"), &b, NULL), 0);
	assert_true(b);
	char p[64];
	otf_config_node_path(otf_config_get(root, "x.tls.insecure"), p, sizeof(p));
	assert_string_equal(p, "x.tls.insecure");
	assert_int_equal(otf_config_node_kind(otf_config_get(root, "n1")), OTF_CONFIG_NULL);
	assert_int_equal(otf_config_node_kind(otf_config_get(root, "n2")), OTF_CONFIG_NULL);
	assert_string_equal(str_at(root, "s1"), "null");
	assert_string_equal(str_at(root, "s2"), "");
	otf_config_destroy(cfg);
}

static void test_scalar_parsers(void **state)
{
	(void)state;
	int64_t ns;
	static const struct {
		const char *s;
		int64_t ns;
	} durs[] = {
	    {"5s", 5000000000LL},
	    {"100ms", 100000000LL},
	    {"250ms", 250000000LL},
	    {"1m30s", 90000000000LL},
	    {"1h", 3600000000000LL},
	    {"1.5h", 5400000000000LL},
	    {"2h45m0.5s", 9900500000000LL},
	    {"-1.5s", -1500000000LL},
	    {"10us", 10000},
	    {"10\xc2\xb5s", 10000},
	    {"7ns", 7},
	    {"0", 0},
	    {"42", 42},
	    {".5s", 500000000LL},
	    {"2562047h47m16.854775807s", INT64_MAX},
	};
	for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
		if (otf_config_parse_duration(durs[i].s, &ns) != 0 || ns != durs[i].ns)
			fail_msg("duration %s", durs[i].s);
	}
	static const char *bad_durs[] = {
	    "", "s", "5", "5x", "5 s", "1.s.", "-", "1d", "2562047h47m16.854775808s", "5S"};
	for (size_t i = 0; i < sizeof(bad_durs) / sizeof(bad_durs[0]); i++) {
		if (i == 2)
			continue; /* "5" is 5ns: a bare integer, see config.h */
		if (otf_config_parse_duration(bad_durs[i], &ns) != OTF_E_CONFIG)
			fail_msg("duration %s accepted", bad_durs[i]);
	}

	uint64_t sz;
	static const struct {
		const char *s;
		uint64_t v;
	} sizes[] = {
	    {"4MiB", 4u << 20},      {"20MB", 20000000},        {"1048576", 1048576},
	    {"512 KiB", 512 * 1024}, {"1.5GiB", 1610612736ULL}, {"3b", 3},
	    {"2kb", 2000},           {"1Ti", 1ULL << 40},       {"0", 0},
	};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (otf_config_parse_size(sizes[i].s, &sz) != 0 || sz != sizes[i].v)
			fail_msg("size %s", sizes[i].s);
	}
	static const char *bad_sizes[] = {
	    "", "MiB", "-1", "4XB", "4 MiBs", "99999999999999999999", "20000000TB"};
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		if (otf_config_parse_size(bad_sizes[i], &sz) != OTF_E_CONFIG)
			fail_msg("size %s accepted", bad_sizes[i]);
	}

	int64_t i64;
	uint64_t u64;
	assert_int_equal(otf_config_parse_int64("-9223372036854775808", &i64), 0);
	assert_true(i64 == INT64_MIN);
	assert_int_equal(otf_config_parse_int64("9223372036854775808", &i64), OTF_E_CONFIG);
	assert_int_equal(otf_config_parse_int64("0x1F", &i64), 0);
	assert_int_equal(i64, 31);
	assert_int_equal(otf_config_parse_int64("0o17", &i64), 0);
	assert_int_equal(i64, 15);
	assert_int_equal(otf_config_parse_int64("1.5", &i64), OTF_E_CONFIG);
	assert_int_equal(otf_config_parse_int64(" 1", &i64), OTF_E_CONFIG);
	assert_int_equal(otf_config_parse_int64("", &i64), OTF_E_CONFIG);
	assert_int_equal(otf_config_parse_uint64("18446744073709551615", &u64), 0);
	assert_true(u64 == UINT64_MAX);
	assert_int_equal(otf_config_parse_uint64("18446744073709551616", &u64), OTF_E_CONFIG);
	assert_int_equal(otf_config_parse_uint64("-1", &u64), OTF_E_CONFIG);

	double d;
	assert_int_equal(otf_config_parse_double("0.25", &d), 0);
	assert_true(d == 0.25);
	assert_int_equal(otf_config_parse_double("-.inf", &d), 0);
	assert_true(d < -1e308);
	assert_int_equal(otf_config_parse_double(".nan", &d), 0);
	assert_true(d != d);
	assert_int_equal(otf_config_parse_double("1e3", &d), 0);
	assert_true(d == 1000);
	assert_int_equal(otf_config_parse_double("abc", &d), OTF_E_CONFIG);
	assert_int_equal(otf_config_parse_double("", &d), OTF_E_CONFIG);

	bool b;
	assert_int_equal(otf_config_parse_bool("True", &b), 0);
	assert_true(b);
	assert_int_equal(otf_config_parse_bool("FALSE", &b), 0);
	assert_false(b);
	assert_int_equal(otf_config_parse_bool("yes", &b), OTF_E_CONFIG);
}

static void test_load_fails_cleanly_on_oom(void **state)
{
	(void)state;
	otf_alloc_stats_t before, after;
	otf_alloc_stats(&before);
	otf_config_error_t err;
	int failures = 0;
	for (int64_t n = 0; n < 10000; n++) {
		otf_config_t *cfg;
		otf_alloc_fail_after(n);
		int rc = otf_config_load_string("oom.yaml", FULL, strlen(FULL), NULL, &cfg, &err);
		otf_alloc_fail_after(-1);
		if (rc == 0) {
			otf_config_destroy(cfg);
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_null(cfg);
		failures++;
	}
	assert_true(failures > 0);

	/* files, env expansion and merge under allocation failure */
	setenv("OTF_T_OOM", "value-from-env", 1);
	char *a = write_temp(FULL);
	char *b = write_temp("processors:\n  batch:\n    timeout: ${env:OTF_T_OOM}\n"
	                     "service:\n  pipelines:\n    logs: {receivers: [otlp]}\n");
	const char *paths[] = {a, b};
	failures = 0;
	for (int64_t n = 0; n < 10000; n++) {
		otf_config_t *cfg;
		otf_alloc_fail_after(n);
		int rc = otf_config_load_files(paths, 2, &cfg, &err);
		otf_alloc_fail_after(-1);
		if (rc == 0) {
			assert_string_equal(
			    str_at(otf_config_root(cfg), "processors.batch.timeout"),
			    "value-from-env");
			otf_config_destroy(cfg);
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_string_equal(err.message, "out of memory");
		failures++;
	}
	assert_true(failures > 0);
	drop_temp(a);
	drop_temp(b);
	otf_alloc_stats(&after);
	assert_int_equal(after.bytes_in_use, before.bytes_in_use);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_collector_config),
	    cmocka_unit_test(test_env_expansion),
	    cmocka_unit_test(test_merge),
	    cmocka_unit_test(test_syntax_and_structure_errors),
	    cmocka_unit_test(test_anchors_and_nulls),
	    cmocka_unit_test(test_scalar_parsers),
	    cmocka_unit_test(test_load_fails_cleanly_on_oom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
