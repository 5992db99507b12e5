/* exporter `kafka`: schema and validation (kafka_exporter.h). */
#include "kafka_exporter.h"

#include "otflow/err.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

int otf__kexp_encoding(const char *s)
{
	if (!s || !strcmp(s, "otlp_proto"))
		return KEXP_ENC_PROTO;
	if (!strcmp(s, "otlp_json"))
		return KEXP_ENC_JSON;
	return -1;
}

int otf__kexp_validate(const void *config, char *err, size_t errlen)
{
	const kexp_config_t *c = config;
	int rc = otf__kafka_conn_validate(&c->conn, err, errlen);
	if (rc)
		return rc;
	static const char *const names[OTF_SIGNAL_COUNT] = {"traces", "metrics", "logs"};
	if (otf__kexp_encoding(c->encoding) < 0) {
		snprintf(err, errlen, "encoding: \"%s\" is not one of otlp_proto, otlp_json",
		         c->encoding);
		return OTF_E_CONFIG;
	}
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
		if (otf__kexp_encoding(c->sig[s].encoding) < 0) {
			snprintf(err, errlen,
			         "%s.encoding: \"%s\" is not one of otlp_proto, otlp_json",
			         names[s], c->sig[s].encoding);
			return OTF_E_CONFIG;
		}
	}
	const char *z = c->producer.compression;
	if (!z || (strcmp(z, "none") && strcmp(z, "gzip") && strcmp(z, "snappy") &&
	           strcmp(z, "lz4") && strcmp(z, "zstd"))) {
		snprintf(err, errlen,
		         "producer.compression: \"%s\" is not one of none, gzip, snappy, lz4, zstd",
		         z ? z : "");
		return OTF_E_CONFIG;
	}
	if (c->timeout_ns < 0) {
		snprintf(err, errlen, "timeout: must not be negative");
		return OTF_E_CONFIG;
	}
	return otf__exph_validate(&c->retry, &c->queue, err, errlen);
}

#define SIGNAL_SCHEMA(name, deftopic)                                                         \
	static const otf_config_field_t name[] = {                                            \
	    {.key = "topic",                                                                  \
	     .type = OTF_CFG_STRING,                                                          \
	     .offset = offsetof(kexp_signal_t, topic),                                        \
	     .def = deftopic,                                                                 \
	     .present_at = OTF_CONFIG_PRESENT(kexp_signal_t, topic_present),                  \
	     .desc = "Topic to produce to (the top-level topic, when set, is the default)."}, \
	    {.key = "encoding",                                                               \
	     .type = OTF_CFG_STRING,                                                          \
	     .offset = offsetof(kexp_signal_t, encoding),                                     \
	     .def = "otlp_proto",                                                             \
	     .present_at = OTF_CONFIG_PRESENT(kexp_signal_t, encoding_present),               \
	     .desc = "otlp_proto (the request bytes as received) or otlp_json."},             \
	    OTF_CONFIG_FIELD_END,                                                             \
	}
SIGNAL_SCHEMA(k_traces_schema, "otlp_spans");
SIGNAL_SCHEMA(k_metrics_schema, "otlp_metrics");
SIGNAL_SCHEMA(k_logs_schema, "otlp_logs");

static const otf_config_field_t k_cparams_schema[] = {
    {.key = "level",
     .type = OTF_CFG_INT,
     .offset = 0,
     .def = "-1",
     .min = "-1",
     .max = "12",
     .desc = "Codec level (compression.level); -1 = the codec's default."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t k_producer_schema[] = {
    {.key = "max_message_bytes",
     .type = OTF_CFG_INT,
     .offset = offsetof(kexp_producer_t, max_message_bytes),
     .def = "1000000",
     .min = "1",
     .max = "1000000000",
     .desc = "Largest message, before compression; a larger request is split by resource, "
             "a larger resource refused permanently."},
    {.key = "required_acks",
     .type = OTF_CFG_INT,
     .offset = offsetof(kexp_producer_t, required_acks),
     .def = "1",
     .min = "-1",
     .max = "1",
     .desc = "acks: 0 none, 1 the leader, -1 every in-sync replica."},
    {.key = "compression",
     .type = OTF_CFG_STRING,
     .offset = offsetof(kexp_producer_t, compression),
     .def = "none",
     .desc = "none, gzip, snappy, lz4 or zstd (compression.codec)."},
    {.key = "compression_params",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(kexp_producer_t, compression_level),
     .sub = k_cparams_schema,
     .desc = "Compression settings."},
    {.key = "flush_max_messages",
     .type = OTF_CFG_INT,
     .offset = offsetof(kexp_producer_t, flush_max_messages),
     .def = "10000",
     .min = "1",
     .max = "1000000",
     .desc = "Most messages in one produce request (batch.num.messages)."},
    {.key = "linger",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(kexp_producer_t, linger_ns),
     .def = "10ms",
     .min = "0s",
     .max = "900s",
     .desc = "How long a partition waits for more messages before a request (linger.ms)."},
    OTF_CONFIG_FIELD_END,
};

const otf_config_field_t otf__kexp_schema[] = {
    OTF_KAFKA_CONN_FIELDS(kexp_config_t, conn),
    {.key = "topic",
     .type = OTF_CFG_STRING,
     .offset = offsetof(kexp_config_t, topic),
     .desc = "Older form: the topic of every signal without its own <signal>.topic."},
    {.key = "encoding",
     .type = OTF_CFG_STRING,
     .offset = offsetof(kexp_config_t, encoding),
     .desc = "Older form: the encoding of every signal without its own <signal>.encoding."},
    {.key = "traces",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(kexp_config_t, sig[OTF_SIGNAL_TRACES]),
     .sub = k_traces_schema,
     .desc = "Topic and encoding of traces."},
    {.key = "metrics",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(kexp_config_t, sig[OTF_SIGNAL_METRICS]),
     .sub = k_metrics_schema,
     .desc = "Topic and encoding of metrics."},
    {.key = "logs",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(kexp_config_t, sig[OTF_SIGNAL_LOGS]),
     .sub = k_logs_schema,
     .desc = "Topic and encoding of logs."},
    {.key = "topic_from_attribute",
     .type = OTF_CFG_STRING,
     .offset = offsetof(kexp_config_t, topic_from_attribute),
     .desc = "Resource attribute whose string value is the topic (one message per "
             "resource; resources without it use the signal's topic)."},
    {.key = "partition_traces_by_id",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(kexp_config_t, by_trace_id),
     .def = "false",
     .desc = "One message per trace id (its resources and scopes, only its spans), "
             "keyed by the trace id in hex, so a trace stays on one partition."},
    {.key = "partition_metrics_by_resource_attributes",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(kexp_config_t, metrics_by_resource),
     .def = "false",
     .desc = "One message per resource, keyed by a hash of its sorted attributes."},
    {.key = "partition_logs_by_resource_attributes",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(kexp_config_t, logs_by_resource),
     .def = "false",
     .desc = "One message per resource, keyed by a hash of its sorted attributes."},
    {.key = "producer",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(kexp_config_t, producer),
     .sub = k_producer_schema,
     .desc = "librdkafka producer settings."},
    {.key = "timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(kexp_config_t, timeout_ns),
     .def = "5s",
     .desc = "Longest wait for a delivery report (message.timeout.ms, which includes "
             "librdkafka's own retries); 0 = none."},
    {.key = "retry_on_failure",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(kexp_config_t, retry),
     .sub = otf__exph_retry_schema,
     .desc = "Retries of failed deliveries (broker down, timeouts)."},
    {.key = "sending_queue",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(kexp_config_t, queue),
     .sub = otf__exph_queue_schema,
     .desc = "In-memory queue in front of the producer."},
    OTF_CONFIG_FIELD_END,
};
