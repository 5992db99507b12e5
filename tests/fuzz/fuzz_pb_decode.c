/* Fuzz target: protobuf input to the three decoders and the views.
 *
 * Properties checked for each signal:
 * - nothing crashes or reads out of bounds (ASan, UBSan);
 * - when the decoder accepts the input, the views accept it too and count
 *   the same resources, scopes, metrics and records;
 * - the validating walk (otf_view_validate) accepts exactly what the
 *   decoder accepts, fails with the same code at the same offset otherwise,
 *   and counts what the views count;
 * - the decoded tree re-encodes, the encoding decodes to the same counts,
 *   and encoding is a fixed point: encode(decode(encode(t))) == encode(t).
 * The Export*ServiceResponse decoders are fed the same bytes. */
#include "fuzz_common.h"

#include "otflow/arena.h"

/* Reads every field the views expose, to fuzz the readers themselves. */
static void view_walk(otf_signal_t sig, const uint8_t *data, size_t len)
{
	otf_view_iter_t rit, sit, lit, ait;
	otf_bytes_t rg, sg, rec, kv, k, v;
	otf_view_resources(&rit, data, len);
	while (otf_view_iter_next(&rit, &rg) > 0) {
		otf_view_group_t g;
		if (otf_view_group_read(rg, &g) == 0) {
			otf_view_resource_t r;
			(void)otf_view_resource_read(g.head, &r);
			otf_view_resource_attributes(&ait, g.head);
			while (otf_view_iter_next(&ait, &kv) > 0) {
				otf_view_any_t a;
				if (otf_view_kv_read(kv, &k, &v) == 0)
					(void)otf_view_any_read(v, &a);
			}
		}
		otf_view_scopes(&sit, rg);
		while (otf_view_iter_next(&sit, &sg) > 0) {
			otf_view_group_t sgv;
			otf_view_scope_t sc;
			if (otf_view_group_read(sg, &sgv) == 0)
				(void)otf_view_scope_read(sgv.head, &sc);
			otf_view_records(&lit, sg);
			while (otf_view_iter_next(&lit, &rec) > 0) {
				if (sig == OTF_SIGNAL_TRACES) {
					otf_view_span_t s;
					otf_view_event_t e;
					otf_view_link_t l;
					otf_bytes_t x;
					(void)otf_view_span_read(rec, &s);
					otf_view_iter_init(&ait, rec, OTF_VIEW_SPAN_EVENTS);
					while (otf_view_iter_next(&ait, &x) > 0)
						(void)otf_view_event_read(x, &e);
					otf_view_iter_init(&ait, rec, OTF_VIEW_SPAN_LINKS);
					while (otf_view_iter_next(&ait, &x) > 0)
						(void)otf_view_link_read(x, &l);
				} else if (sig == OTF_SIGNAL_LOGS) {
					otf_view_log_t lg;
					otf_view_any_t a;
					if (otf_view_log_read(rec, &lg) == 0)
						(void)otf_view_any_read(lg.body, &a);
				} else {
					otf_view_metric_t m;
					otf_view_dp_iter_t dit;
					otf_bytes_t dp, x;
					if (otf_view_metric_read(rec, &m) != 0)
						continue;
					otf_view_data_points(&dit, &m);
					while (otf_view_dp_next(&dit, &dp) > 0) {
						otf_view_data_point_t p;
						(void)otf_view_data_point_read(m.type, dp, &p);
						otf_view_data_point_exemplars(&ait, m.type, dp);
						while (otf_view_iter_next(&ait, &x) > 0)
							;
					}
				}
			}
		}
	}
}

static void one_signal(otf_signal_t sig, const uint8_t *data, size_t size)
{
	otf_view_counts_t vc, tc, vc2, tc2;
	int vrc = otf_view_count(sig, data, size, &vc);
	FUZZ_CHECK(vrc <= 0);
	if (vrc < 0)
		FUZZ_CHECK(vc.err_offset <= size);
	view_walk(sig, data, size);

	otf_view_counts_t xc;
	otf_pdata_error_t xerr, derr;
	int xrc = otf_view_validate(sig, data, size, NULL, &xc, &xerr);

	otf_arena_t arena;
	otf_arena_init(&arena, 0);
	tree_t t, t2;
	int drc = pb_decode_err(&t, sig, data, size, &arena, &derr);
	FUZZ_CHECK(xrc == drc);
	if (drc)
		FUZZ_CHECK(xerr.offset == derr.offset);
	if (drc == 0) {
		FUZZ_CHECK(vrc == 0);
		counts_equal(&xc, &vc);
		tree_counts(&t, &tc);
		counts_equal(&vc, &tc);

		otf_buf_t *e1 = NULL, *e2 = NULL;
		FUZZ_CHECK(pb_encode(&t, &e1) == 0);
		FUZZ_CHECK(otf_view_count(sig, e1->data, e1->len, &vc2) == 0);
		counts_equal(&vc2, &tc);
		FUZZ_CHECK(pb_decode(&t2, sig, e1->data, e1->len, &arena) == 0);
		tree_counts(&t2, &tc2);
		counts_equal(&tc2, &tc);
		FUZZ_CHECK(pb_encode(&t2, &e2) == 0);
		FUZZ_CHECK(buf_equal(e1, e2));
		otf_buf_unref(e1);
		otf_buf_unref(e2);
	}
	otf_arena_close(&arena);

	otf_export_response_t resp;
	otf_pdata_error_t err;
	if (otf_pdata_decode_response(&resp, sig, data, size, &err) == 0) {
		otf_buf_t *e = NULL;
		FUZZ_CHECK(otf_pdata_encode_response(&resp, sig, &e) == 0);
		otf_buf_unref(e);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one_signal(OTF_SIGNAL_TRACES, data, size);
	one_signal(OTF_SIGNAL_METRICS, data, size);
	one_signal(OTF_SIGNAL_LOGS, data, size);
	return 0;
}
