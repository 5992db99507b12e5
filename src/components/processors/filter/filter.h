/* processor `filter` internals shared with its unit test: the config
 * struct and the filtering of one decoded request (filter.c). */
#ifndef OTF_FILTER_H
#define OTF_FILTER_H

#include "../ottlproc/ottlproc.h"

typedef struct otf_filter_config {
	int error_mode; /* otf_ottl_error_mode_t */
	ottlproc_groups_t trace_conditions, metric_conditions, log_conditions;
	ottlproc_groups_t traces, metrics, logs; /* the older per-context form */
} otf_filter_config_t;

/* True when c has conditions for signal s. */
bool otf__filter_has(const otf_filter_config_t *c, otf_signal_t s);

/* Drops what c's conditions for t's signal match, contexts from the top
 * down. 0, or the first error under propagate (st->first_error names it;
 * t is then partly filtered and must not be sent). st accumulates;
 * *logged_errors = the errors of groups not in silent mode. */
int otf__filter_apply(const otf_filter_config_t *c, ottlproc_tree_t *t, otf_arena_t *arena,
                      otf_ottl_stats_t *st, uint64_t *logged_errors);

/* The in-place path for signal s (otf__ottlproc_inplace, ottlproc.h):
 * 1 ran (res), 0 the request needs otf__filter_apply, negative the first
 * error under propagate or OTF_E_NOMEM. *logged_errors as above. */
int otf__filter_inplace(const otf_filter_config_t *c, otf_signal_t s, const otf_buf_t *in,
                        otf_arena_t *arena, otf_ottl_stats_t *st, uint64_t *logged_errors,
                        ottlproc_inplace_result_t *res);

#endif
