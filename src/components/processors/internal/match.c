/* include/exclude matching (match.h says the semantics). */
#include "match.h"

#include "attraction.h"

#include "otflow/component.h"
#include "otflow/err.h"
#include "ottl/ottl_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static otf_bytes_t dup(otf_arena_t *a, const char *s)
{
	size_t n = strlen(s);
	return (otf_bytes_t){(const uint8_t *)otf_arena_memdup(a, s, n + 1), n};
}

static int compile(const otf_config_node_t *at, otf_bytes_t p, void **out, otf_config_error_t *err)
{
	pcre2_code *re;
	int code;
	size_t off;
	if (otf__ottl_re_compile(p, &re, &code, &off)) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(code, msg, sizeof msg);
		return otf_config_errorf(err, at, "regexp does not compile at offset %zu: %s", off,
		                         (const char *)msg);
	}
	*out = re;
	return 0;
}

static int str_list(otf_attr_match_t *m, const otf_config_node_t *v, otf_attr_strs_t *l,
                    otf_config_error_t *err)
{
	if (otf_config_node_kind(v) != OTF_CONFIG_SEQUENCE)
		return otf_config_errorf(err, v, "expected a list of strings, got %s",
		                         otf_config_kind_name(v));
	l->n = otf_config_len(v);
	l->s = otf_arena_calloc(&m->arena, l->n + 1, sizeof *l->s);
	l->re = otf_arena_calloc(&m->arena, l->n + 1, sizeof *l->re);
	if (!l->s || !l->re)
		return OTF_E_NOMEM;
	for (size_t i = 0; i < l->n; i++) {
		const otf_config_node_t *it = otf_config_seq_at(v, i);
		const char *s = otf_config_scalar(it, NULL);
		if (!s)
			return otf_config_errorf(err, it, "expected a string, got %s",
			                         otf_config_kind_name(it));
		l->s[i] = dup(&m->arena, s);
		if (m->regexp) {
			int rc = compile(it, l->s[i], &l->re[i], err);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int kv_list(otf_attr_match_t *m, const otf_config_node_t *v, otf_attr_kvm_t **out, size_t *n,
                   otf_config_error_t *err)
{
	if (otf_config_node_kind(v) != OTF_CONFIG_SEQUENCE)
		return otf_config_errorf(err, v, "expected a list of {key, value}, got %s",
		                         otf_config_kind_name(v));
	*n = otf_config_len(v);
	otf_attr_kvm_t *l = *out = otf_arena_calloc(&m->arena, *n + 1, sizeof *l);
	if (!l)
		return OTF_E_NOMEM;
	for (size_t i = 0; i < *n; i++) {
		const otf_config_node_t *it = otf_config_seq_at(v, i);
		const otf_config_node_t *k = otf_config_map_get(it, "key"),
		                        *val = otf_config_map_get(it, "value");
		if (otf_config_node_kind(it) != OTF_CONFIG_MAPPING || !otf_config_scalar(k, NULL))
			return otf_config_errorf(err, it,
			                         "expected a mapping with a string \"key\"");
		for (size_t j = 0; j < otf_config_len(it); j++) {
			const otf_config_node_t *x;
			const char *kk = otf_config_map_at(it, j, &x);
			if (strcmp(kk, "key") && strcmp(kk, "value"))
				return otf_config_errorf(
				    err, x, "unknown key \"%s\" (valid keys: key, value)", kk);
		}
		l[i].key = dup(&m->arena, otf_config_scalar(k, NULL));
		if (val && otf_config_node_kind(val) != OTF_CONFIG_NULL) {
			l[i].has_value = true;
			if (m->regexp) {
				const char *s = otf_config_scalar(val, NULL);
				if (!s)
					return otf_config_errorf(
					    err, val, "match_type regexp: value must be a string");
				l[i].value.type = OTF_ANY_STRING;
				l[i].value.u.string_value = dup(&m->arena, s);
				int rc = compile(val, l[i].value.u.string_value, &l[i].re, err);
				if (rc)
					return rc;
			} else {
				int rc =
				    otf__attr_actions_yaml_value(&m->arena, val, &l[i].value, err);
				if (rc)
					return rc;
			}
		}
	}
	return 0;
}

static const char *const k_sev[] = {
    "UNSPECIFIED", "TRACE",  "TRACE2", "TRACE3", "TRACE4", "DEBUG",  "DEBUG2", "DEBUG3", "DEBUG4",
    "INFO",        "INFO2",  "INFO3",  "INFO4",  "WARN",   "WARN2",  "WARN3",  "WARN4",  "ERROR",
    "ERROR2",      "ERROR3", "ERROR4", "FATAL",  "FATAL2", "FATAL3", "FATAL4"};

static int severity(otf_attr_match_t *m, const otf_config_node_t *v, otf_config_error_t *err)
{
	if (otf_config_node_kind(v) != OTF_CONFIG_MAPPING)
		return otf_config_errorf(err, v, "expected a mapping {min, match_undefined}");
	for (size_t j = 0; j < otf_config_len(v); j++) {
		const otf_config_node_t *x;
		const char *k = otf_config_map_at(v, j, &x);
		if (!strcmp(k, "match_undefined")) {
			int rc = otf_config_read_bool(x, &m->sev_match_undefined, err);
			if (rc)
				return rc;
		} else if (!strcmp(k, "min")) {
			const char *s = otf_config_scalar(x, NULL);
			int64_t n;
			m->sev_min = -1;
			if (s && otf_config_parse_int64(s, &n) == 0 && n >= 0 && n <= 24)
				m->sev_min = (int)n;
			for (int i = 0; s && m->sev_min < 0 && i < 25; i++)
				if (!strcasecmp(s, k_sev[i]) ||
				    (!strncasecmp(s, "SEVERITY_NUMBER_", 16) &&
				     !strcasecmp(s + 16, k_sev[i])))
					m->sev_min = i;
			if (m->sev_min < 0)
				return otf_config_errorf(
				    err, x,
				    "min: expected a severity number 0..24 or a name "
				    "(TRACE .. FATAL4)");
		} else {
			return otf_config_errorf(
			    err, x, "unknown key \"%s\" (valid keys: min, match_undefined)", k);
		}
	}
	return 0;
}

static const char *const k_kinds[] = {"Unspecified", "Internal", "Server",
                                      "Client",      "Producer", "Consumer"};

static int kinds(otf_attr_match_t *m, const otf_config_node_t *v, otf_config_error_t *err)
{
	if (otf_config_node_kind(v) != OTF_CONFIG_SEQUENCE)
		return otf_config_errorf(err, v, "expected a list of span kinds");
	for (size_t i = 0; i < otf_config_len(v); i++) {
		const otf_config_node_t *it = otf_config_seq_at(v, i);
		const char *s = otf_config_scalar(it, NULL);
		int k = -1;
		for (int j = 0; s && j < 6; j++)
			if (!strcasecmp(s, k_kinds[j]) ||
			    (!strncasecmp(s, "SPAN_KIND_", 10) && !strcasecmp(s + 10, k_kinds[j])))
				k = j;
		if (k < 0)
			return otf_config_errorf(
			    err, it,
			    "unknown span kind (Unspecified, Internal, Server, "
			    "Client, Producer, Consumer or SPAN_KIND_*)");
		m->span_kinds |= 1u << k;
	}
	return 0;
}

static int libraries(otf_attr_match_t *m, const otf_config_node_t *v, otf_config_error_t *err)
{
	if (otf_config_node_kind(v) != OTF_CONFIG_SEQUENCE)
		return otf_config_errorf(err, v, "expected a list of {name, version}");
	m->libraries_n = otf_config_len(v);
	m->libraries = otf_arena_calloc(&m->arena, m->libraries_n + 1, sizeof *m->libraries);
	if (!m->libraries)
		return OTF_E_NOMEM;
	for (size_t i = 0; i < m->libraries_n; i++) {
		const otf_config_node_t *it = otf_config_seq_at(v, i);
		const char *name = otf_config_scalar(otf_config_map_get(it, "name"), NULL);
		const otf_config_node_t *ver = otf_config_map_get(it, "version");
		if (!name)
			return otf_config_errorf(err, it,
			                         "expected a mapping with a string \"name\"");
		otf_attr_lib_t *l = &m->libraries[i];
		l->name = dup(&m->arena, name);
		if (m->regexp) {
			int rc = compile(it, l->name, &l->re, err);
			if (rc)
				return rc;
		}
		if (ver) {
			const char *s = otf_config_scalar(ver, NULL);
			l->has_version = true;
			l->version = dup(&m->arena, s ? s : "");
		}
	}
	return 0;
}

static void free_strs(otf_attr_strs_t *l)
{
	for (size_t i = 0; l->re && i < l->n; i++)
		if (l->re[i])
			pcre2_code_free(l->re[i]);
}

void otf__attr_match_release(void *slot)
{
	otf_attr_match_t *m = slot;
	if (!m->set)
		return;
	free_strs(&m->services);
	free_strs(&m->span_names);
	free_strs(&m->log_bodies);
	free_strs(&m->log_sev_texts);
	free_strs(&m->metric_names);
	for (size_t i = 0; m->attributes && i < m->attributes_n; i++)
		if (m->attributes[i].re)
			pcre2_code_free(m->attributes[i].re);
	for (size_t i = 0; m->resources && i < m->resources_n; i++)
		if (m->resources[i].re)
			pcre2_code_free(m->resources[i].re);
	for (size_t i = 0; m->libraries && i < m->libraries_n; i++)
		if (m->libraries[i].re)
			pcre2_code_free(m->libraries[i].re);
	otf_arena_close(&m->arena);
	memset(m, 0, sizeof *m);
}

int otf__attr_match_parse(const otf_config_node_t *v, void *slot, otf_config_error_t *err)
{
	otf_attr_match_t *m = slot;
	if (otf_config_node_kind(v) != OTF_CONFIG_MAPPING)
		return otf_config_errorf(err, v, "expected a mapping, got %s",
		                         otf_config_kind_name(v));
	const otf_config_node_t *mt = otf_config_map_get(v, "match_type");
	const char *mts = otf_config_scalar(mt, NULL);
	if (!mts)
		return otf_config_errorf(
		    err, v, "missing required field \"match_type\" (strict or regexp)");
	if (strcmp(mts, "strict") && strcmp(mts, "regexp"))
		return otf_config_errorf(err, mt, "match_type \"%s\": expected strict or regexp",
		                         mts);
	otf_arena_init(&m->arena, 2048);
	m->set = true;
	m->regexp = mts[0] == 'r';
	int rc = 0;
	for (size_t i = 0; i < otf_config_len(v) && !rc; i++) {
		const otf_config_node_t *x;
		const char *k = otf_config_map_at(v, i, &x);
		if (!strcmp(k, "match_type"))
			continue;
		else if (!strcmp(k, "regexp"))
			m->warned_regexp_cache = true;
		else if (!strcmp(k, "services"))
			rc = str_list(m, x, &m->services, err), m->given |= OTF_MP_SERVICES;
		else if (!strcmp(k, "span_names"))
			rc = str_list(m, x, &m->span_names, err), m->given |= OTF_MP_SPAN_NAMES;
		else if (!strcmp(k, "log_bodies"))
			rc = str_list(m, x, &m->log_bodies, err), m->given |= OTF_MP_LOG_BODIES;
		else if (!strcmp(k, "log_severity_texts"))
			rc = str_list(m, x, &m->log_sev_texts, err),
			m->given |= OTF_MP_LOG_SEV_TEXTS;
		else if (!strcmp(k, "metric_names"))
			rc = str_list(m, x, &m->metric_names, err), m->given |= OTF_MP_METRIC_NAMES;
		else if (!strcmp(k, "span_kinds"))
			rc = kinds(m, x, err), m->given |= OTF_MP_SPAN_KINDS;
		else if (!strcmp(k, "attributes"))
			rc = kv_list(m, x, &m->attributes, &m->attributes_n, err),
			m->given |= OTF_MP_ATTRIBUTES;
		else if (!strcmp(k, "resources"))
			rc = kv_list(m, x, &m->resources, &m->resources_n, err),
			m->given |= OTF_MP_RESOURCES;
		else if (!strcmp(k, "libraries"))
			rc = libraries(m, x, err), m->given |= OTF_MP_LIBRARIES;
		else if (!strcmp(k, "log_severity_number"))
			rc = severity(m, x, err), m->given |= OTF_MP_LOG_SEV_NUMBER;
		else
			rc = otf_config_errorf(
			    err, x,
			    "unknown key \"%s\" (valid keys: match_type, regexp, "
			    "services, span_names, span_kinds, attributes, resources, "
			    "libraries, log_bodies, log_severity_texts, "
			    "log_severity_number, metric_names)",
			    k);
	}
	if (!rc && !m->given)
		rc = otf_config_errorf(err, v,
		                       "at least one property besides match_type is required");
	if (rc)
		otf__attr_match_release(m);
	return rc;
}

int otf__attr_match_check(const otf_attr_match_t *m, otf_signal_t s, const char *which, char *err,
                          size_t errlen)
{
	static const unsigned ok[OTF_SIGNAL_COUNT] = {
	    [OTF_SIGNAL_TRACES] = OTF_MP_SERVICES | OTF_MP_SPAN_NAMES | OTF_MP_SPAN_KINDS |
	                          OTF_MP_ATTRIBUTES | OTF_MP_RESOURCES | OTF_MP_LIBRARIES,
	    [OTF_SIGNAL_LOGS] = OTF_MP_LOG_BODIES | OTF_MP_LOG_SEV_TEXTS | OTF_MP_LOG_SEV_NUMBER |
	                        OTF_MP_ATTRIBUTES | OTF_MP_RESOURCES | OTF_MP_LIBRARIES,
	    [OTF_SIGNAL_METRICS] = OTF_MP_METRIC_NAMES | OTF_MP_RESOURCES,
	};
	static const char *const names[] = {
	    "services",  "span_names", "span_kinds",         "attributes",          "resources",
	    "libraries", "log_bodies", "log_severity_texts", "log_severity_number", "metric_names"};
	if (!m->set)
		return 0;
	unsigned bad = m->given & ~ok[s];
	for (int i = 0; i < 10; i++)
		if (bad & (1u << i)) {
			snprintf(err, errlen,
			         "%s.%s is not valid for %s (the Collector refuses it too)", which,
			         names[i], otf_signal_name(s));
			return OTF_E_CONFIG;
		}
	return 0;
}

/* ---- matching ---- */

static bool str_eq(otf_bytes_t a, otf_bytes_t b)
{
	return otf__ottl_bytes_eq(a, b);
}

static bool re_find(void *re, otf_bytes_t s)
{
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	if (!md)
		return false;
	int rc = pcre2_match(re, s.len ? s.ptr : (const uint8_t *)"", s.len, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

static bool strs_match(const otf_attr_match_t *m, const otf_attr_strs_t *l, otf_bytes_t s)
{
	for (size_t i = 0; i < l->n; i++)
		if (m->regexp ? re_find(l->re[i], s) : str_eq(l->s[i], s))
			return true;
	return false;
}

static const otf_key_value_t *get(const otf_attributes_t *a, otf_bytes_t k)
{
	for (size_t i = 0; i < a->len; i++)
		if (str_eq(a->items[i].key, k))
			return &a->items[i];
	return NULL;
}

static bool value_eq(const otf_any_value_t *a, const otf_any_value_t *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case OTF_ANY_STRING:
		return str_eq(a->u.string_value, b->u.string_value);
	case OTF_ANY_BYTES:
		return str_eq(a->u.bytes_value, b->u.bytes_value);
	case OTF_ANY_BOOL:
		return a->u.bool_value == b->u.bool_value;
	case OTF_ANY_INT:
		return a->u.int_value == b->u.int_value;
	case OTF_ANY_DOUBLE:
		return a->u.double_value == b->u.double_value;
	default:
		return otf__ottl_compare(a, b, T_EQ);
	}
}

static bool kvs_match(const otf_attr_match_t *m, const otf_attr_kvm_t *l, size_t n,
                      const otf_attributes_t *at)
{
	for (size_t i = 0; i < n; i++) {
		const otf_key_value_t *kv = get(at, l[i].key);
		if (!kv)
			return false;
		if (!l[i].has_value)
			continue;
		if (m->regexp) {
			otf_arena_t a;
			otf_arena_init(&a, 256);
			otf_any_value_t s;
			bool ok = kv->value.type == OTF_ANY_STRING
			              ? re_find(l[i].re, kv->value.u.string_value)
			              : otf__ottl_to_string(&a, &kv->value, &s) == 0 &&
			                    re_find(l[i].re, s.u.string_value);
			otf_arena_close(&a);
			if (!ok)
				return false;
		} else if (!value_eq(&l[i].value, &kv->value)) {
			return false;
		}
	}
	return true;
}

static bool common(const otf_attr_match_t *m, const otf_resource_t *r, const otf_scope_t *sc,
                   const otf_attributes_t *attrs)
{
	if (m->services.n) {
		static const otf_bytes_t sn = {(const uint8_t *)"service.name", 12};
		const otf_key_value_t *kv = get(&r->attributes, sn);
		otf_bytes_t s = kv && kv->value.type == OTF_ANY_STRING ? kv->value.u.string_value
		                                                       : (otf_bytes_t){0};
		if (!strs_match(m, &m->services, s))
			return false;
	}
	if (m->resources_n && !kvs_match(m, m->resources, m->resources_n, &r->attributes))
		return false;
	if (m->libraries_n) {
		bool any = false;
		for (size_t i = 0; i < m->libraries_n && !any; i++) {
			const otf_attr_lib_t *l = &m->libraries[i];
			bool nm = m->regexp ? re_find(l->re, sc->name) : str_eq(l->name, sc->name);
			any = nm && (!l->has_version || str_eq(l->version, sc->version));
		}
		if (!any)
			return false;
	}
	if (attrs && m->attributes_n && !kvs_match(m, m->attributes, m->attributes_n, attrs))
		return false;
	return true;
}

bool otf__attr_match_span(const otf_attr_match_t *m, const otf_resource_t *r, const otf_scope_t *sc,
                          const otf_span_t *sp)
{
	if (m->span_names.n && !strs_match(m, &m->span_names, sp->name))
		return false;
	if (m->span_kinds && !(sp->kind >= 0 && sp->kind < 6 && (m->span_kinds & (1u << sp->kind))))
		return false;
	return common(m, r, sc, &sp->attributes);
}

bool otf__attr_match_log(const otf_attr_match_t *m, const otf_resource_t *r, const otf_scope_t *sc,
                         const otf_log_record_t *lr)
{
	if (m->log_bodies.n) {
		otf_arena_t a;
		otf_arena_init(&a, 256);
		otf_any_value_t s = {0};
		bool ok = lr->body.type == OTF_ANY_STRING
		              ? strs_match(m, &m->log_bodies, lr->body.u.string_value)
		              : lr->body.type != OTF_ANY_EMPTY &&
		                    otf__ottl_to_string(&a, &lr->body, &s) == 0 &&
		                    strs_match(m, &m->log_bodies, s.u.string_value);
		otf_arena_close(&a);
		if (!ok)
			return false;
	}
	if (m->log_sev_texts.n && !strs_match(m, &m->log_sev_texts, lr->severity_text))
		return false;
	if (m->given & OTF_MP_LOG_SEV_NUMBER) {
		bool ok = lr->severity_number == 0 ? m->sev_match_undefined
		                                   : lr->severity_number >= m->sev_min;
		if (!ok)
			return false;
	}
	return common(m, r, sc, &lr->attributes);
}

bool otf__attr_match_metric(const otf_attr_match_t *m, const otf_resource_t *r,
                            const otf_metric_t *me)
{
	if (m->metric_names.n && !strs_match(m, &m->metric_names, me->name))
		return false;
	if (m->resources_n && !kvs_match(m, m->resources, m->resources_n, &r->attributes))
		return false;
	return true;
}
