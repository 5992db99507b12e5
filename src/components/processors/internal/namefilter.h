/* Metric name filter of cumulativetodelta's include/exclude (the
 * Collector's cumulativetodeltaprocessor config.go MatchMetrics):
 * {match_type: strict|regexp, metrics: [names or patterns],
 * metric_types: [sum, histogram]}. strict compares the whole name;
 * regexp patterns are PCRE2, unanchored as Go's MatchString. Any listed
 * name matching is enough; metric_types, when given, must contain the
 * metric's type too. As the Collector: metrics without match_type, or
 * match_type without metrics, is a config error. The Collector's
 * `regexp` cache options are refused (no cache here).
 *
 * Ownership: the slot's (released by otf__namefilter_release).
 * Thread rules: read-only after parse; PCRE2 codes are matched with
 * per-call match data, so one filter serves every worker. */
#ifndef OTF_NAMEFILTER_H
#define OTF_NAMEFILTER_H

#include "otflow/config.h"
#include "otflow/pdata.h"

#include <stdbool.h>
#include <stddef.h>

#define OTF_NAMEFILTER_SUM       1u
#define OTF_NAMEFILTER_HISTOGRAM 2u

typedef struct otf_namefilter {
	bool set; /* the key appeared */
	bool regexp;
	char **names;
	void **re; /* pcre2_code * per name with regexp */
	size_t n;
	unsigned types; /* OTF_NAMEFILTER_*; 0 = any */
} otf_namefilter_t;

int otf__namefilter_parse(const otf_config_node_t *v, void *slot, otf_config_error_t *err);
void otf__namefilter_release(void *slot);
/* True when the metric's name (and type, if metric_types given) match. */
bool otf__namefilter_match(const otf_namefilter_t *f, const otf_metric_t *m);
/* Unanchored PCRE2 search of s in re (a pcre2_code *). */
bool otf__regex_search(const void *re, const uint8_t *s, size_t len);
/* Compiles pattern (PCRE2, UTF): NULL with a message in why on failure. */
void *otf__regex_compile(const char *pattern, size_t len, char *why, size_t whylen);
void otf__regex_free(void *re);

#endif
