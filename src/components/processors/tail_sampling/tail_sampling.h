/* processor `tail_sampling`: configuration, policies and the per-worker
 * trace store, apart from the node so that tests can run the decision
 * table on trees and the store without an engine.
 *
 * Source of behaviour: opentelemetry-collector-contrib
 * processor/tailsamplingprocessor (README.md, config.go, processor.go,
 * internal/sampling, its Go files).
 *
 * Thread rules: the configuration (policies, compiled regexes and OTTL
 * programs) is read-only after load and shared by the workers; the
 * per-policy state (rate limits) and the store belong to one node
 * instance, on its worker. */
#ifndef OTF_TAIL_SAMPLING_H
#define OTF_TAIL_SAMPLING_H

#include "otflow/arena.h"
#include "otflow/buf.h"
#include "otflow/config.h"
#include "otflow/config_schema.h"
#include "otflow/ottl.h"
#include "otflow/pdata.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum otf__ts_type {
	TS_ALWAYS_SAMPLE = 0,
	TS_LATENCY,
	TS_NUMERIC_ATTRIBUTE,
	TS_PROBABILISTIC,
	TS_STATUS_CODE,
	TS_STRING_ATTRIBUTE,
	TS_RATE_LIMITING,
	TS_SPAN_COUNT,
	TS_BOOLEAN_ATTRIBUTE,
	TS_OTTL_CONDITION,
	TS_AND,
	TS_COMPOSITE,
	TS_DROP,
	TS_TRACE_STATE,
	TS_TYPE_COUNT
} otf__ts_type_t;

/* The Collector's sampling.Decision values a policy returns. */
typedef enum otf__ts_decision {
	TS_NOT_SAMPLED = 0,
	TS_SAMPLED,
	TS_INVERT_SAMPLED,
	TS_INVERT_NOT_SAMPLED,
	TS_DROPPED, /* drop policy: wins over everything */
	TS_ERROR,
} otf__ts_decision_t;

typedef struct otf__ts_policy otf__ts_policy_t;
struct otf__ts_policy {
	char *name;
	otf__ts_type_t type;
	/* latency (ms) */
	int64_t threshold_ms, upper_threshold_ms;
	/* numeric_attribute, string_attribute, boolean_attribute, trace_state */
	char *key;
	int64_t min_value, max_value; /* numeric: absent = unbounded */
	bool invert_match;
	bool bool_value;
	char **values; /* string_attribute, trace_state */
	size_t n_values;
	bool regex;
	bool cache_size_ignored; /* cache_max_size given: a Go LRU size, warned about */
	void **re;               /* pcre2_code *, one per value when regex */
	/* probabilistic: FNV-1a 64 of hash_salt then the trace id <= threshold */
	char *hash_salt;
	double sampling_percentage;
	uint64_t prob_threshold;
	/* status_code: bit (1 << otf_status_code_t) per listed code */
	unsigned status_mask;
	/* rate_limiting, composite */
	int64_t spans_per_second;
	/* span_count */
	int64_t min_spans, max_spans;
	/* ottl_condition */
	otf_ottl_program_t *span_prog, *event_prog;
	otf_ottl_error_mode_t error_mode;
	/* and, drop, composite: sub-policies (composite in evaluation order) */
	otf__ts_policy_t *subs;
	size_t n_subs;
	int64_t *alloc_sps; /* composite: spans per second per sub-policy */
	size_t state;       /* first per-instance state slot (rate_limiting, composite) */
};

typedef struct otf__ts_policies {
	otf__ts_policy_t *items;
	size_t n;
	size_t n_state; /* state slots the policies use */
} otf__ts_policies_t;

typedef struct otf__ts_config {
	int64_t decision_wait_ns;
	uint64_t num_traces;
	uint64_t expected_new_traces_per_sec;
	struct otf__ts_cache_cfg {
		uint64_t sampled_cache_size, non_sampled_cache_size;
	} decision_cache;
	bool sample_on_first_match;
	bool drop_pending_traces_on_shutdown;
	otf__ts_policies_t policies;
} otf__ts_config_t;

extern const otf_config_field_t otf__ts_schema[];
int otf__ts_validate(const void *config, char *err, size_t errlen);

/* Per-instance state of the rate limits: the second counted and the spans
 * sampled in it. */
typedef struct otf__ts_state {
	int64_t second;
	int64_t spans;
} otf__ts_state_t;

/* One trace, decoded, to decide. */
typedef struct otf__ts_trace {
	const uint8_t *trace_id; /* 16 bytes */
	otf_traces_t *spans;     /* every span received for it */
	int64_t span_count;
} otf__ts_trace_t;

typedef struct otf__ts_eval {
	otf__ts_state_t *state; /* n_state slots */
	int64_t now_sec;        /* unix seconds, for the rate limits */
	otf_arena_t *arena;     /* OTTL writes (conditions only read) */
	void *match_data;       /* pcre2_match_data * of the instance */
	uint64_t ottl_errors;   /* runtime errors counted (error_mode ignore/silent) */
} otf__ts_eval_t;

/* The decision of one policy, and the final decision over every policy as
 * the Collector's makeDecision takes it (a drop policy's Dropped wins,
 * then an InvertNotSampled, then any Sampled, then InvertSampled when
 * nothing said NotSampled). *first (may be NULL) is the index of the policy whose
 * decision it is (-1 when none). */
otf__ts_decision_t otf__ts_policy_eval(const otf__ts_policy_t *p, const otf__ts_trace_t *t,
                                       otf__ts_eval_t *e);
bool otf__ts_decide(const otf__ts_config_t *cfg, const otf__ts_trace_t *t, otf__ts_eval_t *e,
                    int *first);

/* FNV-1a 64 of salt then b, and the threshold of a ratio (MaxUint64 *
 * ratio at 64-bit precision, truncated), as probabilistic.go. */
uint64_t otf__ts_hash(const char *salt, const uint8_t *b, size_t n);
uint64_t otf__ts_prob_threshold(double ratio);

/* ---- the store (ts_store.c) ---- */

typedef enum { TSE_PENDING = 0, TSE_KEPT, TSE_DROPPED } otf__ts_state_kind_t;

typedef struct otf__ts_entry otf__ts_entry_t;
struct otf__ts_entry {
	uint8_t id[16];
	otf__ts_entry_t *hnext;       /* bucket chain */
	otf__ts_entry_t *prev, *next; /* arrival order */
	uint64_t arrival_ms;
	otf__ts_state_kind_t state;
	otf_buf_t *bytes; /* pending: ResourceSpans groups back to back (a request) */
	int64_t spans;
};

typedef struct otf__ts_cache {
	uint8_t (*ids)[16];
	uint32_t *next, *buckets; /* chains of ring indices; UINT32_MAX ends */
	uint32_t cap, nbuckets, head, len;
} otf__ts_cache_t;

typedef struct otf__ts_store {
	otf__ts_entry_t **buckets;
	size_t nbuckets, len, max;
	otf__ts_entry_t *oldest, *newest, *first_pending;
	otf__ts_cache_t sampled, not_sampled;
} otf__ts_store_t;

/* max traces held (pending and decided, num_traces); initial sizes the
 * table (expected new traces in one decision_wait); cache sizes may be 0.
 * 0 or OTF_E_NOMEM (nothing to close then). */
int otf__ts_store_init(otf__ts_store_t *s, size_t max, size_t initial, uint32_t sampled_cache,
                       uint32_t not_sampled_cache);
void otf__ts_store_close(otf__ts_store_t *s);
otf__ts_entry_t *otf__ts_store_find(otf__ts_store_t *s, const uint8_t id[16]);
/* A new pending trace; when the store is full the oldest trace is removed
 * first, and *evicted_spans is the number of spans it held when it had no
 * decision yet (the Collector's "dropped too early"), else 0. NULL on
 * OOM. */
otf__ts_entry_t *otf__ts_store_add(otf__ts_store_t *s, const uint8_t id[16], uint64_t now_ms,
                                   int64_t *evicted_spans);
/* Records the decision of a pending trace (releases its bytes) and enters
 * it in the matching decision cache. */
void otf__ts_store_decided(otf__ts_store_t *s, otf__ts_entry_t *e, bool sampled);
/* 1 sampled, 0 not sampled, -1 unknown: a late span's decision from the
 * caches. */
int otf__ts_cache_lookup(otf__ts_store_t *s, const uint8_t id[16]);

#endif
