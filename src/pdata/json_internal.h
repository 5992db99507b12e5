/* OTLP/JSON codec internals shared by json_decode_*.c, json_encode_*.c and
 * json_write.c (otf__ prefix for cross-file symbols).
 *
 * Decoding: simdjson's On-Demand parser (through the C interface of
 * json_sj.h) hands the per-signal decoders one value at a time, in input
 * order, and they write straight into the arena tree: no tree of the JSON
 * is built. Keys are normalised to lowerCamelCase before matching
 * ("trace_id" -> "traceId"), so both the OTLP/JSON names and the proto
 * field names are accepted; the normalised name is what error paths show.
 *
 * Errors found while walking (wrong types, bad ids, ranges) carry the field
 * path and offset 0, as with the former json-c decoder; malformed JSON
 * (syntax, nesting, invalid UTF-8) and the input-size check carry a byte
 * offset and no path. Malformed JSON wins over a walking error anywhere in
 * the input (the input is validated again after a walking error), as when
 * json-c tokenized the whole input first.
 *
 * Encoding: a small forward writer appending to an otf_buf_t. Keys and
 * commas are handled by otf__jw_key(): a comma is written unless the last
 * byte is '{' or '[', which is exactly the "first member" case.
 */
#ifndef OTF_PDATA_JSON_INTERNAL_H
#define OTF_PDATA_JSON_INTERNAL_H

#include "json_sj.h"
#include "otflow/pdata_codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- decoding ---- */

typedef struct otf__jdec {
	otf_arena_t *arena;
	otf_pdata_error_t *err;
	otf__jsj *p;
	const char *json; /* the input, for the validation after an error */
	size_t len;
	size_t jdepth;      /* JSON nesting limit */
	uint32_t max_depth; /* AnyValue nesting limit */
	uint32_t depth;     /* current AnyValue nesting */
	/* The input held a \u escape of a lone surrogate. Such escapes decode
	 * to U+FFFD (json-c's way), so while this is set a kept string containing
	 * U+FFFD is rejected as OTF_E_UTF8 (bad_offset is the escape's offset). */
	bool bad_surrogate;
	size_t bad_offset;
	/* The input held bytes that are not UTF-8. It is parsed from a copy
	 * with each such byte replaced by 0x7f (which no field name, id,
	 * number or enum name holds), and a kept string is checked against the
	 * input's own bytes: OTF_E_UTF8 with its field path, as before. */
	char *fixed;
	/* Set once an error path segment was pushed by the array walker, so the
	 * enclosing object walker does not push the field name a second time. */
	bool pushed;
} otf__jdec;

/* Called for each non-null member with the normalised key; unknown keys
 * return 0. */
typedef int (*otf__jfield_fn)(otf__jdec *d, const char *key, otf__jval *v, void *out);
/* Decodes one array element (never JSON null) into *elem. */
typedef int (*otf__jelem_fn)(otf__jdec *d, otf__jval *v, void *elem);

/* Checks the size, starts the parse and requires a top-level object in
 * *root. */
int otf__jdec_begin(otf__jdec *d, otf__jval *root, const char *json, size_t len, otf_arena_t *arena,
                    const otf_pdata_limits_t *limits, otf_pdata_error_t *err);
/* Ends a decode whose walk returned rc: checks that nothing follows the
 * top-level object and turns a syntax error into its OTF_E_* code and
 * detail. Returns the final code. */
int otf__jdec_end(otf__jdec *d, int rc);

/* Walks an object: JSON_TYPE unless v is an object; on a member's failure
 * the member's name is pushed onto the error path. */
int otf__jdec_object(otf__jdec *d, otf__jval *v, otf__jfield_fn fn, void *out);

/* Decodes an array into a zeroed arena array of esize-byte elements and
 * stores its address into *items_ptr (items_ptr is the address of the
 * struct's `T *items` member; written with memcpy, so any T works). Pushes
 * "name[i]" on an element's failure ("name" when v is not an array). A JSON
 * null array never gets here: the object walker skips null members. */
int otf__jdec_array(otf__jdec *d, otf__jval *v, const char *name, size_t esize, void *items_ptr,
                    size_t *len, otf__jelem_fn fn);

/* JSON_TYPE error "expected <want>, got <v's type>" (json-c's type names). */
int otf__jdec_type_error(otf__jdec *d, const char *want, const otf__jval *v);

/* The value of hex digit c (either case), -1 when c is not one. Without
 * branches on the digit's kind: in random hex ids, digits and
 * letters alternate unpredictably, and the mispredictions cost more than
 * the rest of the id's decoding. */
static inline int otf__jhex_digit(int c)
{
	unsigned d = (unsigned)c - '0';
	unsigned l = ((unsigned)c | 0x20u) - 'a';
	int v = d < 10 ? (int)d : (int)l + 10;
	return d < 10 || l < 6 ? v : -1;
}

/* Scalars. Each returns 0 or a negative OTF_E_* code with the detail set. */
int otf__jdec_string(otf__jdec *d, otf__jval *v, otf_bytes_t *out);
int otf__jdec_id(otf__jdec *d, otf__jval *v, otf_bytes_t *out, size_t id_len);
int otf__jdec_base64(otf__jdec *d, otf__jval *v, otf_bytes_t *out);
int otf__jdec_bool(otf__jdec *d, otf__jval *v, bool *out);
int otf__jdec_u32(otf__jdec *d, otf__jval *v, uint32_t *out);
int otf__jdec_i32(otf__jdec *d, otf__jval *v, int32_t *out);
int otf__jdec_u64(otf__jdec *d, otf__jval *v, uint64_t *out);
int otf__jdec_i64(otf__jdec *d, otf__jval *v, int64_t *out);
int otf__jdec_double(otf__jdec *d, otf__jval *v, double *out);
/* An enum: an int32 number (or numeric string) or one of the value names;
 * names[i] is the name of value i, n the count. */
int otf__jdec_enum(otf__jdec *d, otf__jval *v, const char *const *names, size_t n, int32_t *out);

/* Messages shared by all signals. */
int otf__jdec_attributes(otf__jdec *d, otf__jval *v, const char *name, otf_attributes_t *out);
int otf__jdec_any(otf__jdec *d, otf__jval *v, void *out); /* otf_any_value_t */
int otf__jdec_resource(otf__jdec *d, otf__jval *v, void *out);
int otf__jdec_scope(otf__jdec *d, otf__jval *v, void *out);

/* ---- encoding ---- */

typedef struct otf__jw {
	otf_buf_t *buf;
	int err; /* sticky: first error; further writes are no-ops */
} otf__jw;

int otf__jw_init(otf__jw *w, size_t initial);
/* Hands the buffer over (or drops it and returns the sticky error). */
int otf__jw_finish(otf__jw *w, otf_buf_t **out);
/* Ensures n more bytes fit; false (and w->err set) when out of memory. */
bool otf__jw_grow(otf__jw *w, size_t n);

static inline bool otf__jw_need(otf__jw *w, size_t n)
{
	if (w->err)
		return false;
	if (w->buf->cap - w->buf->len >= n)
		return true;
	return otf__jw_grow(w, n);
}

static inline void otf__jw_raw(otf__jw *w, const char *s, size_t n)
{
	if (!otf__jw_need(w, n))
		return;
	if (n)
		memcpy(w->buf->data + w->buf->len, s, n);
	w->buf->len += n;
}

static inline void otf__jw_ch(otf__jw *w, char c)
{
	if (!otf__jw_need(w, 1))
		return;
	w->buf->data[w->buf->len++] = (uint8_t)c;
}

/* Separator before an object member or array element: ',' unless the
 * container was just opened. */
static inline void otf__jw_sep(otf__jw *w)
{
	if (w->err || w->buf->len == 0)
		return;
	uint8_t last = w->buf->data[w->buf->len - 1];
	if (last != '{' && last != '[')
		otf__jw_ch(w, ',');
}

/* Writes [,]"key": (key is a plain ASCII literal that needs no escaping). */
void otf__jw_key(otf__jw *w, const char *key);
/* Quoted, escaped string; invalid UTF-8 becomes U+FFFD so the output is
 * always valid JSON. */
void otf__jw_str(otf__jw *w, const uint8_t *s, size_t n);
void otf__jw_u64(otf__jw *w, uint64_t v);  /* bare number */
void otf__jw_i64(otf__jw *w, int64_t v);   /* bare number */
void otf__jw_u64s(otf__jw *w, uint64_t v); /* quoted decimal */
void otf__jw_i64s(otf__jw *w, int64_t v);  /* quoted decimal */
/* Shortest round-tripping number, or "NaN"/"Infinity"/"-Infinity". */
void otf__jw_double(otf__jw *w, double v);
void otf__jw_hex(otf__jw *w, const uint8_t *s, size_t n);    /* quoted lowercase hex */
void otf__jw_base64(otf__jw *w, const uint8_t *s, size_t n); /* quoted standard base64 */

/* Member writers that omit proto3 defaults. */
void otf__jw_f_str(otf__jw *w, const char *key, otf_bytes_t s);
void otf__jw_f_u32(otf__jw *w, const char *key, uint32_t v);
void otf__jw_f_i32(otf__jw *w, const char *key, int32_t v);
void otf__jw_f_u64s(otf__jw *w, const char *key, uint64_t v);
void otf__jw_f_double(otf__jw *w, const char *key, double v); /* omitted only for +0.0 */
/* An id: omitted when empty; OTF_E_ID_LENGTH (sticky) unless id_len bytes. */
void otf__jw_f_id(otf__jw *w, const char *key, otf_bytes_t id, size_t id_len);

/* Shared messages. */
void otf__jw_f_attributes(otf__jw *w, const char *key, const otf_attributes_t *a);
void otf__jw_any(otf__jw *w, const otf_any_value_t *v, uint32_t depth);
void otf__jw_f_resource(otf__jw *w, const otf_resource_t *r);
void otf__jw_f_scope(otf__jw *w, const otf_scope_t *s);

#endif
