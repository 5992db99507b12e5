/* Protobuf views against generated trees: every tree from the seeded
 * generator is encoded, and the views must see exactly what the tree holds
 * (counts, ids, strings, numbers, AnyValues, attributes). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/arena.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_view.h"
#include "pdata_gen.h"

#include <string.h>

static bool bytes_eq(otf_bytes_t a, otf_bytes_t b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* The view of an encoded AnyValue matches the tree's value (recursively). */
static void check_any(otf_bytes_t raw, const otf_any_value_t *v)
{
	otf_view_any_t a;
	assert_int_equal(otf_view_any_read(raw, &a), 0);
	assert_int_equal(a.type, v->type);
	otf_view_iter_t it;
	otf_bytes_t item, k, val;
	size_t n = 0;
	switch (v->type) {
	case OTF_ANY_STRING:
		assert_true(bytes_eq(a.u.bytes, v->u.string_value));
		break;
	case OTF_ANY_BYTES:
		assert_true(bytes_eq(a.u.bytes, v->u.bytes_value));
		break;
	case OTF_ANY_BOOL:
		assert_int_equal(a.u.b, v->u.bool_value);
		break;
	case OTF_ANY_INT:
		assert_int_equal(a.u.i, v->u.int_value);
		break;
	case OTF_ANY_DOUBLE:
		assert_memory_equal(&a.u.d, &v->u.double_value, sizeof(double));
		break;
	case OTF_ANY_ARRAY:
		otf_view_iter_init(&it, a.u.bytes, OTF_VIEW_ANY_ITEMS);
		while (otf_view_iter_next(&it, &item) > 0) {
			assert_true(n < v->u.array_value.values_len);
			check_any(item, &v->u.array_value.values[n++]);
		}
		assert_int_equal(n, v->u.array_value.values_len);
		break;
	case OTF_ANY_KVLIST:
		otf_view_iter_init(&it, a.u.bytes, OTF_VIEW_ANY_ITEMS);
		while (otf_view_iter_next(&it, &item) > 0) {
			assert_true(n < v->u.kvlist_value.values_len);
			assert_int_equal(otf_view_kv_read(item, &k, &val), 0);
			assert_true(bytes_eq(k, v->u.kvlist_value.values[n].key));
			check_any(val, &v->u.kvlist_value.values[n++].value);
		}
		assert_int_equal(n, v->u.kvlist_value.values_len);
		break;
	case OTF_ANY_EMPTY:
		break;
	}
}

static void check_attrs(otf_bytes_t msg, uint32_t field, const otf_attributes_t *attrs)
{
	otf_view_iter_t it;
	otf_bytes_t kv, k, v;
	size_t n = 0;
	otf_view_iter_init(&it, msg, field);
	while (otf_view_iter_next(&it, &kv) > 0) {
		assert_true(n < attrs->len);
		assert_int_equal(otf_view_kv_read(kv, &k, &v), 0);
		assert_true(bytes_eq(k, attrs->items[n].key));
		check_any(v, &attrs->items[n++].value);
	}
	assert_int_equal(it.err, 0);
	assert_int_equal(n, attrs->len);
}

static void check_span(otf_bytes_t raw, const otf_span_t *s)
{
	otf_view_span_t v;
	assert_int_equal(otf_view_span_read(raw, &v), 0);
	assert_true(bytes_eq(v.trace_id, s->trace_id) && bytes_eq(v.span_id, s->span_id));
	assert_true(bytes_eq(v.parent_span_id, s->parent_span_id));
	assert_true(bytes_eq(v.trace_state, s->trace_state) && bytes_eq(v.name, s->name));
	assert_true(bytes_eq(v.status_message, s->status.message));
	assert_int_equal(v.kind, s->kind);
	assert_int_equal(v.status_code, s->status.code);
	assert_int_equal(v.flags, s->flags);
	assert_int_equal(v.start_time_unix_nano, s->start_time_unix_nano);
	assert_int_equal(v.end_time_unix_nano, s->end_time_unix_nano);
	assert_int_equal(v.dropped_attributes_count, s->dropped_attributes_count);
	assert_int_equal(v.dropped_events_count, s->dropped_events_count);
	assert_int_equal(v.dropped_links_count, s->dropped_links_count);
	check_attrs(raw, OTF_VIEW_SPAN_ATTRIBUTES, &s->attributes);
	otf_view_iter_t it;
	otf_bytes_t x;
	size_t n = 0;
	otf_view_iter_init(&it, raw, OTF_VIEW_SPAN_EVENTS);
	while (otf_view_iter_next(&it, &x) > 0) {
		otf_view_event_t e;
		assert_true(n < s->events_len);
		assert_int_equal(otf_view_event_read(x, &e), 0);
		assert_true(bytes_eq(e.name, s->events[n].name));
		assert_int_equal(e.time_unix_nano, s->events[n].time_unix_nano);
		check_attrs(x, OTF_VIEW_EVENT_ATTRIBUTES, &s->events[n++].attributes);
	}
	assert_int_equal(n, s->events_len);
	n = 0;
	otf_view_iter_init(&it, raw, OTF_VIEW_SPAN_LINKS);
	while (otf_view_iter_next(&it, &x) > 0) {
		otf_view_link_t l;
		assert_true(n < s->links_len);
		assert_int_equal(otf_view_link_read(x, &l), 0);
		assert_true(bytes_eq(l.trace_id, s->links[n].trace_id));
		assert_int_equal(l.flags, s->links[n].flags);
		check_attrs(x, OTF_VIEW_LINK_ATTRIBUTES, &s->links[n++].attributes);
	}
	assert_int_equal(n, s->links_len);
}

static void check_log(otf_bytes_t raw, const otf_log_record_t *r)
{
	otf_view_log_t v;
	assert_int_equal(otf_view_log_read(raw, &v), 0);
	assert_int_equal(v.time_unix_nano, r->time_unix_nano);
	assert_int_equal(v.observed_time_unix_nano, r->observed_time_unix_nano);
	assert_int_equal(v.severity_number, r->severity_number);
	assert_true(bytes_eq(v.severity_text, r->severity_text));
	assert_true(bytes_eq(v.trace_id, r->trace_id) && bytes_eq(v.span_id, r->span_id));
	assert_true(bytes_eq(v.event_name, r->event_name));
	assert_int_equal(v.flags, r->flags);
	assert_int_equal(v.dropped_attributes_count, r->dropped_attributes_count);
	check_any(v.body, &r->body);
	check_attrs(raw, OTF_VIEW_LOG_ATTRIBUTES, &r->attributes);
}

static void check_metric(otf_bytes_t raw, const otf_metric_t *m)
{
	otf_view_metric_t v;
	assert_int_equal(otf_view_metric_read(raw, &v), 0);
	assert_true(bytes_eq(v.name, m->name) && bytes_eq(v.unit, m->unit));
	assert_true(bytes_eq(v.description, m->description));
	assert_int_equal(v.type, m->type);
	assert_int_equal(v.aggregation_temporality, m->aggregation_temporality);
	assert_int_equal(v.is_monotonic, m->is_monotonic);
	check_attrs(raw, OTF_VIEW_METRIC_METADATA, &m->metadata);
	otf_view_dp_iter_t it;
	otf_bytes_t dp;
	size_t n = 0;
	otf_view_data_points(&it, &v);
	while (otf_view_dp_next(&it, &dp) > 0) {
		otf_view_data_point_t d;
		assert_true(n < m->data_points_len);
		assert_int_equal(otf_view_data_point_read(v.type, dp, &d), 0);
		switch (m->type) {
		case OTF_METRIC_GAUGE:
		case OTF_METRIC_SUM: {
			const otf_number_data_point_t *p = &m->data_points.number[n];
			assert_int_equal(d.time_unix_nano, p->time_unix_nano);
			assert_int_equal(d.flags, p->flags);
			assert_int_equal(d.value_type, p->value_type);
			if (p->value_type == OTF_NUMBER_INT)
				assert_int_equal(d.value.as_int, p->value.as_int);
			check_attrs(dp, 7, &p->attributes);
			break;
		}
		case OTF_METRIC_HISTOGRAM:
			assert_int_equal(d.count, m->data_points.histogram[n].count);
			assert_int_equal(d.flags, m->data_points.histogram[n].flags);
			break;
		case OTF_METRIC_EXP_HISTOGRAM:
			assert_int_equal(d.count, m->data_points.exp_histogram[n].count);
			assert_int_equal(d.flags, m->data_points.exp_histogram[n].flags);
			break;
		case OTF_METRIC_SUMMARY:
			assert_int_equal(d.count, m->data_points.summary[n].count);
			assert_int_equal(d.start_time_unix_nano,
			                 m->data_points.summary[n].start_time_unix_nano);
			break;
		case OTF_METRIC_NONE:
			fail();
		}
		n++;
	}
	assert_int_equal(n, m->data_points_len);
}

/* Generated trees, encoded: the views see exactly what the tree holds. */
static void test_generated_trees(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 150; seed++) {
		otf_arena_t arena;
		otf_arena_init(&arena, 0);
		otf_gen_t g;
		otf_gen_init(&g, seed, 1 + (unsigned)(seed % 4), &arena);
		otf_traces_t t;
		otf_metrics_t m;
		otf_logs_t l;
		otf_gen_traces(&g, &t);
		otf_gen_metrics(&g, &m);
		otf_gen_logs(&g, &l);
		otf_buf_t *bt = NULL, *bm = NULL, *bl = NULL;
		assert_int_equal(otf_pdata_encode_traces(&t, &bt), 0);
		assert_int_equal(otf_pdata_encode_metrics(&m, &bm), 0);
		assert_int_equal(otf_pdata_encode_logs(&l, &bl), 0);

		otf_view_counts_t c;
		otf_view_iter_t rit, sit, it;
		otf_bytes_t rg, sg, rec;
		size_t nr = 0, ns = 0, nrec = 0;
		assert_int_equal(otf_view_count_traces(bt->data, bt->len, &c), 0);
		assert_int_equal(c.resources, t.resource_spans_len);
		otf_view_resources(&rit, bt->data, bt->len);
		while (otf_view_iter_next(&rit, &rg) > 0) {
			const otf_resource_spans_t *r = &t.resource_spans[nr++];
			otf_view_group_t gv;
			assert_int_equal(otf_view_group_read(rg, &gv), 0);
			assert_true(bytes_eq(gv.schema_url, r->schema_url));
			check_attrs(gv.head, 1, &r->resource.attributes);
			otf_view_scopes(&sit, rg);
			size_t si = 0;
			while (otf_view_iter_next(&sit, &sg) > 0) {
				const otf_scope_spans_t *ss = &r->scope_spans[si++];
				otf_view_scope_t sc;
				assert_int_equal(otf_view_group_read(sg, &gv), 0);
				assert_int_equal(otf_view_scope_read(gv.head, &sc), 0);
				assert_true(bytes_eq(sc.name, ss->scope.name));
				check_attrs(gv.head, 3, &ss->scope.attributes);
				otf_view_records(&it, sg);
				size_t k = 0;
				while (otf_view_iter_next(&it, &rec) > 0)
					check_span(rec, &ss->spans[k++]);
				assert_int_equal(k, ss->spans_len);
				nrec += k;
			}
			assert_int_equal(si, r->scope_spans_len);
			ns += si;
		}
		assert_true(c.scopes == ns && c.records == nrec);

		nr = ns = nrec = 0;
		assert_int_equal(otf_view_count_logs(bl->data, bl->len, &c), 0);
		assert_int_equal(c.resources, l.resource_logs_len);
		otf_view_resources(&rit, bl->data, bl->len);
		while (otf_view_iter_next(&rit, &rg) > 0) {
			const otf_resource_logs_t *r = &l.resource_logs[nr++];
			otf_view_scopes(&sit, rg);
			size_t si = 0;
			while (otf_view_iter_next(&sit, &sg) > 0) {
				const otf_scope_logs_t *sl = &r->scope_logs[si++];
				otf_view_records(&it, sg);
				size_t k = 0;
				while (otf_view_iter_next(&it, &rec) > 0)
					check_log(rec, &sl->log_records[k++]);
				assert_int_equal(k, sl->log_records_len);
				nrec += k;
			}
			ns += si;
		}
		assert_true(c.scopes == ns && c.records == nrec);

		nr = ns = nrec = 0;
		size_t nmet = 0;
		assert_int_equal(otf_view_count_metrics(bm->data, bm->len, &c), 0);
		assert_int_equal(c.resources, m.resource_metrics_len);
		otf_view_resources(&rit, bm->data, bm->len);
		while (otf_view_iter_next(&rit, &rg) > 0) {
			const otf_resource_metrics_t *r = &m.resource_metrics[nr++];
			otf_view_scopes(&sit, rg);
			size_t si = 0;
			while (otf_view_iter_next(&sit, &sg) > 0) {
				const otf_scope_metrics_t *sm = &r->scope_metrics[si++];
				otf_view_records(&it, sg);
				size_t k = 0;
				while (otf_view_iter_next(&it, &rec) > 0) {
					nrec += sm->metrics[k].data_points_len;
					check_metric(rec, &sm->metrics[k++]);
				}
				assert_int_equal(k, sm->metrics_len);
				nmet += k;
			}
			ns += si;
		}
		assert_true(c.scopes == ns && c.records == nrec && c.metrics == nmet);

		otf_buf_unref(bt);
		otf_buf_unref(bm);
		otf_buf_unref(bl);
		otf_arena_close(&arena);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_generated_trees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
