/* Deep equality of pdata trees, for property and oracle tests.
 *
 * Each function returns true when the trees are equal. Otherwise it returns
 * false and, when diff is not NULL, writes the first difference into it:
 * the field path and both values, e.g.
 *   "resource_spans[0].scope_spans[1].spans[3].name: len 3 vs 4"
 * so a failing property test says where to look.
 *
 * Semantics: byte ranges compare by length and content (never by pointer);
 * doubles compare bitwise (-0.0 differs from 0.0, and NaN equals a NaN of
 * the same payload); a oneof member that is not set is not compared; the
 * optional doubles compare their value only when has_* is set.
 */
#ifndef OTF_TEST_PDATA_EQ_H
#define OTF_TEST_PDATA_EQ_H

#include "otflow/pdata.h"

#include <stdbool.h>
#include <stddef.h>

bool otf_eq_traces(const otf_traces_t *a, const otf_traces_t *b, char *diff, size_t size);
bool otf_eq_metrics(const otf_metrics_t *a, const otf_metrics_t *b, char *diff, size_t size);
bool otf_eq_logs(const otf_logs_t *a, const otf_logs_t *b, char *diff, size_t size);
bool otf_eq_response(const otf_export_response_t *a, const otf_export_response_t *b, char *diff,
                     size_t size);
bool otf_eq_any(const otf_any_value_t *a, const otf_any_value_t *b, char *diff, size_t size);

#endif
