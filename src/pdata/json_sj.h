/* A thin C interface over simdjson's On-Demand parser (json_sj.cc), for the
 * OTLP/JSON decoders: the walkers in json_decode_common.c pull the document
 * field by field, straight into the arena tree, with no intermediate tree.
 *
 * Shapes: a document is walked once, front to back. An object or array
 * value handed to a callback must be walked (otf__jsj_object/_array) inside
 * that callback or not at all; what the callback leaves unwalked is still
 * validated, so malformed JSON anywhere in the input is an error even under
 * an unknown key. Scalars arrive already read: a string unescaped (bytes in
 * the parser's buffer, valid until the next parse on this thread), a number
 * as its text (checked against the JSON number grammar, converted by the
 * caller), a boolean as b.
 *
 * Thread rules: one parser per thread (thread-local, reused, so a request
 * does not allocate the structural index again); a parse must end before
 * the next one starts on the same thread.
 *
 * Errors: callbacks return 0 or a negative OTF_E_* code, which is returned
 * unchanged. A malformed document (syntax, nesting deeper than max_depth,
 * invalid UTF-8) returns OTF__JSJ_SYNTAX; otf__jsj_error() then has the
 * OTF_E_JSON / OTF_E_DEPTH / OTF_E_UTF8 code, the byte offset and a detail.
 */
#ifndef OTF_PDATA_JSON_SJ_H
#define OTF_PDATA_JSON_SJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Internal: a syntax error is recorded in the parser (not an OTF_E_* code,
 * so that the walkers add no field path to it). */
#define OTF__JSJ_SYNTAX (-100000)

typedef enum otf__jtype {
	OTF__JT_NULL,
	OTF__JT_BOOL,
	OTF__JT_INT, /* a number without fraction or exponent */
	OTF__JT_DOUBLE,
	OTF__JT_STRING,
	OTF__JT_OBJECT,
	OTF__JT_ARRAY,
} otf__jtype;

typedef struct otf__jsj otf__jsj;

typedef struct otf__jval {
	otf__jtype type;
	bool b;              /* OTF__JT_BOOL */
	bool surrogate;      /* string held a lone surrogate escape, rendered as U+FFFD */
	bool walked;         /* set once the container was walked */
	bool key_underscore; /* object member: its key holds a '_' */
	bool has_d;          /* OTF__JT_DOUBLE: d holds the value (else convert s) */
	double d;
	const char *s; /* string bytes (unescaped) or number text */
	size_t n;      /* their length */
	size_t off;    /* string: offset of its opening quote in the input */
	void *impl;    /* container: the On-Demand value (or document) */
	otf__jsj *p;
} otf__jval;

typedef struct otf__jsj_error_t {
	int code;      /* OTF_E_JSON, OTF_E_DEPTH or OTF_E_UTF8 */
	size_t offset; /* byte offset into the input */
	char detail[96];
} otf__jsj_error_t;

/* key is NUL-terminated (cut at an escaped NUL). */
typedef int (*otf__jsj_field_cb)(void *ctx, const char *key, otf__jval *v);
typedef int (*otf__jsj_begin_cb)(void *ctx, size_t count);
typedef int (*otf__jsj_elem_cb)(void *ctx, size_t index, otf__jval *v);

/* The calling thread's parser. NULL when out of memory. */
otf__jsj *otf__jsj_get(void);

/* Starts a document (input copied into a padded buffer) and reads its top
 * value into *root. max_depth bounds object/array nesting. surrogates: the
 * input holds a lone surrogate escape somewhere (strings with escapes then
 * unescape json-c's way, U+FFFD for it). Returns 0, OTF_E_NOMEM or
 * OTF__JSJ_SYNTAX. */
int otf__jsj_parse(otf__jsj *p, const char *json, size_t len, size_t max_depth, bool surrogates,
                   otf__jval *root);
/* After the root value was walked: OTF__JSJ_SYNTAX unless only whitespace
 * follows. */
int otf__jsj_finish(otf__jsj *p);
/* Parses and walks the whole document without a tree: 0 or
 * OTF__JSJ_SYNTAX. Used after a decoder's error so that a syntax error
 * further on wins, as it did when the whole input was tokenized first. */
int otf__jsj_validate(otf__jsj *p, const char *json, size_t len, size_t max_depth, bool surrogates);
const otf__jsj_error_t *otf__jsj_error(const otf__jsj *p);

/* v must be an OTF__JT_OBJECT: cb for each member in input order. */
int otf__jsj_object(otf__jval *v, otf__jsj_field_cb cb, void *ctx);
/* v must be an OTF__JT_ARRAY: begin with the element count, then elem for
 * each element. */
int otf__jsj_array(otf__jval *v, otf__jsj_begin_cb begin, otf__jsj_elem_cb elem, void *ctx);

/* Offset of the first byte of s that is not part of valid UTF-8, n if
 * none. */
size_t otf__jsj_first_bad_utf8(const unsigned char *s, size_t n);

/* Frees the calling thread's parser buffers (tests: leak checks). */
void otf__jsj_release(void);
/* Frees them when the last input was larger than OTF__JSJ_KEEP_BYTES, so
 * that one large request does not pin ~7x its size per thread; the
 * decoders call it when they end. */
#define OTF__JSJ_KEEP_BYTES (2u << 20)
void otf__jsj_trim(void);

#ifdef __cplusplus
}
#endif

#endif
