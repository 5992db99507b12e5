/* Fuzz target: OTLP/JSON input to the three JSON decoders.
 *
 * The pre-scan (otf_pdata_json_prescan) runs on every input and, when a
 * decoder accepts it, counts at least the items the tree holds.
 * When a decoder accepts the input: the tree encodes to JSON and to
 * protobuf; the JSON decodes again to a tree with the same protobuf
 * encoding; the protobuf encoding is accepted by the views and the
 * protobuf decoder with the same counts; and JSON encoding is a fixed
 * point: json(decode_json(json(t))) == json(t). */
#include "fuzz_common.h"

#include "otflow/arena.h"

static void one_signal(otf_signal_t sig, const uint8_t *data, size_t size)
{
	otf_pdata_json_counts_t any;
	(void)otf_pdata_json_prescan((const char *)data, size, NULL, &any, NULL);
	otf_arena_t arena;
	otf_arena_init(&arena, 0);
	tree_t t, t2, t3;
	if (json_decode(&t, sig, data, size, &arena) != 0) {
		otf_arena_close(&arena);
		return;
	}
	otf_view_counts_t tc, c;
	tree_counts(&t, &tc);
	/* the pre-scan never counts fewer items than the decoder built */
	otf_pdata_json_counts_t pc;
	FUZZ_CHECK(otf_pdata_json_prescan((const char *)data, size, NULL, &pc, NULL) == 0);
	FUZZ_CHECK(pc.items + pc.attributes >= tc.resources + tc.scopes + tc.records);

	otf_buf_t *j1 = NULL, *j2 = NULL, *p1 = NULL, *p2 = NULL;
	FUZZ_CHECK(json_encode(&t, &j1) == 0);
	FUZZ_CHECK(pb_encode(&t, &p1) == 0);

	FUZZ_CHECK(json_decode(&t2, sig, j1->data, j1->len, &arena) == 0);
	tree_counts(&t2, &c);
	counts_equal(&c, &tc);
	FUZZ_CHECK(pb_encode(&t2, &p2) == 0);
	FUZZ_CHECK(buf_equal(p1, p2));

	FUZZ_CHECK(otf_view_count(sig, p1->data, p1->len, &c) == 0);
	counts_equal(&c, &tc);
	FUZZ_CHECK(pb_decode(&t3, sig, p1->data, p1->len, &arena) == 0);
	tree_counts(&t3, &c);
	counts_equal(&c, &tc);
	FUZZ_CHECK(json_encode(&t3, &j2) == 0);
	FUZZ_CHECK(buf_equal(j1, j2));

	otf_buf_unref(j1);
	otf_buf_unref(j2);
	otf_buf_unref(p1);
	otf_buf_unref(p2);
	otf_arena_close(&arena);
}

static bool has(const uint8_t *data, size_t size, const char *a, const char *b)
{
	return memmem(data, size, a, strlen(a)) || memmem(data, size, b, strlen(b));
}

/* A decoder accepts any object without its top-level key as an empty
 * request, so running all three decoders on every input spent most runs on
 * "empty request" for no coverage (with the former json-c decoder, which
 * allocated per JSON value, it also tripled the allocations ASan records).
 * So only the signals whose top-level key occurs in the input are run
 * (traces for inputs with none, which covers the shared "empty or unknown"
 * paths once). A key spelled with \u escapes is missed, which loses that
 * signal for that input, never a check. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool t = has(data, size, "resourceSpans", "resource_spans");
	bool m = has(data, size, "resourceMetrics", "resource_metrics");
	bool l = has(data, size, "resourceLogs", "resource_logs");
	if (t || (!m && !l))
		one_signal(OTF_SIGNAL_TRACES, data, size);
	if (m)
		one_signal(OTF_SIGNAL_METRICS, data, size);
	if (l)
		one_signal(OTF_SIGNAL_LOGS, data, size);
	return 0;
}
