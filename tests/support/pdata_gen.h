/* Seeded random generator of pdata trees, for property and oracle tests.
 *
 * The same (seed, size, max_depth) always yields the same tree: the PRNG is
 * our own (splitmix64), so results do not depend on the C library, and a
 * failing seed can be replayed anywhere.
 *
 * Coverage: every field of every message, every AnyValue kind (arrays and
 * kvlists nested up to max_depth), empty and non-empty strings (ASCII,
 * control characters, NUL, 2/3/4-byte UTF-8), ids of the right length or
 * empty, all metric types (and a metric with no data), optional doubles
 * present or absent, both exemplar and data point value kinds, negative
 * scale and offsets, -0.0, infinities, subnormals, extreme integers and
 * enum values outside the known range (negative ones included).
 *
 * Never generated: NaN (it is not equal to itself and its payload need not
 * survive text formats), invalid UTF-8 and ids of a wrong length (those are
 * decode errors, tested elsewhere).
 *
 * All nodes are allocated in the given arena; running out of memory aborts,
 * since this is test code.
 */
#ifndef OTF_TEST_PDATA_GEN_H
#define OTF_TEST_PDATA_GEN_H

#include "otflow/arena.h"
#include "otflow/pdata.h"

#include <stdint.h>

typedef struct otf_gen {
	uint64_t state;      /* splitmix64 state */
	otf_arena_t *arena;  /* where the tree goes */
	unsigned size;       /* max elements of any repeated field (0 = all empty) */
	unsigned max_depth;  /* AnyValue nesting: 1 = scalars only */
	unsigned max_string; /* max characters of a generated string */
} otf_gen_t;

/* size: the size knob, max elements per repeated field (3 gives trees of a
 * few KiB). max_depth defaults to 4 and max_string to 12; change the fields
 * after init to override. */
void otf_gen_init(otf_gen_t *g, uint64_t seed, unsigned size, otf_arena_t *arena);

/* Raw PRNG output, for tests that need their own randomness. */
uint64_t otf_gen_u64(otf_gen_t *g);
/* Uniform in [0, n); n > 0. */
uint64_t otf_gen_below(otf_gen_t *g, uint64_t n);

void otf_gen_traces(otf_gen_t *g, otf_traces_t *out);
void otf_gen_metrics(otf_gen_t *g, otf_metrics_t *out);
void otf_gen_logs(otf_gen_t *g, otf_logs_t *out);
/* has_partial_success false always comes with rejected 0 and an empty
 * message, since nothing else is representable on the wire. */
void otf_gen_response(otf_gen_t *g, otf_export_response_t *out);

/* Single values, for hand-built tests. */
void otf_gen_any(otf_gen_t *g, otf_any_value_t *out, unsigned depth);
void otf_gen_attributes(otf_gen_t *g, otf_attributes_t *out, unsigned depth);

#endif
