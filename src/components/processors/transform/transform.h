/* processor `transform` internals shared with its unit test: the config
 * struct and the run over one decoded request (transform.c). */
#ifndef OTF_TRANSFORM_H
#define OTF_TRANSFORM_H

#include "../ottlproc/ottlproc.h"

typedef struct otf_transform_config {
	int error_mode; /* otf_ottl_error_mode_t */
	ottlproc_groups_t trace_statements, metric_statements, log_statements;
} otf_transform_config_t;

/* The groups for signal s (possibly empty). */
const ottlproc_groups_t *otf__transform_groups(const otf_transform_config_t *c, otf_signal_t s);

/* Runs every group of t's signal in order: on each record of the group's
 * context, when the group has no conditions or one of them is true, every
 * statement in order. 0, or the first error under propagate (t is then
 * partly changed and must not be sent). st accumulates (applied: the
 * statements applied); *logged_errors = the errors of groups not in
 * silent mode. */
int otf__transform_apply(const otf_transform_config_t *c, ottlproc_tree_t *t, otf_arena_t *arena,
                         otf_ottl_stats_t *st, uint64_t *logged_errors);

/* The in-place path for signal s (otf__ottlproc_inplace, ottlproc.h):
 * 1 ran (res), 0 the request needs otf__transform_apply, negative the
 * first error under propagate or OTF_E_NOMEM. *logged_errors as above. */
int otf__transform_inplace(const otf_transform_config_t *c, otf_signal_t s, const otf_buf_t *in,
                           otf_arena_t *arena, otf_ottl_stats_t *st, uint64_t *logged_errors,
                           ottlproc_inplace_result_t *res);

#endif
