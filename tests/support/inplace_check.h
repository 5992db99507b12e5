/* The in-place path of the filter and transform processors against their
 * tree path (decode, run, encode), shared by tests/unit/test_ottl_inplace.c
 * and tests/fuzz/fuzz_ottl_inplace.c.
 *
 * The cases are the OpenTelemetry demo's transform statements, the filter
 * processor README's examples, and statements that touch every kind of
 * edit the in-place path makes (set an attribute, delete_key, keep_keys,
 * severity, span name and status, body rewrite, a group's conditions,
 * runtime errors) or hands to the tree (a resource write from a record,
 * span events, metrics). */
#ifndef OTF_TEST_INPLACE_CHECK_H
#define OTF_TEST_INPLACE_CHECK_H

#include "otflow/pdata.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct inplace_case {
	const char *processor; /* "filter" or "transform" */
	otf_signal_t signal;
	const char *yaml;
	bool in_place; /* expected to run in place on a valid request */
} inplace_case_t;

extern const inplace_case_t inplace_cases[];
extern const size_t inplace_cases_len;

/* The case's config (the processor's schema applied to its YAML); NULL
 * with the error printed to stderr when it does not load. */
void *inplace_load(const inplace_case_t *c);
void inplace_free(const inplace_case_t *c, void *cfg);

enum {
	INPLACE_EQUAL = 0,       /* both ran, same outcome (or the same error) */
	INPLACE_FALLBACK = 1,    /* the in-place path handed the request to the tree */
	INPLACE_UNDECODABLE = 2, /* the decoder refuses the request: nothing to compare */
	INPLACE_DIFFERENT = -1,  /* diff says what */
};

/* Runs both paths of case c (config cfg) on request in[0..len) of the
 * case's signal and compares the decoded outputs (and the record count,
 * drops and runtime errors counted). */
int inplace_check(const inplace_case_t *c, const void *cfg, const uint8_t *in, size_t len,
                  char *diff, size_t difflen);

#endif
