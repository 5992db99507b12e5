/* extension `basicauth` (opentelemetry-collector-contrib
 * extension/basicauthextension): HTTP Basic authentication.
 *
 *   server  `htpasswd.inline` (wins) or `htpasswd.file`: a request must
 *           carry `Authorization: Basic base64(user:password)` matching an
 *           entry (htpasswd.h lists the hashes); the identity is
 *           auth.username (and auth.subject) in the envelope. The
 *           Collector's `raw` attribute (the encoded credentials) is not
 *           exposed, so no credential can reach a pipeline.
 *   client  `client_auth.username`/`password`, or `username_file` /
 *           `password_file` (re-read when they change).
 *
 * Verifying bcrypt costs milliseconds by design, so the last successful
 * credentials are remembered as SHA-256 digests (never in clear): a
 * client sending the same credentials on every request pays the hash
 * once. Configuring both sides in one instance is an error, as in the
 * Collector. */
#include "../internal/watched_file.h"
#include "htpasswd.h"

#include "otflow/alloc.h"
#include "otflow/auth.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"
#include "otflow/extension.h"
#include "core/openssl_dl.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CACHE_SLOTS 64

typedef struct ba_htpasswd {
	char *file;
	char *inline_;
} ba_htpasswd_t;

typedef struct ba_client {
	char *username;
	char *password;
	char *username_file;
	char *password_file;
} ba_client_t;

typedef struct ba_config {
	ba_htpasswd_t htpasswd;
	bool has_htpasswd;
	ba_client_t client;
	bool has_client;
} ba_config_t;

typedef struct ba {
	const ba_config_t *cfg;
	otf_htpasswd_t users;
	bool has_ufile, has_pfile;
	otf_watched_file_t ufile, pfile;
	pthread_mutex_t lock;
	unsigned char cache[CACHE_SLOTS][32];
	unsigned next;
} ba_t;

static const otf_config_field_t k_htpasswd[] = {
    {.key = "file",
     .type = OTF_CFG_STRING,
     .offset = offsetof(ba_htpasswd_t, file),
     .hint = "path",
     .desc = "htpasswd file (bcrypt, SHA-crypt, $apr1$, {SHA} entries)."},
    {.key = "inline",
     .type = OTF_CFG_STRING,
     .offset = offsetof(ba_htpasswd_t, inline_),
     .desc = "htpasswd content inline; wins over file."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t k_client[] = {
    {.key = "username", .type = OTF_CFG_STRING, .offset = offsetof(ba_client_t, username)},
    {.key = "password", .type = OTF_CFG_STRING, .offset = offsetof(ba_client_t, password)},
    {.key = "username_file",
     .type = OTF_CFG_STRING,
     .offset = offsetof(ba_client_t, username_file),
     .desc = "File with the username; wins over username; re-read when it changes."},
    {.key = "password_file",
     .type = OTF_CFG_STRING,
     .offset = offsetof(ba_client_t, password_file),
     .desc = "File with the password; wins over password; re-read when it changes."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t k_schema[] = {
    {.key = "htpasswd",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(ba_config_t, htpasswd),
     .sub = k_htpasswd,
     .present_at = OTF_CONFIG_PRESENT(ba_config_t, has_htpasswd),
     .desc = "Server side: the accepted users."},
    {.key = "client_auth",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(ba_config_t, client),
     .sub = k_client,
     .present_at = OTF_CONFIG_PRESENT(ba_config_t, has_client),
     .desc = "Client side: the credentials exporters send."},
    OTF_CONFIG_FIELD_END,
};

static bool set(const char *s)
{
	return s && *s;
}

static int validate(const void *config, char *err, size_t errlen)
{
	const ba_config_t *c = config;
	bool server = set(c->htpasswd.file) || set(c->htpasswd.inline_);
	bool client = c->has_client;
	if (server && client) {
		snprintf(err, errlen,
		         "htpasswd and client_auth are both set: use one basicauth instance "
		         "per side");
		return OTF_E_CONFIG;
	}
	if (!server && !client) {
		snprintf(err, errlen,
		         "set htpasswd.file or htpasswd.inline (server) or client_auth (client)");
		return OTF_E_CONFIG;
	}
	if (client && !set(c->client.username) && !set(c->client.username_file)) {
		snprintf(err, errlen, "client_auth needs username or username_file");
		return OTF_E_CONFIG;
	}
	return 0;
}

static int read_all(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "htpasswd.file '%s': %s", path, strerror(errno));
		return OTF_E_CONFIG;
	}
	size_t cap = 4096, n = 0;
	char *b = otf_malloc(cap);
	ssize_t r = 0;
	while (b && (r = read(fd, b + n, cap - n)) > 0) {
		n += (size_t)r;
		if (n == cap) {
			char *nb = cap < (64u << 20) ? otf_realloc(b, cap * 2) : NULL;
			if (!nb) {
				otf_free(b);
				b = NULL;
				break;
			}
			b = nb;
			cap *= 2;
		}
	}
	close(fd);
	if (!b || r < 0) {
		otf_free(b);
		snprintf(err, errlen, "htpasswd.file '%s': cannot read it", path);
		return OTF_E_CONFIG;
	}
	*out = b;
	*len = n;
	return 0;
}

static int ext_create(const otf_ext_create_ctx_t *ctx, void **instance)
{
	const ba_config_t *c = ctx->config;
	ba_t *b = otf_calloc(1, sizeof *b);
	if (!b)
		return OTF_E_NOMEM;
	b->cfg = c;
	pthread_mutex_init(&b->lock, NULL);
	int rc = 0;
	if (set(c->htpasswd.inline_)) {
		rc = otf__htpasswd_parse(&b->users, c->htpasswd.inline_,
		                         strlen(c->htpasswd.inline_), ctx->err, ctx->errlen);
	} else if (set(c->htpasswd.file)) {
		char *text;
		size_t len;
		rc = read_all(c->htpasswd.file, &text, &len, ctx->err, ctx->errlen);
		if (!rc) {
			rc = otf__htpasswd_parse(&b->users, text, len, ctx->err, ctx->errlen);
			otf_free(text);
		}
	}
	if (!rc && set(c->client.username_file)) {
		rc = otf__watched_file_init(&b->ufile, c->client.username_file, ctx->err,
		                            ctx->errlen);
		b->has_ufile = !rc;
	}
	if (!rc && set(c->client.password_file)) {
		rc = otf__watched_file_init(&b->pfile, c->client.password_file, ctx->err,
		                            ctx->errlen);
		b->has_pfile = !rc;
	}
	if (rc) {
		if (b->has_ufile)
			otf__watched_file_close(&b->ufile);
		otf__htpasswd_free(&b->users);
		pthread_mutex_destroy(&b->lock);
		otf_free(b);
		return rc == -ENOMEM ? OTF_E_NOMEM : OTF_E_CONFIG;
	}
	*instance = b;
	return 0;
}

static void ext_destroy(void *instance)
{
	ba_t *b = instance;
	if (b->has_ufile)
		otf__watched_file_close(&b->ufile);
	if (b->has_pfile)
		otf__watched_file_close(&b->pfile);
	otf__htpasswd_free(&b->users);
	pthread_mutex_destroy(&b->lock);
	otf_free(b);
}

static void digest(const char *d, size_t n, unsigned char out[32])
{
	unsigned int l = 32;
	EVP_Digest(d, n, out, &l, EVP_sha256(), NULL);
}

static bool cached(ba_t *b, const unsigned char dg[32])
{
	bool hit = false;
	pthread_mutex_lock(&b->lock);
	for (int i = 0; i < CACHE_SLOTS && !hit; i++)
		hit = !memcmp(b->cache[i], dg, 32);
	pthread_mutex_unlock(&b->lock);
	return hit;
}

static void remember(ba_t *b, const unsigned char dg[32])
{
	pthread_mutex_lock(&b->lock);
	memcpy(b->cache[b->next++ % CACHE_SLOTS], dg, 32);
	pthread_mutex_unlock(&b->lock);
}

static int authenticate(void *instance, const otf_auth_request_t *req, otf_auth_result_t *res)
{
	ba_t *b = instance;
	size_t len = 0;
	const char *v = req->header(req->ctx, "Authorization", &len);
	if (!v) {
		snprintf(res->reason, sizeof res->reason, "missing Authorization header");
		return -EACCES;
	}
	if (len < 7 || strncasecmp(v, "Basic ", 6)) {
		snprintf(res->reason, sizeof res->reason, "Authorization is not Basic");
		return -EACCES;
	}
	v += 6;
	len -= 6;
	while (len && *v == ' ') {
		v++;
		len--;
	}
	unsigned char creds[1024];
	if (len > 4 * (sizeof creds / 3) || len % 4) {
		snprintf(res->reason, sizeof res->reason, "malformed Basic credentials");
		return -EACCES;
	}
	int n = EVP_DecodeBlock(creds, (const unsigned char *)v, (int)len);
	if (n < 0) {
		snprintf(res->reason, sizeof res->reason, "malformed Basic credentials");
		return -EACCES;
	}
	/* EVP_DecodeBlock counts the padding as output bytes. */
	for (size_t k = len; k > 0 && v[k - 1] == '='; k--)
		n--;
	const char *colon = memchr(creds, ':', (size_t)n);
	if (!colon) {
		snprintf(res->reason, sizeof res->reason, "malformed Basic credentials");
		return -EACCES;
	}
	size_t ulen = (size_t)(colon - (const char *)creds);
	const otf_htpasswd_entry_t *e = otf__htpasswd_find(&b->users, (const char *)creds, ulen);
	unsigned char dg[32];
	digest((const char *)creds, (size_t)n, dg);
	bool ok =
	    e && (cached(b, dg) || otf__htpasswd_verify(e->hash, colon + 1, (size_t)n - ulen - 1));
	memset(creds, 0, sizeof creds);
	if (!ok) {
		snprintf(res->reason, sizeof res->reason, "invalid username or password");
		return -EACCES;
	}
	remember(b, dg);
	res->n = 2;
	snprintf(res->key[0], sizeof res->key[0], "username");
	snprintf(res->value[0], sizeof res->value[0], "%s", e->user);
	snprintf(res->key[1], sizeof res->key[1], "subject");
	snprintf(res->value[1], sizeof res->value[1], "%s", e->user);
	return 0;
}

static int headers(void *instance, const otf_msg_t *msg, otf_auth_header_fn add, void *ctx)
{
	(void)msg;
	ba_t *b = instance;
	const ba_client_t *c = &b->cfg->client;
	char user[OTF_WATCHED_FILE_MAX + 1], pass[OTF_WATCHED_FILE_MAX + 1];
	if (b->has_ufile)
		otf__watched_file_get(&b->ufile, user, sizeof user);
	else
		snprintf(user, sizeof user, "%s", c->username ? c->username : "");
	if (b->has_pfile)
		otf__watched_file_get(&b->pfile, pass, sizeof pass);
	else
		snprintf(pass, sizeof pass, "%s", c->password ? c->password : "");
	char plain[2 * OTF_WATCHED_FILE_MAX + 2];
	int pl = snprintf(plain, sizeof plain, "%s:%s", user, pass);
	char line[4 * (sizeof plain / 3) + 16];
	memcpy(line, "Basic ", 6);
	EVP_EncodeBlock((unsigned char *)line + 6, (const unsigned char *)plain, pl);
	add(ctx, "Authorization", line, OTF_AUTH_HEADER_UPSERT);
	memset(plain, 0, sizeof plain);
	memset(pass, 0, sizeof pass);
	return 0;
}

static const otf_server_auth_iface_t k_server = {.authenticate = authenticate};
static const otf_client_auth_iface_t k_client_iface = {.headers = headers};

const otf_component_factory_t otf_extension_basicauth_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXTENSION,
    .stability = {OTF_STABILITY_BETA, OTF_STABILITY_BETA, OTF_STABILITY_BETA},
    .type = "basicauth",
    .description = "HTTP Basic authentication: htpasswd users (server) or credentials sent "
                   "by exporters (client).",
    .config_schema = k_schema,
    .config_size = sizeof(ba_config_t),
    .validate = validate,
    .ext_create = ext_create,
    .ext_destroy = ext_destroy,
    .ext_ifaces = {[OTF_EXT_SERVER_AUTH] = &k_server, [OTF_EXT_CLIENT_AUTH] = &k_client_iface},
};
