/* Protobuf views, the validating walk: the specialised walks of spans, log
 * records, data points and the lists holding them (see
 * view_validate_internal.h); the tables and the table walk they fall back to
 * are in view_validate.c. */
#include "view_validate_internal.h"

/* ---- fast paths ----
 *
 * The table walk (view_validate.c) costs a table load, an indirect jump and a path
 * bookkeeping step per field; spans, log records and data points are almost
 * all of a request, so each has its own walk: a switch on the whole tag (field
 * and wire type in one compare), fixed-size fields skipped with one bounds
 * check, and attributes of the common shapes checked in one pass. A fast walk
 * accepts only what the table walk accepts and counts as it does (in the same
 * order, so a limit is crossed at the same element); on anything else (an
 * error, an unknown field, a multi-byte length where it was not expected) it
 * restores the counts and returns VF_BAIL, and the caller walks the same bytes
 * with the table walk, which finds the error and reports it with its path.
 * Valid input of the usual shapes costs one walk. A refused request costs
 * about two walks of the record list holding the error, and a few more of
 * the bad record (each level of fast walk above it bails in turn, and the
 * table walk tries the fast walk of each element again): still linear. */

#define VF_BAIL 1

/* 16 bytes as a vector (GCC and clang lower it to one SSE2 / NEON load). */
typedef uint64_t v16_t __attribute__((vector_size(16)));

OTF__INLINE v16_t vld16(const uint8_t *s)
{
	v16_t x;
	memcpy(&x, s, 16);
	return x;
}

/* All bytes below 0x80: ASCII, so valid UTF-8, and every varint in
 * it is one byte. Overlapping loads cover the tail, so the strings of an
 * attribute (16-64 bytes, most of them) take two or four loads and no
 * loop. */
OTF__INLINE bool vascii(const uint8_t *s, size_t n)
{
	uint64_t acc;
	if (n >= 16) {
		v16_t x = vld16(s + n - 16);
		if (n > 32) {
			const uint8_t *q = s, *last = s + n - 32;
			for (; q < last; q += 32)
				x |= vld16(q) | vld16(q + 16);
			x |= vld16(last);
		} else {
			x |= vld16(s);
		}
		acc = x[0] | x[1];
	} else if (n >= 8) {
		uint64_t a, b;
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		acc = a | b;
	} else if (n >= 4) {
		uint32_t a, b;
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		acc = a | b;
	} else if (n) {
		acc = (uint64_t)s[0] | s[n - 1] | s[n / 2];
	} else {
		acc = 0;
	}
	return (acc & 0x8080808080808080ull) == 0;
}

/* KeyValue {key = 1: string; value = 2: AnyValue} in its usual encoding: the
 * key first, then the value holding one string, bool, int or double (or
 * nothing). Anything else (non-ASCII key or string, nested values, other
 * field orders) is left to otf__vv_walk_kv. */
OTF__INLINE bool kv_fast(const uint8_t *s, const uint8_t *se)
{
	size_t n = (size_t)(se - s);
	if (n < 4 || s[0] != 0x0a)
		return false;
	size_t lk = s[1];
	/* The most common: a string_value. Key length, key, 0x12, value length,
	 * 0x0a, string length and string are one run that must be ASCII, which
	 * also makes each length a one-byte varint, as read here. The four
	 * bytes after the key are compared as one word: 0x12, n - lk - 4,
	 * 0x0a, n - lk - 6 (each below 0x80 when the run is ASCII). */
	size_t rest = n - lk; /* wraps when lk >= n: out of the range below */
	if (rest - 6 < 0x7e) {
		const uint8_t *a = s + 2 + lk; /* the compiler merges these loads */
		uint32_t w =
		    a[0] | (uint32_t)a[1] << 8 | (uint32_t)a[2] << 16 | (uint32_t)a[3] << 24;
		/* 0x12 | (rest - 4) << 8 | 0x0a << 16 | (rest - 6) << 24, in two
		 * operations (no byte borrows: rest - 6 >= 0) */
		uint32_t want = (uint32_t)rest * 0x01000100u + (0x000a0012u - 0x06000400u);
		if (w == want)
			return vascii(s + 1, n - 1);
	}
	if (lk >= 0x80 || lk + 4 > n || s[2 + lk] != 0x12)
		return false;
	size_t lv = s[3 + lk];
	if (lv >= 0x80 || lk + 4 + lv != n)
		return false;
	const uint8_t *a = s + 4 + lk;
	if (lv == 0)
		return vascii(s + 2, lk); /* an empty AnyValue */
	if (lv < 2)
		return false;
	switch (a[0]) {
	case 0x10: /* bool_value */
	case 0x18: /* int_value: a varint of 1-9 bytes ending the value */
		if (lv > 10 || a[lv - 1] >= 0x80)
			return false;
		for (size_t i = 1; i + 1 < lv; i++)
			if (a[i] < 0x80)
				return false;
		return vascii(s + 2, lk);
	case 0x21: /* double_value */
		return lv == 9 && vascii(s + 2, lk);
	default:
		return false; /* a string with a multi-byte length, nested values, ... */
	}
}

/* What the fast walks may change, to restore on a bail. */
typedef struct vsaved {
	size_t records, items, attributes;
} vsaved_t;

static int bail(vwalk_t *v, vsaved_t sv)
{
	v->c->records = sv.records;
	v->c->items = sv.items;
	v->c->attributes = sv.attributes;
	return VF_BAIL;
}

/* A LEN value at p: [*s, *se) and p past it, false when it does not fit. */
OTF__INLINE bool flen(const uint8_t **pp, const uint8_t *end, const uint8_t **s, const uint8_t **se)
{
	const uint8_t *sub;
	size_t n;
	if (OTF_UNLIKELY(otf__pbd_rlen(pp, end, &sub, &n)))
		return false;
	*s = sub;
	*se = sub + n;
	return true;
}

/* One attribute (a KeyValue at depth 1), counted as VK_ATTR counts it. */
OTF__INLINE bool fattr(vwalk_t *v, const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *s, *se;
	if (!flen(pp, end, &s, &se) || OTF_UNLIKELY(++v->c->attributes > v->max_attributes))
		return false;
	return kv_fast(s, se) || otf__vv_walk_kv(v, s, se, 1) == 0;
}

/* A run of attributes: the encoders write them back to back, so the next
 * one is taken here, without a trip through the caller's switch. */
OTF__INLINE bool fattrs(vwalk_t *v, const uint8_t **pp, const uint8_t *end, uint8_t tag)
{
	do {
		if (!fattr(v, pp, end))
			return false;
	} while (*pp < end && **pp == tag && (++*pp, true));
	return true;
}

/* A string field: in range and valid UTF-8. */
OTF__INLINE bool fstr(const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *s, *se;
	return flen(pp, end, &s, &se) && otf__pbd_utf8_ok(s, (size_t)(se - s));
}

/* A trace or span id: empty or exactly want bytes. */
OTF__INLINE bool fid(const uint8_t **pp, const uint8_t *end, size_t want)
{
	const uint8_t *s, *se;
	return flen(pp, end, &s, &se) && (se == s || (size_t)(se - s) == want);
}

OTF__INLINE bool fskip(const uint8_t **pp, const uint8_t *end, size_t n)
{
	if (OTF_UNLIKELY((size_t)(end - *pp) < n))
		return false;
	*pp += n;
	return true;
}

OTF__INLINE bool fvarint(const uint8_t **pp, const uint8_t *end)
{
	uint64_t u;
	return otf__pbd_rv(pp, end, &u) == 0;
}

/* A singular sub-message (VK_MSG), by its fast walk or its table. */
static bool fmsg(vwalk_t *v, const uint8_t **pp, const uint8_t *end, const vmsg_t *m)
{
	const uint8_t *s, *se;
	if (!flen(pp, end, &s, &se))
		return false;
	return (m->fast && m->fast(v, s, se) == 0) || otf__vv_walk_msg(v, m, s, se) == 0;
}

/* A repeated sub-message element (VK_ITEM), counted as walk_sub counts it. */
static bool fitem(vwalk_t *v, const uint8_t **pp, const uint8_t *end, const vmsg_t *m)
{
	if (OTF_UNLIKELY(++v->c->items > v->max_items))
		return false;
	return fmsg(v, pp, end, m);
}

/* A record (span, log record, data point; VK_ITEM of VC_RECORD), counted as
 * walk_sub counts it. A record the fast walk leaves is walked by its table
 * here, so one unusual record does not send the whole list back. */
static bool frecord(vwalk_t *v, const uint8_t **pp, const uint8_t *end, const vmsg_t *m)
{
	const uint8_t *s, *se;
	if (!flen(pp, end, &s, &se) || OTF_UNLIKELY(++v->c->items > v->max_items))
		return false;
	v->c->records++;
	return m->fast(v, s, se) == 0 || otf__vv_walk_msg(v, m, s, se) == 0;
}

/* A list of records with the fields around it (ScopeSpans, ScopeLogs,
 * Gauge, Sum, Histogram): rec is the records' tag, str a string field's tag
 * (schema_url), msg a singular message's (scope) and var1, var2 varints'
 * (aggregation_temporality, is_monotonic); 0 where the message has none. */
typedef struct vlist {
	uint8_t rec, str, msg, var1, var2;
	const vmsg_t *rec_m, *msg_m;
} vlist_t;

OTF__INLINE int fast_list(vwalk_t *v, const uint8_t *p, const uint8_t *end, const vlist_t *l)
{
	vsaved_t sv = {v->c->records, v->c->items, v->c->attributes};
	while (p < end) {
		uint64_t t;
		bool ok;
		if (OTF_UNLIKELY(otf__pbd_rv(&p, end, &t)))
			return bail(v, sv);
		if (t == l->rec) {
			do
				ok = frecord(v, &p, end, l->rec_m);
			while (ok && p < end && *p == l->rec && (++p, true));
		} else if (t == l->str && t) {
			ok = fstr(&p, end);
		} else if (t == l->msg && t) {
			ok = fmsg(v, &p, end, l->msg_m);
		} else if ((t == l->var1 || t == l->var2) && t) {
			ok = fvarint(&p, end);
		} else {
			ok = false;
		}
		if (OTF_UNLIKELY(!ok))
			return bail(v, sv);
	}
	return 0;
}

/* A packed repeated fixed64 (bucket_counts, explicit_bounds). */
OTF__INLINE bool fpacked64(const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *s, *se;
	return flen(pp, end, &s, &se) && (size_t)(se - s) % 8 == 0;
}

/* Tags: field number << 3 | wire type, as the varint on the wire. */
#define T(f, wt) (((f) << 3) | OTF_WT_##wt)

int otf__vv_fast_event(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	vsaved_t sv = {v->c->records, v->c->items, v->c->attributes};
	while (p < end) {
		uint64_t t;
		bool ok;
		if (OTF_UNLIKELY(otf__pbd_rv(&p, end, &t)))
			return bail(v, sv);
		switch (t) {
		case T(1, I64): /* time_unix_nano */
			ok = fskip(&p, end, 8);
			break;
		case T(2, LEN): /* name */
			ok = fstr(&p, end);
			break;
		case T(3, LEN): /* attributes */
			ok = fattrs(v, &p, end, T(3, LEN));
			break;
		case T(4, VARINT): /* dropped_attributes_count */
			ok = fvarint(&p, end);
			break;
		default:
			ok = false;
			break;
		}
		if (OTF_UNLIKELY(!ok))
			return bail(v, sv);
	}
	return 0;
}

int otf__vv_fast_status(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	(void)v; /* nothing in a Status is counted */
	while (p < end) {
		uint64_t t;
		bool ok;
		if (OTF_UNLIKELY(otf__pbd_rv(&p, end, &t)))
			return VF_BAIL;
		switch (t) {
		case T(2, LEN): /* message */
			ok = fstr(&p, end);
			break;
		case T(3, VARINT): /* code */
			ok = fvarint(&p, end);
			break;
		default:
			ok = false;
			break;
		}
		if (OTF_UNLIKELY(!ok))
			return VF_BAIL;
	}
	return 0;
}

/* LogRecord.body: mostly one string_value. */
OTF__INLINE bool fbody(vwalk_t *v, const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *s, *se;
	if (!flen(pp, end, &s, &se))
		return false;
	return (se - s >= 2 && s[0] == 0x0a && s[1] < 0x80 && s[1] == se - s - 2 &&
	        otf__pbd_utf8_ok(s + 2, s[1])) ||
	       otf__vv_walk_any(v, s, se, 1) == 0;
}

/* Is the next tag t? Then step over it. */
OTF__INLINE bool ftag(const uint8_t **pp, const uint8_t *end, uint8_t t)
{
	if (*pp < end && **pp == t) {
		++*pp;
		return true;
	}
	return false;
}

int otf__vv_fast_log(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	vsaved_t sv = {v->c->records, v->c->items, v->c->attributes};
	/* The encoders (protobuf's, Go's pdata, ours) write fields in field
	 * number order: take them in that order first, one compare each (an
	 * absent field costs that compare), instead of a jump through the
	 * switch per field; whatever is left (another order, a repeated
	 * field, an error) goes through the switch loop below. */
	if (ftag(&p, end, T(1, I64)) && !fskip(&p, end, 8))
		return bail(v, sv);
	if (ftag(&p, end, T(2, VARINT)) && !fvarint(&p, end))
		return bail(v, sv);
	if (ftag(&p, end, T(3, LEN)) && !fstr(&p, end))
		return bail(v, sv);
	if (ftag(&p, end, T(5, LEN)) && !fbody(v, &p, end))
		return bail(v, sv);
	if (ftag(&p, end, T(6, LEN)) && !fattrs(v, &p, end, T(6, LEN)))
		return bail(v, sv);
	if (ftag(&p, end, T(7, VARINT)) && !fvarint(&p, end))
		return bail(v, sv);
	if (ftag(&p, end, T(8, I32)) && !fskip(&p, end, 4))
		return bail(v, sv);
	if (ftag(&p, end, T(9, LEN)) && !fid(&p, end, OTF_TRACE_ID_LEN))
		return bail(v, sv);
	if (ftag(&p, end, T(10, LEN)) && !fid(&p, end, OTF_SPAN_ID_LEN))
		return bail(v, sv);
	if (ftag(&p, end, T(11, I64)) && !fskip(&p, end, 8))
		return bail(v, sv);
	if (ftag(&p, end, T(12, LEN)) && !fstr(&p, end))
		return bail(v, sv);
	while (p < end) {
		/* Every LogRecord field has a one-byte tag: a longer one is
		 * an unknown field, which the table walk skips. */
		unsigned t = *p++;
		bool ok;
		switch (t) {
		case T(1, I64):  /* time_unix_nano */
		case T(11, I64): /* observed_time_unix_nano */
			ok = fskip(&p, end, 8);
			break;
		case T(2, VARINT): /* severity_number */
		case T(7, VARINT): /* dropped_attributes_count */
			ok = fvarint(&p, end);
			break;
		case T(3, LEN):  /* severity_text */
		case T(12, LEN): /* event_name */
			ok = fstr(&p, end);
			break;
		case T(5, LEN): /* body */
			ok = fbody(v, &p, end);
			break;
		case T(6, LEN): /* attributes */
			ok = fattrs(v, &p, end, T(6, LEN));
			break;
		case T(8, I32): /* flags */
			ok = fskip(&p, end, 4);
			break;
		case T(9, LEN): /* trace_id */
			ok = fid(&p, end, OTF_TRACE_ID_LEN);
			break;
		case T(10, LEN): /* span_id */
			ok = fid(&p, end, OTF_SPAN_ID_LEN);
			break;
		default:
			ok = false;
			break;
		}
		if (OTF_UNLIKELY(!ok))
			return bail(v, sv);
	}
	return 0;
}

int otf__vv_fast_span(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	vsaved_t sv = {v->c->records, v->c->items, v->c->attributes};
	while (p < end) {
		uint64_t t;
		bool ok;
		if (OTF_UNLIKELY(otf__pbd_rv(&p, end, &t)))
			return bail(v, sv);
		switch (t) {
		case T(1, LEN): /* trace_id */
			ok = fid(&p, end, OTF_TRACE_ID_LEN);
			break;
		case T(2, LEN): /* span_id */
		case T(4, LEN): /* parent_span_id */
			ok = fid(&p, end, OTF_SPAN_ID_LEN);
			break;
		case T(3, LEN): /* trace_state */
		case T(5, LEN): /* name */
			ok = fstr(&p, end);
			break;
		case T(6, VARINT):  /* kind */
		case T(10, VARINT): /* dropped_attributes_count */
		case T(12, VARINT): /* dropped_events_count */
		case T(14, VARINT): /* dropped_links_count */
			ok = fvarint(&p, end);
			break;
		case T(7, I64): /* start_time_unix_nano */
		case T(8, I64): /* end_time_unix_nano */
			ok = fskip(&p, end, 8);
			break;
		case T(9, LEN): /* attributes */
			ok = fattrs(v, &p, end, T(9, LEN));
			break;
		case T(11, LEN): /* events */
			ok = fitem(v, &p, end, &otf__vv_event);
			break;
		case T(13, LEN): /* links */
			ok = fitem(v, &p, end, &otf__vv_link);
			break;
		case T(15, LEN): /* status */
			ok = fmsg(v, &p, end, &otf__vv_status);
			break;
		case T(16, I32): /* flags */
			ok = fskip(&p, end, 4);
			break;
		default:
			ok = false;
			break;
		}
		if (OTF_UNLIKELY(!ok))
			return bail(v, sv);
	}
	return 0;
}

int otf__vv_fast_number_dp(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	vsaved_t sv = {v->c->records, v->c->items, v->c->attributes};
	while (p < end) {
		uint64_t t;
		bool ok;
		if (OTF_UNLIKELY(otf__pbd_rv(&p, end, &t)))
			return bail(v, sv);
		switch (t) {
		case T(2, I64): /* start_time_unix_nano */
		case T(3, I64): /* time_unix_nano */
		case T(4, I64): /* as_double */
		case T(6, I64): /* as_int */
			ok = fskip(&p, end, 8);
			break;
		case T(5, LEN): /* exemplars */
			ok = fitem(v, &p, end, &otf__vv_exemplar);
			break;
		case T(7, LEN): /* attributes */
			ok = fattrs(v, &p, end, T(7, LEN));
			break;
		case T(8, VARINT): /* flags */
			ok = fvarint(&p, end);
			break;
		default:
			ok = false;
			break;
		}
		if (OTF_UNLIKELY(!ok))
			return bail(v, sv);
	}
	return 0;
}

int otf__vv_fast_histogram_dp(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	vsaved_t sv = {v->c->records, v->c->items, v->c->attributes};
	while (p < end) {
		uint64_t t;
		bool ok;
		if (OTF_UNLIKELY(otf__pbd_rv(&p, end, &t)))
			return bail(v, sv);
		switch (t) {
		case T(2, I64):  /* start_time_unix_nano */
		case T(3, I64):  /* time_unix_nano */
		case T(4, I64):  /* count */
		case T(5, I64):  /* sum */
		case T(6, I64):  /* bucket_counts, one unpacked element */
		case T(7, I64):  /* explicit_bounds, one unpacked element */
		case T(11, I64): /* min */
		case T(12, I64): /* max */
			ok = fskip(&p, end, 8);
			break;
		case T(6, LEN): /* bucket_counts, packed */
		case T(7, LEN): /* explicit_bounds, packed */
			ok = fpacked64(&p, end);
			break;
		case T(8, LEN): /* exemplars */
			ok = fitem(v, &p, end, &otf__vv_exemplar);
			break;
		case T(9, LEN): /* attributes */
			ok = fattrs(v, &p, end, T(9, LEN));
			break;
		case T(10, VARINT): /* flags */
			ok = fvarint(&p, end);
			break;
		default:
			ok = false;
			break;
		}
		if (OTF_UNLIKELY(!ok))
			return bail(v, sv);
	}
	return 0;
}

int otf__vv_fast_scope_spans(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	static const vlist_t l = {T(2, LEN), T(3, LEN),     T(1, LEN),     0,
	                          0,         &otf__vv_span, &otf__vv_scope};
	return fast_list(v, p, end, &l);
}

int otf__vv_fast_scope_logs(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	static const vlist_t l = {T(2, LEN), T(3, LEN),           T(1, LEN),     0,
	                          0,         &otf__vv_log_record, &otf__vv_scope};
	return fast_list(v, p, end, &l);
}

int otf__vv_fast_gauge(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	static const vlist_t l = {T(1, LEN), 0, 0, 0, 0, &otf__vv_number_dp, NULL};
	return fast_list(v, p, end, &l);
}

int otf__vv_fast_sum(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	static const vlist_t l = {T(1, LEN),          0,   0, T(2, VARINT), T(3, VARINT),
	                          &otf__vv_number_dp, NULL};
	return fast_list(v, p, end, &l);
}

int otf__vv_fast_histogram(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	static const vlist_t l = {T(1, LEN), 0, 0, T(2, VARINT), 0, &otf__vv_histogram_dp, NULL};
	return fast_list(v, p, end, &l);
}

#undef T
