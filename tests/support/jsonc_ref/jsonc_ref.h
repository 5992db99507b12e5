/* Test-only reference: the former json-c OTLP/JSON decoders (see
 * jsonc_ref_internal.h). Same contracts as otf_pdata_json_decode_*(). */
#ifndef OTF_TEST_JSONC_REF_H
#define OTF_TEST_JSONC_REF_H

#include "otflow/pdata_codec.h"

int otf_ref_json_decode_traces(otf_traces_t *out, const char *json, size_t len, otf_arena_t *arena,
                               const otf_pdata_limits_t *limits, otf_pdata_error_t *err);
int otf_ref_json_decode_metrics(otf_metrics_t *out, const char *json, size_t len,
                                otf_arena_t *arena, const otf_pdata_limits_t *limits,
                                otf_pdata_error_t *err);
int otf_ref_json_decode_logs(otf_logs_t *out, const char *json, size_t len, otf_arena_t *arena,
                             const otf_pdata_limits_t *limits, otf_pdata_error_t *err);
int otf_ref_json_decode_response(otf_export_response_t *out, otf_signal_t signal, const char *json,
                                 size_t len, otf_arena_t *arena, otf_pdata_error_t *err);

#endif
