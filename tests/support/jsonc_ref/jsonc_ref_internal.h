/* The json-c OTLP/JSON decoder that otflow used before its decoder moved to
 * simdjson On-Demand (src/pdata/json_sj.cc), kept as a test-only reference:
 * the differential test (tests/unit/test_json_diff.c) and fuzz target
 * (tests/fuzz/fuzz_json_diff.c) check that the new decoder gives the same
 * trees and errors. Same API as otf_pdata_json_decode_*() in
 * otflow/pdata_codec.h. Not linked into otflow. */
#ifndef OTF_TEST_JSONC_REF_INTERNAL_H
#define OTF_TEST_JSONC_REF_INTERNAL_H

#include "jsonc_ref.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- decoding ---- */

typedef struct ref__jdec {
	otf_arena_t *arena;
	otf_pdata_error_t *err;
	uint32_t max_depth; /* AnyValue nesting limit */
	uint32_t depth;     /* current AnyValue nesting */
	/* The input held a \u escape of a lone surrogate. json-c silently turns
	 * those into U+FFFD, so while this is set a kept string containing
	 * U+FFFD is rejected as OTF_E_UTF8 (bad_offset is the escape's offset). */
	bool bad_surrogate;
	size_t bad_offset;
	/* Set once an error path segment was pushed by the array walker, so the
	 * enclosing object walker does not push the field name a second time. */
	bool pushed;
} ref__jdec;

/* Called for each non-null member with the normalised key; unknown keys
 * return 0. */
typedef int (*ref__jfield_fn)(ref__jdec *d, const char *key, json_object *v, void *out);
/* Decodes one array element (never JSON null) into *elem. */
typedef int (*ref__jelem_fn)(ref__jdec *d, json_object *v, void *elem);

/* Checks the size, tokenizes and requires a top-level object. On success
 * *root holds a json-c reference the caller drops with json_object_put(). */
int ref__jdec_begin(ref__jdec *d, json_object **root, const char *json, size_t len,
                    otf_arena_t *arena, const otf_pdata_limits_t *limits, otf_pdata_error_t *err);

/* Walks an object: JSON_TYPE unless v is an object; on a member's failure
 * the member's name is pushed onto the error path. */
int ref__jdec_object(ref__jdec *d, json_object *v, ref__jfield_fn fn, void *out);

/* Decodes an array into a zeroed arena array of esize-byte elements and
 * stores its address into *items_ptr (items_ptr is the address of the
 * struct's `T *items` member; written with memcpy, so any T works). Pushes
 * "name[i]" on an element's failure ("name" when v is not an array). A JSON
 * null array never gets here: the object walker skips null members. */
int ref__jdec_array(ref__jdec *d, json_object *v, const char *name, size_t esize, void *items_ptr,
                    size_t *len, ref__jelem_fn fn);

/* Scalars. Each returns 0 or a negative OTF_E_* code with the detail set. */
int ref__jdec_string(ref__jdec *d, json_object *v, otf_bytes_t *out);
int ref__jdec_id(ref__jdec *d, json_object *v, otf_bytes_t *out, size_t id_len);
int ref__jdec_base64(ref__jdec *d, json_object *v, otf_bytes_t *out);
int ref__jdec_bool(ref__jdec *d, json_object *v, bool *out);
int ref__jdec_u32(ref__jdec *d, json_object *v, uint32_t *out);
int ref__jdec_i32(ref__jdec *d, json_object *v, int32_t *out);
int ref__jdec_u64(ref__jdec *d, json_object *v, uint64_t *out);
int ref__jdec_i64(ref__jdec *d, json_object *v, int64_t *out);
int ref__jdec_double(ref__jdec *d, json_object *v, double *out);
/* An enum: an int32 number (or numeric string) or one of the value names;
 * names[i] is the name of value i, n the count. */
int ref__jdec_enum(ref__jdec *d, json_object *v, const char *const *names, size_t n, int32_t *out);

/* Messages shared by all signals. */
int ref__jdec_attributes(ref__jdec *d, json_object *v, const char *name, otf_attributes_t *out);
int ref__jdec_any(ref__jdec *d, json_object *v, void *out); /* otf_any_value_t */
int ref__jdec_resource(ref__jdec *d, json_object *v, void *out);
int ref__jdec_scope(ref__jdec *d, json_object *v, void *out);

#endif
