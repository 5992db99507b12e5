/* otflow's own metrics (service.telemetry.metrics): one snapshot of the
 * engine's per-node counters, queue depths and process figures, rendered
 * as Prometheus text for pull readers (cli_admin.c) or encoded as an OTLP
 * ExportMetricsServiceRequest with otflow's own pdata encoder for periodic
 * readers (cli_telemetry_push.c).
 *
 * Names and attributes are the Collector's (otelcol_receiver_accepted_spans
 * with attribute `receiver`, ...); otflow-only figures are otflow_*. What a
 * level includes: docs/configuration.md, "Telemetry".
 *
 * Thread rules: the main thread (the admin loop). */
#ifndef OTF_CLI_TELEMETRY_H
#define OTF_CLI_TELEMETRY_H

#include "otflow/buf.h"
#include "otflow/service.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct otf_selfmetric_point {
	const char *label_key;  /* "receiver", "exporter", "node"; NULL = no attribute */
	char label[160];        /* component id or node name */
	const char *label2_key; /* a second attribute, NULL = none */
	char label2[48];
	uint64_t value;
} otf_selfmetric_point_t;

typedef struct otf_selfmetric {
	char name[96];
	const char *desc;
	const char *unit;
	bool counter;                   /* cumulative monotonic sum; else gauge */
	otf_selfmetric_point_t *points; /* owned */
	size_t n;
} otf_selfmetric_t;

#define OTF_SELFMETRICS_MAX 256 /* engine and process metrics, then component ones */

typedef struct otf_selfmetrics {
	otf_selfmetric_t m[OTF_SELFMETRICS_MAX];
	size_t n;
	uint64_t start_unix_nano; /* process start: start time of every sum */
	uint64_t time_unix_nano;  /* when the snapshot was taken */
} otf_selfmetrics_t;

/* Fills *out for level (NONE gives nothing). start_unix_nano is the
 * process start. 0 or OTF_E_NOMEM (nothing then stays allocated). */
int otf__selfmetrics_collect(otf_engine_t *engine, otf_metrics_level_t level,
                             uint64_t start_unix_nano, otf_selfmetrics_t *out);
void otf__selfmetrics_free(otf_selfmetrics_t *s);

/* Prometheus text exposition format 0.0.4. */
void otf__selfmetrics_prometheus(const otf_selfmetrics_t *s, FILE *f);

/* ExportMetricsServiceRequest (protobuf, or OTLP/JSON with json) of one
 * resource (service.name "otflow", service.version, service.instance.id
 * = instance_id, then t->resource) and one scope "otflow". *out is owned
 * by the caller. 0, OTF_E_NOMEM or the encoder's error. */
int otf__selfmetrics_encode(const otf_selfmetrics_t *s, const otf_telemetry_settings_t *t,
                            const char *instance_id, bool json, otf_buf_t **out);

/* cli_telemetry_push.c: the periodic readers on the main loop. */
struct uv_loop_s;
typedef struct otf_telemetry_push otf_telemetry_push_t;
/* Starts one timer per periodic reader of t (none: *out = NULL, 0). */
int otf__telemetry_push_start(struct uv_loop_s *loop, const otf_telemetry_settings_t *t,
                              otf_engine_t *engine, otf_telemetry_push_t **out);
/* Stops the timers, abandons exports in flight; frees p once its handles
 * are closed (the loop must run). NULL is a no-op. */
void otf__telemetry_push_stop(otf_telemetry_push_t *p);

#endif
