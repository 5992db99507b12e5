/* The series processors' shared node half (series_node.h). */
#include "series_node.h"

#include "otflow/err.h"

int otf__series_node_init(otf_series_node_t *n, const otf_create_ctx_t *ctx, size_t max_series,
                          otf_series_free_fn free_data)
{
	n->relay.node = ctx->node;
	n->map = otf__series_map_get(otf_node_name(ctx->node), ctx->config, max_series, free_data);
	if (!n->map)
		return OTF_E_NOMEM;
	otf_arena_init(&n->arena, 0);
	return 0;
}

int otf__series_node_start_timer(otf_series_node_t *n, uint64_t period_ms, uint64_t min_ms)
{
	if (period_ms < min_ms)
		period_ms = min_ms;
	n->timer = otf_node_timer_start(n->relay.node, period_ms, period_ms, 1);
	return n->timer < 0 ? (int)n->timer : 0;
}

void otf__series_node_evict(otf_series_node_t *n, uint64_t max_age_ns)
{
	uint64_t now = otf__series_mono_ns();
	if (now > max_age_ns)
		otf__series_map_evict(n->map, now - max_age_ns);
}

void otf__series_node_stop_timer(otf_series_node_t *n)
{
	if (n->timer > 0)
		otf_node_timer_stop(n->relay.node, n->timer);
	n->timer = 0;
}

void otf__series_node_close(otf_series_node_t *n)
{
	otf__ottlproc_relay_close(&n->relay);
	otf__series_map_put(n->map);
	otf_arena_close(&n->arena);
}
