/* Metric name filter (namefilter.h). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "namefilter.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <pcre2.h>
#include <stdio.h>
#include <string.h>

void *otf__regex_compile(const char *pattern, size_t len, char *why, size_t whylen)
{
	int code = 0;
	PCRE2_SIZE off = 0;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len,
	                               PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C, &code, &off, NULL);
	if (!re) {
		char msg[160];
		pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, sizeof msg);
		snprintf(why, whylen,
		         "regular expression \"%s\" does not compile: %s at offset %zu", pattern,
		         msg, (size_t)off);
		return NULL;
	}
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* the interpreter is the fallback */
	return re;
}

void otf__regex_free(void *re)
{
	pcre2_code_free(re);
}

bool otf__regex_search(const void *re, const uint8_t *s, size_t len)
{
	static const uint8_t empty[1];
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	if (!md)
		return false;
	int rc = pcre2_match(re, len ? s : empty, len, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

void otf__namefilter_release(void *slot)
{
	otf_namefilter_t *f = slot;
	for (size_t i = 0; i < f->n; i++) {
		otf_free(f->names[i]);
		if (f->re && f->re[i])
			pcre2_code_free(f->re[i]);
	}
	otf_free(f->names);
	otf_free(f->re);
	memset(f, 0, sizeof *f);
}

int otf__namefilter_parse(const otf_config_node_t *v, void *slot, otf_config_error_t *err)
{
	otf_namefilter_t *f = slot;
	if (otf_config_node_kind(v) != OTF_CONFIG_MAPPING)
		return otf_config_errorf(err, v,
		                         "expected a mapping {match_type, metrics, "
		                         "metric_types}, got %s",
		                         otf_config_kind_name(v));
	f->set = true;
	const otf_config_node_t *mt = otf_config_map_get(v, "match_type");
	const otf_config_node_t *ms = otf_config_map_get(v, "metrics");
	const otf_config_node_t *ty = otf_config_map_get(v, "metric_types");
	for (size_t i = 0; i < otf_config_len(v); i++) {
		const otf_config_node_t *val;
		const char *k = otf_config_map_at(v, i, &val);
		if (strcmp(k, "match_type") && strcmp(k, "metrics") && strcmp(k, "metric_types"))
			return otf_config_errorf(err, val,
			                         "unknown key \"%s\" (valid keys: match_type, "
			                         "metrics, metric_types; the regexp cache options "
			                         "are not supported)",
			                         k);
	}
	size_t n = otf_config_len(ms);
	bool has_mt = mt && otf_config_node_kind(mt) != OTF_CONFIG_NULL;
	if (ms && otf_config_node_kind(ms) != OTF_CONFIG_NULL &&
	    otf_config_node_kind(ms) != OTF_CONFIG_SEQUENCE)
		return otf_config_errorf(err, ms, "expected a list of metric names, got %s",
		                         otf_config_kind_name(ms));
	if (n && !has_mt)
		return otf_config_errorf(err, v, "match_type must be set if metrics are supplied");
	if (has_mt) {
		const char *s = otf_config_scalar(mt, NULL);
		if (!s || (strcmp(s, "strict") && strcmp(s, "regexp")))
			return otf_config_errorf(err, mt, "match_type must be strict or regexp");
		if (!n)
			return otf_config_errorf(err, mt,
			                         "metrics must be supplied if match_type is set");
		f->regexp = !strcmp(s, "regexp");
	}
	f->names = otf_calloc(n ? n : 1, sizeof *f->names);
	f->re = otf_calloc(n ? n : 1, sizeof *f->re);
	if (!f->names || !f->re)
		return OTF_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		const otf_config_node_t *it = otf_config_seq_at(ms, i);
		size_t len = 0;
		const char *s = otf_config_scalar(it, &len);
		if (!s)
			return otf_config_errorf(err, it, "expected a metric name, got %s",
			                         otf_config_kind_name(it));
		if (!(f->names[i] = otf_strndup(s, len)))
			return OTF_E_NOMEM;
		f->n = i + 1;
		if (f->regexp) {
			char why[400];
			if (!(f->re[i] = otf__regex_compile(s, len, why, sizeof why)))
				return otf_config_errorf(err, it, "%s", why);
		}
	}
	if (ty && otf_config_node_kind(ty) != OTF_CONFIG_NULL) {
		if (otf_config_node_kind(ty) != OTF_CONFIG_SEQUENCE)
			return otf_config_errorf(err, ty, "expected a list of metric types, got %s",
			                         otf_config_kind_name(ty));
		for (size_t i = 0; i < otf_config_len(ty); i++) {
			const otf_config_node_t *it = otf_config_seq_at(ty, i);
			const char *s = otf_config_scalar(it, NULL);
			if (s && !strcmp(s, "sum"))
				f->types |= OTF_NAMEFILTER_SUM;
			else if (s && !strcmp(s, "histogram"))
				f->types |= OTF_NAMEFILTER_HISTOGRAM;
			else
				return otf_config_errorf(err, it,
				                         "metric_types: expected sum or histogram");
		}
	}
	return 0;
}

bool otf__namefilter_match(const otf_namefilter_t *f, const otf_metric_t *m)
{
	if (f->types) {
		unsigned t = m->type == OTF_METRIC_SUM         ? OTF_NAMEFILTER_SUM
		             : m->type == OTF_METRIC_HISTOGRAM ? OTF_NAMEFILTER_HISTOGRAM
		                                               : 0;
		if (!(f->types & t))
			return false;
	}
	if (!f->n)
		return f->types != 0;
	for (size_t i = 0; i < f->n; i++) {
		if (f->regexp
		        ? otf__regex_search(f->re[i], m->name.ptr, m->name.len)
		        : strlen(f->names[i]) == m->name.len &&
		              (!m->name.len || !memcmp(f->names[i], m->name.ptr, m->name.len)))
			return true;
	}
	return false;
}
