/* Periodic readers of service.telemetry.metrics: every `interval` one
 * snapshot of otflow's own metrics (cli_telemetry.c) is encoded with
 * otflow's pdata encoder and sent as an OTLP ExportMetricsServiceRequest,
 * over HTTP (libcurl's multi interface on the main loop, the otlphttp
 * exporter's transport; https:// is libcurl's TLS) or gRPC (the otlp
 * exporter's client: h2c, or TLS with ALPN h2 and SNI through an
 * otf_tls_ctx_t, as the otlp exporter). Cumulative sums, as the
 * Collector's default temporality.
 *
 * One export per reader at a time: a tick while the previous export is
 * still in flight is skipped (the next snapshot carries the totals anyway).
 * Failures are logged when the state changes (ok -> failing -> ok), not at
 * every tick, and never affect the pipelines. At stop, exports in flight
 * are abandoned. */
#include "cli/cli_telemetry.h"

#include "components/exporters/exporterhelper/exporterhelper.h"
#include "components/exporters/otlp/grpc_client.h"
#include "components/exporters/otlphttp/curl_uv.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

static const char k_grpc_path[] = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

typedef struct push_reader {
	otf_telemetry_push_t *p;
	const otf_telemetry_reader_t *cfg; /* in p->t */
	uv_timer_t timer;
	char url[600];           /* http */
	char host[256];          /* grpc */
	uint16_t port;           /* grpc */
	otf_curl_uv_t *cu;       /* http */
	CURL *easy;              /* http, the export in flight */
	struct curl_slist *hdrs; /* http */
	otf_buf_t *body;         /* http, held while in flight */
	otf_grpcc_t *gc;         /* grpc */
	otf_grpcc_call_t *call;  /* grpc, the export in flight */
	otf_tls_ctx_t *tls;      /* grpc over TLS; freed after the client closed */
	const char **meta;       /* grpc headers: name, value, ..., NULL */
	int state;               /* 0 unknown, 1 ok, -1 failing */
} push_reader_t;

struct otf_telemetry_push {
	uv_loop_t *loop;
	otf_engine_t *engine;
	otf_telemetry_settings_t t;
	uint64_t start_unix_nano;
	char instance_id[40];
	push_reader_t r[OTF_TELEMETRY_MAX_READERS];
	size_t n;
	int closing; /* handles still closing */
};

static void outcome(push_reader_t *r, bool ok, const char *why)
{
	int s = ok ? 1 : -1;
	if (s == r->state)
		return;
	r->state = s;
	const char *to = r->cfg->protocol == OTF_OTLP_GRPC ? r->cfg->endpoint : r->url;
	if (ok)
		otf_log(OTF_LOG_INFO, "telemetry", "%s: metrics exported to %s", r->cfg->origin,
		        to);
	else
		otf_log(OTF_LOG_WARN, "telemetry", "%s: metrics export to %s failed: %s",
		        r->cfg->origin, to, why);
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

static void http_done(void *ctx, CURL *easy, CURLcode result)
{
	push_reader_t *r = ctx;
	long code = 0;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	char why[160];
	if (result != CURLE_OK)
		snprintf(why, sizeof why, "%s", curl_easy_strerror(result));
	else
		snprintf(why, sizeof why, "HTTP %ld", code);
	outcome(r, result == CURLE_OK && code >= 200 && code < 300, why);
	curl_easy_cleanup(easy);
	r->easy = NULL;
	otf_buf_unref(r->body);
	r->body = NULL;
}

static void grpc_done(void *arg, const otf_grpcc_result_t *res)
{
	push_reader_t *r = arg;
	r->call = NULL;
	char why[300];
	snprintf(why, sizeof why, "gRPC status %d: %s", res->status, res->message);
	outcome(r, res->status == 0, why);
}

static void tick(uv_timer_t *t)
{
	push_reader_t *r = t->data;
	otf_telemetry_push_t *p = r->p;
	if (r->easy || r->call)
		return; /* the previous export is still in flight */
	otf_selfmetrics_t s;
	if (otf__selfmetrics_collect(p->engine, p->t.level, p->start_unix_nano, &s))
		return;
	otf_buf_t *body = NULL;
	int rc = otf__selfmetrics_encode(&s, &p->t, p->instance_id,
	                                 r->cfg->protocol == OTF_OTLP_HTTP_JSON, &body);
	otf__selfmetrics_free(&s);
	if (rc) {
		outcome(r, false, otf_strerror(rc));
		return;
	}
	if (r->cfg->gzip) {
		otf_buf_t *z = NULL;
		rc = otf__exph_compress(OTF_EXPH_COMPRESSION_GZIP, body, &z);
		otf_buf_unref(body);
		if (rc) {
			outcome(r, false, otf_strerror(rc));
			return;
		}
		body = z;
	}
	if (r->cfg->protocol == OTF_OTLP_GRPC) {
		r->call = otf__grpcc_call(r->gc, k_grpc_path, body, r->cfg->gzip,
		                          r->cfg->timeout_ms, grpc_done, r);
		otf_buf_unref(body);
		if (!r->call)
			outcome(r, false, "out of memory");
		return;
	}
	CURL *c = curl_easy_init();
	if (!c) {
		otf_buf_unref(body);
		outcome(r, false, "cannot create a libcurl handle");
		return;
	}
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body->data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	const otf_telemetry_reader_t *tc = r->cfg;
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, tc->tls ? "https" : "http");
	if (tc->tls) { /* files checked at startup (telemetry_config.c) */
		if (tc->ca_file[0])
			curl_easy_setopt(c, CURLOPT_CAINFO, tc->ca_file);
		if (tc->cert_file[0]) {
			curl_easy_setopt(c, CURLOPT_SSLCERT, tc->cert_file);
			curl_easy_setopt(c, CURLOPT_SSLKEY, tc->key_file);
		}
	}
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)r->cfg->timeout_ms);
	r->easy = c;
	r->body = body;
	if (otf__curl_uv_add(r->cu, c)) {
		r->easy = NULL;
		r->body = NULL;
		curl_easy_cleanup(c);
		otf_buf_unref(body);
		outcome(r, false, "cannot start the transfer");
	}
}

/* http: the URL as written, http:// when no scheme, /v1/metrics when no
 * path (as the OTLP exporters' endpoint); grpc: [http://]host[:4317]. */
static int setup_reader(push_reader_t *r, uv_loop_t *loop)
{
	const otf_telemetry_reader_t *c = r->cfg;
	const char *e = c->endpoint;
	const char *rest = strstr(e, "://");
	if (c->protocol == OTF_OTLP_GRPC) {
		const char *hp = rest ? rest + 3 : e;
		snprintf(r->host, sizeof r->host, "%s", hp);
		char *slash = strchr(r->host, '/');
		if (slash)
			*slash = '\0';
		char *colon = strrchr(r->host, ':');
		r->port = 4317;
		if (colon && !strchr(colon, ']')) {
			r->port = (uint16_t)atoi(colon + 1);
			*colon = '\0';
		}
		if (r->host[0] == '[') {
			memmove(r->host, r->host + 1, strlen(r->host));
			char *b = strchr(r->host, ']');
			if (b)
				*b = '\0';
		}
		r->meta = otf_calloc(2 * c->headers_len + 1, sizeof *r->meta);
		if (!r->meta)
			return OTF_E_NOMEM;
		for (size_t i = 0; i < c->headers_len; i++) {
			r->meta[2 * i] = c->header_names[i];
			r->meta[2 * i + 1] = c->header_values[i];
		}
		if (c->tls) {
			otf_tls_config_t tc = {
			    .ca_file = c->ca_file[0] ? (char *)c->ca_file : NULL,
			    .cert_file = c->cert_file[0] ? (char *)c->cert_file : NULL,
			    .key_file = c->key_file[0] ? (char *)c->key_file : NULL};
			char err[400];
			int rc = otf_tls_ctx_create(&tc, OTF_TLS_CLIENT, "h2", "tls", "telemetry",
			                            &r->tls, err, sizeof err);
			if (rc) {
				otf_log(OTF_LOG_ERROR, "telemetry", "%s: %s", c->origin, err);
				return rc;
			}
		}
		otf_grpcc_config_t gc = {
		    .host = r->host,
		    .port = r->port,
		    .encoding = c->gzip ? "gzip" : NULL,
		    .meta = r->meta,
		    .max_recv_msg_bytes = 1u << 20,
		    .tls = r->tls,
		    .handshake_timeout_ms = c->timeout_ms,
		};
		return otf__grpcc_create(loop, &gc, &r->gc);
	}
	const char *path = rest ? strchr(rest + 3, '/') : strchr(e, '/');
	bool no_path = !path || !strcmp(path, "/");
	snprintf(r->url, sizeof r->url, "%s%.*s%s", rest ? "" : "http://",
	         (int)(no_path && path ? (size_t)(path - e) : strlen(e)), e,
	         no_path ? "/v1/metrics" : "");
	r->hdrs = curl_slist_append(r->hdrs, c->protocol == OTF_OTLP_HTTP_JSON
	                                         ? "Content-Type: application/json"
	                                         : "Content-Type: application/x-protobuf");
	r->hdrs = curl_slist_append(r->hdrs, "User-Agent: otflow/" OTF_VERSION);
	if (c->gzip)
		r->hdrs = curl_slist_append(r->hdrs, "Content-Encoding: gzip");
	for (size_t i = 0; i < c->headers_len; i++) {
		char h[700];
		snprintf(h, sizeof h, "%s: %s", c->header_names[i], c->header_values[i]);
		r->hdrs = curl_slist_append(r->hdrs, h);
	}
	if (!r->hdrs)
		return OTF_E_NOMEM;
	return otf__curl_uv_create(loop, http_done, r, &r->cu);
}

static void instance_id(char out[40])
{
	/* A random UUID (version 4), as the Collector's service.instance.id. */
	unsigned char b[16];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
	FILE *f = fopen("/dev/urandom", "rb");
	if (!f || fread(b, 1, sizeof b, f) != sizeof b)
		for (size_t i = 0; i < sizeof b; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			b[i] = (unsigned char)(x >> 56);
		}
	if (f)
		fclose(f);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
	         b[13], b[14], b[15]);
}

static void free_push(otf_telemetry_push_t *p)
{
	for (size_t i = 0; i < p->n; i++) {
		curl_slist_free_all(p->r[i].hdrs);
		otf_free(p->r[i].meta);
		otf_tls_ctx_destroy(p->r[i].tls); /* its client is closed */
	}
	otf_free(p);
}

static void handle_closed(void *arg)
{
	otf_telemetry_push_t *p = arg;
	if (--p->closing == 0)
		free_push(p);
}

static void timer_closed(uv_handle_t *h)
{
	push_reader_t *r = h->data;
	handle_closed(r->p);
}

int otf__telemetry_push_start(uv_loop_t *loop, const otf_telemetry_settings_t *t,
                              otf_engine_t *engine, otf_telemetry_push_t **out)
{
	*out = NULL;
	size_t periodic = 0;
	for (size_t i = 0; i < t->readers_len; i++)
		periodic += t->readers[i].kind == OTF_READER_PERIODIC_OTLP;
	if (!periodic)
		return 0;
	otf_telemetry_push_t *p = otf_calloc(1, sizeof *p);
	if (!p)
		return OTF_E_NOMEM;
	p->loop = loop;
	p->engine = engine;
	p->t = *t;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	p->start_unix_nano = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	instance_id(p->instance_id);
	int rc = 0;
	for (size_t i = 0; i < t->readers_len && !rc; i++) {
		if (p->t.readers[i].kind != OTF_READER_PERIODIC_OTLP)
			continue;
		push_reader_t *r = &p->r[p->n++];
		r->p = p;
		r->cfg = &p->t.readers[i];
		rc = setup_reader(r, loop);
		uv_timer_init(loop, &r->timer);
		r->timer.data = r;
		if (!rc) {
			uv_timer_start(&r->timer, tick, r->cfg->interval_ms, r->cfg->interval_ms);
			otf_log(OTF_LOG_INFO, "telemetry",
			        "%s: exporting metrics every %llu ms to %s", r->cfg->origin,
			        (unsigned long long)r->cfg->interval_ms,
			        r->cfg->protocol == OTF_OTLP_GRPC ? r->cfg->endpoint : r->url);
		}
	}
	*out = p;
	return rc;
}

void otf__telemetry_push_stop(otf_telemetry_push_t *p)
{
	if (!p)
		return;
	/* One extra so that nothing is freed before every close is issued. */
	p->closing = 1;
	for (size_t i = 0; i < p->n; i++) {
		push_reader_t *r = &p->r[i];
		p->closing++;
		uv_close((uv_handle_t *)&r->timer, timer_closed);
		if (r->easy) {
			otf__curl_uv_remove(r->cu, r->easy);
			curl_easy_cleanup(r->easy);
			r->easy = NULL;
			otf_buf_unref(r->body);
			r->body = NULL;
		}
		if (r->cu) {
			p->closing++;
			otf__curl_uv_close(r->cu, handle_closed, p);
		}
		if (r->call)
			otf__grpcc_cancel(r->call);
		r->call = NULL;
		if (r->gc) {
			p->closing++;
			otf__grpcc_close(r->gc, handle_closed, p);
		}
	}
	handle_closed(p);
}
