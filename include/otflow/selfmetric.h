/* Component-defined self-metrics: counters a component registers next to
 * the engine's per-node ones (otelcol_receiver_accepted_spans, ...), shown
 * on every telemetry reader (Prometheus pull, periodic OTLP push) at level
 * basic and above. Used by the otlp_mmap receiver for loss that happens
 * outside any pipeline (producer drops, holes, corrupt files).
 *
 * Shape: one counter is one point of a cumulative monotonic sum `name`
 * with one attribute label_key=label (the component id); counters with
 * the same name are one metric with several points. name, desc and unit
 * are static strings; the counter itself is owned by the component and
 * must stay valid until otf_selfcounter_unregister() returns.
 *
 * A counter with gauge set is shown as a gauge (a value that goes up and
 * down: a queue's size); it is changed with otf_selfcounter_add of a
 * two's-complement delta ((uint64_t)-n to subtract n).
 *
 * Thread rules: register/unregister from any thread (a mutex); add from
 * the owner's thread, or from several threads for a shared gauge (relaxed
 * atomic, so the main thread's snapshot reads whole values). Errors: none
 * (registration cannot fail). */
#ifndef OTF_SELFMETRIC_H
#define OTF_SELFMETRIC_H

#include <stdbool.h>
#include <stdint.h>

typedef struct otf_selfcounter {
	const char *name; /* otelcol_... (Collector style) */
	const char *desc;
	const char *unit; /* UCUM, e.g. "{records}" */
	const char *label_key;
	char label[160];
	uint64_t value;
	struct otf_selfcounter *next; /* registry link */
	bool gauge;                   /* shown as a gauge, not a monotonic sum */
	/* Optional second attribute (NULL = none): the ERR counters' reason. */
	const char *label2_key;
	char label2[48];
} otf_selfcounter_t;

void otf_selfcounter_register(otf_selfcounter_t *c);
void otf_selfcounter_unregister(otf_selfcounter_t *c);

static inline void otf_selfcounter_add(otf_selfcounter_t *c, uint64_t n)
{
	__atomic_fetch_add(&c->value, n, __ATOMIC_RELAXED);
}

/* Calls fn for every registered counter (registration order), holding the
 * registry's mutex: fn must not register or unregister. */
typedef void (*otf_selfcounter_fn)(void *ctx, const otf_selfcounter_t *c, uint64_t value);
void otf_selfcounters_each(otf_selfcounter_fn fn, void *ctx);

#endif
