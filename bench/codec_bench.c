/* Codec benchmark: otflow's views walk, decode, encode, JSON decode and JSON
 * encode against protobuf-c's unpack (default allocator) and pack, on the
 * same request bytes, in the same process, so ratios are comparable even on
 * a noisy machine. Each figure is the best of ROUNDS rounds of at least
 * MIN_SECONDS each. Output: a Markdown table on stdout. */
#include "loadgen.h"
#include "otlp.pb-c.h"

#include "otflow/arena.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS      5
#define MIN_SECONDS 0.25

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct work {
	otf_signal_t signal;
	const char *name;
	otf_buf_t *pb;   /* protobuf request */
	otf_buf_t *json; /* the same as OTLP/JSON */
	uint64_t items;
	otf_arena_t arena;
	union {
		otf_traces_t t;
		otf_metrics_t m;
		otf_logs_t l;
	} tree;                /* decoded once, for the encoders */
	ProtobufCMessage *pbc; /* the same, decoded by protobuf-c, for its packer */
	uint8_t *pbc_out;
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

/* Walks every record and reads its fields and attribute key/values as
 * slices: what a router or filter does without decoding. */
static int op_views_read(work_t *w)
{
	otf_view_iter_t ri, si, ki, ai;
	otf_bytes_t rg, sg, rec, kv, key, val;
	otf_view_resources(&ri, w->pb->data, w->pb->len);
	while (otf_view_iter_next(&ri, &rg) == 1) {
		otf_view_scopes(&si, rg);
		while (otf_view_iter_next(&si, &sg) == 1) {
			otf_view_records(&ki, sg);
			while (otf_view_iter_next(&ki, &rec) == 1) {
				uint32_t attr_field;
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
				while (otf_view_iter_next(&ai, &kv) == 1) {
					if (otf_view_kv_read(kv, &key, &val))
						return -1;
					g_sink += key.len + val.len;
				}
				if (ai.err)
					return ai.err;
			}
		}
	}
	return ri.err;
}

static int decode(work_t *w, otf_arena_t *a, const otf_buf_t *b, bool json)
{
	otf_pdata_error_t e;
	union {
		otf_traces_t t;
		otf_metrics_t m;
		otf_logs_t l;
	} u;
	const char *j = (const char *)b->data;
	switch (w->signal) {
	case OTF_SIGNAL_TRACES:
		return json ? otf_pdata_json_decode_traces(&u.t, j, b->len, a, NULL, &e)
		            : otf_pdata_decode_traces(&u.t, b->data, b->len, a, NULL, &e);
	case OTF_SIGNAL_METRICS:
		return json ? otf_pdata_json_decode_metrics(&u.m, j, b->len, a, NULL, &e)
		            : otf_pdata_decode_metrics(&u.m, b->data, b->len, a, NULL, &e);
	default:
		return json ? otf_pdata_json_decode_logs(&u.l, j, b->len, a, NULL, &e)
		            : otf_pdata_decode_logs(&u.l, b->data, b->len, a, NULL, &e);
	}
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
		} while (t - t0 < MIN_SECONDS);
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

static void setup(work_t *w, otf_signal_t s, const char *name, uint32_t size)
{
	memset(w, 0, sizeof *w);
	w->signal = s;
	w->name = name;
	lg_options_t o = {.signal = s, .batch = 1000, .size = size};
	if (lg_build_payload(&o, 7, &w->pb)) {
		fprintf(stderr, "codec_bench: cannot build %s\n", name);
		exit(1);
	}
	otf_view_counts_t c;
	otf_view_count(s, w->pb->data, w->pb->len, &c);
	w->items = c.records;
	otf_arena_init(&w->arena, 1 << 20);
	otf_pdata_error_t e;
	int rc =
	    s == OTF_SIGNAL_TRACES
	        ? otf_pdata_decode_traces(&w->tree.t, w->pb->data, w->pb->len, &w->arena, NULL, &e)
	    : s == OTF_SIGNAL_METRICS
	        ? otf_pdata_decode_metrics(&w->tree.m, w->pb->data, w->pb->len, &w->arena, NULL, &e)
	        : otf_pdata_decode_logs(&w->tree.l, w->pb->data, w->pb->len, &w->arena, NULL, &e);
	if (rc || encode(w, true, &w->json)) {
		fprintf(stderr, "codec_bench: cannot prepare %s\n", name);
		exit(1);
	}
	/* Correctness before speed: protobuf-c must read the same bytes and
	 * write them back identically (both encoders are canonical). */
	w->pbc = protobuf_c_message_unpack(pbc_desc(s), NULL, w->pb->len, w->pb->data);
	if (!w->pbc) {
		fprintf(stderr, "codec_bench: protobuf-c cannot read %s\n", name);
		exit(1);
	}
	w->pbc_out = malloc(w->pb->len + 64);
	size_t n = protobuf_c_message_pack(w->pbc, w->pbc_out);
	if (n != w->pb->len || memcmp(w->pbc_out, w->pb->data, n)) {
		fprintf(stderr, "codec_bench: protobuf-c re-encoding of %s differs from ours\n",
		        name);
		exit(1);
	}
}

static void run(work_t *w)
{
	double pbc_unpack = measure(w, op_pbc_unpack);
	double pbc_pack = measure(w, op_pbc_pack);
	row(w, "views walk (count)", w->pb->len, measure(w, op_views), pbc_unpack);
	if (w->signal != OTF_SIGNAL_METRICS)
		row(w, "views read (every field, attributes)", w->pb->len,
		    measure(w, op_views_read), pbc_unpack);
	row(w, "decode to tree", w->pb->len, measure(w, op_decode), pbc_unpack);
	row(w, "protobuf-c unpack + free", w->pb->len, pbc_unpack, 0);
	row(w, "encode", w->pb->len, measure(w, op_encode), pbc_pack);
	row(w, "protobuf-c size + pack", w->pb->len, pbc_pack, 0);
	row(w, "JSON decode (MB/s of JSON)", w->json->len, measure(w, op_json_decode), 0);
	row(w, "JSON encode (MB/s of JSON)", w->json->len, measure(w, op_json_encode), 0);
	protobuf_c_message_free_unpacked(w->pbc, NULL);
	free(w->pbc_out);
}

int main(void)
{
	otf_arena_init(&g_arena, 1 << 20);
	work_t w[3];
	setup(&w[0], OTF_SIGNAL_LOGS, "logs", 360);
	setup(&w[1], OTF_SIGNAL_TRACES, "spans", 800);
	setup(&w[2], OTF_SIGNAL_METRICS, "data points", 300);
	printf("| workload (1000 per request) | operation | MB/s | ns/item | vs protobuf-c |\n"
	       "|---|---|---|---|---|\n");
	for (int i = 0; i < 3; i++) {
		fprintf(stderr,
		        "codec_bench: %s: %zu bytes protobuf (%.0f B/item), %zu bytes JSON\n",
		        w[i].name, w[i].pb->len, (double)w[i].pb->len / (double)w[i].items,
		        w[i].json->len);
		run(&w[i]);
	}
	printf("\nRequest sizes: ");
	for (int i = 0; i < 3; i++)
		printf("%s %zu B protobuf (%.0f B/item), %zu B JSON%s", w[i].name, w[i].pb->len,
		       (double)w[i].pb->len / (double)w[i].items, w[i].json->len,
		       i < 2 ? "; " : ".\n");
	return 0;
}
