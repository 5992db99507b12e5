/* See json_diff.h. */
#include "json_diff.h"

#include "jsonc_ref.h"
#include "pdata_eq.h"

#include "otflow/arena.h"
#include "otflow/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

/* ---- the referee: strict JSON and repeated keys, by yajl ---- */

#define REF_DEPTH 256

typedef struct keyset {
	char *keys[64]; /* the first keys of the object; more are not checked */
	size_t n;
} keyset;

typedef struct referee {
	keyset *stack;
	size_t depth;
	bool dup;
} referee;

static int r_start_map(void *ctx)
{
	referee *r = ctx;
	if (r->depth >= REF_DEPTH)
		return 1; /* deeper levels are not checked for repeated keys */
	r->stack[r->depth++].n = 0;
	return 1;
}

static int r_end_map(void *ctx)
{
	referee *r = ctx;
	if (r->depth) {
		keyset *k = &r->stack[--r->depth];
		for (size_t i = 0; i < k->n; i++)
			free(k->keys[i]);
		k->n = 0;
	}
	return 1;
}

static int r_key(void *ctx, const unsigned char *key, size_t len)
{
	referee *r = ctx;
	if (!r->depth)
		return 1;
	keyset *k = &r->stack[r->depth - 1];
	for (size_t i = 0; i < k->n; i++)
		if (strlen(k->keys[i]) == len && !memcmp(k->keys[i], key, len))
			r->dup = true;
	/* keys are compared as C strings, like json-c's */
	if (k->n < sizeof k->keys / sizeof k->keys[0] && !memchr(key, 0, len)) {
		k->keys[k->n] = strndup((const char *)key, len);
		if (k->keys[k->n])
			k->n++;
	}
	return 1;
}

/* A raw control character inside a string (yajl lets it pass when it does
 * not validate strings, RFC 8259 does not). */
static bool control_in_string(const char *d, size_t n)
{
	bool in_str = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];
		if (in_str && c < 0x20)
			return true;
		if (in_str && c == '\\')
			i++;
		else if (c == '"')
			in_str = !in_str;
	}
	return false;
}

/* Whether data is RFC 8259 JSON (UTF-8 not checked: both decoders treat
 * invalid bytes alike) and whether an object repeats a key. */
static void referee_run(const char *data, size_t len, bool *valid, bool *dup)
{
	static const yajl_callbacks cb = {
	    .yajl_start_map = r_start_map, .yajl_map_key = r_key, .yajl_end_map = r_end_map};
	referee r = {calloc(REF_DEPTH, sizeof(keyset)), 0, false};
	yajl_handle h = yajl_alloc(&cb, NULL, &r);
	yajl_config(h, yajl_dont_validate_strings, 1);
	yajl_status st = yajl_parse(h, (const unsigned char *)data, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	*valid = st == yajl_status_ok && !control_in_string(data, len);
	*dup = r.dup;
	yajl_free(h);
	while (r.depth)
		r_end_map(&r);
	free(r.stack);
}

/* ---- both decoders ---- */

typedef union tree {
	otf_traces_t t;
	otf_metrics_t m;
	otf_logs_t l;
} tree;

static int dec_new(otf_signal_t sig, tree *u, const char *d, size_t n, otf_arena_t *a,
                   otf_pdata_error_t *e)
{
	switch (sig) {
	case OTF_SIGNAL_TRACES:
		return otf_pdata_json_decode_traces(&u->t, d, n, a, NULL, e);
	case OTF_SIGNAL_METRICS:
		return otf_pdata_json_decode_metrics(&u->m, d, n, a, NULL, e);
	default:
		return otf_pdata_json_decode_logs(&u->l, d, n, a, NULL, e);
	}
}

static int dec_old(otf_signal_t sig, tree *u, const char *d, size_t n, otf_arena_t *a,
                   otf_pdata_error_t *e)
{
	switch (sig) {
	case OTF_SIGNAL_TRACES:
		return otf_ref_json_decode_traces(&u->t, d, n, a, NULL, e);
	case OTF_SIGNAL_METRICS:
		return otf_ref_json_decode_metrics(&u->m, d, n, a, NULL, e);
	default:
		return otf_ref_json_decode_logs(&u->l, d, n, a, NULL, e);
	}
}

/* A bare integer literal beyond 64 bits (json-c saturated those). */
static bool has_huge_integer(const char *d, size_t n)
{
	bool in_str = false;
	for (size_t i = 0; i < n; i++) {
		if (in_str) {
			if (d[i] == '\\')
				i++;
			else if (d[i] == '"')
				in_str = false;
			continue;
		}
		if (d[i] == '"') {
			in_str = true;
			continue;
		}
		if (d[i] != '-' && (d[i] < '0' || d[i] > '9'))
			continue;
		size_t j = i + (d[i] == '-'), digits = 0;
		while (j < n && d[j] >= '0' && d[j] <= '9') {
			j++;
			digits++;
		}
		if (digits >= 19) {
			char tmp[64];
			size_t len = j - i < sizeof tmp - 1 ? j - i : sizeof tmp - 1;
			memcpy(tmp, d + i, len);
			tmp[len] = '\0';
			errno = 0;
			if (tmp[0] == '-')
				(void)strtoll(tmp, NULL, 10);
			else
				(void)strtoull(tmp, NULL, 10);
			if (errno == ERANGE || j - i >= sizeof tmp - 1)
				return true;
		}
		i = j;
	}
	return false;
}

static bool top_is_object(const char *d, size_t n)
{
	size_t i = 0;
	while (i < n && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r'))
		i++;
	return i < n && d[i] == '{';
}

bool otf_json_diff(otf_signal_t sig, const char *data, size_t len, char *why, size_t size)
{
	otf_arena_t a1, a2;
	otf_arena_init(&a1, 0);
	otf_arena_init(&a2, 0);
	tree t1, t2;
	otf_pdata_error_t e1, e2;
	memset(&e1, 0, sizeof e1);
	memset(&e2, 0, sizeof e2);
	int r1 = dec_new(sig, &t1, data, len, &a1, &e1);
	int r2 = dec_old(sig, &t2, data, len, &a2, &e2);
	bool ok = true;
	char b1[512], b2[512], diff[256] = "";
	if (r1 == 0 && r2 == 0) {
		bool eq = sig == OTF_SIGNAL_TRACES ? otf_eq_traces(&t1.t, &t2.t, diff, sizeof diff)
		          : sig == OTF_SIGNAL_METRICS
		              ? otf_eq_metrics(&t1.m, &t2.m, diff, sizeof diff)
		              : otf_eq_logs(&t1.l, &t2.l, diff, sizeof diff);
		if (!eq) {
			bool valid, dup;
			referee_run(data, len, &valid, &dup);
			ok = dup;
			if (!ok)
				snprintf(why, size, "trees differ: %s", diff);
		}
	} else {
		bool syntax = r1 == OTF_E_JSON || r1 == OTF_E_DEPTH;
		bool same = r1 == r2 && e1.code == e2.code;
		if (same && !(r1 == OTF_E_JSON || (r1 == OTF_E_DEPTH && !e1.path[0])))
			same = !strcmp(e1.path, e2.path) && !strcmp(e1.detail, e2.detail) &&
			       e1.offset == e2.offset;
		if (!same) {
			bool valid, dup;
			referee_run(data, len, &valid, &dup);
			if (!valid && syntax)
				same = true; /* stricter: the input is not JSON */
			else if (dup)
				same = true; /* json-c read only the last of the repeated members */
			else if (!top_is_object(data, len))
				same = r1 != 0 && r2 != 0;
			else if (r1 == OTF_E_RANGE && has_huge_integer(data, len))
				same = true; /* json-c saturated such literals */
		}
		if (!same) {
			ok = false;
			snprintf(why, size, "new %s: %s | old %s: %s", otf_err_name(r1),
			         otf_pdata_error_format(&e1, b1, sizeof b1), otf_err_name(r2),
			         otf_pdata_error_format(&e2, b2, sizeof b2));
		}
	}
	otf_arena_close(&a1);
	otf_arena_close(&a2);
	return ok;
}
