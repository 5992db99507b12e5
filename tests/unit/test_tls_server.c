/* The HTTP/1.1 server over TLS (src/net/tls_io.c under http_conn.c) on
 * 127.0.0.1: the server's loop runs in a second thread, the test body is a
 * blocking OpenSSL client. Certificates are made in the test (one
 * self-signed EC certificate serves as server certificate, client
 * certificate and the CA of both). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/http_server.h"
#include "otflow/tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char *g_cert, *g_key;

static char *bio_text(BIO *b)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);
	char *s = strndup(p, (size_t)n);
	BIO_free(b);
	return s;
}

static void make_cert(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME *nm = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
	                           -1, 0);
	X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"otflow tests", -1,
	                           -1, 0);
	X509_set_issuer_name(x, nm);
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *e =
	    X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	g_cert = bio_text(b);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	g_key = bio_text(b);
	X509_free(x);
	EVP_PKEY_free(k);
}

typedef struct fixture {
	uv_loop_t loop;
	uv_async_t stop;
	uv_thread_t thread;
	otf_http_server_t *srv;
	otf_tls_ctx_t *tls;
	int port;
	atomic_int closed;
} fixture_t;

/* Answers "<body length>|<client certificate subject or ->". */
static void handler(otf_http_request_t *req, void *ctx)
{
	(void)ctx;
	otf_buf_t *body = otf_http_request_body(req);
	const char *subj = otf_http_request_tls_subject(req);
	char out[512];
	int n = snprintf(out, sizeof out, "%zu|%s", body ? body->len : 0, subj ? subj : "-");
	otf_http_respond(req, 200, "text/plain", out, (size_t)n, NULL, 0);
}

static void on_closed(void *arg)
{
	atomic_store(&((fixture_t *)arg)->closed, 1);
}

static void on_stop(uv_async_t *a)
{
	fixture_t *fx = a->data;
	otf_http_server_close(fx->srv, on_closed, fx);
	uv_close((uv_handle_t *)a, NULL);
}

static void run(void *arg)
{
	uv_run(&((fixture_t *)arg)->loop, UV_RUN_DEFAULT);
}

static fixture_t *start(bool mtls)
{
	fixture_t *fx = calloc(1, sizeof *fx);
	otf_tls_config_t t;
	memset(&t, 0, sizeof t);
	t.cert_pem = g_cert;
	t.key_pem = g_key;
	char ca[] = "/tmp/otflow-test-tls-ca-XXXXXX";
	if (mtls) { /* client_ca_file is a file: write the CA */
		int fd = mkstemp(ca);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, g_cert, strlen(g_cert)), (ssize_t)strlen(g_cert));
		close(fd);
		t.client_ca_file = ca;
	}
	char err[256];
	assert_int_equal(otf_tls_ctx_create(&t, OTF_TLS_SERVER, "http/1.1", "tls", NULL, &fx->tls,
	                                    err, sizeof err),
	                 0);
	if (mtls)
		unlink(ca);
	otf_http_server_config_t cfg = {.host = "127.0.0.1", .tls = fx->tls};
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	assert_int_equal(otf_http_server_create(&fx->loop, &cfg, handler, fx, &fx->srv), 0);
	fx->port = otf_http_server_bound_port(fx->srv);
	fx->stop.data = fx;
	uv_async_init(&fx->loop, &fx->stop, on_stop);
	assert_int_equal(uv_thread_create(&fx->thread, run, fx), 0);
	return fx;
}

static void stop(fixture_t *fx)
{
	uv_async_send(&fx->stop);
	uv_thread_join(&fx->thread);
	assert_int_equal(atomic_load(&fx->closed), 1);
	assert_int_equal(uv_loop_close(&fx->loop), 0);
	otf_tls_ctx_destroy(fx->tls);
	free(fx);
}

static int tcp_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return fd;
}

typedef struct cli {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
} cli_t;

/* A verifying client (the test CA, name localhost), with the client
 * certificate when cert is set; NULL when the handshake fails. */
static cli_t *cli_open(int port, bool cert)
{
	cli_t *c = calloc(1, sizeof *c);
	c->ctx = SSL_CTX_new(TLS_client_method());
	BIO *b = BIO_new_mem_buf(g_cert, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	X509_STORE_add_cert(SSL_CTX_get_cert_store(c->ctx), x);
	if (cert) {
		SSL_CTX_use_certificate(c->ctx, x);
		b = BIO_new_mem_buf(g_key, -1);
		EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		BIO_free(b);
		SSL_CTX_use_PrivateKey(c->ctx, k);
		EVP_PKEY_free(k);
	}
	X509_free(x);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	c->fd = tcp_connect(port);
	c->ssl = SSL_new(c->ctx);
	SSL_set_fd(c->ssl, c->fd);
	SSL_set_tlsext_host_name(c->ssl, "localhost");
	SSL_set1_host(c->ssl, "localhost");
	static const unsigned char alpn[] = "\x02h2\x08http/1.1";
	SSL_set_alpn_protos(c->ssl, alpn, sizeof alpn - 1);
	return c;
}

static void cli_close(cli_t *c)
{
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	close(c->fd);
	free(c);
}

static void cli_write(cli_t *c, const void *p, size_t n)
{
	while (n) {
		int w = SSL_write(c->ssl, p, (int)(n > 1 << 20 ? 1 << 20 : n));
		assert_true(w > 0);
		p = (const char *)p + w;
		n -= (size_t)w;
	}
}

/* Reads one answer's body (Content-Length framing) into out. */
static int cli_answer(cli_t *c, char *out, size_t cap)
{
	static char buf[65536];
	static size_t have;
	for (;;) {
		char *end = memmem(buf, have, "\r\n\r\n", 4);
		if (end) {
			const char *cl = strcasestr(buf, "content-length:");
			size_t len = cl ? strtoul(cl + 15, NULL, 10) : 0,
			       head = (size_t)(end + 4 - buf);
			if (have >= head + len) {
				int status = atoi(buf + 9);
				snprintf(out, cap, "%.*s", (int)len, buf + head);
				memmove(buf, buf + head + len, have - head - len);
				have -= head + len;
				return status;
			}
		}
		int n = SSL_read(c->ssl, buf + have, (int)(sizeof buf - 1 - have));
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
	}
}

/* mTLS: the verified client certificate's subject reaches the request;
 * ALPN offers h2 and http/1.1, the server picks http/1.1. */
static void test_mtls_subject(void **st)
{
	(void)st;
	fixture_t *fx = start(true);
	cli_t *c = cli_open(fx->port, true);
	assert_int_equal(SSL_connect(c->ssl), 1);
	const unsigned char *proto;
	unsigned plen;
	SSL_get0_alpn_selected(c->ssl, &proto, &plen);
	assert_int_equal(plen, 8);
	assert_memory_equal(proto, "http/1.1", 8);
	const char req[] = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";
	cli_write(c, req, sizeof req - 1);
	char out[512];
	assert_int_equal(cli_answer(c, out, sizeof out), 200);
	assert_string_equal(out, "5|O=otflow tests,CN=localhost");
	cli_close(c);
	/* Without a client certificate: no request is served. */
	c = cli_open(fx->port, false);
	int ok = SSL_connect(c->ssl);
	if (ok == 1) { /* TLS 1.3: the refusal arrives after the client's Finished */
		cli_write(c, req, sizeof req - 1);
		assert_int_equal(cli_answer(c, out, sizeof out), -1);
	}
	ERR_clear_error();
	cli_close(c);
	stop(fx);
}

/* Pipelined requests far larger than the connection's 64 KiB read buffer:
 * reading stops while one is with the handler, and what TLS decrypted
 * meanwhile is delivered after each answer (otf__tls_io_pull). */
static void test_pipelined_large(void **st)
{
	(void)st;
	fixture_t *fx = start(false);
	cli_t *c = cli_open(fx->port, false);
	assert_int_equal(SSL_connect(c->ssl), 1);
	size_t sizes[] = {300000, 7, 150001, 65536};
	size_t total = 0;
	for (size_t i = 0; i < 4; i++)
		total += sizes[i] + 128;
	char *all = malloc(total), *p = all;
	for (size_t i = 0; i < 4; i++) {
		p += sprintf(p, "POST /%zu HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n\r\n", i,
		             sizes[i]);
		memset(p, 'a' + (int)i, sizes[i]);
		p += sizes[i];
	}
	cli_write(c, all, (size_t)(p - all));
	free(all);
	for (size_t i = 0; i < 4; i++) {
		char out[512], want[64];
		assert_int_equal(cli_answer(c, out, sizeof out), 200);
		snprintf(want, sizeof want, "%zu|-", sizes[i]);
		assert_string_equal(out, want);
	}
	cli_close(c);
	stop(fx);
}

/* Plaintext HTTP on the TLS port: told so in plaintext, then closed. */
static void test_plaintext_on_tls_port(void **st)
{
	(void)st;
	fixture_t *fx = start(false);
	int fd = tcp_connect(fx->port);
	const char req[] = "POST /v1/logs HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(write(fd, req, sizeof req - 1), (ssize_t)sizeof req - 1);
	char buf[512];
	size_t have = 0;
	ssize_t n;
	while ((n = read(fd, buf + have, sizeof buf - 1 - have)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
	assert_non_null(strstr(buf, "HTTP/1.0 400 Bad Request"));
	assert_non_null(strstr(buf, "Client sent an HTTP request to an HTTPS server."));
	close(fd);
	assert_int_equal(otf_tls_ctx_failures(fx->tls), 1);
	stop(fx);
}

int main(void)
{
	make_cert();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mtls_subject),
	    cmocka_unit_test(test_pipelined_large),
	    cmocka_unit_test(test_plaintext_on_tls_port),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(g_cert);
	free(g_key);
	return rc;
}
