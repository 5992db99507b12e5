/* A queued request's payload (otflow/storage.h, otf_qrec_*): a version 2
 * head carries the client metadata entries in order and the body after
 * it; a version 1 record of an older otflow still parses (no metadata);
 * entries over OTF_QREC_MAX_META and empty keys are left out of the head;
 * malformed heads (short, lengths past the end, an empty key, bytes no
 * entry accounts for, another version) are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/storage.h"

#include <stdlib.h>
#include <string.h>

/* head + body in one buffer, as the WAL hands a record back */
static uint8_t *record(const char *const *k, const char *const *v, size_t n, const char *body,
                       size_t *len, size_t *kept)
{
	size_t hl = otf_qrec_head_size(k, v, n), bl = strlen(body);
	uint8_t *p = malloc(hl + bl);
	assert_non_null(p);
	assert_int_equal(otf_qrec_encode_head(p, hl, 2, 42, k, v, n, kept), hl);
	memcpy(p + hl, body, bl);
	*len = hl + bl;
	return p;
}

static void test_v2_roundtrip(void **state)
{
	(void)state;
	const char *k[] = {"X-Tenant", "authorization", "empty-value"};
	const char *v[] = {"acme", "Bearer t0k", ""};
	size_t len, kept;
	uint8_t *p = record(k, v, 3, "BODY", &len, &kept);
	assert_int_equal(kept, 3);
	otf_qrec_t r;
	assert_int_equal(otf_qrec_parse(p, len, &r), 0);
	assert_int_equal(r.version, OTF_QREC_V2);
	assert_int_equal(r.signal, 2);
	assert_int_equal(r.items, 42);
	assert_int_equal(r.nmeta, 3);
	assert_int_equal(r.body_len, 4);
	assert_memory_equal(r.body, "BODY", 4);
	otf_qrec_entry_t e;
	size_t off = 0;
	for (int i = 0; i < 3; i++) {
		assert_true(otf_qrec_meta_next(&r, &off, &e));
		assert_int_equal(e.key_len, strlen(k[i]));
		assert_memory_equal(e.key, k[i], e.key_len);
		assert_int_equal(e.value_len, strlen(v[i]));
		assert_memory_equal(e.value, v[i], e.value_len);
	}
	assert_false(otf_qrec_meta_next(&r, &off, &e));
	/* A cap too small writes nothing and tells the size. */
	uint8_t small[4] = {9, 9, 9, 9};
	assert_int_equal(otf_qrec_encode_head(small, sizeof small, 2, 42, k, v, 3, &kept),
	                 otf_qrec_head_size(k, v, 3));
	assert_int_equal(small[0], 9);
	free(p);
}

static void test_v1_still_read(void **state)
{
	(void)state;
	/* version 1: u8 1, u8 signal, u64 items, body */
	uint8_t p[14] = {1, 0, 7, 0, 0, 0, 0, 0, 0, 0, 'a', 'b', 'c', 'd'};
	otf_qrec_t r;
	assert_int_equal(otf_qrec_parse(p, sizeof p, &r), 0);
	assert_int_equal(r.version, OTF_QREC_V1);
	assert_int_equal(r.signal, 0);
	assert_int_equal(r.items, 7);
	assert_int_equal(r.nmeta, 0);
	assert_int_equal(r.body_len, 4);
	assert_memory_equal(r.body, "abcd", 4);
}

static void test_limits(void **state)
{
	(void)state;
	/* An entry that would pass OTF_QREC_MAX_META is left out, the
	 * following small one is kept; an empty key is left out. */
	char *big = malloc(OTF_QREC_MAX_META);
	assert_non_null(big);
	memset(big, 'x', OTF_QREC_MAX_META - 1);
	big[OTF_QREC_MAX_META - 1] = 0;
	const char *k[] = {"a", "big", "", "b"};
	const char *v[] = {"1", big, "dropped", "2"};
	size_t len, kept;
	uint8_t *p = record(k, v, 4, "", &len, &kept);
	assert_int_equal(kept, 2);
	otf_qrec_t r;
	assert_int_equal(otf_qrec_parse(p, len, &r), 0);
	assert_int_equal(r.nmeta, 2);
	assert_int_equal(r.body_len, 0);
	otf_qrec_entry_t e;
	size_t off = 0;
	assert_true(otf_qrec_meta_next(&r, &off, &e));
	assert_memory_equal(e.key, "a", 1);
	assert_true(otf_qrec_meta_next(&r, &off, &e));
	assert_memory_equal(e.key, "b", 1);
	assert_memory_equal(e.value, "2", 1);
	free(p);
	free(big);
}

static void test_malformed(void **state)
{
	(void)state;
	const char *k[] = {"key"};
	const char *v[] = {"value"};
	size_t len, kept;
	uint8_t *p = record(k, v, 1, "B", &len, &kept);
	otf_qrec_t r;
	/* every cut inside the head is refused (the body may be empty) */
	for (size_t n = 0; n < len - 1; n++)
		assert_int_equal(otf_qrec_parse(p, n, &r), OTF_E_INVAL);
	uint8_t *q = malloc(len);
	assert_non_null(q);
	/* another version */
	memcpy(q, p, len);
	q[0] = 3;
	assert_int_equal(otf_qrec_parse(q, len, &r), OTF_E_INVAL);
	/* a count larger than the entries */
	memcpy(q, p, len);
	q[14] = 2;
	assert_int_equal(otf_qrec_parse(q, len, &r), OTF_E_INVAL);
	/* a count smaller: bytes no entry accounts for */
	memcpy(q, p, len);
	q[14] = 0;
	assert_int_equal(otf_qrec_parse(q, len, &r), OTF_E_INVAL);
	/* an empty key */
	memcpy(q, p, len);
	q[18] = 0;
	q[19] = 0;
	assert_int_equal(otf_qrec_parse(q, len, &r), OTF_E_INVAL);
	/* a value length past meta_len */
	memcpy(q, p, len);
	q[20] = 0xff;
	assert_int_equal(otf_qrec_parse(q, len, &r), OTF_E_INVAL);
	/* meta_len past the record */
	memcpy(q, p, len);
	q[10] = 0xff;
	q[11] = 0x7f;
	assert_int_equal(otf_qrec_parse(q, len, &r), OTF_E_INVAL);
	free(q);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v2_roundtrip),
	    cmocka_unit_test(test_v1_still_read),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
