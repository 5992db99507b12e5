/* Core: error table, counted allocator with failure injection, arena,
 * refcounted buffers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/alloc.h"
#include "otflow/arena.h"
#include "otflow/buf.h"
#include "otflow/err.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

static void test_err_table(void **state)
{
	(void)state;
	assert_string_equal(otf_err_name(OTF_OK), "OK");
	assert_string_equal(otf_err_name(OTF_E_UTF8), "OTF_E_UTF8");
	assert_string_equal(otf_strerror(OTF_E_UTF8), "string is not valid UTF-8");
	assert_string_equal(otf_err_name(-ENOMEM), "ENOMEM");
	assert_non_null(strstr(otf_strerror(-ENOENT), "No such file"));
	assert_string_equal(otf_err_name(12345), "UNKNOWN");
	/* Our codes never collide with errno values. */
	assert_true(OTF_E_INVAL < -4000 && OTF_E_IO > -5000);
}

static void test_alloc_counts_and_fails(void **state)
{
	(void)state;
	otf_alloc_stats_t a, b;
	otf_alloc_stats(&a);
	void *p = otf_malloc(1000);
	assert_non_null(p);
	otf_alloc_stats(&b);
	assert_int_equal(b.bytes_in_use - a.bytes_in_use, 1000);
	p = otf_realloc(p, 3000);
	assert_non_null(p);
	otf_alloc_stats(&b);
	assert_int_equal(b.bytes_in_use - a.bytes_in_use, 3000);
	otf_free(p);
	otf_alloc_stats(&b);
	assert_int_equal(b.bytes_in_use, a.bytes_in_use);

	otf_alloc_fail_after(1);
	void *ok = otf_malloc(8);
	void *fail = otf_malloc(8);
	otf_alloc_fail_after(-1);
	assert_non_null(ok);
	assert_null(fail);
	otf_free(ok);
	otf_alloc_stats(&b);
	assert_int_equal(b.failed_total - a.failed_total, 1);
	/* overflow is refused, not wrapped */
	assert_null(otf_calloc(SIZE_MAX / 2, 4));
}

static void test_arena(void **state)
{
	(void)state;
	otf_arena_t a;
	otf_arena_init(&a, 1024);
	uint8_t *first = otf_arena_alloc(&a, 10);
	assert_non_null(first);
	assert_int_equal((uintptr_t)first % 8, 0);
	uint8_t *second = otf_arena_alloc(&a, 3);
	assert_ptr_equal(second, first + 16);
	/* larger than a chunk: its own chunk, current chunk kept */
	uint8_t *big = otf_arena_alloc(&a, 5000);
	assert_non_null(big);
	memset(big, 0xab, 5000);
	uint8_t *third = otf_arena_alloc(&a, 8);
	assert_ptr_equal(third, second + 8);
	int *zeros = otf_arena_calloc(&a, 100, sizeof(int));
	for (int i = 0; i < 100; i++)
		assert_int_equal(zeros[i], 0);
	assert_null(otf_arena_calloc(&a, SIZE_MAX, 2));
	otf_arena_reset(&a);
	assert_ptr_equal(otf_arena_alloc(&a, 10), first);
	otf_arena_close(&a);

	/* out of memory is NULL, not a crash */
	otf_arena_init(&a, 0);
	otf_alloc_fail_after(0);
	assert_null(otf_arena_alloc(&a, 16));
	otf_alloc_fail_after(-1);
	otf_arena_close(&a);
}

/* A reused arena stops allocating after the first request of a given size. */
static void test_arena_reuse_no_malloc(void **state)
{
	(void)state;
	otf_arena_t a;
	otf_arena_init(&a, 4096);
	otf_alloc_stats_t s0, s1;
	for (int round = 0; round < 3; round++) {
		if (round == 1)
			otf_alloc_stats(&s0);
		for (int i = 0; i < 100; i++)
			assert_non_null(otf_arena_alloc(&a, 200)); /* ~5 chunks */
		otf_arena_reset(&a);
	}
	otf_alloc_stats(&s1);
	assert_int_equal(s1.allocs_total, s0.allocs_total);
	otf_arena_close(&a);
}

static void test_buf_refcount(void **state)
{
	(void)state;
	otf_alloc_stats_t a, b;
	otf_alloc_stats(&a);
	otf_buf_t *buf = otf_buf_create_copy("hello", 5);
	assert_non_null(buf);
	assert_memory_equal(buf->data, "hello", 5);
	otf_buf_ref(buf);
	otf_buf_unref(buf);
	otf_alloc_stats(&b);
	assert_true(b.bytes_in_use > a.bytes_in_use); /* still held once */
	assert_int_equal(otf_buf_reserve(&buf, 100000), 0);
	assert_true(buf->cap >= 100000);
	assert_memory_equal(buf->data, "hello", 5);
	otf_buf_unref(buf);
	otf_alloc_stats(&b);
	assert_int_equal(b.bytes_in_use, a.bytes_in_use);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_err_table),    cmocka_unit_test(test_alloc_counts_and_fails),
	    cmocka_unit_test(test_arena),        cmocka_unit_test(test_arena_reuse_no_malloc),
	    cmocka_unit_test(test_buf_refcount),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
