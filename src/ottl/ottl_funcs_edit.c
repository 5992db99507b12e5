/* OTTL editors (ottlfuncs README, "Editors"): they change the record in
 * place. A target of the wrong type is left alone, as the Collector does;
 * invalid arguments that only the run can see are errors. */
#include "ottl_fields.h"

#include "otflow/err.h"

#include <stdio.h>
#include <string.h>

/* Glob (gobwas/glob without separators): * any run, ? one character
 * (UTF-8), [abc] [a-z] [!a] classes, \ escapes. */
static bool glob_match(const uint8_t *p, size_t pn, const uint8_t *s, size_t sn)
{
	size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;
	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star_p = ++pi;
			star_s = si;
			continue;
		}
		if (pi < pn) {
			size_t clen = 1; /* length of the subject character */
			while (si + clen < sn && (s[si + clen] & 0xc0) == 0x80)
				clen++;
			if (p[pi] == '?') {
				pi++;
				si += clen;
				continue;
			}
			if (p[pi] == '[') {
				size_t q = pi + 1;
				bool neg = q < pn && (p[q] == '!' || p[q] == '^');
				q += neg;
				bool hit = false;
				while (q < pn && p[q] != ']') {
					if (q + 2 < pn && p[q + 1] == '-' && p[q + 2] != ']') {
						hit |= s[si] >= p[q] && s[si] <= p[q + 2];
						q += 3;
					} else {
						hit |= s[si] == p[q];
						q++;
					}
				}
				if (q < pn && hit != neg) {
					pi = q + 1;
					si += clen;
					continue;
				}
			} else {
				size_t lit = pi;
				if (p[pi] == '\\' && pi + 1 < pn)
					lit = pi + 1;
				if (p[lit] == s[si]) {
					pi = lit + 1;
					si++;
					continue;
				}
			}
		}
		if (star_p == (size_t)-1)
			return false;
		pi = star_p;
		si = ++star_s;
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

static const otf__ottl_node_t *target(const otf__ottl_node_t *call)
{
	return call->bound[0];
}

static int map_arg(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_key_value_t ***items,
                   size_t **len)
{
	return otf__ottl_path_map(r, target(call), items, len);
}

static otf_bytes_t lit_str(const otf__ottl_node_t *call, size_t slot)
{
	return call->bound[slot]->lit.u.string_value;
}

static int e_set(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	(void)out;
	otf_any_value_t v;
	int rc = otf__ottl_arg(r, call, 1, &v);
	if (rc)
		return rc;
	if (v.type == OTF_ANY_EMPTY) /* no field takes nil: the Collector skips it */
		return 0;
	return otf__ottl_path_set(r, target(call), &v);
}

static int e_delete_key(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	(void)out;
	otf_key_value_t **items;
	size_t *len;
	otf_any_value_t k;
	int rc;
	if (r->rec->lazy) {
		/* in place: noted for the rewriter while the list is not decoded */
		if ((rc = otf__ottl_arg(r, call, 1, &k)))
			return rc;
		if (k.type == OTF_ANY_STRING &&
		    (rc = otf__ottl_lazy_attr_del(r, target(call), k.u.string_value)) != 0)
			return rc < 0 ? rc : 0;
	}
	rc = map_arg(r, call, &items, &len);
	if (rc || !items || (rc = otf__ottl_arg(r, call, 1, &k)))
		return rc;
	if (k.type != OTF_ANY_STRING)
		return otf__ottl_errorf(r->e, call->bound[1]->pos, "key must be a string, got %s",
		                        otf__ottl_type_name(k.type));
	for (size_t i = 0; i < *len; i++)
		if (otf__ottl_bytes_eq((*items)[i].key, k.u.string_value)) {
			otf__ottl_map_remove_at(*items, len, i);
			break;
		}
	return 0;
}

/* Keeps (keep=true) or deletes the keys the regex matches. */
static int filter_matching(otf__ottl_run_t *r, const otf__ottl_node_t *call, bool keep)
{
	otf_key_value_t **items;
	size_t *len;
	int rc = map_arg(r, call, &items, &len);
	if (rc || !items)
		return rc;
	size_t w = 0;
	for (size_t i = 0; i < *len; i++) {
		int m = otf__ottl_re_match(r, call, (*items)[i].key);
		if (m < 0)
			return m;
		if ((m == 1) == keep)
			(*items)[w++] = (*items)[i];
	}
	*len = w;
	return 0;
}

static int e_delete_matching_keys(otf__ottl_run_t *r, const otf__ottl_node_t *call,
                                  otf_any_value_t *out)
{
	(void)out;
	return filter_matching(r, call, false);
}

static int e_keep_matching_keys(otf__ottl_run_t *r, const otf__ottl_node_t *call,
                                otf_any_value_t *out)
{
	(void)out;
	return filter_matching(r, call, true);
}

static bool in_list(const otf__ottl_node_t *list, otf_bytes_t key)
{
	for (size_t i = 0; list && i < list->nargs; i++)
		if (otf__ottl_bytes_eq(list->args[i]->lit.u.string_value, key))
			return true;
	return false;
}

static int e_keep_keys(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	(void)out;
	otf_key_value_t **items;
	size_t *len;
	int rc = map_arg(r, call, &items, &len);
	if (rc || !items)
		return rc;
	size_t w = 0;
	for (size_t i = 0; i < *len; i++)
		if (in_list(call->bound[1], (*items)[i].key))
			(*items)[w++] = (*items)[i];
	*len = w;
	return 0;
}

static int e_replace_pattern(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	(void)out;
	otf_any_value_t v, repl, res;
	int rc = otf__ottl_eval(r, target(call), &v);
	if (rc || v.type != OTF_ANY_STRING || (rc = otf__ottl_arg(r, call, 2, &repl)))
		return rc;
	if (repl.type != OTF_ANY_STRING)
		return otf__ottl_errorf(r->e, call->bound[2]->pos,
		                        "replacement must be a string, got %s",
		                        otf__ottl_type_name(repl.type));
	rc = otf__ottl_re_replace(r, call, v.u.string_value, repl.u.string_value, &res);
	if (rc <= 0) /* an error, or no match: nothing to write */
		return rc;
	return otf__ottl_path_set(r, target(call), &res);
}

static int e_replace_match(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	(void)out;
	otf_any_value_t v, repl;
	int rc = otf__ottl_eval(r, target(call), &v);
	if (rc || v.type != OTF_ANY_STRING || (rc = otf__ottl_arg(r, call, 2, &repl)))
		return rc;
	if (repl.type != OTF_ANY_STRING)
		return otf__ottl_errorf(r->e, call->bound[2]->pos,
		                        "replacement must be a string, got %s",
		                        otf__ottl_type_name(repl.type));
	otf_bytes_t g = lit_str(call, 1);
	if (!glob_match(g.ptr, g.len, v.u.string_value.ptr, v.u.string_value.len))
		return 0;
	return otf__ottl_path_set(r, target(call), &repl);
}

static int e_replace_all_patterns(otf__ottl_run_t *r, const otf__ottl_node_t *call,
                                  otf_any_value_t *out)
{
	(void)out;
	otf_key_value_t **items;
	size_t *len;
	otf_any_value_t repl;
	int rc = map_arg(r, call, &items, &len);
	if (rc || !items || (rc = otf__ottl_arg(r, call, 3, &repl)))
		return rc;
	if (repl.type != OTF_ANY_STRING)
		return otf__ottl_errorf(r->e, call->bound[3]->pos,
		                        "replacement must be a string, got %s",
		                        otf__ottl_type_name(repl.type));
	bool keys = otf__ottl_bytes_is(lit_str(call, 1), "key");
	for (size_t i = 0; i < *len; i++) {
		otf_key_value_t *kv = &(*items)[i];
		otf_any_value_t res;
		if (keys) {
			rc = otf__ottl_re_replace(r, call, kv->key, repl.u.string_value, &res);
			if (rc < 0)
				return rc;
			if (rc == 0)
				continue;
			/* a renamed key replaces an existing one of that name */
			for (size_t j = 0; j < *len; j++)
				if (j != i &&
				    otf__ottl_bytes_eq((*items)[j].key, res.u.string_value)) {
					otf__ottl_map_remove_at(*items, len, j);
					if (j < i)
						i--;
					break;
				}
			(*items)[i].key = res.u.string_value;
		} else if (kv->value.type == OTF_ANY_STRING) {
			rc = otf__ottl_re_replace(r, call, kv->value.u.string_value,
			                          repl.u.string_value, &res);
			if (rc < 0)
				return rc;
			kv->value = res;
		}
	}
	return 0;
}

static int e_replace_all_matches(otf__ottl_run_t *r, const otf__ottl_node_t *call,
                                 otf_any_value_t *out)
{
	(void)out;
	otf_key_value_t **items;
	size_t *len;
	otf_any_value_t repl;
	int rc = map_arg(r, call, &items, &len);
	if (rc || !items || (rc = otf__ottl_arg(r, call, 2, &repl)))
		return rc;
	if (repl.type != OTF_ANY_STRING)
		return otf__ottl_errorf(r->e, call->bound[2]->pos,
		                        "replacement must be a string, got %s",
		                        otf__ottl_type_name(repl.type));
	otf_any_value_t c;
	if ((rc = otf__ottl_value_copy(r->rec->arena, &repl, &c)))
		return rc;
	otf_bytes_t g = lit_str(call, 1);
	for (size_t i = 0; i < *len; i++) {
		otf_any_value_t *v = &(*items)[i].value;
		if (v->type == OTF_ANY_STRING &&
		    glob_match(g.ptr, g.len, v->u.string_value.ptr, v->u.string_value.len))
			*v = c;
	}
	return 0;
}

static int int_arg(otf__ottl_run_t *r, const otf__ottl_node_t *call, size_t slot, int64_t *out)
{
	otf_any_value_t v;
	int rc = otf__ottl_arg(r, call, slot, &v);
	if (rc)
		return rc;
	if (v.type != OTF_ANY_INT)
		return otf__ottl_errorf(r->e, call->bound[slot]->pos, "%s must be an int, got %s",
		                        call->func->params[slot].name, otf__ottl_type_name(v.type));
	if (v.u.int_value < 0)
		return otf__ottl_errorf(r->e, call->bound[slot]->pos, "%s must not be negative",
		                        call->func->params[slot].name);
	*out = v.u.int_value;
	return 0;
}

static int e_truncate_all(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	(void)out;
	otf_key_value_t **items;
	size_t *len;
	int64_t lim;
	int rc = int_arg(r, call, 1, &lim);
	if (rc || (rc = map_arg(r, call, &items, &len)) || !items)
		return rc;
	for (size_t i = 0; i < *len; i++) {
		otf_any_value_t *v = &(*items)[i].value;
		if (v->type != OTF_ANY_STRING || v->u.string_value.len <= (uint64_t)lim)
			continue;
		size_t n = (size_t)lim;
		/* never cut a UTF-8 sequence in half */
		while (n > 0 && (v->u.string_value.ptr[n] & 0xc0) == 0x80)
			n--;
		v->u.string_value.len = n;
	}
	return 0;
}

static int e_limit(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	(void)out;
	otf_key_value_t **items;
	size_t *len;
	int64_t lim;
	int rc = int_arg(r, call, 1, &lim);
	if (rc || (rc = map_arg(r, call, &items, &len)) || !items)
		return rc;
	const otf__ottl_node_t *prio = call->bound[2];
	if (prio && (uint64_t)lim < prio->nargs)
		return otf__ottl_errorf(r->e, call->bound[1]->pos,
		                        "limit %lld is less than the %zu priority keys",
		                        (long long)lim, prio->nargs);
	if ((uint64_t)lim >= *len)
		return 0;
	size_t nprio = 0;
	for (size_t i = 0; i < *len; i++)
		nprio += in_list(prio, (*items)[i].key);
	/* priority keys always stay (the checker makes them fit when the limit
	 * is a literal); the first others fill the rest, in order */
	size_t room = (uint64_t)lim > nprio ? (size_t)lim - nprio : 0, w = 0;
	for (size_t i = 0; i < *len; i++) {
		bool p = in_list(prio, (*items)[i].key);
		if (!p && room == 0)
			continue;
		if (!p)
			room--;
		(*items)[w++] = (*items)[i];
	}
	*len = w;
	return 0;
}

static int e_merge_maps(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	(void)out;
	otf_key_value_t **items;
	size_t *len;
	otf_any_value_t src;
	int rc = map_arg(r, call, &items, &len);
	if (rc || !items || (rc = otf__ottl_arg(r, call, 1, &src)))
		return rc;
	if (src.type != OTF_ANY_KVLIST)
		return 0; /* the Collector merges only maps */
	otf_bytes_t strat = lit_str(call, 2);
	bool ins = !otf__ottl_bytes_is(strat, "update"), upd = !otf__ottl_bytes_is(strat, "insert");
	/* copy first: the source may alias the target */
	otf_any_value_t c;
	if ((rc = otf__ottl_value_copy(r->rec->arena, &src, &c)))
		return rc;
	size_t n = c.u.kvlist_value.values_len, w = *len;
	if (n == 0)
		return 0; /* nothing to merge; the target may have no array at all */
	/* one new array with room for every insert, not one per key */
	otf_key_value_t *dst =
	    ins && n ? otf_arena_alloc(r->rec->arena, (w + n) * sizeof *dst) : *items;
	if (!dst)
		return OTF_E_NOMEM;
	if (dst != *items && w)
		memcpy(dst, *items, w * sizeof *dst);
	for (size_t i = 0; i < n; i++) {
		otf_key_value_t *kv = &c.u.kvlist_value.values[i];
		otf_key_value_t *have = otf__ottl_map_find(dst, w, kv->key);
		if (have && upd)
			have->value = kv->value;
		else if (!have && ins)
			dst[w++] = *kv;
	}
	*items = dst;
	*len = w;
	return 0;
}

typedef struct flat {
	otf__ottl_run_t *r;
	otf_key_value_t *items;
	size_t len, cap;
	int64_t depth;
} flat_t;

static int flat_key(flat_t *f, otf_bytes_t prefix, otf_bytes_t key, otf_bytes_t *out)
{
	if (!prefix.len) {
		*out = key;
		return 0;
	}
	uint8_t *k = otf_arena_alloc(f->r->rec->arena, prefix.len + 1 + key.len);
	if (!k)
		return OTF_E_NOMEM;
	memcpy(k, prefix.ptr, prefix.len);
	k[prefix.len] = '.';
	if (key.len)
		memcpy(k + prefix.len + 1, key.ptr, key.len);
	*out = (otf_bytes_t){k, prefix.len + 1 + key.len};
	return 0;
}

static int flat_add(flat_t *f, otf_bytes_t key, const otf_any_value_t *v, int64_t level);

static int flat_put(flat_t *f, otf_bytes_t key, const otf_any_value_t *v);

static int flat_children(flat_t *f, otf_bytes_t prefix, const otf_any_value_t *v, int64_t level)
{
	for (size_t i = 0; i < v->u.kvlist_value.values_len; i++) {
		otf_bytes_t k;
		const otf_key_value_t *kv = &v->u.kvlist_value.values[i];
		int rc = flat_key(f, prefix, kv->key, &k);
		if (rc || (rc = flat_add(f, k, &kv->value, level)))
			return rc;
	}
	return 0;
}

/* The Collector's flatten: a map within depth opens into "key.sub" keys;
 * a list, at any depth, becomes "key.0", "key.1" holding its items as
 * they are; anything else is stored under key. */
static int flat_add(flat_t *f, otf_bytes_t key, const otf_any_value_t *v, int64_t level)
{
	if (v->type == OTF_ANY_KVLIST && level < f->depth)
		return flat_children(f, key, v, level + 1);
	if (v->type == OTF_ANY_ARRAY) {
		for (size_t i = 0; i < v->u.array_value.values_len; i++) {
			char num[24];
			int n = snprintf(num, sizeof num, "%zu", i);
			otf_bytes_t k,
			    idx = {otf_arena_memdup(f->r->rec->arena, num, (size_t)n), (size_t)n};
			if (!idx.ptr)
				return OTF_E_NOMEM;
			int rc = flat_key(f, key, idx, &k);
			if (rc || (rc = flat_put(f, k, &v->u.array_value.values[i])))
				return rc;
		}
		return 0;
	}
	return flat_put(f, key, v);
}

static int flat_put(flat_t *f, otf_bytes_t key, const otf_any_value_t *v)
{
	otf_key_value_t *have = otf__ottl_map_find(f->items, f->len, key);
	if (have) { /* "a.b" given and made from {"a": {"b"}}: the later one wins */
		have->value = *v;
		return 0;
	}
	if (f->len == f->cap) { /* doubling: flattening n keys costs O(n) memory */
		size_t cap = f->cap ? 2 * f->cap : 16;
		otf_key_value_t *n = otf_arena_alloc(f->r->rec->arena, cap * sizeof *n);
		if (!n)
			return OTF_E_NOMEM;
		if (f->len)
			memcpy(n, f->items, f->len * sizeof *n);
		f->items = n;
		f->cap = cap;
	}
	f->items[f->len].key = key;
	f->items[f->len++].value = *v;
	return 0;
}

static int e_flatten(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	(void)out;
	otf_key_value_t **items;
	size_t *len;
	otf_any_value_t prefix, depth;
	int rc = map_arg(r, call, &items, &len);
	if (rc || !items || (rc = otf__ottl_arg(r, call, 1, &prefix)) ||
	    (rc = otf__ottl_arg(r, call, 2, &depth)))
		return rc;
	flat_t f = {r, NULL, 0, 0, INT64_MAX};
	if (depth.type == OTF_ANY_INT) {
		if (depth.u.int_value < 0)
			return otf__ottl_errorf(r->e, call->bound[2]->pos,
			                        "depth must not be negative");
		f.depth = depth.u.int_value;
	}
	otf_bytes_t pre = prefix.type == OTF_ANY_STRING ? prefix.u.string_value : (otf_bytes_t){0};
	otf_any_value_t whole = {.type = OTF_ANY_KVLIST};
	whole.u.kvlist_value.values = *items;
	whole.u.kvlist_value.values_len = *len;
	if ((rc = flat_children(&f, pre, &whole, 0)))
		return rc;
	*items = f.items;
	*len = f.len;
	return 0;
}

static const char *const modes[] = {"key", "value", NULL};
static const char *const strategies[] = {"insert", "update", "upsert", NULL};

const otf__ottl_func_t otf__ottl_editors[] = {
    {"set",
     true,
     VT_ANY,
     2,
     {{"target", P_SETTER, false, NULL}, {"value", P_ANY, false, NULL}},
     e_set},
    {"delete_key",
     true,
     VT_ANY,
     2,
     {{"target", P_MAP_TARGET, false, NULL}, {"key", P_STRING, false, NULL}},
     e_delete_key},
    {"delete_matching_keys",
     true,
     VT_ANY,
     2,
     {{"target", P_MAP_TARGET, false, NULL}, {"pattern", P_PATTERN, false, NULL}},
     e_delete_matching_keys},
    {"keep_keys",
     true,
     VT_ANY,
     2,
     {{"target", P_MAP_TARGET, false, NULL}, {"keys", P_STR_LIST, false, NULL}},
     e_keep_keys},
    {"keep_matching_keys",
     true,
     VT_ANY,
     2,
     {{"target", P_MAP_TARGET, false, NULL}, {"pattern", P_PATTERN, false, NULL}},
     e_keep_matching_keys},
    {"replace_pattern",
     true,
     VT_ANY,
     3,
     {{"target", P_SETTER, false, NULL},
      {"regex", P_PATTERN, false, NULL},
      {"replacement", P_STRING, false, NULL}},
     e_replace_pattern},
    {"replace_match",
     true,
     VT_ANY,
     3,
     {{"target", P_SETTER, false, NULL},
      {"pattern", P_LITERAL_STR, false, NULL},
      {"replacement", P_STRING, false, NULL}},
     e_replace_match},
    {"replace_all_patterns",
     true,
     VT_ANY,
     4,
     {{"target", P_MAP_TARGET, false, NULL},
      {"mode", P_LITERAL_STR, false, modes},
      {"regex", P_PATTERN, false, NULL},
      {"replacement", P_STRING, false, NULL}},
     e_replace_all_patterns},
    {"replace_all_matches",
     true,
     VT_ANY,
     3,
     {{"target", P_MAP_TARGET, false, NULL},
      {"pattern", P_LITERAL_STR, false, NULL},
      {"replacement", P_STRING, false, NULL}},
     e_replace_all_matches},
    {"truncate_all",
     true,
     VT_ANY,
     2,
     {{"target", P_MAP_TARGET, false, NULL}, {"limit", P_INT, false, NULL}},
     e_truncate_all},
    {"limit",
     true,
     VT_ANY,
     3,
     {{"target", P_MAP_TARGET, false, NULL},
      {"limit", P_INT, false, NULL},
      {"priority_keys", P_STR_LIST, true, NULL}},
     e_limit},
    {"merge_maps",
     true,
     VT_ANY,
     3,
     {{"target", P_MAP_TARGET, false, NULL},
      {"source", P_MAP, false, NULL},
      {"strategy", P_LITERAL_STR, false, strategies}},
     e_merge_maps},
    {"flatten",
     true,
     VT_ANY,
     3,
     {{"target", P_MAP_TARGET, false, NULL},
      {"prefix", P_STRING, true, NULL},
      {"depth", P_INT, true, NULL}},
     e_flatten},
};
const size_t otf__ottl_editors_len = sizeof otf__ottl_editors / sizeof otf__ottl_editors[0];
