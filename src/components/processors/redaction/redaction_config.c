/* Configuration of the redaction processor (redaction.h): the schema, its
 * regex lists and the sanitizer keys. Regexes are PCRE2 (docs/ottl.md
 * lists where its syntax differs from Go's RE2), compiled at config load:
 * one that does not compile is a config error naming file:line:col, the
 * key and the offset in the pattern. The url_sanitizer and db_sanitizer of
 * newer Collectors are not implemented: enabling one is a config error
 * (silently not sanitizing would leak what the user meant to hide); left
 * disabled they are accepted. */
#include "redaction.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

void otf__redaction_relist_free(void *slot)
{
	otf_redaction_relist_t *l = slot;
	for (size_t i = 0; i < l->n; i++)
		pcre2_code_free(l->re[i]);
	otf_free(l->re);
	l->re = NULL;
	l->n = 0;
}

int otf__redaction_parse_relist(const otf_config_node_t *v, void *slot, otf_config_error_t *err)
{
	otf_redaction_relist_t *l = slot;
	if (otf_config_node_kind(v) != OTF_CONFIG_SEQUENCE)
		return otf_config_errorf(err, v, "expected a list of regular expressions, got %s",
		                         otf_config_kind_name(v));
	size_t n = otf_config_len(v);
	l->re = otf_calloc(n ? n : 1, sizeof *l->re);
	if (!l->re)
		return OTF_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		const otf_config_node_t *it = otf_config_seq_at(v, i);
		size_t len = 0;
		const char *s = otf_config_scalar(it, &len);
		if (!s)
			return otf_config_errorf(err, it, "expected a regular expression, got %s",
			                         otf_config_kind_name(it));
		int code = 0;
		PCRE2_SIZE off = 0;
		pcre2_code *re = pcre2_compile(
		    (PCRE2_SPTR)s, len, PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C, &code, &off, NULL);
		if (!re) {
			char msg[160];
			pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, sizeof msg);
			return otf_config_errorf(
			    err, it,
			    "regular expression \"%s\" does not compile: %s at "
			    "offset %zu",
			    s, msg, (size_t)off);
		}
		(void)pcre2_jit_compile(re,
		                        PCRE2_JIT_COMPLETE); /* the interpreter is the fallback */
		l->re[l->n++] = re;
	}
	return 0;
}

/* url_sanitizer / db_sanitizer: accepted while nothing in them is enabled. */
static int find_enabled(const otf_config_node_t *v, otf_config_error_t *err)
{
	if (otf_config_node_kind(v) != OTF_CONFIG_MAPPING)
		return 0;
	for (size_t i = 0; i < otf_config_len(v); i++) {
		const otf_config_node_t *val;
		const char *k = otf_config_map_at(v, i, &val);
		bool on = false;
		if (!strcmp(k, "enabled") && otf_config_node_kind(val) == OTF_CONFIG_SCALAR &&
		    otf_config_read_bool(val, &on, NULL) == 0 && on)
			return otf_config_errorf(
			    err, val,
			    "not supported by otflow's redaction processor (the "
			    "URL and database sanitizers are not implemented): "
			    "remove it or set enabled: false");
		int rc = find_enabled(val, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_sanitizer(const otf_config_node_t *v, void *slot, otf_config_error_t *err)
{
	(void)slot;
	return find_enabled(v, err);
}

static void no_release(void *slot)
{
	(void)slot;
}

static const char *const k_summary[] = {"silent", "info", "debug", NULL};
static const char *const k_hash[] = {"none",        "md5",         "sha1", "sha3",
                                     "hmac-sha256", "hmac-sha512", NULL};

#define RELIST(key_, member, desc_)                                                          \
	{                                                                                    \
		.key = key_, .type = OTF_CFG_CUSTOM,                                         \
		.offset = offsetof(otf_redaction_config_t, member),                          \
		.hint = "list of regular expressions", .parse = otf__redaction_parse_relist, \
		.release = otf__redaction_relist_free, .desc = desc_                         \
	}

const otf_config_field_t otf__redaction_schema[] = {
    {.key = "allow_all_keys",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(otf_redaction_config_t, allow_all_keys),
     .def = "false",
     .desc = "Keep every attribute key (allowed_keys is then not used); blocked values are "
             "still masked."},
    {.key = "allowed_keys",
     .type = OTF_CFG_STRING_LIST,
     .offset = offsetof(otf_redaction_config_t, allowed_keys),
     .desc = "Attribute keys kept; every other key is removed (fails closed: empty removes "
             "all, unless allow_all_keys)."},
    {.key = "ignored_keys",
     .type = OTF_CFG_STRING_LIST,
     .offset = offsetof(otf_redaction_config_t, ignored_keys),
     .desc = "Keys left as they are: never removed, never masked."},
    RELIST("ignored_key_patterns", ignored_key_patterns,
           "Keys matching one of these are left as they are, as ignored_keys."),
    RELIST("blocked_key_patterns", blocked_key_patterns,
           "The whole value of a key matching one of these is masked."),
    RELIST("blocked_values", blocked_values,
           "Every match of these in a kept value is masked (\"****\" or its hash)."),
    RELIST("allowed_values", allowed_values,
           "A value matching one of these is not masked (takes precedence over blocked "
           "values and blocked keys)."),
    {.key = "redact_all_types",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(otf_redaction_config_t, redact_all_types),
     .def = "false",
     .desc = "Check non-string values too, as their text (ints, doubles, bools, base64 "
             "bytes); by default only strings are checked."},
    {.key = "hash_function",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(otf_redaction_config_t, hash_function),
     .def = "none",
     .enum_values = k_hash,
     .desc = "Replace what is masked by its hex digest instead of \"****\" (sha3 is "
             "SHA3-256; the hmac ones need hmac_key)."},
    {.key = "hmac_key",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otf_redaction_config_t, hmac_key),
     .desc = "Secret of hmac-sha256 (at least 32 bytes) and hmac-sha512 (at least 64 "
             "bytes); use ${env:VAR}."},
    {.key = "summary",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(otf_redaction_config_t, summary),
     .def = "silent",
     .enum_values = k_summary,
     .desc = "Diagnostic attributes added where something was redacted: debug, the "
             "redaction.*.keys lists and counts; info, the counts; silent, none."},
    {.key = "url_sanitizer",
     .type = OTF_CFG_CUSTOM,
     .offset = offsetof(otf_redaction_config_t, unsupported),
     .hint = "mapping",
     .parse = parse_sanitizer,
     .release = no_release,
     .desc = "Not implemented: accepted only with enabled: false (an enabled sanitizer is a "
             "config error)."},
    {.key = "db_sanitizer",
     .type = OTF_CFG_CUSTOM,
     .offset = offsetof(otf_redaction_config_t, unsupported),
     .hint = "mapping",
     .parse = parse_sanitizer,
     .release = no_release,
     .desc = "Not implemented: accepted only with every enabled: false, as url_sanitizer."},
    OTF_CONFIG_FIELD_END,
};

int otf__redaction_validate(const void *config, char *err, size_t errlen)
{
	const otf_redaction_config_t *c = config;
	size_t need = c->hash_function == OTF_REDACTION_HASH_HMAC_SHA256   ? 32
	              : c->hash_function == OTF_REDACTION_HASH_HMAC_SHA512 ? 64
	                                                                   : 0;
	size_t have = c->hmac_key ? strlen(c->hmac_key) : 0;
	if (need && have < need) {
		snprintf(err, errlen,
		         "hash_function %s needs hmac_key of at least %zu bytes (got %zu)",
		         k_hash[c->hash_function], need, have);
		return OTF_E_CONFIG;
	}
	return 0;
}
