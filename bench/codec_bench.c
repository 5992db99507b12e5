/* Codec benchmark: otflow's views walk, decode, encode, JSON decode and JSON
 * encode against protobuf-c's unpack (default allocator) and pack, on the
 * same request bytes, in the same process, so ratios are comparable even on
 * a noisy machine. Each figure is the best of ROUNDS rounds of at least
 * 0.25 s each: the best, not the mean, because on a shared machine
 * interference only ever adds time. Output: a Markdown table on stdout. */
#include "bench_data.h"
#include "json_sj.h"
#include "otlp.pb-c.h"

#include "otflow/arena.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_parse.h>

#define ROUNDS 5

static double g_min_seconds = 0.25;

/* CPU time of this (only) thread: on a machine shared with other work,
 * wall-clock time counts the time other processes hold the core. (The
 * CODEC_BENCH_CLOCK=cpu of make bench-check is therefore the default.) */
static clockid_t g_clock = CLOCK_THREAD_CPUTIME_ID;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(g_clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef union tree {
	otf_traces_t t;
	otf_metrics_t m;
	otf_logs_t l;
} tree_t;

typedef struct work {
	otf_signal_t signal;
	const char *name;
	otf_buf_t *pb;   /* protobuf request */
	otf_buf_t *json; /* the same as OTLP/JSON */
	uint64_t items;
	otf_arena_t arena;
	tree_t tree;           /* decoded once, for the encoders */
	ProtobufCMessage *pbc; /* the same, decoded by protobuf-c, for its packer */
	uint8_t *pbc_out;
	/* the ingress check side by side with the plain walk and the decode */
	double validate_vs_views, validate_vs_decode, validate_ns;
} work_t;

typedef int (*op_fn)(work_t *w);

static volatile uint64_t g_sink;

static int op_views(work_t *w)
{
	otf_view_counts_t c;
	int rc = otf_view_count(w->signal, w->pb->data, w->pb->len, &c);
	g_sink += c.records;
	return rc;
}

/* What the otlp receiver runs on every protobuf request: the whole walk
 * with every check the decoder makes, and the receiver's default limits. */
static int op_validate(work_t *w)
{
	otf_view_counts_t c;
	otf_view_limits_t lim = {OTF_VIEW_DEFAULT_MAX_ITEMS, OTF_VIEW_DEFAULT_MAX_ATTRIBUTES, 0};
	int rc = otf_view_validate(w->signal, w->pb->data, w->pb->len, &lim, &c, NULL);
	g_sink += c.records + c.attributes;
	return rc;
}

static int read_attributes(otf_view_iter_t *ai)
{
	otf_bytes_t kv, key, val;
	while (otf_view_iter_next(ai, &kv) == 1) {
		if (otf_view_kv_read(kv, &key, &val))
			return -1;
		g_sink += key.len + val.len;
	}
	return ai->err;
}

/* A metric's fields, then each data point's common fields and attributes. */
static int read_metric(otf_bytes_t rec)
{
	otf_view_metric_t m;
	otf_view_dp_iter_t di;
	otf_view_iter_t ai;
	otf_bytes_t dp;
	int rc;
	if (otf_view_metric_read(rec, &m))
		return -1;
	g_sink += m.name.len;
	otf_view_data_points(&di, &m);
	while ((rc = otf_view_dp_next(&di, &dp)) == 1) {
		otf_view_data_point_t d;
		if (otf_view_data_point_read(m.type, dp, &d))
			return -1;
		g_sink += d.time_unix_nano + d.count;
		otf_view_data_point_attributes(&ai, m.type, dp);
		if (read_attributes(&ai))
			return -1;
	}
	return rc;
}

/* Walks every record and reads its fields and attribute key/values as
 * slices: what a router or filter does without decoding. */
static int op_views_read(work_t *w)
{
	otf_view_iter_t ri, si, ki, ai;
	otf_bytes_t rg, sg, rec;
	otf_view_resources(&ri, w->pb->data, w->pb->len);
	while (otf_view_iter_next(&ri, &rg) == 1) {
		otf_view_scopes(&si, rg);
		while (otf_view_iter_next(&si, &sg) == 1) {
			otf_view_records(&ki, sg);
			while (otf_view_iter_next(&ki, &rec) == 1) {
				uint32_t attr_field;
				if (w->signal == OTF_SIGNAL_METRICS) {
					if (read_metric(rec))
						return -1;
					continue;
				}
				if (w->signal == OTF_SIGNAL_LOGS) {
					otf_view_log_t l;
					if (otf_view_log_read(rec, &l))
						return -1;
					g_sink += l.body.len + l.time_unix_nano;
					attr_field = OTF_VIEW_LOG_ATTRIBUTES;
				} else {
					otf_view_span_t sp;
					if (otf_view_span_read(rec, &sp))
						return -1;
					g_sink += sp.name.len + sp.start_time_unix_nano;
					attr_field = OTF_VIEW_SPAN_ATTRIBUTES;
				}
				otf_view_iter_init(&ai, rec, attr_field);
				if (read_attributes(&ai))
					return -1;
			}
		}
	}
	return ri.err;
}

static int decode_into(otf_signal_t s, tree_t *u, otf_arena_t *a, const uint8_t *data, size_t len,
                       bool json)
{
	otf_pdata_error_t e;
	const char *j = (const char *)data;
	switch (s) {
	case OTF_SIGNAL_TRACES:
		return json ? otf_pdata_json_decode_traces(&u->t, j, len, a, NULL, &e)
		            : otf_pdata_decode_traces(&u->t, data, len, a, NULL, &e);
	case OTF_SIGNAL_METRICS:
		return json ? otf_pdata_json_decode_metrics(&u->m, j, len, a, NULL, &e)
		            : otf_pdata_decode_metrics(&u->m, data, len, a, NULL, &e);
	default:
		return json ? otf_pdata_json_decode_logs(&u->l, j, len, a, NULL, &e)
		            : otf_pdata_decode_logs(&u->l, data, len, a, NULL, &e);
	}
}

static int decode(work_t *w, otf_arena_t *a, const otf_buf_t *b, bool json)
{
	tree_t u;
	return decode_into(w->signal, &u, a, b->data, b->len, json);
}

static otf_arena_t g_arena;

static int op_decode(work_t *w)
{
	int rc = decode(w, &g_arena, w->pb, false);
	otf_arena_reset(&g_arena);
	return rc;
}

static int op_json_decode(work_t *w)
{
	int rc = decode(w, &g_arena, w->json, true);
	otf_arena_reset(&g_arena);
	return rc;
}

/* The two streaming tokenizers considered for the JSON decoder, alone:
 * parse and validate the whole request (UTF-8 included), no tree, no
 * callbacks. A decoder on top cannot be faster than its tokenizer. */
static int op_json_tok_yajl(work_t *w)
{
	yajl_handle h = yajl_alloc(NULL, NULL, NULL);
	if (!h)
		return OTF_E_NOMEM;
	yajl_status st = yajl_parse(h, w->json->data, w->json->len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	yajl_free(h);
	return st == yajl_status_ok ? 0 : OTF_E_JSON;
}

static int op_json_tok_simdjson(work_t *w)
{
	otf__jsj *p = otf__jsj_get();
	return p && otf__jsj_validate(p, (const char *)w->json->data, w->json->len, 1024, false) ==
	                   0
	           ? 0
	           : OTF_E_JSON;
}

static int encode(work_t *w, bool json, otf_buf_t **out)
{
	switch (w->signal) {
	case OTF_SIGNAL_TRACES:
		return json ? otf_pdata_json_encode_traces(&w->tree.t, out)
		            : otf_pdata_encode_traces(&w->tree.t, out);
	case OTF_SIGNAL_METRICS:
		return json ? otf_pdata_json_encode_metrics(&w->tree.m, out)
		            : otf_pdata_encode_metrics(&w->tree.m, out);
	default:
		return json ? otf_pdata_json_encode_logs(&w->tree.l, out)
		            : otf_pdata_encode_logs(&w->tree.l, out);
	}
}

static int op_encode(work_t *w)
{
	otf_buf_t *b;
	int rc = encode(w, false, &b);
	if (!rc) {
		g_sink += b->len;
		otf_buf_unref(b);
	}
	return rc;
}

static int op_json_encode(work_t *w)
{
	otf_buf_t *b;
	int rc = encode(w, true, &b);
	if (!rc) {
		g_sink += b->len;
		otf_buf_unref(b);
	}
	return rc;
}

static const ProtobufCMessageDescriptor *pbc_desc(otf_signal_t s)
{
	return s == OTF_SIGNAL_TRACES    ? &otlp__traces_data__descriptor
	       : s == OTF_SIGNAL_METRICS ? &otlp__metrics_data__descriptor
	                                 : &otlp__logs_data__descriptor;
}

static int op_pbc_unpack(work_t *w)
{
	ProtobufCMessage *m =
	    protobuf_c_message_unpack(pbc_desc(w->signal), NULL, w->pb->len, w->pb->data);
	if (!m)
		return -1;
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

static int op_pbc_pack(work_t *w)
{
	size_t n = protobuf_c_message_get_packed_size(w->pbc);
	g_sink += protobuf_c_message_pack(w->pbc, w->pbc_out);
	return n ? 0 : -1;
}

/* Best seconds per operation over ROUNDS rounds. */
static double measure(work_t *w, op_fn op)
{
	double best = 1e30;
	for (int r = 0; r < ROUNDS; r++) {
		uint64_t n = 0;
		double t0 = now_s(), t;
		do {
			if (op(w)) {
				fprintf(stderr, "codec_bench: operation failed on %s\n", w->name);
				exit(1);
			}
			n++;
			t = now_s();
		} while (t - t0 < g_min_seconds);
		double per = (t - t0) / (double)n;
		if (per < best)
			best = per;
	}
	return best;
}

static void row(work_t *w, const char *what, size_t bytes, double sec, double ref)
{
	printf("| %s | %s | %.0f | %.1f |", w->name, what, (double)bytes / sec / 1e6,
	       sec * 1e9 / (double)w->items);
	if (ref > 0)
		printf(" %.2fx |\n", ref / sec);
	else
		printf(" |\n");
}

/* Records in protobuf-c's tree, counted independently of otflow. */
static uint64_t pbc_records(otf_signal_t s, const ProtobufCMessage *msg)
{
	uint64_t n = 0;
	if (s == OTF_SIGNAL_LOGS) {
		const Otlp__LogsData *d = (const Otlp__LogsData *)msg;
		for (size_t i = 0; i < d->n_resource_logs; i++)
			for (size_t j = 0; j < d->resource_logs[i]->n_scope_logs; j++)
				n += d->resource_logs[i]->scope_logs[j]->n_log_records;
	} else if (s == OTF_SIGNAL_TRACES) {
		const Otlp__TracesData *d = (const Otlp__TracesData *)msg;
		for (size_t i = 0; i < d->n_resource_spans; i++)
			for (size_t j = 0; j < d->resource_spans[i]->n_scope_spans; j++)
				n += d->resource_spans[i]->scope_spans[j]->n_spans;
	} else {
		const Otlp__MetricsData *d = (const Otlp__MetricsData *)msg;
		for (size_t i = 0; i < d->n_resource_metrics; i++)
			for (size_t j = 0; j < d->resource_metrics[i]->n_scope_metrics; j++) {
				const Otlp__ScopeMetrics *sm =
				    d->resource_metrics[i]->scope_metrics[j];
				for (size_t k = 0; k < sm->n_metrics; k++) {
					const Otlp__Metric *m = sm->metrics[k];
					switch (m->data_case) {
					case OTLP__METRIC__DATA_GAUGE:
						n += m->gauge->n_data_points;
						break;
					case OTLP__METRIC__DATA_SUM:
						n += m->sum->n_data_points;
						break;
					case OTLP__METRIC__DATA_HISTOGRAM:
						n += m->histogram->n_data_points;
						break;
					case OTLP__METRIC__DATA_EXPONENTIAL_HISTOGRAM:
						n += m->exponential_histogram->n_data_points;
						break;
					case OTLP__METRIC__DATA_SUMMARY:
						n += m->summary->n_data_points;
						break;
					default:
						break;
					}
				}
			}
	}
	return n;
}

/* Records in otflow's decoded tree. */
static uint64_t tree_records(otf_signal_t s, const tree_t *t)
{
	uint64_t n = 0;
	if (s == OTF_SIGNAL_LOGS) {
		for (size_t i = 0; i < t->l.resource_logs_len; i++)
			for (size_t j = 0; j < t->l.resource_logs[i].scope_logs_len; j++)
				n += t->l.resource_logs[i].scope_logs[j].log_records_len;
	} else if (s == OTF_SIGNAL_TRACES) {
		for (size_t i = 0; i < t->t.resource_spans_len; i++)
			for (size_t j = 0; j < t->t.resource_spans[i].scope_spans_len; j++)
				n += t->t.resource_spans[i].scope_spans[j].spans_len;
	} else {
		for (size_t i = 0; i < t->m.resource_metrics_len; i++)
			for (size_t j = 0; j < t->m.resource_metrics[i].scope_metrics_len; j++) {
				const otf_scope_metrics_t *sm =
				    &t->m.resource_metrics[i].scope_metrics[j];
				for (size_t k = 0; k < sm->metrics_len; k++)
					n += sm->metrics[k].data_points_len;
			}
	}
	return n;
}

static void fail(const char *name, const char *what)
{
	fprintf(stderr, "codec_bench: %s: %s\n", name, what);
	exit(1);
}

static void setup(work_t *w, otf_signal_t s, const char *name, size_t n)
{
	memset(w, 0, sizeof *w);
	w->signal = s;
	w->name = name;
	int rc = s == OTF_SIGNAL_LOGS     ? bench_logs(n, &w->pb)
	         : s == OTF_SIGNAL_TRACES ? bench_spans(n, &w->pb)
	                                  : bench_metrics(n, &w->pb);
	if (rc)
		fail(name, "cannot build the request");
	otf_view_counts_t c;
	if (otf_view_count(s, w->pb->data, w->pb->len, &c) || c.records != n)
		fail(name, "views count differs from the records built");
	w->items = c.records;
	otf_arena_init(&w->arena, 1 << 20);
	if (decode_into(s, &w->tree, &w->arena, w->pb->data, w->pb->len, false) ||
	    tree_records(s, &w->tree) != n)
		fail(name, "otflow's decode differs from the records built");
	if (encode(w, true, &w->json))
		fail(name, "cannot encode JSON");
	/* Correctness before speed: protobuf-c must read the same records from
	 * our bytes and write them back identically (both encoders write
	 * fields in number order with minimal varints), and our decoder must
	 * read protobuf-c's bytes to the same counts. */
	w->pbc = protobuf_c_message_unpack(pbc_desc(s), NULL, w->pb->len, w->pb->data);
	if (!w->pbc)
		fail(name, "protobuf-c cannot read our bytes");
	if (pbc_records(s, w->pbc) != n)
		fail(name, "protobuf-c reads a different record count");
	w->pbc_out = malloc(w->pb->len + 64);
	size_t len = protobuf_c_message_pack(w->pbc, w->pbc_out);
	if (otf_view_count(s, w->pbc_out, len, &c) || c.records != n)
		fail(name, "our views count protobuf-c's bytes differently");
	if (len != w->pb->len || memcmp(w->pbc_out, w->pb->data, len))
		fail(name, "protobuf-c's re-encoding differs from ours");
	otf_arena_t a;
	tree_t u;
	otf_arena_init(&a, 1 << 20);
	rc = decode_into(s, &u, &a, w->pbc_out, len, false);
	uint64_t got = rc ? 0 : tree_records(s, &u);
	otf_arena_close(&a);
	if (got != n)
		fail(name, "our decoder reads protobuf-c's bytes to other counts");
}

/* Optional "WORKLOAD/OPERATION" prefix filter, to profile one operation. */
static const char *g_only;

static bool wanted(const work_t *w, const char *op)
{
	if (!g_only)
		return true;
	char id[96];
	snprintf(id, sizeof id, "%s/%s", w->name, op);
	return strncmp(id, g_only, strlen(g_only)) == 0;
}

static void run(work_t *w)
{
	static const struct {
		const char *id, *label;
		op_fn op;
		bool json, vs_pack;
	} ops[] = {
	    {"views", "views walk (count)", op_views, false, false},
	    {"validate", "views validate (ingress check)", op_validate, false, false},
	    {"read", "views read (every field, attributes)", op_views_read, false, false},
	    {"decode", "decode to tree", op_decode, false, false},
	    {"encode", "encode", op_encode, false, true},
	    {"json-decode", "JSON decode (MB/s of JSON)", op_json_decode, true, false},
	    {"json-tok-yajl", "JSON tokenize only: yajl", op_json_tok_yajl, true, false},
	    {"json-tok-simdjson", "JSON tokenize only: simdjson On-Demand", op_json_tok_simdjson,
	     true, false},
	    {"json-encode", "JSON encode (MB/s of JSON)", op_json_encode, true, false},
	};
	double t_views = 0, t_validate = 0, t_decode = 0;
	double pbc_unpack = wanted(w, "pbc-unpack") ? measure(w, op_pbc_unpack) : 0;
	double pbc_pack = wanted(w, "pbc-pack") ? measure(w, op_pbc_pack) : 0;
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		if (!wanted(w, ops[i].id))
			continue;
		double sec = measure(w, ops[i].op);
		if (ops[i].op == op_views)
			t_views = sec;
		else if (ops[i].op == op_validate)
			t_validate = sec;
		else if (ops[i].op == op_decode)
			t_decode = sec;
		row(w, ops[i].label, ops[i].json ? w->json->len : w->pb->len, sec,
		    ops[i].json      ? 0
		    : ops[i].vs_pack ? pbc_pack
		                     : pbc_unpack);
		/* protobuf-c's own rows follow the otflow rows they compare with. */
		if (ops[i].op == op_decode && pbc_unpack > 0)
			row(w, "protobuf-c unpack + free", w->pb->len, pbc_unpack, 0);
		if (ops[i].op == op_encode && pbc_pack > 0)
			row(w, "protobuf-c size + pack", w->pb->len, pbc_pack, 0);
	}
	protobuf_c_message_free_unpacked(w->pbc, NULL);
	free(w->pbc_out);
	if (t_views > 0 && t_validate > 0 && t_decode > 0) {
		w->validate_vs_views = t_validate / t_views;
		w->validate_vs_decode = t_validate / t_decode;
		w->validate_ns = t_validate * 1e9 / (double)w->items;
	}
}

/* usage: codec_bench [MIN_SECONDS [WORKLOAD/OPERATION]]
 *   MIN_SECONDS: per round (default 0.25; smaller for a quick check).
 *   WORKLOAD/OPERATION: a prefix of e.g. "spans/decode" (workloads: logs,
 *   spans, data points; operations: views, validate, read, decode, encode,
 *   json-decode, json-tok-yajl, json-tok-simdjson, json-encode, pbc-unpack,
 *   pbc-pack) to time only those,
 *   for a profiler. */
int main(int argc, char **argv)
{
	const char *clk = getenv("CODEC_BENCH_CLOCK");
	if (clk && !strcmp(clk, "cpu"))
		g_clock = CLOCK_THREAD_CPUTIME_ID;
	if (argc > 1)
		g_min_seconds = atof(argv[1]);
	if (argc > 2)
		g_only = argv[2];
	otf_arena_init(&g_arena, 1 << 20);
	work_t w[3];
	setup(&w[0], OTF_SIGNAL_LOGS, "logs", 1000);
	setup(&w[1], OTF_SIGNAL_TRACES, "spans", 1000);
	setup(&w[2], OTF_SIGNAL_METRICS, "data points", 1000);
	printf("| workload (1000 per request) | operation | MB/s | ns/record | vs protobuf-c |\n"
	       "|---|---|---|---|---|\n");
	for (int i = 0; i < 3; i++) {
		fprintf(stderr,
		        "codec_bench: %s: %zu bytes protobuf (%.0f B/item), %zu bytes JSON\n",
		        w[i].name, w[i].pb->len, (double)w[i].pb->len / (double)w[i].items,
		        w[i].json->len);
		run(&w[i]);
	}
	printf("\nIngress validation, same run (time of views validate / time of the other):\n\n"
	       "| workload | validate / views walk (count) | validate / decode to tree | "
	       "validate ns/record |\n|---|---|---|---|\n");
	for (int i = 0; i < 3; i++)
		if (w[i].validate_ns > 0)
			printf("| %s | %.1fx | %.2f | %.1f |\n", w[i].name, w[i].validate_vs_views,
			       w[i].validate_vs_decode, w[i].validate_ns);
	printf("\nRequest sizes: ");
	for (int i = 0; i < 3; i++)
		printf("%s %zu B protobuf (%.0f B/item), %zu B JSON%s", w[i].name, w[i].pb->len,
		       (double)w[i].pb->len / (double)w[i].items, w[i].json->len,
		       i < 2 ? "; " : ".\n");
	return 0;
}
