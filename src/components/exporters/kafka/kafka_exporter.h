/* exporter `kafka`: configuration shared by kafka_exporter.c (the producer)
 * and kafka_exporter_config.c (schema and validation). Keys and defaults:
 * opentelemetry-collector-contrib exporter/kafkaexporter (README,
 * config.go). */
#ifndef OTF_KAFKA_EXPORTER_H
#define OTF_KAFKA_EXPORTER_H

#include "kafka_common.h"

#include "../exporterhelper/exporterhelper.h"

#include "otflow/component.h"

typedef struct kexp_signal {
	char *topic;
	char *encoding;
	bool topic_present, encoding_present;
} kexp_signal_t;

typedef struct kexp_producer {
	int64_t max_message_bytes;
	int64_t required_acks;
	char *compression;
	int64_t compression_level;
	int64_t flush_max_messages;
	int64_t linger_ns;
} kexp_producer_t;

typedef struct kexp_config {
	otf_kafka_conn_config_t conn;
	char *topic;    /* older top-level form: every signal */
	char *encoding; /* the same */
	kexp_signal_t sig[OTF_SIGNAL_COUNT];
	char *topic_from_attribute;
	bool by_trace_id, metrics_by_resource, logs_by_resource;
	kexp_producer_t producer;
	int64_t timeout_ns;
	otf_exph_retry_config_t retry;
	otf_exph_queue_config_t queue;
} kexp_config_t;

enum { KEXP_ENC_PROTO = 0, KEXP_ENC_JSON = 1 };

extern const otf_config_field_t otf__kexp_schema[];
int otf__kexp_validate(const void *config, char *err, size_t errlen);
/* KEXP_ENC_* of an encoding name (NULL: otlp_proto), -1 when unknown. */
int otf__kexp_encoding(const char *s);

#endif
