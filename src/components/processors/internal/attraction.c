/* Attribute actions: config parsing and application to a decoded attribute
 * list (attraction.h says the semantics). */
#include "attraction.h"

#include "otflow/err.h"
#include "otflow/pdata_edit.h"
#include "ottl/ottl_internal.h"
#include "core/openssl_dl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const k_kinds[] = {"insert", "update",  "upsert",  "delete",
                                      "hash",   "extract", "convert", NULL};

static otf_bytes_t arena_bytes(otf_arena_t *a, const char *s, size_t n)
{
	otf_bytes_t b = {(const uint8_t *)otf_arena_memdup(a, s, n ? n : 1), n};
	return b;
}

static bool all_digits(const char *s, size_t n, size_t i)
{
	if (i >= n)
		return false;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* YAML 1.2 core schema typing of a scalar (the config tree keeps text). */
static int scalar_value(otf_arena_t *a, const char *s, size_t n, otf_any_value_t *out)
{
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") || !strcmp(s, "false") ||
	    !strcmp(s, "False") || !strcmp(s, "FALSE")) {
		out->type = OTF_ANY_BOOL;
		out->u.bool_value = s[0] == 't' || s[0] == 'T';
		return 0;
	}
	if (all_digits(s, n, (s[0] == '-' || s[0] == '+') ? 1 : 0)) {
		int64_t v;
		if (otf_config_parse_int64(s, &v) == 0) {
			out->type = OTF_ANY_INT;
			out->u.int_value = v;
			return 0;
		}
	}
	if (n && strpbrk(s, ".eE") &&
	    (s[0] == '-' || s[0] == '+' || s[0] == '.' || (s[0] >= '0' && s[0] <= '9'))) {
		char *end;
		double d = strtod(s, &end);
		if (end == s + n) {
			out->type = OTF_ANY_DOUBLE;
			out->u.double_value = d;
			return 0;
		}
	}
	out->type = OTF_ANY_STRING;
	out->u.string_value = arena_bytes(a, s, n);
	return out->u.string_value.ptr ? 0 : OTF_E_NOMEM;
}

static int yaml_value(otf_arena_t *a, const otf_config_node_t *v, otf_any_value_t *out,
                      otf_config_error_t *err, int depth)
{
	memset(out, 0, sizeof *out);
	if (depth > 16)
		return otf_config_errorf(err, v, "value nested deeper than 16 levels");
	switch (otf_config_node_kind(v)) {
	case OTF_CONFIG_SCALAR: {
		size_t n;
		const char *s = otf_config_scalar(v, &n);
		return scalar_value(a, s, n, out);
	}
	case OTF_CONFIG_SEQUENCE: {
		size_t n = otf_config_len(v);
		out->type = OTF_ANY_ARRAY;
		out->u.array_value.values = otf_arena_calloc(a, n ? n : 1, sizeof(otf_any_value_t));
		if (!out->u.array_value.values)
			return OTF_E_NOMEM;
		out->u.array_value.values_len = n;
		for (size_t i = 0; i < n; i++) {
			int rc = yaml_value(a, otf_config_seq_at(v, i),
			                    &out->u.array_value.values[i], err, depth + 1);
			if (rc)
				return rc;
		}
		return 0;
	}
	case OTF_CONFIG_MAPPING: {
		size_t n = otf_config_len(v);
		out->type = OTF_ANY_KVLIST;
		otf_key_value_t *kv = otf_arena_calloc(a, n ? n : 1, sizeof *kv);
		if (!kv)
			return OTF_E_NOMEM;
		out->u.kvlist_value.values = kv;
		out->u.kvlist_value.values_len = n;
		for (size_t i = 0; i < n; i++) {
			const otf_config_node_t *cv;
			const char *k = otf_config_map_at(v, i, &cv);
			kv[i].key = arena_bytes(a, k, strlen(k));
			int rc = yaml_value(a, cv, &kv[i].value, err, depth + 1);
			if (rc)
				return rc;
		}
		return 0;
	}
	default:
		return otf_config_errorf(err, v, "value is null: give a value");
	}
}

int otf__attr_actions_yaml_value(otf_arena_t *a, const otf_config_node_t *v, otf_any_value_t *out,
                                 otf_config_error_t *err)
{
	return yaml_value(a, v, out, err, 0);
}

static int scalar_text(const otf_config_node_t *v, const char *what, const char **out,
                       otf_config_error_t *err)
{
	size_t n;
	*out = otf_config_scalar(v, &n);
	if (!*out)
		return otf_config_errorf(err, v, "%s: expected a string, got %s", what,
		                         otf_config_kind_name(v));
	return 0;
}

static int compile_re(otf_attr_action_t *a, const otf_config_node_t *v, const char *pat,
                      otf_config_error_t *err)
{
	pcre2_code *re;
	int code;
	size_t off;
	otf_bytes_t p = {(const uint8_t *)pat, strlen(pat)};
	if (otf__ottl_re_compile(p, &re, &code, &off)) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(code, msg, sizeof msg);
		return otf_config_errorf(err, v, "pattern does not compile at offset %zu: %s", off,
		                         (const char *)msg);
	}
	a->re = re;
	return 0;
}

static int extract_groups(otf_arena_t *ar, otf_attr_action_t *a, const otf_config_node_t *v,
                          otf_config_error_t *err)
{
	uint32_t groups = 0, names = 0, esz = 0;
	PCRE2_SPTR table;
	pcre2_pattern_info(a->re, PCRE2_INFO_CAPTURECOUNT, &groups);
	pcre2_pattern_info(a->re, PCRE2_INFO_NAMECOUNT, &names);
	pcre2_pattern_info(a->re, PCRE2_INFO_NAMEENTRYSIZE, &esz);
	pcre2_pattern_info(a->re, PCRE2_INFO_NAMETABLE, &table);
	if (groups == 0)
		return otf_config_errorf(err, v, "pattern contains no named matcher groups");
	a->groups = otf_arena_calloc(ar, groups + 1, sizeof *a->groups);
	if (!a->groups)
		return OTF_E_NOMEM;
	for (uint32_t i = 0; i < names; i++) {
		const uint8_t *e = table + (size_t)i * esz;
		uint32_t num = (uint32_t)e[0] << 8 | e[1];
		const char *nm = (const char *)e + 2;
		if (num <= groups)
			a->groups[num] = arena_bytes(ar, nm, strlen(nm));
	}
	for (uint32_t i = 1; i <= groups; i++)
		if (!a->groups[i].ptr)
			return otf_config_errorf(
			    err, v,
			    "pattern contains at least one unnamed matcher group "
			    "(group %u): extract needs every group named",
			    i);
	a->ngroups = groups;
	return 0;
}

static int parse_action(otf_arena_t *ar, const otf_config_node_t *m, size_t idx,
                        otf_attr_action_t *a, otf_config_error_t *err)
{
	if (otf_config_node_kind(m) != OTF_CONFIG_MAPPING)
		return otf_config_errorf(err, m, "action %zu: expected a mapping, got %s", idx,
		                         otf_config_kind_name(m));
	const char *key = NULL, *action = NULL, *pattern = NULL, *from_attr = NULL,
	           *from_ctx = NULL, *conv = NULL;
	const otf_config_node_t *value = NULL, *defv = NULL, *act_node = NULL, *pat_node = NULL,
	                        *ctx_node = NULL, *conv_node = NULL;
	int rc;
	for (size_t i = 0; i < otf_config_len(m); i++) {
		const otf_config_node_t *v;
		const char *k = otf_config_map_at(m, i, &v);
		if (!strcmp(k, "value"))
			value = v;
		else if (!strcmp(k, "default_value"))
			defv = v;
		else if (!strcmp(k, "key"))
			rc = scalar_text(v, k, &key, err);
		else if (!strcmp(k, "action"))
			rc = scalar_text(v, k, &action, err), act_node = v;
		else if (!strcmp(k, "pattern"))
			rc = scalar_text(v, k, &pattern, err), pat_node = v;
		else if (!strcmp(k, "from_attribute"))
			rc = scalar_text(v, k, &from_attr, err);
		else if (!strcmp(k, "from_context"))
			rc = scalar_text(v, k, &from_ctx, err), ctx_node = v;
		else if (!strcmp(k, "converted_type"))
			rc = scalar_text(v, k, &conv, err), conv_node = v;
		else
			return otf_config_errorf(
			    err, v,
			    "unknown key \"%s\" (valid keys: key, action, value, "
			    "from_attribute, from_context, default_value, pattern, "
			    "converted_type)",
			    k);
		if (strcmp(k, "value") && strcmp(k, "default_value") && rc)
			return rc;
	}
	if (!action)
		return otf_config_errorf(err, m, "action %zu: missing required field \"action\"",
		                         idx);
	int kind = -1;
	for (int i = 0; k_kinds[i]; i++)
		if (!strcasecmp(action, k_kinds[i]))
			kind = i;
	if (kind < 0)
		return otf_config_errorf(
		    err, act_node,
		    "unsupported action \"%s\" (one of insert, update, upsert, "
		    "delete, hash, extract, convert)",
		    action);
	a->kind = (otf_attr_kind_t)kind;
	if (key)
		a->key = arena_bytes(ar, key, strlen(key));
	if ((kind == OTF_ATTR_DELETE || kind == OTF_ATTR_HASH) ? (!key || !*key) && !pattern
	                                                       : !key || !*key)
		return otf_config_errorf(
		    err, m,
		    kind == OTF_ATTR_DELETE || kind == OTF_ATTR_HASH
		        ? "action %zu: at least one of \"key\" and \"pattern\" "
		          "is required"
		        : "action %zu: missing required field \"key\"",
		    idx);
	int sources = (value != NULL) + (from_attr && *from_attr) + (from_ctx && *from_ctx);
	switch (a->kind) {
	case OTF_ATTR_INSERT:
	case OTF_ATTR_UPDATE:
	case OTF_ATTR_UPSERT:
		if (sources == 0 && !defv)
			return otf_config_errorf(
			    err, m,
			    "action %zu: one of \"value\", \"from_attribute\", "
			    "\"from_context\" or \"default_value\" is required",
			    idx);
		if (sources > 1)
			return otf_config_errorf(err, m, "action %zu: more than one value source",
			                         idx);
		if (pattern || conv)
			return otf_config_errorf(err, pattern ? pat_node : conv_node,
			                         "action \"%s\" does not use this field", action);
		if (value && (rc = yaml_value(ar, value, &a->value, err, 0)))
			return rc;
		a->has_value = value != NULL;
		if (defv && (rc = yaml_value(ar, defv, &a->default_value, err, 0)))
			return rc;
		a->has_default = defv != NULL;
		if (from_attr)
			a->from_attribute = arena_bytes(ar, from_attr, strlen(from_attr));
		if (from_ctx && *from_ctx) {
			if (!strcmp(from_ctx, "client.address"))
				return otf_config_errorf(
				    err, ctx_node,
				    "from_context \"client.address\" is not supported "
				    "yet: the peer address does not reach processors "
				    "(use metadata.<key> or auth.<key>)");
			/* auth.<key>: the receiver's authenticator put the identity
			 * into the envelope under that very name. */
			const char *h =
			    !strncmp(from_ctx, "metadata.", 9) ? from_ctx + 9 : from_ctx;
			a->from_context = otf_arena_memdup(ar, h, strlen(h) + 1);
		}
		break;
	case OTF_ATTR_DELETE:
	case OTF_ATTR_HASH:
	case OTF_ATTR_EXTRACT:
		if (sources || defv || conv)
			return otf_config_errorf(err, m,
			                         "action \"%s\" does not use value sources or "
			                         "converted_type",
			                         action);
		if (a->kind == OTF_ATTR_EXTRACT && !pattern)
			return otf_config_errorf(err, m, "action %zu: extract requires \"pattern\"",
			                         idx);
		if (pattern && (rc = compile_re(a, pat_node, pattern, err)))
			return rc;
		if (a->kind == OTF_ATTR_EXTRACT && (rc = extract_groups(ar, a, pat_node, err)))
			return rc;
		break;
	case OTF_ATTR_CONVERT:
		if (sources || defv || pattern)
			return otf_config_errorf(err, m,
			                         "action \"convert\" does not use value sources or "
			                         "\"pattern\"");
		if (!conv)
			return otf_config_errorf(
			    err, m, "action %zu: convert requires \"converted_type\"", idx);
		if (!strcmp(conv, "int"))
			a->conv = OTF_CONV_INT;
		else if (!strcmp(conv, "double"))
			a->conv = OTF_CONV_DOUBLE;
		else if (!strcmp(conv, "string"))
			a->conv = OTF_CONV_STRING;
		else
			return otf_config_errorf(
			    err, conv_node, "invalid converted_type \"%s\" (int, double or string)",
			    conv);
		break;
	}
	return 0;
}

void otf__attr_actions_release(void *slot)
{
	otf_attr_actions_t *l = slot;
	if (!l->parsed)
		return;
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].re)
			pcre2_code_free(l->items[i].re);
	otf_arena_close(&l->arena);
	memset(l, 0, sizeof *l);
}

int otf__attr_actions_parse(const otf_config_node_t *v, void *slot, otf_config_error_t *err)
{
	otf_attr_actions_t *l = slot;
	if (otf_config_node_kind(v) != OTF_CONFIG_SEQUENCE)
		return otf_config_errorf(err, v, "expected a list of actions, got %s",
		                         otf_config_kind_name(v));
	otf_arena_init(&l->arena, 4096);
	l->parsed = true;
	size_t n = otf_config_len(v);
	l->items = otf_arena_calloc(&l->arena, n ? n : 1, sizeof *l->items);
	if (!l->items) {
		otf__attr_actions_release(l);
		return OTF_E_NOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		int rc = parse_action(&l->arena, otf_config_seq_at(v, i), i, &l->items[i], err);
		l->n = i + 1; /* release frees the regexes compiled so far */
		if (rc) {
			otf__attr_actions_release(l);
			return rc;
		}
	}
	return 0;
}

/* ---- application on the tree ---- */

static otf_key_value_t *find(otf_attributes_t *at, otf_bytes_t key)
{
	return otf__ottl_map_find(at->items, at->len, key);
}

static void remove_all(otf_attributes_t *at, otf_bytes_t key)
{
	for (size_t i = 0; i < at->len;)
		if (otf__ottl_bytes_eq(at->items[i].key, key))
			otf__ottl_map_remove_at(at->items, &at->len, i);
		else
			i++;
}

static int append(otf_attributes_t *at, otf_arena_t *a, otf_bytes_t key, const otf_any_value_t *v)
{
	otf_key_value_t *n = otf_arena_alloc(a, (at->len + 1) * sizeof *n);
	if (!n)
		return OTF_E_NOMEM;
	if (at->len)
		memcpy(n, at->items, at->len * sizeof *n);
	n[at->len].key = key;
	n[at->len].value = *v;
	at->items = n;
	at->len++;
	return 0;
}

static int hash_value(otf_arena_t *a, otf_any_value_t *v)
{
	uint8_t in[8];
	const uint8_t *p = in;
	size_t n = 0;
	switch (v->type) {
	case OTF_ANY_STRING:
		p = v->u.string_value.ptr;
		n = v->u.string_value.len;
		break;
	case OTF_ANY_BOOL:
		in[0] = v->u.bool_value ? 1 : 0;
		n = 1;
		break;
	case OTF_ANY_INT:
	case OTF_ANY_DOUBLE: {
		uint64_t u;
		if (v->type == OTF_ANY_INT)
			u = (uint64_t)v->u.int_value;
		else
			memcpy(&u, &v->u.double_value, 8);
		for (int i = 0; i < 8; i++)
			in[i] = (uint8_t)(u >> (8 * i));
		n = 8;
		break;
	}
	default:
		v->type = OTF_ANY_STRING;
		v->u.string_value = (otf_bytes_t){(const uint8_t *)"", 0};
		return 0;
	}
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	static const char hx[] = "0123456789abcdef";
	if (!EVP_Digest(n ? p : (const uint8_t *)"", n, md, &mdlen, EVP_sha256(), NULL))
		return OTF_E_NOMEM;
	char *out = otf_arena_alloc(a, mdlen * 2);
	if (!out)
		return OTF_E_NOMEM;
	for (unsigned i = 0; i < mdlen; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	v->type = OTF_ANY_STRING;
	v->u.string_value = (otf_bytes_t){(const uint8_t *)out, mdlen * 2};
	return 0;
}

static bool re_match(const otf_attr_action_t *ac, otf_bytes_t s, pcre2_match_data *md)
{
	return pcre2_match(ac->re, s.len ? s.ptr : (const uint8_t *)"", s.len, 0, 0, md, NULL) >= 0;
}

static int convert(otf_arena_t *a, otf_attr_conv_t to, otf_any_value_t *v)
{
	char buf[64];
	switch (to) {
	case OTF_CONV_STRING:
		if (v->type == OTF_ANY_STRING)
			return 0;
		return otf__ottl_to_string(a, v, v);
	case OTF_CONV_INT:
		if (v->type == OTF_ANY_DOUBLE) {
			double d = v->u.double_value;
			v->type = OTF_ANY_INT;
			v->u.int_value = isnan(d)                     ? INT64_MIN
			                 : d >= 9.2233720368547758e18 ? INT64_MIN
			                 : d < -9.2233720368547758e18 ? INT64_MIN
			                                              : (int64_t)d;
		} else if (v->type == OTF_ANY_BOOL) {
			int64_t b = v->u.bool_value;
			v->type = OTF_ANY_INT;
			v->u.int_value = b;
		} else if (v->type == OTF_ANY_STRING && v->u.string_value.len < sizeof buf) {
			otf_bytes_t s = v->u.string_value;
			memcpy(buf, s.ptr, s.len);
			buf[s.len] = 0;
			int64_t i;
			if (all_digits(buf, s.len, (buf[0] == '-' || buf[0] == '+') ? 1 : 0) &&
			    otf_config_parse_int64(buf, &i) == 0) {
				v->type = OTF_ANY_INT;
				v->u.int_value = i;
			}
		}
		return 0;
	case OTF_CONV_DOUBLE:
		if (v->type == OTF_ANY_INT) {
			double d = (double)v->u.int_value;
			v->type = OTF_ANY_DOUBLE;
			v->u.double_value = d;
		} else if (v->type == OTF_ANY_BOOL) {
			double d = v->u.bool_value ? 1 : 0;
			v->type = OTF_ANY_DOUBLE;
			v->u.double_value = d;
		} else if (v->type == OTF_ANY_STRING && v->u.string_value.len &&
		           v->u.string_value.len < sizeof buf) {
			otf_bytes_t s = v->u.string_value;
			memcpy(buf, s.ptr, s.len);
			buf[s.len] = 0;
			char *end;
			errno = 0;
			double d = strtod(buf, &end);
			if (end == buf + s.len && errno != ERANGE) {
				v->type = OTF_ANY_DOUBLE;
				v->u.double_value = d;
			}
		}
		return 0;
	}
	return 0;
}

static int extract(const otf_attr_action_t *ac, otf_attributes_t *at, otf_arena_t *a,
                   pcre2_match_data *md)
{
	otf_key_value_t *kv = find(at, ac->key);
	if (!kv || kv->value.type != OTF_ANY_STRING)
		return 0;
	otf_bytes_t s = kv->value.u.string_value;
	int rc = pcre2_match(ac->re, s.len ? s.ptr : (const uint8_t *)"", s.len, 0, 0, md, NULL);
	if (rc < 0)
		return 0;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
	for (uint32_t g = 1; g <= ac->ngroups; g++) {
		otf_any_value_t v = {.type = OTF_ANY_STRING};
		if ((int)g < rc && ov[2 * g] != PCRE2_UNSET)
			v.u.string_value =
			    (otf_bytes_t){s.ptr + ov[2 * g], ov[2 * g + 1] - ov[2 * g]};
		else
			v.u.string_value = (otf_bytes_t){(const uint8_t *)"", 0};
		otf_key_value_t *t = find(at, ac->groups[g]);
		if (t)
			t->value = v;
		else if (append(at, a, ac->groups[g], &v))
			return OTF_E_NOMEM;
	}
	return 0;
}

static bool source(const otf_attr_action_t *ac, otf_attributes_t *at, otf_arena_t *a,
                   otf_attr_ctx_fn ctx, const void *user, otf_any_value_t *out)
{
	if (ac->has_value) {
		*out = ac->value;
		return true;
	}
	if (ac->from_context) {
		const char *h = ctx ? ctx(user, ac->from_context) : NULL;
		if (h) {
			size_t n = strlen(h);
			out->type = OTF_ANY_STRING;
			out->u.string_value = arena_bytes(a, h, n);
			return out->u.string_value.ptr != NULL;
		}
	} else if (ac->from_attribute.len) {
		otf_key_value_t *kv = find(at, ac->from_attribute);
		if (kv) {
			*out = kv->value;
			return true;
		}
	}
	if (ac->has_default) {
		*out = ac->default_value;
		return true;
	}
	return false;
}

static int apply_one(const otf_attr_action_t *ac, otf_attributes_t *at, otf_arena_t *a,
                     otf_attr_ctx_fn ctx, const void *user, pcre2_match_data *md)
{
	otf_any_value_t v;
	otf_key_value_t *kv;
	switch (ac->kind) {
	case OTF_ATTR_INSERT:
		if (!source(ac, at, a, ctx, user, &v) || find(at, ac->key))
			return 0;
		return append(at, a, ac->key, &v);
	case OTF_ATTR_UPDATE:
		if (source(ac, at, a, ctx, user, &v) && (kv = find(at, ac->key)))
			kv->value = v;
		return 0;
	case OTF_ATTR_UPSERT:
		if (!source(ac, at, a, ctx, user, &v))
			return 0;
		if ((kv = find(at, ac->key))) {
			kv->value = v;
			return 0;
		}
		return append(at, a, ac->key, &v);
	case OTF_ATTR_DELETE:
		if (ac->key.len)
			remove_all(at, ac->key);
		if (ac->re) {
			for (size_t i = 0; i < at->len;) {
				if (re_match(ac, at->items[i].key, md))
					otf__ottl_map_remove_at(at->items, &at->len, i);
				else
					i++;
			}
		}
		return 0;
	case OTF_ATTR_HASH:
		if (ac->key.len && (kv = find(at, ac->key)) && hash_value(a, &kv->value))
			return OTF_E_NOMEM;
		if (ac->re) {
			for (size_t i = 0; i < at->len; i++)
				if (!otf__ottl_bytes_eq(at->items[i].key, ac->key) &&
				    re_match(ac, at->items[i].key, md) &&
				    hash_value(a, &at->items[i].value))
					return OTF_E_NOMEM;
		}
		return 0;
	case OTF_ATTR_EXTRACT:
		return extract(ac, at, a, md);
	case OTF_ATTR_CONVERT:
		if ((kv = find(at, ac->key)))
			return convert(a, ac->conv, &kv->value);
		return 0;
	}
	return 0;
}

int otf__attr_actions_apply(const otf_attr_actions_t *acts, otf_attributes_t *attrs,
                            otf_arena_t *arena, otf_attr_ctx_fn ctx, const void *ctx_user)
{
	pcre2_match_data *md = NULL;
	int rc = 0;
	for (size_t i = 0; i < acts->n && !rc; i++) {
		const otf_attr_action_t *ac = &acts->items[i];
		if (ac->re && !md &&
		    !(md = pcre2_match_data_create(ac->ngroups + 1 > 16 ? ac->ngroups + 1 : 16,
		                                   NULL)))
			return OTF_E_NOMEM;
		if (ac->re && ac->kind == OTF_ATTR_EXTRACT &&
		    pcre2_get_ovector_count(md) < ac->ngroups + 1) {
			pcre2_match_data_free(md);
			if (!(md = pcre2_match_data_create(ac->ngroups + 1, NULL)))
				return OTF_E_NOMEM;
		}
		rc = apply_one(ac, attrs, arena, ctx, ctx_user, md);
	}
	if (md)
		pcre2_match_data_free(md);
	return rc;
}

static bool scalar(const otf_any_value_t *v)
{
	return v->type == OTF_ANY_STRING || v->type == OTF_ANY_BOOL || v->type == OTF_ANY_INT ||
	       v->type == OTF_ANY_DOUBLE;
}

bool otf__attr_actions_in_place(const otf_attr_actions_t *acts)
{
	if (acts->n > OTF_PDATA_EDIT_MAX_OPS)
		return false;
	for (size_t i = 0; i < acts->n; i++) {
		const otf_attr_action_t *a = &acts->items[i];
		switch (a->kind) {
		case OTF_ATTR_INSERT:
		case OTF_ATTR_UPDATE:
		case OTF_ATTR_UPSERT:
			if (a->from_context || a->has_default)
				return false;
			if (a->has_value ? !scalar(&a->value) : !a->from_attribute.len)
				return false;
			break;
		case OTF_ATTR_DELETE:
			if (a->re || !a->key.len)
				return false;
			break;
		default:
			return false;
		}
	}
	return true;
}

void otf__attr_actions_edit_ops(const otf_attr_actions_t *acts, otf_pdata_edit_op_t *ops)
{
	static const otf_pdata_edit_kind_t k[] = {OTF_EDIT_INSERT, OTF_EDIT_UPDATE, OTF_EDIT_UPSERT,
	                                          OTF_EDIT_DELETE};
	for (size_t i = 0; i < acts->n; i++) {
		const otf_attr_action_t *a = &acts->items[i];
		memset(&ops[i], 0, sizeof ops[i]);
		ops[i].kind = k[a->kind];
		ops[i].key = a->key;
		if (a->has_value)
			ops[i].value = a->value;
		else
			ops[i].from_key = a->from_attribute;
	}
}
