/* The arithmetic of consistent probability sampling, as the Collector's
 * pkg/sampling and probabilisticsamplerprocessor do it (OTEP 235, W3C
 * Trace Context level 2), with no engine attached so that it is tested
 * value by value.
 *
 * Shapes: randomness and thresholds are 56-bit unsigned values in a
 * uint64_t. An item is sampled when randomness >= threshold; threshold 0
 * samples everything (t-value "0"), OTF__PS_NEVER (2^56) nothing.
 * Probabilities are ratios in [2^-56, 1].
 *
 * The tracestate parser keeps slices into the input; serialising writes
 * into a caller's buffer. No allocation, no global state: callable from
 * any thread. */
#ifndef OTF_PS_SAMPLING_H
#define OTF_PS_SAMPLING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OTF__PS_MAX_ADJ  (1ull << 56)
#define OTF__PS_NEVER    OTF__PS_MAX_ADJ
#define OTF__PS_ALL_RND  (OTF__PS_MAX_ADJ - 1) /* randomness of "missing": sampled by all */
#define OTF__PS_HEX      14                    /* hex digits of a 56-bit value */
#define OTF__PS_BUCKETS  0x4000u               /* hash_seed: 14-bit hash */
#define OTF__PS_MAX_W3C  32                    /* tracestate list members */
#define OTF__PS_MAX_OTEL 16                    /* extra fields kept in ot= */

/* FNV-1a (32 bit) of the seed's 4 little-endian bytes, then b: the hash of
 * the Collector's hash_seed mode (fnvhasher.go). */
uint32_t otf__ps_fnv(const uint8_t *b, size_t n, uint32_t seed);

/* hash_seed randomness of b (randomnessFromBytes in sampler_mode.go): the
 * top 14 bits are 2^14 - 1 - (hash & 0x3fff), so that "hash < scaled
 * rate" reads as "randomness >= threshold". */
uint64_t otf__ps_rnd_from_bytes(const uint8_t *b, size_t n, uint32_t seed);

/* The reject threshold of hash_seed mode at pct percent, computed as the
 * Collector does (float32 product, truncated); OTF__PS_NEVER when the rate
 * rounds to zero. pct is clamped to 100. */
uint64_t otf__ps_hash_threshold(float pct);

/* Randomness of a 16-byte trace id: its last 7 bytes, big-endian. */
uint64_t otf__ps_rnd_from_trace_id(const uint8_t id[16]);

/* ProbabilityToThresholdWithPrecision: 0 with *th set, or -ERANGE when p
 * is outside [2^-56, 1] (or the precision underflows). prec 0 = full. */
int otf__ps_prob_to_threshold(double p, int prec, uint64_t *th);

/* Probability of a threshold: (2^56 - th) / 2^56. */
double otf__ps_threshold_prob(uint64_t th);

/* T-value of th ("0" for 0, trailing zeros dropped, "" for never) into
 * out (at least 15 bytes); returns its length. */
size_t otf__ps_tvalue(uint64_t th, char *out);
/* R-value (14 hex digits) of rnd into out (at least 15 bytes). */
void otf__ps_rvalue(uint64_t rnd, char *out);
/* Parses a t-value (1..14 hex digits): 0 or -EINVAL. */
int otf__ps_tvalue_parse(const char *s, size_t n, uint64_t *th);
/* Parses an r-value (exactly 14 hex digits): 0 or -EINVAL. */
int otf__ps_rvalue_parse(const char *s, size_t n, uint64_t *rnd);

typedef struct otf__ps_slice {
	const char *p;
	size_t n;
} otf__ps_slice_t;

/* A parsed W3C tracestate with its `ot` member split out (w3ctracestate.go
 * and oteltracestate.go). */
typedef struct otf__ps_tracestate {
	bool has_rv, has_th;
	uint64_t rv, th;
	otf__ps_slice_t rv_text, th_text;           /* as they arrived (case kept), until set */
	char rv_buf[16], th_buf[16];                /* values set here */
	otf__ps_slice_t ot_extra[OTF__PS_MAX_OTEL]; /* other "k:v" fields of ot= */
	size_t n_ot_extra;
	otf__ps_slice_t members[OTF__PS_MAX_W3C]; /* other "key=value" members, trimmed */
	size_t n_members;
} otf__ps_tracestate_t;

/* Parses s (n bytes): 0, or -EINVAL when the Collector's parser refuses it
 * (syntax, sizes, an rv that is not 14 hex digits, a bad th). An empty
 * string is an empty tracestate. On error *ts is unusable. One limit is
 * otflow's: more than OTF__PS_MAX_OTEL other fields in `ot=` (the
 * Collector keeps any number within its 256 bytes) is refused too, so
 * such a span takes the fail_closed path. */
int otf__ps_tracestate_parse(const char *s, size_t n, otf__ps_tracestate_t *ts);

/* Serialises ts as the Collector does: "ot=rv:..;th:..;extra" first (when
 * it has any field), then the other members in their order, joined with
 * ','. Returns the length, or -ENOSPC when cap is too small. */
int otf__ps_tracestate_format(const otf__ps_tracestate_t *ts, char *out, size_t cap);

/* SetRValue: sets the randomness (its text in lower case). */
void otf__ps_tracestate_set_rv(otf__ps_tracestate_t *ts, uint64_t rnd);

/* UpdateTValueWithSampling: refuses (-EINVAL, ts unchanged) to lower an
 * existing threshold (raise the probability), else sets th. */
int otf__ps_tracestate_set_th(otf__ps_tracestate_t *ts, uint64_t th);

#endif
