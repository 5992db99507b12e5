/* exporter `otlphttp`: OTLP/HTTP client (OTLP specification, "OTLP/HTTP"):
 * POST of Export*ServiceRequest bodies, protobuf as they came (never
 * decoded) or converted to OTLP/JSON, compressed per config, over libcurl's
 * multi interface on the worker loop (curl_uv.h), behind the shared queue
 * and retries (exporterhelper.h).
 *
 * Answers: 2xx accepted (the body's partial_success is logged and its
 * rejected items counted as failed); 429, 502, 503, 504 and connection
 * errors or timeouts are retryable, honouring Retry-After (seconds or an
 * HTTP date); every other status is permanent ("OTLP/HTTP Response"). */
#include "curl_uv.h"
#include "otlphttp_config.h"

#include "otflow/alloc.h"
#include "otflow/arena.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "core/openssl_dl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Larger answers are cut: a status message or partial_success is small. */
#define RESP_MAX (64u * 1024)

typedef struct otlphttp_exporter {
	otf_node_t *node;
	const otlphttp_config_t *cfg;
	otf_exph_t *h;
	otf_curl_uv_t *cu;
	struct curl_slist *hdrs;
	char *url[OTF_SIGNAL_COUNT];
	/* tls.server_name_override on an https:// URL: the URL asked of
	 * libcurl names the override (SNI, verified name), CURLOPT_CONNECT_TO
	 * sends it to the endpoint's host, and Host stays the endpoint's, as
	 * Go's transport does with tls.Config.ServerName. */
	char *sni_url[OTF_SIGNAL_COUNT];
	struct curl_slist *connect_to[OTF_SIGNAL_COUNT];
	char *host_hdr[OTF_SIGNAL_COUNT]; /* "Host: endpoint-host[:port]" */
	otf_exph_compression_t compression;
	bool json;
	char ciphers12[2048], ciphers13[1024]; /* tls.cipher_suites, OpenSSL names */
	otf_arena_t arena;
	/* auth.authenticator: each request gets its own header list, made
	 * when it is queued (capture), in req->xdata. */
	const otf_client_auth_iface_t *auth;
	void *auth_inst;
} otlphttp_exporter_t;

typedef struct attempt {
	CURL *easy;
	otf_exph_req_t *req;
	char retry_after[64];
	char curl_err[CURL_ERROR_SIZE]; /* libcurl's detail ("SSL certificate problem: ...") */
	struct curl_slist *hdrs;        /* with server_name_override: Host + the headers */
	bool resp_json;
	size_t resp_len;
	uint8_t resp[RESP_MAX];
} attempt_t;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	attempt_t *a = ud;
	size_t len = size * n, room = RESP_MAX - a->resp_len;
	memcpy(a->resp + a->resp_len, p, len < room ? len : room);
	a->resp_len += len < room ? len : room;
	return len;
}

static bool header_is(const char *line, size_t len, const char *name, const char **val,
                      size_t *vlen)
{
	size_t nl = strlen(name);
	if (len <= nl || strncasecmp(line, name, nl) || line[nl] != ':')
		return false;
	const char *v = line + nl + 1, *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	*val = v;
	*vlen = (size_t)(end - v);
	return true;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	attempt_t *a = ud;
	size_t len = size * n;
	const char *v;
	size_t vl;
	if (header_is(p, len, "Retry-After", &v, &vl))
		snprintf(a->retry_after, sizeof a->retry_after, "%.*s", (int)vl, v);
	else if (header_is(p, len, "Content-Type", &v, &vl))
		a->resp_json = vl >= 16 && !strncasecmp(v, "application/json", 16);
	return len;
}

/* Retry-After: delay-seconds or an HTTP-date (RFC 9110 10.2.3). */
static uint64_t retry_after_ns(const char *v)
{
	if (!v[0])
		return 0;
	char *end;
	unsigned long long s = strtoull(v, &end, 10);
	if (end != v && !*end)
		return s > 86400 ? 86400ull * 1000000000ull : s * 1000000000ull;
	time_t t = curl_getdate(v, NULL);
	time_t now = time(NULL);
	if (t <= now)
		return 0;
	return (uint64_t)(t - now > 86400 ? 86400 : t - now) * 1000000000ull;
}

static int to_json(otlphttp_exporter_t *e, otf_signal_t s, const otf_buf_t *p, otf_buf_t **out,
                   otf_pdata_error_t *perr)
{
	int rc;
	if (s == OTF_SIGNAL_TRACES) {
		otf_traces_t t;
		rc = otf_pdata_decode_traces(&t, p->data, p->len, &e->arena, NULL, perr);
		if (!rc)
			rc = otf_pdata_json_encode_traces(&t, out);
	} else if (s == OTF_SIGNAL_METRICS) {
		otf_metrics_t m;
		rc = otf_pdata_decode_metrics(&m, p->data, p->len, &e->arena, NULL, perr);
		if (!rc)
			rc = otf_pdata_json_encode_metrics(&m, out);
	} else {
		otf_logs_t l;
		rc = otf_pdata_decode_logs(&l, p->data, p->len, &e->arena, NULL, perr);
		if (!rc)
			rc = otf_pdata_json_encode_logs(&l, out);
	}
	otf_arena_reset(&e->arena);
	return rc;
}

/* The wire body, once per request (kept across retries). */
static int make_body(otlphttp_exporter_t *e, otf_exph_req_t *req, otf_exph_result_t *fail)
{
	otf_buf_t *src = req->payload, *json = NULL;
	int rc;
	if (e->json) {
		otf_pdata_error_t perr;
		memset(&perr, 0, sizeof perr);
		rc = to_json(e, req->signal, req->payload, &json, &perr);
		if (rc) {
			char buf[256];
			fail->outcome = rc == OTF_E_NOMEM ? OTF_EXPH_RETRYABLE : OTF_EXPH_PERMANENT;
			snprintf(fail->reason, sizeof fail->reason,
			         "cannot convert to OTLP/JSON: %s",
			         otf_pdata_error_format(&perr, buf, sizeof buf));
			return rc;
		}
		src = json;
	}
	rc = otf__exph_compress(e->compression, src, &req->body);
	otf_buf_unref(json);
	return rc;
}

/* include_system_ca_certs_pool next to ca_file/ca_pem: libcurl's CAINFO
 * replaces the system pool, so it is added back to OpenSSL's context. */
static CURLcode add_system_pool(CURL *c, void *ssl_ctx, void *arg)
{
	(void)c;
	(void)arg;
	SSL_CTX_set_default_verify_paths(ssl_ctx);
	return CURLE_OK;
}

static long curl_version_opt(const char *v, bool max)
{
	static const char *const names[] = {"1.0", "1.1", "1.2", "1.3"};
	static const long mins[] = {CURL_SSLVERSION_TLSv1_0, CURL_SSLVERSION_TLSv1_1,
	                            CURL_SSLVERSION_TLSv1_2, CURL_SSLVERSION_TLSv1_3};
	static const long maxs[] = {CURL_SSLVERSION_MAX_TLSv1_0, CURL_SSLVERSION_MAX_TLSv1_1,
	                            CURL_SSLVERSION_MAX_TLSv1_2, CURL_SSLVERSION_MAX_TLSv1_3};
	for (int i = 0; v && i < 4; i++)
		if (!strcmp(v, names[i]))
			return max ? maxs[i] : mins[i];
	return max ? CURL_SSLVERSION_MAX_DEFAULT : CURL_SSLVERSION_TLSv1_2;
}

/* configtls through libcurl's options (validated at startup). libcurl
 * reads the files at each new connection's handshake, so a rotated
 * certificate is used by the next connection; the CA file is cached
 * reload_interval long (CURLOPT_CA_CACHE_TIMEOUT). */
static void set_tls(const otlphttp_exporter_t *e, CURL *c)
{
	const otf_tls_config_t *t = &e->cfg->tls;
	struct curl_blob b;
	if (t->ca_pem && t->ca_pem[0]) {
		b = (struct curl_blob){t->ca_pem, strlen(t->ca_pem), CURL_BLOB_COPY};
		curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &b);
	} else if (t->ca_file && t->ca_file[0]) {
		curl_easy_setopt(c, CURLOPT_CAINFO, t->ca_file);
	}
	bool has_ca = (t->ca_pem && t->ca_pem[0]) || (t->ca_file && t->ca_file[0]);
	if (has_ca && t->include_system_ca_certs_pool)
		curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, add_system_pool);
	curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
	curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
	if (t->cert_pem && t->cert_pem[0]) {
		b = (struct curl_blob){t->cert_pem, strlen(t->cert_pem), CURL_BLOB_COPY};
		curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &b);
	} else if (t->cert_file && t->cert_file[0]) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, t->cert_file);
	}
	if (t->key_pem && t->key_pem[0]) {
		b = (struct curl_blob){t->key_pem, strlen(t->key_pem), CURL_BLOB_COPY};
		curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &b);
	} else if (t->key_file && t->key_file[0]) {
		curl_easy_setopt(c, CURLOPT_SSLKEY, t->key_file);
	}
	if (t->insecure_skip_verify) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(c, CURLOPT_SSLVERSION,
	                 curl_version_opt(t->min_version, false) |
	                     curl_version_opt(t->max_version, true));
	if (e->ciphers12[0])
		curl_easy_setopt(c, CURLOPT_SSL_CIPHER_LIST, e->ciphers12);
	if (e->ciphers13[0])
		curl_easy_setopt(c, CURLOPT_TLS13_CIPHERS, e->ciphers13);
	if (t->reload_interval_ns > 0)
		curl_easy_setopt(c, CURLOPT_CA_CACHE_TIMEOUT,
		                 (long)(t->reload_interval_ns / 1000000000
		                            ? t->reload_interval_ns / 1000000000
		                            : 1));
}

static int send_attempt(void *ctx, otf_exph_req_t *req, uint64_t timeout_ms,
                        otf_exph_result_t *fail)
{
	otlphttp_exporter_t *e = ctx;
	int rc;
	if (!req->body && (rc = make_body(e, req, fail)))
		return rc;
	attempt_t *a = otf_malloc(sizeof *a);
	if (!a)
		return OTF_E_NOMEM;
	memset(a, 0, offsetof(attempt_t, resp));
	a->req = req;
	a->easy = curl_easy_init();
	if (!a->easy) {
		otf_free(a);
		return OTF_E_NOMEM;
	}
	CURL *c = a->easy;
	struct curl_slist *hdrs = req->xdata ? req->xdata : e->hdrs;
	if (e->connect_to[req->signal]) {
		struct curl_slist *l = curl_slist_append(NULL, e->host_hdr[req->signal]), *n;
		for (const struct curl_slist *h = hdrs; l && h; h = h->next) {
			if (!(n = curl_slist_append(l, h->data))) {
				curl_slist_free_all(l);
				l = NULL;
			}
		}
		if (!l) {
			curl_easy_cleanup(c);
			otf_free(a);
			return OTF_E_NOMEM;
		}
		a->hdrs = hdrs = l;
		curl_easy_setopt(c, CURLOPT_URL, e->sni_url[req->signal]);
		curl_easy_setopt(c, CURLOPT_CONNECT_TO, e->connect_to[req->signal]);
	} else {
		curl_easy_setopt(c, CURLOPT_URL, e->url[req->signal]);
	}
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)req->body->data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body->len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(c, CURLOPT_PRIVATE, a);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, a->curl_err);
	if (!strncasecmp(e->url[req->signal], "https://", 8))
		set_tls(e, c);
	rc = otf__curl_uv_add(e->cu, c);
	if (rc) {
		curl_easy_cleanup(c);
		curl_slist_free_all(a->hdrs);
		otf_free(a);
		return rc;
	}
	req->tdata = a;
	return 0;
}

static void accepted(otlphttp_exporter_t *e, attempt_t *a, otf_exph_result_t *res)
{
	otf_export_response_t r;
	int rc;
	if (!a->resp_len)
		return;
	if (a->resp_json)
		rc = otf_pdata_json_decode_response(&r, a->req->signal, (const char *)a->resp,
		                                    a->resp_len, &e->arena, NULL);
	else
		rc = otf_pdata_decode_response(&r, a->req->signal, a->resp, a->resp_len, NULL);
	if (!rc && (r.rejected > 0 || r.error_message.len)) {
		res->rejected = r.rejected > 0 ? (uint64_t)r.rejected : 0;
		snprintf(res->reason, sizeof res->reason, "%.*s", (int)r.error_message.len,
		         (const char *)r.error_message.ptr);
	}
	otf_arena_reset(&e->arena);
}

/* google.rpc.Status message of an error answer, when there is one. */
static void status_message(otlphttp_exporter_t *e, attempt_t *a, char *msg, size_t cap)
{
	msg[0] = '\0';
	if (!a->resp_len)
		return;
	if (!a->resp_json) {
		int code;
		uint64_t ns;
		if (otf__exph_status_parse(a->resp, a->resp_len, &code, msg, cap, &ns))
			msg[0] = '\0';
		return;
	}
	(void)e;
	/* OTLP/JSON Status: quote the body, trimmed. */
	snprintf(msg, cap, "%.*s", (int)(a->resp_len < 200 ? a->resp_len : 200),
	         (const char *)a->resp);
}

static void on_done(void *ctx, CURL *easy, CURLcode result)
{
	otlphttp_exporter_t *e = ctx;
	attempt_t *a = NULL;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&a);
	otf_exph_result_t res;
	memset(&res, 0, sizeof res);
	if (result != CURLE_OK) {
		res.outcome = OTF_EXPH_RETRYABLE;
		res.error = OTF_E_IO;
		snprintf(res.reason, sizeof res.reason, "POST %.55s: %.95s", e->url[a->req->signal],
		         a->curl_err[0] ? a->curl_err : curl_easy_strerror(result));
	} else {
		long code = 0;
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 200 && code < 300) {
			res.outcome = OTF_EXPH_OK;
			accepted(e, a, &res);
		} else {
			char msg[128];
			status_message(e, a, msg, sizeof msg);
			bool retry = code == 429 || code == 502 || code == 503 || code == 504;
			res.outcome = retry ? OTF_EXPH_RETRYABLE : OTF_EXPH_PERMANENT;
			res.error = OTF_E_IO;
			if (retry)
				res.retry_after_ns = retry_after_ns(a->retry_after);
			snprintf(res.reason, sizeof res.reason, "HTTP %ld from %s%s%s", code,
			         e->url[a->req->signal], msg[0] ? ": " : "", msg);
		}
	}
	otf_exph_req_t *req = a->req;
	curl_easy_cleanup(easy);
	curl_slist_free_all(a->hdrs);
	otf_free(a);
	otf__exph_done(e->h, req, &res);
}

static void free_exporter(void *arg)
{
	otlphttp_exporter_t *e = arg;
	curl_slist_free_all(e->hdrs);
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
		otf_free(e->url[s]);
		otf_free(e->sni_url[s]);
		otf_free(e->host_hdr[s]);
		curl_slist_free_all(e->connect_to[s]);
	}
	otf_arena_close(&e->arena);
	otf_free(e);
}

/* The request headers: fixed ones, then hh (the static `headers` merged
 * with an authenticator's), or the static `headers` when hh is NULL. */
static int build_headers(otlphttp_exporter_t *e, const otf_exph_headers_t *hh,
                         struct curl_slist **out)
{
	const otlphttp_config_t *c = e->cfg;
	char line[4200];
	struct curl_slist *l = NULL, *n;
#define ADD(str)                                 \
	do {                                     \
		n = curl_slist_append(l, (str)); \
		if (!n)                          \
			goto oom;                \
		l = n;                           \
	} while (0)
	ADD(e->json ? "Content-Type: application/json" : "Content-Type: application/x-protobuf");
	if (e->compression != OTF_EXPH_COMPRESSION_NONE) {
		snprintf(line, sizeof line, "Content-Encoding: %s",
		         otf__exph_compression_name(e->compression));
		ADD(line);
	}
	ADD("User-Agent: otflow/" OTF_VERSION);
	ADD("Expect:"); /* no 100-continue round trip for large bodies */
	for (size_t i = 0; !hh && i < c->headers.n; i++) {
		snprintf(line, sizeof line, "%s: %s", c->headers.keys[i], c->headers.values[i]);
		ADD(line);
	}
	for (size_t i = 0; hh && i < hh->n; i++) {
		snprintf(line, sizeof line, "%s: %s", hh->names[i], hh->values[i]);
		ADD(line);
	}
#undef ADD
	*out = l;
	return 0;
oom:
	curl_slist_free_all(l);
	return OTF_E_NOMEM;
}

/* The URL with its host replaced by name, "name:port:host:port" for
 * CURLOPT_CONNECT_TO, and the Host header of the original URL. */
static int name_override(otlphttp_exporter_t *e, int s, const char *name)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *given_port = NULL, *url = NULL;
	int rc = OTF_E_NOMEM;
	if (!u)
		return rc;
	if (curl_url_set(u, CURLUPART_URL, e->url[s], 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT)) {
		rc = OTF_E_CONFIG;
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &given_port, 0))
		given_port = NULL; /* none in the URL */
	if (curl_url_set(u, CURLUPART_HOST, name, 0) || curl_url_get(u, CURLUPART_URL, &url, 0))
		goto out;
	char line[600];
	/* An IPv6 name in CONNECT_TO is bracketed, as CURLUPART_HOST gives it. */
	snprintf(line, sizeof line, "%s:%s:%s:%s", name, port, host, port);
	e->connect_to[s] = curl_slist_append(NULL, line);
	snprintf(line, sizeof line, "Host: %s%s%s", host, given_port ? ":" : "",
	         given_port ? given_port : "");
	e->host_hdr[s] = otf_strndup(line, strlen(line));
	e->sni_url[s] = otf_strndup(url, strlen(url));
	if (e->connect_to[s] && e->host_hdr[s] && e->sni_url[s])
		rc = 0;
out:
	curl_free(host);
	curl_free(port);
	curl_free(given_port);
	curl_free(url);
	curl_url_cleanup(u);
	return rc;
}

static int capture(void *ctx, otf_exph_req_t *req, const otf_msg_t *m)
{
	otlphttp_exporter_t *e = ctx;
	otf_exph_headers_t hh;
	int rc = otf__exph_headers_make(&hh, &e->cfg->headers, e->auth, e->auth_inst, m);
	if (rc)
		return rc;
	struct curl_slist *l = NULL;
	rc = build_headers(e, &hh, &l);
	otf__exph_headers_free(&hh);
	if (!rc)
		req->xdata = l;
	return rc;
}

static void release(void *ctx, otf_exph_req_t *req)
{
	(void)ctx;
	curl_slist_free_all(req->xdata);
	req->xdata = NULL;
}

static void abort_attempt(void *ctx, otf_exph_req_t *req);
static const otf_exph_ops_t k_ops = {.send = send_attempt, .abort = abort_attempt};
static const otf_exph_ops_t k_ops_auth = {
    .send = send_attempt, .capture = capture, .release = release, .abort = abort_attempt};

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	const otlphttp_config_t *c = ctx->config;
	otlphttp_exporter_t *e = otf_calloc(1, sizeof *e);
	if (!e)
		return OTF_E_NOMEM;
	e->node = ctx->node;
	e->cfg = c;
	e->json = c->encoding == 1;
	e->compression = (otf_exph_compression_t)otf__exph_compression_parse(c->compression);
	otf_arena_init(&e->arena, 0);
	int rc = 0;
	for (int s = 0; s < OTF_SIGNAL_COUNT && !rc; s++) {
		char url[2048];
		rc = otlphttp_url(c, (otf_signal_t)s, url, sizeof url);
		if (!rc && !(e->url[s] = otf_strndup(url, strlen(url))))
			rc = OTF_E_NOMEM;
	}
	const char *sno = c->tls.server_name_override;
	for (int s = 0; s < OTF_SIGNAL_COUNT && !rc && sno && sno[0]; s++)
		if (!strncasecmp(e->url[s], "https://", 8))
			rc = name_override(e, s, sno);
	otf__exph_auth_resolve(ctx->node, &c->auth, &e->auth, &e->auth_inst);
	if (!rc)
		rc = build_headers(e, NULL, &e->hdrs);
	char err[256];
	if (!rc)
		rc = otf_tls_cipher_names(&c->tls.cipher_suites, "tls", e->ciphers12,
		                          sizeof e->ciphers12, e->ciphers13, sizeof e->ciphers13,
		                          err, sizeof err);
	if (!rc) {
		e->h = otf__exph_create(e->node, &c->retry, &c->queue, c->timeout_ns,
		                        e->auth ? &k_ops_auth : &k_ops, e);
		if (!e->h)
			rc = OTF_E_NOMEM;
	}
	if (!rc)
		rc = otf__curl_uv_create(otf_node_loop(e->node), on_done, e, &e->cu);
	if (rc) {
		otf__exph_destroy(e->h);
		free_exporter(e);
		return rc;
	}
	*inst = e;
	return 0;
}

static void consume(void *inst, otf_msg_t *m)
{
	otlphttp_exporter_t *e = inst;
	otf__exph_consume(e->h, m);
}

static void control(void *inst, const otf_ctrl_t *c)
{
	otlphttp_exporter_t *e = inst;
	otf__exph_control(e->h, c);
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void abort_attempt(void *ctx, otf_exph_req_t *req)
{
	otlphttp_exporter_t *e = ctx;
	attempt_t *a = req->tdata;
	if (!a)
		return;
	otf__curl_uv_remove(e->cu, a->easy);
	curl_easy_cleanup(a->easy);
	curl_slist_free_all(a->hdrs);
	otf_free(a);
	req->tdata = NULL;
}

static void destroy(void *inst)
{
	otlphttp_exporter_t *e = inst;
	otf__exph_each_inflight(e->h, abort_attempt, e);
	otf__exph_destroy(e->h);
	e->h = NULL;
	otf__curl_uv_close(e->cu, free_exporter, e);
}

/* The Collector's lower_snake_case name (v0.144), accepted as well. */
static const char *const k_aliases[] = {"otlp_http", NULL};

OTF_EXPH_CHECK_REBUILD(otlphttp_config_t)

const otf_component_factory_t otf_exporter_otlphttp_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "otlphttp",
    .description = "Sends OTLP over HTTP (protobuf or JSON) with retries and a sending queue.",
    .stability = {OTF_STABILITY_BETA, OTF_STABILITY_BETA, OTF_STABILITY_BETA},
    .config_schema = otlphttp_schema,
    .config_size = sizeof(otlphttp_config_t),
    .validate = otlphttp_validate,
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .check_rebuild = check_rebuild,
    .destroy = destroy,
    .aliases = k_aliases,
};
