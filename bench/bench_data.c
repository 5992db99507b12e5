/* Deterministic OTLP requests for the codec benchmark, built as pdata trees
 * and encoded with otflow's encoder. Values vary per record (ids, URLs,
 * status codes, timestamps) so no two records are byte-identical, as in real
 * traffic, but come from a fixed-seed generator so runs are comparable. */
#include "bench_data.h"

#include "otflow/arena.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <stdio.h>
#include <string.h>

/* 2026-01-01T00:00:00Z: a fixed clock keeps the bytes identical run to run. */
#define BASE_NS 1767225600000000000ull

typedef struct gen {
	otf_arena_t a;
	uint64_t rng;
} gen_t;

/* xorshift64*: cheap, deterministic, good enough to vary ids and values. */
static uint64_t rnd(gen_t *g)
{
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 2685821657736338717ull;
}

static otf_bytes_t str(gen_t *g, const char *s)
{
	size_t n = strlen(s);
	return (otf_bytes_t){otf_arena_memdup(&g->a, s, n), n};
}

static otf_bytes_t id(gen_t *g, size_t len)
{
	uint8_t *p = otf_arena_alloc(&g->a, 16);
	uint64_t x = rnd(g), y = rnd(g);
	memcpy(p, &x, 8);
	memcpy(p + 8, &y, 8);
	p[0] |= 1; /* an all-zero id is invalid */
	return (otf_bytes_t){p, len};
}

static void kv_str(gen_t *g, otf_key_value_t *kv, const char *k, const char *v)
{
	kv->key = str(g, k);
	kv->value.type = OTF_ANY_STRING;
	kv->value.u.string_value = str(g, v);
}

static void kv_int(gen_t *g, otf_key_value_t *kv, const char *k, int64_t v)
{
	kv->key = str(g, k);
	kv->value.type = OTF_ANY_INT;
	kv->value.u.int_value = v;
}

static otf_attributes_t attrs(gen_t *g, size_t n)
{
	return (otf_attributes_t){otf_arena_calloc(&g->a, n, sizeof(otf_key_value_t)), n};
}

static const char *const k_methods[] = {"GET", "GET", "GET", "POST", "PUT", "DELETE"};
static const char *const k_routes[] = {"/api/v1/orders/{id}", "/api/v1/cart", "/api/v1/products",
                                       "/api/v1/checkout", "/healthz"};

static int64_t status_code(gen_t *g)
{
	uint64_t r = rnd(g) % 100;
	return r < 90 ? 200 : r < 95 ? 404 : r < 98 ? 201 : 503;
}

/* A service's resource (SDK resource detectors' usual set) and scope. */
static void resource_scope(gen_t *g, otf_resource_t *r, otf_scope_t *s)
{
	r->attributes = attrs(g, 8);
	kv_str(g, &r->attributes.items[0], "service.name", "checkout");
	kv_str(g, &r->attributes.items[1], "service.version", "2.14.1");
	kv_str(g, &r->attributes.items[2], "service.instance.id", "checkout-7d9f8b6c5-x2k4q");
	kv_str(g, &r->attributes.items[3], "deployment.environment.name", "production");
	kv_str(g, &r->attributes.items[4], "host.name", "ip-10-0-12-34.ec2.internal");
	kv_str(g, &r->attributes.items[5], "telemetry.sdk.name", "opentelemetry");
	kv_str(g, &r->attributes.items[6], "telemetry.sdk.language", "java");
	kv_str(g, &r->attributes.items[7], "telemetry.sdk.version", "1.44.1");
	s->name = str(g, "io.opentelemetry.tomcat-10.0");
	s->version = str(g, "2.10.0-alpha");
}

static void gen_init(gen_t *g, uint64_t seed)
{
	otf_arena_init(&g->a, 1 << 20);
	g->rng = seed;
}

int bench_logs(size_t n, otf_buf_t **out)
{
	gen_t g;
	gen_init(&g, 0x9e3779b97f4a7c15ull);
	otf_resource_logs_t rl = {0};
	otf_scope_logs_t sl = {0};
	resource_scope(&g, &rl.resource, &sl.scope);
	rl.scope_logs = &sl;
	rl.scope_logs_len = 1;
	sl.log_records = otf_arena_calloc(&g.a, n, sizeof(otf_log_record_t));
	sl.log_records_len = n;
	char url[96], body[160];
	for (size_t i = 0; i < n; i++) {
		otf_log_record_t *r = &sl.log_records[i];
		const char *method = k_methods[rnd(&g) % 6];
		uint64_t order = 100000 + rnd(&g) % 900000;
		int64_t code = status_code(&g);
		unsigned ms = (unsigned)(1 + rnd(&g) % 250);
		r->time_unix_nano = BASE_NS + i * 1000003;
		r->observed_time_unix_nano = r->time_unix_nano + 150000;
		r->severity_number = code >= 500 ? 17 : 9; /* ERROR : INFO */
		r->severity_text = str(&g, code >= 500 ? "ERROR" : "INFO");
		r->flags = 1; /* sampled */
		r->trace_id = id(&g, OTF_TRACE_ID_LEN);
		r->span_id = id(&g, OTF_SPAN_ID_LEN);
		snprintf(url, sizeof url,
		         "https://shop.example.com/api/v1/orders/%llu?expand=items",
		         (unsigned long long)order);
		snprintf(body, sizeof body, "%s /api/v1/orders/%llu -> %lld in %u ms", method,
		         (unsigned long long)order, (long long)code, ms);
		r->body.type = OTF_ANY_STRING;
		r->body.u.string_value = str(&g, body);
		r->attributes = attrs(&g, 6);
		otf_key_value_t *kv = r->attributes.items;
		kv_str(&g, &kv[0], "http.request.method", method);
		kv_str(&g, &kv[1], "url.full", url);
		kv_int(&g, &kv[2], "http.response.status_code", code);
		kv_str(&g, &kv[3], "server.address", "shop.example.com");
		kv_str(&g, &kv[4], "user_agent.original", "okhttp/4.12.0");
		kv_str(&g, &kv[5], "client.address", "10.0.3.17");
	}
	otf_logs_t l = {&rl, 1};
	int rc = otf_pdata_encode_logs(&l, out);
	otf_arena_close(&g.a);
	return rc;
}

int bench_spans(size_t n, otf_buf_t **out)
{
	gen_t g;
	gen_init(&g, 0xd1b54a32d192ed03ull);
	otf_resource_spans_t rs = {0};
	otf_scope_spans_t ss = {0};
	resource_scope(&g, &rs.resource, &ss.scope);
	rs.scope_spans = &ss;
	rs.scope_spans_len = 1;
	ss.spans = otf_arena_calloc(&g.a, n, sizeof(otf_span_t));
	ss.spans_len = n;
	otf_bytes_t trace = {0}, parent = {0};
	char url[96];
	for (size_t i = 0; i < n; i++) {
		otf_span_t *s = &ss.spans[i];
		/* Traces of 4 spans: a server span and 3 client calls under it. */
		bool server = i % 4 == 0;
		if (server)
			trace = id(&g, OTF_TRACE_ID_LEN);
		s->trace_id = trace;
		s->span_id = id(&g, OTF_SPAN_ID_LEN);
		if (server)
			parent = s->span_id;
		else
			s->parent_span_id = parent;
		s->flags = 0x101; /* sampled; parent-is-remote known */
		const char *method = k_methods[rnd(&g) % 6];
		const char *route = k_routes[rnd(&g) % 5];
		int64_t code = status_code(&g);
		uint64_t dur = 200000 + rnd(&g) % 50000000;
		char name[64];
		snprintf(name, sizeof name, "%s %s", method, route);
		s->name = str(&g, name);
		s->kind = server ? OTF_SPAN_KIND_SERVER : OTF_SPAN_KIND_CLIENT;
		s->start_time_unix_nano = BASE_NS + i * 2000003;
		s->end_time_unix_nano = s->start_time_unix_nano + dur;
		snprintf(url, sizeof url, "https://%s/api/v1/orders/%llu",
		         server ? "shop.example.com" : "inventory.internal:8443",
		         (unsigned long long)(100000 + rnd(&g) % 900000));
		s->attributes = attrs(&g, 9);
		otf_key_value_t *kv = s->attributes.items;
		kv_str(&g, &kv[0], "http.request.method", method);
		kv_str(&g, &kv[1], "http.route", route);
		kv_str(&g, &kv[2], "url.full", url);
		kv_int(&g, &kv[3], "http.response.status_code", code);
		kv_str(&g, &kv[4], "server.address",
		       server ? "shop.example.com" : "inventory.internal");
		kv_int(&g, &kv[5], "server.port", server ? 443 : 8443);
		kv_str(&g, &kv[6], "network.protocol.version", "1.1");
		kv_str(&g, &kv[7], "client.address", "10.0.3.17");
		kv_str(&g, &kv[8], "user_agent.original", "okhttp/4.12.0");
		s->events = otf_arena_calloc(&g.a, 1, sizeof(otf_span_event_t));
		s->events_len = 1;
		s->events[0].time_unix_nano = s->start_time_unix_nano + dur / 2;
		s->events[0].name = str(&g, code >= 500 ? "exception" : "cache.lookup");
		s->events[0].attributes = attrs(&g, 2);
		kv_str(&g, &s->events[0].attributes.items[0], "cache.key", "orders:v1:page");
		kv_int(&g, &s->events[0].attributes.items[1], "cache.hit", (int64_t)(rnd(&g) % 2));
		if (code >= 500) {
			s->status.code = OTF_STATUS_CODE_ERROR;
			s->status.message = str(&g, "upstream returned 503 Service Unavailable");
		} else {
			s->status.code = server ? OTF_STATUS_CODE_UNSET : OTF_STATUS_CODE_OK;
		}
	}
	otf_traces_t t = {&rs, 1};
	int rc = otf_pdata_encode_traces(&t, out);
	otf_arena_close(&g.a);
	return rc;
}

#define POINTS_PER_METRIC 100
#define N_BOUNDS          14

/* http.server.request.duration's advisory bucket boundaries (seconds). */
static const double k_bounds[N_BOUNDS] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                          0.5,   0.75, 1,     2.5,  5,     7.5, 10};

static otf_attributes_t point_attrs(gen_t *g, size_t j)
{
	otf_attributes_t at = attrs(g, 4);
	kv_str(g, &at.items[0], "http.request.method", k_methods[j % 6]);
	kv_str(g, &at.items[1], "http.route", k_routes[j % 5]);
	kv_int(g, &at.items[2], "http.response.status_code", j % 7 ? 200 : 503);
	kv_str(g, &at.items[3], "server.address", "shop.example.com");
	return at;
}

int bench_metrics(size_t n, otf_buf_t **out)
{
	gen_t g;
	gen_init(&g, 0x94d049bb133111ebull);
	otf_resource_metrics_t rm = {0};
	otf_scope_metrics_t sm = {0};
	resource_scope(&g, &rm.resource, &sm.scope);
	rm.scope_metrics = &sm;
	rm.scope_metrics_len = 1;
	size_t nm = (n + POINTS_PER_METRIC - 1) / POINTS_PER_METRIC;
	sm.metrics = otf_arena_calloc(&g.a, nm, sizeof(otf_metric_t));
	sm.metrics_len = nm;
	uint64_t start = BASE_NS - 3600ull * 1000000000ull;
	for (size_t m = 0; m < nm; m++) {
		otf_metric_t *mt = &sm.metrics[m];
		size_t np = n - m * POINTS_PER_METRIC;
		if (np > POINTS_PER_METRIC)
			np = POINTS_PER_METRIC;
		char name[64];
		mt->data_points_len = np;
		mt->aggregation_temporality = OTF_TEMPORALITY_CUMULATIVE;
		if (m % 2 == 0) {
			snprintf(name, sizeof name, "http.server.request.count.%zu", m / 2);
			mt->name = str(&g, name);
			mt->description = str(&g, "Number of HTTP server requests.");
			mt->unit = str(&g, "{request}");
			mt->type = OTF_METRIC_SUM;
			mt->is_monotonic = true;
			mt->data_points.number =
			    otf_arena_calloc(&g.a, np, sizeof(otf_number_data_point_t));
			for (size_t j = 0; j < np; j++) {
				otf_number_data_point_t *p = &mt->data_points.number[j];
				p->attributes = point_attrs(&g, j);
				p->start_time_unix_nano = start;
				p->time_unix_nano = BASE_NS;
				p->value_type = OTF_NUMBER_INT;
				p->value.as_int = (int64_t)(1 + rnd(&g) % 5000000);
			}
			continue;
		}
		snprintf(name, sizeof name, "http.server.request.duration.%zu", m / 2);
		mt->name = str(&g, name);
		mt->description = str(&g, "Duration of HTTP server requests.");
		mt->unit = str(&g, "s");
		mt->type = OTF_METRIC_HISTOGRAM;
		mt->data_points.histogram =
		    otf_arena_calloc(&g.a, np, sizeof(otf_histogram_data_point_t));
		for (size_t j = 0; j < np; j++) {
			otf_histogram_data_point_t *p = &mt->data_points.histogram[j];
			p->attributes = point_attrs(&g, j);
			p->start_time_unix_nano = start;
			p->time_unix_nano = BASE_NS;
			p->explicit_bounds = (double *)k_bounds;
			p->explicit_bounds_len = N_BOUNDS;
			p->bucket_counts = otf_arena_calloc(&g.a, N_BOUNDS + 1, sizeof(uint64_t));
			p->bucket_counts_len = N_BOUNDS + 1;
			for (size_t b = 0; b <= N_BOUNDS; b++) {
				/* Most requests are fast; the tail buckets stay small. */
				uint64_t c = b < 8 ? rnd(&g) % 20000 : rnd(&g) % 40;
				p->bucket_counts[b] = c;
				p->count += c;
			}
			/* Non-zero sum/min/max: protobuf-c's schema copy has no
			 * proto3 `optional`, so it omits zeros that ours writes. */
			p->has_sum = p->has_min = p->has_max = true;
			p->sum = (double)p->count * 0.042;
			p->min = 0.0011;
			p->max = 8.5 + (double)(rnd(&g) % 100) / 10.0;
		}
	}
	otf_metrics_t mtr = {&rm, 1};
	int rc = otf_pdata_encode_metrics(&mtr, out);
	otf_arena_close(&g.a);
	return rc;
}
