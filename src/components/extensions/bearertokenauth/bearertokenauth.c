/* extension `bearertokenauth` (opentelemetry-collector-contrib
 * extension/bearertokenauthextension): a static token, or one read from a
 * file and re-read when the file changes.
 *
 *   server  a request must carry `<header>: <scheme> <token>` (header
 *           "Authorization", scheme "Bearer" by default; with an empty
 *           scheme the bare token) matching `token`, the file's token, or
 *           one of `tokens`; otherwise it is refused (HTTP 401, gRPC
 *           UNAUTHENTICATED) before any of it reaches the pipeline.
 *   client  every exporter request gets that header.
 *
 * `filename` wins over `token` when both are set, as in the Collector. The
 * comparison takes the same time wherever the strings differ. */
#include "../internal/watched_file.h"

#include "otflow/alloc.h"
#include "otflow/auth.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"
#include "otflow/extension.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct bt_config {
	char *scheme;
	char *token;
	char *filename;
	char *header;
	otf_config_strlist_t tokens;
} bt_config_t;

typedef struct bt {
	const bt_config_t *cfg;
	bool has_file;
	otf_watched_file_t file;
} bt_t;

static const otf_config_field_t k_schema[] = {
    {.key = "scheme",
     .type = OTF_CFG_STRING,
     .offset = offsetof(bt_config_t, scheme),
     .def = "Bearer",
     .desc = "Auth scheme put before the token (\"<scheme> <token>\"); empty: the bare token."},
    {.key = "token",
     .type = OTF_CFG_STRING,
     .offset = offsetof(bt_config_t, token),
     .desc = "Static token (ignored when filename is set)."},
    {.key = "filename",
     .type = OTF_CFG_STRING,
     .offset = offsetof(bt_config_t, filename),
     .hint = "path",
     .desc = "File holding the token (trailing newline trimmed); re-read when it changes."},
    {.key = "header",
     .type = OTF_CFG_STRING,
     .offset = offsetof(bt_config_t, header),
     .def = "Authorization",
     .desc = "Header carrying the token."},
    {.key = "tokens",
     .type = OTF_CFG_STRING_LIST,
     .offset = offsetof(bt_config_t, tokens),
     .desc = "Server: further tokens accepted (rotation); the client sends token/filename."},
    OTF_CONFIG_FIELD_END,
};

static int validate(const void *config, char *err, size_t errlen)
{
	const bt_config_t *c = config;
	if ((!c->token || !*c->token) && (!c->filename || !*c->filename) && !c->tokens.n) {
		snprintf(err, errlen, "one of token, filename or tokens is required");
		return OTF_E_CONFIG;
	}
	if (!c->header || !*c->header) {
		snprintf(err, errlen, "header must not be empty");
		return OTF_E_CONFIG;
	}
	return 0;
}

static int ext_create(const otf_ext_create_ctx_t *ctx, void **instance)
{
	bt_t *b = otf_calloc(1, sizeof *b);
	if (!b)
		return OTF_E_NOMEM;
	b->cfg = ctx->config;
	if (b->cfg->filename && *b->cfg->filename) {
		int rc = otf__watched_file_init(&b->file, b->cfg->filename, ctx->err, ctx->errlen);
		if (rc) {
			otf_free(b);
			return OTF_E_CONFIG;
		}
		b->has_file = true;
	}
	*instance = b;
	return 0;
}

static void ext_destroy(void *instance)
{
	bt_t *b = instance;
	if (b->has_file)
		otf__watched_file_close(&b->file);
	otf_free(b);
}

/* The token the client sends; "" when none. */
static void current_token(bt_t *b, char *out, size_t cap)
{
	if (b->has_file)
		otf__watched_file_get(&b->file, out, cap);
	else
		snprintf(out, cap, "%s", b->cfg->token ? b->cfg->token : "");
}

static bool same(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	unsigned char d = alen != blen;
	for (size_t i = 0; i < alen; i++)
		d |= (unsigned char)(a[i] ^ b[i < blen ? i : 0]);
	return d == 0 && blen;
}

static int authenticate(void *instance, const otf_auth_request_t *req, otf_auth_result_t *res)
{
	bt_t *b = instance;
	const bt_config_t *c = b->cfg;
	size_t len = 0;
	const char *v = req->header(req->ctx, c->header, &len);
	if (!v) {
		snprintf(res->reason, sizeof res->reason, "missing %s header", c->header);
		return -EACCES;
	}
	size_t sl = c->scheme ? strlen(c->scheme) : 0;
	if (sl) {
		if (len <= sl || strncasecmp(v, c->scheme, sl) || v[sl] != ' ') {
			snprintf(res->reason, sizeof res->reason, "%s header lacks the %s scheme",
			         c->header, c->scheme);
			return -EACCES;
		}
		v += sl + 1;
		len -= sl + 1;
	}
	char tok[OTF_WATCHED_FILE_MAX + 1];
	current_token(b, tok, sizeof tok);
	bool ok = same(v, len, tok);
	for (size_t i = 0; i < c->tokens.n; i++)
		ok |= same(v, len, c->tokens.items[i]);
	if (!ok) {
		snprintf(res->reason, sizeof res->reason, "invalid bearer token");
		return -EACCES;
	}
	res->n = 0;
	return 0;
}

static int headers(void *instance, const otf_msg_t *msg, otf_auth_header_fn add, void *ctx)
{
	(void)msg;
	bt_t *b = instance;
	char tok[OTF_WATCHED_FILE_MAX + 1], line[OTF_WATCHED_FILE_MAX + 64];
	current_token(b, tok, sizeof tok);
	if (!tok[0] && b->cfg->tokens.n)
		snprintf(tok, sizeof tok, "%s", b->cfg->tokens.items[0]);
	if (b->cfg->scheme && *b->cfg->scheme)
		snprintf(line, sizeof line, "%s %s", b->cfg->scheme, tok);
	else
		snprintf(line, sizeof line, "%s", tok);
	add(ctx, b->cfg->header, line, OTF_AUTH_HEADER_UPSERT);
	return 0;
}

static const otf_server_auth_iface_t k_server = {.authenticate = authenticate};
static const otf_client_auth_iface_t k_client = {.headers = headers};

const otf_component_factory_t otf_extension_bearertokenauth_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXTENSION,
    .stability = {OTF_STABILITY_BETA, OTF_STABILITY_BETA, OTF_STABILITY_BETA},
    .type = "bearertokenauth",
    .description = "Bearer token authentication: receivers check it, exporters send it.",
    .config_schema = k_schema,
    .config_size = sizeof(bt_config_t),
    .validate = validate,
    .ext_create = ext_create,
    .ext_destroy = ext_destroy,
    .ext_ifaces = {[OTF_EXT_SERVER_AUTH] = &k_server, [OTF_EXT_CLIENT_AUTH] = &k_client},
};
