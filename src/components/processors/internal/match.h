/* include/exclude matching of the Collector's attributes processor
 * (opentelemetry-collector-contrib internal/filter/filterconfig
 * MatchProperties): which spans, log records and data points the actions
 * apply to. Reusable by filter's legacy form.
 *
 * Semantics: every property given must match (AND); inside a list
 * property (services, span_names, span_kinds, log_bodies,
 * log_severity_texts, metric_names, libraries) one item is enough (OR);
 * `attributes` and `resources` match when every listed key is present and,
 * when a value is given, equal (strict: same type and value; regexp: the
 * pattern finds a match in the string form of the attribute). match_type
 * regexp patterns are PCRE2, unanchored as Go's MatchString. span_kinds
 * take the pdata names (Unspecified, Internal, Server, Client, Producer,
 * Consumer) or SPAN_KIND_*. log_severity_number: {min, match_undefined},
 * min a number or a name (INFO, WARN2, ...). log_bodies match the string
 * form of the body. An item is skipped when include is set and does not
 * match, or exclude is set and matches.
 *
 * `regexp` (cacheenabled, cachemaxnumentries) is accepted and ignored
 * with a warning: there is no match cache. Ownership: the slot's arena;
 * released by otf__attr_match_release. Read-only after parse.
 */
#ifndef OTF_ATTR_MATCH_H
#define OTF_ATTR_MATCH_H

#include "otflow/arena.h"
#include "otflow/config.h"
#include "otflow/pdata.h"

#include <stdbool.h>

typedef struct otf_attr_strs {
	otf_bytes_t *s;
	void **re; /* pcre2_code * per item with match_type regexp */
	size_t n;
} otf_attr_strs_t;

typedef struct otf_attr_kvm {
	otf_bytes_t key;
	bool has_value;
	otf_any_value_t value;
	void *re;
} otf_attr_kvm_t;

typedef struct otf_attr_lib {
	otf_bytes_t name;
	void *re;
	bool has_version;
	otf_bytes_t version;
} otf_attr_lib_t;

/* Which properties were given (bits), for the per-signal validity check. */
enum {
	OTF_MP_SERVICES = 1 << 0,
	OTF_MP_SPAN_NAMES = 1 << 1,
	OTF_MP_SPAN_KINDS = 1 << 2,
	OTF_MP_ATTRIBUTES = 1 << 3,
	OTF_MP_RESOURCES = 1 << 4,
	OTF_MP_LIBRARIES = 1 << 5,
	OTF_MP_LOG_BODIES = 1 << 6,
	OTF_MP_LOG_SEV_TEXTS = 1 << 7,
	OTF_MP_LOG_SEV_NUMBER = 1 << 8,
	OTF_MP_METRIC_NAMES = 1 << 9,
};

typedef struct otf_attr_match {
	bool set;
	bool regexp;
	unsigned given; /* OTF_MP_* */
	otf_attr_strs_t services, span_names, log_bodies, log_sev_texts, metric_names;
	unsigned span_kinds; /* bit per otf_span_kind_t */
	otf_attr_kvm_t *attributes, *resources;
	size_t attributes_n, resources_n;
	otf_attr_lib_t *libraries;
	size_t libraries_n;
	int sev_min;
	bool sev_match_undefined;
	bool warned_regexp_cache; /* `regexp:` section given */
	otf_arena_t arena;
} otf_attr_match_t;

int otf__attr_match_parse(const otf_config_node_t *v, void *slot, otf_config_error_t *err);
void otf__attr_match_release(void *slot);

/* Properties of m that signal s does not allow, as a message into err;
 * 0 when all are fine, OTF_E_CONFIG otherwise. which: "include"/"exclude". */
int otf__attr_match_check(const otf_attr_match_t *m, otf_signal_t s, const char *which, char *err,
                          size_t errlen);

bool otf__attr_match_span(const otf_attr_match_t *m, const otf_resource_t *r, const otf_scope_t *sc,
                          const otf_span_t *sp);
bool otf__attr_match_log(const otf_attr_match_t *m, const otf_resource_t *r, const otf_scope_t *sc,
                         const otf_log_record_t *lr);
/* Data points: metric_names and resources (the only metric properties). */
bool otf__attr_match_metric(const otf_attr_match_t *m, const otf_resource_t *r,
                            const otf_metric_t *me);

/* The Collector's skip rule for one item given include and exclude. */
static inline bool otf__attr_skip(const otf_attr_match_t *inc, const otf_attr_match_t *exc,
                                  bool inc_match, bool exc_match)
{
	return (inc->set && !inc_match) || (exc->set && exc_match);
}

#endif
