/* otf_node_send_acked: a message answered upstream while it travels on
 * (the ack node's ingress mode); otf_node_send_detached: the same cut of
 * the subscription stack, answered later by the sender (deadline). Before, the ack node made a message of
 * its own per message (allocation, envelope copy, a source id) because an
 * outcome releases the message it answers; here the upstream part of the
 * subscription stack is cut off and answered from a stack copy instead,
 * and the message itself goes on. */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <string.h>

/* The common case: a subscriber takes the ACK (no join to answer). Its
 * control signal is built after the send, in the subscriber's queue slot
 * (or, when that subscriber's own send is still running, as that send's
 * answer: otf_node_send_watched), as settle would have; the frames from
 * it down are m's no more. Only frame 0 is overwritten (by node's
 * subscription) and restored when the send fails. */
static int send_then_post(otf_node_t *node, otf_msg_t *m, uint32_t at, uint32_t interests,
                          uint64_t calldata)
{
	uint32_t n = m->nframes;
	const otf_msg_frame_t f0 = m->frames[0], fa = m->frames[at];
	const otf_msg_frame_t *f = &fa;
	uint64_t id = m->id, items = m->items;
	otf_signal_t s = m->signal;
	/* Taken now: on a fused edge m may be answered and freed before the
	 * send returns. */
	otf_buf_t *payload =
	    (f->interests & OTF_INTEREST_RETURN_PAYLOAD) ? otf_buf_ref(m->payload) : NULL;
	m->nframes = 0;
	if (interests)
		otf_msg_subscribe(m, node, interests, calldata); /* cannot fail: no frames */
	int rc = otf_node_send(node, m);
	if (rc) {
		m->frames[0] = f0;
		m->nframes = n;
		otf_buf_unref(payload);
		return rc;
	}
	otf__watch_t *k = (f->interests & OTF__INTEREST_WATCHED) && f->node->worker->watch
	                      ? otf__watch_find(m, f, at)
	                      : NULL;
	otf_ctrl_t tmp;
	otf_ctrl_t *c = k ? k->out : otf__node_ctrl_slot(f->node);
	if (!c)
		c = &tmp; /* filled below, then posted as a copy */
	otf__ctrl_clear(c, true);
	c->type = OTF_CTRL_ACK;
	c->msg_id = id;
	c->calldata = f->calldata;
	c->instance_gen = f->gen + 1;
	c->signal = s;
	c->items = items;
	c->payload = payload;
	if (k) {
		k->caught = true;
		otf__node_tally(f->node, OTF_COUNTER_ACKS, s, 1);
	} else if (c != &tmp) {
		otf__node_ctrl_commit(f->node);
	} else {
		otf__node_post_ctrl(f->node, &tmp);
	}
	return 0;
}

int otf_node_send_acked(otf_node_t *node, otf_msg_t *m, uint32_t interests, uint64_t calldata)
{
	uint32_t n = m->nframes;
	int64_t at = -1; /* the frame the ACK reaches, as settle finds it */
	for (uint32_t k = n; k-- > 0;) {
		uint32_t in = m->frames[k].interests;
		if (!(in & OTF_INTEREST_ACK))
			continue;
		/* The subscriber the ACK reaches wants the message back: it
		 * cannot have it while it travels on. */
		if (in & OTF_INTEREST_RETURN_MSG)
			return OTF_E_UNSUPPORTED;
		at = k;
		break;
	}
	/* An ACK that passes answers the frames below it too: settle's walk
	 * (the shell below) does that. */
	if (at >= 0 && !m->child && !(m->frames[at].interests & OTF_INTEREST_ACK_PASSES))
		return send_then_post(node, m, (uint32_t)at, interests, calldata);
	bool want_payload = at >= 0 && (m->frames[at].interests & OTF_INTEREST_RETURN_PAYLOAD);
	/* The answering part: what settle reads (frames, join, id, signal,
	 * items, the payload if the subscriber asked for it). */
	otf_msg_t shell;
	memset(&shell, 0, offsetof(otf_msg_t, frames));
	shell.id = m->id;
	shell.signal = m->signal;
	shell.items = m->items;
	shell.worker = m->worker;
	shell.nframes = n;
	memcpy(shell.frames, m->frames, n * sizeof *m->frames);
	shell.join = m->join;
	shell.join_index = m->join_index;
	shell.payload = want_payload ? otf_buf_ref(m->payload) : NULL;
	bool child = m->child;
	/* m goes on as a message of its own: no frames below, no join, not a
	 * fan-out copy any more (the shell answers for that). */
	m->nframes = 0;
	m->join = NULL;
	if (child) {
		m->child = false;
		m->worker->live_children--;
	}
	if (interests)
		otf_msg_subscribe(m, node, interests, calldata); /* cannot fail: no frames */
	int rc = otf_node_send(node, m);
	if (rc) {
		/* Nothing was sent: m is the caller's again, as it came. */
		memcpy(m->frames, shell.frames, n * sizeof *m->frames);
		m->nframes = n;
		m->join = shell.join;
		if (child) {
			m->child = true;
			m->worker->live_children++;
		}
		otf_buf_unref(shell.payload);
		return rc;
	}
	otf__msg_settle_shell(&shell);
	return 0;
}

/* The detached part is a message shell in the caller's storage: what
 * settle and otf_msg_queued read (frames, join and join_index, id,
 * signal, items, worker, a payload reference when a subscriber below
 * asked for it), settled with settle's shell rule; its other fields are
 * never set nor read. */
struct otf_msg_upstream {
	otf_msg_t shell;
};

size_t otf_msg_upstream_size(void)
{
	return sizeof(struct otf_msg_upstream);
}

/* A watched send (otf_node_send_watched): node's frame is m's top one
 * (just pushed); the watch lives on the caller's stack while the send
 * runs, innermost first, and settle (msg.c) answers it instead of posting
 * when the outcome reaches that frame during the send. */
static inline void watch_arm(otf__watch_t *k, otf_node_t *node, const otf_msg_t *m, otf_ctrl_t *out)
{
	otf_worker_t *w = node->worker;
	k->node = node;
	k->msg = m;
	k->frame = m->nframes - 1;
	k->caught = false;
	k->out = out;
	k->outer = w->watch;
	w->watch = k;
}

static inline int watch_disarm(otf__watch_t *k, int rc)
{
	k->node->worker->watch = k->outer;
	/* A send that failed sent nothing, so nothing can have answered. */
	return !rc && k->caught ? OTF_SENT_ANSWERED : rc;
}

int otf_node_send_watched(otf_node_t *node, otf_msg_t *m, uint32_t interests, uint64_t calldata,
                          otf_ctrl_t *out)
{
	if (m->nframes == OTF_MSG_MAX_FRAMES)
		return OTF_E_NOSPACE;
	otf_msg_frame_t *f = &m->frames[m->nframes++];
	f->node = node;
	f->interests = interests | OTF__INTEREST_WATCHED;
	f->calldata = calldata;
	f->gen = node->cur_gen;
	otf__watch_t k;
	watch_arm(&k, node, m, out);
	int rc = watch_disarm(&k, otf_node_send(node, m));
	if (rc < 0)
		m->nframes--; /* nothing sent: m as it came */
	return rc;
}

static int send_detached(otf_node_t *node, otf_msg_t *m, uint32_t interests, uint64_t calldata,
                         void *storage, otf_msg_upstream_t **up, otf_ctrl_t *out);

int otf_node_send_detached(otf_node_t *node, otf_msg_t *m, uint32_t interests, uint64_t calldata,
                           void *storage, otf_msg_upstream_t **up)
{
	return send_detached(node, m, interests, calldata, storage, up, NULL);
}

int otf_node_send_detached_watched(otf_node_t *node, otf_msg_t *m, uint32_t interests,
                                   uint64_t calldata, void *storage, otf_msg_upstream_t **up,
                                   otf_ctrl_t *out)
{
	return send_detached(node, m, interests, calldata, storage, up, out);
}

static int send_detached(otf_node_t *node, otf_msg_t *m, uint32_t interests, uint64_t calldata,
                         void *storage, otf_msg_upstream_t **up, otf_ctrl_t *out)
{
	uint32_t n = m->nframes;
	bool want_payload = false;
	/* The frames an ACK and a NACK reach must not want the message back:
	 * a shell has none to give (settle's shell rule). */
	bool acked = false, nacked = false;
	for (uint32_t k = n; k-- > 0 && !(acked && nacked);) {
		uint32_t in = m->frames[k].interests;
		bool a = !acked && (in & OTF_INTEREST_ACK), x = !nacked && (in & OTF_INTEREST_NACK);
		if ((a || x) && (in & OTF_INTEREST_RETURN_MSG))
			return OTF_E_UNSUPPORTED;
		if ((a || x) && (in & OTF_INTEREST_RETURN_PAYLOAD))
			want_payload = true;
		acked = acked || a;
		nacked = nacked || x;
	}
	otf_msg_upstream_t *u = storage;
	otf_msg_t *shell = &u->shell;
	/* Only what the part's readers use (struct otf_msg_upstream): once
	 * per message, no memset of the whole envelope. */
	shell->id = m->id;
	shell->signal = m->signal;
	shell->items = m->items;
	shell->worker = m->worker;
	shell->nframes = n;
	for (uint32_t k = 0; k < n; k++)
		shell->frames[k] = m->frames[k];
	shell->join = m->join;
	shell->join_index = m->join_index;
	shell->child = false;
	/* Taken now: on a fused edge m may be answered and freed before the
	 * send returns. */
	shell->payload = want_payload && m->payload ? otf_buf_ref(m->payload) : NULL;
	bool child = m->child;
	m->nframes = 0;
	m->join = NULL;
	m->child = false;
	if (interests) { /* m's only frame: otf_msg_subscribe's, which cannot fail */
		otf_msg_frame_t *f = &m->frames[0];
		f->node = node;
		f->interests = interests & ~OTF__INTEREST_WATCHED;
		f->calldata = calldata;
		f->gen = node->cur_gen;
		m->nframes = 1;
	}
	int rc;
	if (out && interests) {
		otf__watch_t k;
		m->frames[0].interests |= OTF__INTEREST_WATCHED;
		watch_arm(&k, node, m, out);
		rc = watch_disarm(&k, otf_node_send(node, m));
	} else {
		rc = otf_node_send(node, m);
	}
	if (rc < 0) {
		for (uint32_t k = 0; k < n; k++)
			m->frames[k] = shell->frames[k];
		m->nframes = n;
		m->join = shell->join;
		m->child = child;
		otf_buf_unref(shell->payload);
		return rc;
	}
	/* m is no fan-out copy any more: the part answers its join. */
	if (child)
		shell->worker->live_children--;
	*up = u;
	return rc;
}

void otf_msg_upstream_ack(otf_msg_upstream_t *up)
{
	otf__msg_settle_shell(&up->shell);
}

void otf_msg_upstream_nack(otf_msg_upstream_t *up, int error, bool permanent,
                           uint64_t retry_after_ns, const char *reason)
{
	otf__msg_settle_shell_nack(&up->shell, error ? error : OTF_E_IO, permanent, retry_after_ns,
	                           reason);
}

void otf_msg_upstream_queued(otf_msg_upstream_t *up)
{
	otf_msg_queued(&up->shell);
}

void otf_msg_upstream_discard(otf_msg_upstream_t *up)
{
	otf_msg_t *shell = &up->shell;
	otf_buf_unref(shell->payload);
	otf_join_t *j = shell->join;
	if (j && --j->pending == 0) {
		otf_msg_t *parent = j->parent; /* NULL when its policy answered it */
		otf_free(j);
		if (parent)
			otf__msg_discard(parent);
	}
}
