/* Messages: envelope (headers, deadline, subscription frames), refcounted
 * payload, ack/nack reverse propagation and fan-out joins. */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

/* Message ids are unique per process, not per worker, so that a message
 * can be followed across workers, logs and outcomes. Each worker takes a
 * block of ids at a time, so the shared counter is touched once per block
 * rather than once per message. */
#define ID_BLOCK 4096u
static _Atomic uint64_t g_next_id_block;

static uint64_t next_id(struct otf_worker *w)
{
	if (w->next_msg_id == w->msg_id_limit) {
		uint64_t b = atomic_fetch_add_explicit(&g_next_id_block, 1, memory_order_relaxed);
		w->next_msg_id = b * ID_BLOCK;
		w->msg_id_limit = w->next_msg_id + ID_BLOCK;
	}
	return ++w->next_msg_id; /* never 0: ids start at 1 in each block */
}

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
	m->id = next_id(node->worker);
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

int otf_msg_release_payload(otf_msg_t *m)
{
	/* A frame that gets the payload (or the whole message, to send it
	 * again) back with the outcome still needs the bytes. */
	for (uint32_t i = 0; i < m->nframes; i++)
		if (m->frames[i].interests &
		    (OTF_INTEREST_RETURN_PAYLOAD | OTF_INTEREST_RETURN_MSG))
			return OTF_E_UNSUPPORTED;
	otf_buf_unref(m->payload);
	m->payload = NULL;
	return 0;
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

size_t otf_msg_header_count(const otf_msg_t *m)
{
	return m->headers_len;
}

void otf_msg_header_at(const otf_msg_t *m, size_t i, const char **key, const char **value)
{
	*key = m->headers[i].key;
	*value = m->headers[i].value;
}

int otf_msg_add_source(otf_msg_t *m, uint64_t id)
{
	if (m->sources_len == m->sources_cap) {
		uint32_t ncap = m->sources_cap ? m->sources_cap * 2 : 4;
		uint64_t *n = otf_realloc(m->sources, ncap * sizeof *n);
		if (!n)
			return OTF_E_NOMEM;
		m->sources = n;
		m->sources_cap = ncap;
	}
	m->sources[m->sources_len++] = id;
	return 0;
}

int otf_msg_copy_envelope(otf_msg_t *dst, const otf_msg_t *src)
{
	dst->deadline = src->deadline;
	for (uint32_t i = 0; i < src->headers_len; i++)
		if (otf_msg_header_add(dst, src->headers[i].key, src->headers[i].value))
			return OTF_E_NOMEM;
	return 0;
}

size_t otf_msg_sources(const otf_msg_t *m, const uint64_t **ids)
{
	*ids = m->sources_len ? m->sources : NULL;
	return m->sources_len;
}

int otf_msg_add_source_slice(otf_msg_t *m, uint64_t id, uint64_t off, uint64_t len, uint64_t items)
{
	if (m->slices_len == m->slices_cap) {
		uint32_t ncap = m->slices_cap ? m->slices_cap * 2 : 4;
		otf_msg_slice_t *n = otf_realloc(m->slices, ncap * sizeof *n);
		if (!n)
			return OTF_E_NOMEM;
		m->slices = n;
		m->slices_cap = ncap;
	}
	if (otf_msg_add_source(m, id))
		return OTF_E_NOMEM;
	m->slices[m->slices_len++] = (otf_msg_slice_t){id, off, len, items};
	return 0;
}

size_t otf_msg_source_slices(const otf_msg_t *m, const otf_msg_slice_t **s)
{
	*s = m->slices_len ? m->slices : NULL;
	return m->slices_len;
}

int otf_msg_subscribe(otf_msg_t *m, otf_node_t *node, uint32_t interests, uint64_t calldata)
{
	if (m->nframes == OTF_MSG_MAX_FRAMES)
		return OTF_E_NOSPACE;
	m->frames[m->nframes].node = node;
	m->frames[m->nframes].interests = interests & ~OTF__INTEREST_WATCHED;
	m->frames[m->nframes].calldata = calldata;
	m->frames[m->nframes].gen = node->cur_gen;
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
	otf_free(m->sources);
	otf_free(m->slices);
	otf_buf_unref(m->payload);
	m->worker->live_msgs--;
	if (m->child)
		m->worker->live_children--;
	otf_free(m);
}

static void settle(otf_msg_t *m, bool ok, int error, bool permanent, const char *reason,
                   uint64_t retry_after_ns);

int otf_msg_unsubscribe(otf_msg_t *m, otf_node_t *node)
{
	if (!m->nframes || m->frames[m->nframes - 1].node != node)
		return OTF_E_NOT_FOUND;
	m->nframes--;
	return 0;
}

void otf__msg_expire(otf_msg_t *m, int error, const char *reason)
{
	/* A shell takes over the answering part (frames, join, the fan-out
	 * child's accounting) and is settled as usual; m keeps its payload,
	 * headers and sources for the holder. */
	otf_msg_t *shell = otf_malloc(sizeof *shell);
	if (!shell)
		return; /* m stays unanswered, as it was */
	memcpy(shell, m, sizeof *shell);
	shell->headers = NULL;
	shell->headers_len = shell->headers_cap = 0;
	shell->sources = NULL;
	shell->sources_len = shell->sources_cap = 0;
	shell->slices = NULL;
	shell->slices_len = shell->slices_cap = 0;
	shell->payload = m->payload ? otf_buf_ref(m->payload) : NULL;
	shell->held_by = NULL;
	shell->held_prev = shell->held_next = NULL;
	m->worker->live_msgs++;
	m->nframes = 0;
	m->join = NULL;
	m->child = false; /* the shell counts as the child now */
	m->expired = true;
	settle(shell, false, error, false, reason, 0);
}

void otf__msg_discard(otf_msg_t *m)
{
	while (m) {
		otf_join_t *j = m->join;
		otf__msg_free(m);
		m = NULL;
		if (j && --j->pending == 0) {
			m = j->parent; /* NULL when the policy already answered it */
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
	c->id = parent->id; /* a copy is the same message on another edge */
	c->signal = parent->signal;
	c->payload = parent->payload ? otf_buf_ref(parent->payload) : NULL;
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
	for (uint32_t i = 0; i < parent->sources_len; i++) {
		if (otf_msg_add_source(c, parent->sources[i])) {
			c->join = NULL;
			otf__msg_free(c);
			return NULL;
		}
	}
	if (parent->slices_len) {
		/* Same payload: the slices hold for the copy too. */
		c->slices = otf_malloc(parent->slices_len * sizeof *c->slices);
		if (!c->slices) {
			c->join = NULL;
			otf__msg_free(c);
			return NULL;
		}
		memcpy(c->slices, parent->slices, parent->slices_len * sizeof *c->slices);
		c->slices_len = c->slices_cap = parent->slices_len;
	}
	return c;
}

static void settle(otf_msg_t *m, bool ok, int error, bool permanent, const char *reason,
                   uint64_t retry_after_ns);

static void join_fail(otf_join_t *j, int error, bool permanent, const char *reason,
                      uint64_t retry_after_ns)
{
	/* The longest throttle delay a failed copy was given: retrying the
	 * parent sooner would meet that server's refusal again. */
	if (retry_after_ns > j->retry_after_ns)
		j->retry_after_ns = retry_after_ns;
	if (!j->failed) {
		j->failed = true;
		j->permanent = permanent;
		j->error = error;
		snprintf(j->reason, sizeof j->reason, "%s", reason ? reason : "");
	} else {
		/* Keeps the first reason; permanent only if every failure is. */
		j->permanent = j->permanent && permanent;
	}
}

/* Copy idx of a fan-out answered: the node's fan-out policy decides when
 * and how the parent is answered (otf_fanout_policy_t); the join itself
 * goes with the last copy. */
static void join_answer(otf_join_t *j, uint32_t idx, bool ok, int error, bool permanent,
                        const char *reason, uint64_t retry_after_ns)
{
	j->pending--;
	if (j->parent) {
		bool decided = false, dok = ok;
		switch (j->policy) {
		case OTF_FANOUT_AT_LEAST_ONE:
			if (!ok)
				join_fail(j, error, permanent, reason, retry_after_ns);
			decided = ok || j->pending == 0;
			break;
		case OTF_FANOUT_PRIMARY:
			if (idx == 0 && !ok)
				join_fail(j, error, permanent, reason, retry_after_ns);
			decided = idx == 0;
			break;
		case OTF_FANOUT_ALL:
		default:
			if (!ok && !j->failed)
				join_fail(j, error, permanent, reason, retry_after_ns);
			decided = j->pending == 0;
			dok = !j->failed;
			break;
		}
		if (decided) {
			otf_msg_t *p = j->parent;
			j->parent = NULL;
			if (dok)
				settle(p, true, 0, false, NULL, 0);
			else
				settle(p, false, j->error, j->permanent, j->reason,
				       j->permanent ? 0 : j->retry_after_ns);
		}
	}
	if (j->pending == 0)
		otf_free(j);
}

/* Unwinds the subscription stack to the nearest frame interested in this
 * outcome, posts the control signal there (or answers the subscriber's
 * watched send, otf_node_send_watched, still running), and frees the
 * message (or, for OTF_INTEREST_RETURN_MSG, hands it back with the frames
 * below kept); an ACK reaching a frame with OTF_INTEREST_ACK_PASSES is
 * delivered there and goes on down. A
 * shell (otf__msg_settle_shell) is a stack copy of a message's answering
 * part: only its payload reference is released. */
static void settle_ex(otf_msg_t *m, bool ok, int error, bool permanent, const char *reason,
                      uint64_t retry_after_ns, bool shell);

/* A NACK (or an expiry) that no frame is interested in and no fan-out
 * join waits for: whoever sent the data was answered already (a receiver
 * with wait_for_result false acks at ingress), so the data is lost here
 * and nothing else would say so. Counted at the node answering it (the
 * one consuming, or the one whose control signal is being handled) as
 * OTF_COUNTER_DROPPED_ANSWERED and reported as an ERR of severity data
 * (counted per node and reason, logged at most once per 10 s per node
 * and reason: status.c). A cancelled message (CAN) is counted as such
 * where it is dropped. */
__attribute__((noinline, cold)) static void unheard(const otf_msg_t *m, bool permanent,
                                                    const char *reason)
{
	otf_worker_t *w = m->worker;
	otf_node_t *who = w->consuming ? w->consuming : w->answering;
	const char *why = permanent ? "refused_after_answer" : "failed_after_answer";
	if (who) {
		otf__node_tally(who, OTF_COUNTER_DROPPED_ANSWERED, m->signal, m->items);
		otf_node_error(who, OTF_ERR_DATA, why,
		               "%llu %s dropped after the client was answered: %s",
		               (unsigned long long)m->items, otf_signal_name(m->signal),
		               reason && *reason ? reason : "no reason given");
		return;
	}
	/* Outside any node (a deadline timer, shutdown): logged once per
	 * 10 s per worker, no node to count it at. */
	uint64_t now = uv_hrtime();
	if (!w->unheard_log_ns || now - w->unheard_log_ns >= 10000000000ull) {
		w->unheard_log_ns = now;
		otf_log(OTF_LOG_WARN, "engine",
		        "%s: %llu %s dropped after the client was answered: %s", why,
		        (unsigned long long)m->items, otf_signal_name(m->signal),
		        reason && *reason ? reason : "no reason given");
	}
}

static void settle(otf_msg_t *m, bool ok, int error, bool permanent, const char *reason,
                   uint64_t retry_after_ns)
{
	settle_ex(m, ok, error, permanent, reason, retry_after_ns, false);
}

void otf__msg_settle_shell(otf_msg_t *shell)
{
	settle_ex(shell, true, 0, false, NULL, 0, true);
}

void otf__msg_settle_shell_nack(otf_msg_t *shell, int error, bool permanent,
                                uint64_t retry_after_ns, const char *reason)
{
	settle_ex(shell, false, error, permanent, reason, permanent ? 0 : retry_after_ns, true);
}

/* The control signal of outcome (ok, ...) for frame f of m, in c. */
static inline void outcome_fill(otf_ctrl_t *c, const otf_msg_t *m, const otf_msg_frame_t *f,
                                bool ok, int error, bool permanent, const char *reason,
                                uint64_t retry_after_ns, bool back)
{
	otf__ctrl_clear(c, ok);
	c->type = ok ? OTF_CTRL_ACK : OTF_CTRL_NACK;
	c->msg_id = m->id;
	c->calldata = f->calldata;
	c->instance_gen = f->gen + 1;
	c->signal = m->signal;
	c->items = m->items;
	if ((f->interests & OTF_INTEREST_RETURN_PAYLOAD) && m->payload)
		c->payload = otf_buf_ref(m->payload);
	if (!ok) {
		c->error = error;
		c->permanent = permanent;
		c->retry_after_ns = permanent ? 0 : retry_after_ns;
		if (reason)
			snprintf(c->reason, sizeof c->reason, "%s", reason);
	}
	if (back)
		c->msg = (otf_msg_t *)m;
}

/* Frame f of m (popped) takes the outcome, when the ACK passes it
 * (OTF_INTEREST_ACK_PASSES) or a watched send may be waiting for it
 * (otf_node_send_watched, OTF__INTEREST_WATCHED): delivered to the watch when it is f's, else
 * posted. True when the unwinding ends here (m freed or handed back),
 * false when the ACK goes on to the frames below. Inlined behind one test
 * of the frame's interests: the plain path (every hop's ACK) stays as
 * short as before (cachegrind: out of line it cost retry 38 instructions
 * per message more, inlined without that test pass-through 19 more). */
__attribute__((always_inline)) static inline bool
settle_heard(otf_msg_t *m, const otf_msg_frame_t *f, bool ok, int error, bool permanent,
             const char *reason, uint64_t retry_after_ns, bool shell)
{
	bool pass = ok && (f->interests & OTF_INTEREST_ACK_PASSES);
	bool back = !shell && !pass && (f->interests & OTF_INTEREST_RETURN_MSG);
	otf__watch_t *k = !shell && (f->interests & OTF__INTEREST_WATCHED) && f->node->worker->watch
	                      ? otf__watch_find(m, f, m->nframes)
	                      : NULL;
	if (k) {
		/* The subscriber's send is still running (a fused stage): the
		 * outcome is that send's answer, no control signal. Counted as
		 * the pump counts a delivered one. */
		outcome_fill(k->out, m, f, ok, error, permanent, reason, retry_after_ns, back);
		k->caught = true;
		otf__node_tally(f->node, ok ? OTF_COUNTER_ACKS : OTF_COUNTER_NACKS, m->signal, 1);
	} else {
		otf_ctrl_t tmp;
		otf_ctrl_t *slot = otf__node_ctrl_slot(f->node);
		otf_ctrl_t *c = slot;
		if (!c)
			c = &tmp; /* filled below, then posted as a copy */
		outcome_fill(c, m, f, ok, error, permanent, reason, retry_after_ns, back);
		if (slot)
			otf__node_ctrl_commit(f->node);
		else
			otf__node_post_ctrl(f->node, &tmp);
	}
	if (pass)
		return false;
	if (shell)
		otf_buf_unref(m->payload);
	else if (!back)
		otf__msg_free(m);
	return true;
}

static void settle_ex(otf_msg_t *m, bool ok, int error, bool permanent, const char *reason,
                      uint64_t retry_after_ns, bool shell)
{
	uint32_t want = ok ? OTF_INTEREST_ACK : OTF_INTEREST_NACK;
	while (m->nframes > 0) {
		otf_msg_frame_t *f = &m->frames[--m->nframes];
		if (!(f->interests & want))
			continue;
		if (__builtin_expect(
		        f->interests & (OTF_INTEREST_ACK_PASSES | OTF__INTEREST_WATCHED), 0)) {
			if (settle_heard(m, f, ok, error, permanent, reason, retry_after_ns, shell))
				return;
			continue;
		}
		/* Built in the subscriber's queue slot: one ACK per message and
		 * hop, a copy less each. */
		otf_ctrl_t tmp;
		otf_ctrl_t *slot = otf__node_ctrl_slot(f->node);
		otf_ctrl_t *c = slot;
		if (!c)
			c = &tmp; /* filled below, then posted as a copy */
		bool back = !shell && (f->interests & OTF_INTEREST_RETURN_MSG);
		outcome_fill(c, m, f, ok, error, permanent, reason, retry_after_ns, back);
		if (slot)
			otf__node_ctrl_commit(f->node);
		else
			otf__node_post_ctrl(f->node, &tmp);
		if (shell)
			otf_buf_unref(m->payload);
		else if (!back)
			otf__msg_free(m);
		return;
	}
	otf_join_t *j = m->join;
	uint32_t idx = m->join_index;
	if (!ok && !j && error != -ECANCELED)
		unheard(m, permanent, reason);
	if (shell)
		otf_buf_unref(m->payload);
	else
		otf__msg_free(m);
	if (j)
		join_answer(j, idx, ok, error, permanent, reason, retry_after_ns);
}

void otf_msg_ack(otf_msg_t *m)
{
	settle(m, true, 0, false, NULL, 0);
}

void otf_msg_nack(otf_msg_t *m, int error, bool permanent, const char *reason)
{
	settle(m, false, error, permanent, reason, 0);
}

void otf_msg_nack_throttled(otf_msg_t *m, int error, uint64_t retry_after_ns, const char *reason)
{
	settle(m, false, error ? error : OTF_E_IO, false, reason, retry_after_ns);
}

void otf_msg_queued(otf_msg_t *m)
{
	while (m) {
		for (uint32_t i = m->nframes; i-- > 0;) {
			otf_msg_frame_t *f = &m->frames[i];
			/* A node getting the message back (retry) answers for it
			 * upstream: like a node that carries data on in messages
			 * of its own, it does not pass the report on. */
			if (f->interests & OTF_INTEREST_RETURN_MSG)
				return;
			if (!(f->interests & OTF_INTEREST_QUEUED))
				continue;
			/* Once: the frame keeps its ACK/NACK interests. */
			f->interests &= ~OTF_INTEREST_QUEUED;
			otf_ctrl_t c;
			memset(&c, 0, sizeof c);
			c.type = OTF_CTRL_QUEUED;
			c.msg_id = m->id;
			c.calldata = f->calldata;
			c.instance_gen = f->gen + 1;
			c.signal = m->signal;
			c.items = m->items;
			otf__node_post_ctrl(f->node, &c);
			return;
		}
		/* A fan-out copy: the parent counts as queued by the node's
		 * fan-out policy (every copy, any copy, the primary one). */
		otf_join_t *j = m->join;
		if (!j || !j->parent)
			return;
		j->queued++;
		bool decided = j->policy == OTF_FANOUT_AT_LEAST_ONE ? j->queued == 1
		               : j->policy == OTF_FANOUT_PRIMARY    ? m->join_index == 0
		                                                    : j->queued == j->total;
		if (!decided)
			return;
		m = j->parent;
	}
}

void otf_msg_drop(otf_msg_t *m)
{
	if (m->worker && m->worker->drop_nacks) {
		/* A node removed by a reload is being destroyed (reshape.c):
		 * what it still holds is refused retryable upstream, so no
		 * sender waits for an answer that cannot come. */
		otf_msg_nack(m, OTF_E_IO, false, "its node was removed by a reload");
		return;
	}
	if (m->join) {
		/* A fan-out child must still answer its join, or the parent
		 * would wait forever. */
		m->nframes = 0;
		settle(m, false, OTF_E_IO, false, "message dropped", 0);
		return;
	}
	otf__msg_free(m);
}
