/* Fast conditions (otf_ottl_fast_t): every condition of the table in
 * tests/support/ottl_fast_check.c compiles to the fast form and gives the
 * tree evaluator's result on thousands of encoded resources (attributes of
 * every type, duplicate keys, empty keys and values, members in unusual
 * order, repeated fields, KeyValues with no value) under several header
 * sets; other shapes stay on the tree; malformed bytes are UNSURE. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ottl_fast_check.h"

#include "otflow/ottl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pb {
	uint8_t b[4096];
	size_t n;
} pb_t;

static void put(pb_t *p, const void *d, size_t n)
{
	assert_true(p->n + n <= sizeof p->b);
	memcpy(p->b + p->n, d, n);
	p->n += n;
}

static void varint(pb_t *p, uint64_t v)
{
	while (v >= 0x80) {
		uint8_t c = (uint8_t)(v | 0x80);
		put(p, &c, 1);
		v >>= 7;
	}
	uint8_t c = (uint8_t)v;
	put(p, &c, 1);
}

static void ld(pb_t *p, uint32_t field, const void *d, size_t n)
{
	varint(p, (uint64_t)field << 3 | 2);
	varint(p, n);
	put(p, d, n);
}

static uint64_t g_rng = 88172645463325252ull;
static unsigned rnd(unsigned n)
{
	g_rng ^= g_rng << 13;
	g_rng ^= g_rng >> 7;
	g_rng ^= g_rng << 17;
	return (unsigned)(g_rng % n);
}

static const char *const k_keys[] = {"service.name", "tenant", "k", "", "other", OTTL_FAST_LONG};
static const char *const k_vals[] = {"checkout", "acme", "", "x", "other", OTTL_FAST_LONG};

/* One AnyValue of a random kind and encoding. */
static void any(pb_t *v)
{
	const char *s = k_vals[rnd(6)];
	pb_t kv = {0};
	switch (rnd(9)) {
	case 0: /* no member: nil */
		break;
	case 1:
		varint(v, 2 << 3 | 0); /* bool_value */
		varint(v, 1);
		break;
	case 2:
		varint(v, 3 << 3 | 0); /* int_value */
		varint(v, 7);
		break;
	case 3:
		ld(v, 7, s, strlen(s)); /* bytes_value with a string's bytes */
		break;
	case 4: /* kvlist_value {k: s} */
		ld(&kv, 1, "k", 1);
		{
			pb_t a = {0};
			ld(&a, 1, s, strlen(s));
			ld(&kv, 2, a.b, a.n);
		}
		{
			pb_t l = {0};
			ld(&l, 1, kv.b, kv.n);
			ld(v, 6, l.b, l.n);
		}
		break;
	case 5: /* an int, then the string: the last member wins */
		varint(v, 3 << 3 | 0);
		varint(v, 1);
		ld(v, 1, s, strlen(s));
		break;
	case 6: /* the string, then an int */
		ld(v, 1, s, strlen(s));
		varint(v, 3 << 3 | 0);
		varint(v, 1);
		break;
	default:
		ld(v, 1, s, strlen(s)); /* string_value */
	}
}

static void resource(pb_t *r)
{
	unsigned n = rnd(6);
	for (unsigned i = 0; i < n; i++) {
		pb_t kv = {0}, v = {0};
		const char *k = k_keys[rnd(6)];
		any(&v);
		switch (rnd(6)) {
		case 0: /* value before key */
			ld(&kv, 2, v.b, v.n);
			ld(&kv, 1, k, strlen(k));
			break;
		case 1: /* no value */
			ld(&kv, 1, k, strlen(k));
			break;
		case 2: /* two values: the last one counts */
			ld(&kv, 1, k, strlen(k));
			ld(&kv, 2, "\x0a\x01x", 3);
			ld(&kv, 2, v.b, v.n);
			break;
		default:
			ld(&kv, 1, k, strlen(k));
			ld(&kv, 2, v.b, v.n);
		}
		ld(r, 1, kv.b, kv.n);
		if (rnd(4) == 0) { /* dropped_attributes_count between them */
			varint(r, 2 << 3 | 0);
			varint(r, 3);
		}
	}
}

static void test_equals_tree(void **state)
{
	(void)state;
	char diff[512];
	size_t trues = 0, total = 0;
	for (int i = 0; i < 3000; i++) {
		pb_t r = {0};
		resource(&r);
		for (size_t c = 0; c < ottl_fast_conds_len; c++)
			for (size_t h = 0; h < ottl_fast_hdr_sets_len; h++) {
				int rc = ottl_fast_check(c, h, r.b, r.n, diff, sizeof diff);
				if (rc == FAST_DIFFERENT)
					fail_msg("resource %d: %s", i, diff);
				assert_int_equal(rc, FAST_SAME);
				total++;
			}
	}
	/* the inputs exercise both outcomes of the conditions */
	pb_t r = {0};
	const char *kv = "\x0a\x0cservice.name\x12\x0a\x0a\x08"
	                 "checkout";
	ld(&r, 1, kv, strlen(kv));
	for (size_t h = 0; h < ottl_fast_hdr_sets_len; h++)
		trues += ottl_fast_check(0, h, r.b, r.n, diff, sizeof diff) == FAST_SAME;
	assert_int_equal(trues, ottl_fast_hdr_sets_len);
	assert_true(total > 100000);
}

/* A router's routes as one set (one attribute walk for every route's
 * keys): the route is the first condition the tree finds true, on the
 * same resources and header sets, for random tables of 1 to 6 routes. */
static void test_set_equals_tree(void **state)
{
	(void)state;
	char diff[1024];
	size_t total = 0;
	for (int i = 0; i < 3000; i++) {
		pb_t r = {0};
		resource(&r);
		for (int t = 0; t < 4; t++) {
			size_t conds[6], n = 1 + rnd(6);
			for (size_t k = 0; k < n; k++)
				conds[k] = rnd((unsigned)ottl_fast_conds_len);
			for (size_t h = 0; h < ottl_fast_hdr_sets_len; h++) {
				int rc =
				    ottl_fast_set_check(conds, n, h, r.b, r.n, diff, sizeof diff);
				if (rc == FAST_DIFFERENT)
					fail_msg("resource %d: %s", i, diff);
				total++;
			}
		}
	}
	assert_true(total > 50000);
	/* known answers: [request X-Tenant acme, service.name checkout,
	 * tenant nil] on {service.name: checkout} */
	const char *const conds[] = {
	    "request[\"X-Tenant\"] == \"acme\"",
	    "attributes[\"service.name\"] == \"checkout\"",
	    "attributes[\"tenant\"] == nil",
	    "attributes[\"service.name\"] == \"other\" or attributes[\"k\"] == \"x\"",
	};
	otf_ottl_program_t *p;
	otf_ottl_error_t oe;
	assert_int_equal(otf_ottl_compile_conditions(&p, OTF_OTTL_CTX_RESOURCE, conds, 4, &oe), 0);
	otf_ottl_fast_t *f[4];
	for (int i = 0; i < 4; i++) {
		assert_int_equal(otf_ottl_fast_compile(p, (size_t)i, &f[i]), 0);
		assert_non_null(f[i]);
	}
	otf_ottl_fast_set_t *set;
	assert_int_equal(otf_ottl_fast_set_create((const otf_ottl_fast_t *const *)f, 4, &set), 0);
	assert_non_null(set);
	assert_int_equal(otf_ottl_fast_set_header_count(set), 1);
	assert_string_equal(otf_ottl_fast_set_header_key(set, 0), "X-Tenant");
	pb_t r = {0}, kv = {0}, v = {0};
	ld(&v, 1, "checkout", 8);
	ld(&kv, 1, "service.name", 12);
	ld(&kv, 2, v.b, v.n);
	ld(&r, 1, kv.b, kv.n);
	otf_bytes_t res = {r.b, r.n};
	const char *hnone[1] = {NULL}, *hacme[1] = {"acme"}, *hother[1] = {"other"};
	assert_int_equal(otf_ottl_fast_set_eval(set, res, hnone), 1);
	assert_int_equal(otf_ottl_fast_set_eval(set, res, hacme), 0);
	assert_int_equal(otf_ottl_fast_set_eval(set, res, hother), 1);
	/* the empty resource: tenant is nil (route 2) */
	assert_int_equal(otf_ottl_fast_set_eval(set, (otf_bytes_t){NULL, 0}, hnone), 2);
	/* malformed before the key: unsure; routes 3 alone: none */
	const uint8_t bad[] = {0x0a, 0x20, 0x0a};
	assert_int_equal(otf_ottl_fast_set_eval(set, (otf_bytes_t){bad, sizeof bad}, hnone),
	                 OTF_OTTL_FAST_SET_UNSURE);
	otf_ottl_fast_set_destroy(set);
	assert_int_equal(otf_ottl_fast_set_create((const otf_ottl_fast_t *const *)&f[3], 1, &set),
	                 0);
	assert_int_equal(otf_ottl_fast_set_eval(set, res, hnone), OTF_OTTL_FAST_SET_NONE);
	otf_ottl_fast_set_destroy(set);
	for (int i = 0; i < 4; i++)
		otf_ottl_fast_destroy(f[i]);
	otf_ottl_program_destroy(p);
}

/* Known answers, so "same as the tree" is not "both wrong". */
static void test_known_answers(void **state)
{
	(void)state;
	const char *const conds[] = {
	    "attributes[\"service.name\"] == \"checkout\"",
	    "request[\"X-Tenant\"] == \"acme\" or attributes[\"tenant\"] == \"acme\"",
	    "attributes[\"tenant\"] == nil",
	};
	otf_ottl_program_t *p;
	otf_ottl_error_t oe;
	assert_int_equal(otf_ottl_compile_conditions(&p, OTF_OTTL_CTX_RESOURCE, conds, 3, &oe), 0);
	otf_ottl_fast_t *f[3];
	for (int i = 0; i < 3; i++) {
		assert_int_equal(otf_ottl_fast_compile(p, (size_t)i, &f[i]), 0);
		assert_non_null(f[i]);
	}
	assert_int_equal(otf_ottl_fast_header_count(f[1]), 1);
	assert_string_equal(otf_ottl_fast_header_key(f[1], 0), "X-Tenant");
	pb_t r = {0}, kv = {0}, v = {0};
	ld(&v, 1, "checkout", 8);
	ld(&kv, 1, "service.name", 12);
	ld(&kv, 2, v.b, v.n);
	ld(&r, 1, kv.b, kv.n);
	otf_bytes_t res = {r.b, r.n};
	const char *none[1] = {NULL}, *acme[1] = {"acme"};
	assert_int_equal(otf_ottl_fast_eval(f[0], res, none), 1);
	assert_int_equal(otf_ottl_fast_eval(f[1], res, none), 0);
	assert_int_equal(otf_ottl_fast_eval(f[1], res, acme), 1);
	assert_int_equal(otf_ottl_fast_eval(f[2], res, none), 1);
	/* malformed: a length past the end */
	const uint8_t bad[] = {0x0a, 0x20, 0x0a};
	assert_int_equal(otf_ottl_fast_eval(f[0], (otf_bytes_t){bad, sizeof bad}, none),
	                 OTF_OTTL_FAST_UNSURE);
	for (int i = 0; i < 3; i++)
		otf_ottl_fast_destroy(f[i]);
	otf_ottl_program_destroy(p);
}

static void test_other_shapes_stay_on_tree(void **state)
{
	(void)state;
	const char *const conds[] = {
	    "attributes[\"k\"] == 1",        "IsMatch(attributes[\"k\"], \"a.*\")",
	    "attributes[\"k\"] < \"b\"",     "attributes[\"k\"] == attributes[\"j\"]",
	    "dropped_attributes_count == 0",
	};
	otf_ottl_program_t *p;
	otf_ottl_error_t oe;
	assert_int_equal(otf_ottl_compile_conditions(&p, OTF_OTTL_CTX_RESOURCE, conds, 5, &oe), 0);
	for (size_t i = 0; i < 5; i++) {
		otf_ottl_fast_t *f = (otf_ottl_fast_t *)1;
		assert_int_equal(otf_ottl_fast_compile(p, i, &f), 0);
		assert_null(f);
	}
	otf_ottl_program_destroy(p);
	/* the table's conditions all have the fast form */
	char diff[64];
	for (size_t c = 0; c < ottl_fast_conds_len; c++)
		assert_int_not_equal(ottl_fast_check(c, 0, NULL, 0, diff, sizeof diff),
		                     FAST_NOT_FAST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_equals_tree),
	    cmocka_unit_test(test_known_answers),
	    cmocka_unit_test(test_set_equals_tree),
	    cmocka_unit_test(test_other_shapes_stay_on_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
