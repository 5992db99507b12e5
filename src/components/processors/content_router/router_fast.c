/* The fast path of the routing core (router.h): every resource of a
 * request evaluated by the routes' fast set (otf_ottl_fast_set_t) on its
 * encoded bytes, no decode, no allocation; the general path
 * (router_eval.c) for anything else. */
#include "router_internal.h"

#include <stdint.h>
#include <string.h>

/* otf_view_ld_field with lengths of up to 4 varint bytes read without its
 * loop: the *Data and Resource* groups are the request's big fields (a
 * 340 kB ScopeLogs is a 3-byte length), walked once per message. Same
 * results: anything else is the view function's. (A branchless read of
 * the four bytes as one word was more instructions: these branches are
 * predicted, one request shape follows another.) */
static inline uint32_t ld_field(const uint8_t **pp, const uint8_t *end, size_t *len)
{
	const uint8_t *p = *pp;
	if (end - p < 5 || (p[0] & 0x87) != 0x02)
		return otf_view_ld_field(pp, end, len);
	uint64_t n = p[1];
	size_t k = 2;
	if (n & 0x80) {
		n = (n & 0x7f) | (uint64_t)(p[2] & 0x7f) << 7;
		k = 3;
		if (p[2] & 0x80) {
			n |= (uint64_t)(p[3] & 0x7f) << 14;
			k = 4;
			if (p[3] & 0x80) {
				if (p[4] & 0x80)
					return otf_view_ld_field(pp, end, len);
				n |= (uint64_t)p[4] << 21;
				k = 5;
			}
		}
	}
	if (n > (uint64_t)(end - p) - k)
		return 0;
	*len = (size_t)n;
	*pp = p + k;
	return (uint32_t)p[0] >> 3;
}

/* A Resource* group's head (field 1, the last one wins) as
 * otf_view_group_read finds it, read inline when every field has the
 * common shape; the view function otherwise. */
static int group_head(otf_bytes_t msg, otf_bytes_t *head)
{
	const uint8_t *p = msg.ptr, *end = msg.len ? msg.ptr + msg.len : p;
	*head = (otf_bytes_t){NULL, 0};
	while (p < end) {
		size_t n;
		uint32_t f = ld_field(&p, end, &n);
		if (!f) {
			otf_view_group_t g;
			int rc = otf_view_group_read(msg, &g);
			*head = g.head;
			return rc;
		}
		if (f == 1)
			*head = (otf_bytes_t){p, n};
		p += n;
	}
	return 0;
}

static const char *const k_no_headers[OTF_OTTL_FAST_SET_MAX_HEADERS];

/* The request's values of the set's headers equal the cached decision's. */
static bool cache_headers_same(const otf__cr_t *r, const char *const *hv)
{
	const fast_cache_t *c = &r->fcache;
	for (size_t k = 0; k < r->nhdr; k++) {
		const char *v = hv[k];
		if ((v != NULL) != c->hdr_present[k] || (v && strcmp(v, c->hdr_val[k])))
			return false;
	}
	return true;
}

/* Keeps route as the decision for head (its first used bytes, SIZE_MAX:
 * all of it) under the request's header values; false when they do not
 * fit (the cache is then empty). */
static bool cache_store(otf__cr_t *r, otf_bytes_t head, size_t used, int route,
                        const char *const *hv)
{
	fast_cache_t *c = &r->fcache;
	c->valid = c->layout = false;
	c->whole = used == SIZE_MAX;
	if (!c->whole)
		head.len = used;
	if (head.len > CACHE_HEAD_MAX || r->nhdr > CACHE_KEYS)
		return false;
	for (size_t k = 0; k < r->nhdr; k++) {
		const char *v = hv[k];
		size_t n = v ? strlen(v) : 0;
		if (n >= FAST_CACHE_HDR)
			return false;
		c->hdr_present[k] = v != NULL;
		memcpy(c->hdr_val[k], v ? v : "", n + 1);
	}
	if (head.len)
		memcpy(c->head, head.ptr, head.len);
	c->head_len = head.len;
	c->route = route;
	c->valid = true;
	return true;
}

/* The request d[0 .. n) is one Resource* group ending it, made of a head
 * (field 1) and one Scope* group (field 2) ending the group: *prefix is
 * the offset past that Scope* group's length. */
static bool one_group(const uint8_t *d, size_t n, size_t *prefix)
{
	const uint8_t *p = d, *end = d + n;
	size_t len;
	if (ld_field(&p, end, &len) != 1 || len != (size_t)(end - p))
		return false;
	if (ld_field(&p, end, &len) != 1)
		return false;
	p += len;
	if (ld_field(&p, end, &len) != 2 || len != (size_t)(end - p))
		return false;
	*prefix = (size_t)(p - d);
	return true;
}

/* Every resource evaluated by the fast conditions on its bytes (or its
 * route taken from the decision cache): when they all go to one route the
 * message is passed on and true is returned; false (nothing done) when
 * resources go to different routes or bytes are malformed: the general
 * path decides (and splits, or reports). */
static bool fast_consume(otf__cr_t *r, otf_msg_t *m)
{
	const otf_buf_t *payload = otf_msg_payload(m);
	const uint8_t *p = payload->data, *end = payload->data + payload->len;
	/* the request's headers: once per request, none to look for in a
	 * request without any. Such a request reads a constant array of
	 * NULLs: writing NULLs into r->hdr (a memset) just before reading
	 * them back stalled the load on the store (perf: half of this
	 * function's time). */
	const char *const *hv = k_no_headers;
	size_t nh = r->nhdr;
	if (nh && otf_msg_header_count(m) > 0) {
		for (size_t k = 0; k < nh; k++)
			r->hdr[k] = otf_msg_header_get(m, otf_ottl_fast_set_header_key(r->set, k));
		hv = r->hdr;
	}
	fast_cache_t *c = &r->fcache;
	/* the cached decision's headers are this request's (checked once) */
	bool hdr_same = c->valid && cache_headers_same(r, hv);
	int first = ROUTE_MIXED;
	if (hdr_same && c->layout && !c->rest && payload->len == c->req_len &&
	    !memcmp(p, c->req, c->req_prefix)) {
		first = c->route;
		c->misses = 0;
		p = end;
	}
	size_t groups = 0;
	bool stored = false;
	while (p < end) {
		/* *Data: resource_* = 1; any other shape is the general path's */
		size_t len;
		uint32_t field = ld_field(&p, end, &len);
		if (!field)
			return false;
		otf_bytes_t content = {p, len}, head;
		p += len;
		if (field != 1)
			continue;
		if (group_head(content, &head))
			return false;
		groups++;
		int route;
		if (c->rest) {
			size_t used; /* not kept: the cache is off */
			c->rest--;
			route = otf_ottl_fast_set_eval_used(r->set, head, hv, &used);
		} else if (hdr_same &&
		           (c->whole ? head.len == c->head_len : head.len >= c->head_len) &&
		           (!c->head_len || !memcmp(head.ptr, c->head, c->head_len))) {
			route = c->route;
			c->misses = 0;
		} else {
			size_t used;
			route = otf_ottl_fast_set_eval_used(r->set, head, hv, &used);
			if (route == OTF_OTTL_FAST_SET_UNSURE)
				return false;
			if (c->valid && ++c->misses >= FAST_CACHE_MISSES) {
				c->valid = hdr_same = false;
				c->misses = 0;
				c->rest = FAST_CACHE_REST;
			} else {
				hdr_same = stored = cache_store(r, head, used, route, hv);
			}
		}
		if (route == OTF_OTTL_FAST_SET_UNSURE)
			return false;
		if (route == OTF_OTTL_FAST_SET_NONE)
			route = ROUTE_DEFAULT;
		if (first == ROUTE_MIXED)
			first = route;
		else if (route != first)
			return false;
	}
	if (stored && groups == 1 && one_group(payload->data, payload->len, &c->req_prefix) &&
	    c->req_prefix <= sizeof c->req) {
		memcpy(c->req, payload->data, c->req_prefix);
		c->req_len = payload->len;
		c->layout = true;
	}
	int route = first == ROUTE_MIXED ? ROUTE_DEFAULT : first;
	if (route == OTF_OTTL_FAST_SET_NONE)
		route = ROUTE_DEFAULT;
	/* The port found before; PORT_UNKNOWN or -1 (nothing wired):
	 * otf__cr_pass_on finds it, or drops, or reports. */
	int port = r->port[otf_msg_signal(m)][route + 1];
	if (port < 0) {
		otf__cr_pass_on(r, m, route);
		return true;
	}
	int rc = otf_node_send_port(r->node, port, m);
	if (rc)
		otf__cr_nack_send(m, rc);
	return true;
}

/* The general path is in its own file (out of line), so that the fast
 * one does not pay for its frame (its buffers are most of a kilobyte of
 * stack). */
void otf__cr_consume(otf__cr_t *r, otf_msg_t *m)
{
	if (r->all_fast && fast_consume(r, m))
		return;
	otf__cr_general_consume(r, m);
}
