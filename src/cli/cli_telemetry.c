/* otflow's own metrics: one snapshot, two renderings (Prometheus text for
 * pull readers, OTLP protobuf/JSON for periodic readers). See
 * cli_telemetry.h. */
#include "cli/cli_telemetry.h"

#include "otflow/alloc.h"
#include "otflow/engine.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otflow/selfmetric.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_NODES 256

static const char *const k_item[] = {"spans", "metric_points", "log_records"};
static const char *const k_unit[] = {"{spans}", "{datapoints}", "{records}"};

static uint64_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0, resident = 0;
	if (f) {
		if (fscanf(f, "%lu %lu", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t now_unix_nano(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static otf_selfmetric_t *add(otf_selfmetrics_t *s, const char *name, const char *desc,
                             const char *unit, bool counter, size_t cap)
{
	otf_selfmetric_t *m = &s->m[s->n];
	memset(m, 0, sizeof *m);
	snprintf(m->name, sizeof m->name, "%s", name);
	m->desc = desc;
	m->unit = unit;
	m->counter = counter;
	m->points = otf_calloc(cap ? cap : 1, sizeof *m->points);
	if (!m->points)
		return NULL;
	s->n++;
	return m;
}

static void point(otf_selfmetric_t *m, const char *key, const char *label, uint64_t v)
{
	otf_selfmetric_point_t *p = &m->points[m->n++];
	p->label_key = key;
	snprintf(p->label, sizeof p->label, "%s", label ? label : "");
	p->value = v;
}

/* Component-registered counters (otflow/selfmetric.h): one metric per
 * name, one point per counter. */
typedef struct comp_ctx {
	otf_selfmetrics_t *s;
	size_t first; /* index of the first component metric in s */
	int err;
} comp_ctx_t;

#define MAX_COMPONENT_POINTS 256

/* What does not fit is left out of the snapshot, said once per process
 * (a metric silently missing was found by a test, not by a user). */
static void left_out(const char *what, const char *name)
{
	static atomic_bool said;
	if (!atomic_exchange(&said, true))
		otf_log(OTF_LOG_WARN, "telemetry",
		        "self-metrics: %s full, %s left out of the snapshot (and possibly others)",
		        what, name);
}

static void comp_counter(void *ctx, const otf_selfcounter_t *c, uint64_t v)
{
	comp_ctx_t *k = ctx;
	otf_selfmetric_t *m = NULL;
	for (size_t i = k->first; i < k->s->n && !m; i++)
		if (!strcmp(k->s->m[i].name, c->name))
			m = &k->s->m[i];
	if (!m) {
		/* The queue-depth, process and allocator metrics (7) come
		 * after these: component names past the rest are left out. */
		if (k->s->n + 8 >= OTF_SELFMETRICS_MAX) {
			left_out("the metric table", c->name);
			return;
		}
		m = add(k->s, c->name, c->desc, c->unit, !c->gauge, MAX_COMPONENT_POINTS);
		if (!m) {
			k->err = OTF_E_NOMEM;
			return;
		}
	}
	if (m->n >= MAX_COMPONENT_POINTS) {
		left_out("a metric's points", c->name);
	} else {
		point(m, c->label_key, c->label, v);
		otf_selfmetric_point_t *p = &m->points[m->n - 1];
		p->label2_key = c->label2_key;
		snprintf(p->label2, sizeof p->label2, "%s", c->label2_key ? c->label2 : "");
	}
}

int otf__selfmetrics_collect(otf_engine_t *engine, otf_metrics_level_t level,
                             uint64_t start_unix_nano, otf_selfmetrics_t *out)
{
	memset(out, 0, sizeof *out);
	out->start_unix_nano = start_unix_nano;
	out->time_unix_nano = now_unix_nano();
	if (level == OTF_METRICS_LEVEL_NONE)
		return 0;
	static otf_node_stats_t st[MAX_NODES]; /* main thread only */
	size_t n = engine ? otf_engine_stats(engine, st, MAX_NODES) : 0;
	if (n > MAX_NODES)
		n = MAX_NODES;
	static const struct {
		otf_component_kind_t kind;
		otf_node_counter_t c;
		const char *what;
		const char *help;
	} k_series[] = {
	    {OTF_KIND_RECEIVER, OTF_COUNTER_ACCEPTED, "receiver_accepted",
	     "Number of items successfully pushed into the pipeline."},
	    {OTF_KIND_RECEIVER, OTF_COUNTER_REFUSED, "receiver_refused",
	     "Number of items that could not be pushed into the pipeline."},
	    {OTF_KIND_EXPORTER, OTF_COUNTER_SENT, "exporter_sent",
	     "Number of items successfully sent to destination."},
	    {OTF_KIND_EXPORTER, OTF_COUNTER_SEND_FAILED, "exporter_send_failed",
	     "Number of items in failed attempts to send to destination."},
	    {OTF_KIND_PROCESSOR, OTF_COUNTER_DROPPED, "processor_dropped",
	     "Number of items dropped by the processor."},
	    {OTF_KIND_PROCESSOR, OTF_COUNTER_RETRIED, "processor_retried",
	     "Number of items the processor sent again after a retryable failure."},
	    {OTF_KIND_CONNECTOR, OTF_COUNTER_DROPPED, "connector_dropped",
	     "Number of items dropped by the connector (routing: matched no table entry, "
	     "without default_pipelines)."},
	    {OTF_KIND_RECEIVER, OTF_COUNTER_CANCELLED, "receiver_cancelled",
	     "Number of items of cancelled messages (CAN) dropped at this receiver."},
	    {OTF_KIND_PROCESSOR, OTF_COUNTER_CANCELLED, "processor_cancelled",
	     "Number of items of cancelled messages (CAN) dropped before or in the processor."},
	    {OTF_KIND_EXPORTER, OTF_COUNTER_CANCELLED, "exporter_cancelled",
	     "Number of items of cancelled messages (CAN) the exporter did not send or aborted."},
	};
	for (size_t k = 0; k < sizeof k_series / sizeof k_series[0]; k++) {
		for (int sig = 0; sig < OTF_SIGNAL_COUNT; sig++) {
			char name[96];
			snprintf(name, sizeof name, "otelcol_%s_%s", k_series[k].what, k_item[sig]);
			otf_selfmetric_t *m =
			    add(out, name, k_series[k].help, k_unit[sig], true, n);
			if (!m)
				goto oom;
			const char *key = otf_component_kind_name(k_series[k].kind);
			for (size_t i = 0; i < n; i++) {
				if (st[i].kind != k_series[k].kind)
					continue;
				/* Counters are per component, not per transport, so the
				 * Collector's transport attribute is left out. */
				const char *id = strchr(st[i].name, ':');
				point(m, key, id ? id + 1 : st[i].name,
				      st[i].counters[k_series[k].c][sig]);
			}
		}
	}
	/* The Collector's processor metrics (processorhelper, 0.110+): items
	 * in and out of every processor, per signal as the otel.signal
	 * attribute, as the engine counts them (OTF_COUNTER_ITEMS_IN/OUT). */
	static const struct {
		otf_node_counter_t c;
		const char *name, *help;
	} k_flow[] = {
	    {OTF_COUNTER_ITEMS_IN, "otelcol_processor_incoming_items",
	     "Number of items passed to the processor."},
	    {OTF_COUNTER_ITEMS_OUT, "otelcol_processor_outgoing_items",
	     "Number of items emitted from the processor."},
	};
	static const char *const k_signal[] = {"traces", "metrics", "logs"};
	for (size_t k = 0; k < sizeof k_flow / sizeof k_flow[0]; k++) {
		otf_selfmetric_t *m =
		    add(out, k_flow[k].name, k_flow[k].help, "{items}", true, n * OTF_SIGNAL_COUNT);
		if (!m)
			goto oom;
		for (size_t i = 0; i < n; i++) {
			if (st[i].kind != OTF_KIND_PROCESSOR)
				continue;
			const char *id = strchr(st[i].name, ':');
			for (int sig = 0; sig < OTF_SIGNAL_COUNT; sig++) {
				point(m, "processor", id ? id + 1 : st[i].name,
				      st[i].counters[k_flow[k].c][sig]);
				otf_selfmetric_point_t *p = &m->points[m->n - 1];
				p->label2_key = "otel_signal";
				snprintf(p->label2, sizeof p->label2, "%s", k_signal[sig]);
			}
		}
	}
	comp_ctx_t comp = {out, out->n, 0};
	otf_selfcounters_each(comp_counter, &comp);
	if (comp.err)
		goto oom;
	if (level >= OTF_METRICS_LEVEL_NORMAL) {
		otf_selfmetric_t *m =
		    add(out, "otflow_node_queue_depth",
		        "Messages waiting in the node's input channel.", "{messages}", false, n);
		if (!m)
			goto oom;
		for (size_t i = 0; i < n; i++)
			point(m, "node", st[i].name, st[i].queue_depth);
	}
	otf_alloc_stats_t as;
	otf_alloc_stats(&as);
	otf_selfmetric_t *m;
	if (!(m = add(out, "otelcol_process_memory_rss",
	              "Total physical memory (resident set size) [bytes].", "By", false, 1)))
		goto oom;
	point(m, NULL, NULL, rss_bytes());
	if (!(m = add(out, "otelcol_process_runtime_heap_alloc_bytes",
	              "Bytes of allocated heap objects.", "By", false, 1)))
		goto oom;
	point(m, NULL, NULL, as.bytes_in_use);
	if (!(m = add(out, "otelcol_process_uptime", "Uptime of the process [s].", "s", true, 1)))
		goto oom;
	point(m, NULL, NULL, (out->time_unix_nano - start_unix_nano) / 1000000000u);
	if (level >= OTF_METRICS_LEVEL_DETAILED) {
		if (!(m = add(out, "otflow_alloc_calls", "Successful allocations, ever.", "{calls}",
		              true, 1)))
			goto oom;
		point(m, NULL, NULL, as.allocs_total);
		if (!(m = add(out, "otflow_alloc_frees", "Blocks freed, ever.", "{calls}", true,
		              1)))
			goto oom;
		point(m, NULL, NULL, as.frees_total);
		if (!(m = add(out, "otflow_alloc_failed", "Allocations that failed, ever.",
		              "{calls}", true, 1)))
			goto oom;
		point(m, NULL, NULL, as.failed_total);
	}
	return 0;
oom:
	otf__selfmetrics_free(out);
	return OTF_E_NOMEM;
}

void otf__selfmetrics_free(otf_selfmetrics_t *s)
{
	for (size_t i = 0; i < s->n; i++)
		otf_free(s->m[i].points);
	s->n = 0;
}

void otf__selfmetrics_prometheus(const otf_selfmetrics_t *s, FILE *f)
{
	for (size_t i = 0; i < s->n; i++) {
		const otf_selfmetric_t *m = &s->m[i];
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->desc, m->name,
		        m->counter ? "counter" : "gauge");
		for (size_t j = 0; j < m->n; j++) {
			const otf_selfmetric_point_t *p = &m->points[j];
			if (p->label_key && p->label2_key)
				fprintf(f, "%s{%s=\"%s\",%s=\"%s\"} %llu\n", m->name, p->label_key,
				        p->label, p->label2_key, p->label2,
				        (unsigned long long)p->value);
			else if (p->label_key)
				fprintf(f, "%s{%s=\"%s\"} %llu\n", m->name, p->label_key, p->label,
				        (unsigned long long)p->value);
			else
				fprintf(f, "%s %llu\n", m->name, (unsigned long long)p->value);
		}
	}
}

static otf_bytes_t B(const char *s)
{
	return (otf_bytes_t){(const uint8_t *)s, strlen(s)};
}

static void kv_str(otf_key_value_t *kv, const char *k, const char *v)
{
	kv->key = B(k);
	kv->value.type = OTF_ANY_STRING;
	kv->value.u.string_value = B(v);
}

int otf__selfmetrics_encode(const otf_selfmetrics_t *s, const otf_telemetry_settings_t *t,
                            const char *instance_id, bool json, otf_buf_t **out)
{
	size_t points = 0;
	for (size_t i = 0; i < s->n; i++)
		points += s->m[i].n;
	otf_metric_t *metrics = otf_calloc(s->n ? s->n : 1, sizeof *metrics);
	otf_number_data_point_t *dps = otf_calloc(points ? points : 1, sizeof *dps);
	otf_key_value_t *attrs = otf_calloc(points ? 2 * points : 1, sizeof *attrs);
	otf_key_value_t res[3 + OTF_TELEMETRY_MAX_RESOURCE];
	int rc = OTF_E_NOMEM;
	if (!metrics || !dps || !attrs)
		goto out;
	/* Resource: otflow's identity, then service.telemetry.resource, whose
	 * keys override (a null value removes the attribute). */
	size_t nres = 0;
	kv_str(&res[nres++], "service.name", "otflow");
	kv_str(&res[nres++], "service.version", OTF_VERSION);
	kv_str(&res[nres++], "service.instance.id", instance_id);
	for (size_t i = 0; t && i < t->resource_len; i++) {
		size_t j = 0;
		while (j < nres && (res[j].key.len != strlen(t->resource_keys[i]) ||
		                    memcmp(res[j].key.ptr, t->resource_keys[i], res[j].key.len)))
			j++;
		if (t->resource_null[i]) {
			if (j < nres)
				memmove(&res[j], &res[j + 1], (nres - j - 1) * sizeof res[0]);
			nres -= j < nres;
			continue;
		}
		kv_str(&res[j], t->resource_keys[i], t->resource_values[i]);
		nres += j == nres;
	}
	size_t at = 0;
	for (size_t i = 0; i < s->n; i++) {
		const otf_selfmetric_t *m = &s->m[i];
		otf_metric_t *x = &metrics[i];
		x->name = B(m->name);
		x->description = B(m->desc);
		x->unit = B(m->unit);
		x->type = m->counter ? OTF_METRIC_SUM : OTF_METRIC_GAUGE;
		if (m->counter) {
			x->aggregation_temporality = OTF_TEMPORALITY_CUMULATIVE;
			x->is_monotonic = true;
		}
		x->data_points.number = &dps[at];
		x->data_points_len = m->n;
		for (size_t j = 0; j < m->n; j++, at++) {
			const otf_selfmetric_point_t *p = &m->points[j];
			otf_number_data_point_t *d = &dps[at];
			if (p->label_key) {
				kv_str(&attrs[2 * at], p->label_key, p->label);
				d->attributes.items = &attrs[2 * at];
				d->attributes.len = 1;
				if (p->label2_key) {
					kv_str(&attrs[2 * at + 1], p->label2_key, p->label2);
					d->attributes.len = 2;
				}
			}
			d->start_time_unix_nano = m->counter ? s->start_unix_nano : 0;
			d->time_unix_nano = s->time_unix_nano;
			d->value_type = OTF_NUMBER_INT;
			d->value.as_int = (int64_t)p->value;
		}
	}
	otf_scope_metrics_t sm = {
	    .scope = {.name = B("otflow"), .version = B(OTF_VERSION)},
	    .metrics = metrics,
	    .metrics_len = s->n,
	};
	otf_resource_metrics_t rm = {
	    .resource = {.attributes = {res, nres}},
	    .scope_metrics = &sm,
	    .scope_metrics_len = 1,
	};
	otf_metrics_t req = {.resource_metrics = &rm, .resource_metrics_len = 1};
	rc = json ? otf_pdata_json_encode_metrics(&req, out) : otf_pdata_encode_metrics(&req, out);
out:
	otf_free(metrics);
	otf_free(dps);
	otf_free(attrs);
	return rc;
}
