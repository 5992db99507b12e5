/* Randomized property tests of the OTLP codecs (protobuf and JSON), driven by
 * the seeded generator in tests/support/pdata_gen.c.
 *
 * Properties, for each signal:
 * - decode(encode(x)) == x, and encode(decode(encode(x))) is byte-identical
 *   to encode(x) (the encoder is canonical);
 * - the same round trip through OTLP/JSON;
 * - every prefix of a valid encoding either fails with a negative code or
 *   decodes; a prefix that ends on a top-level field boundary is itself a
 *   valid message and must decode to the first k top-level elements, and a
 *   prefix that cuts inside a top-level field must fail;
 * - every strict prefix of a JSON encoding fails (JSON objects close last);
 * - single-byte corruptions never crash, and whatever still decodes is a
 *   valid tree: it re-encodes and round-trips.
 *
 * Every decoder input is copied into a heap block of exactly its length, so
 * an out-of-bounds read is caught by the sanitizer build instead of landing
 * in spare buffer capacity.
 *
 * A failure message names the seed; replay it with the generator. Set
 * OTF_PROPERTY_SEEDS to run more (or fewer) seeds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_view.h"
#include "pdata_eq.h"
#include "pdata_gen.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- one table of operations per signal, so every property is written
 * once ---- */

typedef union tree {
	otf_traces_t traces;
	otf_metrics_t metrics;
	otf_logs_t logs;
} tree_t;

typedef struct sig {
	const char *name;
	void (*gen)(otf_gen_t *g, tree_t *t);
	int (*enc)(const tree_t *t, otf_buf_t **out);
	int (*dec)(tree_t *t, const uint8_t *p, size_t n, otf_arena_t *a, otf_pdata_error_t *err);
	int (*jenc)(const tree_t *t, otf_buf_t **out);
	int (*jdec)(tree_t *t, const char *p, size_t n, otf_arena_t *a, otf_pdata_error_t *err);
	bool (*eq)(const tree_t *a, const tree_t *b, char *diff, size_t size);
	/* Keeps only the first k top-level elements (resource_*). */
	void (*truncate)(tree_t *t, size_t k);
} sigops_t;

#define SIG_OPS(S, TOP)                                                               \
	static void S##_gen(otf_gen_t *g, tree_t *t)                                  \
	{                                                                             \
		otf_gen_##S(g, &t->S);                                                \
	}                                                                             \
	static int S##_enc(const tree_t *t, otf_buf_t **out)                          \
	{                                                                             \
		return otf_pdata_encode_##S(&t->S, out);                              \
	}                                                                             \
	static int S##_dec(tree_t *t, const uint8_t *p, size_t n, otf_arena_t *a,     \
	                   otf_pdata_error_t *err)                                    \
	{                                                                             \
		return otf_pdata_decode_##S(&t->S, p, n, a, NULL, err);               \
	}                                                                             \
	static int S##_jenc(const tree_t *t, otf_buf_t **out)                         \
	{                                                                             \
		return otf_pdata_json_encode_##S(&t->S, out);                         \
	}                                                                             \
	static int S##_jdec(tree_t *t, const char *p, size_t n, otf_arena_t *a,       \
	                    otf_pdata_error_t *err)                                   \
	{                                                                             \
		return otf_pdata_json_decode_##S(&t->S, p, n, a, NULL, err);          \
	}                                                                             \
	static bool S##_eq(const tree_t *a, const tree_t *b, char *diff, size_t size) \
	{                                                                             \
		return otf_eq_##S(&a->S, &b->S, diff, size);                          \
	}                                                                             \
	static void S##_truncate(tree_t *t, size_t k)                                 \
	{                                                                             \
		t->S.TOP##_len = k;                                                   \
	}                                                                             \
	static const sigops_t sig_##S = {#S,       S##_gen,  S##_enc, S##_dec,        \
	                                 S##_jenc, S##_jdec, S##_eq,  S##_truncate};

SIG_OPS(traces, resource_spans)
SIG_OPS(metrics, resource_metrics)
SIG_OPS(logs, resource_logs)

static unsigned seeds(void)
{
	const char *s = getenv("OTF_PROPERTY_SEEDS");
	return s && atoi(s) > 0 ? (unsigned)atoi(s) : 500u;
}

/* Seeds are spread over a 64-bit space per signal so the signals do not
 * share generator streams. */
static uint64_t seed_of(const sigops_t *s, unsigned i)
{
	return ((uint64_t)(s->name[0]) << 40) + i;
}

/* A heap copy of exactly n bytes (see the file comment). malloc(0) may
 * return NULL, so empty inputs get one byte that the decoder must not read
 * (ASan cannot catch that, but n = 0 has nothing to read anyway). */
static uint8_t *exact_copy(const void *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);
	assert_non_null(c);
	if (n)
		memcpy(c, p, n);
	return c;
}

static void gen_tree(const sigops_t *s, uint64_t seed, unsigned size, otf_arena_t *a, tree_t *t)
{
	otf_gen_t g;
	otf_gen_init(&g, seed, size, a);
	s->gen(&g, t);
}

static const char *errstr(const otf_pdata_error_t *err, char *buf, size_t size)
{
	return otf_pdata_error_format(err, buf, size);
}

/* ---- protobuf round trip ---- */

static void pb_roundtrip(const sigops_t *s)
{
	unsigned n = seeds();
	size_t total = 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t seed = seed_of(s, i);
		otf_arena_t a1, a2;
		otf_arena_init(&a1, 0);
		otf_arena_init(&a2, 0);
		tree_t t, back;
		gen_tree(s, seed, 1 + i % 4, &a1, &t);

		otf_buf_t *b1 = NULL, *b2 = NULL;
		int rc = s->enc(&t, &b1);
		if (rc)
			fail_msg("%s seed %" PRIu64 ": encode: %s", s->name, seed,
			         otf_err_name(rc));
		total += b1->len;
		uint8_t *in = exact_copy(b1->data, b1->len);
		otf_pdata_error_t err;
		rc = s->dec(&back, in, b1->len, &a2, &err);
		if (rc) {
			char m[512];
			fail_msg("%s seed %" PRIu64 ": decode: %s", s->name, seed,
			         errstr(&err, m, sizeof m));
		}
		char diff[1024];
		if (!s->eq(&t, &back, diff, sizeof diff))
			fail_msg("%s seed %" PRIu64 ": decode(encode(x)) != x: %s", s->name, seed,
			         diff);
		rc = s->enc(&back, &b2);
		if (rc)
			fail_msg("%s seed %" PRIu64 ": re-encode: %s", s->name, seed,
			         otf_err_name(rc));
		if (b1->len != b2->len || memcmp(b1->data, b2->data, b1->len) != 0)
			fail_msg("%s seed %" PRIu64 ": re-encoding differs (%zu vs %zu bytes)",
			         s->name, seed, b1->len, b2->len);
		free(in);
		otf_buf_unref(b1);
		otf_buf_unref(b2);
		otf_arena_close(&a1);
		otf_arena_close(&a2);
	}
	print_message("%s: %u seeds, %zu bytes encoded\n", s->name, n, total);
}

static void test_pb_roundtrip_traces(void **state)
{
	(void)state;
	pb_roundtrip(&sig_traces);
}

static void test_pb_roundtrip_metrics(void **state)
{
	(void)state;
	pb_roundtrip(&sig_metrics);
}

static void test_pb_roundtrip_logs(void **state)
{
	(void)state;
	pb_roundtrip(&sig_logs);
}

/* ---- JSON round trip ---- */

static void json_roundtrip(const sigops_t *s)
{
	unsigned n = seeds();
	for (unsigned i = 0; i < n; i++) {
		uint64_t seed = seed_of(s, i);
		otf_arena_t a1, a2;
		otf_arena_init(&a1, 0);
		otf_arena_init(&a2, 0);
		tree_t t, back;
		gen_tree(s, seed, 1 + i % 4, &a1, &t);

		otf_buf_t *j1 = NULL, *j2 = NULL;
		int rc = s->jenc(&t, &j1);
		if (rc)
			fail_msg("%s seed %" PRIu64 ": JSON encode: %s", s->name, seed,
			         otf_err_name(rc));
		/* not NUL-terminated on purpose: the API takes a length */
		char *in = (char *)exact_copy(j1->data, j1->len);
		otf_pdata_error_t err;
		rc = s->jdec(&back, in, j1->len, &a2, &err);
		if (rc) {
			char m[512];
			fail_msg("%s seed %" PRIu64 ": JSON decode: %s\n%.*s", s->name, seed,
			         errstr(&err, m, sizeof m), (int)(j1->len < 2000 ? j1->len : 2000),
			         (const char *)j1->data);
		}
		char diff[1024];
		if (!s->eq(&t, &back, diff, sizeof diff))
			fail_msg("%s seed %" PRIu64 ": json_decode(json_encode(x)) != x: %s",
			         s->name, seed, diff);
		rc = s->jenc(&back, &j2);
		assert_int_equal(rc, 0);
		if (j1->len != j2->len || memcmp(j1->data, j2->data, j1->len) != 0)
			fail_msg("%s seed %" PRIu64 ": JSON re-encoding differs", s->name, seed);
		free(in);
		otf_buf_unref(j1);
		otf_buf_unref(j2);
		otf_arena_close(&a1);
		otf_arena_close(&a2);
	}
}

static void test_json_roundtrip_traces(void **state)
{
	(void)state;
	json_roundtrip(&sig_traces);
}

static void test_json_roundtrip_metrics(void **state)
{
	(void)state;
	json_roundtrip(&sig_metrics);
}

static void test_json_roundtrip_logs(void **state)
{
	(void)state;
	json_roundtrip(&sig_logs);
}

/* ---- truncation ---- */

/* Offsets where top-level fields end, found with a tiny independent wire
 * reader (not the codec's): boundaries[0] = 0, then one per field. */
static size_t top_level_boundaries(const uint8_t *p, size_t n, size_t *out, size_t max)
{
	size_t k = 0, off = 0;
	out[k++] = 0;
	while (off < n && k < max) {
		uint64_t v = 0;
		for (int shift = 0; off < n; shift += 7) {
			uint8_t byte = p[off++];
			v |= (uint64_t)(byte & 0x7f) << shift;
			if (!(byte & 0x80))
				break;
		}
		assert_int_equal(v & 7, 2); /* every top-level field is a message */
		uint64_t len = 0;
		for (int shift = 0; off < n; shift += 7) {
			uint8_t byte = p[off++];
			len |= (uint64_t)(byte & 0x7f) << shift;
			if (!(byte & 0x80))
				break;
		}
		off += (size_t)len;
		assert_true(off <= n);
		out[k++] = off;
	}
	return k;
}

static void truncation(const sigops_t *s)
{
	int checked = 0;
	for (unsigned i = 0; checked < 12 && i < 400; i++) {
		uint64_t seed = seed_of(s, 100000 + i);
		otf_arena_t a1, a2;
		otf_arena_init(&a1, 0);
		otf_arena_init(&a2, 0);
		tree_t t, back;
		gen_tree(s, seed, 2, &a1, &t);
		otf_buf_t *b = NULL;
		assert_int_equal(s->enc(&t, &b), 0);
		/* small but non-trivial messages: every prefix is O(n^2) work */
		if (b->len < 40 || b->len > 3000) {
			otf_buf_unref(b);
			otf_arena_close(&a1);
			otf_arena_close(&a2);
			continue;
		}
		checked++;
		size_t bounds[64];
		size_t nb = top_level_boundaries(b->data, b->len, bounds, 64);
		size_t next = 0; /* index of the next boundary >= len */
		for (size_t len = 0; len < b->len; len++) {
			while (bounds[next] < len)
				next++;
			bool at_boundary = bounds[next] == len;
			uint8_t *in = exact_copy(b->data, len);
			otf_pdata_error_t err;
			memset(&err, 0, sizeof err);
			otf_arena_reset(&a2);
			int rc = s->dec(&back, in, len, &a2, &err);
			if (at_boundary) {
				char m[512], diff[1024];
				if (rc)
					fail_msg("%s seed %" PRIu64 ": prefix %zu/%zu on a field "
					         "boundary fails: %s",
					         s->name, seed, len, b->len,
					         errstr(&err, m, sizeof m));
				tree_t want = t;
				s->truncate(&want, next);
				if (!s->eq(&want, &back, diff, sizeof diff))
					fail_msg("%s seed %" PRIu64 ": prefix %zu: %s", s->name,
					         seed, len, diff);
			} else {
				if (rc >= 0)
					fail_msg("%s seed %" PRIu64
					         ": prefix %zu/%zu cuts a field but "
					         "decodes",
					         s->name, seed, len, b->len);
				assert_int_equal(err.code, rc);
				if (err.offset > len)
					fail_msg("%s seed %" PRIu64
					         ": prefix %zu: error offset %zu "
					         "past the end",
					         s->name, seed, len, err.offset);
			}
			free(in);
		}
		assert_true(nb >= 1);
		otf_buf_unref(b);
		otf_arena_close(&a1);
		otf_arena_close(&a2);
	}
	assert_true(checked >= 5);
}

static void test_pb_truncation_traces(void **state)
{
	(void)state;
	truncation(&sig_traces);
}

static void test_pb_truncation_metrics(void **state)
{
	(void)state;
	truncation(&sig_metrics);
}

static void test_pb_truncation_logs(void **state)
{
	(void)state;
	truncation(&sig_logs);
}

/* Every strict prefix of a JSON encoding must fail: the closing brace of the
 * top-level object comes last. */
static void json_truncation(const sigops_t *s)
{
	int checked = 0;
	for (unsigned i = 0; checked < 6 && i < 400; i++) {
		uint64_t seed = seed_of(s, 200000 + i);
		otf_arena_t a1, a2;
		otf_arena_init(&a1, 0);
		otf_arena_init(&a2, 0);
		tree_t t, back;
		gen_tree(s, seed, 2, &a1, &t);
		otf_buf_t *j = NULL;
		assert_int_equal(s->jenc(&t, &j), 0);
		if (j->len < 40 || j->len > 4000) {
			otf_buf_unref(j);
			otf_arena_close(&a1);
			otf_arena_close(&a2);
			continue;
		}
		checked++;
		for (size_t len = 0; len < j->len; len++) {
			char *in = (char *)exact_copy(j->data, len);
			otf_pdata_error_t err;
			otf_arena_reset(&a2);
			int rc = s->jdec(&back, in, len, &a2, &err);
			if (rc >= 0)
				fail_msg("%s seed %" PRIu64 ": JSON prefix %zu/%zu decodes",
				         s->name, seed, len, j->len);
			assert_int_equal(err.code, rc);
			free(in);
		}
		otf_buf_unref(j);
		otf_arena_close(&a1);
		otf_arena_close(&a2);
	}
	assert_true(checked >= 3);
}

static void test_json_truncation(void **state)
{
	(void)state;
	json_truncation(&sig_traces);
	json_truncation(&sig_metrics);
	json_truncation(&sig_logs);
}

/* ---- corruption ---- */

static otf_signal_t signal_of(const sigops_t *s)
{
	return s->name[0] == 't'   ? OTF_SIGNAL_TRACES
	       : s->name[0] == 'm' ? OTF_SIGNAL_METRICS
	                           : OTF_SIGNAL_LOGS;
}

/* Decodes a corrupted input; if it decodes, the tree must be a valid one:
 * it encodes, and that encoding round-trips. The validating views walk
 * must agree with the decoder: same verdict, same code, path and offset
 * (depth failures name the holder, not the nesting: code and offset), and
 * on success the count functions' counts. */
static void check_corrupt(const sigops_t *s, uint64_t seed, const uint8_t *data, size_t len,
                          otf_arena_t *a, size_t pos)
{
	uint8_t *in = exact_copy(data, len);
	otf_pdata_error_t err, verr;
	otf_view_counts_t vc, cc;
	tree_t t, back;
	otf_arena_reset(a);
	int rc = s->dec(&t, in, len, a, &err);
	int vrc = otf_view_validate(signal_of(s), in, len, NULL, &vc, &verr);
	if (vrc != rc || (rc && (verr.offset != err.offset ||
	                         (rc != OTF_E_DEPTH && strcmp(verr.path, err.path)))))
		fail_msg("%s seed %" PRIu64 " byte %zu: decoder %s at %zu (%s), validate %s at %zu "
		         "(%s)",
		         s->name, seed, pos, otf_err_name(rc), err.offset, err.path,
		         otf_err_name(vrc), verr.offset, verr.path);
	if (rc == 0) {
		assert_int_equal(otf_view_count(signal_of(s), in, len, &cc), 0);
		assert_int_equal(vc.resources, cc.resources);
		assert_int_equal(vc.scopes, cc.scopes);
		assert_int_equal(vc.metrics, cc.metrics);
		assert_int_equal(vc.records, cc.records);
	}
	if (rc < 0) {
		assert_int_equal(err.code, rc);
		free(in);
		return;
	}
	assert_int_equal(rc, 0);
	otf_buf_t *b1 = NULL, *b2 = NULL;
	rc = s->enc(&t, &b1);
	if (rc)
		fail_msg("%s seed %" PRIu64 " byte %zu: decoded tree does not encode: %s", s->name,
		         seed, pos, otf_err_name(rc));
	otf_arena_t a2;
	otf_arena_init(&a2, 0);
	rc = s->dec(&back, b1->data, b1->len, &a2, &err);
	assert_int_equal(rc, 0);
	char diff[1024];
	if (!s->eq(&t, &back, diff, sizeof diff))
		fail_msg("%s seed %" PRIu64
		         " byte %zu: corrupted input decodes to a tree that does "
		         "not round-trip: %s",
		         s->name, seed, pos, diff);
	assert_int_equal(s->enc(&back, &b2), 0);
	assert_int_equal(b1->len, b2->len);
	assert_memory_equal(b1->data, b2->data, b1->len);
	otf_buf_unref(b1);
	otf_buf_unref(b2);
	otf_arena_close(&a2);
	free(in);
}

static void corruption(const sigops_t *s)
{
	unsigned n = seeds() / 5 + 1;
	for (unsigned i = 0; i < n; i++) {
		uint64_t seed = seed_of(s, 300000 + i);
		otf_arena_t a1, a2;
		otf_arena_init(&a1, 0);
		otf_arena_init(&a2, 0);
		tree_t t;
		gen_tree(s, seed, 1 + i % 3, &a1, &t);
		otf_buf_t *b = NULL;
		assert_int_equal(s->enc(&t, &b), 0);
		if (b->len == 0) {
			otf_buf_unref(b);
			otf_arena_close(&a1);
			otf_arena_close(&a2);
			continue;
		}
		uint8_t *work = exact_copy(b->data, b->len);
		otf_gen_t rnd;
		otf_gen_init(&rnd, seed ^ 0x5eed, 0, &a1);
		if (b->len <= 400) {
			/* small: every position with the values that turn varints,
       * tags and lengths into their edge cases */
			static const uint8_t vals[] = {0x00, 0x01, 0x7f, 0x80, 0xff};
			for (size_t pos = 0; pos < b->len; pos++) {
				uint8_t orig = work[pos];
				for (size_t v = 0; v < sizeof vals; v++) {
					work[pos] = vals[v];
					check_corrupt(s, seed, work, b->len, &a2, pos);
					work[pos] = orig ^ (uint8_t)(1u << v);
					check_corrupt(s, seed, work, b->len, &a2, pos);
				}
				work[pos] = orig;
			}
		} else {
			for (int k = 0; k < 60; k++) {
				size_t pos = (size_t)otf_gen_below(&rnd, b->len);
				uint8_t orig = work[pos];
				work[pos] = (uint8_t)otf_gen_u64(&rnd);
				check_corrupt(s, seed, work, b->len, &a2, pos);
				work[pos] = orig;
			}
		}
		free(work);
		otf_buf_unref(b);
		otf_arena_close(&a1);
		otf_arena_close(&a2);
	}
}

static void test_pb_corruption_traces(void **state)
{
	(void)state;
	corruption(&sig_traces);
}

static void test_pb_corruption_metrics(void **state)
{
	(void)state;
	corruption(&sig_metrics);
}

static void test_pb_corruption_logs(void **state)
{
	(void)state;
	corruption(&sig_logs);
}

/* ---- export responses ---- */

static void test_response_roundtrip(void **state)
{
	(void)state;
	static const otf_signal_t sigs[] = {OTF_SIGNAL_TRACES, OTF_SIGNAL_METRICS, OTF_SIGNAL_LOGS};
	for (size_t si = 0; si < 3; si++) {
		for (unsigned i = 0; i < 200; i++) {
			uint64_t seed = ((uint64_t)(si + 1) << 44) + i;
			otf_arena_t a;
			otf_arena_init(&a, 0);
			otf_gen_t g;
			otf_gen_init(&g, seed, 3, &a);
			otf_export_response_t r, back;
			otf_gen_response(&g, &r);
			char diff[512];

			otf_buf_t *b1 = NULL, *b2 = NULL;
			assert_int_equal(otf_pdata_encode_response(&r, sigs[si], &b1), 0);
			uint8_t *in = exact_copy(b1->data, b1->len);
			otf_pdata_error_t err;
			assert_int_equal(
			    otf_pdata_decode_response(&back, sigs[si], in, b1->len, &err), 0);
			if (!otf_eq_response(&r, &back, diff, sizeof diff))
				fail_msg("response seed %" PRIu64 ": %s", seed, diff);
			assert_int_equal(otf_pdata_encode_response(&back, sigs[si], &b2), 0);
			assert_int_equal(b1->len, b2->len);
			assert_memory_equal(b1->data, b2->data, b1->len);
			free(in);
			otf_buf_unref(b1);
			otf_buf_unref(b2);

			assert_int_equal(otf_pdata_json_encode_response(&r, sigs[si], &b1), 0);
			in = exact_copy(b1->data, b1->len);
			int rc = otf_pdata_json_decode_response(&back, sigs[si], (const char *)in,
			                                        b1->len, &a, &err);
			if (rc)
				fail_msg("response seed %" PRIu64 ": JSON decode %s: %.*s", seed,
				         otf_err_name(rc), (int)b1->len, (const char *)b1->data);
			if (!otf_eq_response(&r, &back, diff, sizeof diff))
				fail_msg("response seed %" PRIu64 " (JSON %.*s): %s", seed,
				         (int)b1->len, (const char *)b1->data, diff);
			free(in);
			otf_buf_unref(b1);
			otf_arena_close(&a);
		}
	}
}

/* ---- the harness itself ---- */

/* The generator is deterministic, and the equality notices a change deep in
 * the tree and names it; without this a broken harness passes everything. */
static void test_harness(void **state)
{
	(void)state;
	otf_arena_t a1, a2;
	otf_arena_init(&a1, 0);
	otf_arena_init(&a2, 0);
	char diff[1024];
	bool found = false;
	for (unsigned i = 0; i < 200 && !found; i++) {
		tree_t x, y;
		gen_tree(&sig_traces, i, 3, &a1, &x);
		gen_tree(&sig_traces, i, 3, &a2, &y);
		assert_true(otf_eq_traces(&x.traces, &y.traces, diff, sizeof diff));
		if (x.traces.resource_spans_len < 2)
			continue;
		otf_resource_spans_t *rs = &y.traces.resource_spans[1];
		for (size_t j = 0; j < rs->scope_spans_len && !found; j++) {
			if (rs->scope_spans[j].spans_len == 0)
				continue;
			rs->scope_spans[j].spans[0].end_time_unix_nano ^= 1;
			assert_false(otf_eq_traces(&x.traces, &y.traces, diff, sizeof diff));
			char want[128];
			snprintf(
			    want, sizeof want,
			    "resource_spans[1].scope_spans[%zu].spans[0].end_time_unix_nano: ", j);
			if (strncmp(diff, want, strlen(want)) != 0)
				fail_msg("unexpected diff path: %s", diff);
			found = true;
		}
	}
	assert_true(found);

	/* -0.0 and 0.0 differ bitwise */
	otf_any_value_t p = {.type = OTF_ANY_DOUBLE, .u.double_value = 0.0};
	otf_any_value_t m = {.type = OTF_ANY_DOUBLE, .u.double_value = -0.0};
	assert_false(otf_eq_any(&p, &m, diff, sizeof diff));
	assert_non_null(strstr(diff, "u.double_value"));
	otf_arena_close(&a1);
	otf_arena_close(&a2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_harness),
	    cmocka_unit_test(test_pb_roundtrip_traces),
	    cmocka_unit_test(test_pb_roundtrip_metrics),
	    cmocka_unit_test(test_pb_roundtrip_logs),
	    cmocka_unit_test(test_json_roundtrip_traces),
	    cmocka_unit_test(test_json_roundtrip_metrics),
	    cmocka_unit_test(test_json_roundtrip_logs),
	    cmocka_unit_test(test_pb_truncation_traces),
	    cmocka_unit_test(test_pb_truncation_metrics),
	    cmocka_unit_test(test_pb_truncation_logs),
	    cmocka_unit_test(test_json_truncation),
	    cmocka_unit_test(test_pb_corruption_traces),
	    cmocka_unit_test(test_pb_corruption_metrics),
	    cmocka_unit_test(test_pb_corruption_logs),
	    cmocka_unit_test(test_response_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
