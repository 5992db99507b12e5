/* What the kafka exporter and the kafka receiver share: the connection keys
 * of the Collector's Kafka components (brokers, client_id, protocol_version,
 * auth.sasl, tls) and their mapping onto librdkafka properties, the
 * per-worker glue between a librdkafka queue and the worker's libuv loop,
 * and byte-level helpers over OTLP requests (resource groups, resource
 * attributes).
 *
 * Sources: opentelemetry-collector-contrib exporter/kafkaexporter and
 * receiver/kafkareceiver READMEs (keys, defaults), librdkafka
 * CONFIGURATION.md (property names), opentelemetry-proto v1 (field numbers).
 *
 * Threads: everything runs on the owning node's worker thread. librdkafka
 * runs its own threads inside; its callbacks (delivery reports, rebalances,
 * commits) are served only from rd_kafka_poll / rd_kafka_consumer_poll,
 * which the owner calls from its loop, so they run on the worker too. */
#ifndef OTF_KAFKA_COMMON_H
#define OTF_KAFKA_COMMON_H

#include "otflow/buf.h"
#include "otflow/config_schema.h"

#include "rdkafka_dl.h" /* <librdkafka/rdkafka.h>, loaded at first use */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct otf_kafka_sasl_config {
	char *username;
	char *password;
	char *mechanism; /* PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 */
	int64_t version; /* accepted (librdkafka negotiates the handshake version) */
} otf_kafka_sasl_config_t;

typedef struct otf_kafka_plain_config {
	char *username;
	char *password;
} otf_kafka_plain_config_t;

typedef struct otf_kafka_auth_config {
	otf_kafka_sasl_config_t sasl;
	otf_kafka_plain_config_t plain_text; /* deprecated form of sasl PLAIN */
} otf_kafka_auth_config_t;

typedef struct otf_kafka_tls_config {
	bool insecure;
	bool insecure_skip_verify;
	char *ca_file, *ca_pem, *cert_file, *cert_pem, *key_file, *key_pem;
} otf_kafka_tls_config_t;

/* The connection keys; embedded first in both components' configs. */
typedef struct otf_kafka_conn_config {
	otf_config_strlist_t brokers;
	char *client_id;
	char *protocol_version;
	bool resolve_canonical;
	otf_kafka_auth_config_t auth;
	otf_kafka_tls_config_t tls;
	bool tls_present; /* the tls key appeared: TLS unless insecure */
} otf_kafka_conn_config_t;

/* Schema entries of the connection keys for a config struct that embeds
 * otf_kafka_conn_config_t at offset `base`; written out by the
 * OTF_KAFKA_CONN_FIELDS macro so each component's schema stays one table. */
extern const otf_config_field_t otf__kafka_auth_schema[];
extern const otf_config_field_t otf__kafka_tls_schema[];

#define OTF_KAFKA_CONN_FIELDS(T, m)                                                               \
	{.key = "brokers",                                                                        \
	 .type = OTF_CFG_STRING_LIST,                                                             \
	 .offset = offsetof(T, m.brokers),                                                        \
	 .def = "localhost:9092",                                                                 \
	 .hint = "host:port list",                                                                \
	 .desc = "Kafka brokers to bootstrap from (librdkafka bootstrap.servers)."},              \
	    {.key = "client_id",                                                                  \
	     .type = OTF_CFG_STRING,                                                              \
	     .offset = offsetof(T, m.client_id),                                                  \
	     .def = "otel-collector",                                                             \
	     .desc = "Client id sent with every request (client.id)."},                           \
	    {.key = "protocol_version",                                                           \
	     .type = OTF_CFG_STRING,                                                              \
	     .offset = offsetof(T, m.protocol_version),                                           \
	     .def = "2.1.0",                                                                      \
	     .ignored = "librdkafka negotiates each API version with the broker (ApiVersions)",   \
	     .desc = "Collector key; accepted, librdkafka negotiates versions (a warning "        \
	             "says so)."},                                                                \
	    {.key = "resolve_canonical_bootstrap_servers_only",                                   \
	     .type = OTF_CFG_BOOL,                                                                \
	     .offset = offsetof(T, m.resolve_canonical),                                          \
	     .def = "false",                                                                      \
	     .desc = "Resolve the brokers, then reverse-look-up their canonical names "           \
	             "(client.dns.lookup)."},                                                     \
	    {.key = "auth",                                                                       \
	     .type = OTF_CFG_OBJECT,                                                              \
	     .offset = offsetof(T, m.auth),                                                       \
	     .sub = otf__kafka_auth_schema,                                                       \
	     .desc = "SASL authentication (sasl.mechanisms, sasl.username, sasl.password)."},     \
	{                                                                                         \
		.key = "tls", .type = OTF_CFG_OBJECT, .offset = offsetof(T, m.tls),               \
		.sub = otf__kafka_tls_schema, .present_at = OTF_CONFIG_PRESENT(T, m.tls_present), \
		.desc = "TLS to the brokers when present and insecure is false (ssl.* "           \
		        "properties)."                                                            \
	}

/* OTF_E_CONFIG with a message naming the key when the connection keys are
 * inconsistent (unknown SASL mechanism, a username without a password,
 * an empty broker list). */
int otf__kafka_conn_validate(const otf_kafka_conn_config_t *c, char *err, size_t errlen);

/* librdkafka properties for the connection keys, in order: at most
 * OTF_KAFKA_MAX_PROPS pairs written to keys[i]/vals[i] (vals may point into
 * c or into buf, cap bytes, which must outlive the pairs). Returns the
 * count, or OTF_E_NOSPACE. Pure: unit-tested. */
#define OTF_KAFKA_MAX_PROPS 16
int otf__kafka_conn_props(const otf_kafka_conn_config_t *c, const char **keys, const char **vals,
                          char *buf, size_t cap);

/* A new librdkafka configuration with the connection properties and the
 * extra pairs (NULL-terminated keys/vals arrays, may be NULL). NULL with a
 * message in err when librdkafka refuses a property. */
rd_kafka_conf_t *otf__kafka_conf_new(const otf_kafka_conn_config_t *c, const char *const *keys,
                                     const char *const *vals, char *err, size_t errlen);

/* librdkafka's log lines through otf_node_log, on the worker: the
 * configuration gets log.queue and this log_cb, and after rd_kafka_new
 * the owner calls rd_kafka_set_log_queue(rk, NULL), so the lines wait in
 * the main queue for the owner's poll instead of being written from
 * librdkafka's threads. The handle's opaque must point to a struct whose
 * first member is the owner's otf_node_t *. */
/* The part of a librdkafka error callback's reason that names the cause
 * (the broker prefix and the "(after Nms in state X)" suffix cut), into
 * dst: "Failed to initialize SASL authentication: ...". */
void otf__kafka_broker_error(char *dst, size_t cap, const char *reason);
void otf__kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf);

/* ---- loop glue ----
 * A librdkafka queue's "io event" (rd_kafka_queue_io_event_enable) writes a
 * byte to a pipe when the queue turns non-empty; a uv_poll on the pipe
 * wakes the worker, which then serves the queue until it is empty. A slow
 * timer serves it too, as a net for a wake-up the owner chose not to drain
 * (paused consumption). */
typedef struct otf_kafka_pump otf_kafka_pump_t;
typedef void (*otf_kafka_pump_cb)(void *ctx);

/* Watches q (a reference the pump takes over) on loop; cb(ctx) runs on the
 * loop when the queue has events and every timer_ms. NULL on failure. */
otf_kafka_pump_t *otf__kafka_pump_create(uv_loop_t *loop, rd_kafka_queue_t *q, uint64_t timer_ms,
                                         otf_kafka_pump_cb cb, void *ctx);
/* The queue watched (borrowed). */
rd_kafka_queue_t *otf__kafka_pump_queue(otf_kafka_pump_t *p);
/* Stops the callbacks at once; the handles are closed and the pump freed
 * later on the loop. The queue is released here (before rd_kafka_destroy). */
void otf__kafka_pump_destroy(otf_kafka_pump_t *p);

/* ---- OTLP bytes ---- */

/* One resource group (ResourceSpans/Metrics/Logs contents) of a request. */
typedef struct otf_kafka_group {
	const uint8_t *ptr;
	size_t len;
} otf_kafka_group_t;

/* The resource groups (field 1) of an Export*ServiceRequest: up to cap
 * written to out; returns the total count or a negative OTF_E_* code. */
int otf__kafka_groups(const uint8_t *data, size_t len, otf_kafka_group_t *out, size_t cap);
/* Bytes a group takes as field 1 of a request (tag + length + contents). */
size_t otf__kafka_group_wire_len(const otf_kafka_group_t *g);
/* Appends g as field 1 to b (capacity reserved by the caller). */
void otf__kafka_group_write(otf_buf_t *b, const otf_kafka_group_t *g);

/* The string value of resource attribute key in group g: 1 and *val set,
 * 0 when absent or not a string. */
int otf__kafka_group_attr(const otf_kafka_group_t *g, const char *key, size_t keylen,
                          const uint8_t **val, size_t *vallen);
/* Hash of g's resource attributes sorted by key (FNV-1a 64 over key and
 * raw AnyValue bytes), as 16 hex digits + NUL in hex: the message key of
 * partition_*_by_resource_attributes, equal for equal attribute sets
 * whatever their order. 0 or OTF_E_NOMEM. */
int otf__kafka_group_hash(const otf_kafka_group_t *g, char hex[17]);

/* New request: every resource of data gets the attributes keys[i] =
 * vals[i] (strings) appended (the receiver's header_extraction). A group
 * without a resource gets one. *out is a new buffer. 0, OTF_E_NOMEM or a
 * negative decode code. */
int otf__kafka_add_resource_attrs(const uint8_t *data, size_t len, const char *const *keys,
                                  const char *const *vals, size_t n, otf_buf_t **out);

/* partition_traces_by_id: one request per trace id of a traces request
 * (resources and scopes copied into each, only the spans of that trace
 * kept), key = the trace id as 32 hex digits (no key for spans without a
 * valid trace id), in trace id order. *out (otf_free; each buf unref'd by
 * the caller) holds *n parts. 0, OTF_E_NOMEM or a negative decode code. */
typedef struct otf_kafka_trace_part {
	otf_buf_t *buf;
	char key[33];
	bool has_key;
} otf_kafka_trace_part_t;

int otf__kafka_split_traces(const uint8_t *data, size_t len, otf_kafka_trace_part_t **out,
                            size_t *n);

#endif
