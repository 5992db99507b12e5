/* The node half shared by the processors that keep series state across
 * messages (cumulativetodelta, deltatocumulative, interval): the relay
 * that answers a consumed message with its replacement's outcome
 * (ottlproc.h), the node's series map shared by its instances on every
 * worker (series.h), a per-instance arena for the decoded request, and an
 * optional periodic timer (staleness sweeps or interval sends).
 *
 * Threads: one instance per worker, called on that worker only; the map is
 * the shared part and locks itself. */
#ifndef OTF_PROCESSORS_SERIES_NODE_H
#define OTF_PROCESSORS_SERIES_NODE_H

#include "components/processors/internal/series.h"
#include "components/processors/ottlproc/ottlproc.h"
#include "otflow/arena.h"

typedef struct otf_series_node {
	ottlproc_relay_t relay;
	otf_series_map_t *map;
	otf_arena_t arena;
	int64_t timer; /* > 0 while started */
} otf_series_node_t;

/* At create: the node's map (otf__series_map_get with the create context's
 * node name and config as owner, max_series 0 = the hard bound). 0 or
 * OTF_E_NOMEM (n then holds nothing). */
int otf__series_node_init(otf_series_node_t *n, const otf_create_ctx_t *ctx, size_t max_series,
                          otf_series_free_fn free_data);
/* At start: a timer every period_ms (at least min_ms), calldata 1. 0 or the
 * engine's negative code. */
int otf__series_node_start_timer(otf_series_node_t *n, uint64_t period_ms, uint64_t min_ms);
/* On TMR of a staleness sweep: removes the series not seen for max_age_ns. */
void otf__series_node_evict(otf_series_node_t *n, uint64_t max_age_ns);
/* On KIL: stops the timer (once). */
void otf__series_node_stop_timer(otf_series_node_t *n);
/* At destroy: the relay's waiting originals, the map reference, the arena. */
void otf__series_node_close(otf_series_node_t *n);

#endif
