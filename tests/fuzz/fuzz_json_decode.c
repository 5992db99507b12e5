/* Fuzz target: OTLP/JSON input to the three JSON decoders.
 *
 * When a decoder accepts the input: the tree encodes to JSON and to
 * protobuf; the JSON decodes again to a tree with the same protobuf
 * encoding; the protobuf encoding is accepted by the views and the
 * protobuf decoder with the same counts; and JSON encoding is a fixed
 * point: json(decode_json(json(t))) == json(t). */
#include "fuzz_common.h"

#include "otflow/arena.h"

static void one_signal(otf_signal_t sig, const uint8_t *data, size_t size)
{
	otf_arena_t arena;
	otf_arena_init(&arena, 0);
	tree_t t, t2, t3;
	if (json_decode(&t, sig, data, size, &arena) != 0) {
		otf_arena_close(&arena);
		return;
	}
	otf_view_counts_t tc, c;
	tree_counts(&t, &tc);

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one_signal(OTF_SIGNAL_TRACES, data, size);
	one_signal(OTF_SIGNAL_METRICS, data, size);
	one_signal(OTF_SIGNAL_LOGS, data, size);
	return 0;
}
