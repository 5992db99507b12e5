/* The env and system detectors and the merge of what they found into a
 * resource (resourcedetection.h). Detection is local (environment,
 * gethostname/getaddrinfo, uname, machine-id) and runs once per worker at
 * start, as the Collector detects once unless refresh_interval is set. */
#include "resourcedetection.h"

#include "otflow/err.h"

#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

static otf_bytes_t bdup(otf_arena_t *a, const char *s, size_t n)
{
	uint8_t *p = otf_arena_memdup(a, n ? s : "", n ? n : 1);
	return (otf_bytes_t){p, p ? n : 0};
}

static const otf_any_value_t *find(const otf_attributes_t *a, otf_bytes_t k)
{
	for (size_t i = 0; i < a->len; i++)
		if (a->items[i].key.len == k.len && !memcmp(a->items[i].key.ptr, k.ptr, k.len))
			return &a->items[i].value;
	return NULL;
}

/* Appends k = v (string) unless k is there already (first detector wins). */
static int add(otf_attributes_t *a, otf_arena_t *arena, otf_bytes_t k, otf_bytes_t v)
{
	if (!k.ptr || !v.ptr)
		return OTF_E_NOMEM;
	if (find(a, k))
		return 0;
	otf_key_value_t *n = otf_arena_alloc(arena, (a->len + 1) * sizeof *n);
	if (!n)
		return OTF_E_NOMEM;
	if (a->len)
		memcpy(n, a->items, a->len * sizeof *n);
	n[a->len].key = k;
	n[a->len].value = (otf_any_value_t){.type = OTF_ANY_STRING, .u.string_value = v};
	a->items = n;
	a->len++;
	return 0;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	                              : -1;
}

/* Go's url.QueryUnescape: %XX decoded, '+' is a space; a bad escape is an
 * error. */
static int unescape(const char *s, size_t n, char *out, size_t *outlen)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int h = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
			int l = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
			if (h < 0 || l < 0)
				return OTF_E_INVAL;
			out[w++] = (char)(h * 16 + l);
			i += 2;
		} else {
			out[w++] = s[i] == '+' ? ' ' : s[i];
		}
	}
	*outlen = w;
	return 0;
}

static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

int otf__rd_parse_env(const char *text, otf_arena_t *arena, otf_attributes_t *out, char *why,
                      size_t whylen)
{
	if (!text)
		return 0;
	const char *p = text;
	while (*p) {
		size_t len = strcspn(p, ",");
		const char *item = p;
		size_t ilen = len;
		p += len + (p[len] == ',');
		trim(&item, &ilen);
		if (!ilen)
			continue;
		const char *eq = memchr(item, '=', ilen);
		const char *k = item, *v = eq ? eq + 1 : NULL;
		size_t klen = eq ? (size_t)(eq - item) : 0, vlen = eq ? ilen - klen - 1 : 0;
		if (eq) {
			trim(&k, &klen);
			trim(&v, &vlen);
		}
		if (!eq || !klen) {
			snprintf(why, whylen,
			         "OTEL_RESOURCE_ATTRIBUTES: \"%.*s\" is not key=value (expected "
			         "\"k1=v1,k2=v2\")",
			         (int)ilen, item);
			return OTF_E_INVAL;
		}
		char *dec = otf_arena_alloc(arena, vlen + 1);
		size_t dlen = 0;
		if (!dec)
			return OTF_E_NOMEM;
		if (unescape(v, vlen, dec, &dlen)) {
			snprintf(why, whylen,
			         "OTEL_RESOURCE_ATTRIBUTES: bad %%-escape in the value of %.*s",
			         (int)klen, k);
			return OTF_E_INVAL;
		}
		int rc = add(out, arena, bdup(arena, k, klen), (otf_bytes_t){(uint8_t *)dec, dlen});
		if (rc)
			return rc;
	}
	return 0;
}

/* host.name from one hostname source; 0 with name, or -1. */
static int hostname_from(const char *src, char *name, size_t cap)
{
	char os[256];
	if (gethostname(os, sizeof os))
		return -1;
	os[sizeof os - 1] = 0;
	if (!strcmp(src, "os")) {
		snprintf(name, cap, "%s", os);
		return 0;
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_flags = AI_CANONNAME}, *res = NULL;
	if (getaddrinfo(os, NULL, &hints, &res) || !res)
		return -1;
	int rc = -1;
	if (!strcmp(src, "lookup")) {
		char host[NI_MAXHOST];
		if (!getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof host, NULL, 0,
		                 NI_NAMEREQD)) {
			snprintf(name, cap, "%s", host);
			rc = 0;
		}
	} else if (res->ai_canonname && *res->ai_canonname) { /* dns, cname */
		snprintf(name, cap, "%s", res->ai_canonname);
		rc = 0;
	}
	freeaddrinfo(res);
	return rc;
}

/* runtime.GOARCH names mapped to the semantic conventions' host.arch. */
static const char *arch_of(const char *machine)
{
	static const struct {
		const char *uname, *arch;
	} k[] = {{"x86_64", "amd64"},  {"aarch64", "arm64"}, {"arm64", "arm64"},
	         {"i386", "x86"},      {"i686", "x86"},      {"armv7l", "arm32"},
	         {"ppc64le", "ppc64"}, {"ppc64", "ppc64"},   {"s390x", "s390x"}};
	for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
		if (!strcmp(machine, k[i].uname))
			return k[i].arch;
	return machine;
}

static int machine_id(char *out, size_t cap)
{
	static const char *const paths[] = {"/etc/machine-id", "/var/lib/dbus/machine-id"};
	for (size_t i = 0; i < 2; i++) {
		FILE *f = fopen(paths[i], "r");
		if (!f)
			continue;
		bool ok = fgets(out, (int)cap, f) != NULL;
		fclose(f);
		if (!ok)
			continue;
		out[strcspn(out, "\r\n")] = 0;
		if (*out)
			return 0;
	}
	return -1;
}

#define KEY(s) ((otf_bytes_t){(const uint8_t *)(s), sizeof(s) - 1})

int otf__rd_detect_system(const otf_rd_config_t *c, otf_arena_t *arena, otf_attributes_t *out,
                          char *why, size_t whylen)
{
	const otf_rd_system_attrs_t *en = &c->system.attrs;
	int rc = 0;
	if (otf__rd_on(en->host_name, true)) {
		char name[NI_MAXHOST + 1] = "";
		bool found = false;
		for (size_t i = 0; i < c->system.hostname_sources.n && !found; i++)
			found = hostname_from(c->system.hostname_sources.items[i], name,
			                      sizeof name) == 0;
		if (!found) {
			snprintf(why, whylen, "system detector: no hostname source answered");
			return OTF_E_NOT_FOUND;
		}
		rc = add(out, arena, KEY("host.name"), bdup(arena, name, strlen(name)));
	}
	if (!rc && otf__rd_on(en->os_type, true))
		rc = add(out, arena, KEY("os.type"), bdup(arena, "linux", 5));
	if (!rc && otf__rd_on(en->host_id, false)) {
		char id[128];
		if (machine_id(id, sizeof id)) {
			snprintf(why, whylen, "system detector: host.id: no machine-id");
			return OTF_E_NOT_FOUND;
		}
		rc = add(out, arena, KEY("host.id"), bdup(arena, id, strlen(id)));
	}
	if (!rc && otf__rd_on(en->host_arch, false)) {
		struct utsname u;
		if (uname(&u)) {
			snprintf(why, whylen, "system detector: uname failed");
			return OTF_E_IO;
		}
		const char *a = arch_of(u.machine);
		rc = add(out, arena, KEY("host.arch"), bdup(arena, a, strlen(a)));
	}
	return rc;
}

int otf__rd_detect(const otf_rd_config_t *c, otf_arena_t *arena, otf_attributes_t *out, char *why,
                   size_t whylen)
{
	for (size_t i = 0; i < c->detectors.n; i++) {
		int rc = 0;
		if (c->detectors.kind[i] == OTF_RD_ENV)
			rc = otf__rd_parse_env(getenv("OTEL_RESOURCE_ATTRIBUTES"), arena, out, why,
			                       whylen);
		else if (c->detectors.kind[i] == OTF_RD_SYSTEM)
			rc = otf__rd_detect_system(c, arena, out, why, whylen);
		if (rc)
			return rc;
	}
	return 0;
}

int otf__rd_merge(otf_attributes_t *res, const otf_attributes_t *detected, bool override,
                  otf_arena_t *arena)
{
	size_t add_n = 0;
	bool changed = false;
	for (size_t i = 0; i < detected->len; i++) {
		const otf_key_value_t *d = &detected->items[i];
		otf_any_value_t *have = (otf_any_value_t *)find(res, d->key);
		if (!have) {
			add_n++;
		} else if (override) {
			*have = d->value;
			changed = true;
		}
	}
	if (add_n) {
		otf_key_value_t *n = otf_arena_alloc(arena, (res->len + add_n) * sizeof *n);
		if (!n)
			return OTF_E_NOMEM;
		if (res->len)
			memcpy(n, res->items, res->len * sizeof *n);
		size_t w = res->len;
		for (size_t i = 0; i < detected->len; i++) {
			otf_attributes_t old = {n, res->len};
			if (!find(&old, detected->items[i].key))
				n[w++] = detected->items[i];
		}
		res->items = n;
		res->len = w;
		changed = true;
	}
	return changed ? 1 : 0;
}

int otf__rd_edit_prepare(otf_pdata_edit_t *e, const otf_attributes_t *detected, bool override)
{
	if (!detected->len || detected->len > OTF_PDATA_EDIT_MAX_OPS)
		return OTF_E_INVAL;
	otf_pdata_edit_op_t ops[OTF_PDATA_EDIT_MAX_OPS];
	for (size_t i = 0; i < detected->len; i++)
		ops[i] = (otf_pdata_edit_op_t){.kind = override ? OTF_EDIT_UPSERT : OTF_EDIT_INSERT,
		                               .key = detected->items[i].key,
		                               .value = detected->items[i].value};
	return otf_pdata_edit_prepare(e, ops, detected->len, OTF_EDIT_RESOURCE);
}
