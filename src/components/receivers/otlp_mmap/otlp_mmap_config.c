/* Configuration of the otlp_mmap receiver: schema (docs/components.md is
 * generated from it) and validation. See otlp_mmap_config.h. */
#include "otlp_mmap_config.h"

#include "otflow/err.h"

#include <stddef.h>
#include <stdio.h>

int otf__mmap_validate(const void *config, char *err, size_t errlen)
{
	const mmap_cfg_t *c = config;
	if (!c->path || !c->path[0]) {
		snprintf(err, errlen, "path: a file or directory is required");
		return OTF_E_CONFIG;
	}
	if (c->wait.min_sleep_ns < 1000000 || c->wait.max_sleep_ns < c->wait.min_sleep_ns ||
	    c->wait.spin < 0 || c->wait.yield < 0) {
		snprintf(err, errlen,
		         "wait: need 1ms <= min_sleep <= max_sleep, spin and yield >= 0");
		return OTF_E_CONFIG;
	}
	if (c->max_batch < 1 || c->max_open_spans < 1 || c->metrics.max_series < 1 ||
	    c->metrics.export_interval_ns < 1000000 || c->hole_timeout_ns < 1000000 ||
	    c->span_ttl_ns < 0) {
		snprintf(err, errlen,
		         "max_batch, max_open_spans, metrics.max_series must be >= 1, "
		         "metrics.export_interval and hole_timeout >= 1ms");
		return OTF_E_CONFIG;
	}
	return 0;
}

static const char *const k_delivery[] = {"at_most_once", "at_least_once", NULL};
static const char *const k_temporality[] = {"cumulative", "delta", NULL};

static const otf_config_field_t k_wait[] = {
    {.key = "spin",
     .type = OTF_CFG_INT,
     .offset = offsetof(wait_cfg_t, spin),
     .def = "200",
     .desc = "Checks of the rings' availability words when data stops, before yielding."},
    {.key = "yield",
     .type = OTF_CFG_INT,
     .offset = offsetof(wait_cfg_t, yield),
     .def = "4",
     .desc = "Empty polls repeated on the next event-loop turn before sleeping."},
    {.key = "min_sleep",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(wait_cfg_t, min_sleep_ns),
     .def = "1ms",
     .desc = "First sleep of an idle file; doubles per empty poll."},
    {.key = "max_sleep",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(wait_cfg_t, max_sleep_ns),
     .def = "50ms",
     .desc = "Longest sleep: the latency bound of a quiet file."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t k_metrics[] = {
    {.key = "export_interval",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(metrics_cfg_t, export_interval_ns),
     .def = "60s",
     .desc = "How often aggregated measurements are sent."},
    {.key = "temporality",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(metrics_cfg_t, temporality),
     .def = "cumulative",
     .enum_values = k_temporality,
     .desc = "Export temporality of sums and histograms (delta restarts per export; a "
             "MetricRef's own temporality only says whether measurements are increments)."},
    {.key = "max_series",
     .type = OTF_CFG_INT,
     .offset = offsetof(metrics_cfg_t, max_series),
     .def = "100000",
     .desc = "Series (metric + attributes) kept per file; more are dropped."},
    OTF_CONFIG_FIELD_END,
};

const otf_config_field_t otf__mmap_schema[] = {
    {.key = "path",
     .type = OTF_CFG_STRING,
     .offset = offsetof(mmap_cfg_t, path),
     .required = true,
     .hint = "file or directory",
     .desc = "An otlp-mmap file, or a directory whose regular files (one per application "
             "process) are each drained as they appear."},
    {.key = "delivery",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(mmap_cfg_t, delivery),
     .def = "at_most_once",
     .enum_values = k_delivery,
     .desc = "at_least_once advances the file's reader index only after downstream "
             "acknowledged, and checkpoints open spans next to the file."},
    {.key = "span_ttl",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(mmap_cfg_t, span_ttl_ns),
     .def = "1h",
     .desc = "Open spans older than this are emitted with otflow.mmap.incomplete=true "
             "(0: never)."},
    {.key = "max_open_spans",
     .type = OTF_CFG_INT,
     .offset = offsetof(mmap_cfg_t, max_open_spans),
     .def = "100000",
     .desc = "Open spans kept per file; past it the oldest is emitted incomplete."},
    {.key = "hole_timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(mmap_cfg_t, hole_timeout_ns),
     .def = "1s",
     .desc = "A slot claimed but not published for this long (its producer died) is skipped."},
    {.key = "max_batch",
     .type = OTF_CFG_INT,
     .offset = offsetof(mmap_cfg_t, max_batch),
     .def = "4096",
     .desc = "Records read per ring per poll, and items per request."},
    {.key = "scan_interval",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(mmap_cfg_t, scan_interval_ns),
     .def = "1s",
     .desc = "How often a directory (or a missing file) is looked at again."},
    {.key = "checkpoint_interval",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(mmap_cfg_t, checkpoint_interval_ns),
     .def = "20ms",
     .desc = "at_least_once: least time between checkpoints (each lets the reader index "
             "advance)."},
    {.key = "wait",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(mmap_cfg_t, wait),
     .sub = k_wait,
     .desc = "Polling of quiet files: spin, then yield, then sleep with backoff."},
    {.key = "metrics",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(mmap_cfg_t, metrics),
     .sub = k_metrics,
     .desc = "Aggregation of the measurements ring."},
    OTF_CONFIG_FIELD_END,
};
