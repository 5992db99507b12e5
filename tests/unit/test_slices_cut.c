/* otf_slices_cut (otflow/component.h): the part of a batch that came from
 * a cancelled input is cut out of its payload. A batch of three OTLP log
 * requests, each one resource group: cutting the middle input leaves
 * exactly the first and third groups' bytes, a request again (counted by
 * the OTLP view), with the slices moved to their new offsets; slices that
 * do not lie on the payload's top-level fields are refused and nothing
 * changes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/component.h"
#include "otflow/err.h"
#include "otflow/pdata_view.h"

#include <string.h>

/* Appends a length-delimited field to p at *n. */
static void put_field(uint8_t *p, size_t *n, unsigned field, const uint8_t *v, size_t len)
{
	p[(*n)++] = (uint8_t)(field << 3 | 2);
	p[(*n)++] = (uint8_t)len; /* < 128 here */
	memcpy(p + *n, v, len);
	*n += len;
}

/* ResourceLogs{scope_logs{log_records{body: "s"} x records}}. */
static size_t resource_logs(uint8_t *out, const char *s, int records)
{
	uint8_t any[64], lr[64], sl[128], rl[160];
	size_t na = 0, nl = 0, ns = 0, nr = 0, n = 0;
	put_field(any, &na, 1, (const uint8_t *)s, strlen(s));
	put_field(lr, &nl, 5, any, na);
	for (int i = 0; i < records; i++)
		put_field(sl, &ns, 2, lr, nl);
	put_field(rl, &nr, 2, sl, ns);
	put_field(out, &n, 1, rl, nr);
	return n;
}

static uint64_t g_drop[4];

static bool drop(void *ctx, uint64_t id)
{
	(void)ctx;
	for (int i = 0; i < 4; i++)
		if (g_drop[i] == id)
			return true;
	return false;
}

typedef struct batch3 {
	otf_buf_t *payload;
	otf_msg_slice_t sl[3];
	uint8_t part[3][200];
	size_t len[3];
} batch3_t;

static void make(batch3_t *b)
{
	const char *names[3] = {"kept-a", "cancelled-b", "kept-c"};
	int records[3] = {1, 2, 3};
	size_t total = 0;
	for (int i = 0; i < 3; i++) {
		b->len[i] = resource_logs(b->part[i], names[i], records[i]);
		total += b->len[i];
	}
	b->payload = otf_buf_create(total);
	assert_non_null(b->payload);
	for (int i = 0; i < 3; i++) {
		b->sl[i] = (otf_msg_slice_t){.id = 100 + (uint64_t)i,
		                             .off = b->payload->len,
		                             .len = b->len[i],
		                             .items = (uint64_t)records[i]};
		memcpy(b->payload->data + b->payload->len, b->part[i], b->len[i]);
		b->payload->len += b->len[i];
	}
	memset(g_drop, 0, sizeof g_drop);
}

static void test_cut_middle(void **state)
{
	(void)state;
	batch3_t b = {0};
	make(&b);
	g_drop[0] = 101;
	size_t n = 3;
	otf_buf_t *out = NULL;
	uint64_t dropped = 0;
	assert_int_equal(otf_slices_cut(b.payload, b.sl, &n, drop, NULL, &out, &dropped), 0);
	assert_non_null(out);
	assert_int_equal(dropped, 2);
	assert_int_equal(n, 2);
	/* The first and third inputs' bytes, in order, nothing else. */
	assert_int_equal(out->len, b.len[0] + b.len[2]);
	assert_memory_equal(out->data, b.part[0], b.len[0]);
	assert_memory_equal(out->data + b.len[0], b.part[2], b.len[2]);
	assert_null(memmem(out->data, out->len, "cancelled-b", 11));
	otf_view_counts_t c;
	assert_int_equal(otf_view_count(OTF_SIGNAL_LOGS, out->data, out->len, &c), 0);
	assert_int_equal(c.resources, 2);
	assert_int_equal(c.records, 4);
	assert_int_equal(b.sl[0].id, 100);
	assert_int_equal(b.sl[0].off, 0);
	assert_int_equal(b.sl[1].id, 102);
	assert_int_equal(b.sl[1].off, b.len[0]);
	assert_int_equal(b.sl[1].len, b.len[2]);
	assert_int_equal(b.sl[1].items, 3);
	otf_buf_unref(out);
	otf_buf_unref(b.payload);
}

static void test_cut_none_and_all(void **state)
{
	(void)state;
	batch3_t b = {0};
	make(&b);
	size_t n = 3;
	otf_buf_t *out = (otf_buf_t *)&n;
	uint64_t dropped = 7;
	g_drop[0] = 999; /* not in the batch */
	assert_int_equal(otf_slices_cut(b.payload, b.sl, &n, drop, NULL, &out, &dropped), 0);
	assert_null(out);
	assert_int_equal(dropped, 0);
	assert_int_equal(n, 3);
	g_drop[1] = 100;
	g_drop[2] = 101;
	g_drop[3] = 102;
	assert_int_equal(otf_slices_cut(b.payload, b.sl, &n, drop, NULL, &out, &dropped), 0);
	assert_non_null(out);
	assert_int_equal(out->len, 0);
	assert_int_equal(n, 0);
	assert_int_equal(dropped, 6);
	otf_buf_unref(out);
	otf_buf_unref(b.payload);
}

static void test_refuses_bad_slices(void **state)
{
	(void)state;
	batch3_t b = {0};
	make(&b);
	g_drop[0] = 101;
	otf_msg_slice_t saved[3];
	otf_buf_t *out = NULL;
	uint64_t dropped = 0;
	size_t n = 3;
	/* A slice starting inside a resource group. */
	b.sl[1].off += 2;
	b.sl[1].len -= 2;
	memcpy(saved, b.sl, sizeof saved);
	assert_int_equal(otf_slices_cut(b.payload, b.sl, &n, drop, NULL, &out, &dropped),
	                 OTF_E_INVAL);
	assert_null(out);
	assert_int_equal(n, 3);
	assert_memory_equal(saved, b.sl, sizeof saved);
	/* Past the payload's end. */
	b.sl[1].off -= 2;
	b.sl[1].len += 2;
	b.sl[2].len += 1;
	assert_int_equal(otf_slices_cut(b.payload, b.sl, &n, drop, NULL, &out, &dropped),
	                 OTF_E_INVAL);
	/* Out of order. */
	b.sl[2].len -= 1;
	otf_msg_slice_t t = b.sl[0];
	b.sl[0] = b.sl[2];
	b.sl[2] = t;
	assert_int_equal(otf_slices_cut(b.payload, b.sl, &n, drop, NULL, &out, &dropped),
	                 OTF_E_INVAL);
	assert_null(out);
	otf_buf_unref(b.payload);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cut_middle),
	    cmocka_unit_test(test_cut_none_and_all),
	    cmocka_unit_test(test_refuses_bad_slices),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
