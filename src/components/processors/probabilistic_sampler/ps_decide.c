/* probabilistic_sampler: the per-item decision (commonShouldSampleLogic of
 * the Collector's sampler_mode.go) on decoded traces and logs. See
 * probabilistic_sampler.h. */
#include "probabilistic_sampler.h"
#include "ps_sampling.h"

#include "otflow/err.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void otf__ps_sampler_init(otf__ps_sampler_t *s, const otf__ps_config_t *cfg)
{
	memset(s, 0, sizeof *s);
	float pct = (float)cfg->sampling_percentage;
	if (pct > 100.0f)
		pct = 100.0f;
	s->mode = cfg->mode;
	s->prec = (int)cfg->sampling_precision;
	s->seed = (uint32_t)cfg->hash_seed;
	s->fail_closed = cfg->fail_closed;
	s->logs_trace_id = cfg->attribute_source == OTF__PS_SOURCE_TRACE_ID;
	s->from_attr = cfg->from_attribute && *cfg->from_attribute ? cfg->from_attribute : NULL;
	s->priority_attr =
	    cfg->sampling_priority && *cfg->sampling_priority ? cfg->sampling_priority : NULL;
	if (pct == 0) {
		s->never = true;
		return;
	}
	double ratio = (double)pct / 100.0;
	if (ratio < 1.0 / (double)OTF__PS_MAX_ADJ)
		ratio = 1.0 / (double)OTF__PS_MAX_ADJ;
	s->ratio = ratio;
	switch (s->mode) {
	case OTF__PS_MODE_EQUALIZING:
		if (otf__ps_prob_to_threshold(ratio, s->prec, &s->threshold))
			s->threshold = 0;
		break;
	case OTF__PS_MODE_PROPORTIONAL:
		break;
	default:
		s->threshold = otf__ps_hash_threshold(pct);
		s->never = s->threshold == OTF__PS_NEVER;
		break;
	}
}

static bool id_valid(otf_bytes_t id)
{
	if (id.len != OTF_TRACE_ID_LEN)
		return false;
	for (size_t i = 0; i < id.len; i++)
		if (id.ptr[i])
			return true;
	return false;
}

static bool key_is(const otf_key_value_t *kv, const char *key)
{
	size_t n = strlen(key);
	return kv->key.len == n && !memcmp(kv->key.ptr, key, n);
}

static otf_key_value_t *attr_find(otf_attributes_t *a, const char *key)
{
	for (size_t i = 0; i < a->len; i++)
		if (key_is(&a->items[i], key))
			return &a->items[i];
	return NULL;
}

static int attr_put_str(otf_attributes_t *a, const char *key, const char *val, size_t n,
                        otf_arena_t *arena)
{
	uint8_t *v = otf_arena_memdup(arena, val, n ? n : 1);
	if (!v)
		return OTF_E_NOMEM;
	otf_key_value_t *kv = attr_find(a, key);
	if (!kv) {
		otf_key_value_t *items = otf_arena_alloc(arena, (a->len + 1) * sizeof *items);
		if (!items)
			return OTF_E_NOMEM;
		if (a->len)
			memcpy(items, a->items, a->len * sizeof *items);
		kv = &items[a->len];
		memset(kv, 0, sizeof *kv);
		kv->key = (otf_bytes_t){(const uint8_t *)key, strlen(key)};
		a->items = items;
		a->len++;
	}
	kv->value.type = OTF_ANY_STRING;
	kv->value.u.string_value = (otf_bytes_t){v, n};
	return 0;
}

static void attr_remove(otf_attributes_t *a, const char *key)
{
	for (size_t i = 0; i < a->len; i++)
		if (key_is(&a->items[i], key)) {
			memmove(&a->items[i], &a->items[i + 1],
			        (a->len - i - 1) * sizeof a->items[0]);
			a->len--;
			return;
		}
}

/* What a sampler decides with: the randomness (ALL when missing), the
 * threshold the item arrived with, and whether the item may be updated. */
enum { ERR_NONE = 0, ERR_PARSE, ERR_RND_IN_USE, ERR_TH_IN_USE, ERR_MISSING, ERR_INCONSISTENT };

static uint64_t decide(const otf__ps_sampler_t *s, bool has_th, uint64_t in_th)
{
	if (s->never)
		return OTF__PS_NEVER;
	switch (s->mode) {
	case OTF__PS_MODE_EQUALIZING:
		return has_th && s->threshold < in_th ? in_th : s->threshold;
	case OTF__PS_MODE_PROPORTIONAL: {
		double incoming = has_th ? otf__ps_threshold_prob(in_th) : 1.0;
		uint64_t th;
		if (otf__ps_prob_to_threshold(incoming * s->ratio, s->prec, &th))
			return OTF__PS_NEVER;
		return th;
	}
	default:
		return s->threshold;
	}
}

/* sampling.priority on spans (OpenTracing): 0 never, > 0 always, else
 * the decision stands. -1 never, 1 always, 0 defer. */
static int span_priority(otf_span_t *sp)
{
	otf_key_value_t *kv = attr_find(&sp->attributes, "sampling.priority");
	if (!kv)
		return 0;
	double v;
	switch (kv->value.type) {
	case OTF_ANY_INT:
		v = (double)kv->value.u.int_value;
		break;
	case OTF_ANY_DOUBLE:
		v = kv->value.u.double_value;
		break;
	case OTF_ANY_STRING: {
		char buf[64];
		size_t n = kv->value.u.string_value.len;
		if (!n || n >= sizeof buf)
			return 0;
		memcpy(buf, kv->value.u.string_value.ptr, n);
		buf[n] = 0;
		char *end;
		v = strtod(buf, &end);
		if (*end)
			return 0;
		break;
	}
	default:
		return 0;
	}
	return v == 0 ? -1 : v > 0 ? 1 : 0;
}

static int span_decide(const otf__ps_sampler_t *s, otf_span_t *sp, otf_arena_t *arena,
                       bool *sampled, int *err_out)
{
	otf__ps_tracestate_t ts;
	bool perr = otf__ps_tracestate_parse((const char *)sp->trace_state.ptr, sp->trace_state.len,
	                                     &ts) != 0;
	bool carrier = !perr, missing = true;
	uint64_t rnd = OTF__PS_ALL_RND;
	int err = perr ? ERR_PARSE : ERR_NONE;
	bool tid = id_valid(sp->trace_id);
	if (s->never) {
		missing = false; /* not looked at: nothing is sampled */
	} else if (s->mode == OTF__PS_MODE_HASH_SEED) {
		if (tid) {
			rnd = otf__ps_rnd_from_bytes(sp->trace_id.ptr, sp->trace_id.len, s->seed);
			missing = false;
		}
		if (!perr && ts.has_rv) {
			err = ERR_RND_IN_USE;
			carrier = false;
		} else if (!perr && ts.has_th) {
			err = ERR_TH_IN_USE;
			carrier = false;
		} else if (!perr) {
			otf__ps_tracestate_set_rv(&ts, rnd);
		}
	} else if (!perr) {
		if (ts.has_rv) {
			rnd = ts.rv;
			missing = false;
		} else if (tid) {
			rnd = otf__ps_rnd_from_trace_id(sp->trace_id.ptr);
			missing = false;
		}
	}
	if (!err) {
		if (missing) {
			err = ERR_MISSING;
		} else if (carrier && ts.has_th && rnd < ts.th) {
			ts.has_th = false;
			ts.th = 0;
			err = ERR_INCONSISTENT;
		}
	}
	uint64_t th = err ? (s->fail_closed ? OTF__PS_NEVER : 0) : decide(s, ts.has_th, ts.th);
	int prio = span_priority(sp);
	if (prio)
		th = prio < 0 ? OTF__PS_NEVER : 0;
	*sampled = rnd >= th;
	*err_out = err;
	if (*sampled && carrier) {
		(void)otf__ps_tracestate_set_th(&ts, th); /* refused: keeps the lower one */
		char buf[1100];
		int n = otf__ps_tracestate_format(&ts, buf, sizeof buf);
		if (n >= 0) {
			uint8_t *p = n ? otf_arena_memdup(arena, buf, (size_t)n) : NULL;
			if (n && !p)
				return OTF_E_NOMEM;
			sp->trace_state = (otf_bytes_t){p, (size_t)n};
		}
	}
	return 0;
}

int otf__ps_sample_traces(const otf__ps_sampler_t *s, otf_traces_t *t, otf_arena_t *arena,
                          otf__ps_counts_t *c)
{
	size_t nrs = 0;
	for (size_t r = 0; r < t->resource_spans_len; r++) {
		otf_resource_spans_t *rs = &t->resource_spans[r];
		size_t nss = 0;
		for (size_t k = 0; k < rs->scope_spans_len; k++) {
			otf_scope_spans_t *ss = &rs->scope_spans[k];
			size_t n = 0;
			for (size_t i = 0; i < ss->spans_len; i++) {
				bool keep;
				int err;
				int rc = span_decide(s, &ss->spans[i], arena, &keep, &err);
				if (rc)
					return rc;
				c->errors += err != ERR_NONE;
				if (keep) {
					c->sampled++;
					ss->spans[n++] = ss->spans[i];
				} else {
					c->dropped++;
				}
			}
			ss->spans_len = n;
			if (n)
				rs->scope_spans[nss++] = *ss;
		}
		rs->scope_spans_len = nss;
		if (nss)
			t->resource_spans[nrs++] = *rs;
	}
	t->resource_spans_len = nrs;
	return 0;
}

/* getBytesFromValue: bytes as they are, other values as pcommon's
 * AsString (strings as they are, ints in decimal, booleans as words). */
static size_t value_bytes(const otf_any_value_t *v, char *buf, size_t cap, const uint8_t **out)
{
	switch (v->type) {
	case OTF_ANY_STRING:
		*out = v->u.string_value.ptr;
		return v->u.string_value.len;
	case OTF_ANY_BYTES:
		*out = v->u.bytes_value.ptr;
		return v->u.bytes_value.len;
	case OTF_ANY_INT:
		*out = (const uint8_t *)buf;
		return (size_t)snprintf(buf, cap, "%lld", (long long)v->u.int_value);
	case OTF_ANY_BOOL:
		*out = (const uint8_t *)buf;
		return (size_t)snprintf(buf, cap, "%s", v->u.bool_value ? "true" : "false");
	case OTF_ANY_DOUBLE: {
		/* Shortest text that reads back as the same double. */
		*out = (const uint8_t *)buf;
		int n = 0;
		for (int p = 1; p <= 17; p++) {
			n = snprintf(buf, cap, "%.*g", p, v->u.double_value);
			if (strtod(buf, NULL) == v->u.double_value)
				break;
		}
		return n > 0 ? (size_t)n : 0;
	}
	default:
		return 0;
	}
}

static bool str_attr(otf_attributes_t *a, const char *key, otf_bytes_t *out)
{
	otf_key_value_t *kv = attr_find(a, key);
	if (!kv || kv->value.type != OTF_ANY_STRING || !kv->value.u.string_value.len)
		return false;
	*out = kv->value.u.string_value;
	return true;
}

static int log_decide(const otf__ps_sampler_t *s, otf_log_record_t *lr, otf_arena_t *arena,
                      bool *sampled, int *err_out)
{
	/* The log record carrier: sampling.threshold / sampling.randomness
	 * string attributes (logsprocessor.go). */
	bool has_th = false, has_rv = false, perr = false;
	uint64_t in_th = 0, in_rv = 0;
	otf_bytes_t v;
	if (str_attr(&lr->attributes, "sampling.threshold", &v)) {
		if (otf__ps_tvalue_parse((const char *)v.ptr, v.len, &in_th))
			perr = true;
		else
			has_th = true;
	}
	if (str_attr(&lr->attributes, "sampling.randomness", &v)) {
		if (otf__ps_rvalue_parse((const char *)v.ptr, v.len, &in_rv))
			perr = true;
		else
			has_rv = true;
	}
	bool carrier = !perr, missing = true;
	uint64_t rnd = OTF__PS_ALL_RND;
	int err = perr ? ERR_PARSE : ERR_NONE;
	bool tid = id_valid(lr->trace_id);
	if (s->never) {
		missing = false;
	} else if (s->mode == OTF__PS_MODE_HASH_SEED) {
		if (s->logs_trace_id && tid) {
			rnd = otf__ps_rnd_from_bytes(lr->trace_id.ptr, lr->trace_id.len, s->seed);
			missing = false;
		}
		if (missing && s->from_attr) {
			otf_key_value_t *kv = attr_find(&lr->attributes, s->from_attr);
			char buf[64];
			const uint8_t *b = NULL;
			size_t n = kv ? value_bytes(&kv->value, buf, sizeof buf, &b) : 0;
			if (n) {
				rnd = otf__ps_rnd_from_bytes(b, n, s->seed);
				missing = false;
			}
		}
		if (!perr && has_rv) {
			err = ERR_RND_IN_USE;
			carrier = false;
		} else if (!perr && has_th) {
			err = ERR_TH_IN_USE;
			carrier = false;
		} else if (!perr && !missing) {
			char rv[16];
			otf__ps_rvalue(rnd, rv);
			if (attr_put_str(&lr->attributes, "sampling.randomness", rv, OTF__PS_HEX,
			                 arena))
				return OTF_E_NOMEM;
		}
	} else if (!perr) {
		if (has_rv) {
			rnd = in_rv;
			missing = false;
		} else if (tid) {
			rnd = otf__ps_rnd_from_trace_id(lr->trace_id.ptr);
			missing = false;
		}
	}
	if (!err) {
		if (missing) {
			err = ERR_MISSING;
		} else if (carrier && has_th && rnd < in_th) {
			has_th = false;
			in_th = 0;
			attr_remove(&lr->attributes, "sampling.threshold");
			err = ERR_INCONSISTENT;
		}
	}
	uint64_t th = err ? (s->fail_closed ? OTF__PS_NEVER : 0) : decide(s, has_th, in_th);
	if (s->priority_attr) {
		/* Logs: the attribute is a percentage that replaces the
		 * decision's probability; 0 or not a number leaves it. */
		otf_key_value_t *kv = attr_find(&lr->attributes, s->priority_attr);
		double min_prob = 0;
		if (kv && kv->value.type == OTF_ANY_DOUBLE)
			min_prob = kv->value.u.double_value / 100.0;
		else if (kv && kv->value.type == OTF_ANY_INT)
			min_prob = (double)kv->value.u.int_value / 100.0;
		uint64_t pth;
		if (min_prob != 0 && !otf__ps_prob_to_threshold(min_prob, s->prec, &pth))
			th = pth;
	}
	*sampled = rnd >= th;
	*err_out = err;
	if (*sampled && carrier && !(has_th && th < in_th)) {
		char tv[16];
		size_t n = otf__ps_tvalue(th, tv);
		if (attr_put_str(&lr->attributes, "sampling.threshold", tv, n, arena))
			return OTF_E_NOMEM;
	}
	return 0;
}

int otf__ps_sample_logs(const otf__ps_sampler_t *s, otf_logs_t *l, otf_arena_t *arena,
                        otf__ps_counts_t *c)
{
	size_t nrl = 0;
	for (size_t r = 0; r < l->resource_logs_len; r++) {
		otf_resource_logs_t *rl = &l->resource_logs[r];
		size_t nsl = 0;
		for (size_t k = 0; k < rl->scope_logs_len; k++) {
			otf_scope_logs_t *sl = &rl->scope_logs[k];
			size_t n = 0;
			for (size_t i = 0; i < sl->log_records_len; i++) {
				bool keep;
				int err;
				int rc = log_decide(s, &sl->log_records[i], arena, &keep, &err);
				if (rc)
					return rc;
				c->errors += err != ERR_NONE;
				if (keep) {
					c->sampled++;
					sl->log_records[n++] = sl->log_records[i];
				} else {
					c->dropped++;
				}
			}
			sl->log_records_len = n;
			if (n)
				rl->scope_logs[nsl++] = *sl;
		}
		rl->scope_logs_len = nsl;
		if (nsl)
			l->resource_logs[nrl++] = *rl;
	}
	l->resource_logs_len = nrl;
	return 0;
}
