/* Request payloads for the load generator: log records, spans or data
 * points with semantic-convention attributes, padded to the requested size,
 * built as a pdata tree and encoded with otflow's own encoder. */
#include "loadgen.h"

#include "otflow/arena.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

static otf_bytes_t str(otf_arena_t *a, const char *s)
{
	size_t n = strlen(s);
	return (otf_bytes_t){otf_arena_memdup(a, s, n), n};
}

static void kv_str(otf_key_value_t *kv, otf_arena_t *a, const char *k, const char *v)
{
	kv->key = str(a, k);
	kv->value.type = OTF_ANY_STRING;
	kv->value.u.string_value = str(a, v);
}

static void kv_int(otf_key_value_t *kv, otf_arena_t *a, const char *k, int64_t v)
{
	kv->key = str(a, k);
	kv->value.type = OTF_ANY_INT;
	kv->value.u.int_value = v;
}

#define N_ATTRS 6

/* The attributes every item carries (~170 bytes encoded). */
static otf_attributes_t attrs(otf_arena_t *a, uint64_t i)
{
	otf_attributes_t at = {otf_arena_calloc(a, N_ATTRS, sizeof(otf_key_value_t)), N_ATTRS};
	char url[64];
	snprintf(url, sizeof url, "https://shop.example.com/api/v1/orders/%llu",
	         (unsigned long long)(i % 100000));
	kv_str(&at.items[0], a, "http.request.method", i % 5 ? "GET" : "POST");
	kv_str(&at.items[1], a, "url.full", url);
	kv_int(&at.items[2], a, "http.response.status_code", i % 50 ? 200 : 503);
	kv_str(&at.items[3], a, "server.address", "shop.example.com");
	kv_str(&at.items[4], a, "user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)");
	kv_str(&at.items[5], a, "network.protocol.version", "1.1");
	return at;
}

static otf_bytes_t id(otf_arena_t *a, size_t len, uint64_t x, uint64_t y)
{
	uint8_t *p = otf_arena_alloc(a, 16);
	memcpy(p, &x, 8);
	memcpy(p + 8, &y, 8);
	p[0] |= 1; /* never all zero */
	return (otf_bytes_t){p, len};
}

/* Body text padding each item to about size bytes. */
static otf_bytes_t padding(otf_arena_t *a, uint32_t size, size_t fixed)
{
	size_t n = size > fixed ? size - fixed : 16;
	char *p = otf_arena_alloc(a, n);
	static const char words[] = "GET /api/v1/orders completed in 12 ms for customer ";
	for (size_t i = 0; i < n; i++)
		p[i] = words[i % (sizeof words - 1)];
	return (otf_bytes_t){(const uint8_t *)p, n};
}

static void resource_scope(otf_arena_t *a, otf_resource_t *r, otf_scope_t *s)
{
	r->attributes.len = 3;
	r->attributes.items = otf_arena_calloc(a, 3, sizeof(otf_key_value_t));
	kv_str(&r->attributes.items[0], a, "service.name", "loadgen");
	kv_str(&r->attributes.items[1], a, "service.instance.id", "loadgen-1");
	kv_str(&r->attributes.items[2], a, "host.name", "bench-host");
	s->name = str(a, "otflow-loadgen");
	s->version = str(a, "1.0.0");
}

int lg_build_payload(const lg_options_t *opt, uint64_t seq, otf_buf_t **out)
{
	otf_arena_t a;
	otf_arena_init(&a, 1 << 20);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	int rc;
	uint32_t n = opt->batch;
	if (opt->signal == OTF_SIGNAL_LOGS) {
		otf_resource_logs_t *rl = otf_arena_calloc(&a, 1, sizeof *rl);
		otf_scope_logs_t *sl = otf_arena_calloc(&a, 1, sizeof *sl);
		otf_log_record_t *lr = otf_arena_calloc(&a, n, sizeof *lr);
		resource_scope(&a, &rl->resource, &sl->scope);
		rl->scope_logs = sl;
		rl->scope_logs_len = 1;
		sl->log_records = lr;
		sl->log_records_len = n;
		for (uint32_t i = 0; i < n; i++) {
			lr[i].time_unix_nano = now + i;
			lr[i].observed_time_unix_nano = now + i;
			lr[i].severity_number = 9;
			lr[i].severity_text = str(&a, "INFO");
			lr[i].body.type = OTF_ANY_STRING;
			lr[i].body.u.string_value = padding(&a, opt->size, 317);
			lr[i].attributes = attrs(&a, seq * n + i);
			lr[i].trace_id = id(&a, 16, seq, i);
			lr[i].span_id = id(&a, 8, seq * n + i, 0);
		}
		otf_logs_t l = {rl, 1};
		rc = otf_pdata_encode_logs(&l, out);
	} else if (opt->signal == OTF_SIGNAL_TRACES) {
		otf_resource_spans_t *rs = otf_arena_calloc(&a, 1, sizeof *rs);
		otf_scope_spans_t *ss = otf_arena_calloc(&a, 1, sizeof *ss);
		otf_span_t *sp = otf_arena_calloc(&a, n, sizeof *sp);
		resource_scope(&a, &rs->resource, &ss->scope);
		rs->scope_spans = ss;
		rs->scope_spans_len = 1;
		ss->spans = sp;
		ss->spans_len = n;
		for (uint32_t i = 0; i < n; i++) {
			sp[i].trace_id = id(&a, 16, seq, i / 8);
			sp[i].span_id = id(&a, 8, seq * n + i, 1);
			if (i % 8)
				sp[i].parent_span_id = id(&a, 8, seq * n + i - 1, 1);
			sp[i].name = padding(&a, opt->size, 321);
			sp[i].kind = OTF_SPAN_KIND_SERVER;
			sp[i].start_time_unix_nano = now - 5000000;
			sp[i].end_time_unix_nano = now;
			sp[i].attributes = attrs(&a, seq * n + i);
			sp[i].status.code = OTF_STATUS_CODE_OK;
		}
		otf_traces_t t = {rs, 1};
		rc = otf_pdata_encode_traces(&t, out);
	} else {
		/* One sum metric with n data points distinguished by attributes. */
		otf_resource_metrics_t *rm = otf_arena_calloc(&a, 1, sizeof *rm);
		otf_scope_metrics_t *sm = otf_arena_calloc(&a, 1, sizeof *sm);
		otf_metric_t *m = otf_arena_calloc(&a, 1, sizeof *m);
		otf_number_data_point_t *dp = otf_arena_calloc(&a, n, sizeof *dp);
		resource_scope(&a, &rm->resource, &sm->scope);
		rm->scope_metrics = sm;
		rm->scope_metrics_len = 1;
		sm->metrics = m;
		sm->metrics_len = 1;
		m->name = str(&a, "http.server.request.count");
		m->unit = str(&a, "{request}");
		m->type = OTF_METRIC_SUM;
		m->aggregation_temporality = OTF_TEMPORALITY_CUMULATIVE;
		m->is_monotonic = true;
		m->data_points.number = dp;
		m->data_points_len = n;
		for (uint32_t i = 0; i < n; i++) {
			dp[i].attributes = attrs(&a, seq * n + i);
			dp[i].start_time_unix_nano = now - 60000000000ull;
			dp[i].time_unix_nano = now;
			dp[i].value_type = OTF_NUMBER_INT;
			dp[i].value.as_int = (int64_t)(seq + i);
		}
		otf_metrics_t mt = {rm, 1};
		rc = otf_pdata_encode_metrics(&mt, out);
	}
	otf_arena_close(&a);
	return rc;
}

int lg_gzip(const uint8_t *data, size_t len, otf_buf_t **out)
{
	uLong cap = compressBound((uLong)len) + 32;
	otf_buf_t *b = otf_buf_create(cap);
	if (!b)
		return OTF_E_NOMEM;
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK) {
		otf_buf_unref(b);
		return OTF_E_NOMEM;
	}
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	z.next_out = b->data;
	z.avail_out = (uInt)cap;
	int zrc = deflate(&z, Z_FINISH);
	b->len = z.total_out;
	deflateEnd(&z);
	if (zrc != Z_STREAM_END) {
		otf_buf_unref(b);
		return OTF_E_IO;
	}
	*out = b;
	return 0;
}
