/* exporter `debug`: writes what it receives to stderr, like the Collector's
 * debug exporter. verbosity basic: one summary line per request; normal:
 * one line per span / data point / log record; detailed: every field.
 * sampling_initial / sampling_thereafter thin the output per second, per
 * signal, across all workers of the component (one sampler per config, as
 * the Collector has one per exporter); every request is still
 * acknowledged and counted as sent. A dump (normal, detailed) that cannot
 * be written is an ERR, write_failed, recoverable until one is written. */
#include "debug_format.h"

#include "otflow/alloc.h"
#include "otflow/arena.h"
#include "otflow/component.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct debug_config {
	int verbosity; /* index into k_verbosity */
	int64_t sampling_initial;
	int64_t sampling_thereafter;
} debug_config_t;

typedef struct debug_exporter {
	otf_node_t *node;
	const debug_config_t *config;
	int verbosity; /* 0 basic, 1 normal, 2 detailed */
	otf_arena_t arena;
} debug_exporter_t;

/* Workers share stderr: one dump at a time so requests do not interleave.
 * The lock also guards the samplers. */
static pthread_mutex_t g_out = PTHREAD_MUTEX_INITIALIZER;

/* One sampler set per debug component, found by its config (shared by the
 * component's instances on every worker). */
#define MAX_SAMPLED 64
static struct {
	const void *config;
	otf_debug_sampler_t s[OTF_SIGNAL_COUNT];
} g_samplers[MAX_SAMPLED];

bool otf__debug_sample(otf_debug_sampler_t *s, int64_t initial, int64_t thereafter, uint64_t now_ns)
{
	if (now_ns >= s->reset_at_ns) {
		s->count = 1;
		s->reset_at_ns = now_ns + 1000000000u;
	} else {
		s->count++;
	}
	uint64_t n = s->count, first = initial > 0 ? (uint64_t)initial : 0;
	if (n <= first)
		return true;
	return thereafter > 0 && (n - first) % (uint64_t)thereafter == 0;
}

static otf_debug_sampler_t *sampler_of(const void *config, otf_signal_t sig)
{
	for (size_t i = 0; i < MAX_SAMPLED; i++) {
		if (g_samplers[i].config == config)
			return &g_samplers[i].s[sig];
		if (!g_samplers[i].config) {
			g_samplers[i].config = config;
			return &g_samplers[i].s[sig];
		}
	}
	return NULL; /* more debug exporters than slots: not sampled */
}

static bool sample(const debug_exporter_t *e, otf_signal_t sig)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	otf_debug_sampler_t *s = sampler_of(e->config, sig);
	return !s || otf__debug_sample(s, e->config->sampling_initial,
	                               e->config->sampling_thereafter, now);
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	const debug_config_t *cfg = ctx->config;
	debug_exporter_t *e = otf_calloc(1, sizeof *e);
	if (!e)
		return OTF_E_NOMEM;
	e->node = ctx->node;
	e->config = cfg;
	e->verbosity = cfg->verbosity;
	otf_arena_init(&e->arena, 0);
	*inst = e;
	return 0;
}

static const char *const k_title[] = {"Traces", "Metrics", "Logs"};
static const char *const k_items[] = {"spans", "data points", "log records"};

static void consume(void *inst, otf_msg_t *m)
{
	debug_exporter_t *e = inst;
	otf_signal_t sig = otf_msg_signal(m);
	otf_buf_t *p = otf_msg_payload(m);
	/* Sampled out: nothing to print, so nothing to decode. */
	pthread_mutex_lock(&g_out);
	bool print = sample(e, sig);
	pthread_mutex_unlock(&g_out);
	if (!print) {
		otf_node_count(e->node, OTF_COUNTER_SENT, sig, otf_msg_items(m));
		otf_msg_ack(m);
		return;
	}
	otf_pdata_error_t perr;
	union {
		otf_traces_t t;
		otf_metrics_t mt;
		otf_logs_t l;
	} u;
	int rc = sig == OTF_SIGNAL_TRACES
	             ? otf_pdata_decode_traces(&u.t, p->data, p->len, &e->arena, NULL, &perr)
	         : sig == OTF_SIGNAL_METRICS
	             ? otf_pdata_decode_metrics(&u.mt, p->data, p->len, &e->arena, NULL, &perr)
	             : otf_pdata_decode_logs(&u.l, p->data, p->len, &e->arena, NULL, &perr);
	if (rc) {
		char buf[512];
		otf_node_log(e->node, OTF_LOG_ERROR, "cannot decode %s: %s", otf_signal_name(sig),
		             otf_pdata_error_format(&perr, buf, sizeof buf));
		otf_node_count(e->node, OTF_COUNTER_SEND_FAILED, sig, otf_msg_items(m));
		otf_arena_reset(&e->arena);
		otf_msg_nack(m, rc, true, "undecodable payload");
		return;
	}
	size_t resources = sig == OTF_SIGNAL_TRACES    ? u.t.resource_spans_len
	                   : sig == OTF_SIGNAL_METRICS ? u.mt.resource_metrics_len
	                                               : u.l.resource_logs_len;
	int out_err = 0;
	pthread_mutex_lock(&g_out);
	otf_node_log(e->node, OTF_LOG_INFO, "%s {\"resources\": %zu, \"%s\": %llu}", k_title[sig],
	             resources, k_items[sig], (unsigned long long)otf_msg_items(m));
	if (e->verbosity > 0) {
		errno = 0; /* what a failed write of the dump leaves */
		if (sig == OTF_SIGNAL_TRACES)
			otf__debug_traces(stderr, &u.t, e->verbosity == 2);
		else if (sig == OTF_SIGNAL_METRICS)
			otf__debug_metrics(stderr, &u.mt, e->verbosity == 2);
		else
			otf__debug_logs(stderr, &u.l, e->verbosity == 2);
		/* ERR: output that cannot be written (a full disk, a closed
		 * pipe) is the status, recoverable; the data is acked anyway
		 * (the output is for a human, nothing downstream waits). */
		if (fflush(stderr) == EOF || ferror(stderr)) {
			int err = errno ? errno : EIO;
			clearerr(stderr);
			out_err = -err;
		}
	}
	pthread_mutex_unlock(&g_out);
	if (out_err)
		otf_node_error(e->node, OTF_ERR_RECOVERABLE, "write_failed",
		               "cannot write the output to stderr: %s", otf_strerror(out_err));
	else if (e->verbosity > 0)
		otf_node_recovered(e->node);
	otf_arena_reset(&e->arena);
	otf_node_count(e->node, OTF_COUNTER_SENT, sig, otf_msg_items(m));
	otf_msg_ack(m);
}

static void control(void *inst, const otf_ctrl_t *c)
{
	debug_exporter_t *e = inst;
	if (c->type == OTF_CTRL_KIL)
		otf_node_shutdown_done(e->node);
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void destroy(void *inst)
{
	debug_exporter_t *e = inst;
	otf_arena_close(&e->arena);
	otf_free(e);
}

static const char *const k_verbosity[] = {"basic", "normal", "detailed", NULL};

static const otf_config_field_t k_schema[] = {
    {.key = "verbosity",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(debug_config_t, verbosity),
     .def = "basic",
     .enum_values = k_verbosity,
     .desc = "basic: one line per request; normal: one line per item; detailed: every "
             "field."},
    {.key = "sampling_initial",
     .type = OTF_CFG_INT,
     .offset = offsetof(debug_config_t, sampling_initial),
     .def = "2",
     .min = "0",
     .desc = "Requests of a signal printed per second before sampling starts (all workers "
             "together)."},
    {.key = "sampling_thereafter",
     .type = OTF_CFG_INT,
     .offset = offsetof(debug_config_t, sampling_thereafter),
     .def = "1",
     .min = "0",
     .desc = "After sampling_initial in a second, print every Nth request (0: none); "
             "the rest are still acknowledged and counted as sent."},
    OTF_CONFIG_FIELD_END,
};

const otf_component_factory_t otf_exporter_debug_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "debug",
    .description = "Writes received telemetry to the log (stderr).",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_schema,
    .config_size = sizeof(debug_config_t),
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
};
