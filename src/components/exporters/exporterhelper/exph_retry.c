/* Backoff schedule of retry_on_failure, as the Collector's retry sender
 * computes it with cenkalti/backoff's ExponentialBackOff: the delay is the
 * current interval randomized by +- randomization_factor, the interval
 * then grows by multiplier up to max_interval, and retrying stops when the
 * time since the first attempt plus the next delay would pass
 * max_elapsed_time (0 = never stop). */
#include "exporterhelper.h"

void otf__exph_backoff_reset(otf_exph_backoff_t *b, const otf_exph_retry_config_t *c,
                             uint64_t now_ns)
{
	b->cur_ns = (double)c->initial_interval_ns;
	b->start_ns = now_ns;
}

int64_t otf__exph_backoff_next(otf_exph_backoff_t *b, const otf_exph_retry_config_t *c,
                               uint64_t now_ns, double rnd)
{
	double cur = b->cur_ns;
	double delta = c->randomization_factor * cur;
	double lo = cur - delta, hi = cur + delta;
	/* cenkalti/backoff adds one to the span (integer nanoseconds): keep
	 * the same bounds so the schedule is the Collector's. */
	double next = lo + rnd * (hi - lo + 1);
	if (next < 0)
		next = 0;
	double max = (double)c->max_interval_ns;
	if (c->multiplier > 0 && cur >= max / c->multiplier)
		b->cur_ns = max;
	else
		b->cur_ns = cur * c->multiplier;
	uint64_t elapsed = now_ns > b->start_ns ? now_ns - b->start_ns : 0;
	if (c->max_elapsed_time_ns > 0 && (double)elapsed + next > (double)c->max_elapsed_time_ns)
		return -1;
	return (int64_t)next;
}
