/* Run-time core of processors attributes and resource (attrproc.h). */
#include "attrproc.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_view.h"

#include <errno.h>
#include <stdio.h>

struct attrproc_pending {
	attrproc_pending_t *prev, *next;
	otf_msg_t *orig;
};

int otf__attrproc_init(attrproc_t *p, otf_node_t *node, const otf_attr_actions_t *acts,
                       const otf_attr_match_t *inc, const otf_attr_match_t *exc, bool resource)
{
	p->node = node;
	p->actions = acts;
	static const otf_attr_match_t none;
	p->include = inc ? inc : &none;
	p->exclude = exc ? exc : &none;
	p->resource = resource;
	p->in_place = otf__attr_actions_in_place(acts) && !p->include->set && !p->exclude->set;
	if (p->in_place) {
		otf_pdata_edit_op_t ops[OTF_PDATA_EDIT_MAX_OPS];
		otf__attr_actions_edit_ops(acts, ops);
		if (otf_pdata_edit_prepare(&p->edit, ops, acts->n,
		                           resource ? OTF_EDIT_RESOURCE : OTF_EDIT_RECORDS))
			p->in_place = false;
	}
	if (node && otf_node_worker_index(node) == 0)
		otf_node_log(node, OTF_LOG_INFO, "%s",
		             !p->in_place ? "actions applied on the decoded request (an action or "
		                            "include/exclude needs it)"
		             : resource   ? "actions applied to the request bytes in place"
		                          : "actions applied to the request bytes in place (data "
		                            "points: on the decoded request)");
	return 0;
}

static bool skip(const attrproc_t *p, bool inc, bool exc)
{
	return otf__attr_skip(p->include, p->exclude, inc, exc);
}

#define APPLY(attrs)                                                                      \
	do {                                                                              \
		int rc_ = otf__attr_actions_apply(p->actions, (attrs), arena, ctx, user); \
		if (rc_)                                                                  \
			return rc_;                                                       \
	} while (0)

static int traces(const attrproc_t *p, otf_traces_t *t, otf_arena_t *arena, otf_attr_ctx_fn ctx,
                  const void *user)
{
	const otf_attr_match_t *inc = p->include, *exc = p->exclude;
	for (size_t i = 0; i < t->resource_spans_len; i++) {
		otf_resource_spans_t *rs = &t->resource_spans[i];
		if (p->resource) {
			APPLY(&rs->resource.attributes);
			continue;
		}
		for (size_t j = 0; j < rs->scope_spans_len; j++) {
			otf_scope_spans_t *ss = &rs->scope_spans[j];
			for (size_t k = 0; k < ss->spans_len; k++) {
				otf_span_t *sp = &ss->spans[k];
				bool a = inc->set &&
				         otf__attr_match_span(inc, &rs->resource, &ss->scope, sp);
				bool b = exc->set &&
				         otf__attr_match_span(exc, &rs->resource, &ss->scope, sp);
				if (!skip(p, a, b))
					APPLY(&sp->attributes);
			}
		}
	}
	return 0;
}

static int logs(const attrproc_t *p, otf_logs_t *l, otf_arena_t *arena, otf_attr_ctx_fn ctx,
                const void *user)
{
	const otf_attr_match_t *inc = p->include, *exc = p->exclude;
	for (size_t i = 0; i < l->resource_logs_len; i++) {
		otf_resource_logs_t *rl = &l->resource_logs[i];
		if (p->resource) {
			APPLY(&rl->resource.attributes);
			continue;
		}
		for (size_t j = 0; j < rl->scope_logs_len; j++) {
			otf_scope_logs_t *sl = &rl->scope_logs[j];
			for (size_t k = 0; k < sl->log_records_len; k++) {
				otf_log_record_t *lr = &sl->log_records[k];
				bool a = inc->set &&
				         otf__attr_match_log(inc, &rl->resource, &sl->scope, lr);
				bool b = exc->set &&
				         otf__attr_match_log(exc, &rl->resource, &sl->scope, lr);
				if (!skip(p, a, b))
					APPLY(&lr->attributes);
			}
		}
	}
	return 0;
}

static otf_attributes_t *point_attrs(otf_metric_t *me, size_t i)
{
	switch (me->type) {
	case OTF_METRIC_GAUGE:
	case OTF_METRIC_SUM:
		return &me->data_points.number[i].attributes;
	case OTF_METRIC_HISTOGRAM:
		return &me->data_points.histogram[i].attributes;
	case OTF_METRIC_EXP_HISTOGRAM:
		return &me->data_points.exp_histogram[i].attributes;
	case OTF_METRIC_SUMMARY:
		return &me->data_points.summary[i].attributes;
	default:
		return NULL;
	}
}

static int metrics(const attrproc_t *p, otf_metrics_t *mt, otf_arena_t *arena, otf_attr_ctx_fn ctx,
                   const void *user)
{
	const otf_attr_match_t *inc = p->include, *exc = p->exclude;
	for (size_t i = 0; i < mt->resource_metrics_len; i++) {
		otf_resource_metrics_t *rm = &mt->resource_metrics[i];
		if (p->resource) {
			APPLY(&rm->resource.attributes);
			continue;
		}
		for (size_t j = 0; j < rm->scope_metrics_len; j++) {
			otf_scope_metrics_t *sm = &rm->scope_metrics[j];
			for (size_t k = 0; k < sm->metrics_len; k++) {
				otf_metric_t *me = &sm->metrics[k];
				bool a = inc->set && otf__attr_match_metric(inc, &rm->resource, me);
				bool b = exc->set && otf__attr_match_metric(exc, &rm->resource, me);
				if (skip(p, a, b))
					continue;
				for (size_t d = 0; d < me->data_points_len; d++) {
					otf_attributes_t *at = point_attrs(me, d);
					if (at)
						APPLY(at);
				}
			}
		}
	}
	return 0;
}

int otf__attrproc_apply_tree(const attrproc_t *p, otf_signal_t s, void *tree, otf_arena_t *arena,
                             otf_attr_ctx_fn ctx, const void *user)
{
	switch (s) {
	case OTF_SIGNAL_TRACES:
		return traces(p, tree, arena, ctx, user);
	case OTF_SIGNAL_LOGS:
		return logs(p, tree, arena, ctx, user);
	case OTF_SIGNAL_METRICS:
		return metrics(p, tree, arena, ctx, user);
	}
	return OTF_E_INVAL;
}

static const char *msg_header(const void *user, const char *key)
{
	return otf_msg_header_get(user, key);
}

/* Decode, apply, encode. */
static int tree_path(attrproc_t *p, otf_msg_t *m, otf_buf_t **out, char *why, size_t whylen)
{
	otf_signal_t s = otf_msg_signal(m);
	const otf_buf_t *in = otf_msg_payload(m);
	otf_arena_t arena;
	otf_arena_init(&arena, 16384);
	union {
		otf_traces_t t;
		otf_metrics_t me;
		otf_logs_t l;
	} u;
	otf_pdata_error_t pe = {0};
	int rc = s == OTF_SIGNAL_TRACES
	             ? otf_pdata_decode_traces(&u.t, in->data, in->len, &arena, NULL, &pe)
	         : s == OTF_SIGNAL_METRICS
	             ? otf_pdata_decode_metrics(&u.me, in->data, in->len, &arena, NULL, &pe)
	             : otf_pdata_decode_logs(&u.l, in->data, in->len, &arena, NULL, &pe);
	if (rc) {
		char buf[400];
		snprintf(why, whylen, "cannot decode the request: %s",
		         otf_pdata_error_format(&pe, buf, sizeof buf));
		otf_arena_close(&arena);
		return rc;
	}
	rc = otf__attrproc_apply_tree(p, s, &u, &arena, msg_header, m);
	if (!rc)
		rc = s == OTF_SIGNAL_TRACES    ? otf_pdata_encode_traces(&u.t, out)
		     : s == OTF_SIGNAL_METRICS ? otf_pdata_encode_metrics(&u.me, out)
		                               : otf_pdata_encode_logs(&u.l, out);
	if (rc)
		snprintf(why, whylen, "%s", otf_strerror(rc));
	otf_arena_close(&arena);
	return rc;
}

static void nack_send(otf_msg_t *m, int rc)
{
	otf_msg_nack(m, rc, false, rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
}

static void relay(attrproc_t *p, otf_msg_t *m, otf_buf_t *payload)
{
	attrproc_pending_t *q = otf_calloc(1, sizeof *q);
	otf_msg_t *own =
	    q ? otf_msg_create(p->node, otf_msg_signal(m), payload, otf_msg_items(m)) : NULL;
	if (!q)
		otf_buf_unref(payload);
	if (!own || otf_msg_add_source(own, otf_msg_id(m)) || otf_msg_copy_envelope(own, m) ||
	    otf_msg_subscribe(own, p->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK,
	                      (uint64_t)(uintptr_t)q)) {
		if (own)
			otf_msg_drop(own);
		otf_free(q);
		otf_msg_nack(m, OTF_E_NOMEM, false, "out of memory");
		return;
	}
	int rc = otf_node_send(p->node, own);
	if (rc) {
		otf_msg_drop(own);
		otf_free(q);
		nack_send(m, rc);
		return;
	}
	q->orig = m;
	q->next = p->list;
	if (p->list)
		p->list->prev = q;
	p->list = q;
}

void otf__attrproc_consume(attrproc_t *p, otf_msg_t *m)
{
	otf_buf_t *out = NULL;
	const otf_buf_t *in = otf_msg_payload(m);
	char why[480];
	/* The byte editor handles what it can; anything it refuses (malformed
	 * on its path) goes the tree way, whose decoder says precisely why. */
	otf_signal_t s = otf_msg_signal(m);
	/* The editor has log records and spans, not data points. */
	bool edit = p->in_place && (p->resource || s != OTF_SIGNAL_METRICS);
	if (edit && otf_pdata_edit_apply(&p->edit, s, in->data, in->len, &out, NULL) == 0) {
		p->in_place_msgs++;
		relay(p, m, out);
		return;
	}
	int rc = tree_path(p, m, &out, why, sizeof why);
	if (rc) {
		otf_msg_nack(m, rc, rc != OTF_E_NOMEM, why);
		return;
	}
	p->tree_msgs++;
	relay(p, m, out);
}

static void unlink_pending(attrproc_t *p, attrproc_pending_t *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		p->list = q->next;
	if (q->next)
		q->next->prev = q->prev;
	otf_free(q);
}

void otf__attrproc_control(attrproc_t *p, const otf_ctrl_t *c)
{
	attrproc_pending_t *q = (attrproc_pending_t *)(uintptr_t)c->calldata;
	switch (c->type) {
	case OTF_CTRL_ACK:
		otf_msg_ack(q->orig);
		unlink_pending(p, q);
		break;
	case OTF_CTRL_NACK:
		otf_msg_nack(q->orig, c->error, c->permanent, c->reason);
		unlink_pending(p, q);
		break;
	case OTF_CTRL_KIL:
		/* Nothing is held back: what is in flight is answered by its
		 * outcome, which still arrives after this. */
		otf_node_shutdown_done(p->node);
		break;
	default:
		break;
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

void otf__attrproc_close(attrproc_t *p)
{
	while (p->list) {
		otf_msg_drop(p->list->orig);
		unlink_pending(p, p->list);
	}
}
