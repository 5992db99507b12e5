/* processor `probabilistic_sampler` (opentelemetry-collector-contrib
 * processor/probabilisticsamplerprocessor): keeps each span or log record
 * with the configured probability, deciding from the trace id (or, for
 * logs, an attribute) exactly as the Collector does, so that tiers of
 * otflow and Collectors sampling the same traffic keep the same traces.
 *
 * Each request is decoded, its items decided (ps_decide.c), the kept ones
 * re-encoded and sent on as a message of this node's own (the original's
 * id as its source, its envelope copied), whose outcome answers the
 * original. A request left empty is acknowledged at once: the Collector
 * treats it as successfully processed (ErrSkipProcessingData). A request
 * that does not decode is nacked permanent. */
#include "probabilistic_sampler.h"
#include "ps_sampling.h"
#include "sampler_counters.h"

#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>

static const char *const k_modes[] = {"hash_seed", "proportional", "equalizing", NULL};
static const char *const k_sources[] = {"traceID", "record", NULL};

static const otf_config_field_t k_schema[] = {
    {.key = "sampling_percentage",
     .type = OTF_CFG_DOUBLE,
     .offset = offsetof(otf__ps_config_t, sampling_percentage),
     .def = "0",
     .min = "0",
     .desc = "Percentage of items kept (read as a 32-bit float, as the Collector); >= 100 keeps "
             "all, 0 none."},
    {.key = "hash_seed",
     .type = OTF_CFG_UINT,
     .offset = offsetof(otf__ps_config_t, hash_seed),
     .def = "0",
     .max = "4294967295",
     .desc = "Seed of the FNV hash in hash_seed mode; collectors of one tier must share it."},
    {.key = "mode",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(otf__ps_config_t, mode),
     .def = "hash_seed",
     .enum_values = k_modes,
     .desc = "hash_seed: FNV hash of the trace id (or attribute) and the seed, 14 bits; "
             "proportional: multiplies the arriving probability (tracestate th) by the "
             "percentage; equalizing: lowers the arriving probability to the percentage."},
    {.key = "fail_closed",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(otf__ps_config_t, fail_closed),
     .def = "true",
     .desc = "Drop items whose sampling information is unusable (bad tracestate, no "
             "randomness, inconsistent threshold); false keeps them."},
    {.key = "sampling_precision",
     .type = OTF_CFG_INT,
     .offset = offsetof(otf__ps_config_t, sampling_precision),
     .def = "4",
     .min = "1",
     .max = "14",
     .desc = "Hex digits of the threshold written (th)."},
    {.key = "attribute_source",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(otf__ps_config_t, attribute_source),
     .def = "traceID",
     .enum_values = k_sources,
     .desc = "Logs: traceID hashes the trace id (from_attribute when it is absent); record "
             "hashes from_attribute."},
    {.key = "from_attribute",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otf__ps_config_t, from_attribute),
     .desc = "Logs, hash_seed mode: log record attribute whose value is hashed."},
    {.key = "sampling_priority",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otf__ps_config_t, sampling_priority),
     .desc = "Logs: log record attribute holding a percentage that replaces "
             "sampling_percentage for that record."},
    OTF_CONFIG_FIELD_END,
};

static int validate(const void *config, char *err, size_t errlen)
{
	const otf__ps_config_t *c = config;
	float pct = (float)c->sampling_percentage;
	if (isnan(pct) || isinf(pct)) {
		snprintf(err, errlen, "sampling_percentage is invalid: %g%%",
		         c->sampling_percentage);
		return OTF_E_CONFIG;
	}
	double ratio = (double)pct / 100.0;
	if (ratio > 0 && ratio < 1.0 / (double)OTF__PS_MAX_ADJ) {
		snprintf(err, errlen, "sampling_percentage is too small: %g%%",
		         c->sampling_percentage);
		return OTF_E_CONFIG;
	}
	return 0;
}

typedef struct held held_t;
struct held {
	held_t *prev, *next;
	otf_msg_t *orig;
};

enum { C_TR_YES, C_TR_NO, C_LOG_YES, C_LOG_NO, C_N };

static const struct {
	const char *name, *desc, *unit;
} k_counters[C_N] = {
    {"otelcol_processor_probabilistic_sampler_count_traces_sampled", "Spans kept.", "{spans}"},
    {"otelcol_processor_probabilistic_sampler_count_traces_not_sampled", "Spans dropped.",
     "{spans}"},
    {"otelcol_processor_probabilistic_sampler_count_logs_sampled", "Log records kept.",
     "{records}"},
    {"otelcol_processor_probabilistic_sampler_count_logs_not_sampled", "Log records dropped.",
     "{records}"},
};

typedef struct ps {
	otf_node_t *node;
	otf__ps_sampler_t sampler;
	held_t *list;
	otf_selfcounter_t *c[C_N];
	uint64_t errors_logged;
} ps_t;

/* Called once per signal the node serves: the counters of that signal. */
static int create(const otf_create_ctx_t *ctx, void **inst)
{
	ps_t *p = *inst;
	if (!p) {
		p = otf_calloc(1, sizeof *p);
		if (!p)
			return OTF_E_NOMEM;
		p->node = ctx->node;
		otf__ps_sampler_init(&p->sampler, ctx->config);
		*inst = p;
	}
	int first = ctx->signal == OTF_SIGNAL_TRACES ? C_TR_YES : C_LOG_YES;
	for (int i = first; i < first + 2; i++)
		if (!p->c[i])
			p->c[i] =
			    otf__sampler_counter_get(k_counters[i].name, k_counters[i].desc,
			                             k_counters[i].unit, otf_node_name(ctx->node));
	return 0;
}

static void unlink_held(ps_t *p, held_t *h)
{
	if (h->prev)
		h->prev->next = h->next;
	else
		p->list = h->next;
	if (h->next)
		h->next->prev = h->prev;
	otf_free(h);
}

static void consume(void *inst, otf_msg_t *m)
{
	ps_t *p = inst;
	otf_signal_t sig = otf_msg_signal(m);
	otf_buf_t *in = otf_msg_payload(m);
	otf_arena_t arena;
	otf_arena_init(&arena, 0);
	otf_pdata_error_t perr;
	otf__ps_counts_t cnt = {0};
	otf_traces_t t;
	otf_logs_t l;
	otf_buf_t *out = NULL;
	int rc;
	if (sig == OTF_SIGNAL_TRACES) {
		rc = otf_pdata_decode_traces(&t, in->data, in->len, &arena, NULL, &perr);
		if (!rc)
			rc = otf__ps_sample_traces(&p->sampler, &t, &arena, &cnt);
		if (!rc && cnt.sampled)
			rc = otf_pdata_encode_traces(&t, &out);
		otf__sampler_counter_add(p->c[C_TR_YES], cnt.sampled);
		otf__sampler_counter_add(p->c[C_TR_NO], cnt.dropped);
	} else {
		rc = otf_pdata_decode_logs(&l, in->data, in->len, &arena, NULL, &perr);
		if (!rc)
			rc = otf__ps_sample_logs(&p->sampler, &l, &arena, &cnt);
		if (!rc && cnt.sampled)
			rc = otf_pdata_encode_logs(&l, &out);
		otf__sampler_counter_add(p->c[C_LOG_YES], cnt.sampled);
		otf__sampler_counter_add(p->c[C_LOG_NO], cnt.dropped);
	}
	otf_arena_close(&arena);
	if (cnt.errors && p->errors_logged++ < 10)
		otf_node_log(p->node, OTF_LOG_INFO,
		             "%llu item(s) with unusable sampling information (bad tracestate or "
		             "sampling.* attributes, no randomness, inconsistent threshold): %s",
		             (unsigned long long)cnt.errors,
		             p->sampler.fail_closed ? "dropped" : "kept");
	if (rc) {
		char why[300];
		if (rc == OTF_E_NOMEM)
			otf_msg_nack(m, rc, false, "probabilistic_sampler: out of memory");
		else {
			snprintf(why, sizeof why, "probabilistic_sampler: %s",
			         otf_pdata_error_format(&perr, why + 200, 100));
			otf_msg_nack(m, rc, true, why);
		}
		return;
	}
	if (!cnt.sampled) {
		otf_msg_ack(m);
		return;
	}
	held_t *h = otf_calloc(1, sizeof *h);
	otf_msg_t *nm = h ? otf_msg_create(p->node, sig, out, cnt.sampled) : NULL;
	if (!h)
		otf_buf_unref(out);
	if (!nm || otf_msg_add_source(nm, otf_msg_id(m)) || otf_msg_copy_envelope(nm, m) ||
	    otf_msg_subscribe(nm, p->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK,
	                      (uint64_t)(uintptr_t)h)) {
		if (nm)
			otf_msg_drop(nm);
		otf_free(h);
		otf_msg_nack(m, OTF_E_NOMEM, false, "probabilistic_sampler: out of memory");
		return;
	}
	h->orig = m;
	h->next = p->list;
	if (p->list)
		p->list->prev = h;
	p->list = h;
	rc = otf_node_send(p->node, nm);
	if (rc) {
		otf_msg_drop(nm);
		otf_msg_nack(m, rc, false,
		             rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
		unlink_held(p, h);
	}
}

static void control(void *inst, const otf_ctrl_t *c)
{
	ps_t *p = inst;
	held_t *h = (held_t *)(uintptr_t)c->calldata;
	switch (c->type) {
	case OTF_CTRL_ACK:
		otf_msg_ack(h->orig);
		unlink_held(p, h);
		break;
	case OTF_CTRL_NACK:
		otf_msg_nack(h->orig, c->error, c->permanent, c->reason);
		unlink_held(p, h);
		break;
	case OTF_CTRL_KIL:
		otf_node_shutdown_done(p->node);
		break;
	default:
		break;
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void destroy(void *inst)
{
	ps_t *p = inst;
	while (p->list) {
		otf_msg_drop(p->list->orig);
		unlink_held(p, p->list);
	}
	for (int i = 0; i < C_N; i++)
		otf__sampler_counter_put(p->c[i]);
	otf_free(p);
}

/* CFG: the decision parameters are all derived from the config; held
 * messages keep their outcome. */
static int reconfigure(void *inst, const void *config, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	ps_t *p = inst;
	otf__ps_sampler_init(&p->sampler, config);
	return 0;
}

const otf_component_factory_t otf_processor_probabilistic_sampler_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "probabilistic_sampler",
    .description = "Keeps spans and log records with a probability, deciding from the trace id "
                   "(or a log attribute) as the Collector does; writes the W3C tracestate "
                   "ot=th threshold.",
    .stability = {OTF_STABILITY_BETA, OTF_STABILITY_UNDEFINED, OTF_STABILITY_ALPHA},
    .config_schema = k_schema,
    .config_size = sizeof(otf__ps_config_t),
    .validate = validate,
    .create = {create, NULL, create},
    .consume = {consume, NULL, consume},
    .control = control,
    .destroy = destroy,
    .reconfigure = reconfigure,
};
