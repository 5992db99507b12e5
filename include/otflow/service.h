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
} otf_service_settings_t;

/* Builds and compiles the DAG. On failure returns OTF_E_CONFIG (or another
 * negative code) and err->text names file:line:col, key path and problem. */
int otf_service_build(const otf_config_t *cfg, otf_dag_t **dag, otf_service_settings_t *settings,
                      otf_config_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
