/* The `tls` block (configtls) and the OpenSSL context built from it
 * (otflow/tls.h): loading certificates and keys with errors that name the
 * key, versions and cipher suites by their Collector names, the shared
 * context per component, and reload_interval.
 *
 * Reload: no thread and no timer. The first handshake after the interval
 * has passed re-reads the files and swaps the OpenSSL context under the
 * mutex; SSL objects made before keep a reference to the old one, so open
 * connections are untouched. A reload that fails (a half-written file)
 * keeps the old context and is logged; the next interval tries again. */
#include "net/tls_internal.h"

#include "otflow/alloc.h"
#include "otflow/engine.h"
#include "otflow/err.h"
#include "otflow/selfmetric.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Keys both blocks share (configtls.Config): one list, two schemas. */
#define TLS_COMMON_FIELDS                                                                    \
	{.key = "ca_file",                                                                   \
	 .type = OTF_CFG_STRING,                                                             \
	 .offset = offsetof(otf_tls_config_t, ca_file),                                      \
	 .desc = "PEM file of CAs that verify the peer's certificate."},                     \
	    {.key = "ca_pem",                                                                \
	     .type = OTF_CFG_STRING,                                                         \
	     .offset = offsetof(otf_tls_config_t, ca_pem),                                   \
	     .desc = "The same as PEM text."},                                               \
	    {.key = "cert_file",                                                             \
	     .type = OTF_CFG_STRING,                                                         \
	     .offset = offsetof(otf_tls_config_t, cert_file),                                \
	     .desc = "PEM certificate chain presented to the peer (leaf first)."},           \
	    {.key = "cert_pem",                                                              \
	     .type = OTF_CFG_STRING,                                                         \
	     .offset = offsetof(otf_tls_config_t, cert_pem),                                 \
	     .desc = "The same as PEM text."},                                               \
	    {.key = "key_file",                                                              \
	     .type = OTF_CFG_STRING,                                                         \
	     .offset = offsetof(otf_tls_config_t, key_file),                                 \
	     .desc = "PEM private key of cert_file."},                                       \
	    {.key = "key_pem",                                                               \
	     .type = OTF_CFG_STRING,                                                         \
	     .offset = offsetof(otf_tls_config_t, key_pem),                                  \
	     .desc = "The same as PEM text."},                                               \
	    {.key = "min_version",                                                           \
	     .type = OTF_CFG_STRING,                                                         \
	     .offset = offsetof(otf_tls_config_t, min_version),                              \
	     .def = "1.2",                                                                   \
	     .hint = "1.0|1.1|1.2|1.3",                                                      \
	     .desc = "Lowest TLS version accepted."},                                        \
	    {.key = "max_version",                                                           \
	     .type = OTF_CFG_STRING,                                                         \
	     .offset = offsetof(otf_tls_config_t, max_version),                              \
	     .hint = "1.0|1.1|1.2|1.3",                                                      \
	     .desc = "Highest TLS version accepted (default: the highest, 1.3)."},           \
	    {.key = "cipher_suites",                                                         \
	     .type = OTF_CFG_STRING_LIST,                                                    \
	     .offset = offsetof(otf_tls_config_t, cipher_suites),                            \
	     .desc = "IANA names of the suites allowed (TLS 1.2 and 1.3); empty = "          \
	             "OpenSSL's defaults."},                                                 \
	    {.key = "include_system_ca_certs_pool",                                          \
	     .type = OTF_CFG_BOOL,                                                           \
	     .offset = offsetof(otf_tls_config_t, include_system_ca_certs_pool),             \
	     .def = "false",                                                                 \
	     .desc = "Trust the system's CAs as well as ca_file/ca_pem (client_ca_file on "  \
	             "a server)."},                                                          \
	{                                                                                    \
		.key = "reload_interval", .type = OTF_CFG_DURATION,                          \
		.offset = offsetof(otf_tls_config_t, reload_interval_ns), .min = "0s",       \
		.desc = "Re-read the certificate files this often (at the next handshake); " \
		        "0 = never. Open connections keep their session."                    \
	}

const otf_config_field_t otf_tls_server_schema[] = {
    TLS_COMMON_FIELDS,
    {.key = "client_ca_file",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otf_tls_config_t, client_ca_file),
     .desc = "Require client certificates signed by these CAs (mTLS)."},
    OTF_CONFIG_FIELD_END,
};

const otf_config_field_t otf_tls_client_schema[] = {
    {.key = "insecure",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(otf_tls_config_t, insecure),
     .def = "false",
     .desc = "Plaintext connection (h2c for gRPC); otherwise TLS, as in the Collector."},
    {.key = "insecure_skip_verify",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(otf_tls_config_t, insecure_skip_verify),
     .def = "false",
     .desc = "TLS without verifying the server's certificate and name."},
    {.key = "server_name_override",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otf_tls_config_t, server_name_override),
     .desc = "Name sent as SNI and verified in the server's certificate (default: the "
             "endpoint's host)."},
    TLS_COMMON_FIELDS,
    OTF_CONFIG_FIELD_END,
};

struct otf_tls_ctx {
	pthread_mutex_t lock;
	SSL_CTX *ssl;         /* current; swapped on reload (lock) */
	otf_tls_config_t cfg; /* a copy of the strings this context re-reads */
	otf_tls_role_t role;
	char alpn[32]; /* comma-separated, most preferred first */
	char where[96];
	int64_t reload_ns;
	uint64_t next_reload_ns; /* monotonic; 0 = never */
	uint64_t failures, reloads;
	otf_selfcounter_t counter;
	bool counter_on;
	/* otf_tls_ctx_acquire's registry */
	const void *key;
	unsigned refs;
	otf_tls_ctx_t *next;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The last OpenSSL error as text ("key values mismatch"). */
static const char *ossl_reason(char *buf, size_t cap)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	snprintf(buf, cap, "%s", r ? r : "unknown error");
	ERR_clear_error();
	return buf;
}

static int cfg_err(char *err, size_t errlen, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int cfg_err(char *err, size_t errlen, const char *where, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s.%s", where, msg);
	ERR_clear_error();
	return OTF_E_CONFIG;
}

/* PEM from text or from a file; *bio owns the bytes. */
static int open_pem(const char *file, const char *pem, const char *fkey, const char *where,
                    BIO **bio, char *err, size_t errlen)
{
	if (pem && pem[0]) {
		*bio = BIO_new_mem_buf(pem, -1);
	} else {
		FILE *f = fopen(file, "rb");
		if (!f)
			return cfg_err(err, errlen, where, "%s: cannot read \"%s\": %s", fkey, file,
			               strerror(errno));
		*bio = BIO_new(BIO_s_mem());
		char buf[4096];
		size_t n;
		while (*bio && (n = fread(buf, 1, sizeof buf, f)) > 0)
			if (BIO_write(*bio, buf, (int)n) != (int)n) {
				BIO_free(*bio);
				*bio = NULL;
			}
		bool bad = ferror(f);
		fclose(f);
		if (bad && *bio) {
			BIO_free(*bio);
			return cfg_err(err, errlen, where, "%s: cannot read \"%s\"", fkey, file);
		}
	}
	return *bio ? 0 : OTF_E_NOMEM;
}

/* Every certificate of a PEM source into store (CAs) or, with store NULL,
 * as ctx's chain (the first one the leaf). */
static int load_certs(SSL_CTX *ctx, X509_STORE *store, const char *file, const char *pem,
                      const char *key, const char *where, char *err, size_t errlen)
{
	BIO *b;
	int rc = open_pem(file, pem, key, where, &b, err, errlen);
	if (rc)
		return rc;
	int n = 0;
	X509 *x;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		int ok = store    ? X509_STORE_add_cert(store, x)
		         : n == 0 ? SSL_CTX_use_certificate(ctx, x)
		                  : SSL_CTX_add1_chain_cert(ctx, x);
		X509_free(x);
		if (!ok) {
			char why[128];
			BIO_free(b);
			return cfg_err(err, errlen, where, "%s: %s", key,
			               ossl_reason(why, sizeof why));
		}
		n++;
	}
	ERR_clear_error(); /* the end of the PEM stream */
	BIO_free(b);
	if (!n)
		return cfg_err(err, errlen, where, "%s: no PEM certificate in %s%s%s", key,
		               pem && pem[0] ? "the text" : "\"", pem && pem[0] ? "" : file,
		               pem && pem[0] ? "" : "\"");
	return 0;
}

static int load_key(SSL_CTX *ctx, const otf_tls_config_t *c, const char *where, char *err,
                    size_t errlen)
{
	const char *key = c->key_pem && c->key_pem[0] ? "key_pem" : "key_file";
	BIO *b;
	int rc = open_pem(c->key_file, c->key_pem, key, where, &b, err, errlen);
	if (rc)
		return rc;
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	char why[128];
	if (!k)
		return cfg_err(err, errlen, where, "%s: not a PEM private key (%s)", key,
		               ossl_reason(why, sizeof why));
	int ok = SSL_CTX_use_PrivateKey(ctx, k);
	EVP_PKEY_free(k);
	if (!ok || !SSL_CTX_check_private_key(ctx))
		return cfg_err(err, errlen, where, "%s: does not match %s (%s)", key,
		               c->cert_pem && c->cert_pem[0] ? "cert_pem" : "cert_file",
		               ossl_reason(why, sizeof why));
	return 0;
}

static int parse_version(const char *s, int def, int *out)
{
	static const struct {
		const char *name;
		int v;
	} k[] = {{"1.0", TLS1_VERSION},
	         {"1.1", TLS1_1_VERSION},
	         {"1.2", TLS1_2_VERSION},
	         {"1.3", TLS1_3_VERSION}};
	if (!s || !s[0]) {
		*out = def;
		return 0;
	}
	for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
		if (!strcmp(s, k[i].name)) {
			*out = k[i].v;
			return 0;
		}
	return -1;
}

/* cipher_suites: IANA names (as Go's crypto/tls spells them) mapped to
 * OpenSSL's through SSL_CIPHER_standard_name, every suite OpenSSL has
 * (ALL:COMPLEMENTOFALL) being a candidate. */
static int map_suites(SSL_CTX *ctx, const otf_config_strlist_t *l, const char *where, char *v12,
                      size_t n12, char *v13, size_t n13, char *err, size_t errlen)
{
	v12[0] = v13[0] = '\0';
	if (!l->n)
		return 0;
	SSL *probe = SSL_new(ctx);
	if (!probe)
		return OTF_E_NOMEM;
	SSL_set_cipher_list(probe, "ALL:COMPLEMENTOFALL");
	STACK_OF(SSL_CIPHER) *all = SSL_get_ciphers(probe);
	int rc = 0;
	for (size_t i = 0; i < l->n && !rc; i++) {
		const SSL_CIPHER *found = NULL;
		for (int j = 0; all && j < sk_SSL_CIPHER_num(all) && !found; j++) {
			const SSL_CIPHER *c = sk_SSL_CIPHER_value(all, j);
			const char *std = SSL_CIPHER_standard_name(c);
			if (std && !strcmp(std, l->items[i]))
				found = c;
		}
		if (!found) {
			rc = cfg_err(err, errlen, where,
			             "cipher_suites: unknown suite \"%s\" (IANA names, e.g. "
			             "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)",
			             l->items[i]);
			break;
		}
		bool t13 = SSL_CIPHER_get_kx_nid(found) == NID_kx_any; /* TLS 1.3 suites */
		char *dst = t13 ? v13 : v12;
		size_t cap = t13 ? n13 : n12, used = strlen(dst);
		snprintf(dst + used, cap - used, "%s%s", used ? ":" : "",
		         t13 ? SSL_CIPHER_standard_name(found) : SSL_CIPHER_get_name(found));
	}
	SSL_free(probe);
	return rc;
}

/* TLS 1.3 suites go to SSL_CTX_set_ciphersuites, the others to the
 * cipher list; a family the config does not name keeps OpenSSL's
 * defaults, as Go does for TLS 1.3. */
static int set_suites(SSL_CTX *ctx, const otf_config_strlist_t *l, const char *where, char *err,
                      size_t errlen)
{
	char v12[2048], v13[1024];
	int rc = map_suites(ctx, l, where, v12, sizeof v12, v13, sizeof v13, err, errlen);
	if (rc)
		return rc;
	if ((v12[0] && !SSL_CTX_set_cipher_list(ctx, v12)) ||
	    (v13[0] && !SSL_CTX_set_ciphersuites(ctx, v13))) {
		char why[128];
		return cfg_err(err, errlen, where, "cipher_suites: %s",
		               ossl_reason(why, sizeof why));
	}
	return 0;
}

int otf_tls_cipher_names(const otf_config_strlist_t *suites, const char *where, char *v12,
                         size_t n12, char *v13, size_t n13, char *err, size_t errlen)
{
	char why[320];
	if (otf__openssl_try_load(why, sizeof why) < 0) {
		snprintf(err, errlen, "%s: %s", where ? where : "tls", why);
		return OTF_E_CONFIG;
	}
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return OTF_E_NOMEM;
	int rc = map_suites(ctx, suites, where ? where : "tls", v12, n12, v13, n13, err, errlen);
	SSL_CTX_free(ctx);
	return rc;
}

/* want is the server's list, comma-separated, most preferred first: the
 * first of it the client offers wins (Go's server prefers h2 likewise). */
static int alpn_select(SSL *s, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)s;
	for (const char *want = arg; *want;) {
		size_t wl = strcspn(want, ",");
		for (unsigned i = 0; i < inlen;) {
			unsigned l = in[i];
			if (i + 1 + l > inlen)
				break;
			if (l == wl && !memcmp(in + i + 1, want, wl)) {
				*out = in + i + 1;
				*outlen = (unsigned char)l;
				return SSL_TLSEXT_ERR_OK;
			}
			i += 1 + l;
		}
		want += wl + (want[wl] == ',');
	}
	/* No common protocol: go on without ALPN; the HTTP/2 or HTTP/1.1
	 * code then tells a client speaking something else. */
	return SSL_TLSEXT_ERR_NOACK;
}

/* One OpenSSL context from the config: everything read now. */
static int build(const otf_tls_ctx_t *t, SSL_CTX **out, char *err, size_t errlen)
{
	const otf_tls_config_t *c = &t->cfg;
	const char *w = t->where;
	bool server = t->role == OTF_TLS_SERVER;
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!ctx)
		return OTF_E_NOMEM;
	int rc = 0, minv = 0, maxv = 0; /* set by parse_version when it returns 0 */
	if (parse_version(c->min_version, TLS1_2_VERSION, &minv))
		rc = cfg_err(err, errlen, w, "min_version: \"%s\" is not one of 1.0, 1.1, 1.2, 1.3",
		             c->min_version);
	else if (parse_version(c->max_version, 0, &maxv))
		rc = cfg_err(err, errlen, w, "max_version: \"%s\" is not one of 1.0, 1.1, 1.2, 1.3",
		             c->max_version);
	else if (maxv && maxv < minv)
		rc = cfg_err(err, errlen, w, "max_version: %s is below min_version %s",
		             c->max_version, c->min_version ? c->min_version : "1.2");
	if (!rc) {
		if (minv < TLS1_2_VERSION) /* OpenSSL 3's level 1 refuses SHA-1 signatures */
			SSL_CTX_set_security_level(ctx, 0);
		SSL_CTX_set_min_proto_version(ctx, minv);
		SSL_CTX_set_max_proto_version(ctx, maxv);
		SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS); /* idle connections hold none */
		rc = set_suites(ctx, &c->cipher_suites, w, err, errlen);
	}
	bool has_cert = (c->cert_file && c->cert_file[0]) || (c->cert_pem && c->cert_pem[0]);
	bool has_key = (c->key_file && c->key_file[0]) || (c->key_pem && c->key_pem[0]);
	if (!rc && server && !has_cert)
		rc = cfg_err(err, errlen, w, "cert_file: a TLS server needs cert_file or cert_pem");
	if (!rc && has_cert != has_key)
		rc = cfg_err(err, errlen, w, "%s",
		             has_cert ? "key_file: cert_file/cert_pem needs key_file or key_pem"
		                      : "cert_file: key_file/key_pem needs cert_file or cert_pem");
	if (!rc && has_cert)
		rc = load_certs(ctx, NULL, c->cert_file, c->cert_pem,
		                c->cert_pem && c->cert_pem[0] ? "cert_pem" : "cert_file", w, err,
		                errlen);
	if (!rc && has_key)
		rc = load_key(ctx, c, w, err, errlen);
	/* Whom we trust: the server for a client, client certs for a server. */
	bool has_ca = (c->ca_file && c->ca_file[0]) || (c->ca_pem && c->ca_pem[0]);
	bool mtls = server && c->client_ca_file && c->client_ca_file[0];
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	if (!rc && !server && has_ca)
		rc = load_certs(ctx, store, c->ca_file, c->ca_pem,
		                c->ca_pem && c->ca_pem[0] ? "ca_pem" : "ca_file", w, err, errlen);
	if (!rc && mtls)
		rc = load_certs(ctx, store, c->client_ca_file, NULL, "client_ca_file", w, err,
		                errlen);
	if (!rc && ((!server && (!has_ca || c->include_system_ca_certs_pool)) ||
	            (mtls && c->include_system_ca_certs_pool)))
		SSL_CTX_set_default_verify_paths(ctx);
	if (!rc && server) {
		if (mtls)
			SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			                   NULL);
		if (t->alpn[0])
			SSL_CTX_set_alpn_select_cb(ctx, alpn_select, (void *)t->alpn);
		/* Session IDs are per process; a restart just means full handshakes. */
		SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"otflow", 6);
	}
	if (!rc && !server)
		SSL_CTX_set_verify(ctx, c->insecure_skip_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
		                   NULL);
	if (rc) {
		SSL_CTX_free(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

static char *dup_or_null(const char *s, bool *oom)
{
	if (!s)
		return NULL;
	char *d = otf_strndup(s, strlen(s));
	if (!d)
		*oom = true;
	return d;
}

static void cfg_copy_free(otf_tls_config_t *c)
{
	char **s[] = {&c->ca_file,        &c->ca_pem,
	              &c->cert_file,      &c->cert_pem,
	              &c->key_file,       &c->key_pem,
	              &c->client_ca_file, &c->min_version,
	              &c->max_version,    &c->server_name_override};
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		otf_free(*s[i]);
		*s[i] = NULL;
	}
	for (size_t i = 0; i < c->cipher_suites.n; i++)
		otf_free(c->cipher_suites.items[i]);
	otf_free(c->cipher_suites.items);
	c->cipher_suites.items = NULL;
	c->cipher_suites.n = 0;
}

static int cfg_copy(otf_tls_config_t *d, const otf_tls_config_t *s)
{
	bool oom = false;
	*d = *s;
	d->ca_file = dup_or_null(s->ca_file, &oom);
	d->ca_pem = dup_or_null(s->ca_pem, &oom);
	d->cert_file = dup_or_null(s->cert_file, &oom);
	d->cert_pem = dup_or_null(s->cert_pem, &oom);
	d->key_file = dup_or_null(s->key_file, &oom);
	d->key_pem = dup_or_null(s->key_pem, &oom);
	d->client_ca_file = dup_or_null(s->client_ca_file, &oom);
	d->min_version = dup_or_null(s->min_version, &oom);
	d->max_version = dup_or_null(s->max_version, &oom);
	d->server_name_override = dup_or_null(s->server_name_override, &oom);
	d->cipher_suites.items = NULL;
	d->cipher_suites.n = 0;
	if (!oom && s->cipher_suites.n) {
		d->cipher_suites.items = otf_calloc(s->cipher_suites.n, sizeof(char *));
		oom = !d->cipher_suites.items;
		for (size_t i = 0; !oom && i < s->cipher_suites.n; i++) {
			d->cipher_suites.items[i] = dup_or_null(s->cipher_suites.items[i], &oom);
			d->cipher_suites.n = i + 1;
		}
	}
	if (oom) {
		cfg_copy_free(d);
		return OTF_E_NOMEM;
	}
	return 0;
}

int otf_tls_ctx_create(const otf_tls_config_t *cfg, otf_tls_role_t role, const char *alpn,
                       const char *where, const char *label, otf_tls_ctx_t **out, char *err,
                       size_t errlen)
{
	if (role == OTF_TLS_CLIENT && cfg->insecure) {
		snprintf(err, errlen, "%s.insecure: a plaintext connection has no TLS context",
		         where);
		return OTF_E_CONFIG;
	}
	/* OpenSSL is loaded at first use (core/openssl_dl.h): here, so that a
	 * missing library is this block's configuration error at start. */
	char why[320];
	if (otf__openssl_try_load(why, sizeof why) < 0) {
		snprintf(err, errlen, "%s: %s", where ? where : "tls", why);
		return OTF_E_CONFIG;
	}
	otf_tls_ctx_t *t = otf_calloc(1, sizeof *t);
	if (!t)
		return OTF_E_NOMEM;
	int rc = cfg_copy(&t->cfg, cfg);
	if (rc) {
		otf_free(t);
		return rc;
	}
	t->role = role;
	snprintf(t->alpn, sizeof t->alpn, "%s", alpn ? alpn : "");
	snprintf(t->where, sizeof t->where, "%s", where ? where : "tls");
	t->reload_ns = cfg->reload_interval_ns;
	rc = build(t, &t->ssl, err, errlen);
	if (rc) {
		cfg_copy_free(&t->cfg);
		otf_free(t);
		return rc;
	}
	pthread_mutex_init(&t->lock, NULL);
	if (t->reload_ns > 0)
		t->next_reload_ns = mono_ns() + (uint64_t)t->reload_ns;
	if (label) {
		t->counter.name = "otelcol_tls_handshake_failures";
		t->counter.desc = "TLS handshakes that failed (untrusted, expired or missing peer "
		                  "certificate, plaintext on a TLS port, protocol errors)";
		t->counter.unit = "{handshakes}";
		t->counter.label_key = "component";
		/* One point per tls block: a receiver has one per protocol. */
		snprintf(t->counter.label, sizeof t->counter.label, "%s %s", label, t->where);
		otf_selfcounter_register(&t->counter);
		t->counter_on = true;
	}
	*out = t;
	return 0;
}

void otf_tls_ctx_destroy(otf_tls_ctx_t *t)
{
	if (!t)
		return;
	if (t->counter_on)
		otf_selfcounter_unregister(&t->counter);
	SSL_CTX_free(t->ssl);
	cfg_copy_free(&t->cfg);
	pthread_mutex_destroy(&t->lock);
	otf_free(t);
}

int otf_tls_config_check(const otf_tls_config_t *cfg, otf_tls_role_t role, const char *where,
                         char *err, size_t errlen)
{
	otf_tls_ctx_t *t;
	int rc = otf_tls_ctx_create(cfg, role, NULL, where, NULL, &t, err, errlen);
	otf_tls_ctx_destroy(rc ? NULL : t);
	return rc;
}

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static otf_tls_ctx_t *reg;

int otf_tls_ctx_acquire(const void *key, const otf_tls_config_t *cfg, otf_tls_role_t role,
                        const char *alpn, const char *where, const char *label, otf_tls_ctx_t **out,
                        char *err, size_t errlen)
{
	pthread_mutex_lock(&reg_lock);
	otf_tls_ctx_t *t = reg;
	while (t && t->key != key)
		t = t->next;
	int rc = 0;
	if (t) {
		t->refs++;
	} else if (!(rc = otf_tls_ctx_create(cfg, role, alpn, where, label, &t, err, errlen))) {
		t->key = key;
		t->refs = 1;
		t->next = reg;
		reg = t;
	}
	pthread_mutex_unlock(&reg_lock);
	if (!rc)
		*out = t;
	return rc;
}

void otf_tls_ctx_release(otf_tls_ctx_t *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&reg_lock);
	bool last = --t->refs == 0;
	if (last)
		for (otf_tls_ctx_t **p = &reg; *p; p = &(*p)->next)
			if (*p == t) {
				*p = t->next;
				break;
			}
	pthread_mutex_unlock(&reg_lock);
	if (last)
		otf_tls_ctx_destroy(t);
}

uint64_t otf_tls_ctx_failures(const otf_tls_ctx_t *t)
{
	return __atomic_load_n(&t->failures, __ATOMIC_RELAXED);
}

uint64_t otf_tls_ctx_reloads(const otf_tls_ctx_t *t)
{
	return __atomic_load_n(&t->reloads, __ATOMIC_RELAXED);
}

uint64_t otf__tls_ctx_failed(otf_tls_ctx_t *t)
{
	if (t->counter_on)
		otf_selfcounter_add(&t->counter, 1);
	return __atomic_add_fetch(&t->failures, 1, __ATOMIC_RELAXED);
}

const char *otf__tls_ctx_where(const otf_tls_ctx_t *t)
{
	return t->counter_on ? t->counter.label : t->where;
}

const char *otf__tls_ctx_alpn(const otf_tls_ctx_t *t)
{
	return t->alpn;
}

SSL *otf__tls_ctx_new_ssl(otf_tls_ctx_t *t)
{
	pthread_mutex_lock(&t->lock);
	if (t->next_reload_ns && mono_ns() >= t->next_reload_ns) {
		SSL_CTX *fresh;
		char err[512];
		t->next_reload_ns = mono_ns() + (uint64_t)t->reload_ns;
		if (build(t, &fresh, err, sizeof err) == 0) {
			SSL_CTX_free(t->ssl); /* open sessions hold their own reference */
			t->ssl = fresh;
			__atomic_fetch_add(&t->reloads, 1, __ATOMIC_RELAXED);
			otf_log(OTF_LOG_INFO, "tls", "%s: certificates reloaded",
			        otf__tls_ctx_where(t));
		} else {
			otf_log(OTF_LOG_WARN, "tls",
			        "%s: reload failed, keeping the certificates in use: %s",
			        otf__tls_ctx_where(t), err);
		}
	}
	SSL *s = SSL_new(t->ssl);
	pthread_mutex_unlock(&t->lock);
	return s;
}
