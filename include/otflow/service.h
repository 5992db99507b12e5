/* Service settings and the config -> DAG front-ends.
 *
 * otf_service_build() takes a loaded config (otflow/config.h) in either
 * format and builds the DAG (otflow/engine.h):
 *
 * - OpenTelemetry Collector YAML: `receivers`, `processors`, `exporters`,
 *   `connectors`, `extensions` and `service` (`extensions`, `pipelines`,
 *   `telemetry`). Node names are "<kind>:<component id>", except processors,
 *   which the Collector instantiates per pipeline:
 *   "processor:<id>@<pipeline id>". Components defined but used by no
 *   pipeline are not instantiated (as in the Collector).
 * - otflow native: `nodes` (name -> {kind, type, config}) and `connections`
 *   (list of {from, to, port, signals}); see docs/configuration.md.
 *
 * Both accept a `runtime:` section (workers, channel_capacity,
 * control_capacity, shutdown_timeout).
 */
#ifndef OTFLOW_SERVICE_H
#define OTFLOW_SERVICE_H

#include "otflow/config.h"
#include "otflow/engine.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* service.telemetry.metrics, the Collector's schema (opentelemetry-collector
 * service/telemetry, the OpenTelemetry configuration schema's
 * MeterProvider readers). docs/configuration.md, "Telemetry". */
#define OTF_TELEMETRY_MAX_READERS  4
#define OTF_TELEMETRY_MAX_HEADERS  8
#define OTF_TELEMETRY_MAX_RESOURCE 16

typedef enum otf_metrics_level {
	OTF_METRICS_LEVEL_NONE = 0,     /* no metrics, nothing bound or sent */
	OTF_METRICS_LEVEL_BASIC = 1,    /* receiver/exporter item counters, process */
	OTF_METRICS_LEVEL_NORMAL = 2,   /* + node queue depths (the default) */
	OTF_METRICS_LEVEL_DETAILED = 3, /* + allocator call counters */
} otf_metrics_level_t;

typedef enum otf_telemetry_reader_kind {
	OTF_READER_PULL_PROMETHEUS = 1, /* pull: exporter: prometheus: {host, port} */
	OTF_READER_PERIODIC_OTLP = 2,   /* periodic: exporter: otlp: {protocol, endpoint} */
} otf_telemetry_reader_kind_t;

typedef enum otf_otlp_protocol {
	OTF_OTLP_HTTP_PROTOBUF = 0, /* "http/protobuf" (default) */
	OTF_OTLP_HTTP_JSON = 1,     /* "http/json" */
	OTF_OTLP_GRPC = 2,          /* "grpc" */
} otf_otlp_protocol_t;

typedef struct otf_telemetry_reader {
	otf_telemetry_reader_kind_t kind;
	char origin[160]; /* "file:line" of the reader, for log messages */
	/* pull */
	char host[128]; /* default "localhost" */
	uint16_t port;  /* default 9464 (the configuration schema's) */
	/* periodic */
	otf_otlp_protocol_t protocol;
	char endpoint[512];   /* http: URL (path default /v1/metrics); grpc: [http://]host:port */
	uint64_t interval_ms; /* between exports; default 60000 */
	uint64_t timeout_ms;  /* per export; default 30000 (the exporter's timeout wins) */
	bool gzip;            /* compression: gzip */
	size_t headers_len;
	char header_names[OTF_TELEMETRY_MAX_HEADERS][128];
	char header_values[OTF_TELEMETRY_MAX_HEADERS][512];
	/* TLS of the push: on for an https:// endpoint, and for gRPC without a
	 * scheme when insecure: false or a certificate key is set. Paths of
	 * PEM files, "" = none (CAs: the system pool). */
	bool tls;
	char ca_file[512];   /* tls.ca_file, certificate(_file) */
	char cert_file[512]; /* tls.cert_file, client_certificate(_file) */
	char key_file[512];  /* tls.key_file, client_key(_file) */
} otf_telemetry_reader_t;

typedef struct otf_telemetry_settings {
	otf_metrics_level_t level; /* default NORMAL */
	size_t readers_len;        /* 0 with level NONE */
	otf_telemetry_reader_t readers[OTF_TELEMETRY_MAX_READERS];
	/* service.telemetry.resource: attributes of the pushed metrics (after
	 * service.name "otflow", service.version, service.instance.id, which
	 * they override); a null value removes the attribute. */
	size_t resource_len;
	char resource_keys[OTF_TELEMETRY_MAX_RESOURCE][128];
	char resource_values[OTF_TELEMETRY_MAX_RESOURCE][256];
	bool resource_null[OTF_TELEMETRY_MAX_RESOURCE];
} otf_telemetry_settings_t;

typedef struct otf_service_settings {
	otf_runtime_config_t runtime;
	/* Without service.telemetry.metrics: level normal and one pull reader
	 * on localhost:8888 (the Collector's default); `address` (legacy) is
	 * one pull reader; `readers` replaces the default. */
	otf_telemetry_settings_t telemetry;
	otf_log_level_t log_level;
	bool health_check;               /* extension enabled in service.extensions */
	char health_check_endpoint[128]; /* default "localhost:13133" */
	char health_check_path[128];     /* default "/"; other paths get 404 */
	/* health_check's healthcheckv2 keys: use_v2 answers with the
	 * component status JSON (per pipeline and component, ?pipeline=,
	 * ?verbose); component_health decides which errors make it unhealthy
	 * (HTTP 503): include_permanent_errors, include_recoverable_errors
	 * once a recoverable error lasted recovery_duration (default 5m). */
	bool health_v2;
	bool health_include_permanent;
	bool health_include_recoverable;
	int64_t health_recovery_ns;
	/* service.admin.endpoint: the admin API and live DAG page (default
	 * "localhost:8889"; "" turns it off). admin_explicit: the key was
	 * given, so failing to bind it is fatal (the default only warns). */
	char admin_endpoint[128];
	bool admin_explicit;
} otf_service_settings_t;

/* Builds and compiles the DAG. On failure returns OTF_E_CONFIG (or another
 * negative code) and err->text names file:line:col, key path and problem. */
int otf_service_build(const otf_config_t *cfg, otf_dag_t **dag, otf_service_settings_t *settings,
                      otf_config_error_t *err);

/* ---- embedding otflow in another program (libotflow.so, otflow.pc) ----
 *
 * An application links libotflow, starts a service from a config (the
 * same YAML as `otflow --config`), pushes OTLP protobuf request bytes into
 * a `push` receiver of that config by its id, and stops the service. The
 * service runs on its own worker threads; nothing here needs a loop of the
 * application's. Not started by the embedded service: the health_check
 * endpoint and the self-metrics readers (service.telemetry), which are the
 * otflow command's. docs/embedding.md.
 *
 *   receivers: {push/app: {}}
 *   exporters: {otlp: {endpoint: backend:4317}}
 *   service: {pipelines: {logs: {receivers: [push/app], exporters: [otlp]}}}
 */
typedef struct otf_embedded otf_embedded_t;

/* Outcome of one push: code 0 delivered (ACK), else a negative OTF_E_* /
 * -errno and whether retrying the same bytes can help (permanent false);
 * reason is a message (never NULL, valid during the call). Called once per
 * accepted push, from one of the service's worker threads: return quickly.
 * Pushes still in the pipeline when a stop's shutdown deadline passes get
 * no callback. */
typedef void (*otf_push_cb)(void *arg, int code, bool permanent, const char *reason);

/* Starts a service from YAML text (name is used in error messages as the
 * file name) or from files merged in order. Registers the built-in
 * components. Errors: OTF_E_CONFIG with err (file:line:key), or the
 * engine's start error. */
int otf_embedded_start_string(const char *name, const char *yaml, size_t len, otf_embedded_t **out,
                              char *err, size_t errlen);
int otf_embedded_start_files(const char *const *paths, size_t n, otf_embedded_t **out, char *err,
                             size_t errlen);

/* Pushes one Export*ServiceRequest (protobuf, len bytes, copied) of signal
 * into the push receiver `receiver` ("push/app"). Any thread. Returns 0
 * (cb will be called), or at once: the decoder's code for invalid bytes
 * (OTF_E_UTF8, OTF_E_WIRETYPE, ...), OTF_E_NOT_FOUND no such running push
 * receiver, -EAGAIN its queue is full (retry later), OTF_E_NOMEM; err (may
 * be NULL) says why. */
int otf_embedded_push(otf_embedded_t *e, const char *receiver, otf_signal_t signal,
                      const void *data, size_t len, otf_push_cb cb, void *arg, char *err,
                      size_t errlen);

/* Stops: the receivers stop accepting, in-flight data drains (bounded by
 * runtime.shutdown_timeout), the workers are joined and everything freed.
 * Returns 0, or a negative code when a worker did not stop in time (the
 * service is then leaked rather than freed under a running thread). */
int otf_embedded_stop(otf_embedded_t *e);

/* libotflow's version ("0.1.0"), for programs checking what they loaded. */
const char *otf_library_version(void);

#ifdef __cplusplus
}
#endif
#endif
