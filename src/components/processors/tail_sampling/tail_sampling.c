/* processor `tail_sampling` (opentelemetry-collector-contrib
 * processor/tailsamplingprocessor): holds the spans of each trace for
 * decision_wait after its first span, then keeps or drops the whole trace
 * by its policies.
 *
 * Per worker: spans are grouped by trace id in the worker's store, so a
 * trace whose spans arrive on different workers (different connections)
 * is decided per worker, on the spans that worker saw.
 *
 * Each request is decoded and its spans split by trace (each part encoded
 * as one ResourceSpans, so the parts of a trace, back to back, are a valid
 * request), then acknowledged: the processor owns held data, as the
 * Collector's does. A timer decides the traces whose wait is over, in
 * arrival order; the kept ones go on as one request per decision round.
 * Spans of a trace already decided follow its decision, while it is in
 * memory or in the decision caches. num_traces bounds the traces in
 * memory; the oldest is forgotten first, counted as dropped too early
 * when it had no decision yet. At shutdown the pending traces are decided
 * at once (or dropped, with drop_pending_traces_on_shutdown). */
#include "tail_sampling.h"
#include "../probabilistic_sampler/sampler_counters.h"

#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <uv.h>

enum { C_SAMPLED, C_NOT_SAMPLED, C_TOO_EARLY, C_NEW, C_LATE_KEPT, C_LATE_DROPPED, C_EVAL_ERR, C_N };

static const struct {
	const char *name, *desc, *unit;
} k_counters[C_N] = {
    {"otelcol_processor_tail_sampling_global_count_traces_sampled", "Traces decided sampled.",
     "{traces}"},
    {"otelcol_processor_tail_sampling_global_count_traces_not_sampled",
     "Traces decided not sampled.", "{traces}"},
    {"otelcol_processor_tail_sampling_sampling_trace_dropped_too_early",
     "Traces forgotten (num_traces) before their decision.", "{traces}"},
    {"otelcol_processor_tail_sampling_new_trace_id_received", "Traces seen for the first time.",
     "{traces}"},
    {"otelcol_processor_tail_sampling_late_spans_kept",
     "Spans arriving after their trace was sampled, forwarded.", "{spans}"},
    {"otelcol_processor_tail_sampling_late_spans_dropped",
     "Spans arriving after their trace was not sampled, dropped.", "{spans}"},
    {"otelcol_processor_tail_sampling_sampling_policy_evaluation_error",
     "Policy evaluation errors (OTTL runtime errors).", "{errors}"},
};

typedef struct ts {
	otf_node_t *node;
	uv_loop_t *loop;
	const otf__ts_config_t *cfg;
	otf__ts_store_t store;
	otf__ts_state_t *state;
	pcre2_match_data *md;
	otf_arena_t arena;
	int64_t timer;
	uint64_t wait_ms, tick_ms;
	uint64_t nacks_logged;
	otf_selfcounter_t *c[C_N];
} ts_t;

static void count(ts_t *t, int k, uint64_t n)
{
	otf__sampler_counter_add(t->c[k], n);
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	const otf__ts_config_t *cfg = ctx->config;
	ts_t *t = otf_calloc(1, sizeof *t);
	if (!t)
		return OTF_E_NOMEM;
	t->node = ctx->node;
	t->loop = otf_node_loop(ctx->node);
	t->cfg = cfg;
	t->wait_ms = (uint64_t)(cfg->decision_wait_ns / 1000000);
	if (!t->wait_ms)
		t->wait_ms = 1;
	/* The Collector decides once a second, so a trace waits between
	 * decision_wait and decision_wait + 1 s; a tenth of the wait (10 ms
	 * to 1 s) keeps short waits short. */
	t->tick_ms = t->wait_ms / 10;
	t->tick_ms = t->tick_ms < 10 ? 10 : t->tick_ms > 1000 ? 1000 : t->tick_ms;
	size_t initial = (size_t)(cfg->expected_new_traces_per_sec * (t->wait_ms / 1000 + 1));
	otf_arena_init(&t->arena, 0);
	t->state = otf_calloc(cfg->policies.n_state ? cfg->policies.n_state : 1, sizeof *t->state);
	t->md = pcre2_match_data_create(1, NULL);
	if (!t->state || !t->md ||
	    otf__ts_store_init(&t->store, (size_t)cfg->num_traces, initial,
	                       (uint32_t)cfg->decision_cache.sampled_cache_size,
	                       (uint32_t)cfg->decision_cache.non_sampled_cache_size)) {
		otf_free(t->state);
		if (t->md)
			pcre2_match_data_free(t->md);
		otf_free(t);
		return OTF_E_NOMEM;
	}
	for (int i = 0; i < C_N; i++)
		t->c[i] = otf__sampler_counter_get(k_counters[i].name, k_counters[i].desc,
		                                   k_counters[i].unit, otf_node_name(ctx->node));
	if (otf_node_worker_index(ctx->node) == 0)
		for (size_t i = 0; i < cfg->policies.n; i++)
			if (cfg->policies.items[i].cache_size_ignored)
				otf_node_log(
				    ctx->node, OTF_LOG_WARN,
				    "policy \"%s\": string_attribute.cache_max_size is accepted "
				    "and ignored (the Collector's regex result cache; PCRE2 "
				    "matches are not cached here)",
				    cfg->policies.items[i].name);
	*inst = t;
	return 0;
}

static void send_out(ts_t *t, otf_buf_t *out, uint64_t spans)
{
	if (!out)
		return;
	otf_msg_t *m = otf_msg_create(t->node, OTF_SIGNAL_TRACES, out, spans);
	/* Nobody upstream waits for kept traces (their requests were acked
	 * when stored): a failure downstream is counted here as dropped. */
	if (m && otf_msg_subscribe(m, t->node, OTF_INTEREST_NACK, 0)) {
		otf_msg_drop(m);
		m = NULL;
	}
	if (!m) {
		otf_node_count(t->node, OTF_COUNTER_DROPPED, OTF_SIGNAL_TRACES, spans);
		return;
	}
	int rc = otf_node_send(t->node, m);
	if (rc) {
		otf_msg_drop(m);
		otf_node_count(t->node, OTF_COUNTER_DROPPED, OTF_SIGNAL_TRACES, spans);
		otf_node_log(t->node, OTF_LOG_WARN, "dropping %llu sampled spans: %s",
		             (unsigned long long)spans,
		             rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
	}
}

static int append(otf_buf_t **dst, const uint8_t *p, size_t n)
{
	if (!*dst && !(*dst = otf_buf_create(n > 4096 ? n : 4096)))
		return OTF_E_NOMEM;
	if ((*dst)->len + n > (*dst)->cap) {
		size_t cap = (*dst)->cap * 2;
		if (cap < (*dst)->len + n)
			cap = (*dst)->len + n;
		if (otf_buf_reserve(dst, cap))
			return OTF_E_NOMEM;
	}
	memcpy((*dst)->data + (*dst)->len, p, n);
	(*dst)->len += n;
	return 0;
}

/* Decides the pending traces whose wait is over (all of them with
 * everything), oldest first, and sends the kept ones as one request. */
static void decide_due(ts_t *t, bool everything)
{
	uint64_t now = uv_now(t->loop);
	otf_buf_t *out = NULL;
	uint64_t spans = 0;
	otf__ts_eval_t ev = {.state = t->state,
	                     .now_sec = (int64_t)time(NULL),
	                     .arena = &t->arena,
	                     .match_data = t->md};
	otf__ts_entry_t *e;
	while ((e = t->store.first_pending) && (everything || e->arrival_ms + t->wait_ms <= now)) {
		otf_arena_reset(&t->arena);
		otf_traces_t tree;
		otf_pdata_error_t perr;
		bool sampled = false;
		if (e->bytes && !otf_pdata_decode_traces(&tree, e->bytes->data, e->bytes->len,
		                                         &t->arena, NULL, &perr)) {
			otf__ts_trace_t tr = {
			    .trace_id = e->id, .spans = &tree, .span_count = e->spans};
			uint64_t errs = ev.ottl_errors;
			sampled = otf__ts_decide(t->cfg, &tr, &ev, NULL);
			count(t, C_EVAL_ERR, ev.ottl_errors - errs);
		}
		count(t, sampled ? C_SAMPLED : C_NOT_SAMPLED, 1);
		if (sampled && e->bytes) {
			if (append(&out, e->bytes->data, e->bytes->len))
				otf_node_count(t->node, OTF_COUNTER_DROPPED, OTF_SIGNAL_TRACES,
				               (uint64_t)e->spans);
			else
				spans += (uint64_t)e->spans;
		}
		otf__ts_store_decided(&t->store, e, sampled);
	}
	if (out && !spans) {
		otf_buf_unref(out);
		out = NULL;
	}
	send_out(t, out, spans);
}

static void drop_pending(ts_t *t)
{
	otf__ts_entry_t *e;
	while ((e = t->store.first_pending)) {
		otf_node_count(t->node, OTF_COUNTER_DROPPED, OTF_SIGNAL_TRACES, (uint64_t)e->spans);
		otf__ts_store_decided(&t->store, e, false);
	}
}

/* Where the spans of one trace in a request go. */
static int route(ts_t *t, const uint8_t id[16], const uint8_t *p, size_t n, int64_t spans,
                 otf_buf_t **late, uint64_t *late_spans)
{
	otf__ts_entry_t *e = otf__ts_store_find(&t->store, id);
	int known = e ? (e->state == TSE_PENDING ? -1 : e->state == TSE_KEPT)
	              : otf__ts_cache_lookup(&t->store, id);
	if (known == 1) {
		count(t, C_LATE_KEPT, (uint64_t)spans);
		*late_spans += (uint64_t)spans;
		return append(late, p, n);
	}
	if (known == 0) {
		count(t, C_LATE_DROPPED, (uint64_t)spans);
		return 0;
	}
	if (!e) {
		int64_t evicted = 0;
		e = otf__ts_store_add(&t->store, id, uv_now(t->loop), &evicted);
		if (evicted) {
			count(t, C_TOO_EARLY, 1);
			otf_node_count(t->node, OTF_COUNTER_DROPPED, OTF_SIGNAL_TRACES,
			               (uint64_t)evicted);
		}
		if (!e)
			return OTF_E_NOMEM;
		count(t, C_NEW, 1);
	}
	e->spans += spans;
	return append(&e->bytes, p, n);
}

static void id_of(const otf_span_t *sp, uint8_t id[16])
{
	memset(id, 0, 16);
	if (sp->trace_id.len == 16)
		memcpy(id, sp->trace_id.ptr, 16);
}

/* Splits one resource's spans by trace: each trace's spans of this
 * resource become one ResourceSpans (its scopes kept), encoded. */
static int split_resource(ts_t *t, otf_resource_spans_t *rs, otf_arena_t *a, otf_buf_t **late,
                          uint64_t *late_spans)
{
	size_t total = 0;
	for (size_t k = 0; k < rs->scope_spans_len; k++)
		total += rs->scope_spans[k].spans_len;
	if (!total)
		return 0;
	/* Group index per span; ids of the groups. */
	uint32_t *group = otf_arena_alloc(a, total * sizeof *group);
	uint8_t(*ids)[16] = otf_arena_alloc(a, total * sizeof *ids);
	size_t nb = 16;
	while (nb < 2 * total)
		nb <<= 1;
	uint32_t *slots = otf_arena_alloc(a, nb * sizeof *slots);
	if (!group || !ids || !slots)
		return OTF_E_NOMEM;
	memset(slots, 0xff, nb * sizeof *slots);
	size_t ngroups = 0, s = 0;
	for (size_t k = 0; k < rs->scope_spans_len; k++)
		for (size_t i = 0; i < rs->scope_spans[k].spans_len; i++, s++) {
			uint8_t id[16];
			id_of(&rs->scope_spans[k].spans[i], id);
			uint64_t h;
			memcpy(&h, id + 8, 8);
			size_t j = (size_t)(h ^ (h >> 31)) & (nb - 1);
			while (slots[j] != UINT32_MAX && memcmp(ids[slots[j]], id, 16))
				j = (j + 1) & (nb - 1);
			if (slots[j] == UINT32_MAX) {
				slots[j] = (uint32_t)ngroups;
				memcpy(ids[ngroups++], id, 16);
			}
			group[s] = slots[j];
		}
	otf_scope_spans_t *ss = otf_arena_alloc(a, rs->scope_spans_len * sizeof *ss);
	otf_span_t *buf = otf_arena_alloc(a, total * sizeof *buf);
	if (!ss || !buf)
		return OTF_E_NOMEM;
	for (size_t g = 0; g < ngroups; g++) {
		size_t nss = 0, used = 0;
		s = 0;
		for (size_t k = 0; k < rs->scope_spans_len; k++) {
			size_t first = used;
			for (size_t i = 0; i < rs->scope_spans[k].spans_len; i++, s++)
				if (group[s] == g)
					buf[used++] = rs->scope_spans[k].spans[i];
			if (used > first) {
				ss[nss] = rs->scope_spans[k];
				ss[nss].spans = buf + first;
				ss[nss].spans_len = used - first;
				nss++;
			}
		}
		otf_resource_spans_t one = *rs;
		one.scope_spans = ss;
		one.scope_spans_len = nss;
		otf_traces_t part = {.resource_spans = &one, .resource_spans_len = 1};
		otf_buf_t *enc = NULL;
		int rc = otf_pdata_encode_traces(&part, &enc);
		if (!rc)
			rc = route(t, ids[g], enc->data, enc->len, (int64_t)used, late, late_spans);
		otf_buf_unref(enc);
		if (rc)
			return rc;
	}
	return 0;
}

static void consume(void *inst, otf_msg_t *m)
{
	ts_t *t = inst;
	if (t->timer == 0) {
		t->timer = otf_node_timer_start(t->node, t->tick_ms, t->tick_ms, 1);
		if (t->timer <= 0) {
			otf_msg_nack(m, (int)t->timer, false,
			             "tail_sampling: cannot start its timer");
			t->timer = 0;
			return;
		}
	}
	otf_buf_t *in = otf_msg_payload(m);
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_traces_t tree;
	otf_pdata_error_t perr;
	int rc = otf_pdata_decode_traces(&tree, in->data, in->len, &a, NULL, &perr);
	if (rc) {
		char why[300], d[200];
		snprintf(why, sizeof why, "tail_sampling: %s",
		         otf_pdata_error_format(&perr, d, sizeof d));
		otf_arena_close(&a);
		otf_msg_nack(m, rc, true, why);
		return;
	}
	otf_buf_t *late = NULL;
	uint64_t late_spans = 0;
	for (size_t r = 0; r < tree.resource_spans_len && !rc; r++)
		rc = split_resource(t, &tree.resource_spans[r], &a, &late, &late_spans);
	otf_arena_close(&a);
	if (rc) {
		/* Spans of the traces routed before the failure are held: a
		 * resend duplicates them, as any partial failure would. */
		otf_buf_unref(late);
		otf_msg_nack(m, OTF_E_NOMEM, false, "tail_sampling: out of memory");
		return;
	}
	otf_msg_ack(m);
	send_out(t, late, late_spans);
}

static void control(void *inst, const otf_ctrl_t *c)
{
	ts_t *t = inst;
	switch (c->type) {
	case OTF_CTRL_TMR:
		decide_due(t, false);
		break;
	case OTF_CTRL_NACK:
		otf_node_count(t->node, OTF_COUNTER_DROPPED, OTF_SIGNAL_TRACES, c->items);
		if (t->nacks_logged++ < 10)
			otf_node_log(t->node, OTF_LOG_WARN,
			             "%llu sampled spans lost downstream: %s",
			             (unsigned long long)c->items, c->reason);
		break;
	case OTF_CTRL_KIL:
		if (t->cfg->drop_pending_traces_on_shutdown)
			drop_pending(t);
		else
			decide_due(t, true);
		if (t->timer > 0)
			otf_node_timer_stop(t->node, t->timer);
		t->timer = -1; /* no restart: data after KIL is decided by the next tick, never */
		otf_node_shutdown_done(t->node);
		break;
	default:
		break;
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void destroy(void *inst)
{
	ts_t *t = inst;
	otf__ts_store_close(&t->store);
	otf_arena_close(&t->arena);
	pcre2_match_data_free(t->md);
	otf_free(t->state);
	for (int i = 0; i < C_N; i++)
		otf__sampler_counter_put(t->c[i]);
	otf_free(t);
}

const otf_component_factory_t otf_processor_tail_sampling_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "tail_sampling",
    .description = "Holds the spans of each trace for decision_wait, then keeps or drops the "
                   "whole trace by its policies (per worker).",
    .stability = {OTF_STABILITY_BETA, OTF_STABILITY_UNDEFINED, OTF_STABILITY_UNDEFINED},
    .config_schema = otf__ts_schema,
    .config_size = sizeof(otf__ts_config_t),
    .validate = otf__ts_validate,
    .create = {create, NULL, NULL},
    .consume = {consume, NULL, NULL},
    .control = control,
    .destroy = destroy,
};
