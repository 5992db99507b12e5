/* Splitting in the routing core (router.h): a request whose units go to
 * several routes is sliced into one request per route by copying byte
 * ranges (never decoded and re-encoded); each part is a message of the
 * node's own, and the original's outcome joins theirs. */
#include "router_internal.h"
#include "pdata/pb_varint.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A MIXED unit's part for route: the Resource* content made of its
 * resource (1) and schema_url (3) fields and the scopes of that route.
 * dst NULL: only the content's size. Unknown fields are not carried. */
static size_t mixed_part(const unit_t *u, int route, uint8_t *dst)
{
	size_t len = 0;
	otf_bytes_t c, raw;
	otf_view_iter_t it;
	static const uint32_t fields[] = {1, 3};
	for (size_t f = 0; f < 2; f++) {
		otf_view_iter_init(&it, u->content, fields[f]);
		while (otf_view_iter_next_raw(&it, &c, &raw) > 0) {
			if (dst)
				memcpy(dst + len, raw.ptr, raw.len);
			len += raw.len;
		}
	}
	otf_view_iter_init(&it, u->content, 2);
	for (size_t i = 0; i < u->nscopes && otf_view_iter_next_raw(&it, &c, &raw) > 0; i++) {
		if (u->scope_routes[i] != route)
			continue;
		if (dst)
			memcpy(dst + len, raw.ptr, raw.len);
		len += raw.len;
	}
	return len;
}

static bool unit_has(const unit_t *u, int route)
{
	if (u->route != ROUTE_MIXED)
		return u->route == route;
	for (size_t i = 0; i < u->nscopes; i++)
		if (u->scope_routes[i] == route)
			return true;
	return false;
}

/* The request for route: every unit's bytes of that route, in order. */
static otf_buf_t *build_part(const unit_t *units, size_t nunits, int route)
{
	size_t total = 0;
	for (size_t i = 0; i < nunits; i++) {
		const unit_t *u = &units[i];
		if (u->route == route) {
			total += u->raw.len;
		} else if (u->route == ROUTE_MIXED && unit_has(u, route)) {
			size_t c = mixed_part(u, route, NULL);
			total += 1 + otf__pb_varint_len(c) + c;
		}
	}
	otf_buf_t *b = otf_buf_create(total ? total : 1);
	if (!b)
		return NULL;
	uint8_t *p = b->data;
	for (size_t i = 0; i < nunits; i++) {
		const unit_t *u = &units[i];
		if (u->route == route) {
			memcpy(p, u->raw.ptr, u->raw.len);
			p += u->raw.len;
		} else if (u->route == ROUTE_MIXED && unit_has(u, route)) {
			size_t c = mixed_part(u, route, NULL);
			*p++ = 0x0a; /* field 1 (resource_*), length-delimited */
			p = otf__pb_varint_put(p, c);
			p += mixed_part(u, route, p);
		}
	}
	b->len = (size_t)(p - b->data);
	return b;
}

static void join_fail(join_t *j, int error, bool permanent, const char *reason)
{
	j->failures++;
	j->permanent_failures += permanent;
	if (!j->error || !permanent) {
		j->error = error;
		snprintf(j->reason, sizeof j->reason, "%s", reason);
	}
}

static void join_settle(otf__cr_t *r, join_t *j)
{
	if (--j->pending)
		return;
	bool permanent = j->permanent_failures == j->failures;
	if (j->failures && !permanent && j->retry_after_ns)
		otf_msg_nack_throttled(j->orig, j->error, j->retry_after_ns, j->reason);
	else if (j->failures)
		otf_msg_nack(j->orig, j->error, permanent, j->reason);
	else
		otf_msg_ack(j->orig);
	if (j->prev)
		j->prev->next = j->next;
	else
		r->joins = j->next;
	if (j->next)
		j->next->prev = j->prev;
	otf_free(j);
}

/* Sends one message per route that received data; the original waits. */
void otf__cr_split(otf__cr_t *r, otf_msg_t *m, const unit_t *units, size_t nunits)
{
	otf_buf_t *parts[OTF_CR_MAX_ROUTES + 1] = {NULL};
	for (int route = ROUTE_DEFAULT; route < (int)r->n; route++) {
		bool any = false;
		for (size_t i = 0; i < nunits && !any; i++)
			any = unit_has(&units[i], route);
		if (any && !(parts[route + 1] = build_part(units, nunits, route))) {
			for (int k = 0; k <= route; k++)
				otf_buf_unref(parts[k]);
			otf_msg_nack(m, OTF_E_NOMEM, false, "content_router: out of memory");
			return;
		}
	}
	otf__cr_send_parts(r, m, parts);
}

void otf__cr_send_parts(otf__cr_t *r, otf_msg_t *m, otf_buf_t **parts)
{
	otf_signal_t s = otf_msg_signal(m);
	join_t *j = otf_calloc(1, sizeof *j);
	if (!j) {
		for (size_t k = 0; k <= r->n; k++)
			otf_buf_unref(parts[k]);
		otf_msg_nack(m, OTF_E_NOMEM, false, "content_router: out of memory");
		return;
	}
	j->orig = m;
	j->pending = 1; /* held until every part is out */
	j->next = r->joins;
	if (r->joins)
		r->joins->prev = j;
	r->joins = j;
	for (int route = ROUTE_DEFAULT; route < (int)r->n; route++) {
		otf_buf_t *b = parts[route + 1];
		if (!b)
			continue;
		int port = otf__cr_port_of(r, route, s);
		bool dropped = port < 0 && route == ROUTE_DEFAULT && r->drops;
		if (port < 0 && !dropped) {
			otf_buf_unref(b);
			join_fail(j, OTF_E_NOT_FOUND, true, "content_router: no route wired");
			continue;
		}
		otf_view_counts_t cnt = {0};
		otf_view_count(s, b->data, b->len, &cnt);
		if (dropped) {
			otf__cr_drop(r, s, cnt.records);
			otf_buf_unref(b);
			continue;
		}
		otf_msg_t *part = otf_msg_create(r->node, s, b, cnt.records);
		if (!part || otf_msg_copy_envelope(part, m) ||
		    otf_msg_add_source(part, otf_msg_id(m)) ||
		    otf_msg_subscribe(part, r->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK,
		                      (uint64_t)(uintptr_t)j)) {
			if (part)
				otf_msg_drop(part);
			join_fail(j, OTF_E_NOMEM, false, "content_router: out of memory");
			continue;
		}
		int rc = otf_node_send_port(r->node, port, part);
		if (rc) {
			otf_msg_drop(part);
			join_fail(j, rc, false,
			          rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
			continue;
		}
		j->pending++;
	}
	join_settle(r, j);
}

void otf__cr_control(otf__cr_t *r, const otf_ctrl_t *c)
{
	if (c->type == OTF_CTRL_ACK || c->type == OTF_CTRL_NACK) {
		join_t *j = (join_t *)(uintptr_t)c->calldata;
		if (j) {
			if (c->type == OTF_CTRL_NACK) {
				join_fail(j, c->error, c->permanent, c->reason);
				/* A part a server throttled: the original is retried
				 * no sooner, as a fan-out join does. */
				if (c->retry_after_ns > j->retry_after_ns)
					j->retry_after_ns = c->retry_after_ns;
			}
			join_settle(r, j);
		}
	} else if (c->type == OTF_CTRL_KIL) {
		otf_node_shutdown_done(r->node);
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}
