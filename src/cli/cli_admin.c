/* The main thread's admin endpoints: Prometheus text metrics with the
 * Collector's metric names for each pull reader of service.telemetry
 * (default localhost:8888/metrics), the periodic OTLP readers
 * (cli_telemetry_push.c) and the health_check extension (default
 * localhost:13133/). */
#include "cli/cli.h"
#include "cli/cli_health.h"
#include "cli/cli_telemetry.h"

#include "admin/admin.h"

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
	otf_metrics_level_t level;
	otf_http_server_t *metrics[OTF_TELEMETRY_MAX_READERS]; /* one per pull reader */
	otf_http_server_t *health;
	otf_http_server_t *api; /* service.admin.endpoint */
	const otf_dag_t *dag;
	otf_telemetry_push_t *push;
	char health_path[128];
	bool health_v2;
	otf_cli_health_t health_cfg;
	const otf_config_t *cfg; /* for the pipelines of the v2 status */
	int ready;
	int open_servers;
	uint64_t started_unix_nano;
};

static void write_metrics(otf_admin_t *a, FILE *f)
{
	otf_selfmetrics_t s;
	if (otf__selfmetrics_collect(a->engine, a->level, a->started_unix_nano, &s))
		return;
	otf__selfmetrics_prometheus(&s, f);
	otf__selfmetrics_free(&s);
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
	otf_http_str_t p = otf_http_request_path(req);
	if (p.len != strlen(a->health_path) || memcmp(p.ptr, a->health_path, p.len)) {
		otf_http_respond(req, 404, "text/plain", "not found\n", 10, NULL, 0);
		return;
	}
	if (a->health_v2) {
		otf_http_str_t q = otf_http_request_query(req);
		char *body = NULL;
		size_t len = 0;
		int st = otf_cli_health_reply(&a->health_cfg, a->ready ? a->engine : NULL, a->cfg,
		                              q.ptr ? q.ptr : "", q.ptr ? q.len : 0, &body, &len);
		if (body)
			otf_http_respond(req, st, "application/json", body, len, NULL, 0);
		else
			otf_http_respond(req, 500, "text/plain", "out of memory\n", 14, NULL, 0);
		otf_free(body);
		return;
	}
	if (a->ready)
		otf_http_respond(req, 200, "application/json", up, sizeof up - 1, NULL, 0);
	else
		otf_http_respond(req, 503, "application/json", down, sizeof down - 1, NULL, 0);
}

static void on_api(otf_http_request_t *req, void *ctx)
{
	otf_admin_t *a = ctx;
	otf_http_str_t p = otf_http_request_path(req);
	otf_buf_t *body = otf_http_request_body(req);
	otf_admin_reply_t r;
	otf_http_str_t ct = otf_http_request_header(req, "content-type");
	/* The engine's DAG: a reload may have changed its shape. */
	otf__admin_route(a->engine ? otf_engine_dag(a->engine) : a->dag, a->engine,
	                 otf_http_request_method(req), p.ptr, p.len, ct.ptr, ct.len,
	                 body ? (const char *)body->data : NULL, body ? body->len : 0, &r);
	if (!r.body && !r.static_body) {
		otf_http_respond(req, 500, "text/plain", "out of memory\n", 14, NULL, 0);
		return;
	}
	otf_http_header_t h = {"Cache-Control", "no-store"};
	otf_http_respond(req, r.status, r.content_type, r.body ? r.body : r.static_body, r.len, &h,
	                 1);
	otf_free(r.body);
}

static int listen_on_max(uv_loop_t *loop, const char *host, uint16_t port, otf_http_handler_cb cb,
                         otf_admin_t *a, size_t max_body, otf_http_server_t **out)
{
	otf_http_server_config_t c;
	memset(&c, 0, sizeof c);
	c.host = host;
	c.port = port;
	c.max_body_bytes = max_body;
	int rc = otf_http_server_create(loop, &c, cb, a, out);
	if (!rc)
		a->open_servers++;
	return rc;
}

static int listen_on(uv_loop_t *loop, const char *host, uint16_t port, otf_http_handler_cb cb,
                     otf_admin_t *a, otf_http_server_t **out)
{
	return listen_on_max(loop, host, port, cb, a, 4096, out);
}

/* "host:port" or "[v6]:port" into host (brackets removed) and port. */
static int split_endpoint(const char *endpoint, char *host, size_t cap, uint16_t *port)
{
	const char *colon = strrchr(endpoint, ':');
	if (!colon || (size_t)(colon - endpoint) >= cap)
		return OTF_E_CONFIG;
	const char *h = endpoint;
	size_t n = (size_t)(colon - endpoint);
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
		h++;
		n -= 2;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (uint16_t)atoi(colon + 1);
	return 0;
}

int otf_admin_start(uv_loop_t *loop, const otf_service_settings_t *s, otf_engine_t *engine,
                    const otf_dag_t *dag, otf_admin_t **out)
{
	otf_admin_t *a = otf_calloc(1, sizeof *a);
	if (!a)
		return OTF_E_NOMEM;
	a->engine = engine;
	a->dag = dag;
	a->level = s->telemetry.level;
	snprintf(a->health_path, sizeof a->health_path, "%s",
	         s->health_check_path[0] ? s->health_check_path : "/");
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	a->started_unix_nano = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	a->health_v2 = s->health_v2;
	a->health_cfg = (otf_cli_health_t){.include_permanent = s->health_include_permanent,
	                                   .include_recoverable = s->health_include_recoverable,
	                                   .recovery_ns = s->health_recovery_ns,
	                                   .start_ns = a->started_unix_nano};
	*out = a;
	int rc = 0;
	/* Pull readers: only those configured (level none leaves none), so the
	 * default :8888 is bound only when no readers say otherwise. */
	for (size_t i = 0; i < s->telemetry.readers_len; i++) {
		const otf_telemetry_reader_t *r = &s->telemetry.readers[i];
		if (r->kind != OTF_READER_PULL_PROMETHEUS)
			continue;
		int r1 = listen_on(loop, r->host, r->port, on_metrics, a, &a->metrics[i]);
		if (r1)
			otf_log(OTF_LOG_ERROR, "service", "%s: metrics endpoint %s:%u: %s",
			        r->origin, r->host, r->port, otf_strerror(r1));
		else
			otf_log(OTF_LOG_INFO, "service",
			        "metrics (Prometheus) on http://%s:%u/metrics", r->host, r->port);
		rc = rc ? rc : r1;
	}
	int r3 = otf__telemetry_push_start(loop, &s->telemetry, engine, &a->push);
	if (r3)
		otf_log(OTF_LOG_ERROR, "service", "periodic metrics export: %s", otf_strerror(r3));
	rc = rc ? rc : r3;
	if (s->admin_endpoint[0]) {
		char host[256];
		uint16_t port = 0;
		int r4 = split_endpoint(s->admin_endpoint, host, sizeof host, &port);
		if (!r4) /* bodies over 1 MiB get 413 from the server */
			r4 = listen_on_max(loop, host, port, on_api, a, 1u << 20, &a->api);
		if (r4 && s->admin_explicit) {
			otf_log(OTF_LOG_ERROR, "service", "admin endpoint %s: %s",
			        s->admin_endpoint, otf_strerror(r4));
			rc = rc ? rc : r4;
		} else if (r4) {
			/* The default endpoint is a convenience: another process
			 * holding it must not stop this one. */
			otf_log(OTF_LOG_WARN, "service",
			        "admin endpoint %s (the default): %s; set service.admin.endpoint "
			        "to choose another, or \"\" to turn it off",
			        s->admin_endpoint, otf_strerror(r4));
		} else {
			otf_log(OTF_LOG_INFO, "service",
			        "admin API and dataflow page on http://%s/", s->admin_endpoint);
		}
	}
	if (s->health_check) {
		char host[256];
		uint16_t port = 0;
		int r2 = split_endpoint(s->health_check_endpoint, host, sizeof host, &port);
		if (!r2)
			r2 = listen_on(loop, host, port, on_health, a, &a->health);
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

void otf_admin_set_config(otf_admin_t *a, const otf_config_t *cfg)
{
	a->cfg = cfg;
}

static void closed(void *arg)
{
	otf_admin_t *a = arg;
	if (--a->open_servers == 0)
		otf_free(a);
}

void otf_admin_stop(otf_admin_t *a)
{
	otf__telemetry_push_stop(a->push);
	a->push = NULL;
	if (!a->open_servers) {
		otf_free(a);
		return;
	}
	for (size_t i = 0; i < OTF_TELEMETRY_MAX_READERS; i++)
		if (a->metrics[i])
			otf_http_server_close(a->metrics[i], closed, a);
	if (a->health)
		otf_http_server_close(a->health, closed, a);
	if (a->api)
		otf_http_server_close(a->api, closed, a);
}
