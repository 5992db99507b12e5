/* receiver `kafka`: configuration shared by kafka_receiver.c (the consumer)
 * and kafka_receiver_config.c (schema and validation). Keys and defaults:
 * opentelemetry-collector-contrib receiver/kafkareceiver README. */
#ifndef OTF_KAFKA_RECEIVER_H
#define OTF_KAFKA_RECEIVER_H

#include "components/exporters/exporterhelper/exporterhelper.h"
#include "components/exporters/kafka/kafka_common.h"

#include "otflow/component.h"
#include "otflow/selfmetric.h"

typedef struct krcv_signal {
	otf_config_strlist_t topics;
	char *topic; /* older singular form */
	char *encoding;
	bool topics_present, topic_present, encoding_present;
} krcv_signal_t;

typedef struct krcv_marking {
	bool after;
	bool on_error;
	bool on_permanent_error;
	bool on_permanent_error_present;
} krcv_marking_t;

typedef struct krcv_headers {
	bool extract_headers;
	otf_config_strlist_t headers;
} krcv_headers_t;

typedef struct krcv_autocommit {
	bool enable;
	int64_t interval_ns;
} krcv_autocommit_t;

enum { KRCV_ENC_PROTO = 0, KRCV_ENC_JSON = 1 };

typedef struct krcv_config {
	otf_kafka_conn_config_t conn;
	char *topic;    /* older top-level form */
	char *encoding; /* the same */
	krcv_signal_t sig[OTF_SIGNAL_COUNT];
	char *group_id;
	char *group_instance_id;
	char *rebalance_strategy;
	int initial_offset; /* 0 latest, 1 earliest */
	int64_t session_timeout_ns;
	int64_t heartbeat_interval_ns;
	int64_t min_fetch_size, max_fetch_size, max_partition_fetch_size;
	int64_t max_fetch_wait_ns;
	krcv_autocommit_t autocommit;
	krcv_marking_t marking;
	krcv_headers_t header_extraction;
	otf_exph_retry_config_t error_backoff;
	int64_t max_inflight;
} krcv_config_t;

extern const otf_config_field_t otf__krcv_schema[];
int otf__krcv_validate(const void *config, char *err, size_t errlen);
/* KRCV_ENC_* or -1. */
int otf__krcv_encoding(const char *s);
/* The topics of signal s (older forms resolved): *n entries, borrowed. */
const char *const *otf__krcv_topics(const krcv_config_t *c, otf_signal_t s, size_t *n);
/* The encoding of signal s. */
int otf__krcv_signal_encoding(const krcv_config_t *c, otf_signal_t s);

/* The value of rkm as an Export*ServiceRequest of signal: otlp_proto
 * validated as the otlp receiver validates (otf_view_validate, default
 * limits) and copied, otlp_json decoded and encoded; header_extraction's
 * headers appended to every resource. *out a new buffer, *items its
 * records. Negative code with why (topic/partition offset: field path and
 * detail) when the value is not a valid request: a permanent failure. */
int otf__krcv_convert(const krcv_config_t *c, otf_signal_t signal, int enc,
                      const rd_kafka_message_t *rkm, otf_buf_t **out, uint64_t *items, char *why,
                      size_t whylen);

/* Per-partition self-metrics (kafka_receiver_metrics.c), registered by
 * open and unregistered by close; the values are updated on the worker's
 * loop. lag (a gauge): the partition's high watermark as librdkafka last
 * saw it in a fetch response, minus committed (the last offset the group
 * coordinator acknowledged for it) or, before a commit, minus first (the
 * first offset this member received); -1 = not known yet. A paused
 * partition fetches nothing, so its watermark is the one of its last fetch. */
typedef struct krcv_part_metrics {
	otf_selfcounter_t commits, redeliveries, skipped, lag;
	int64_t committed, first;
} krcv_part_metrics_t;
void otf__krcv_metrics_open(krcv_part_metrics_t *m, const char *label);
void otf__krcv_metrics_close(krcv_part_metrics_t *m);
void otf__krcv_lag_update(krcv_part_metrics_t *m, rd_kafka_t *rk, const char *topic,
                          int32_t partition);

#endif
