/* TLS on memory BIOs between a libuv TCP stream and plaintext code
 * (tls_internal.h says what the owner sees).
 *
 * Bytes from the socket go into the read BIO; OpenSSL's plaintext comes
 * out of SSL_read into the owner's own buffers (its alloc_cb), so the
 * owner's memory rules hold unchanged. Plaintext written by the owner is
 * sealed into the write BIO at once (OpenSSL copies it), and the write BIO
 * is drained into one socket write per call; the owner's write callback
 * runs when that socket write completes, as libuv's would. */
#include "net/tls_internal.h"

#include "otflow/alloc.h"
#include "otflow/engine.h"
#include "otflow/err.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* An owner's write: its req and cb, and (while held for the handshake)
 * a copy of its bytes. */
struct otf__tls_wnode {
	otf__tls_wnode_t *next;
	uv_write_t *req;
	uv_write_cb cb;
	size_t len;
	char data[];
};

/* One socket write of ciphertext, completing the owner writes it seals. */
typedef struct sock_write {
	uv_write_t w;
	otf__tls_io_t *io;
	otf__tls_wnode_t *done; /* owner writes completed by this one */
	size_t len;
	char data[];
} sock_write_t;

/* Gathering of small pieces into whole TLS records (seal_bufs). */
#define SEAL_STAGE (16 * 1024) /* a TLS record's largest plaintext */

/* Per-thread scratch of TLS connections. cipher: socket reads (libuv calls
 * on_read right after alloc on this thread and the bytes are copied into
 * the read BIO before it returns); stage: see seal_bufs. Allocated at the
 * thread's first TLS read or write and freed when the thread exits: as
 * static _Thread_local arrays these 80 KiB were part of the static TLS
 * block that glibc zeroes in every thread at its start, so each worker paid
 * them in RSS also when nothing spoke TLS. */
typedef struct tls_scratch {
	char cipher[64 * 1024];
	char stage[SEAL_STAGE];
} tls_scratch_t;

static pthread_key_t g_scratch_key;
static pthread_once_t g_scratch_once = PTHREAD_ONCE_INIT;
static _Thread_local tls_scratch_t *k_scratch;

static void scratch_free(void *p)
{
	otf_free(p);
}

static void scratch_key_init(void)
{
	(void)pthread_key_create(&g_scratch_key, scratch_free);
}

/* NULL when out of memory. */
static tls_scratch_t *scratch(void)
{
	if (k_scratch)
		return k_scratch;
	pthread_once(&g_scratch_once, scratch_key_init);
	k_scratch = otf_malloc(sizeof *k_scratch);
	if (k_scratch)
		(void)pthread_setspecific(g_scratch_key, k_scratch);
	return k_scratch;
}

int otf__tls_io_init(uv_loop_t *loop, otf__tls_io_t *io)
{
	memset((char *)io + sizeof io->tcp, 0, sizeof *io - sizeof io->tcp);
	return uv_tcp_init(loop, &io->tcp);
}

static void peer_text(otf__tls_io_t *io)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (uv_tcp_getpeername(&io->tcp, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			const struct sockaddr_in *s4 = (const void *)&ss;
			inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
			port = ntohs(s4->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (const void *)&ss;
			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
			port = ntohs(s6->sin6_port);
		}
	}
	snprintf(io->peer, sizeof io->peer, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
	         port);
}

static int session_new(otf__tls_io_t *io, otf_tls_ctx_t *ctx)
{
	io->ctx = ctx;
	io->ssl = otf__tls_ctx_new_ssl(ctx);
	io->rbio = BIO_new(BIO_s_mem());
	io->wbio = BIO_new(BIO_s_mem());
	if (!io->ssl || !io->rbio || !io->wbio) {
		SSL_free(io->ssl);
		BIO_free(io->rbio);
		BIO_free(io->wbio);
		io->ssl = NULL;
		io->rbio = io->wbio = NULL;
		return OTF_E_NOMEM;
	}
	/* An empty read BIO means "more to come", not end of file. */
	BIO_set_mem_eof_return(io->rbio, -1);
	SSL_set_bio(io->ssl, io->rbio, io->wbio);
	peer_text(io);
	return 0;
}

int otf__tls_io_accept(otf__tls_io_t *io, otf_tls_ctx_t *ctx)
{
	if (!ctx)
		return 0;
	int rc = session_new(io, ctx);
	if (!rc)
		SSL_set_accept_state(io->ssl);
	return rc;
}

static void progress(otf__tls_io_t *io);

int otf__tls_io_connect(otf__tls_io_t *io, otf_tls_ctx_t *ctx, const char *server_name)
{
	if (!ctx)
		return 0;
	int rc = session_new(io, ctx);
	if (rc)
		return rc;
	io->client = true;
	SSL_set_connect_state(io->ssl);
	const char *alpn = otf__tls_ctx_alpn(ctx);
	/* "h2,http/1.1" in the wire format: each name after its length. */
	unsigned char proto[33];
	size_t pl = 0;
	for (const char *a = alpn; *a && pl < sizeof proto;) {
		size_t l = strcspn(a, ",");
		if (l && l < 256 && pl + 1 + l <= sizeof proto) {
			proto[pl] = (unsigned char)l;
			memcpy(proto + pl + 1, a, l);
			pl += 1 + l;
		}
		a += l + (a[l] == ',');
	}
	if (pl)
		SSL_set_alpn_protos(io->ssl, proto, (unsigned)pl);
	if (server_name && server_name[0]) {
		unsigned char bin[16];
		bool ip = inet_pton(AF_INET, server_name, bin) == 1 ||
		          inet_pton(AF_INET6, server_name, bin) == 1;
		/* RFC 6066: SNI carries host names only. */
		if (!ip)
			SSL_set_tlsext_host_name(io->ssl, server_name);
		X509_VERIFY_PARAM *vp = SSL_get0_param(io->ssl);
		if (ip)
			X509_VERIFY_PARAM_set1_ip_asc(vp, server_name);
		else
			X509_VERIFY_PARAM_set1_host(vp, server_name, 0);
	}
	progress(io); /* the ClientHello */
	return 0;
}

static void sock_written(uv_write_t *w, int status)
{
	sock_write_t *sw = (sock_write_t *)w;
	otf__tls_wnode_t *n = sw->done;
	otf_free(sw);
	while (n) {
		otf__tls_wnode_t *next = n->next;
		uv_write_t *req = n->req;
		uv_write_cb cb = n->cb;
		otf_free(n);
		if (cb)
			cb(req, status);
		n = next;
	}
}

/* Everything in the write BIO into one socket write, which completes the
 * owner writes sealed so far. On failure they stay sealed (cancelled at
 * close) and the session is failed. */
static int flush(otf__tls_io_t *io)
{
	size_t n = BIO_ctrl_pending(io->wbio);
	if (!n && !io->sealed)
		return 0;
	if (uv_is_closing((uv_handle_t *)&io->tcp))
		return 0; /* otf__tls_io_close completes what is left */
	sock_write_t *sw = otf_malloc(sizeof *sw + n);
	int rc = UV_ENOMEM;
	if (sw) {
		sw->io = io;
		sw->len = n ? (size_t)BIO_read(io->wbio, sw->data, (int)n) : 0;
		sw->done = io->sealed;
		uv_buf_t b = uv_buf_init(sw->data, (unsigned)sw->len);
		rc = uv_write(&sw->w, (uv_stream_t *)&io->tcp, &b, 1, sock_written);
		if (!rc) {
			io->sealed = NULL;
			return 0;
		}
		otf_free(sw);
	}
	snprintf(io->err, sizeof io->err, "socket write failed: %s", uv_strerror(rc));
	io->failed = true;
	return rc;
}

/* Appends node to the sealed list (order kept). */
static void seal_node(otf__tls_io_t *io, otf__tls_wnode_t *n)
{
	n->next = NULL;
	otf__tls_wnode_t **p = &io->sealed;
	while (*p)
		p = &(*p)->next;
	*p = n;
}

static int seal(otf__tls_io_t *io, const void *data, size_t len)
{
	if (!len)
		return 0;
	/* Memory BIOs never block: SSL_write takes everything or fails. */
	return SSL_write(io->ssl, data, (int)len) == (int)len ? 0 : OTF_E_IO;
}

/* Small pieces (HTTP/2 frame headers between message slices) are
 * gathered into full records: one SSL_write per piece would make a record,
 * with its header, tag and cipher call, per 9-byte frame header. */
static int seal_bufs(otf__tls_io_t *io, const uv_buf_t bufs[], unsigned n)
{
	tls_scratch_t *sc = scratch();
	if (!sc)
		return OTF_E_NOMEM;
	char *k_stage = sc->stage;
	size_t have = 0;
	for (unsigned i = 0; i < n; i++) {
		const char *p = bufs[i].base;
		size_t len = bufs[i].len;
		while (len) {
			if (!have &&
			    len >= SEAL_STAGE) { /* whole records straight from the piece */
				size_t take = len - len % SEAL_STAGE;
				if (seal(io, p, take))
					return OTF_E_IO;
				p += take;
				len -= take;
				continue;
			}
			size_t take = SEAL_STAGE - have < len ? SEAL_STAGE - have : len;
			memcpy(k_stage + have, p, take);
			have += take;
			p += take;
			len -= take;
			if (have == SEAL_STAGE) {
				if (seal(io, k_stage, have))
					return OTF_E_IO;
				have = 0;
			}
		}
	}
	return have ? seal(io, k_stage, have) : 0;
}

static void reason_text(otf__tls_io_t *io, int ssl_err)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	long vr = SSL_get_verify_result(io->ssl);
	if (e && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED && vr != X509_V_OK)
		snprintf(io->err, sizeof io->err, "certificate verify failed (%s)",
		         X509_verify_cert_error_string(vr));
	else if (r)
		snprintf(io->err, sizeof io->err, "%s", r);
	else if (ssl_err == SSL_ERROR_SYSCALL || ssl_err == SSL_ERROR_ZERO_RETURN)
		snprintf(io->err, sizeof io->err, "the peer closed the connection");
	else
		snprintf(io->err, sizeof io->err, "TLS error %d", ssl_err);
}

/* The session cannot go on: say why (log, counter, the peer's alert),
 * then tell the owner. */
static void fail(otf__tls_io_t *io, int ssl_err)
{
	unsigned long e = ERR_peek_last_error();
	bool http = e && ERR_GET_REASON(e) == SSL_R_HTTP_REQUEST;
	reason_text(io, ssl_err);
	ERR_clear_error();
	io->failed = true;
	if (!io->hs_done) {
		uint64_t n = otf__tls_ctx_failed(io->ctx);
		/* Every failure is counted; a flood of them (a scanner) is not
		 * a flood of log lines: the first 100, then one in 1000. */
		if (!io->client && (n <= 100 || n % 1000 == 0))
			otf_log(OTF_LOG_WARN, "tls", "%s: TLS handshake with %s failed: %s%s",
			        otf__tls_ctx_where(io->ctx), io->peer, io->err,
			        n == 100 ? " (100 failures: from now on one in 1000 is logged)"
			                 : "");
	}
	if (http && !io->client) {
		/* What Go's net/http answers, in plaintext, so that curl
		 * http:// on a TLS port says what is wrong. */
		static const char k_400[] = "HTTP/1.0 400 Bad Request\r\n\r\n"
		                            "Client sent an HTTP request to an HTTPS server.\n";
		(void)BIO_reset(io->wbio);
		BIO_write(io->wbio, k_400, (int)sizeof k_400 - 1);
	}
	flush(io); /* the alert (or the 400) */
	if (io->read_cb) {
		uv_buf_t b = uv_buf_init(NULL, 0);
		io->read_cb((uv_stream_t *)&io->tcp, UV_EPROTO, &b);
	}
}

static void handshake_done(otf__tls_io_t *io)
{
	io->hs_done = true;
	X509 *peer = SSL_get0_peer_certificate(io->ssl);
	if (peer && SSL_get_verify_result(io->ssl) == X509_V_OK) {
		BIO *m = BIO_new(BIO_s_mem());
		if (m &&
		    X509_NAME_print_ex(m, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253) >= 0) {
			char *p;
			long n = BIO_get_mem_data(m, &p);
			io->peer_subject = otf_strndup(p, (size_t)n);
		}
		BIO_free(m);
	}
	/* What the owner wrote while the handshake ran. */
	while (io->held) {
		otf__tls_wnode_t *n = io->held;
		io->held = n->next;
		if (!io->held)
			io->held_tail = NULL;
		if (seal(io, n->data, n->len)) {
			n->next = io->held;
			io->held = n;
			fail(io, SSL_ERROR_SSL);
			return;
		}
		seal_node(io, n);
	}
}

/* Handshake, then plaintext to the owner while it reads; output flushed. */
static void progress(otf__tls_io_t *io)
{
	if (io->failed)
		return;
	if (!io->hs_done) {
		ERR_clear_error();
		int r = SSL_do_handshake(io->ssl);
		if (r != 1) {
			int e = SSL_get_error(io->ssl, r);
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				fail(io, e);
				return;
			}
			if (flush(io) && io->read_cb) {
				uv_buf_t z = uv_buf_init(NULL, 0);
				io->read_cb((uv_stream_t *)&io->tcp, UV_EPIPE, &z);
			}
			return;
		}
		handshake_done(io);
		if (io->failed)
			return;
	}
	while (io->reading && !uv_is_closing((uv_handle_t *)&io->tcp)) {
		uv_buf_t b = uv_buf_init(NULL, 0);
		io->alloc_cb((uv_handle_t *)&io->tcp, 64 * 1024, &b);
		if (!b.base || !b.len) {
			io->read_cb((uv_stream_t *)&io->tcp, UV_ENOBUFS, &b);
			return;
		}
		ERR_clear_error();
		int n = SSL_read(io->ssl, b.base, (int)b.len);
		if (n > 0) {
			io->read_cb((uv_stream_t *)&io->tcp, n, &b);
			continue;
		}
		int e = SSL_get_error(io->ssl, n);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			/* Give the owner its buffer back, as libuv does on EAGAIN. */
			io->read_cb((uv_stream_t *)&io->tcp, 0, &b);
			break;
		}
		if (e == SSL_ERROR_ZERO_RETURN) { /* close_notify */
			flush(io);
			io->read_cb((uv_stream_t *)&io->tcp, UV_EOF, &b);
			return;
		}
		fail(io, e);
		return;
	}
	if (!uv_is_closing((uv_handle_t *)&io->tcp))
		flush(io);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	(void)h;
	(void)suggested;
	tls_scratch_t *sc = scratch();
	/* no buffer: libuv reports UV_ENOBUFS to on_read */
	*b = sc ? uv_buf_init(sc->cipher, sizeof sc->cipher) : uv_buf_init(NULL, 0);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
	otf__tls_io_t *io = (otf__tls_io_t *)st;
	if (nread < 0) {
		if (!io->hs_done && !io->failed && nread == UV_EOF) {
			/* A port scan or a client giving up: counted, not logged. */
			snprintf(io->err, sizeof io->err,
			         "the peer closed the connection during the "
			         "TLS handshake");
			otf__tls_ctx_failed(io->ctx);
		}
		uv_buf_t z = uv_buf_init(NULL, 0);
		if (io->read_cb)
			io->read_cb(st, nread, &z);
		return;
	}
	if (nread == 0)
		return;
	io->got_bytes = true;
	if (BIO_write(io->rbio, b->base, (int)nread) != (int)nread) {
		snprintf(io->err, sizeof io->err, "out of memory");
		uv_buf_t z = uv_buf_init(NULL, 0);
		io->read_cb(st, UV_ENOBUFS, &z);
		return;
	}
	progress(io);
}

static int sock_read(otf__tls_io_t *io, bool on)
{
	if (on == io->sock_reading)
		return 0;
	int rc = on ? uv_read_start((uv_stream_t *)&io->tcp, on_alloc, on_read)
	            : uv_read_stop((uv_stream_t *)&io->tcp);
	if (!rc)
		io->sock_reading = on;
	return rc;
}

int otf__tls_io_read_start(otf__tls_io_t *io, uv_alloc_cb alloc_cb, uv_read_cb read_cb)
{
	if (!io->ssl)
		return uv_read_start((uv_stream_t *)&io->tcp, alloc_cb, read_cb);
	io->alloc_cb = alloc_cb;
	io->read_cb = read_cb;
	io->reading = true;
	return sock_read(io, true);
}

void otf__tls_io_read_stop(otf__tls_io_t *io)
{
	if (!io->ssl) {
		uv_read_stop((uv_stream_t *)&io->tcp);
		return;
	}
	io->reading = false;
	/* While a handshake runs the owner waits for plaintext it has not
	 * seen: the session keeps reading what it needs. */
	if (io->hs_done)
		sock_read(io, false);
}

void otf__tls_io_pull(otf__tls_io_t *io)
{
	if (io->ssl && io->reading && io->hs_done &&
	    (SSL_pending(io->ssl) > 0 || BIO_ctrl_pending(io->rbio) > 0))
		progress(io);
}

int otf__tls_io_write(otf__tls_io_t *io, uv_write_t *req, const uv_buf_t bufs[], unsigned n,
                      uv_write_cb cb)
{
	if (!io->ssl)
		return uv_write(req, (uv_stream_t *)&io->tcp, bufs, n, cb);
	if (io->failed || uv_is_closing((uv_handle_t *)&io->tcp))
		return UV_EPIPE;
	size_t total = 0;
	for (unsigned i = 0; i < n; i++)
		total += bufs[i].len;
	otf__tls_wnode_t *node = otf_malloc(sizeof *node + (io->hs_done ? 0 : total));
	if (!node)
		return UV_ENOMEM;
	node->req = req;
	node->cb = cb;
	node->next = NULL;
	node->len = 0;
	if (!io->hs_done) { /* held, copied, until the handshake is done */
		for (unsigned i = 0; i < n; i++) {
			memcpy(node->data + node->len, bufs[i].base, bufs[i].len);
			node->len += bufs[i].len;
		}
		if (io->held_tail)
			io->held_tail->next = node;
		else
			io->held = node;
		io->held_tail = node;
		return 0;
	}
	ERR_clear_error();
	if (seal_bufs(io, bufs, n)) {
		otf_free(node);
		reason_text(io, SSL_ERROR_SSL);
		io->failed = true;
		return UV_EPROTO;
	}
	seal_node(io, node);
	int rc = flush(io);
	if (rc) { /* not handed to the socket: the owner keeps req */
		otf__tls_wnode_t **p = &io->sealed;
		while (*p && *p != node)
			p = &(*p)->next;
		if (*p)
			*p = node->next;
		otf_free(node);
	}
	return rc;
}

int otf__tls_io_shutdown(otf__tls_io_t *io, uv_shutdown_t *req, uv_shutdown_cb cb)
{
	if (io->ssl && io->hs_done && !io->failed) {
		ERR_clear_error();
		SSL_shutdown(io->ssl); /* our close_notify; the peer's is not awaited */
		flush(io);
	}
	return uv_shutdown(req, (uv_stream_t *)&io->tcp, cb);
}

void otf__tls_io_close(otf__tls_io_t *io, uv_close_cb cb)
{
	io->reading = false;
	if (io->ssl && !io->hs_done && !io->failed && io->got_bytes && !io->client) {
		/* A handshake begun and never finished: the connection's time
		 * limit (or shutdown) closes it. */
		snprintf(io->err, sizeof io->err,
		         "handshake not complete when the connection closed");
		uint64_t n = otf__tls_ctx_failed(io->ctx);
		if (n <= 100 || n % 1000 == 0)
			otf_log(OTF_LOG_WARN, "tls",
			        "%s: TLS handshake with %s not complete in time: closed",
			        otf__tls_ctx_where(io->ctx), io->peer);
	}
	/* Owner writes never handed to the socket complete now, cancelled;
	 * those in socket writes complete through libuv's cancellation. */
	otf__tls_wnode_t *lists[2] = {io->held, io->sealed};
	io->held = io->held_tail = io->sealed = NULL;
	uv_close((uv_handle_t *)&io->tcp, cb);
	for (int i = 0; i < 2; i++)
		while (lists[i]) {
			otf__tls_wnode_t *n = lists[i];
			lists[i] = n->next;
			uv_write_t *req = n->req;
			uv_write_cb wcb = n->cb;
			otf_free(n);
			if (wcb)
				wcb(req, UV_ECANCELED);
		}
}

void otf__tls_io_free(otf__tls_io_t *io)
{
	if (io->ssl)
		SSL_free(io->ssl); /* and its BIOs */
	io->ssl = NULL;
	otf_free(io->peer_subject);
	io->peer_subject = NULL;
}

bool otf__tls_io_alpn_is(const otf__tls_io_t *io, const char *proto)
{
	if (!io->ssl || !io->hs_done)
		return false;
	const unsigned char *p = NULL;
	unsigned n = 0;
	SSL_get0_alpn_selected(io->ssl, &p, &n);
	return p && n == strlen(proto) && !memcmp(p, proto, n);
}
