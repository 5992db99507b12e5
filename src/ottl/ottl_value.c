/* OTTL values: deep copy into the request arena, OTTL's comparison rules
 * (LANGUAGE.md "Comparison Rules"), String() conversion and map helpers. */
#include "ottl_internal.h"

#include "otflow/err.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *otf__ottl_type_name(otf_any_type_t t)
{
	switch (t) {
	case OTF_ANY_EMPTY:
		return "nil";
	case OTF_ANY_STRING:
		return "a string";
	case OTF_ANY_BOOL:
		return "a bool";
	case OTF_ANY_INT:
		return "an int";
	case OTF_ANY_DOUBLE:
		return "a double";
	case OTF_ANY_ARRAY:
		return "a list";
	case OTF_ANY_KVLIST:
		return "a map";
	case OTF_ANY_BYTES:
		return "bytes";
	default:
		return t == OTTL_VAL_TIME ? "a time" : "an unknown value";
	}
}

int otf__ottl_string(otf_arena_t *a, const void *p, size_t n, otf_any_value_t *out)
{
	void *c = otf_arena_memdup(a, p, n);
	if (!c)
		return OTF_E_NOMEM;
	out->type = OTF_ANY_STRING;
	out->u.string_value = (otf_bytes_t){c, n};
	return 0;
}

int otf__ottl_hex(otf_arena_t *a, otf_bytes_t b, otf_any_value_t *out)
{
	static const char hx[] = "0123456789abcdef";
	char *s = otf_arena_alloc(a, 2 * b.len + 1);
	if (!s)
		return OTF_E_NOMEM;
	for (size_t i = 0; i < b.len; i++) {
		s[2 * i] = hx[b.ptr[i] >> 4];
		s[2 * i + 1] = hx[b.ptr[i] & 15];
	}
	out->type = OTF_ANY_STRING;
	out->u.string_value = (otf_bytes_t){(const uint8_t *)s, 2 * b.len};
	return 0;
}

int otf__ottl_value_copy(otf_arena_t *a, const otf_any_value_t *in, otf_any_value_t *out)
{
	otf_any_value_t v = *in;
	switch (in->type) {
	case OTF_ANY_STRING:
	case OTF_ANY_BYTES: {
		otf_bytes_t b = in->u.string_value;
		void *c = otf_arena_memdup(a, b.ptr, b.len);
		if (!c)
			return OTF_E_NOMEM;
		v.u.string_value = (otf_bytes_t){c, b.len};
		break;
	}
	case OTF_ANY_ARRAY: {
		size_t n = in->u.array_value.values_len;
		otf_any_value_t *items = n ? otf_arena_calloc(a, n, sizeof *items) : NULL;
		if (n && !items)
			return OTF_E_NOMEM;
		for (size_t i = 0; i < n; i++) {
			int rc = otf__ottl_value_copy(a, &in->u.array_value.values[i], &items[i]);
			if (rc)
				return rc;
		}
		v.u.array_value.values = items;
		break;
	}
	case OTF_ANY_KVLIST: {
		size_t n = in->u.kvlist_value.values_len;
		otf_key_value_t *items = n ? otf_arena_calloc(a, n, sizeof *items) : NULL;
		if (n && !items)
			return OTF_E_NOMEM;
		for (size_t i = 0; i < n; i++) {
			const otf_key_value_t *kv = &in->u.kvlist_value.values[i];
			void *k = otf_arena_memdup(a, kv->key.ptr, kv->key.len);
			if (!k)
				return OTF_E_NOMEM;
			items[i].key = (otf_bytes_t){k, kv->key.len};
			int rc = otf__ottl_value_copy(a, &kv->value, &items[i].value);
			if (rc)
				return rc;
		}
		v.u.kvlist_value.values = items;
		break;
	}
	default:
		if (in->type == OTTL_VAL_TIME)
			v.type = OTF_ANY_INT; /* the tree has no time type: store ns */
		break;
	}
	*out = v;
	return 0;
}

static int cmp_bytes(otf_bytes_t a, otf_bytes_t b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
	if (c)
		return c < 0 ? -1 : 1;
	return a.len < b.len ? -1 : a.len > b.len;
}

static bool order(int c, otf__ottl_tok_kind_t op)
{
	switch (op) {
	case T_EQ:
		return c == 0;
	case T_NE:
		return c != 0;
	case T_LT:
		return c < 0;
	case T_LE:
		return c <= 0;
	case T_GT:
		return c > 0;
	case T_GE:
		return c >= 0;
	default:
		return false;
	}
}

static bool deep_eq(const otf_any_value_t *l, const otf_any_value_t *r);

static bool kv_eq(const otf_any_value_t *l, const otf_any_value_t *r)
{
	size_t n = l->u.kvlist_value.values_len;
	if (n != r->u.kvlist_value.values_len)
		return false;
	for (size_t i = 0; i < n; i++) {
		const otf_key_value_t *a = &l->u.kvlist_value.values[i];
		otf_key_value_t *b = otf__ottl_map_find(r->u.kvlist_value.values,
		                                        r->u.kvlist_value.values_len, a->key);
		if (!b || !deep_eq(&a->value, &b->value))
			return false;
	}
	return true;
}

static bool deep_eq(const otf_any_value_t *l, const otf_any_value_t *r)
{
	return otf__ottl_compare(l, r, T_EQ);
}

bool otf__ottl_compare(const otf_any_value_t *l, const otf_any_value_t *r, otf__ottl_tok_kind_t op)
{
	otf_any_type_t lt = l->type, rt = r->type;
	/* nil equals only nil; nil has no order */
	if (lt == OTF_ANY_EMPTY || rt == OTF_ANY_EMPTY) {
		bool eq = lt == rt;
		return op == T_EQ ? eq : op == T_NE ? !eq : false;
	}
	/* int and double compare as numbers */
	if ((lt == OTF_ANY_INT || lt == OTF_ANY_DOUBLE) &&
	    (rt == OTF_ANY_INT || rt == OTF_ANY_DOUBLE)) {
		if (lt == OTF_ANY_INT && rt == OTF_ANY_INT) {
			int64_t a = l->u.int_value, b = r->u.int_value;
			return order(a < b ? -1 : a > b, op);
		}
		double a = lt == OTF_ANY_INT ? (double)l->u.int_value : l->u.double_value;
		double b = rt == OTF_ANY_INT ? (double)r->u.int_value : r->u.double_value;
		if (isnan(a) || isnan(b))
			return op == T_NE;
		return order(a < b ? -1 : a > b, op);
	}
	if (lt != rt)
		return op == T_NE;
	switch (lt) {
	case OTF_ANY_STRING:
	case OTF_ANY_BYTES:
		return order(cmp_bytes(l->u.string_value, r->u.string_value), op);
	case OTF_ANY_BOOL:
		return order((int)l->u.bool_value - (int)r->u.bool_value, op);
	case OTF_ANY_ARRAY:
	case OTF_ANY_KVLIST: {
		if (op != T_EQ && op != T_NE)
			return false; /* maps and lists have no order */
		bool eq;
		if (lt == OTF_ANY_KVLIST) {
			eq = kv_eq(l, r);
		} else {
			size_t n = l->u.array_value.values_len;
			eq = n == r->u.array_value.values_len;
			for (size_t i = 0; eq && i < n; i++)
				eq = deep_eq(&l->u.array_value.values[i],
				             &r->u.array_value.values[i]);
		}
		return op == T_EQ ? eq : !eq;
	}
	default: {
		int64_t a = l->u.int_value, b = r->u.int_value; /* time */
		return order(a < b ? -1 : a > b, op);
	}
	}
}

/* ---- String() ---- */

typedef struct sbuf {
	otf_arena_t *a;
	char *p;
	size_t n, cap;
	bool oom;
} sbuf_t;

static void sb_add(sbuf_t *b, const void *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n > b->cap) {
		size_t cap = (b->n + n) * 2 + 32;
		char *np = otf_arena_alloc(b->a, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		if (b->n)
			memcpy(np, b->p, b->n);
		b->p = np;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void sb_str(sbuf_t *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* Shortest decimal that reads back as d (Go's strconv 'g'-style, -1). */
static void fmt_double(char *buf, size_t size, double d)
{
	if (isnan(d)) {
		snprintf(buf, size, "NaN");
		return;
	}
	if (isinf(d)) {
		snprintf(buf, size, d > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}

static void json_str(sbuf_t *b, otf_bytes_t s)
{
	sb_add(b, "\"", 1);
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = s.ptr[i];
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			sb_add(b, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			sb_add(b, esc, 6);
		} else {
			sb_add(b, &s.ptr[i], 1);
		}
	}
	sb_add(b, "\"", 1);
}

static void write_value(sbuf_t *b, const otf_any_value_t *v, bool top)
{
	char num[40];
	switch (v->type) {
	case OTF_ANY_EMPTY:
		sb_str(b, top ? "" : "null");
		break;
	case OTF_ANY_STRING:
		if (top)
			sb_add(b, v->u.string_value.ptr, v->u.string_value.len);
		else
			json_str(b, v->u.string_value);
		break;
	case OTF_ANY_BOOL:
		sb_str(b, v->u.bool_value ? "true" : "false");
		break;
	case OTF_ANY_INT:
		snprintf(num, sizeof num, "%" PRId64, v->u.int_value);
		sb_str(b, num);
		break;
	case OTF_ANY_DOUBLE:
		fmt_double(num, sizeof num, v->u.double_value);
		sb_str(b, num);
		break;
	case OTF_ANY_BYTES: {
		static const char hx[] = "0123456789abcdef";
		if (!top)
			sb_add(b, "\"", 1);
		for (size_t i = 0; i < v->u.bytes_value.len; i++) {
			char h[2] = {hx[v->u.bytes_value.ptr[i] >> 4],
			             hx[v->u.bytes_value.ptr[i] & 15]};
			sb_add(b, h, 2);
		}
		if (!top)
			sb_add(b, "\"", 1);
		break;
	}
	case OTF_ANY_ARRAY:
		sb_add(b, "[", 1);
		for (size_t i = 0; i < v->u.array_value.values_len; i++) {
			if (i)
				sb_add(b, ",", 1);
			write_value(b, &v->u.array_value.values[i], false);
		}
		sb_add(b, "]", 1);
		break;
	case OTF_ANY_KVLIST:
		sb_add(b, "{", 1);
		for (size_t i = 0; i < v->u.kvlist_value.values_len; i++) {
			if (i)
				sb_add(b, ",", 1);
			json_str(b, v->u.kvlist_value.values[i].key);
			sb_add(b, ":", 1);
			write_value(b, &v->u.kvlist_value.values[i].value, false);
		}
		sb_add(b, "}", 1);
		break;
	default: /* time: ns */
		snprintf(num, sizeof num, "%" PRId64, v->u.int_value);
		sb_str(b, num);
		break;
	}
}

int otf__ottl_to_string(otf_arena_t *a, const otf_any_value_t *in, otf_any_value_t *out)
{
	if (in->type == OTF_ANY_STRING) {
		*out = *in;
		return 0;
	}
	sbuf_t b = {a, NULL, 0, 0, false};
	write_value(&b, in, true);
	sb_add(&b, "", 0);
	if (b.oom)
		return OTF_E_NOMEM;
	out->type = OTF_ANY_STRING;
	out->u.string_value = (otf_bytes_t){b.n ? (const uint8_t *)b.p : (const uint8_t *)"", b.n};
	return 0;
}

/* ---- maps ---- */

otf_key_value_t *otf__ottl_map_find(otf_key_value_t *items, size_t len, otf_bytes_t key)
{
	for (size_t i = 0; i < len; i++)
		if (otf__ottl_bytes_eq(items[i].key, key))
			return &items[i];
	return NULL;
}

int otf__ottl_map_put(otf_arena_t *a, otf_key_value_t **items, size_t *len, otf_bytes_t key,
                      const otf_any_value_t *v)
{
	otf_key_value_t *kv = otf__ottl_map_find(*items, *len, key);
	if (kv) {
		kv->value = *v;
		return 0;
	}
	/* the tree's arrays belong to the decoder and have no spare room:
	 * move the list to a bigger arena array */
	otf_key_value_t *n = otf_arena_alloc(a, (*len + 1) * sizeof *n);
	if (!n)
		return OTF_E_NOMEM;
	if (*len)
		memcpy(n, *items, *len * sizeof *n);
	n[*len].key = key;
	n[*len].value = *v;
	*items = n;
	(*len)++;
	return 0;
}

void otf__ottl_map_remove_at(otf_key_value_t *items, size_t *len, size_t i)
{
	memmove(&items[i], &items[i + 1], (*len - i - 1) * sizeof *items);
	(*len)--;
}
