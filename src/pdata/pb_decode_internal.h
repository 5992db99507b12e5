/* Protobuf decoder internals shared by pb_decode_*.c (otf__pbd prefix).
 *
 * Each message decoder takes the message's byte range [p, end), zeroes its
 * output struct (proto3: absent = zero value) and walks the fields with a
 * switch on the field number. Repeated message fields get exact-size arena
 * arrays: a first scan of the enclosing message (tags and skips only,
 * otf__pbd_count) counts them, then the decode pass fills them.
 *
 * Errors: the field readers below and the message decoders fill d->err at
 * the point of failure (code, byte offset, detail, innermost field name);
 * each enclosing level then prepends its field name with otf__perr_push as
 * the error unwinds. The inline readers return a constant (or the known
 * nonzero rc) after calling a helper, so the compiler can see that the
 * outputs are set whenever 0 is returned. The helpers are cold and only
 * called on failure, and the field name arguments are compile-time
 * constants that the compiler only materialises on the failure branch of
 * the inlined readers.
 *
 * Singular message fields that occur more than once: each occurrence is
 * decoded (so each is validated), and the last one replaces the earlier
 * ones whole. Protobuf would merge them; OTLP producers never repeat them,
 * and merging would need a second arena copy of every repeated field.
 */
#ifndef OTF_PDATA_PB_DECODE_INTERNAL_H
#define OTF_PDATA_PB_DECODE_INTERNAL_H

#include "otflow/arena.h"
#include "otflow/err.h"
#include "otflow/pdata.h"
#include "otflow/pdata_codec.h"
#include "pb_wire.h"
#include "pdata_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__)
#define OTF__COLD   __attribute__((cold, noinline))
#define OTF__INLINE static inline __attribute__((always_inline))
#else
#define OTF__COLD
#define OTF__INLINE static inline
#endif

typedef struct otf__pbd {
	const uint8_t *base; /* start of the input, for error offsets */
	otf_arena_t *arena;
	otf_pdata_error_t *err; /* may be NULL */
	uint32_t max_depth;     /* AnyValue nesting limit */
} otf__pbd_t;

/* Checks arguments and limits and sets up d. limits NULL, or a limit of 0,
 * selects the default (as the JSON decoder does). Use d->base, never data,
 * as the input start: it is valid also for an empty NULL input. */
int otf__pbd_begin(otf__pbd_t *d, const void *out, const uint8_t *data, size_t len,
                   otf_arena_t *arena, const otf_pdata_limits_t *limits, otf_pdata_error_t *err);

/* ---- cold error helpers: set d->err, prepend field (if not NULL), return rc ---- */

/* A wire-level failure (rc from pb_wire) of the item starting at `at`. */
int otf__pbd_fail(const otf__pbd_t *d, int rc, const uint8_t *at, const uint8_t *end,
                  const char *field) OTF__COLD;
int otf__pbd_fail_wt(const otf__pbd_t *d, const uint8_t *at, uint32_t wt, uint32_t want,
                     const char *field) OTF__COLD;
int otf__pbd_fail_id(const otf__pbd_t *d, const uint8_t *at, size_t got, size_t want,
                     const char *field) OTF__COLD;
int otf__pbd_fail_utf8(const otf__pbd_t *d, const uint8_t *s, size_t n,
                       const char *field) OTF__COLD;
int otf__pbd_fail_nomem(const otf__pbd_t *d, const uint8_t *at, const char *field) OTF__COLD;
/* A tag that could not be read (field 0), or unknown field `field` of wire
 * type wt that could not be skipped. */
int otf__pbd_fail_tag(const otf__pbd_t *d, int rc, const uint8_t *at, const uint8_t *end,
                      uint32_t field, uint32_t wt) OTF__COLD;
/* A sub-message failed: prepend "field[index]" (index < 0: "field"). */
int otf__pbd_push(const otf__pbd_t *d, int rc, const char *field, long index) OTF__COLD;

/* ---- wire readers ----
 * Same contracts as otf__pb_varint, otf__pb_tag, otf__pb_len and
 * otf__pb_skip in pb_wire.h, but their slow path takes neither the
 * cursor's nor the value's address (the result comes back in registers),
 * so after inlining the decode loops keep the cursor in a register instead
 * of storing it to the stack at every field. */

typedef struct otf__pbd_vr {
	uint64_t v;
	int n; /* bytes read, or a negative OTF_E_* code */
} otf__pbd_vr;

otf__pbd_vr otf__pbd_varint_slow(const uint8_t *p, const uint8_t *end);

OTF__INLINE int otf__pbd_rv(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	if (OTF_LIKELY(p < end && p[0] < 0x80)) {
		*v = p[0];
		*pp = p + 1;
		return 0;
	}
	if (OTF_LIKELY(end - p >= 2 && p[1] < 0x80)) {
		*v = (uint64_t)(p[0] & 0x7f) | ((uint64_t)p[1] << 7);
		*pp = p + 2;
		return 0;
	}
	otf__pbd_vr r = otf__pbd_varint_slow(p, end);
	if (OTF_UNLIKELY(r.n < 0))
		return r.n;
	*v = r.v;
	*pp = p + r.n;
	return 0;
}

OTF__INLINE int otf__pbd_rtag(const uint8_t **pp, const uint8_t *end, uint32_t *field, uint32_t *wt)
{
	uint64_t t;
	int rc = otf__pbd_rv(pp, end, &t);
	if (OTF_UNLIKELY(rc))
		return rc;
	if (OTF_UNLIKELY(t > 0xffffffffu || (t >> 3) == 0))
		return OTF_E_FIELD_NUMBER;
	*field = (uint32_t)(t >> 3);
	*wt = (uint32_t)(t & 7);
	return 0;
}

OTF__INLINE int otf__pbd_rlen(const uint8_t **pp, const uint8_t *end, const uint8_t **sub,
                              size_t *n)
{
	uint64_t l;
	int rc = otf__pbd_rv(pp, end, &l);
	if (OTF_UNLIKELY(rc))
		return rc;
	if (OTF_UNLIKELY(l > (uint64_t)(end - *pp)))
		return OTF_E_LENGTH;
	*sub = *pp;
	*n = (size_t)l;
	*pp += l;
	return 0;
}

/* Groups are rejected, as in otf__pb_skip. */
static inline int otf__pbd_rskip(const uint8_t **pp, const uint8_t *end, uint32_t wt)
{
	uint64_t v;
	const uint8_t *sub;
	size_t n;
	switch (wt) {
	case OTF_WT_VARINT:
		return otf__pbd_rv(pp, end, &v);
	case OTF_WT_I64:
		if (OTF_UNLIKELY(end - *pp < 8))
			return OTF_E_TRUNCATED;
		*pp += 8;
		return 0;
	case OTF_WT_LEN:
		return otf__pbd_rlen(pp, end, &sub, &n);
	case OTF_WT_I32:
		if (OTF_UNLIKELY(end - *pp < 4))
			return OTF_E_TRUNCATED;
		*pp += 4;
		return 0;
	default:
		return OTF_E_WIRETYPE;
	}
}

/* ---- the first scan ---- */

/* Counts the LEN-typed occurrences of up to three field numbers (0 = none)
 * in [p, end) into n[0..2]. Stops quietly at malformed input: the decode pass
 * that follows reports it with its field path, and it never gets past the
 * point where this scan stopped, so the counts are never too small. */
static inline void otf__pbd_count(const uint8_t *p, const uint8_t *end, uint32_t fa, uint32_t fb,
                                  uint32_t fc, size_t n[3])
{
	size_t na = 0, nb = 0, nc = 0; /* locals, not n[]: they stay in registers */
	while (p < end) {
		uint64_t t, l;
		if (OTF_UNLIKELY(otf__pbd_rv(&p, end, &t)))
			break;
		uint32_t wt = (uint32_t)t & 7;
		if (OTF_LIKELY(wt == OTF_WT_LEN)) {
			if (OTF_UNLIKELY(otf__pbd_rv(&p, end, &l) || l > (uint64_t)(end - p)))
				break;
			p += l;
			t >>= 3;
			na += t == fa;
			nb += t == fb;
			nc += t == fc;
		} else if (wt == OTF_WT_I64) {
			if (OTF_UNLIKELY(end - p < 8))
				break;
			p += 8;
		} else if (wt == OTF_WT_VARINT) {
			if (OTF_UNLIKELY(otf__pbd_rv(&p, end, &l)))
				break;
		} else if (wt == OTF_WT_I32) {
			if (OTF_UNLIKELY(end - p < 4))
				break;
			p += 4;
		} else {
			break;
		}
	}
	n[0] = na;
	n[1] = nb;
	n[2] = nc;
}

/* An uninitialised arena array of n elements (NULL when n is 0). */
static inline int otf__pbd_array(const otf__pbd_t *d, void **out, size_t n, size_t size,
                                 const uint8_t *at, const char *field)
{
	if (!n) {
		*out = NULL;
		return 0;
	}
	if (OTF_UNLIKELY(n > SIZE_MAX / size)) {
		(void)otf__pbd_fail_nomem(d, at, field);
		return OTF_E_NOMEM;
	}
	void *a = otf_arena_alloc(d->arena, n * size);
	if (OTF_UNLIKELY(!a)) {
		(void)otf__pbd_fail_nomem(d, at, field);
		return OTF_E_NOMEM;
	}
	*out = a;
	return 0;
}

/* ---- field readers: the tag is read, *pp is at the value ---- */

/* UTF-8 check with an inline all-ASCII fast path (most OTLP strings):
 * OR the bytes together a word at a time (overlapping loads for the tail)
 * and test the high bits once. */
OTF__INLINE bool otf__pbd_utf8_ok(const uint8_t *s, size_t n)
{
	uint64_t acc = 0, x, y;
	if (n >= 8) {
		size_t i = 0;
		for (; i + 32 <= n; i += 32) {
			uint64_t w[4];
			memcpy(w, s + i, 32);
			acc |= w[0] | w[1] | w[2] | w[3];
		}
		for (; i + 8 <= n; i += 8) {
			memcpy(&x, s + i, 8);
			acc |= x;
		}
		memcpy(&x, s + n - 8, 8);
		acc |= x;
	} else if (n >= 4) {
		uint32_t a, b;
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		acc = a | b;
	} else {
		x = n ? s[0] : 0;
		y = n > 1 ? s[n - 1] | s[n / 2] : 0;
		acc = x | y;
	}
	if (OTF_LIKELY((acc & 0x8080808080808080ull) == 0))
		return true;
	return otf__utf8_valid(s, n);
}

/* A LEN field's range (sub-message or bytes). */
OTF__INLINE int otf__pbd_len(const otf__pbd_t *d, const uint8_t **pp, const uint8_t *end,
                             uint32_t wt, const uint8_t **sub, const uint8_t **subend,
                             const char *field)
{
	const uint8_t *at = *pp;
	size_t n;
	if (OTF_UNLIKELY(wt != OTF_WT_LEN)) {
		(void)otf__pbd_fail_wt(d, at, wt, OTF_WT_LEN, field);
		return OTF_E_WIRETYPE;
	}
	int rc = otf__pbd_rlen(pp, end, sub, &n);
	if (OTF_UNLIKELY(rc)) {
		(void)otf__pbd_fail(d, rc, at, end, field);
		return rc;
	}
	*subend = *sub + n;
	return 0;
}

static inline int otf__pbd_bytes(const otf__pbd_t *d, const uint8_t **pp, const uint8_t *end,
                                 uint32_t wt, otf_bytes_t *out, const char *field)
{
	const uint8_t *s, *se;
	int rc = otf__pbd_len(d, pp, end, wt, &s, &se, field);
	if (OTF_UNLIKELY(rc))
		return rc;
	out->ptr = s;
	out->len = (size_t)(se - s);
	return 0;
}

OTF__INLINE int otf__pbd_str(const otf__pbd_t *d, const uint8_t **pp, const uint8_t *end,
                             uint32_t wt, otf_bytes_t *out, const char *field)
{
	const uint8_t *s, *se;
	int rc = otf__pbd_len(d, pp, end, wt, &s, &se, field);
	if (OTF_UNLIKELY(rc))
		return rc;
	size_t n = (size_t)(se - s);
	if (OTF_UNLIKELY(!otf__pbd_utf8_ok(s, n))) {
		(void)otf__pbd_fail_utf8(d, s, n, field);
		return OTF_E_UTF8;
	}
	out->ptr = s;
	out->len = n;
	return 0;
}

/* A trace id (want 16) or span id (want 8): empty or exactly want bytes. */
static inline int otf__pbd_id(const otf__pbd_t *d, const uint8_t **pp, const uint8_t *end,
                              uint32_t wt, otf_bytes_t *out, size_t want, const char *field)
{
	const uint8_t *s, *se;
	int rc = otf__pbd_len(d, pp, end, wt, &s, &se, field);
	if (OTF_UNLIKELY(rc))
		return rc;
	size_t n = (size_t)(se - s);
	if (OTF_UNLIKELY(n != want && n != 0)) {
		(void)otf__pbd_fail_id(d, s, n, want, field);
		return OTF_E_ID_LENGTH;
	}
	out->ptr = s;
	out->len = n;
	return 0;
}

static inline int otf__pbd_varint(const otf__pbd_t *d, const uint8_t **pp, const uint8_t *end,
                                  uint32_t wt, uint64_t *v, const char *field)
{
	const uint8_t *at = *pp;
	if (OTF_UNLIKELY(wt != OTF_WT_VARINT)) {
		(void)otf__pbd_fail_wt(d, at, wt, OTF_WT_VARINT, field);
		return OTF_E_WIRETYPE;
	}
	int rc = otf__pbd_rv(pp, end, v);
	if (OTF_UNLIKELY(rc)) {
		(void)otf__pbd_fail(d, rc, at, end, field);
		return rc;
	}
	return 0;
}

/* uint32 and int32 (enums) truncate the varint to 32 bits, as protobuf does. */
static inline int otf__pbd_u32(const otf__pbd_t *d, const uint8_t **pp, const uint8_t *end,
                               uint32_t wt, uint32_t *out, const char *field)
{
	uint64_t v = 0;
	int rc = otf__pbd_varint(d, pp, end, wt, &v, field);
	*out = (uint32_t)v;
	return rc;
}

static inline int otf__pbd_i32(const otf__pbd_t *d, const uint8_t **pp, const uint8_t *end,
                               uint32_t wt, int32_t *out, const char *field)
{
	uint64_t v = 0;
	int rc = otf__pbd_varint(d, pp, end, wt, &v, field);
	*out = (int32_t)(uint32_t)v;
	return rc;
}

static inline int otf__pbd_s32(const otf__pbd_t *d, const uint8_t **pp, const uint8_t *end,
                               uint32_t wt, int32_t *out, const char *field)
{
	uint64_t v = 0;
	int rc = otf__pbd_varint(d, pp, end, wt, &v, field);
	*out = otf__pb_zigzag32(v);
	return rc;
}

static inline int otf__pbd_fixed64(const otf__pbd_t *d, const uint8_t **pp, const uint8_t *end,
                                   uint32_t wt, uint64_t *out, const char *field)
{
	const uint8_t *at = *pp;
	if (OTF_UNLIKELY(wt != OTF_WT_I64)) {
		(void)otf__pbd_fail_wt(d, at, wt, OTF_WT_I64, field);
		return OTF_E_WIRETYPE;
	}
	int rc = otf__pb_fixed64(pp, end, out);
	if (OTF_UNLIKELY(rc)) {
		(void)otf__pbd_fail(d, rc, at, end, field);
		return rc;
	}
	return 0;
}

static inline int otf__pbd_double(const otf__pbd_t *d, const uint8_t **pp, const uint8_t *end,
                                  uint32_t wt, double *out, const char *field)
{
	uint64_t v = 0;
	int rc = otf__pbd_fixed64(d, pp, end, wt, &v, field);
	*out = otf__pb_u64_to_double(v);
	return rc;
}

static inline int otf__pbd_fixed32(const otf__pbd_t *d, const uint8_t **pp, const uint8_t *end,
                                   uint32_t wt, uint32_t *out, const char *field)
{
	const uint8_t *at = *pp;
	if (OTF_UNLIKELY(wt != OTF_WT_I32)) {
		(void)otf__pbd_fail_wt(d, at, wt, OTF_WT_I32, field);
		return OTF_E_WIRETYPE;
	}
	int rc = otf__pb_fixed32(pp, end, out);
	if (OTF_UNLIKELY(rc)) {
		(void)otf__pbd_fail(d, rc, at, end, field);
		return rc;
	}
	return 0;
}

/* Skips an unknown field whose tag starts at `at`. A group is reported at
 * its tag (the wire type is the problem), anything else at the value. */
static inline int otf__pbd_skip(const otf__pbd_t *d, const uint8_t **pp, const uint8_t *end,
                                const uint8_t *at, uint32_t field, uint32_t wt)
{
	const uint8_t *v = *pp;
	int rc = otf__pbd_rskip(pp, end, wt);
	if (OTF_UNLIKELY(rc)) {
		(void)otf__pbd_fail_tag(d, rc, rc == OTF_E_WIRETYPE ? at : v, end, field, wt);
		return rc;
	}
	return 0;
}

/* ---- repeated scalars (pb_decode_common.c) ---- */

/* The first scan of a message with repeated scalars: LEN occurrences of
 * message fields la and lb into n[0], n[1]; elements of the repeated scalar
 * fields sa and sb into n[2], n[3]. fixed: the scalars are 8-byte (I64, or
 * packed len / 8), else varints (VARINT, or one per terminating byte of a
 * packed run). Never too small, as with otf__pbd_count. */
void otf__pbd_count_scalars(const uint8_t *p, const uint8_t *end, uint32_t la, uint32_t lb,
                            uint32_t sa, uint32_t sb, bool fixed, size_t n[4]);
/* One occurrence (packed or not) of a repeated fixed64/double or varint
 * field, appended at arr[*len]; arr was sized by otf__pbd_count_scalars.
 * Elements are copied: the wire is not aligned. */
int otf__pbd_rep_fixed64(const otf__pbd_t *d, const uint8_t **pp, const uint8_t *end, uint32_t wt,
                         uint64_t *arr, size_t *len, const char *field);
int otf__pbd_rep_varint(const otf__pbd_t *d, const uint8_t **pp, const uint8_t *end, uint32_t wt,
                        uint64_t *arr, size_t *len, const char *field);

/* ---- shared message decoders (pb_decode_common.c) ---- */

/* AnyValue at nesting depth `depth` (1 for a top-level value). */
int otf__pbd_any(const otf__pbd_t *d, otf_any_value_t *v, const uint8_t *p, const uint8_t *end,
                 uint32_t depth);
int otf__pbd_kv(const otf__pbd_t *d, otf_key_value_t *kv, const uint8_t *p, const uint8_t *end,
                uint32_t depth);
int otf__pbd_resource(const otf__pbd_t *d, otf_resource_t *r, const uint8_t *p, const uint8_t *end);
int otf__pbd_scope(const otf__pbd_t *d, otf_scope_t *s, const uint8_t *p, const uint8_t *end);

/* Resource* and Scope* messages of every signal share one shape: the head
 * (Resource or InstrumentationScope) = 1, a repeated child = 2, schema_url
 * = 3. One decoder serves all six; elem decodes one child into its slot. */
typedef int (*otf__pbd_elem_fn)(const otf__pbd_t *d, void *elem, const uint8_t *p,
                                const uint8_t *end);
typedef struct otf__pbd_group_desc {
	bool resource_head; /* head is a Resource, else an InstrumentationScope */
	const char *items_name;
	size_t elem_size;
	otf__pbd_elem_fn elem;
} otf__pbd_group_desc_t;
/* head: an otf_resource_t or otf_scope_t; items, items_len and schema_url
 * must be zero on entry (the caller clears its struct). */
int otf__pbd_group(const otf__pbd_t *d, const otf__pbd_group_desc_t *g, void *head, void **items,
                   size_t *items_len, otf_bytes_t *schema_url, const uint8_t *p,
                   const uint8_t *end);

/* One `repeated KeyValue` element (a top-level attribute, depth 1) into
 * a->items[a->len++]; the array was sized by the first scan. Fills d->err
 * with "field[index]" on failure. */
static inline int otf__pbd_attr(const otf__pbd_t *d, otf_attributes_t *a, const uint8_t **pp,
                                const uint8_t *end, uint32_t wt, const char *field)
{
	const uint8_t *s, *se;
	int rc = otf__pbd_len(d, pp, end, wt, &s, &se, field);
	if (OTF_UNLIKELY(rc))
		return rc;
	rc = otf__pbd_kv(d, &a->items[a->len], s, se, 1);
	if (OTF_UNLIKELY(rc))
		return otf__pbd_push(d, rc, field, (long)a->len);
	a->len++;
	return 0;
}

#endif
