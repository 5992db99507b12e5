/* otlp_mmap drain: the direct path (each log record and span encoded once,
 * as it is decoded, into the bytes of its scope group) builds the same
 * requests, byte for byte, as the reference path through the pdata tree
 * (otf__mmd_opts.via_tree), for what the SDK (libotmmap) writes: spans with
 * attributes, a repeated key, links, a new name, status, span events, spans
 * left open (emitted incomplete); log records of two scopes with string,
 * int and no bodies, severities, event names and span contexts; 70 scopes
 * (past the 64 groups of a request) and a small max_batch; counter and
 * histogram measurements. The requests also decode to what was written. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "components/receivers/otlp_mmap/mmap_drain.h"

#include "otflow/component.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otmm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_REQS 256

typedef struct reqs {
	size_t n;
	otf_signal_t sig[MAX_REQS];
	otf_buf_t *buf[MAX_REQS];
	uint64_t items[MAX_REQS];
} reqs_t;

static char g_path[256];

static void write_file(void)
{
	snprintf(g_path, sizeof g_path, "%s/otf-mmap-direct-%d", P_tmpdir, (int)getpid());
	otmm_options_t opt;
	otmm_options_init(&opt);
	otmm_attr_t res[2] = {otmm_attr("service.name", otmm_str("direct-test")),
	                      otmm_attr("host.id", otmm_int(7))};
	opt.resource_attrs = res;
	opt.n_resource_attrs = 2;
	otmm_t *m = NULL;
	assert_int_equal(otmm_open(g_path, &opt, &m), 0);
	otmm_scope_t tracer, log1, log2, meter;
	otmm_attr_t sattr = otmm_attr("scope.attr", otmm_bool(1));
	assert_int_equal(otmm_scope(m, "tracer", "1.0", &sattr, 1, &tracer), 0);
	assert_int_equal(otmm_scope(m, "logger-a", NULL, NULL, 0, &log1), 0);
	assert_int_equal(otmm_scope(m, "logger-b", "2", NULL, 0, &log2), 0);
	assert_int_equal(otmm_scope(m, "meter", NULL, NULL, 0, &meter), 0);

	otmm_span_t spans[12];
	memset(spans, 0, sizeof spans);
	for (int i = 0; i < 12; i++) {
		char name[32];
		snprintf(name, sizeof name, "span-%d", i);
		otmm_attr_t a[4] = {otmm_attr("http.method", otmm_str("GET")),
		                    otmm_attr("http.status_code", otmm_int(200 + i)),
		                    otmm_attr("ratio", otmm_double(0.5 * i)),
		                    otmm_attr("ok", otmm_bool(i % 2))};
		otmm_link_t link = {.trace_state = "k=v", .attrs = a, .n_attrs = 1};
		otmm_new_trace_id(link.ctx.trace_id);
		otmm_new_span_id(link.ctx.span_id);
		const otmm_span_context_t *parent = i > 0 ? &spans[0].ctx : NULL;
		otmm_span_start(&tracer, name, i % 6, parent, a, 4, i % 3 == 0 ? &link : NULL,
		                i % 3 == 0 ? 1 : 0, 1700000000000000000ull + (uint64_t)i,
		                &spans[i]);
		otmm_attr_t again = otmm_attr("http.status_code", otmm_int(500));
		if (i % 4 == 1)
			otmm_span_set_attributes(&spans[i], &again, 1);
		if (i == 2)
			otmm_span_update_name(&spans[i], "renamed");
		if (i % 5 == 0)
			otmm_span_add_event(&spans[i], "evt", 1700000000000000100ull, a, 2);
		if (i == 3)
			otmm_span_set_status(&spans[i], OTMM_STATUS_ERROR, "boom");
	}
	for (int i = 0; i < 10; i++) /* 10 and 11 stay open */
		otmm_span_end(&spans[i], 1700000000000001000ull + (uint64_t)i);

	for (int i = 0; i < 30; i++) {
		otmm_attr_t a[2] = {otmm_attr("k", otmm_str("v")), otmm_attr("n", otmm_int(i))};
		otmm_log_record_t r = {.time_unix_nano = 1700000000000002000ull + (uint64_t)i,
		                       .severity_number = 9 + i % 4,
		                       .severity_text = i % 2 ? "INFO" : NULL,
		                       .body = i % 3 == 0   ? otmm_str("hello")
		                               : i % 3 == 1 ? otmm_int(i)
		                                            : (otmm_value_t){0},
		                       .event_name = i % 7 == 0 ? "ev.name" : NULL,
		                       .span_context = i % 2 ? &spans[1].ctx : NULL,
		                       .attrs = a,
		                       .n_attrs = 2};
		assert_int_equal(otmm_log_emit(i % 2 ? &log1 : &log2, &r), 0);
	}
	for (int i = 0; i < 70; i++) {
		char name[32];
		snprintf(name, sizeof name, "many-%d", i);
		otmm_scope_t s;
		assert_int_equal(otmm_scope(m, name, NULL, NULL, 0, &s), 0);
		otmm_log_record_t r = {.time_unix_nano = 1700000000000003000ull,
		                       .body = otmm_str(name)};
		assert_int_equal(otmm_log_emit(&s, &r), 0);
	}

	otmm_instrument_t ctr, hist;
	assert_int_equal(otmm_instrument_create(&meter, OTMM_COUNTER, "requests", "all requests",
	                                        "1", 0, NULL, 0, &ctr),
	                 0);
	double bounds[3] = {1, 10, 100};
	assert_int_equal(otmm_instrument_create(&meter, OTMM_HISTOGRAM, "latency", NULL, "ms", 1,
	                                        bounds, 3, &hist),
	                 0);
	for (int i = 0; i < 20; i++) {
		otmm_attr_t a = otmm_attr("route", otmm_str(i % 2 ? "/a" : "/b"));
		assert_int_equal(otmm_record_i64(&ctr, 1 + i, &a, 1), 0);
		assert_int_equal(otmm_record_f64(&hist, 0.5 * i * i, &a, 1), 0);
	}
	otmm_close(m);
}

static void drain(bool via_tree, reqs_t *out)
{
	otf__mmd_opts_t o;
	otf__mmd_opts_default(&o);
	o.via_tree = via_tree;
	o.max_batch = 16;
	otf__mmd_t d;
	assert_int_equal(otf__mmd_init(&d, &o), 0);
	assert_int_equal(otf__mmd_open(&d, g_path), 0);
	const uint64_t wall = 1800000000000000000ull;
	long k;
	while ((k = otf__mmd_poll(&d, 1, wall, 7)) > 0)
		otf__mmd_cut(&d);
	assert_true(k == 0);
	otf__mmd_expire(&d, 2, wall + 5, true);
	otf__mmd_cut(&d);
	otf__mmd_collect(&d, wall + 10);
	memset(out, 0, sizeof *out);
	otf__mmd_req_t q;
	while (otf__mmd_take(&d, &q)) {
		assert_true(out->n < MAX_REQS);
		out->sig[out->n] = q.signal;
		out->buf[out->n] = q.payload;
		out->items[out->n] = q.items;
		out->n++;
	}
	assert_int_equal(d.st.bad_records, 0);
	assert_int_equal(d.st.encode_errors, 0);
	assert_int_equal(d.st.spans, 12);
	assert_int_equal(d.st.incomplete, 2);
	otf__mmd_close(&d);
}

static void reqs_free(reqs_t *r)
{
	for (size_t i = 0; i < r->n; i++)
		otf_buf_unref(r->buf[i]);
}

static void test_direct_equals_tree(void **state)
{
	(void)state;
	write_file();
	reqs_t direct, tree;
	drain(false, &direct);
	drain(true, &tree);
	unlink(g_path);
	assert_int_equal(direct.n, tree.n);
	size_t per[OTF_SIGNAL_COUNT] = {0};
	uint64_t items[OTF_SIGNAL_COUNT] = {0};
	for (size_t i = 0; i < direct.n; i++) {
		assert_int_equal(direct.sig[i], tree.sig[i]);
		assert_int_equal(direct.items[i], tree.items[i]);
		assert_int_equal(direct.buf[i]->len, tree.buf[i]->len);
		assert_memory_equal(direct.buf[i]->data, tree.buf[i]->data, tree.buf[i]->len);
		per[direct.sig[i]]++;
		items[direct.sig[i]] += direct.items[i];
	}
	/* 30 + 70 log records and the 3 span events; 12 spans; 2 metrics
	 * (items of a metrics request are its points: 2 series each) */
	assert_int_equal(items[OTF_SIGNAL_LOGS], 103);
	assert_int_equal(items[OTF_SIGNAL_TRACES], 12);
	assert_true(per[OTF_SIGNAL_LOGS] >= 7); /* 16 per request, and the 64-scope split */
	assert_true(per[OTF_SIGNAL_METRICS] >= 1);

	/* Content: what was written decodes back out of the direct requests. */
	size_t logs = 0, many = 0, spans = 0, renamed = 0, incomplete = 0, boom = 0;
	for (size_t i = 0; i < direct.n; i++) {
		otf_arena_t a;
		otf_arena_init(&a, 0);
		otf_pdata_error_t err;
		if (direct.sig[i] == OTF_SIGNAL_LOGS) {
			otf_logs_t l;
			assert_int_equal(otf_pdata_decode_logs(&l, direct.buf[i]->data,
			                                       direct.buf[i]->len, &a, NULL, &err),
			                 0);
			for (size_t r = 0; r < l.resource_logs_len; r++) {
				const otf_resource_logs_t *rl = &l.resource_logs[r];
				assert_int_equal(rl->resource.attributes.len, 2);
				assert_memory_equal(rl->resource.attributes.items[0].key.ptr,
				                    "service.name", 12);
				for (size_t s = 0; s < rl->scope_logs_len; s++) {
					const otf_scope_logs_t *sl = &rl->scope_logs[s];
					logs += sl->log_records_len;
					if (sl->scope.name.len > 5 &&
					    !memcmp(sl->scope.name.ptr, "many-", 5)) {
						many++;
						assert_int_equal(sl->log_records_len, 1);
						const otf_any_value_t *b = &sl->log_records[0].body;
						assert_int_equal(b->type, OTF_ANY_STRING);
						assert_int_equal(b->u.string_value.len,
						                 sl->scope.name.len);
						assert_memory_equal(b->u.string_value.ptr,
						                    sl->scope.name.ptr,
						                    sl->scope.name.len);
					}
				}
			}
		} else if (direct.sig[i] == OTF_SIGNAL_TRACES) {
			otf_traces_t t;
			assert_int_equal(otf_pdata_decode_traces(&t, direct.buf[i]->data,
			                                         direct.buf[i]->len, &a, NULL,
			                                         &err),
			                 0);
			for (size_t r = 0; r < t.resource_spans_len; r++)
				for (size_t s = 0; s < t.resource_spans[r].scope_spans_len; s++) {
					const otf_scope_spans_t *ss =
					    &t.resource_spans[r].scope_spans[s];
					assert_int_equal(ss->scope.name.len, 6);
					assert_memory_equal(ss->scope.name.ptr, "tracer", 6);
					for (size_t k = 0; k < ss->spans_len; k++) {
						const otf_span_t *sp = &ss->spans[k];
						spans++;
						assert_int_equal(sp->trace_id.len, 16);
						if (sp->name.len == 7 &&
						    !memcmp(sp->name.ptr, "renamed", 7))
							renamed++;
						if (sp->status.code == 2 &&
						    sp->status.message.len == 4 &&
						    !memcmp(sp->status.message.ptr, "boom", 4))
							boom++;
						for (size_t x = 0; x < sp->attributes.len; x++)
							if (sp->attributes.items[x].key.len ==
							        sizeof OTF_MMD_INCOMPLETE_KEY - 1 &&
							    !memcmp(sp->attributes.items[x].key.ptr,
							            OTF_MMD_INCOMPLETE_KEY,
							            sizeof OTF_MMD_INCOMPLETE_KEY -
							                1))
								incomplete++;
					}
				}
		}
		otf_arena_close(&a);
	}
	assert_int_equal(logs, 103);
	assert_int_equal(many, 70);
	assert_int_equal(spans, 12);
	assert_int_equal(renamed, 1);
	assert_int_equal(boom, 1);
	assert_int_equal(incomplete, 2);
	reqs_free(&direct);
	reqs_free(&tree);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_direct_equals_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
