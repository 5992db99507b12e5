/* receiver `otlp`, protocol grpc, end to end: a real HTTP/2 client
 * (tests/support/h2_client.c) calls the three Export methods of an
 * in-process engine whose pipelines end in file exporters (proto records)
 * and a test exporter that acks, nacks or holds per the call's metadata;
 * the files must hold exactly the request bytes, decompressed. Then the
 * otflow binary itself: serve gRPC, SIGTERM, exit 0. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "h2_client.h"
#include "otf_test.h"
#include "otflow/alloc.h"
#include "otflow/arena.h"
#include "otflow/config.h"
#include "otflow/err.h"
#include "otflow/grpc_server.h"
#include "otflow/pdata_codec.h"
#include "otflow/service.h"

#include "components/exporters/exporterhelper/exporterhelper.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

static const char *const k_methods[3] = {
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
};

/* ---- test_gate exporter: outcome per the call's x-outcome metadata ---- */

static _Atomic uint64_t g_deadline;
static _Atomic int g_held_n;

typedef struct gate {
	otf_node_t *node;
	otf_msg_t *held[16];
	int n_held;
} gate_t;

static int gate_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (!*inst) {
		gate_t *g = otf_calloc(1, sizeof *g);
		g->node = ctx->node;
		*inst = g;
	}
	return 0;
}

static void gate_consume(void *inst, otf_msg_t *m)
{
	gate_t *g = inst;
	const char *o = otf_msg_header_get(m, "x-outcome");
	atomic_store(&g_deadline, otf_msg_deadline(m));
	if (!o || !strcmp(o, "ack"))
		otf_msg_ack(m);
	else if (!strcmp(o, "nack-retry"))
		otf_msg_nack(m, -EIO, false, "downstream is down");
	else if (!strcmp(o, "nack-permanent"))
		otf_msg_nack(m, OTF_E_INVAL, true, "bad data");
	else if (!strcmp(o, "nack-nomem"))
		otf_msg_nack(m, OTF_E_NOMEM, false, "memory limit");
	else if (!strcmp(o, "nack-deadline")) /* a node past the message's deadline */
		otf_msg_nack(m, -ETIMEDOUT, false, "deadline exceeded in the queue");
	else if (!strcmp(o, "reb0")) { /* budget 0 for a second (REB) */
		otf_budget_t zero = {0, 0, 0, 2500, 0};
		otf_node_publish_budget(g->node, &zero);
		otf_node_timer_start(g->node, 1000, 0, 7);
		otf_msg_ack(m);
	} else if (g->n_held < 16) {
		g->held[g->n_held++] = m; /* "hold": acked at shutdown */
		atomic_fetch_add(&g_held_n, 1);
	} else
		otf_msg_ack(m);
}

static void gate_control(void *inst, const otf_ctrl_t *c)
{
	gate_t *g = inst;
	if (c->type == OTF_CTRL_TMR && c->calldata == 7)
		otf_node_publish_budget(g->node, NULL);
	if (c->type != OTF_CTRL_KIL)
		return;
	for (int i = 0; i < g->n_held; i++)
		otf_msg_ack(g->held[i]);
	g->n_held = 0;
	otf_node_shutdown_done(g->node);
}

static void gate_destroy(void *inst)
{
	otf_free(inst);
}

static const otf_component_factory_t k_gate = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "test_gate",
    .description = "test exporter: ack/nack/hold per x-outcome",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .create = {gate_create, gate_create, gate_create},
    .consume = {gate_consume, gate_consume, gate_consume},
    .control = gate_control,
    .destroy = gate_destroy,
};

/* ---- helpers ---- */

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t l = sizeof a;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	getsockname(fd, (struct sockaddr *)&a, &l);
	close(fd);
	return ntohs(a.sin_port);
}

/* The example request of signal s as protobuf (examples/pdata/). */
static otf_buf_t *example(otf_signal_t s)
{
	static const char *const names[3] = {"traces", "metrics", "logs"};
	char path[512];
	snprintf(path, sizeof path, "%s/examples/pdata/%s.json", otf_test_source_dir(), names[s]);
	size_t n;
	uint8_t *j = otf_test_read_file(path, &n);
	assert_non_null(j);
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_pdata_error_t err;
	otf_buf_t *out = NULL;
	if (s == OTF_SIGNAL_TRACES) {
		otf_traces_t t;
		assert_int_equal(otf_pdata_json_decode_traces(&t, (char *)j, n, &a, NULL, &err), 0);
		assert_int_equal(otf_pdata_encode_traces(&t, &out), 0);
	} else if (s == OTF_SIGNAL_METRICS) {
		otf_metrics_t m;
		assert_int_equal(otf_pdata_json_decode_metrics(&m, (char *)j, n, &a, NULL, &err),
		                 0);
		assert_int_equal(otf_pdata_encode_metrics(&m, &out), 0);
	} else {
		otf_logs_t l;
		assert_int_equal(otf_pdata_json_decode_logs(&l, (char *)j, n, &a, NULL, &err), 0);
		assert_int_equal(otf_pdata_encode_logs(&l, &out), 0);
	}
	otf_arena_close(&a);
	free(j);
	return out;
}

static uint8_t *gzip(const uint8_t *in, size_t n, size_t *out_len)
{
	uLongf cap = compressBound(n) + 32;
	uint8_t *o = malloc(cap);
	z_stream z;
	memset(&z, 0, sizeof z);
	deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = o;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*out_len = z.total_out;
	deflateEnd(&z);
	return o;
}

/* One Export call; enc NULL, "gzip" or "zstd". */
static void export_call(int port, otf_signal_t s, const char *enc, const char *const *meta,
                        const otf_buf_t *req, h2_result_t *r)
{
	const uint8_t *msg = req->data;
	size_t len = req->len;
	uint8_t *comp = NULL;
	if (enc && !strcmp(enc, "gzip")) {
		comp = gzip(msg, len, &len);
	} else if (enc) {
		comp = malloc(ZSTD_compressBound(len));
		len = ZSTD_compress(comp, ZSTD_compressBound(req->len), msg, req->len, 3);
	}
	const char *h[12];
	size_t n = 0;
	if (enc) {
		h[n++] = "grpc-encoding";
		h[n++] = enc;
	}
	for (size_t i = 0; meta && meta[i] && n < 10; i++)
		h[n++] = meta[i];
	h[n] = NULL;
	size_t fl;
	uint8_t *f = grpc_frame(comp ? comp : msg, len, comp ? 1 : 0, &fl);
	assert_int_equal(h2_unary(port, k_methods[s], h, f, fl, r, 10000), 0);
	free(f);
	free(comp);
}

/* Reads a proto-format file exporter output: uint32 BE length + bytes. */
static int file_records(const char *path, uint8_t **data, size_t *len)
{
	*data = otf_test_read_file(path, len);
	if (!*data)
		return -1;
	int n = 0;
	for (size_t off = 0; off + 4 <= *len; n++)
		off += 4 + ((size_t)(*data)[off] << 24 | (size_t)(*data)[off + 1] << 16 |
		            (size_t)(*data)[off + 2] << 8 | (*data)[off + 3]);
	return n;
}

static void expect_single_record(const char *path, const otf_buf_t *want)
{
	uint8_t *d;
	size_t n;
	assert_int_equal(file_records(path, &d, &n), 1);
	assert_int_equal(n, 4 + want->len);
	assert_memory_equal(d + 4, want->data, want->len);
	free(d);
}

static char g_dir[256];

#define K_YAML                                                               \
	"receivers:\n"                                                       \
	"  otlp:\n"                                                          \
	"    wait_for_result: true\n"                                        \
	"    protocols:\n"                                                   \
	"      grpc:\n"                                                      \
	"        endpoint: 127.0.0.1:%d\n"                                   \
	"        include_metadata: true\n"                                   \
	"        max_recv_msg_size_mib: 1\n"                                 \
	"exporters:\n"                                                       \
	"  test_gate:\n"                                                     \
	"  file/t: {path: %s/t.pb, format: proto}\n"                         \
	"  file/m: {path: %s/m.pb, format: proto}\n"                         \
	"  file/l: {path: %s/l.pb, format: proto}\n"                         \
	"service:\n"                                                         \
	"  telemetry: {metrics: {level: none}, logs: {level: warn}}\n"       \
	"  pipelines:\n"                                                     \
	"    traces: {receivers: [otlp], exporters: [file/t, test_gate]}\n"  \
	"    metrics: {receivers: [otlp], exporters: [file/m, test_gate]}\n" \
	"    logs: {receivers: [otlp], exporters: [file/l, test_gate]}\n"    \
	"runtime: {workers: 2}\n"

typedef struct running {
	otf_config_t *cfg;
	otf_dag_t *dag;
	otf_engine_t *eng;
	int port;
} running_t;

static void engine_up(running_t *rn)
{
	rn->port = free_port();
	char yaml[2048];
	snprintf(yaml, sizeof yaml, K_YAML, rn->port, g_dir, g_dir, g_dir);
	otf_config_error_t err;
	assert_int_equal(
	    otf_config_load_string("grpc.yaml", yaml, strlen(yaml), NULL, &rn->cfg, &err), 0);
	otf_service_settings_t st;
	int rc = otf_service_build(rn->cfg, &rn->dag, &st, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.text);
	assert_int_equal(rc, 0);
	assert_int_equal(otf_engine_start(rn->dag, &st.runtime, &rn->eng), 0);
	/* wait for the listener */
	for (int i = 0; i < 200; i++) {
		int fd = tcp_connect(rn->port);
		if (fd >= 0) {
			close(fd);
			return;
		}
		usleep(10000);
	}
	fail_msg("receiver did not come up");
}

static void engine_down(running_t *rn)
{
	otf_engine_request_stop(rn->eng);
	assert_int_equal(otf_engine_join(rn->eng), 0);
	otf_dag_destroy(rn->dag);
	otf_config_destroy(rn->cfg);
}

static void test_export_all_signals(void **state)
{
	(void)state;
	running_t rn;
	engine_up(&rn);
	const char *enc[3] = {NULL, "gzip", "zstd"};
	otf_buf_t *req[3];
	for (int s = 0; s < 3; s++) {
		req[s] = example((otf_signal_t)s);
		h2_result_t r;
		export_call(rn.port, (otf_signal_t)s, enc[s], NULL, req[s], &r);
		assert_int_equal(r.http_status, 200);
		assert_int_equal(r.grpc_status, 0);
		size_t n;
		const uint8_t *m = grpc_unframe(&r, &n);
		assert_non_null(m);
		otf_export_response_t resp;
		otf_pdata_error_t perr;
		assert_int_equal(otf_pdata_decode_response(&resp, (otf_signal_t)s, m, n, &perr), 0);
		assert_false(resp.has_partial_success);
		h2_result_free(&r);
	}
	engine_down(&rn);
	const char *files[3] = {"t.pb", "m.pb", "l.pb"};
	for (int s = 0; s < 3; s++) {
		char p[512];
		snprintf(p, sizeof p, "%s/%s", g_dir, files[s]);
		expect_single_record(p, req[s]);
		unlink(p);
		otf_buf_unref(req[s]);
	}
}

/* Standard base64 (padded) into out; the byte count. */
static size_t b64_decode(const char *in, uint8_t *out, size_t cap)
{
	size_t n = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (; *in && *in != '='; in++) {
		const char *k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		const char *at = strchr(k, *in);
		if (!at)
			return 0;
		acc = acc << 6 | (uint32_t)(at - k);
		bits += 6;
		if (bits >= 8 && n < cap) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return n;
}

/* The RetryInfo delay (ns) in an answer's grpc-status-details-bin, with
 * the Status code it carries in *code; 0 when absent. */
static uint64_t retry_info_ns(const h2_result_t *r, int *code)
{
	uint8_t raw[768];
	size_t n = b64_decode(r->status_details, raw, sizeof raw);
	uint64_t ns = 0;
	char msg[256];
	*code = -1;
	if (!n || otf__exph_status_parse(raw, n, code, msg, sizeof msg, &ns))
		return 0;
	return ns;
}

static void test_statuses(void **state)
{
	(void)state;
	running_t rn;
	engine_up(&rn);
	otf_buf_t *logs = example(OTF_SIGNAL_LOGS);
	h2_result_t r;
	struct {
		const char *outcome;
		int status;
		const char *text;
	} cases[] = {
	    {"nack-retry", OTF_GRPC_UNAVAILABLE, "downstream is down"},
	    {"nack-permanent", OTF_GRPC_INVALID_ARGUMENT, "bad data"},
	    {"nack-nomem", OTF_GRPC_RESOURCE_EXHAUSTED, "memory limit"},
	    {"nack-deadline", OTF_GRPC_DEADLINE_EXCEEDED, "deadline exceeded in the queue"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *meta[] = {"x-outcome", cases[i].outcome, NULL};
		export_call(rn.port, OTF_SIGNAL_LOGS, NULL, meta, logs, &r);
		assert_int_equal(r.grpc_status, cases[i].status);
		assert_non_null(strstr(r.grpc_message, cases[i].text));
		h2_result_free(&r);
	}
	/* memory_limiter's admission flag up: refused at the headers. */
	otf_admission_hold();
	export_call(rn.port, OTF_SIGNAL_LOGS, NULL, NULL, logs, &r);
	otf_admission_release();
	assert_int_equal(r.grpc_status, OTF_GRPC_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(r.grpc_message, "memory limit"));
	int dcode;
	assert_int_equal(retry_info_ns(&r, &dcode), 1000000000ull);
	assert_int_equal(dcode, OTF_GRPC_RESOURCE_EXHAUSTED);
	h2_result_free(&r);
	/* REB: a node downstream publishes budget 0 (retry in 2.5 s): the
	 * next call is refused at its headers, UNAVAILABLE with RetryInfo;
	 * once the budget is withdrawn calls are accepted again. */
	/* Budgets are per worker: both calls on one connection, so on the
	 * worker whose gate published. */
	const char *reb[] = {"x-outcome", "reb0", NULL};
	size_t fl;
	uint8_t *fr = grpc_frame(logs->data, logs->len, 0, &fl);
	h2_conn_t *hc = h2_connect(rn.port);
	assert_non_null(hc);
	memset(&r, 0, sizeof r);
	assert_true(h2_submit(hc, NULL, k_methods[OTF_SIGNAL_LOGS], NULL, reb, fr, fl, &r) > 0);
	assert_int_equal(h2_run(hc, 10000), 0);
	assert_int_equal(r.grpc_status, 0);
	h2_result_free(&r);
	memset(&r, 0, sizeof r);
	assert_true(h2_submit(hc, NULL, k_methods[OTF_SIGNAL_LOGS], NULL, NULL, fr, fl, &r) > 0);
	assert_int_equal(h2_run(hc, 10000), 0);
	assert_int_equal(r.grpc_status, OTF_GRPC_UNAVAILABLE);
	assert_non_null(strstr(r.grpc_message, "resource budget"));
	assert_int_equal(retry_info_ns(&r, &dcode), 2500000000ull);
	assert_int_equal(dcode, OTF_GRPC_UNAVAILABLE);
	h2_result_free(&r);
	/* The refused connection is held: a call on it is not read while the
	 * budget is 0 (withdrawn after 1 s), then answered OK. */
	memset(&r, 0, sizeof r);
	assert_true(h2_submit(hc, NULL, k_methods[OTF_SIGNAL_LOGS], NULL, NULL, fr, fl, &r) > 0);
	assert_int_equal(h2_run(hc, 200), -1);
	assert_int_equal(h2_run(hc, 10000), 0);
	assert_int_equal(r.grpc_status, 0);
	h2_result_free(&r);
	int st = -1;
	for (int i = 0; i < 100 && st != 0; i++) {
		memset(&r, 0, sizeof r);
		assert_true(
		    h2_submit(hc, NULL, k_methods[OTF_SIGNAL_LOGS], NULL, NULL, fr, fl, &r) > 0);
		assert_int_equal(h2_run(hc, 10000), 0);
		st = r.grpc_status;
		h2_result_free(&r);
		if (st)
			h2_pump(hc, 50);
	}
	assert_int_equal(st, 0);
	h2_close(hc);
	free(fr);
	/* grpc-timeout: the message carries the deadline; a pipeline slower
	 * than that gives DEADLINE_EXCEEDED. */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t t0 = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	const char *hold[] = {"x-outcome", "hold", "grpc-timeout", "250000u", NULL};
	export_call(rn.port, OTF_SIGNAL_LOGS, NULL, hold, logs, &r);
	assert_int_equal(r.grpc_status, OTF_GRPC_DEADLINE_EXCEEDED);
	uint64_t d = atomic_load(&g_deadline);
	assert_true(d >= t0 + 250000000ull && d < t0 + 2250000000ull);
	h2_result_free(&r);
	/* Undecodable protobuf: INVALID_ARGUMENT naming the problem. */
	otf_buf_t *bad = otf_buf_create_copy("\x0a\x05\x01", 3);
	export_call(rn.port, OTF_SIGNAL_TRACES, NULL, NULL, bad, &r);
	assert_int_equal(r.grpc_status, OTF_GRPC_INVALID_ARGUMENT);
	assert_non_null(strstr(r.grpc_message, "invalid OTLP protobuf traces request"));
	h2_result_free(&r);
	otf_buf_unref(bad);
	/* Unknown method, and a message over max_recv_msg_size_mib (1). */
	uint8_t f[5] = {0, 0, 0, 0, 0};
	assert_int_equal(h2_unary(rn.port,
	                          "/opentelemetry.proto.collector.trace.v1.TraceService/Nope", NULL,
	                          f, 5, &r, 5000),
	                 0);
	assert_int_equal(r.grpc_status, OTF_GRPC_UNIMPLEMENTED);
	h2_result_free(&r);
	uint8_t big[5] = {0, 0, 0x10, 0, 1}; /* 1 MiB + 1 announced */
	assert_int_equal(h2_unary(rn.port, k_methods[2], NULL, big, 5, &r, 5000), 0);
	assert_int_equal(r.grpc_status, OTF_GRPC_RESOURCE_EXHAUSTED);
	h2_result_free(&r);
	engine_down(&rn);
	char p[512];
	const char *files[3] = {"t.pb", "m.pb", "l.pb"};
	for (int s = 0; s < 3; s++) {
		snprintf(p, sizeof p, "%s/%s", g_dir, files[s]);
		unlink(p);
	}
	otf_buf_unref(logs);
}

static void expect_status(int port, const char *path, const char *const *meta, const void *body,
                          size_t len, int want)
{
	h2_result_t r;
	assert_int_equal(h2_unary(port, path, meta, body, len, &r, 5000), 0);
	assert_int_equal(r.grpc_status, want);
	h2_result_free(&r);
}

/* A good client's export on its long-lived connection. */
static void good_export(h2_conn_t *c, const otf_buf_t *req)
{
	size_t fl;
	uint8_t *f = grpc_frame(req->data, req->len, 0, &fl);
	h2_result_t r;
	assert_true(h2_submit(c, NULL, k_methods[0], NULL, NULL, f, fl, &r) > 0);
	assert_int_equal(h2_run(c, 5000), 0);
	assert_int_equal(r.grpc_status, 0);
	h2_result_free(&r);
	free(f);
}

/* The binary, from a Collector config: bad input of every kind gets its
 * status or a closed connection, a well-behaved client on its own
 * connection keeps succeeding throughout, everything it sent is in the
 * file, and SIGTERM exits 0. */
static void test_binary_bad_input_and_sigterm(void **state)
{
	(void)state;
	const char *bin = getenv("OTF_BIN");
	if (!bin) {
		skip();
		return;
	}
	int port = free_port();
	char yaml[1024], cfgp[512], out[512];
	snprintf(out, sizeof out, "%s/bin.pb", g_dir);
	snprintf(cfgp, sizeof cfgp, "%s/bin.yaml", g_dir);
	snprintf(yaml, sizeof yaml,
	         "receivers:\n"
	         "  otlp:\n"
	         "    protocols:\n"
	         "      grpc: {endpoint: \"127.0.0.1:%d\", max_recv_msg_size_mib: 1}\n"
	         "exporters: {file: {path: %s, format: proto}}\n"
	         "service:\n"
	         "  telemetry: {metrics: {level: none}}\n"
	         "  pipelines: {traces: {receivers: [otlp], exporters: [file]}}\n"
	         "runtime: {workers: 2}\n",
	         port, out);
	FILE *f = fopen(cfgp, "w");
	fputs(yaml, f);
	fclose(f);
	pid_t pid = fork();
	if (pid == 0) {
		execl(bin, bin, "--config", cfgp, (char *)NULL);
		_exit(127);
	}
	int up = 0;
	for (int i = 0; i < 300 && !up; i++) {
		int fd = tcp_connect(port);
		if (fd >= 0) {
			close(fd);
			up = 1;
		} else {
			usleep(10000);
		}
	}
	assert_true(up);
	otf_buf_t *req = example(OTF_SIGNAL_TRACES);
	h2_conn_t *good = h2_connect(port);
	assert_non_null(good);
	int sent = 0;
	uint8_t buf[4096];

	/* Garbage, then HTTP/1.1: the connection is closed. */
	int fd = tcp_connect(port);
	assert_int_equal(write(fd, "\x16\x03\x01garbage garbage", 18), 18);
	assert_true(tcp_read_until_eof(fd, buf, sizeof buf, 3000) >= 0);
	close(fd);
	good_export(good, req);
	sent++;
	fd = tcp_connect(port);
	const char h1[] = "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(write(fd, h1, sizeof h1 - 1), (ssize_t)sizeof h1 - 1);
	assert_true(tcp_read_until_eof(fd, buf, sizeof buf, 3000) >= 0);
	close(fd);
	good_export(good, req);
	sent++;
	/* Invalid frames: WINDOW_UPDATE with increment 0 on the connection. */
	fd = tcp_connect(port);
	const uint8_t frames[] = {0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	assert_int_equal(write(fd, h2_preface, 24), 24);
	assert_int_equal(write(fd, frames, sizeof frames), (ssize_t)sizeof frames);
	long got = tcp_read_until_eof(fd, buf, sizeof buf, 3000);
	assert_int_equal(h2_raw_goaway_code(buf, got), 1 /* PROTOCOL_ERROR */);
	close(fd);
	good_export(good, req);
	sent++;
	/* Over max_recv_msg_size_mib, bad compression flag, unknown encoding,
	 * unknown method, undecodable message. */
	uint8_t big[5] = {0, 0, 0x10, 0, 1};
	expect_status(port, k_methods[0], NULL, big, 5, OTF_GRPC_RESOURCE_EXHAUSTED);
	uint8_t flag[6] = {1, 0, 0, 0, 1, 'x'};
	expect_status(port, k_methods[0], NULL, flag, 6, OTF_GRPC_INTERNAL);
	const char *snappy[] = {"grpc-encoding", "snappy", NULL};
	expect_status(port, k_methods[0], snappy, flag, 6, OTF_GRPC_UNIMPLEMENTED);
	uint8_t empty[5] = {0};
	expect_status(port, "/opentelemetry.proto.collector.trace.v1.TraceService/Query", NULL,
	              empty, 5, OTF_GRPC_UNIMPLEMENTED);
	/* metrics are not wired in this pipeline */
	expect_status(port, k_methods[1], NULL, empty, 5, OTF_GRPC_UNIMPLEMENTED);
	uint8_t junk[8] = {0, 0, 0, 0, 3, 0x0a, 0x05, 0x01};
	expect_status(port, k_methods[0], NULL, junk, 8, OTF_GRPC_INVALID_ARGUMENT);
	good_export(good, req);
	sent++;
	assert_false(h2_eof(good));
	h2_close(good);

	kill(pid, SIGTERM);
	int st = 0;
	for (int i = 0; i < 1000 && waitpid(pid, &st, WNOHANG) == 0; i++)
		usleep(10000);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	uint8_t *d;
	size_t n;
	assert_int_equal(file_records(out, &d, &n), sent);
	for (int i = 0; i < sent; i++)
		assert_memory_equal(d + (size_t)i * (4 + req->len) + 4, req->data, req->len);
	free(d);
	otf_buf_unref(req);
	unlink(out);
	unlink(cfgp);
}

static int setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	otf_components_register_builtins();
	otf_component_register(&k_gate);
	const char *t = getenv("TMPDIR");
	snprintf(g_dir, sizeof g_dir, "%s/otf-grpc-XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	rmdir(g_dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_export_all_signals),
	    cmocka_unit_test(test_statuses),
	    cmocka_unit_test(test_binary_bad_input_and_sigterm),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
