/* processor `redaction` internals shared with its unit test: the config
 * struct (regex lists compiled at load) and the redaction of one decoded
 * request (redaction_core.c). Source of behaviour: the redactionprocessor
 * README and processor.go of opentelemetry-collector-contrib. */
#ifndef OTF_REDACTION_H
#define OTF_REDACTION_H

#include "../ottlproc/ottlproc.h"
#include "otflow/config.h"
#include "otflow/config_schema.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* A list of compiled regexes (OTF_CFG_CUSTOM slot), in config order. */
typedef struct otf_redaction_relist {
	pcre2_code **re;
	size_t n;
} otf_redaction_relist_t;

enum { OTF_REDACTION_SUMMARY_SILENT = 0, OTF_REDACTION_SUMMARY_INFO, OTF_REDACTION_SUMMARY_DEBUG };
enum {
	OTF_REDACTION_HASH_NONE = 0, /* mask with "****" */
	OTF_REDACTION_HASH_MD5,
	OTF_REDACTION_HASH_SHA1,
	OTF_REDACTION_HASH_SHA3, /* SHA3-256 */
	OTF_REDACTION_HASH_HMAC_SHA256,
	OTF_REDACTION_HASH_HMAC_SHA512,
};

typedef struct otf_redaction_config {
	bool allow_all_keys;
	otf_config_strlist_t allowed_keys;
	otf_config_strlist_t ignored_keys;
	otf_redaction_relist_t ignored_key_patterns;
	otf_redaction_relist_t blocked_key_patterns;
	otf_redaction_relist_t blocked_values;
	otf_redaction_relist_t allowed_values;
	bool redact_all_types;
	int hash_function;
	char *hmac_key;
	int summary;
	int unsupported; /* url_sanitizer / db_sanitizer: refused by their parser */
} otf_redaction_config_t;

/* The factory's schema (redaction_config.c). */
extern const otf_config_field_t otf__redaction_schema[];

/* OTF_CFG_CUSTOM parse/release of a regex list (each pattern compiled;
 * one that does not is an error at its node, with PCRE2's message and
 * the offset in the pattern). */
int otf__redaction_parse_relist(const otf_config_node_t *v, void *slot, otf_config_error_t *err);
void otf__redaction_relist_free(void *slot);
/* Cross-field checks (the hmac key and its length). */
int otf__redaction_validate(const void *config, char *err, size_t errlen);

/* Counts of one request. */
typedef struct otf_redaction_stats {
	uint64_t redacted, masked, allowed, ignored; /* attribute / body keys */
} otf_redaction_stats_t;

/* Redacts every attribute map of t (resource, scope, span, span event, log
 * record and its body, data point) in place, new strings in arena. Returns
 * 1 when something changed, 0 when not, OTF_E_NOMEM. */
int otf__redaction_apply(const otf_redaction_config_t *c, ottlproc_tree_t *t, otf_arena_t *arena,
                         otf_redaction_stats_t *st);

#endif
