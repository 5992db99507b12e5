/* The fast conditions (otf_ottl_fast_t, otflow/ottl.h) against the tree
 * evaluator, shared by tests/unit/test_ottl_fast.c and
 * tests/fuzz/fuzz_ottl_fast.c: a table of conditions of the fast shapes,
 * and one check of a condition on one encoded Resource under one set of
 * request headers. */
#ifndef OTF_TEST_OTTL_FAST_CHECK_H
#define OTF_TEST_OTTL_FAST_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* A key and a string of 133 bytes: longer than the encoders' one-byte
 * lengths (the fast path's inline shapes), in conditions of the table
 * and in the tests' resources. */
#define OTTL_FAST_LONG                                                                            \
	"long-0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789" \
	"abcdefghijklmnopqrstuvwxyz0123456789abcdefghij"

extern const char *const ottl_fast_conds[];
extern const size_t ottl_fast_conds_len;
/* Header sets: hdr_sets_len of them, each NULL-terminated key, value pairs. */
extern const size_t ottl_fast_hdr_sets_len;

enum {
	FAST_SAME = 0,      /* equal results, or the decoder refused the bytes */
	FAST_DIFFERENT = 1, /* diff filled in */
	FAST_NOT_FAST = 2,  /* the condition did not compile to the fast form */
};

/* Condition c on resource (bytes) with header set h: FAST_*. diff gets
 * both results when they differ. Programs are compiled once and kept. */
int ottl_fast_check(size_t c, size_t h, const uint8_t *resource, size_t len, char *diff,
                    size_t difflen);

/* The conditions conds[0 .. n) (indexes into the table, n <= 8) as one
 * otf_ottl_fast_set_t on resource with header set h: FAST_SAME when its
 * route is the first condition the tree finds true (or none), the
 * decoder refused the bytes, or a condition is not fast; FAST_DIFFERENT
 * with diff filled in otherwise. */
int ottl_fast_set_check(const size_t *conds, size_t n, size_t h, const uint8_t *resource,
                        size_t len, char *diff, size_t difflen);

#endif
