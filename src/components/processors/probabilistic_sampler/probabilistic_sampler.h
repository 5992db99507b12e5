/* processor `probabilistic_sampler`: configuration and the per-record
 * decision over a decoded request, apart from the node so that tests can
 * run the Collector's decision tables on trees.
 *
 * Source of behaviour: opentelemetry-collector-contrib
 * processor/probabilisticsamplerprocessor (README.md, config.go,
 * sampler_mode.go, tracesprocessor.go, logsprocessor.go) and pkg/sampling.
 * Thread rules: a sampler is read-only after init; each node instance
 * (one per worker) initialises its own from the shared config. */
#ifndef OTF_PROBABILISTIC_SAMPLER_H
#define OTF_PROBABILISTIC_SAMPLER_H

#include "otflow/arena.h"
#include "otflow/pdata.h"

#include <stdbool.h>
#include <stdint.h>

enum { OTF__PS_MODE_HASH_SEED = 0, OTF__PS_MODE_PROPORTIONAL, OTF__PS_MODE_EQUALIZING };
enum { OTF__PS_SOURCE_TRACE_ID = 0, OTF__PS_SOURCE_RECORD };

typedef struct otf__ps_config {
	double sampling_percentage; /* read as float32, as the Collector */
	uint64_t hash_seed;         /* uint32 */
	int mode;                   /* OTF__PS_MODE_* */
	bool fail_closed;
	int64_t sampling_precision; /* 1..14 hex digits */
	int attribute_source;       /* logs: OTF__PS_SOURCE_* */
	char *from_attribute;       /* logs; NULL = none */
	char *sampling_priority;    /* logs; NULL = none */
} otf__ps_config_t;

typedef struct otf__ps_sampler {
	int mode;
	bool never;         /* sampling_percentage 0 (or hash rate rounded to 0) */
	uint64_t threshold; /* hash_seed and equalizing */
	double ratio;       /* proportional */
	int prec;
	uint32_t seed;
	bool fail_closed;
	bool logs_trace_id;
	const char *from_attr, *priority_attr; /* logs; NULL = none */
} otf__ps_sampler_t;

/* Outcome counters of one run. */
typedef struct otf__ps_counts {
	uint64_t sampled, dropped;
	uint64_t errors; /* items with a sampling error (fail_closed decides) */
} otf__ps_counts_t;

void otf__ps_sampler_init(otf__ps_sampler_t *s, const otf__ps_config_t *cfg);

/* Keeps the sampled spans / log records of the tree and removes the rest
 * (and scopes and resources left empty), writing the threshold (and
 * randomness in hash_seed mode) into each kept item as the Collector does:
 * the span's tracestate `ot=` member, the log record's sampling.threshold
 * and sampling.randomness attributes. New strings go into arena. Returns 0
 * or OTF_E_NOMEM (the tree is then partly processed: drop it). */
int otf__ps_sample_traces(const otf__ps_sampler_t *s, otf_traces_t *t, otf_arena_t *arena,
                          otf__ps_counts_t *c);
int otf__ps_sample_logs(const otf__ps_sampler_t *s, otf_logs_t *l, otf_arena_t *arena,
                        otf__ps_counts_t *c);

#endif
