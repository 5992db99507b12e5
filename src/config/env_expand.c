/* Env expansion in scalar values, with the Collector's confmap rules:
 * ${env:VAR}, ${VAR}, ${env:VAR:-default}, "$$" for a literal "$". */
#include "config/config_int.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct sbuf {
	char *p;
	size_t n, cap;
} sbuf_t;

static int sbuf_add(sbuf_t *b, const char *s, size_t len)
{
	if (b->n + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->n + len + 1)
			cap *= 2;
		char *p = otf_realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = '\0';
	return 0;
}

static bool valid_name(const char *s, size_t len)
{
	if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

static void warn_unset(const otf_config_node_t *at, const otf_config_load_opts_t *opts,
                       const char *name, size_t len)
{
	if (!opts || !opts->warn)
		return;
	otf_config_error_t w;
	otf_config_errorf(&w, at, "environment variable %.*s is not set; using \"\"", (int)len,
	                  name);
	opts->warn(opts->warn_user, &w);
}

/* One reference body (between "${" and "}") into b. */
static int expand_ref(sbuf_t *b, const char *ref, size_t len, const otf_config_node_t *at,
                      const otf_config_load_opts_t *opts, otf_config_error_t *err)
{
	const char *name = ref;
	size_t nlen = len;
	const char *colon = memchr(ref, ':', len);
	if (colon) {
		size_t slen = (size_t)(colon - ref);
		if (slen != 3 || memcmp(ref, "env", 3) != 0) {
			if (valid_name(ref, slen) && (size_t)(colon - ref) + 1 < len &&
			    colon[1] == '-')
				return otf_config_errorf(err, at,
				                         "use ${env:%.*s:-default} for a default",
				                         (int)slen, ref);
			return otf_config_errorf(err, at,
			                         "unsupported config provider \"%.*s\" in "
			                         "\"${%.*s}\"; only env is supported",
			                         (int)slen, ref, (int)len, ref);
		}
		name = colon + 1;
		nlen = len - slen - 1;
	}
	const char *def = NULL;
	size_t dlen = 0;
	for (size_t i = 0; i + 1 < nlen; i++) {
		if (name[i] == ':' && name[i + 1] == '-') {
			def = name + i + 2;
			dlen = nlen - i - 2;
			nlen = i;
			break;
		}
	}
	if (!valid_name(name, nlen))
		return otf_config_errorf(err, at, "invalid environment variable name \"%.*s\"",
		                         (int)nlen, name);
	char key[256];
	if (nlen >= sizeof(key))
		return otf_config_errorf(err, at, "environment variable name too long");
	memcpy(key, name, nlen);
	key[nlen] = '\0';
	const char *val = getenv(key);
	if (!val) {
		if (def)
			return sbuf_add(b, def, dlen);
		warn_unset(at, opts, name, nlen);
		return 0;
	}
	return sbuf_add(b, val, strlen(val));
}

int otf__config_env_expand(otf_arena_t *a, const char *in, size_t len, const char **out,
                           size_t *out_len, const otf_config_node_t *at,
                           const otf_config_load_opts_t *opts, otf_config_error_t *err)
{
	if (!memchr(in, '$', len)) {
		*out = in;
		*out_len = len;
		return 0;
	}
	sbuf_t b = {0};
	int rc = 0;
	size_t i = 0;
	while (i < len && rc == 0) {
		const char *d = memchr(in + i, '$', len - i);
		size_t lit = d ? (size_t)(d - (in + i)) : len - i;
		rc = sbuf_add(&b, in + i, lit);
		i += lit;
		if (!d || rc < 0)
			break;
		if (i + 1 < len && in[i + 1] == '$') {
			rc = sbuf_add(&b, "$", 1); /* escape, never expanded */
			i += 2;
		} else if (i + 1 < len && in[i + 1] == '{') {
			const char *close = memchr(in + i + 2, '}', len - i - 2);
			if (!close) {
				rc = otf_config_errorf(err, at,
				                       "unterminated \"${\"; write \"$${\" for a "
				                       "literal");
				break;
			}
			size_t rlen = (size_t)(close - (in + i + 2));
			rc = expand_ref(&b, in + i + 2, rlen, at, opts, err);
			i += rlen + 3;
		} else {
			/* A lone "$" (or bare $VAR, which the Collector no longer
			 * expands) stays literal. */
			rc = sbuf_add(&b, "$", 1);
			i++;
		}
	}
	if (rc == 0) {
		char *s = otf_arena_memdup(a, b.p ? b.p : "", b.n + 1);
		if (!s) {
			rc = -ENOMEM;
		} else {
			*out = s;
			*out_len = b.n;
		}
	}
	otf_free(b.p);
	return rc;
}
