/* Shared by the fuzz targets: counts of a decoded tree, dispatch by signal,
 * and a check that aborts (the fuzzer reports it) with a message. */
#ifndef OTF_FUZZ_COMMON_H
#define OTF_FUZZ_COMMON_H

#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                                         \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

typedef struct tree {
	otf_signal_t signal;
	union {
		otf_traces_t traces;
		otf_metrics_t metrics;
		otf_logs_t logs;
	} u;
} tree_t;

static inline void tree_counts(const tree_t *t, otf_view_counts_t *c)
{
	memset(c, 0, sizeof *c);
	switch (t->signal) {
	case OTF_SIGNAL_TRACES:
		c->resources = t->u.traces.resource_spans_len;
		for (size_t i = 0; i < c->resources; i++) {
			const otf_resource_spans_t *r = &t->u.traces.resource_spans[i];
			c->scopes += r->scope_spans_len;
			for (size_t j = 0; j < r->scope_spans_len; j++)
				c->records += r->scope_spans[j].spans_len;
		}
		break;
	case OTF_SIGNAL_METRICS:
		c->resources = t->u.metrics.resource_metrics_len;
		for (size_t i = 0; i < c->resources; i++) {
			const otf_resource_metrics_t *r = &t->u.metrics.resource_metrics[i];
			c->scopes += r->scope_metrics_len;
			for (size_t j = 0; j < r->scope_metrics_len; j++) {
				const otf_scope_metrics_t *s = &r->scope_metrics[j];
				c->metrics += s->metrics_len;
				for (size_t k = 0; k < s->metrics_len; k++)
					c->records += s->metrics[k].data_points_len;
			}
		}
		break;
	case OTF_SIGNAL_LOGS:
		c->resources = t->u.logs.resource_logs_len;
		for (size_t i = 0; i < c->resources; i++) {
			const otf_resource_logs_t *r = &t->u.logs.resource_logs[i];
			c->scopes += r->scope_logs_len;
			for (size_t j = 0; j < r->scope_logs_len; j++)
				c->records += r->scope_logs[j].log_records_len;
		}
		break;
	}
}

static inline void counts_equal(const otf_view_counts_t *a, const otf_view_counts_t *b)
{
	FUZZ_CHECK(a->resources == b->resources);
	FUZZ_CHECK(a->scopes == b->scopes);
	FUZZ_CHECK(a->metrics == b->metrics);
	FUZZ_CHECK(a->records == b->records);
}

static inline int pb_decode_err(tree_t *t, otf_signal_t s, const uint8_t *d, size_t n,
                                otf_arena_t *a, otf_pdata_error_t *err)
{
	t->signal = s;
	switch (s) {
	case OTF_SIGNAL_TRACES:
		return otf_pdata_decode_traces(&t->u.traces, d, n, a, NULL, err);
	case OTF_SIGNAL_METRICS:
		return otf_pdata_decode_metrics(&t->u.metrics, d, n, a, NULL, err);
	case OTF_SIGNAL_LOGS:
		return otf_pdata_decode_logs(&t->u.logs, d, n, a, NULL, err);
	}
	return OTF_E_INVAL;
}

static inline int pb_decode(tree_t *t, otf_signal_t s, const uint8_t *d, size_t n, otf_arena_t *a)
{
	otf_pdata_error_t err;
	return pb_decode_err(t, s, d, n, a, &err);
}

static inline int json_decode(tree_t *t, otf_signal_t s, const uint8_t *d, size_t n, otf_arena_t *a)
{
	otf_pdata_error_t err;
	const char *j = (const char *)d;
	t->signal = s;
	switch (s) {
	case OTF_SIGNAL_TRACES:
		return otf_pdata_json_decode_traces(&t->u.traces, j, n, a, NULL, &err);
	case OTF_SIGNAL_METRICS:
		return otf_pdata_json_decode_metrics(&t->u.metrics, j, n, a, NULL, &err);
	case OTF_SIGNAL_LOGS:
		return otf_pdata_json_decode_logs(&t->u.logs, j, n, a, NULL, &err);
	}
	return OTF_E_INVAL;
}

static inline int pb_encode(const tree_t *t, otf_buf_t **out)
{
	switch (t->signal) {
	case OTF_SIGNAL_TRACES:
		return otf_pdata_encode_traces(&t->u.traces, out);
	case OTF_SIGNAL_METRICS:
		return otf_pdata_encode_metrics(&t->u.metrics, out);
	case OTF_SIGNAL_LOGS:
		return otf_pdata_encode_logs(&t->u.logs, out);
	}
	return OTF_E_INVAL;
}

static inline int json_encode(const tree_t *t, otf_buf_t **out)
{
	switch (t->signal) {
	case OTF_SIGNAL_TRACES:
		return otf_pdata_json_encode_traces(&t->u.traces, out);
	case OTF_SIGNAL_METRICS:
		return otf_pdata_json_encode_metrics(&t->u.metrics, out);
	case OTF_SIGNAL_LOGS:
		return otf_pdata_json_encode_logs(&t->u.logs, out);
	}
	return OTF_E_INVAL;
}

static inline bool buf_equal(const otf_buf_t *a, const otf_buf_t *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
