/* receiver `kafka`: schema and validation (kafka_receiver.h). */
#include "kafka_receiver.h"

#include "otflow/err.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

int otf__krcv_encoding(const char *s)
{
	if (!s || !strcmp(s, "otlp_proto"))
		return KRCV_ENC_PROTO;
	if (!strcmp(s, "otlp_json"))
		return KRCV_ENC_JSON;
	return -1;
}

const char *const *otf__krcv_topics(const krcv_config_t *c, otf_signal_t s, size_t *n)
{
	const krcv_signal_t *sc = &c->sig[s];
	if (sc->topics_present || (!sc->topic_present && !(c->topic && c->topic[0]))) {
		*n = sc->topics.n;
		return (const char *const *)sc->topics.items;
	}
	*n = 1;
	return sc->topic_present ? (const char *const *)&sc->topic : (const char *const *)&c->topic;
}

int otf__krcv_signal_encoding(const krcv_config_t *c, otf_signal_t s)
{
	const krcv_signal_t *sc = &c->sig[s];
	if (sc->encoding_present || !(c->encoding && c->encoding[0]))
		return otf__krcv_encoding(sc->encoding);
	return otf__krcv_encoding(c->encoding);
}

int otf__krcv_validate(const void *config, char *err, size_t errlen)
{
	const krcv_config_t *c = config;
	int rc = otf__kafka_conn_validate(&c->conn, err, errlen);
	if (rc)
		return rc;
	static const char *const names[OTF_SIGNAL_COUNT] = {"traces", "metrics", "logs"};
	if (otf__krcv_encoding(c->encoding) < 0) {
		snprintf(err, errlen, "encoding: \"%s\" is not one of otlp_proto, otlp_json",
		         c->encoding);
		return OTF_E_CONFIG;
	}
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
		if (otf__krcv_encoding(c->sig[s].encoding) < 0) {
			snprintf(err, errlen,
			         "%s.encoding: \"%s\" is not one of otlp_proto, otlp_json",
			         names[s], c->sig[s].encoding);
			return OTF_E_CONFIG;
		}
		if (c->sig[s].topics_present && c->sig[s].topic_present) {
			snprintf(err, errlen, "%s: set either topics or topic, not both", names[s]);
			return OTF_E_CONFIG;
		}
		size_t n;
		const char *const *t = otf__krcv_topics(c, (otf_signal_t)s, &n);
		for (size_t i = 0; i < n; i++) {
			if (!t[i] || !t[i][0] || t[i][0] == '^') {
				snprintf(err, errlen, "%s.topics[%zu]: expected a topic name%s",
				         names[s], i,
				         t[i] && t[i][0] == '^'
				             ? " (regex topics are not supported)"
				             : "");
				return OTF_E_CONFIG;
			}
		}
	}
	if (!c->group_id || !c->group_id[0]) {
		snprintf(err, errlen, "group_id: must not be empty");
		return OTF_E_CONFIG;
	}
	const char *r = c->rebalance_strategy;
	if (!r ||
	    (strcmp(r, "range") && strcmp(r, "roundrobin") && strcmp(r, "cooperative-sticky"))) {
		snprintf(err, errlen,
		         "group_rebalance_strategy: \"%s\" is not one of range, roundrobin, "
		         "cooperative-sticky",
		         r ? r : "");
		return OTF_E_CONFIG;
	}
	if (c->heartbeat_interval_ns >= c->session_timeout_ns) {
		snprintf(err, errlen, "heartbeat_interval: must be lower than session_timeout");
		return OTF_E_CONFIG;
	}
	if (c->max_fetch_size < c->min_fetch_size) {
		snprintf(err, errlen, "max_fetch_size: must be at least min_fetch_size");
		return OTF_E_CONFIG;
	}
	otf_exph_queue_config_t q = {.num_consumers = 1};
	return otf__exph_validate(&c->error_backoff, &q, err, errlen);
}

#define SIGNAL_SCHEMA(name, deftopic)                                                         \
	static const otf_config_field_t name[] = {                                            \
	    {.key = "topics",                                                                 \
	     .type = OTF_CFG_STRING_LIST,                                                     \
	     .offset = offsetof(krcv_signal_t, topics),                                       \
	     .def = deftopic,                                                                 \
	     .present_at = OTF_CONFIG_PRESENT(krcv_signal_t, topics_present),                 \
	     .desc = "Topics to consume (the top-level topic, when set, is the default)."},   \
	    {.key = "topic",                                                                  \
	     .type = OTF_CFG_STRING,                                                          \
	     .offset = offsetof(krcv_signal_t, topic),                                        \
	     .present_at = OTF_CONFIG_PRESENT(krcv_signal_t, topic_present),                  \
	     .desc = "Older form of topics: one topic."},                                     \
	    {.key = "encoding",                                                               \
	     .type = OTF_CFG_STRING,                                                          \
	     .offset = offsetof(krcv_signal_t, encoding),                                     \
	     .def = "otlp_proto",                                                             \
	     .present_at = OTF_CONFIG_PRESENT(krcv_signal_t, encoding_present),               \
	     .desc = "otlp_proto (validated, passed on as it is) or otlp_json (converted)."}, \
	    OTF_CONFIG_FIELD_END,                                                             \
	}
SIGNAL_SCHEMA(k_traces_schema, "otlp_spans");
SIGNAL_SCHEMA(k_metrics_schema, "otlp_metrics");
SIGNAL_SCHEMA(k_logs_schema, "otlp_logs");

static const char *const k_offsets[] = {"latest", "earliest", NULL};

static const otf_config_field_t k_marking_schema[] = {
    {.key = "after",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(krcv_marking_t, after),
     .def = "false",
     .desc = "true: a message's offset is committed only once the pipeline acknowledged it "
             "and every earlier message of its partition (at-least-once). false (the "
             "Collector's default): committed when the message is handed on, so a crash "
             "loses what was in flight."},
    {.key = "on_error",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(krcv_marking_t, on_error),
     .def = "false",
     .desc = "Default of on_permanent_error. Retryable failures are always redelivered "
             "(the partition paused, with error_backoff), never marked."},
    {.key = "on_permanent_error",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(krcv_marking_t, on_permanent_error),
     .present_at = OTF_CONFIG_PRESENT(krcv_marking_t, on_permanent_error_present),
     .desc = "true: a message refused permanently (or that does not decode) is marked, "
             "counted and skipped; false: it is redelivered with backoff and blocks its "
             "partition. Default: on_error."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t k_headers_schema[] = {
    {.key = "extract_headers",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(krcv_headers_t, extract_headers),
     .def = "false",
     .desc = "Add the listed Kafka headers to every resource as kafka.header.<name>."},
    {.key = "headers",
     .type = OTF_CFG_STRING_LIST,
     .offset = offsetof(krcv_headers_t, headers),
     .desc = "Header names (exact match)."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t k_autocommit_schema[] = {
    {.key = "enable",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(krcv_autocommit_t, enable),
     .def = "true",
     .desc = "Commit marked offsets every interval (enable.auto.commit); false: each "
             "marked offset is committed at once (asynchronously)."},
    {.key = "interval",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(krcv_autocommit_t, interval_ns),
     .def = "1s",
     .min = "1ms",
     .desc = "Period of the commits (auto.commit.interval.ms)."},
    OTF_CONFIG_FIELD_END,
};

const otf_config_field_t otf__krcv_schema[] = {
    OTF_KAFKA_CONN_FIELDS(krcv_config_t, conn),
    {.key = "topic",
     .type = OTF_CFG_STRING,
     .offset = offsetof(krcv_config_t, topic),
     .desc = "Older form: the topic of every signal without its own <signal>.topics."},
    {.key = "encoding",
     .type = OTF_CFG_STRING,
     .offset = offsetof(krcv_config_t, encoding),
     .desc = "Older form: the encoding of every signal without its own <signal>.encoding."},
    {.key = "traces",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(krcv_config_t, sig[OTF_SIGNAL_TRACES]),
     .sub = k_traces_schema,
     .desc = "Topics and encoding of traces."},
    {.key = "metrics",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(krcv_config_t, sig[OTF_SIGNAL_METRICS]),
     .sub = k_metrics_schema,
     .desc = "Topics and encoding of metrics."},
    {.key = "logs",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(krcv_config_t, sig[OTF_SIGNAL_LOGS]),
     .sub = k_logs_schema,
     .desc = "Topics and encoding of logs."},
    {.key = "group_id",
     .type = OTF_CFG_STRING,
     .offset = offsetof(krcv_config_t, group_id),
     .def = "otel-collector",
     .desc = "Consumer group (group.id); every worker is a member."},
    {.key = "group_instance_id",
     .type = OTF_CFG_STRING,
     .offset = offsetof(krcv_config_t, group_instance_id),
     .desc = "Static membership id (group.instance.id; worker index appended after the "
             "first worker)."},
    {.key = "group_rebalance_strategy",
     .type = OTF_CFG_STRING,
     .offset = offsetof(krcv_config_t, rebalance_strategy),
     .def = "cooperative-sticky",
     .desc = "range, roundrobin or cooperative-sticky (partition.assignment.strategy)."},
    {.key = "initial_offset",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(krcv_config_t, initial_offset),
     .def = "latest",
     .enum_values = k_offsets,
     .desc = "Where a partition without a committed offset starts (auto.offset.reset)."},
    {.key = "session_timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(krcv_config_t, session_timeout_ns),
     .def = "10s",
     .min = "1ms",
     .desc = "Group session timeout (session.timeout.ms)."},
    {.key = "heartbeat_interval",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(krcv_config_t, heartbeat_interval_ns),
     .def = "3s",
     .min = "1ms",
     .desc = "Group heartbeat period (heartbeat.interval.ms)."},
    {.key = "min_fetch_size",
     .type = OTF_CFG_INT,
     .offset = offsetof(krcv_config_t, min_fetch_size),
     .def = "1",
     .min = "1",
     .max = "100000000",
     .desc = "fetch.min.bytes."},
    {.key = "max_fetch_size",
     .type = OTF_CFG_INT,
     .offset = offsetof(krcv_config_t, max_fetch_size),
     .def = "1048576",
     .min = "1",
     .max = "2147483135",
     .desc = "fetch.max.bytes."},
    {.key = "max_partition_fetch_size",
     .type = OTF_CFG_INT,
     .offset = offsetof(krcv_config_t, max_partition_fetch_size),
     .def = "1048576",
     .min = "1",
     .max = "1000000000",
     .desc = "max.partition.fetch.bytes."},
    {.key = "max_fetch_wait",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(krcv_config_t, max_fetch_wait_ns),
     .def = "250ms",
     .min = "0s",
     .max = "300s",
     .desc = "fetch.wait.max.ms."},
    {.key = "autocommit",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(krcv_config_t, autocommit),
     .sub = k_autocommit_schema,
     .desc = "When marked offsets are committed."},
    {.key = "message_marking",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(krcv_config_t, marking),
     .sub = k_marking_schema,
     .desc = "When a message counts as consumed."},
    {.key = "header_extraction",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(krcv_config_t, header_extraction),
     .sub = k_headers_schema,
     .desc = "Kafka headers copied into resource attributes."},
    {.key = "error_backoff",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(krcv_config_t, error_backoff),
     .sub = otf__exph_retry_schema,
     .desc = "Waits between redeliveries of a failed message (enabled false: "
             "initial_interval each time); a message is redelivered past "
             "max_elapsed_time too (logged), never skipped."},
    {.key = "max_inflight_per_partition",
     .type = OTF_CFG_INT,
     .offset = offsetof(krcv_config_t, max_inflight),
     .def = "256",
     .min = "1",
     .max = "100000",
     .desc = "otflow: messages of one partition in the pipeline or waiting for "
             "redelivery; the partition is paused at this bound."},
    OTF_CONFIG_FIELD_END,
};
