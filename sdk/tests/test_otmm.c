/* libotmmap: layout, records and their content (read back with the test's own reader),
 * interning by content, drops, epochs, dictionary growth, format 1001 cells. */
#include "otmm.h"
#include "otmm_reader.h"
#include "otmm_test.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#define MAXMSG 64
struct msgs {
	int n;
	size_t len[MAXMSG];
	uint8_t buf[MAXMSG][4096];
};
static void collect(const uint8_t *m, size_t n, void *arg)
{
	struct msgs *ms = arg;
	if (ms->n < MAXMSG && n <= sizeof(ms->buf[0])) {
		memcpy(ms->buf[ms->n], m, n);
		ms->len[ms->n++] = n;
	}
}

static otmm_options_t small_opts(void)
{
	otmm_options_t o;
	otmm_options_init(&o);
	o.events_slots = o.spans_slots = o.measurements_slots = 64;
	o.events_slot_size = o.spans_slot_size = o.measurements_slot_size = 1024;
	return o;
}

/* the oneof member `num` of a SpanEvent, and its ids */
static int span_event(const uint8_t *m, size_t n, uint32_t num, rd_field_t *member)
{
	return rd_get(m, n, num, member);
}

static void test_layout(void)
{
	const char *path = t_path("layout.mmap");
	otmm_options_t o = small_opts();
	otmm_attr_t res[] = {otmm_attr("service.name", otmm_str("svc"))};
	o.resource_attrs = res;
	o.n_resource_attrs = 1;
	otmm_t *m;
	CHECK_EQ(otmm_open(path, &o, &m), 0);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	rd_file_t f;
	CHECK_EQ(rd_open(path, &f), 0);
	uint64_t ring = 32 + 4 * 64 + 64 * 1024;
	CHECK_EQ(rd_i64(&f, 0), 1);
	CHECK_EQ(rd_i64(&f, 8), 64);
	CHECK_EQ(rd_i64(&f, 16), 64 + ring);
	CHECK_EQ(rd_i64(&f, 24), 64 + 2 * ring);
	CHECK_EQ(rd_i64(&f, 32), 64 + 3 * ring);
	CHECK(rd_i64(&f, 40) > 1600000000000000000LL);
	CHECK_EQ(rd_i64(&f, 48), 0);
	CHECK_EQ(rd_i64(&f, 56), 0);
	for (int r = 0; r < 3; r++) {
		uint64_t off = rd_ring_off(&f, r);
		CHECK_EQ(rd_i64(&f, off), 64);
		CHECK_EQ(rd_i64(&f, off + 8), 1024);
		CHECK_EQ(rd_i64(&f, off + 16), -1);
		CHECK_EQ(rd_i64(&f, off + 24), -1);
		CHECK_EQ(*(const int32_t *)(const void *)(f.map + off + 32 + 4 * 63), -1);
	}
	uint64_t dict = (uint64_t)rd_i64(&f, 32);
	CHECK(rd_i64(&f, dict) > (int64_t)dict + 64); /* the resource (and its key) are in */
	CHECK_EQ(rd_i64(&f, dict + 48), getpid());
	/* a second producer is refused */
	otmm_t *m2;
	CHECK_EQ(otmm_open(path, &o, &m2), OTMM_E_BUSY);
	/* the scope points at the resource, which holds service.name */
	otmm_scope_t sc;
	CHECK_EQ(otmm_scope(m, "lib", "1.2", NULL, 0, &sc), 0);
	size_t n;
	const uint8_t *scope = rd_dict(&f, sc.ref, &n);
	rd_field_t fl, av;
	CHECK(scope && rd_get(scope, n, 1, &fl) && rd_dict_streq(&f, (int64_t)fl.v, "lib"));
	CHECK(scope && rd_get(scope, n, 2, &fl) && rd_dict_streq(&f, (int64_t)fl.v, "1.2"));
	CHECK(scope && rd_get(scope, n, 5, &fl));
	const uint8_t *resource = rd_dict(&f, (int64_t)fl.v, &n);
	CHECK(resource && rd_attr(&f, resource, n, 1, "service.name", &av));
	CHECK(rd_get(av.p, av.n, 1, &fl) && fl.n == 3 && memcmp(fl.p, "svc", 3) == 0);
	uint64_t epoch = (uint64_t)rd_i64(&f, 40);
	otmm_close(m);
	/* re-open: a new, strictly greater epoch and fresh rings; never shrinks the file */
	o.events_slots = 8;
	CHECK_EQ(otmm_open(path, &o, &m), 0);
	CHECK((uint64_t)rd_i64(&f, 40) > epoch);
	CHECK_EQ(rd_i64(&f, 64), 8);
	CHECK(stat(path, &st) == 0 && (size_t)st.st_size >= f.len);
	otmm_close(m);
	rd_close(&f);
}

static void test_spans(void)
{
	const char *path = t_path("spans.mmap");
	otmm_options_t o = small_opts();
	otmm_t *m;
	CHECK_EQ(otmm_open(path, &o, &m), 0);
	otmm_tracer_t tr;
	CHECK_EQ(otmm_scope(m, "tracer", NULL, NULL, 0, &tr), 0);
	otmm_span_context_t parent = {.trace_flags = 1, .is_remote = 1};
	memset(parent.trace_id, 0xab, 16);
	memset(parent.span_id, 0xcd, 8);
	otmm_span_context_t lctx = {.trace_flags = 1};
	memset(lctx.trace_id, 0x11, 16);
	memset(lctx.span_id, 0x22, 8);
	otmm_attr_t lattr[] = {otmm_attr("link.a", otmm_int(7))};
	otmm_link_t link = {lctx, "k=v", lattr, 1};
	otmm_attr_t attrs[] = {otmm_attr("http.method", otmm_str("GET")),
	                       otmm_attr("http.status", otmm_int(200)),
	                       otmm_attr("ratio", otmm_double(0.5)), otmm_attr("ok", otmm_bool(0))};
	otmm_span_t s;
	CHECK_EQ(otmm_span_start(&tr, "GET /x", OTMM_SPAN_KIND_SERVER, &parent, attrs, 4, &link, 1,
	                         1000, &s),
	         0);
	CHECK(memcmp(s.ctx.trace_id, parent.trace_id, 16) == 0);
	otmm_attr_t upd[] = {otmm_attr("http.status", otmm_int(404))};
	CHECK_EQ(otmm_span_set_attributes(&s, upd, 1), 0);
	CHECK_EQ(otmm_span_update_name(&s, "GET /y"), 0);
	CHECK_EQ(otmm_span_record_exception(&s, "E", "boom", NULL), 0);
	otmm_span_set_status(&s, OTMM_STATUS_ERROR, "failed");
	CHECK_EQ(otmm_span_end(&s, 2000), 0);
	CHECK_EQ(otmm_span_end(&s, 3000), OTMM_E_STATE);

	rd_file_t f;
	CHECK_EQ(rd_open(path, &f), 0);
	static struct msgs ms;
	ms.n = 0;
	CHECK_EQ(rd_ring_each(&f, 1, collect, &ms), 5);
	rd_field_t fl, st, av;
	/* 0: start */
	CHECK(rd_get(ms.buf[0], ms.len[0], 1, &fl) && fl.n == 16 &&
	      memcmp(fl.p, s.ctx.trace_id, 16) == 0);
	CHECK(rd_get(ms.buf[0], ms.len[0], 2, &fl) && fl.n == 8 &&
	      memcmp(fl.p, s.ctx.span_id, 8) == 0);
	CHECK(rd_get(ms.buf[0], ms.len[0], 20, &fl) && (int64_t)fl.v == tr.ref);
	CHECK(span_event(ms.buf[0], ms.len[0], 11, &st));
	CHECK(rd_get(st.p, st.n, 4, &fl) && fl.n == 8 && memcmp(fl.p, parent.span_id, 8) == 0);
	CHECK(rd_get(st.p, st.n, 5, &fl) && fl.n == 6 && memcmp(fl.p, "GET /x", 6) == 0);
	CHECK(rd_get(st.p, st.n, 6, &fl) && fl.v == 2);
	CHECK(rd_get(st.p, st.n, 7, &fl) && fl.wt == 1 && fl.v == 1000);
	CHECK(rd_get(st.p, st.n, 16, &fl) && fl.wt == 5 && fl.v == 0x301);
	CHECK(rd_attr(&f, st.p, st.n, 9, "http.method", &av) && rd_get(av.p, av.n, 1, &fl) &&
	      fl.n == 3);
	CHECK(rd_attr(&f, st.p, st.n, 9, "http.status", &av) && rd_get(av.p, av.n, 3, &fl) &&
	      fl.v == 200);
	CHECK(rd_attr(&f, st.p, st.n, 9, "ratio", &av) && rd_get(av.p, av.n, 4, &fl) && fl.wt == 1);
	CHECK(rd_attr(&f, st.p, st.n, 9, "ok", &av) && rd_get(av.p, av.n, 2, &fl) && fl.v == 0);
	/* 1: link */
	CHECK(span_event(ms.buf[1], ms.len[1], 15, &st));
	CHECK(rd_get(st.p, st.n, 13, &fl));
	{
		rd_field_t l = fl;
		CHECK(rd_get(l.p, l.n, 1, &fl) && fl.n == 16 && fl.p[0] == 0x11);
		CHECK(rd_get(l.p, l.n, 2, &fl) && fl.n == 8 && fl.p[0] == 0x22);
		CHECK(rd_get(l.p, l.n, 3, &fl) && fl.n == 3 && memcmp(fl.p, "k=v", 3) == 0);
		CHECK(rd_attr(&f, l.p, l.n, 4, "link.a", &av));
	}
	/* 2: attributes, 3: name, 4: end */
	CHECK(span_event(ms.buf[2], ms.len[2], 14, &st) &&
	      rd_attr(&f, st.p, st.n, 9, "http.status", &av) && rd_get(av.p, av.n, 3, &fl) &&
	      fl.v == 404);
	CHECK(span_event(ms.buf[3], ms.len[3], 13, &st) && rd_get(st.p, st.n, 5, &fl) &&
	      fl.n == 6 && memcmp(fl.p, "GET /y", 6) == 0);
	CHECK(span_event(ms.buf[4], ms.len[4], 12, &st));
	CHECK(rd_get(st.p, st.n, 8, &fl) && fl.v == 2000);
	CHECK(rd_get(st.p, st.n, 15, &fl));
	{
		rd_field_t status = fl;
		CHECK(rd_get(status.p, status.n, 3, &fl) && fl.v == 2);
		CHECK(rd_get(status.p, status.n, 2, &fl) && fl.n == 6 &&
		      memcmp(fl.p, "failed", 6) == 0);
	}
	/* the exception event: events ring, SpanContext with span_id = 1 and trace_id = 2 */
	ms.n = 0;
	CHECK_EQ(rd_ring_each(&f, 0, collect, &ms), 1);
	CHECK(rd_get(ms.buf[0], ms.len[0], 6, &fl) &&
	      rd_dict_streq(&f, (int64_t)fl.v, "exception"));
	CHECK(rd_get(ms.buf[0], ms.len[0], 7, &st));
	CHECK(rd_get(st.p, st.n, 1, &fl) && fl.n == 8 && memcmp(fl.p, s.ctx.span_id, 8) == 0);
	CHECK(rd_get(st.p, st.n, 2, &fl) && fl.n == 16 && memcmp(fl.p, s.ctx.trace_id, 16) == 0);
	CHECK(rd_attr(&f, ms.buf[0], ms.len[0], 8, "exception.message", &av));
	CHECK(!rd_attr(&f, ms.buf[0], ms.len[0], 8, "exception.stacktrace", &av));
	/* a root span gets a fresh trace id and the sampled flag, no parent */
	otmm_span_t root;
	CHECK_EQ(otmm_span_start(&tr, "root", 0, NULL, NULL, 0, NULL, 0, 0, &root), 0);
	CHECK(otmm_span_context_is_valid(&root.ctx) && root.ctx.trace_flags == 1);
	CHECK(memcmp(root.ctx.trace_id, s.ctx.trace_id, 16) != 0);
	CHECK_EQ(otmm_span_end(&root, 0), 0);
	ms.n = 0;
	CHECK_EQ(rd_ring_each(&f, 1, collect, &ms), 7);
	CHECK(span_event(ms.buf[5], ms.len[5], 11, &st) && !rd_get(st.p, st.n, 4, &fl));
	CHECK(rd_get(st.p, st.n, 6, &fl) && fl.v == 1 && rd_get(st.p, st.n, 16, &fl) &&
	      fl.v == 0x101);
	CHECK(span_event(ms.buf[6], ms.len[6], 12, &st) && !rd_get(st.p, st.n, 15, &fl));
	rd_close(&f);
	otmm_close(m);
}

static void test_logs(void)
{
	const char *path = t_path("logs.mmap");
	otmm_options_t o = small_opts();
	otmm_t *m;
	CHECK_EQ(otmm_open(path, &o, &m), 0);
	otmm_logger_t lg;
	CHECK_EQ(otmm_scope(m, "logger", "2", NULL, 0, &lg), 0);
	otmm_span_context_t ctx = {.trace_flags = 1};
	memset(ctx.trace_id, 3, 16);
	memset(ctx.span_id, 4, 8);
	otmm_value_t arr[] = {otmm_int(1), otmm_str("two")};
	otmm_value_t arrv = {OTMM_VAL_ARRAY, 0, 0, 0, arr, 2};
	otmm_attr_t at[] = {otmm_attr("list", arrv)};
	otmm_log_record_t r = {.time_unix_nano = 42,
	                       .severity_number = 17,
	                       .severity_text = "ERROR",
	                       .body = otmm_str("disk full"),
	                       .event_name = "app.error",
	                       .span_context = &ctx,
	                       .attrs = at,
	                       .n_attrs = 1};
	CHECK_EQ(otmm_log_emit(&lg, &r), 0);
	r.severity_number = 25;
	CHECK_EQ(otmm_log_emit(&lg, &r), OTMM_E_INVAL);
	rd_file_t f;
	CHECK_EQ(rd_open(path, &f), 0);
	static struct msgs ms;
	ms.n = 0;
	CHECK_EQ(rd_ring_each(&f, 0, collect, &ms), 1);
	rd_field_t fl, av;
	const uint8_t *e = ms.buf[0];
	size_t n = ms.len[0];
	CHECK(rd_get(e, n, 1, &fl) && (int64_t)fl.v == lg.ref);
	CHECK(rd_get(e, n, 2, &fl) && fl.wt == 1 && fl.v == 42);
	CHECK(rd_get(e, n, 3, &fl) && fl.v == 17);
	CHECK(rd_get(e, n, 4, &fl) && fl.n == 5);
	CHECK(rd_get(e, n, 5, &av) && rd_get(av.p, av.n, 1, &fl) && fl.n == 9);
	CHECK(rd_get(e, n, 6, &fl) && rd_dict_streq(&f, (int64_t)fl.v, "app.error"));
	CHECK(rd_attr(&f, e, n, 8, "list", &av) && rd_get(av.p, av.n, 5, &fl));
	rd_close(&f);
	otmm_close(m);
}

static void test_metrics_v1(void)
{
	const char *path = t_path("metrics.mmap");
	otmm_options_t o = small_opts();
	otmm_t *m;
	CHECK_EQ(otmm_open(path, &o, &m), 0);
	otmm_meter_t mt;
	CHECK_EQ(otmm_scope(m, "meter", NULL, NULL, 0, &mt), 0);
	otmm_instrument_t c, c2, c3, h, oc, g;
	CHECK_EQ(otmm_instrument_create(&mt, OTMM_COUNTER, "requests", "reqs", "1", 0, NULL, 0, &c),
	         0);
	CHECK_EQ(
	    otmm_instrument_create(&mt, OTMM_COUNTER, "requests", "reqs", "1", 0, NULL, 0, &c2), 0);
	CHECK_EQ(
	    otmm_instrument_create(&mt, OTMM_COUNTER, "requests", "reqs", "ms", 0, NULL, 0, &c3),
	    0);
	CHECK_EQ(c.metric_ref, c2.metric_ref); /* same content, same entry */
	CHECK(c.metric_ref != c3.metric_ref);  /* identity by full content, not by name */
	double b[] = {1, 10, 100};
	CHECK_EQ(otmm_instrument_create(&mt, OTMM_HISTOGRAM, "lat", NULL, "ms", 1, b, 3, &h), 0);
	double bad[] = {1, 1};
	CHECK_EQ(otmm_instrument_create(&mt, OTMM_HISTOGRAM, "x", NULL, NULL, 1, bad, 2, &g),
	         OTMM_E_INVAL);
	CHECK_EQ(
	    otmm_instrument_create(&mt, OTMM_OBSERVABLE_COUNTER, "cpu", NULL, "s", 1, NULL, 0, &oc),
	    0);
	CHECK_EQ(otmm_instrument_create(&mt, OTMM_GAUGE, "temp", NULL, NULL, 1, NULL, 0, &g), 0);
	otmm_attr_t at[] = {otmm_attr("route", otmm_str("/a"))};
	CHECK_EQ(otmm_record_i64(&c, 5, at, 1), 0);
	CHECK_EQ(otmm_record_i64(&c, -1, at, 1), OTMM_E_INVAL);
	CHECK_EQ(otmm_record_f64(&h, 12.5, NULL, 0), 0);
	CHECK_EQ(otmm_record_f64(&oc, 3.25, NULL, 0), 0);
	otmm_series_t se;
	CHECK_EQ(otmm_series_bind(&c, at, 1, &se), 0);
	CHECK_EQ(otmm_series_record_i64(&se, 0), 0); /* an explicit zero is still on the wire */
	rd_file_t f;
	CHECK_EQ(rd_open(path, &f), 0);
	static struct msgs ms;
	ms.n = 0;
	CHECK_EQ(rd_ring_each(&f, 2, collect, &ms), 4);
	rd_field_t fl, av, agg;
	CHECK(rd_get(ms.buf[0], ms.len[0], 1, &fl) && (int64_t)fl.v == c.metric_ref);
	CHECK(rd_get(ms.buf[0], ms.len[0], 3, &fl) && fl.wt == 1 && fl.v > 0);
	CHECK(rd_get(ms.buf[0], ms.len[0], 4, &fl) && fl.v == 5);
	CHECK(rd_attr(&f, ms.buf[0], ms.len[0], 2, "route", &av));
	CHECK(rd_get(ms.buf[1], ms.len[1], 5, &fl) && fl.wt == 1);
	CHECK(rd_get(ms.buf[3], ms.len[3], 4, &fl) && fl.v == 0);
	CHECK(ms.len[3] == ms.len[0]); /* bound series: the same encoding */
	size_t n;
	const uint8_t *def = rd_dict(&f, c.metric_ref, &n);
	CHECK(def && rd_get(def, n, 1, &fl) && fl.n == 8 && memcmp(fl.p, "requests", 8) == 0);
	CHECK(def && rd_get(def, n, 4, &fl) && (int64_t)fl.v == mt.ref);
	CHECK(def && rd_get(def, n, 6, &agg) && rd_get(agg.p, agg.n, 2, &fl) && fl.v == 1 &&
	      rd_get(agg.p, agg.n, 3, &fl) && fl.v == 1);
	def = rd_dict(&f, oc.metric_ref, &n);
	CHECK(def && rd_get(def, n, 6, &agg) && rd_get(agg.p, agg.n, 2, &fl) && fl.v == 2);
	def = rd_dict(&f, h.metric_ref, &n);
	CHECK(def && rd_get(def, n, 7, &agg) && rd_get(agg.p, agg.n, 2, &fl) && fl.n == 24);
	if (fl.n == 24) {
		double got[3];
		memcpy(got, fl.p, 24);
		CHECK(got[0] == 1 && got[1] == 10 && got[2] == 100);
	}
	def = rd_dict(&f, g.metric_ref, &n);
	CHECK(def && rd_get(def, n, 5, &agg) && agg.n == 0);
	rd_close(&f);
	otmm_close(m);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_drops(void)
{
	const char *path = t_path("drops.mmap");
	otmm_options_t o = small_opts();
	o.spans_slots = 8;
	o.spans_slot_size = 128;
	otmm_t *m;
	CHECK_EQ(otmm_open(path, &o, &m), 0);
	otmm_tracer_t tr;
	CHECK_EQ(otmm_scope(m, "t", NULL, NULL, 0, &tr), 0);
	otmm_span_t s;
	for (int i = 0; i < 7; i++) /* capacity is N-1 */
		CHECK_EQ(otmm_span_start(&tr, "s", 0, NULL, NULL, 0, NULL, 0, 0, &s), 0);
	double t0 = now_s();
	CHECK_EQ(otmm_span_start(&tr, "s", 0, NULL, NULL, 0, NULL, 0, 0, &s), OTMM_E_FULL);
	CHECK(now_s() - t0 < 0.01); /* bounded spin, default 5 us */
	CHECK(!s.recording && otmm_span_context_is_valid(&s.ctx));
	CHECK_EQ(otmm_span_end(&s, 0), OTMM_E_STATE);
	otmm_stats_t st;
	otmm_stats(m, &st);
	CHECK_EQ(st.written[1], 7);
	CHECK_EQ(st.dropped[1], 1);
	rd_file_t f;
	CHECK_EQ(rd_open(path, &f), 0);
	uint64_t dict = (uint64_t)rd_i64(&f, 32);
	CHECK_EQ(rd_i64(&f, dict + 24), 1);
	/* an oversized record is never claimed */
	char big[200];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	uint8_t *rw = NULL;
	int fd = open(path, O_RDWR);
	rw = mmap(NULL, f.len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	static struct msgs ms;
	ms.n = 0;
	CHECK_EQ(rd_ring_drain(rw, 1, collect, &ms), 7);
	CHECK_EQ(otmm_span_start(&tr, big, 0, NULL, NULL, 0, NULL, 0, 0, &s), OTMM_E_TOO_BIG);
	otmm_stats(m, &st);
	CHECK_EQ(st.written[1], 7);
	CHECK_EQ(st.dropped[1], 2);
	CHECK_EQ(otmm_span_start(&tr, "fits", 0, NULL, NULL, 0, NULL, 0, 0, &s), 0);
	ms.n = 0;
	CHECK_EQ(rd_ring_drain(rw, 1, collect, &ms), 1); /* no hole in sequence 7 */
	munmap(rw, f.len);
	rd_close(&f);
	otmm_close(m);
}

static void test_dictionary_growth(void)
{
	const char *path = t_path("dict.mmap");
	otmm_options_t o = small_opts();
	o.dictionary_size = 4096;
	o.dictionary_max = 256 << 10;
	o.intern_capacity = 1024;
	otmm_t *m;
	CHECK_EQ(otmm_open(path, &o, &m), 0);
	struct stat st0, st1;
	CHECK(stat(path, &st0) == 0);
	otmm_meter_t mt;
	CHECK_EQ(otmm_scope(m, "m", NULL, NULL, 0, &mt), 0);
	char name[64];
	otmm_instrument_t in;
	static int64_t refs[20000];
	int ok = 1, i;
	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "metric.number.%05d.with.a.long.name", i);
		int rc = otmm_instrument_create(&mt, OTMM_COUNTER, name, "d", "1", 0, NULL, 0, &in);
		if (rc == OTMM_E_DICT_FULL)
			break;
		ok &= rc == 0;
		refs[i] = in.metric_ref;
	}
	CHECK(ok);
	CHECK(i > 1000 && i < 20000); /* grew well past 4 KiB, then hit the 256 KiB maximum */
	CHECK(stat(path, &st1) == 0 && st1.st_size > st0.st_size);
	otmm_stats_t s;
	otmm_stats(m, &s);
	CHECK(s.dictionary_refused >= 1);
	rd_file_t f;
	CHECK_EQ(rd_open(path, &f), 0);
	int good = 1;
	for (int k = 0; k < i; k++) {
		size_t n;
		rd_field_t fl;
		const uint8_t *d = rd_dict(&f, refs[k], &n);
		snprintf(name, sizeof(name), "metric.number.%05d.with.a.long.name", k);
		good &= d && rd_get(d, n, 1, &fl) && fl.n == strlen(name) &&
		        memcmp(fl.p, name, fl.n) == 0;
	}
	CHECK(good);
	/* a record needing a new key when the dictionary is full is dropped and counted */
	otmm_logger_t lg = mt;
	otmm_attr_t at[] = {otmm_attr("a.brand.new.key.never.seen", otmm_int(1))};
	otmm_log_record_t r = {.severity_number = 9, .attrs = at, .n_attrs = 1};
	CHECK_EQ(otmm_log_emit(&lg, &r), OTMM_E_DICT_FULL);
	otmm_stats(m, &s);
	CHECK_EQ(s.dropped[0], 1);
	rd_close(&f);
	otmm_close(m);
}

static void test_aggregated(void)
{
	const char *path = t_path("agg.mmap");
	otmm_options_t o = small_opts();
	o.aggregate = 1;
	o.cells = 4;
	otmm_t *m;
	CHECK_EQ(otmm_open(path, &o, &m), 0);
	otmm_meter_t mt;
	CHECK_EQ(otmm_scope(m, "m", NULL, NULL, 0, &mt), 0);
	otmm_instrument_t c, h, g, d;
	CHECK_EQ(otmm_instrument_create(&mt, OTMM_COUNTER, "c", NULL, NULL, 0, NULL, 0, &c), 0);
	CHECK_EQ(otmm_instrument_create(&mt, OTMM_UP_DOWN_COUNTER, "d", NULL, NULL, 1, NULL, 0, &d),
	         0);
	double b[] = {1, 10};
	CHECK_EQ(otmm_instrument_create(&mt, OTMM_HISTOGRAM, "h", NULL, NULL, 1, b, 2, &h), 0);
	CHECK_EQ(otmm_instrument_create(&mt, OTMM_GAUGE, "g", NULL, NULL, 0, NULL, 0, &g), 0);
	otmm_attr_t a1[] = {otmm_attr("k", otmm_str("1"))};
	otmm_attr_t a2[] = {otmm_attr("k", otmm_str("2"))};
	for (int i = 0; i < 1000; i++)
		CHECK_EQ(otmm_record_i64(&c, 2, a1, 1), 0);
	otmm_series_t s;
	CHECK_EQ(otmm_series_bind(&c, a1, 1, &s), 0);
	CHECK(s.cell != NULL);
	CHECK_EQ(otmm_series_record_i64(&s, 3), 0);
	CHECK_EQ(otmm_record_f64(&h, 0.5, NULL, 0), 0);
	CHECK_EQ(otmm_record_f64(&h, 5, NULL, 0), 0);
	CHECK_EQ(otmm_record_f64(&h, 50, NULL, 0), 0);
	CHECK_EQ(otmm_record_f64(&h, 10, NULL, 0), 0);
	CHECK_EQ(otmm_record_i64(&g, 7, NULL, 0), 0);
	CHECK_EQ(otmm_record_i64(&g, -3, NULL, 0), 0);
	CHECK_EQ(otmm_record_i64(&c, 1, a2, 1), 0);
	/* 4 cells used: the 5th series goes to the ring as a version-1 Measurement */
	CHECK_EQ(otmm_record_f64(&d, -1.5, a2, 1), 0);
	CHECK_EQ(otmm_record_f64(&d, -1.5, a2, 1), 0);
	rd_file_t f;
	CHECK_EQ(rd_open(path, &f), 0);
	CHECK_EQ(rd_i64(&f, 0), OTMM_FORMAT_AGGREGATED);
	uint64_t agg = (uint64_t)rd_i64(&f, 48);
	CHECK_EQ(agg, rd_i64(&f, 24) + 32 + 4 * 64 + 64 * 1024);
	CHECK_EQ(rd_i64(&f, 56), 64 + 4 * 256);
	CHECK_EQ(rd_i64(&f, 32), agg + 64 + 4 * 256);
	CHECK_EQ(rd_i64(&f, agg), 0x314747414D4D544FLL);
	CHECK_EQ(rd_i64(&f, agg + 8), 4);
	CHECK_EQ(rd_i64(&f, agg + 16), 256);
	CHECK_EQ(rd_i64(&f, agg + 24), 5);
	CHECK_EQ(rd_i64(&f, agg + 32), 1);
	int seen = 0;
	for (int i = 0; i < 4; i++) {
		uint64_t cell = agg + 64 + 256 * (uint64_t)i;
		uint32_t state, kind;
		memcpy(&state, f.map + cell, 4);
		memcpy(&kind, f.map + cell + 4, 4);
		CHECK_EQ(state, 2);
		int64_t metric = rd_i64(&f, cell + 8);
		int64_t v = rd_i64(&f, cell + 32);
		double dv;
		memcpy(&dv, &v, 8);
		if (metric == c.metric_ref && v == 1) {
			seen |= 8;
		} else if (metric == c.metric_ref) {
			seen |= 1;
			CHECK_EQ(kind, 1);
			CHECK_EQ(v, 2003);
			size_t n;
			const uint8_t *as = rd_dict(&f, rd_i64(&f, cell + 16), &n);
			rd_field_t av, fl;
			CHECK(as && rd_attr(&f, as, n, 1, "k", &av) && rd_get(av.p, av.n, 1, &fl) &&
			      fl.n == 1 && fl.p[0] == '1');
		} else if (metric == h.metric_ref) {
			seen |= 2;
			CHECK_EQ(kind, 5);
			CHECK(dv == 65.5);
			CHECK_EQ(rd_i64(&f, cell + 40), 4);
			double mn, mx;
			int64_t t = rd_i64(&f, cell + 48);
			memcpy(&mn, &t, 8);
			t = rd_i64(&f, cell + 56);
			memcpy(&mx, &t, 8);
			CHECK(mn == 0.5 && mx == 50);
			CHECK_EQ(*(const uint32_t *)(const void *)(f.map + cell + 72), 3);
			CHECK_EQ(rd_i64(&f, cell + 80), 1); /* <= 1 */
			CHECK_EQ(rd_i64(&f, cell + 88), 2); /* (1, 10] */
			CHECK_EQ(rd_i64(&f, cell + 96), 1); /* > 10 */
			CHECK_EQ(rd_i64(&f, cell + 16), 0); /* no attributes */
		} else if (metric == g.metric_ref) {
			seen |= 4;
			CHECK_EQ(kind, 3);
			CHECK_EQ(v, -3);
			CHECK(rd_i64(&f, cell + 64) > 0);
		} else if (metric == d.metric_ref) {
			seen |= 16;
		}
	}
	CHECK_EQ(seen, 15); /* the up-down counter got no cell */
	static struct msgs ms;
	ms.n = 0;
	CHECK_EQ(rd_ring_each(&f, 2, collect, &ms), 2);
	rd_field_t fl;
	CHECK(rd_get(ms.buf[0], ms.len[0], 1, &fl) && (int64_t)fl.v == d.metric_ref);
	rd_close(&f);
	otmm_close(m);
}

int main(void)
{
	test_layout();
	test_spans();
	test_logs();
	test_metrics_v1();
	test_drops();
	test_dictionary_growth();
	test_aggregated();
	return t_done();
}
