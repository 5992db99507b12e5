/* receiver `kafka`: the per-partition self-metrics (kafka_receiver.h).
 * Kept apart from the consumer so that it stays one subsystem. */
#include "kafka_receiver.h"

#include <stdio.h>

static void counter_init(otf_selfcounter_t *c, const char *name, const char *desc,
                         const char *label)
{
	c->name = name;
	c->desc = desc;
	c->unit = "{messages}";
	c->label_key = "partition";
	snprintf(c->label, sizeof c->label, "%s", label);
	c->value = 0;
	otf_selfcounter_register(c);
}

void otf__krcv_metrics_open(krcv_part_metrics_t *m, const char *label)
{
	counter_init(&m->commits, "otelcol_kafka_receiver_commits",
	             "Offset commits acknowledged by the group coordinator, per partition.", label);
	counter_init(&m->redeliveries, "otelcol_kafka_receiver_redeliveries",
	             "Messages sent again after a failure, per partition.", label);
	counter_init(&m->skipped, "otelcol_kafka_receiver_skipped",
	             "Messages marked although refused permanently, per partition.", label);
	m->lag.gauge = true;
	counter_init(&m->lag, "otelcol_kafka_receiver_offset_lag",
	             "High watermark minus the committed offset, per partition (the "
	             "Collector's kafka_receiver_offset_lag).",
	             label);
	m->committed = -1;
	m->first = -1;
}

void otf__krcv_metrics_close(krcv_part_metrics_t *m)
{
	otf_selfcounter_unregister(&m->commits);
	otf_selfcounter_unregister(&m->redeliveries);
	otf_selfcounter_unregister(&m->skipped);
	otf_selfcounter_unregister(&m->lag);
}

void otf__krcv_lag_update(krcv_part_metrics_t *m, rd_kafka_t *rk, const char *topic,
                          int32_t partition)
{
	int64_t lo = 0, hi = -1;
	/* librdkafka's cached watermarks (from the last fetch response): no
	 * request to the broker, so this may run on the worker's loop. */
	if (rd_kafka_get_watermark_offsets(rk, topic, partition, &lo, &hi) || hi < 0)
		return;
	/* Before the first commit, the group's position is where this member
	 * started: the first offset it received. */
	int64_t base = m->committed >= 0 ? m->committed : m->first;
	if (base < 0)
		return;
	__atomic_store_n(&m->lag.value, (uint64_t)(hi > base ? hi - base : 0), __ATOMIC_RELAXED);
}
