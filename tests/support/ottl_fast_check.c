/* See ottl_fast_check.h. */
#include "ottl_fast_check.h"

#include "otflow/arena.h"
#include "otflow/ottl.h"
#include "otflow/pdata_codec.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const ottl_fast_conds[] = {
    "attributes[\"service.name\"] == \"checkout\"",
    "attributes[\"service.name\"] != \"checkout\"",
    "\"checkout\" == attributes[\"service.name\"]",
    "attributes[\"tenant\"] == nil",
    "attributes[\"tenant\"] != nil",
    "nil == attributes[\"tenant\"]",
    "attributes[\"k\"] == \"\"",
    "attributes[\"\"] == \"x\"",
    "attributes[\"k\"] == \"x\"",
    "request[\"X-Tenant\"] == \"acme\"",
    "request[\"x-tenant\"] != \"acme\"",
    "request[\"X-Tenant\"] == nil",
    "request[\"X-Tenant\"] == \"\"",
    "request[\"X-Other\"] != nil",
    "attributes[\"tenant\"] == \"acme\" and request[\"X-Tenant\"] == \"acme\"",
    "attributes[\"tenant\"] == \"acme\" or request[\"X-Tenant\"] == \"acme\"",
    "attributes[\"tenant\"] == \"acme\" or not (attributes[\"k\"] == \"x\")",
    "not attributes[\"service.name\"] == \"checkout\"",
    "not (request[\"X-Tenant\"] == \"acme\" and attributes[\"tenant\"] != nil)",
    ("(attributes[\"k\"] == \"x\" or attributes[\"k\"] == \"\") and "
     "(request[\"X-Tenant\"] != \"other\" or attributes[\"service.name\"] == \"acme\")"),
    "true",
    "false",
    "true and attributes[\"k\"] != \"x\"",
    "false or request[\"X-Tenant\"] == \"acme\"",
    "attributes[\"" OTTL_FAST_LONG "\"] == \"checkout\"",
    "attributes[\"service.name\"] == \"" OTTL_FAST_LONG "\"",
};
const size_t ottl_fast_conds_len = sizeof ottl_fast_conds / sizeof ottl_fast_conds[0];

static const char *const k_hdrs[][7] = {
    {NULL},
    {"X-Tenant", "acme", NULL},
    {"x-tenant", "acme", NULL},
    {"X-Tenant", "other", "X-Other", "1", NULL},
    {"X-Tenant", "", NULL},
    {"X-Other", "acme", "X-Tenant", "acme", NULL},
};
const size_t ottl_fast_hdr_sets_len = sizeof k_hdrs / sizeof k_hdrs[0];

static otf_ottl_program_t *g_prog;
static otf_ottl_fast_t *g_fast[64];

static const char *hdr(const void *user, const char *key)
{
	const char *const *kv = user;
	for (size_t i = 0; kv[i]; i += 2)
		if (!strcasecmp(kv[i], key))
			return kv[i + 1];
	return NULL;
}

static void setup(void)
{
	if (!g_prog) {
		otf_ottl_error_t oe;
		if (otf_ottl_compile_conditions(&g_prog, OTF_OTTL_CTX_RESOURCE, ottl_fast_conds,
		                                ottl_fast_conds_len, &oe)) {
			fprintf(stderr, "condition %zu: %s\n", oe.index, oe.msg);
			abort();
		}
		for (size_t i = 0; i < ottl_fast_conds_len; i++)
			if (otf_ottl_fast_compile(g_prog, i, &g_fast[i]))
				abort();
	}
}

/* The tree's answer for condition c: 1, 0, negative on an error; the
 * decoder's code when it refuses the bytes (*refused set). */
static int tree_eval(size_t c, size_t h, const uint8_t *resource, size_t len, bool *refused)
{
	otf_arena_t a;
	otf_arena_init(&a, 4096);
	otf_resource_t res;
	int rc = otf_pdata_decode_resource(&res, resource, len, &a, NULL);
	int tree = rc;
	*refused = rc != 0;
	if (!rc) {
		otf_ottl_record_t rec;
		memset(&rec, 0, sizeof rec);
		otf_bytes_t url = {NULL, 0};
		rec.resource = &res;
		rec.resource_schema_url = &url;
		rec.arena = &a;
		rec.request_header = hdr;
		rec.request_user = k_hdrs[h];
		otf_ottl_error_t oe;
		tree = otf_ottl_eval_condition(g_prog, c, &rec, &oe);
	}
	otf_arena_close(&a);
	return tree;
}

int ottl_fast_set_check(const size_t *conds, size_t n, size_t h, const uint8_t *resource,
                        size_t len, char *diff, size_t difflen)
{
	setup();
	h %= ottl_fast_hdr_sets_len;
	const otf_ottl_fast_t *f[8];
	if (n > 8)
		n = 8;
	for (size_t i = 0; i < n; i++)
		if (!(f[i] = g_fast[conds[i] % ottl_fast_conds_len]))
			return FAST_SAME;
	otf_ottl_fast_set_t *s;
	if (otf_ottl_fast_set_create(f, n, &s) || !s)
		abort();
	const char *vals[OTF_OTTL_FAST_SET_MAX_HEADERS] = {0};
	for (size_t k = 0; k < otf_ottl_fast_set_header_count(s); k++)
		vals[k] = hdr(k_hdrs[h], otf_ottl_fast_set_header_key(s, k));
	size_t used;
	int fast = otf_ottl_fast_set_eval_used(s, (otf_bytes_t){resource, len}, vals, &used);
	if (fast != otf_ottl_fast_set_eval(s, (otf_bytes_t){resource, len}, vals))
		abort();
	/* The answer depends on the first `used` bytes alone: the same on
	 * those bytes cut there, and followed by bytes no walk accepts. */
	if (fast != OTF_OTTL_FAST_SET_UNSURE && used != SIZE_MAX) {
		static const uint8_t junk[] = {0xff, 0xff, 0x0a, 0x7f, 0x12};
		uint8_t buf[4096 + sizeof junk];
		int cut = -3, more = -3;
		if (used > len)
			abort();
		if (used + sizeof junk <= sizeof buf) {
			if (used)
				memcpy(buf, resource, used);
			memcpy(buf + used, junk, sizeof junk);
			cut =
			    otf_ottl_fast_set_eval(s, (otf_bytes_t){used ? buf : NULL, used}, vals);
			more =
			    otf_ottl_fast_set_eval(s, (otf_bytes_t){buf, used + sizeof junk}, vals);
		}
		if (cut != -3 && (cut != fast || more != fast)) {
			otf_ottl_fast_set_destroy(s);
			snprintf(diff, difflen,
			         "set answer %d on %zu bytes depends on more than its %zu used: %d "
			         "cut there, %d with junk after",
			         fast, len, used, cut, more);
			return FAST_DIFFERENT;
		}
	}
	otf_ottl_fast_set_destroy(s);
	int tree = OTF_OTTL_FAST_SET_NONE;
	for (size_t i = 0; i < n; i++) {
		bool refused;
		int rc = tree_eval(conds[i] % ottl_fast_conds_len, h, resource, len, &refused);
		if (refused)
			return FAST_SAME; /* the tree's to report, as below */
		if (rc < 0) {
			tree = OTF_OTTL_FAST_SET_UNSURE;
			break;
		}
		if (rc == 1) {
			tree = (int)i;
			break;
		}
	}
	if (tree == fast)
		return FAST_SAME;
	int at = snprintf(diff, difflen, "set of");
	for (size_t i = 0; i < n && at > 0 && (size_t)at < difflen; i++)
		at += snprintf(diff + at, difflen - (size_t)at, " [%s]",
		               ottl_fast_conds[conds[i] % ottl_fast_conds_len]);
	if (at > 0 && (size_t)at < difflen)
		snprintf(diff + at, difflen - (size_t)at, ", header set %zu: fast %d, tree %d", h,
		         fast, tree);
	return FAST_DIFFERENT;
}

int ottl_fast_check(size_t c, size_t h, const uint8_t *resource, size_t len, char *diff,
                    size_t difflen)
{
	setup();
	c %= ottl_fast_conds_len;
	h %= ottl_fast_hdr_sets_len;
	const otf_ottl_fast_t *f = g_fast[c];
	if (!f)
		return FAST_NOT_FAST;
	const char *vals[8] = {0};
	for (size_t k = 0; k < otf_ottl_fast_header_count(f) && k < 8; k++)
		vals[k] = hdr(k_hdrs[h], otf_ottl_fast_header_key(f, k));
	int fast = otf_ottl_fast_eval(f, (otf_bytes_t){resource, len}, vals);
	bool refused;
	int tree = tree_eval(c, h, resource, len, &refused);
	/* The decoder's refusals are the tree's to report (the router asks it
	 * when the fast form is unsure; receivers validate before routers). */
	if (refused || tree == fast)
		return FAST_SAME;
	snprintf(diff, difflen, "condition %s, header set %zu: fast %d, tree %d",
	         ottl_fast_conds[c], h, fast, tree);
	return FAST_DIFFERENT;
}
