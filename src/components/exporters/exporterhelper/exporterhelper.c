/* retry_on_failure and sending_queue: schema and validation, with the
 * Collector's keys and defaults (exporter/exporterhelper README). */
#include "exporterhelper.h"

#include "otflow/err.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

const otf_config_field_t otf__exph_retry_schema[] = {
    {.key = "enabled",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(otf_exph_retry_config_t, enabled),
     .def = "true",
     .desc = "Retry requests that failed in a retryable way."},
    {.key = "initial_interval",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(otf_exph_retry_config_t, initial_interval_ns),
     .def = "5s",
     .desc = "Wait after the first failure before retrying."},
    {.key = "randomization_factor",
     .type = OTF_CFG_DOUBLE,
     .offset = offsetof(otf_exph_retry_config_t, randomization_factor),
     .def = "0.5",
     .desc = "Jitter: each wait is the interval times a random factor in [1 - f, 1 + f]."},
    {.key = "multiplier",
     .type = OTF_CFG_DOUBLE,
     .offset = offsetof(otf_exph_retry_config_t, multiplier),
     .def = "1.5",
     .desc = "Factor by which the interval grows after each attempt."},
    {.key = "max_interval",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(otf_exph_retry_config_t, max_interval_ns),
     .def = "30s",
     .desc = "Upper bound of the interval."},
    {.key = "max_elapsed_time",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(otf_exph_retry_config_t, max_elapsed_time_ns),
     .def = "300s",
     .desc = "Give up when the next attempt would start this long after the first "
             "(0 = never give up)."},
    OTF_CONFIG_FIELD_END,
};

static const char *const k_sizers[] = {"requests", "items", "bytes", NULL};

const otf_config_field_t otf__exph_queue_schema[] = {
    {.key = "enabled",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(otf_exph_queue_config_t, enabled),
     .def = "true",
     .desc = "Queue requests in memory and send them with num_consumers at a time. "
             "false: no waiting line, num_consumers requests in flight at most, more are "
             "refused (retryable)."},
    {.key = "num_consumers",
     .type = OTF_CFG_INT,
     .offset = offsetof(otf_exph_queue_config_t, num_consumers),
     .def = "10",
     .desc = "Requests in flight at once per worker (an attempt or the wait before a "
             "retry)."},
    {.key = "queue_size",
     .type = OTF_CFG_INT,
     .offset = offsetof(otf_exph_queue_config_t, queue_size),
     .def = "1000",
     .desc = "Capacity per worker, in sizer units, counting every request held (queued, in "
             "flight, waiting to retry); a request that does not fit is refused upstream "
             "as retryable (503 / UNAVAILABLE at a receiver)."},
    {.key = "sizer",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(otf_exph_queue_config_t, sizer),
     .def = "requests",
     .enum_values = k_sizers,
     .desc = "Unit of queue_size: requests, items (spans, data points, log records) or "
             "bytes (protobuf)."},
    {.key = "wait_for_result",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(otf_exph_queue_config_t, wait_for_result),
     .def = "true",
     .desc = "Acknowledge a request upstream only once the server accepted it (otflow's "
             "default; end-to-end delivery with the receiver's wait_for_result). false, the "
             "Collector's default: acknowledged when queued."},
    {.key = "block_on_overflow",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(otf_exph_queue_config_t, block_on_overflow),
     .def = "false",
     .desc = "When the queue is full, a request waits for room (oldest first) instead of "
             "being refused, until its deadline or at most the exporter's timeout (30s when "
             "none), then is refused as retryable; the worker loop itself never blocks. At "
             "most 4096 requests wait per worker. false: refused at once."},
    {.key = "storage",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otf_exph_queue_config_t, storage),
     .ext_ref = 1 + OTF_EXT_STORAGE,
     .desc = "Id of a storage extension (file_storage/x) that makes the queue persistent: "
             "each request is written to disk before it is queued and removed once sent "
             "or failed for good; after a crash or restart what is on disk is sent again. "
             "With wait_for_result: false a request is acknowledged upstream once its "
             "record is durable (fsync per the extension's fsync, one for many requests, off the "
             "worker loop). "
             "docs/durability.md."},
    OTF_CONFIG_FIELD_END,
};

int otf__exph_validate(const otf_exph_retry_config_t *r, const otf_exph_queue_config_t *q,
                       char *err, size_t errlen)
{
	if (r->enabled) {
		if (r->initial_interval_ns <= 0 || r->max_interval_ns <= 0) {
			snprintf(err, errlen,
			         "retry_on_failure: initial_interval and max_interval "
			         "must be positive");
			return OTF_E_CONFIG;
		}
		if (r->randomization_factor < 0 || r->randomization_factor > 1) {
			snprintf(err, errlen,
			         "retry_on_failure.randomization_factor: must be in [0, 1]");
			return OTF_E_CONFIG;
		}
		if (r->multiplier < 1) {
			snprintf(err, errlen, "retry_on_failure.multiplier: must be >= 1");
			return OTF_E_CONFIG;
		}
		if (r->max_elapsed_time_ns < 0) {
			snprintf(err, errlen,
			         "retry_on_failure.max_elapsed_time: must not be negative");
			return OTF_E_CONFIG;
		}
	}
	if (q->num_consumers < 1 || q->num_consumers > 100000) {
		snprintf(err, errlen, "sending_queue.num_consumers: must be in 1..100000");
		return OTF_E_CONFIG;
	}
	if (!q->enabled && q->storage && q->storage[0]) {
		snprintf(err, errlen, "sending_queue.storage: needs enabled: true");
		return OTF_E_CONFIG;
	}
	if (q->enabled && q->queue_size < 1) {
		snprintf(err, errlen, "sending_queue.queue_size: must be positive");
		return OTF_E_CONFIG;
	}
	return 0;
}

static const char *storage_of(const otf_exph_queue_config_t *q)
{
	return q->enabled && q->storage && q->storage[0] ? q->storage : NULL;
}

int otf__exph_check_rebuild(const otf_exph_queue_config_t *old, const otf_exph_queue_config_t *nu,
                            char *err, size_t errlen)
{
	const char *a = storage_of(old), *b = storage_of(nu);
	/* Memory to storage is a move like any other: the queued requests
	 * are requeued into the new instance, which writes their records. */
	if (!a || (b && !strcmp(a, b)))
		return 0;
	snprintf(err, errlen,
	         "sending_queue.storage cannot change from '%s' to '%s%s' while running: the "
	         "persistent queue's records are in %s, and the new instance would neither send "
	         "them nor see them again (they would wait there for a restart with the old "
	         "setting); drain the queue first or restart with the new setting",
	         a, b ? b : "", b ? "" : "(none)", a);
	return OTF_E_UNSUPPORTED;
}
