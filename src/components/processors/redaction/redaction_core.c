/* The redaction of one decoded request (redaction.h), following the
 * Collector's redactionprocessor/processor.go step by step, because users
 * compare the summary attributes and masked values with the Collector's:
 *
 *   per attribute, in order: an ignored key (ignored_keys,
 *   ignored_key_patterns) is left alone; a key not allowed (allowed_keys,
 *   unless allow_all_keys) is removed; a value matching allowed_values is
 *   left alone; a key matching blocked_key_patterns has its whole value
 *   masked; otherwise each blocked_values match inside the value is masked.
 *   Masking writes "****", or the hex digest of what matched under
 *   hash_function. Non-string values are seen as "" (the Collector's
 *   Value.Str()) unless redact_all_types, which uses their text.
 *
 * Then the summary attributes (redaction.redacted.keys/.count,
 * redaction.masked.*, redaction.allowed.*, redaction.ignored.count, and the
 * redaction.body.* ones for log bodies) merge with what an earlier
 * redaction processor left there. Replacement follows Go's ReplaceAll: an
 * empty match right after a match is not replaced, so ".*" masks "abc"
 * once. */
#include "redaction.h"

#include "otflow/err.h"
#include "core/openssl_dl.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rctx {
	const otf_redaction_config_t *c;
	otf_arena_t *arena;
	pcre2_match_data *md;
	otf_redaction_stats_t *st;
	bool changed;
	bool nomem;
} rctx_t;

/* ---- keys and values ---- */

static bool bytes_eq(otf_bytes_t b, const char *s)
{
	size_t n = strlen(s);
	return b.len == n && (n == 0 || memcmp(b.ptr, s, n) == 0);
}

static bool in_list(const otf_config_strlist_t *l, otf_bytes_t k)
{
	for (size_t i = 0; i < l->n; i++)
		if (bytes_eq(k, l->items[i]))
			return true;
	return false;
}

static bool re_match(rctx_t *x, const pcre2_code *re, otf_bytes_t s)
{
	static const uint8_t empty[1];
	return pcre2_match(re, s.len ? s.ptr : empty, s.len, 0, 0, x->md, NULL) >= 0;
}

static bool any_match(rctx_t *x, const otf_redaction_relist_t *l, otf_bytes_t s)
{
	for (size_t i = 0; i < l->n; i++)
		if (re_match(x, l->re[i], s))
			return true;
	return false;
}

/* The attributes this processor writes survive a second redaction
 * processor (the Collector adds them to every allow list). */
static const char *const k_summary_keys[] = {
    "redaction.redacted.keys",      "redaction.redacted.count",     "redaction.masked.keys",
    "redaction.masked.count",       "redaction.allowed.keys",       "redaction.allowed.count",
    "redaction.ignored.count",      "redaction.body.redacted.keys", "redaction.body.redacted.count",
    "redaction.body.masked.keys",   "redaction.body.masked.count",  "redaction.body.allowed.keys",
    "redaction.body.allowed.count", "redaction.body.ignored.count",
};

static bool should_ignore(rctx_t *x, otf_bytes_t k)
{
	return in_list(&x->c->ignored_keys, k) || any_match(x, &x->c->ignored_key_patterns, k);
}

static bool should_redact(rctx_t *x, otf_bytes_t k)
{
	if (x->c->allow_all_keys || in_list(&x->c->allowed_keys, k))
		return false;
	for (size_t i = 0; i < sizeof k_summary_keys / sizeof k_summary_keys[0]; i++)
		if (bytes_eq(k, k_summary_keys[i]))
			return false;
	return true;
}

/* The text of a scalar (Go's Value.AsString for the scalar types). */
static otf_bytes_t as_string(rctx_t *x, const otf_any_value_t *v)
{
	char buf[64];
	int n = 0;
	switch (v->type) {
	case OTF_ANY_STRING:
		return v->u.string_value;
	case OTF_ANY_BOOL:
		n = snprintf(buf, sizeof buf, "%s", v->u.bool_value ? "true" : "false");
		break;
	case OTF_ANY_INT:
		n = snprintf(buf, sizeof buf, "%lld", (long long)v->u.int_value);
		break;
	case OTF_ANY_DOUBLE:
		/* strconv.FormatFloat(f, 'f', -1, 64): the fewest decimals that
		 * read back as the same double. */
		for (int p = 0; p <= 20; p++) {
			n = snprintf(buf, sizeof buf, "%.*f", p, v->u.double_value);
			if (n > 0 && (size_t)n < sizeof buf &&
			    strtod(buf, NULL) == v->u.double_value)
				break;
		}
		break;
	case OTF_ANY_BYTES: {
		size_t len = v->u.bytes_value.len;
		uint8_t *out = otf_arena_alloc(x->arena, 4 * ((len + 2) / 3) + 1);
		if (!out) {
			x->nomem = true;
			return (otf_bytes_t){0};
		}
		int w = EVP_EncodeBlock(out, v->u.bytes_value.ptr, (int)len);
		return (otf_bytes_t){out, w > 0 ? (size_t)w : 0};
	}
	default:
		return (otf_bytes_t){0}; /* maps and lists: see docs/configuration.md */
	}
	if (n <= 0 || (size_t)n >= sizeof buf)
		return (otf_bytes_t){0};
	uint8_t *p = otf_arena_memdup(x->arena, buf, (size_t)n);
	if (!p)
		x->nomem = true;
	return (otf_bytes_t){p, p ? (size_t)n : 0};
}

/* ---- masking ---- */

/* Appends to a growing arena buffer. */
typedef struct sbuf {
	uint8_t *p;
	size_t len, cap;
} sbuf_t;

static bool put(rctx_t *x, sbuf_t *b, const void *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2 + 16;
		uint8_t *np = otf_arena_alloc(x->arena, cap);
		if (!np) {
			x->nomem = true;
			return false;
		}
		if (b->len)
			memcpy(np, b->p, b->len);
		b->p = np;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	return true;
}

static bool put_replacement(rctx_t *x, sbuf_t *b, const uint8_t *m, size_t n)
{
	const EVP_MD *md = NULL;
	switch (x->c->hash_function) {
	case OTF_REDACTION_HASH_MD5:
		md = EVP_md5();
		break;
	case OTF_REDACTION_HASH_SHA1:
		md = EVP_sha1();
		break;
	case OTF_REDACTION_HASH_SHA3:
		md = EVP_sha3_256();
		break;
	case OTF_REDACTION_HASH_HMAC_SHA256:
		md = EVP_sha256();
		break;
	case OTF_REDACTION_HASH_HMAC_SHA512:
		md = EVP_sha512();
		break;
	default:
		return put(x, b, "****", 4);
	}
	static const uint8_t none[1];
	uint8_t dig[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	bool ok;
	if (x->c->hash_function >= OTF_REDACTION_HASH_HMAC_SHA256) {
		const char *key = x->c->hmac_key ? x->c->hmac_key : "";
		ok = HMAC(md, key, (int)strlen(key), n ? m : none, n, dig, &dlen) != NULL;
	} else {
		ok = EVP_Digest(n ? m : none, n, dig, &dlen, md, NULL) == 1;
	}
	if (!ok) {
		x->nomem = true;
		return false;
	}
	char hex[2 * EVP_MAX_MD_SIZE];
	for (unsigned int i = 0; i < dlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", dig[i]);
	return put(x, b, hex, 2 * (size_t)dlen);
}

static size_t rune_width(const uint8_t *s, size_t left)
{
	if (!left)
		return 0;
	size_t w = s[0] < 0x80 ? 1 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	return w <= left ? w : 1;
}

/* Every match of re in s replaced (Go's ReplaceAllStringFunc). */
static otf_bytes_t mask(rctx_t *x, otf_bytes_t s, const pcre2_code *re)
{
	static const uint8_t empty[1];
	const uint8_t *src = s.len ? s.ptr : empty;
	sbuf_t b = {0};
	size_t last = 0, pos = 0;
	bool any = false;
	while (pos <= s.len) {
		int rc = pcre2_match(re, src, s.len, pos, 0, x->md, NULL);
		if (rc < 0)
			break;
		const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(x->md);
		size_t a = ov[0], e = ov[1];
		if (a < last || e < a) /* \K and lookarounds: stop rather than loop */
			break;
		if (!put(x, &b, src + last, a - last))
			return s;
		if (e > last || a == 0) {
			if (!put_replacement(x, &b, src + a, e - a))
				return s;
		}
		any = true;
		last = e;
		size_t w = rune_width(src + pos, s.len - pos);
		if (pos + w > e)
			pos += w;
		else if (pos + 1 > e)
			pos++;
		else
			pos = e;
		if (w == 0 && pos > s.len)
			break;
	}
	if (!any)
		return s;
	if (!put(x, &b, src + last, s.len - last))
		return s;
	return (otf_bytes_t){b.p, b.len};
}

static const pcre2_code *g_all; /* ".*", the whole value */
static pthread_once_t g_all_once = PTHREAD_ONCE_INIT;

static void compile_all(void)
{
	int code;
	PCRE2_SIZE off;
	g_all = pcre2_compile((PCRE2_SPTR) ".*", 2, PCRE2_UTF, &code, &off, NULL);
}

static otf_bytes_t mask_all(rctx_t *x, otf_bytes_t s)
{
	pthread_once(&g_all_once, compile_all);
	if (!g_all) {
		x->nomem = true;
		return s;
	}
	return mask(x, s, g_all);
}

static otf_bytes_t mask_blocked(rctx_t *x, otf_bytes_t s)
{
	for (size_t i = 0; i < x->c->blocked_values.n; i++)
		if (re_match(x, x->c->blocked_values.re[i], s))
			s = mask(x, s, x->c->blocked_values.re[i]);
	return s;
}

static bool same(otf_bytes_t a, otf_bytes_t b)
{
	return a.len == b.len && (a.len == 0 || a.ptr == b.ptr || !memcmp(a.ptr, b.ptr, a.len));
}

static void set_str(otf_any_value_t *v, otf_bytes_t s)
{
	v->type = OTF_ANY_STRING;
	v->u.string_value = s;
}

/* ---- summary attributes ---- */

/* Key lists: text of each key ("a", "body.b.[1]"), in arena. */
typedef struct keys {
	otf_bytes_t *k;
	size_t n, cap;
} keys_t;

static void keys_add(rctx_t *x, keys_t *l, otf_bytes_t k)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		otf_bytes_t *n = otf_arena_alloc(x->arena, cap * sizeof *n);
		if (!n) {
			x->nomem = true;
			return;
		}
		if (l->n)
			memcpy(n, l->k, l->n * sizeof *n);
		l->k = n;
		l->cap = cap;
	}
	l->k[l->n++] = k;
}

static otf_bytes_t path_join(rctx_t *x, otf_bytes_t a, const char *sep, otf_bytes_t b)
{
	sbuf_t s = {0};
	if (!put(x, &s, a.ptr, a.len) || !put(x, &s, sep, strlen(sep)) || !put(x, &s, b.ptr, b.len))
		return (otf_bytes_t){0};
	return (otf_bytes_t){s.p, s.len};
}

static int cmp_bytes(const void *pa, const void *pb)
{
	const otf_bytes_t *a = pa, *b = pb;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = n ? memcmp(a->ptr, b->ptr, n) : 0;
	return c ? c : (a->len > b->len) - (a->len < b->len);
}

static otf_any_value_t *attr_get(otf_attributes_t *a, const char *key)
{
	for (size_t i = 0; i < a->len; i++)
		if (bytes_eq(a->items[i].key, key))
			return &a->items[i].value;
	return NULL;
}

static otf_any_value_t *attr_put(rctx_t *x, otf_attributes_t *a, const char *key)
{
	otf_any_value_t *v = attr_get(a, key);
	if (v)
		return v;
	otf_key_value_t *n = otf_arena_alloc(x->arena, (a->len + 1) * sizeof *n);
	if (!n) {
		x->nomem = true;
		return NULL;
	}
	if (a->len)
		memcpy(n, a->items, a->len * sizeof *n);
	n[a->len].key = (otf_bytes_t){(const uint8_t *)key, strlen(key)};
	n[a->len].value = (otf_any_value_t){0};
	a->items = n;
	return &n[a->len++].value;
}

/* The Collector's addMetaAttrs. */
static void add_meta(rctx_t *x, keys_t *l, otf_attributes_t *a, const char *values_key,
                     const char *count_key)
{
	if (!l->n)
		return;
	int64_t count = (int64_t)l->n;
	int s = x->c->summary;
	if (s == OTF_REDACTION_SUMMARY_DEBUG && values_key) {
		otf_any_value_t *old = attr_get(a, values_key);
		if (old && old->type == OTF_ANY_STRING && old->u.string_value.len) {
			/* merge with an earlier processor's list */
			otf_bytes_t o = old->u.string_value;
			size_t st = 0;
			for (size_t i = 0; i <= o.len; i++) {
				if (i == o.len || o.ptr[i] == ',') {
					keys_add(x, l, (otf_bytes_t){o.ptr + st, i - st});
					st = i + 1;
				}
			}
		}
		qsort(l->k, l->n, sizeof *l->k, cmp_bytes);
		sbuf_t b = {0};
		for (size_t i = 0; i < l->n; i++)
			if ((i && !put(x, &b, ",", 1)) || !put(x, &b, l->k[i].ptr, l->k[i].len))
				return;
		otf_any_value_t *v = attr_put(x, a, values_key);
		if (!v)
			return;
		set_str(v, (otf_bytes_t){b.p, b.len});
		x->changed = true;
	}
	if (s == OTF_REDACTION_SUMMARY_DEBUG || s == OTF_REDACTION_SUMMARY_INFO) {
		otf_any_value_t *v = attr_put(x, a, count_key);
		if (!v)
			return;
		if (v->type == OTF_ANY_INT)
			count += v->u.int_value;
		v->type = OTF_ANY_INT;
		v->u.int_value = count;
		x->changed = true;
	}
}

/* ---- attribute maps ---- */

static void process_attrs(rctx_t *x, otf_attributes_t *a)
{
	keys_t red = {0}, msk = {0}, alw = {0}, ign = {0};
	size_t w = 0;
	for (size_t i = 0; i < a->len; i++) {
		otf_key_value_t *kv = &a->items[i];
		if (should_ignore(x, kv->key)) {
			keys_add(x, &ign, kv->key);
		} else if (should_redact(x, kv->key)) {
			keys_add(x, &red, kv->key);
			x->changed = true;
			continue; /* removed */
		} else {
			otf_bytes_t s = kv->value.type == OTF_ANY_STRING ? kv->value.u.string_value
			                : x->c->redact_all_types         ? as_string(x, &kv->value)
			                                                 : (otf_bytes_t){0};
			if (any_match(x, &x->c->allowed_values, s)) {
				keys_add(x, &alw, kv->key);
			} else if (any_match(x, &x->c->blocked_key_patterns, kv->key)) {
				keys_add(x, &msk, kv->key);
				set_str(&kv->value, mask_all(x, s));
				x->changed = true;
			} else {
				otf_bytes_t m = mask_blocked(x, s);
				if (!same(m, s)) {
					keys_add(x, &msk, kv->key);
					set_str(&kv->value, m);
					x->changed = true;
				}
			}
		}
		a->items[w++] = *kv;
	}
	a->len = w;
	x->st->redacted += red.n;
	x->st->masked += msk.n;
	x->st->allowed += alw.n;
	x->st->ignored += ign.n;
	add_meta(x, &red, a, "redaction.redacted.keys", "redaction.redacted.count");
	add_meta(x, &msk, a, "redaction.masked.keys", "redaction.masked.count");
	add_meta(x, &alw, a, "redaction.allowed.keys", "redaction.allowed.count");
	add_meta(x, &ign, a, NULL, "redaction.ignored.count");
}

/* ---- log bodies (the Collector's processLogBody) ---- */

typedef struct body_keys {
	keys_t red, msk, alw, ign;
} body_keys_t;

static void body_value(rctx_t *x, otf_bytes_t path, otf_any_value_t *v, body_keys_t *k);

/* A map in the body: ignore, redact, mask by key pattern, or recurse. */
static void body_map(rctx_t *x, otf_bytes_t prefix, bool top, otf_any_value_t *v, body_keys_t *k)
{
	otf_key_value_t *items = v->u.kvlist_value.values;
	size_t n = v->u.kvlist_value.values_len, w = 0;
	for (size_t i = 0; i < n; i++) {
		otf_key_value_t *kv = &items[i];
		otf_bytes_t path = top ? kv->key : path_join(x, prefix, ".", kv->key);
		if (should_ignore(x, kv->key)) {
			keys_add(x, &k->ign, path);
		} else if (should_redact(x, kv->key)) {
			keys_add(x, &k->red, path);
			x->changed = true;
			continue;
		} else if (any_match(x, &x->c->blocked_key_patterns, kv->key)) {
			keys_add(x, &k->msk, path);
			otf_bytes_t s = kv->value.type == OTF_ANY_STRING ? kv->value.u.string_value
			                                                 : (otf_bytes_t){0};
			set_str(&kv->value, mask_all(x, s));
			x->changed = true;
		} else {
			body_value(x, path, &kv->value, k);
		}
		items[w++] = *kv;
	}
	v->u.kvlist_value.values_len = w;
}

static void body_value(rctx_t *x, otf_bytes_t path, otf_any_value_t *v, body_keys_t *k)
{
	if (v->type == OTF_ANY_KVLIST) {
		body_map(x, path, false, v, k);
		return;
	}
	if (v->type == OTF_ANY_ARRAY) {
		for (size_t i = 0; i < v->u.array_value.values_len; i++) {
			char idx[32];
			snprintf(idx, sizeof idx, "[%zu]", i);
			otf_bytes_t p = path_join(x, path, path.len ? "." : "",
			                          (otf_bytes_t){(const uint8_t *)idx, strlen(idx)});
			body_value(x, p, &v->u.array_value.values[i], k);
		}
		return;
	}
	otf_bytes_t s = as_string(x, v);
	if (any_match(x, &x->c->allowed_values, s)) {
		keys_add(x, &k->alw, path);
		return;
	}
	otf_bytes_t m = mask_blocked(x, s);
	if (!same(m, s)) {
		keys_add(x, &k->msk, path);
		set_str(v, m);
		x->changed = true;
	}
}

static void process_body(rctx_t *x, otf_log_record_t *r)
{
	body_keys_t k = {0};
	otf_any_value_t *b = &r->body;
	static const otf_bytes_t body_key = {(const uint8_t *)"body", 4};
	if (b->type == OTF_ANY_KVLIST) {
		body_map(x, (otf_bytes_t){0}, true, b, &k);
	} else if (b->type == OTF_ANY_ARRAY) {
		body_value(x, (otf_bytes_t){0}, b, &k);
	} else {
		otf_bytes_t s = as_string(x, b);
		if (any_match(x, &x->c->allowed_values, s))
			return; /* as the Collector: no summary for an allowed body */
		otf_bytes_t m = mask_blocked(x, s);
		if (!same(m, s)) {
			keys_add(x, &k.msk, body_key);
			set_str(b, m);
			x->changed = true;
		}
	}
	add_meta(x, &k.red, &r->attributes, "redaction.body.redacted.keys",
	         "redaction.body.redacted.count");
	add_meta(x, &k.msk, &r->attributes, "redaction.body.masked.keys",
	         "redaction.body.masked.count");
	add_meta(x, &k.alw, &r->attributes, "redaction.body.allowed.keys",
	         "redaction.body.allowed.count");
	add_meta(x, &k.ign, &r->attributes, NULL, "redaction.body.ignored.count");
}

/* ---- the request ---- */

static otf_attributes_t *dp_attrs(otf_metric_t *m, size_t i)
{
	switch (m->type) {
	case OTF_METRIC_GAUGE:
	case OTF_METRIC_SUM:
		return &m->data_points.number[i].attributes;
	case OTF_METRIC_HISTOGRAM:
		return &m->data_points.histogram[i].attributes;
	case OTF_METRIC_EXP_HISTOGRAM:
		return &m->data_points.exp_histogram[i].attributes;
	case OTF_METRIC_SUMMARY:
		return &m->data_points.summary[i].attributes;
	default:
		return NULL;
	}
}

int otf__redaction_apply(const otf_redaction_config_t *c, ottlproc_tree_t *t, otf_arena_t *arena,
                         otf_redaction_stats_t *st)
{
	rctx_t x = {.c = c, .arena = arena, .st = st};
	x.md = pcre2_match_data_create(32, NULL);
	if (!x.md)
		return OTF_E_NOMEM;
	if (t->signal == OTF_SIGNAL_TRACES) {
		for (size_t i = 0; i < t->u.traces.resource_spans_len; i++) {
			otf_resource_spans_t *rs = &t->u.traces.resource_spans[i];
			process_attrs(&x, &rs->resource.attributes);
			for (size_t j = 0; j < rs->scope_spans_len; j++) {
				otf_scope_spans_t *ss = &rs->scope_spans[j];
				process_attrs(&x, &ss->scope.attributes);
				for (size_t k = 0; k < ss->spans_len; k++) {
					otf_span_t *sp = &ss->spans[k];
					process_attrs(&x, &sp->attributes);
					for (size_t e = 0; e < sp->events_len; e++)
						process_attrs(&x, &sp->events[e].attributes);
				}
			}
		}
	} else if (t->signal == OTF_SIGNAL_LOGS) {
		for (size_t i = 0; i < t->u.logs.resource_logs_len; i++) {
			otf_resource_logs_t *rl = &t->u.logs.resource_logs[i];
			process_attrs(&x, &rl->resource.attributes);
			for (size_t j = 0; j < rl->scope_logs_len; j++) {
				otf_scope_logs_t *sl = &rl->scope_logs[j];
				process_attrs(&x, &sl->scope.attributes);
				for (size_t k = 0; k < sl->log_records_len; k++) {
					process_attrs(&x, &sl->log_records[k].attributes);
					process_body(&x, &sl->log_records[k]);
				}
			}
		}
	} else {
		for (size_t i = 0; i < t->u.metrics.resource_metrics_len; i++) {
			otf_resource_metrics_t *rm = &t->u.metrics.resource_metrics[i];
			process_attrs(&x, &rm->resource.attributes);
			for (size_t j = 0; j < rm->scope_metrics_len; j++) {
				otf_scope_metrics_t *sm = &rm->scope_metrics[j];
				process_attrs(&x, &sm->scope.attributes);
				for (size_t k = 0; k < sm->metrics_len; k++) {
					otf_metric_t *m = &sm->metrics[k];
					for (size_t d = 0; d < m->data_points_len; d++) {
						otf_attributes_t *a = dp_attrs(m, d);
						if (a)
							process_attrs(&x, a);
					}
				}
			}
		}
	}
	pcre2_match_data_free(x.md);
	if (x.nomem)
		return OTF_E_NOMEM;
	return x.changed ? 1 : 0;
}
