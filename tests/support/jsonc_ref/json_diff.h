/* Differential check of the OTLP/JSON decoders (otf_pdata_json_decode_*,
 * simdjson On-Demand) against the former json-c decoder kept in
 * jsonc_ref_*.c: the same tree, or the same error (code, field path,
 * detail, and offset unless the error is malformed JSON, where the two
 * parsers stop at different bytes).
 *
 * Differences that are deliberate, where json-c was lax and the input is
 * not RFC 8259 JSON, are allowed only in the stricter direction and only
 * when an independent strict parser (yajl) agrees that the input is not
 * JSON: json-c in strict mode still accepts NaN/Infinity literals, "1.",
 * "-01" and raw control characters in strings; the new decoder refuses them
 * as malformed. Also allowed: integer literals beyond 64 bits (json-c
 * saturated them silently, the new decoder reports OTF_E_RANGE), inputs
 * with an object that repeats a key (json-c kept only the last value, at
 * the first one's position; the new decoder reads every member in input
 * order, so an earlier bad one is an error), and a top-level value
 * that is not an object (both refuse it, json-c sometimes as malformed).
 */
#ifndef OTF_TEST_JSON_DIFF_H
#define OTF_TEST_JSON_DIFF_H

#include "otflow/pdata_codec.h"

#include <stdbool.h>
#include <stddef.h>

/* Decodes data with both decoders as signal sig. Returns true when they
 * agree (or differ only as allowed above); otherwise false with a
 * description in why. */
bool otf_json_diff(otf_signal_t sig, const char *data, size_t len, char *why, size_t size);

#endif
