/* The main thread's admin endpoints: Prometheus text metrics with the
 * Collector's metric names (default localhost:8888/metrics) and the
 * health_check extension (default localhost:13133/). */
#include "cli/cli.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/http_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct otf_admin {
	otf_engine_t *engine;
	otf_http_server_t *metrics;
	otf_http_server_t *health;
	int ready;
	int open_servers;
	time_t started;
};

static const char *const k_item[] = {"spans", "metric_points", "log_records"};

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

static void counter(FILE *f, const char *name, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
}

static void write_metrics(otf_admin_t *a, FILE *f)
{
	otf_node_stats_t st[256];
	size_t n = otf_engine_stats(a->engine, st, 256);
	if (n > 256)
		n = 256;
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
	};
	for (size_t k = 0; k < sizeof k_series / sizeof k_series[0]; k++) {
		for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
			char name[96];
			snprintf(name, sizeof name, "otelcol_%s_%s", k_series[k].what, k_item[s]);
			counter(f, name, k_series[k].help);
			const char *label =
			    k_series[k].kind == OTF_KIND_RECEIVER ? "receiver" : "exporter";
			for (size_t i = 0; i < n; i++) {
				if (st[i].kind != k_series[k].kind)
					continue;
				const char *id = strchr(st[i].name, ':');
				/* Counters are per component, not per transport, so the
				 * Collector's transport label is left out. */
				fprintf(f, "%s{%s=\"%s\"} %llu\n", name, label,
				        id ? id + 1 : st[i].name,
				        (unsigned long long)st[i].counters[k_series[k].c][s]);
			}
		}
	}
	fprintf(f, "# HELP otflow_node_queue_depth Messages waiting in the node's input channel.\n"
	           "# TYPE otflow_node_queue_depth gauge\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "otflow_node_queue_depth{node=\"%s\"} %u\n", st[i].name,
		        st[i].queue_depth);
	otf_alloc_stats_t as;
	otf_alloc_stats(&as);
	fprintf(
	    f,
	    "# HELP otelcol_process_memory_rss Total physical memory (resident set size) "
	    "[bytes].\n# TYPE otelcol_process_memory_rss gauge\notelcol_process_memory_rss %llu\n"
	    "# HELP otelcol_process_runtime_heap_alloc_bytes Bytes of allocated heap objects.\n"
	    "# TYPE otelcol_process_runtime_heap_alloc_bytes gauge\n"
	    "otelcol_process_runtime_heap_alloc_bytes %llu\n"
	    "# HELP otelcol_process_uptime Uptime of the process [s].\n"
	    "# TYPE otelcol_process_uptime counter\n"
	    "otelcol_process_uptime %lld\n",
	    (unsigned long long)rss_bytes(), (unsigned long long)as.bytes_in_use,
	    (long long)(time(NULL) - a->started));
}

static void on_metrics(otf_http_request_t *req, void *ctx)
{
	otf_admin_t *a = ctx;
	otf_http_str_t p = otf_http_request_path(req);
	if (p.len != 8 || memcmp(p.ptr, "/metrics", 8)) {
		otf_http_respond(req, 404, "text/plain", "not found\n", 10, NULL, 0);
		return;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		otf_http_respond(req, 500, "text/plain", "out of memory\n", 14, NULL, 0);
		return;
	}
	write_metrics(a, f);
	fclose(f);
	otf_http_respond(req, 200, "text/plain; version=0.0.4", buf, len, NULL, 0);
	free(buf);
}

static void on_health(otf_http_request_t *req, void *ctx)
{
	otf_admin_t *a = ctx;
	static const char up[] = "{\"status\":\"Server available\"}";
	static const char down[] = "{\"status\":\"Server not available\"}";
	if (a->ready)
		otf_http_respond(req, 200, "application/json", up, sizeof up - 1, NULL, 0);
	else
		otf_http_respond(req, 503, "application/json", down, sizeof down - 1, NULL, 0);
}

static int listen_on(uv_loop_t *loop, const char *endpoint, otf_http_handler_cb cb, otf_admin_t *a,
                     otf_http_server_t **out)
{
	char host[256];
	const char *colon = strrchr(endpoint, ':');
	if (!colon || (size_t)(colon - endpoint) >= sizeof host)
		return OTF_E_CONFIG;
	memcpy(host, endpoint, (size_t)(colon - endpoint));
	host[colon - endpoint] = '\0';
	otf_http_server_config_t c;
	memset(&c, 0, sizeof c);
	c.host = host[0] == '[' ? host + 1 : host;
	if (host[0] == '[' && strlen(host) > 1)
		host[strlen(host) - 1] = '\0';
	c.port = (uint16_t)atoi(colon + 1);
	c.max_body_bytes = 4096;
	int rc = otf_http_server_create(loop, &c, cb, a, out);
	if (!rc)
		a->open_servers++;
	return rc;
}

int otf_admin_start(uv_loop_t *loop, const otf_service_settings_t *s, otf_engine_t *engine,
                    otf_admin_t **out)
{
	otf_admin_t *a = otf_calloc(1, sizeof *a);
	if (!a)
		return OTF_E_NOMEM;
	a->engine = engine;
	a->started = time(NULL);
	*out = a;
	int rc = 0;
	if (s->metrics_address[0]) {
		rc = listen_on(loop, s->metrics_address, on_metrics, a, &a->metrics);
		if (rc)
			otf_log(OTF_LOG_ERROR, "service", "metrics endpoint %s: %s",
			        s->metrics_address, otf_strerror(rc));
	}
	if (s->health_check) {
		int r2 = listen_on(loop, s->health_check_endpoint, on_health, a, &a->health);
		if (r2)
			otf_log(OTF_LOG_ERROR, "service", "health_check endpoint %s: %s",
			        s->health_check_endpoint, otf_strerror(r2));
		rc = rc ? rc : r2;
	}
	return rc;
}

void otf_admin_set_ready(otf_admin_t *a, int ready)
{
	a->ready = ready;
}

static void closed(void *arg)
{
	otf_admin_t *a = arg;
	if (--a->open_servers == 0)
		otf_free(a);
}

void otf_admin_stop(otf_admin_t *a)
{
	if (!a->open_servers) {
		otf_free(a);
		return;
	}
	if (a->metrics)
		otf_http_server_close(a->metrics, closed, a);
	if (a->health)
		otf_http_server_close(a->health, closed, a);
}
