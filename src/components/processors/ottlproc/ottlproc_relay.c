/* Decode/encode of the request and the relay of the OTTL processors
 * (ottlproc.h): a rewritten payload travels in a message of the node's
 * own, whose outcome answers the message consumed, so the ack chain of
 * the original (the client's wait_for_result, batch, retry) sees the real
 * outcome downstream. */
#include "ottlproc.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_view.h"

#include <errno.h>
#include <stdio.h>

struct ottlproc_pending {
	ottlproc_pending_t *prev, *next;
	otf_msg_t *orig;
};

int otf__ottlproc_decode(otf_signal_t s, const otf_buf_t *payload, otf_arena_t *arena,
                         ottlproc_tree_t *t, char *why, size_t whylen)
{
	otf_pdata_error_t pe = {0};
	int rc;
	t->signal = s;
	switch (s) {
	case OTF_SIGNAL_TRACES:
		rc = otf_pdata_decode_traces(&t->u.traces, payload->data, payload->len, arena, NULL,
		                             &pe);
		break;
	case OTF_SIGNAL_METRICS:
		rc = otf_pdata_decode_metrics(&t->u.metrics, payload->data, payload->len, arena,
		                              NULL, &pe);
		break;
	case OTF_SIGNAL_LOGS:
		rc = otf_pdata_decode_logs(&t->u.logs, payload->data, payload->len, arena, NULL,
		                           &pe);
		break;
	default:
		return OTF_E_INVAL;
	}
	if (rc) {
		char buf[400];
		snprintf(why, whylen, "cannot decode the request: %s",
		         otf_pdata_error_format(&pe, buf, sizeof buf));
	}
	return rc;
}

int otf__ottlproc_encode(const ottlproc_tree_t *t, otf_buf_t **out, uint64_t *items)
{
	int rc;
	switch (t->signal) {
	case OTF_SIGNAL_TRACES:
		rc = otf_pdata_encode_traces(&t->u.traces, out);
		break;
	case OTF_SIGNAL_METRICS:
		rc = otf_pdata_encode_metrics(&t->u.metrics, out);
		break;
	case OTF_SIGNAL_LOGS:
		rc = otf_pdata_encode_logs(&t->u.logs, out);
		break;
	default:
		return OTF_E_INVAL;
	}
	if (rc)
		return rc;
	otf_view_counts_t c;
	*items = otf_view_count(t->signal, (*out)->data, (*out)->len, &c) == 0 ? c.records : 0;
	return 0;
}

static void nack_send(otf_msg_t *m, int rc)
{
	otf_msg_nack(m, rc, false, rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
}

void otf__ottlproc_forward(ottlproc_relay_t *r, otf_msg_t *m)
{
	int rc = otf_node_send(r->node, m);
	if (rc)
		nack_send(m, rc);
}

int otf__ottlproc_decode_msg(otf_msg_t *m, otf_signal_t s, otf_arena_t *arena, ottlproc_tree_t *t)
{
	char why[400];
	otf_arena_reset(arena);
	int rc = otf__ottlproc_decode(s, otf_msg_payload(m), arena, t, why, sizeof why);
	if (rc)
		otf_msg_nack(m, rc, true, why);
	return rc;
}

void otf__ottlproc_send_tree(ottlproc_relay_t *r, otf_msg_t *m, const ottlproc_tree_t *t,
                             unsigned flags, const char *what)
{
	otf_buf_t *out;
	uint64_t items;
	int rc = otf__ottlproc_encode(t, &out, &items);
	if (rc) {
		char why[160];
		snprintf(why, sizeof why, "%s: cannot encode the request", what);
		otf_msg_nack(m, rc, rc != OTF_E_NOMEM, why);
		return;
	}
	uint64_t in = otf_msg_items(m);
	if ((flags & OTTLPROC_COUNT_DROPPED) && in > items)
		otf_node_count(r->node, OTF_COUNTER_DROPPED, t->signal, in - items);
	if ((flags & OTTLPROC_ACK_EMPTY) && !items) {
		/* Everything was removed or is held: delivered, as far as the
		 * sender is concerned (the Collector returns success too). */
		otf_buf_unref(out);
		otf_msg_ack(m);
		return;
	}
	otf__ottlproc_relay_send(r, m, out, items);
}

static void unlink_pending(ottlproc_relay_t *r, ottlproc_pending_t *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		r->list = p->next;
	if (p->next)
		p->next->prev = p->prev;
	otf_free(p);
}

void otf__ottlproc_relay_send(ottlproc_relay_t *r, otf_msg_t *m, otf_buf_t *payload, uint64_t items)
{
	ottlproc_pending_t *p = otf_calloc(1, sizeof *p);
	otf_msg_t *own = p ? otf_msg_create(r->node, otf_msg_signal(m), payload, items) : NULL;
	if (!p)
		otf_buf_unref(payload);
	if (!own || otf_msg_add_source(own, otf_msg_id(m)) || otf_msg_copy_envelope(own, m) ||
	    otf_msg_subscribe(own, r->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK,
	                      (uint64_t)(uintptr_t)p)) {
		if (own)
			otf_msg_drop(own);
		otf_free(p);
		otf_msg_nack(m, OTF_E_NOMEM, false, "out of memory");
		return;
	}
	int rc = otf_node_send(r->node, own);
	if (rc) {
		otf_msg_drop(own);
		otf_free(p);
		nack_send(m, rc);
		return;
	}
	p->orig = m;
	p->next = r->list;
	if (r->list)
		r->list->prev = p;
	r->list = p;
}

void otf__ottlproc_relay_control(ottlproc_relay_t *r, const otf_ctrl_t *c)
{
	ottlproc_pending_t *p = (ottlproc_pending_t *)(uintptr_t)c->calldata;
	switch (c->type) {
	case OTF_CTRL_ACK:
		otf_msg_ack(p->orig);
		unlink_pending(r, p);
		break;
	case OTF_CTRL_NACK:
		otf_msg_nack(p->orig, c->error, c->permanent, c->reason);
		unlink_pending(r, p);
		break;
	case OTF_CTRL_KIL:
		/* Nothing is held back: what is in flight is answered by its
		 * outcome, which still arrives after this. */
		otf_node_shutdown_done(r->node);
		break;
	default:
		break;
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

void otf__ottlproc_relay_close(ottlproc_relay_t *r)
{
	while (r->list) {
		otf_msg_drop(r->list->orig);
		unlink_pending(r, r->list);
	}
}

void otf__ottlproc_log_error(ottlproc_relay_t *r, const otf_ottl_stats_t *st)
{
	r->errors += st->errors;
	if (r->errors <= r->errors_logged)
		return;
	otf_node_log(r->node, OTF_LOG_WARN,
	             "OTTL error under error_mode ignore (the record is left as the failing "
	             "statement found it; a failing condition counts as false): statement %zu, "
	             "column %zu: %s (%llu errors so far)",
	             st->first_error.index, st->first_error.column + 1, st->first_error.msg,
	             (unsigned long long)r->errors);
	r->errors_logged = r->errors * 2;
}
