/* Messages: envelope (headers, deadline, subscription frames), refcounted
 * payload, ack/nack reverse propagation and fan-out joins. */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <string.h>

otf_msg_t *otf_msg_create(otf_node_t *node, otf_signal_t signal, otf_buf_t *payload, uint64_t items)
{
	otf_msg_t *m = otf_malloc(sizeof *m);
	if (!m) {
		otf_buf_unref(payload);
		return NULL;
	}
	memset(m, 0, offsetof(otf_msg_t, frames));
	m->join = NULL;
	m->worker = node->worker;
	m->id = ++node->worker->next_msg_id;
	m->signal = signal;
	m->payload = payload;
	m->items = items;
	node->worker->live_msgs++;
	return m;
}

uint64_t otf_msg_id(const otf_msg_t *m)
{
	return m->id;
}

otf_signal_t otf_msg_signal(const otf_msg_t *m)
{
	return m->signal;
}

otf_buf_t *otf_msg_payload(const otf_msg_t *m)
{
	return m->payload;
}

uint64_t otf_msg_items(const otf_msg_t *m)
{
	return m->items;
}

uint64_t otf_msg_deadline(const otf_msg_t *m)
{
	return m->deadline;
}

void otf_msg_set_deadline(otf_msg_t *m, uint64_t unix_nano)
{
	m->deadline = unix_nano;
}

int otf_msg_header_add(otf_msg_t *m, const char *key, const char *value)
{
	if (m->headers_len == m->headers_cap) {
		uint32_t ncap = m->headers_cap ? m->headers_cap * 2 : 4;
		otf_msg_header_t *n = otf_realloc(m->headers, ncap * sizeof *n);
		if (!n)
			return OTF_E_NOMEM;
		m->headers = n;
		m->headers_cap = ncap;
	}
	char *k = otf_strndup(key, strlen(key));
	char *v = otf_strndup(value, strlen(value));
	if (!k || !v) {
		otf_free(k);
		otf_free(v);
		return OTF_E_NOMEM;
	}
	m->headers[m->headers_len].key = k;
	m->headers[m->headers_len].value = v;
	m->headers_len++;
	return 0;
}

const char *otf_msg_header_get(const otf_msg_t *m, const char *key)
{
	for (uint32_t i = 0; i < m->headers_len; i++)
		if (!strcasecmp(m->headers[i].key, key))
			return m->headers[i].value;
	return NULL;
}

int otf_msg_subscribe(otf_msg_t *m, otf_node_t *node, uint32_t interests, uint64_t calldata)
{
	if (m->nframes == OTF_MSG_MAX_FRAMES)
		return OTF_E_NOSPACE;
	m->frames[m->nframes].node = node;
	m->frames[m->nframes].interests = interests;
	m->frames[m->nframes].calldata = calldata;
	m->nframes++;
	return 0;
}

void otf__msg_free(otf_msg_t *m)
{
	for (uint32_t i = 0; i < m->headers_len; i++) {
		otf_free(m->headers[i].key);
		otf_free(m->headers[i].value);
	}
	otf_free(m->headers);
	otf_buf_unref(m->payload);
	m->worker->live_msgs--;
	if (m->child)
		m->worker->live_children--;
	otf_free(m);
}

void otf__msg_discard(otf_msg_t *m)
{
	while (m) {
		otf_join_t *j = m->join;
		otf__msg_free(m);
		m = NULL;
		if (j && --j->pending == 0) {
			m = j->parent;
			otf_free(j);
		}
	}
}

otf_msg_t *otf__msg_clone_for_fanout(otf_msg_t *parent, otf_join_t *join)
{
	otf_msg_t *c = otf_malloc(sizeof *c);
	if (!c)
		return NULL;
	memset(c, 0, offsetof(otf_msg_t, frames));
	c->worker = parent->worker;
	c->id = ++parent->worker->next_msg_id;
	c->signal = parent->signal;
	c->payload = otf_buf_ref(parent->payload);
	c->items = parent->items;
	c->deadline = parent->deadline;
	c->join = join;
	c->child = true;
	parent->worker->live_msgs++;
	parent->worker->live_children++;
	for (uint32_t i = 0; i < parent->headers_len; i++) {
		if (otf_msg_header_add(c, parent->headers[i].key, parent->headers[i].value)) {
			c->join = NULL;
			otf__msg_free(c);
			return NULL;
		}
	}
	return c;
}

/* Unwinds the subscription stack to the nearest frame interested in this
 * outcome, posts the control signal there, and frees the message. */
static void settle(otf_msg_t *m, bool ok, int error, bool permanent, const char *reason)
{
	uint32_t want = ok ? OTF_INTEREST_ACK : OTF_INTEREST_NACK;
	while (m->nframes > 0) {
		otf_msg_frame_t *f = &m->frames[--m->nframes];
		if (!(f->interests & want))
			continue;
		otf_ctrl_t c;
		memset(&c, 0, sizeof c);
		c.type = ok ? OTF_CTRL_ACK : OTF_CTRL_NACK;
		c.msg_id = m->id;
		c.calldata = f->calldata;
		c.signal = m->signal;
		c.items = m->items;
		if (f->interests & OTF_INTEREST_RETURN_PAYLOAD)
			c.payload = otf_buf_ref(m->payload);
		if (!ok) {
			c.error = error;
			c.permanent = permanent;
			if (reason)
				snprintf(c.reason, sizeof c.reason, "%s", reason);
		}
		otf__node_post_ctrl(f->node, &c);
		otf__msg_free(m);
		return;
	}
	otf_join_t *j = m->join;
	otf__msg_free(m);
	if (!j)
		return;
	/* A fan-out child: the parent is answered when the last child is; one
	 * failure fails the parent (the first reason is kept). */
	if (!ok && !j->failed) {
		j->failed = true;
		j->permanent = permanent;
		j->error = error;
		snprintf(j->reason, sizeof j->reason, "%s", reason ? reason : "");
	}
	if (--j->pending == 0) {
		otf_msg_t *p = j->parent;
		if (j->failed)
			settle(p, false, j->error, j->permanent, j->reason);
		else
			settle(p, true, 0, false, NULL);
		otf_free(j);
	}
}

void otf_msg_ack(otf_msg_t *m)
{
	settle(m, true, 0, false, NULL);
}

void otf_msg_nack(otf_msg_t *m, int error, bool permanent, const char *reason)
{
	settle(m, false, error, permanent, reason);
}

void otf_msg_drop(otf_msg_t *m)
{
	if (m->join) {
		/* A fan-out child must still answer its join, or the parent
		 * would wait forever. */
		m->nframes = 0;
		settle(m, false, OTF_E_IO, false, "message dropped");
		return;
	}
	otf__msg_free(m);
}
