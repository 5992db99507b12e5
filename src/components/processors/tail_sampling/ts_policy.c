/* tail_sampling: the policy evaluators and the final decision, as the
 * Collector's internal/sampling, its Go files and processor.go makeDecision. */
#include "tail_sampling.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <string.h>

uint64_t otf__ts_hash(const char *salt, const uint8_t *b, size_t n)
{
	uint64_t h = 14695981039346656037ull;
	for (const unsigned char *s = (const unsigned char *)salt; *s; s++) {
		h ^= *s;
		h *= 1099511628211ull;
	}
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

uint64_t otf__ts_prob_threshold(double ratio)
{
	/* The Go code multiplies MaxUint64 by the ratio as a big.Float of 64
	 * bits precision and truncates: x86-64's long double has exactly that
	 * 64-bit significand and rounds to nearest even the same way. */
	if (ratio <= 0)
		return 0;
	long double v = (long double)UINT64_MAX * (long double)ratio;
	if (v >= 18446744073709551615.0L)
		return UINT64_MAX;
	return (uint64_t)v;
}

static const otf_any_value_t *attr_get(const otf_attributes_t *a, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; i < a->len; i++)
		if (a->items[i].key.len == n && !memcmp(a->items[i].key.ptr, key, n))
			return &a->items[i].value;
	return NULL;
}

/* pcommon's Str(), Int() and Bool(): the value when of that type, else
 * the zero value. */
static otf_bytes_t v_str(const otf_any_value_t *v)
{
	return v->type == OTF_ANY_STRING ? v->u.string_value : (otf_bytes_t){NULL, 0};
}
static int64_t v_int(const otf_any_value_t *v)
{
	return v->type == OTF_ANY_INT ? v->u.int_value : 0;
}
static bool v_bool(const otf_any_value_t *v)
{
	return v->type == OTF_ANY_BOOL && v->u.bool_value;
}

/* Does the attribute set match the policy's key and values? */
static bool attr_match(const otf__ts_policy_t *p, const otf_attributes_t *a, otf__ts_eval_t *e)
{
	const otf_any_value_t *v = attr_get(a, p->key);
	if (!v)
		return false;
	switch (p->type) {
	case TS_NUMERIC_ATTRIBUTE: {
		int64_t x = v_int(v);
		return x >= p->min_value && x <= p->max_value;
	}
	case TS_BOOLEAN_ATTRIBUTE:
		return v_bool(v) == p->bool_value;
	case TS_STRING_ATTRIBUTE: {
		otf_bytes_t s = v_str(v);
		for (size_t i = 0; i < p->n_values; i++) {
			if (p->regex) {
				int rc = pcre2_match(p->re[i], s.ptr ? s.ptr : (const uint8_t *)"",
				                     s.len, 0, 0, e->match_data, NULL);
				if (rc >= 0)
					return true;
			} else if (strlen(p->values[i]) == s.len &&
			           (!s.len || !memcmp(p->values[i], s.ptr, s.len))) {
				return true;
			}
		}
		return false;
	}
	default:
		return false;
	}
}

/* hasResourceOrSpanWithCondition / invertHasResourceOrSpanWithCondition
 * (util.go): resource by resource, the resource's attributes first, then
 * its spans. Inverted, any match means InvertNotSampled. */
static otf__ts_decision_t attr_policy(const otf__ts_policy_t *p, const otf_traces_t *t,
                                      otf__ts_eval_t *e)
{
	for (size_t r = 0; r < t->resource_spans_len; r++) {
		const otf_resource_spans_t *rs = &t->resource_spans[r];
		bool hit = attr_match(p, &rs->resource.attributes, e);
		for (size_t k = 0; k < rs->scope_spans_len && !hit; k++)
			for (size_t i = 0; i < rs->scope_spans[k].spans_len && !hit; i++)
				hit = attr_match(p, &rs->scope_spans[k].spans[i].attributes, e);
		if (hit)
			return p->invert_match ? TS_INVERT_NOT_SAMPLED : TS_SAMPLED;
	}
	return p->invert_match ? TS_INVERT_SAMPLED : TS_NOT_SAMPLED;
}

#define EACH_SPAN(t, rs, ss, sp)                                                                  \
	for (size_t r_ = 0; r_ < (t)->resource_spans_len; r_++)                                   \
		for (otf_resource_spans_t *rs = &(t)->resource_spans[r_]; rs; rs = NULL)          \
			for (size_t k_ = 0; k_ < rs->scope_spans_len; k_++)                       \
				for (otf_scope_spans_t *ss = &rs->scope_spans[k_]; ss; ss = NULL) \
					for (size_t i_ = 0; i_ < ss->spans_len; i_++)             \
						for (otf_span_t *sp = &ss->spans[i_]; sp; sp = NULL)

static otf__ts_decision_t latency(const otf__ts_policy_t *p, const otf_traces_t *t)
{
	/* As latency.go: the running span of the trace, checked span by
	 * span, so the first span that makes it long enough decides. */
	uint64_t lo = 0, hi = 0;
	EACH_SPAN(t, rs, ss, sp)
	{
		(void)rs;
		(void)ss;
		if (!lo || sp->start_time_unix_nano < lo)
			lo = sp->start_time_unix_nano;
		if (!hi || sp->end_time_unix_nano > hi)
			hi = sp->end_time_unix_nano;
		int64_t ms = (int64_t)(hi - lo) / 1000000;
		if (p->upper_threshold_ms == 0
		        ? ms >= p->threshold_ms
		        : ms > p->threshold_ms && ms <= p->upper_threshold_ms)
			return TS_SAMPLED;
	}
	return TS_NOT_SAMPLED;
}

static otf__ts_decision_t status_code(const otf__ts_policy_t *p, const otf_traces_t *t)
{
	EACH_SPAN(t, rs, ss, sp)
	{
		(void)rs;
		(void)ss;
		if (sp->status.code >= 0 && sp->status.code < 3 &&
		    (p->status_mask >> sp->status.code) & 1)
			return TS_SAMPLED;
	}
	return TS_NOT_SAMPLED;
}

/* trace_state (trace_state.go): a span whose W3C tracestate has key with
 * one of the values. */
static bool ts_member(otf_bytes_t ts, const otf__ts_policy_t *p)
{
	size_t kn = strlen(p->key), i = 0;
	const char *s = (const char *)ts.ptr;
	while (i < ts.len) {
		size_t a = i;
		while (i < ts.len && s[i] != ',')
			i++;
		size_t b = i++;
		while (a < b && (s[a] == ' ' || s[a] == '\t'))
			a++;
		while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
			b--;
		if (b - a > kn && s[a + kn] == '=' && !memcmp(s + a, p->key, kn)) {
			const char *v = s + a + kn + 1;
			size_t vn = b - a - kn - 1;
			for (size_t j = 0; j < p->n_values; j++)
				if (strlen(p->values[j]) == vn && !memcmp(p->values[j], v, vn))
					return true;
			return false;
		}
	}
	return false;
}

static otf__ts_decision_t trace_state(const otf__ts_policy_t *p, const otf_traces_t *t)
{
	EACH_SPAN(t, rs, ss, sp)
	{
		(void)rs;
		(void)ss;
		if (ts_member(sp->trace_state, p))
			return TS_SAMPLED;
	}
	return TS_NOT_SAMPLED;
}

static otf__ts_decision_t ottl_condition(const otf__ts_policy_t *p, otf_traces_t *t,
                                         otf__ts_eval_t *e)
{
	EACH_SPAN(t, rs, ss, sp)
	{
		otf_ottl_record_t rec = {.resource = &rs->resource,
		                         .resource_schema_url = &rs->schema_url,
		                         .scope = &ss->scope,
		                         .scope_schema_url = &ss->schema_url,
		                         .span = sp,
		                         .arena = e->arena};
		otf_ottl_stats_t st = {0};
		if (p->span_prog) {
			int rc = otf_ottl_match_any(p->span_prog, p->error_mode, &rec, &st);
			e->ottl_errors += st.errors;
			if (rc < 0)
				return TS_ERROR;
			if (rc > 0)
				return TS_SAMPLED;
		}
		for (size_t v = 0; p->event_prog && v < sp->events_len; v++) {
			rec.event = &sp->events[v];
			memset(&rec.cache, 0, sizeof rec.cache);
			memset(&st, 0, sizeof st);
			int rc = otf_ottl_match_any(p->event_prog, p->error_mode, &rec, &st);
			e->ottl_errors += st.errors;
			if (rc < 0)
				return TS_ERROR;
			if (rc > 0)
				return TS_SAMPLED;
		}
	}
	return TS_NOT_SAMPLED;
}

/* One second of a rate limit: the spans counted so far, reset each new
 * second. */
static otf__ts_state_t *second_of(otf__ts_eval_t *e, size_t slot)
{
	otf__ts_state_t *s = &e->state[slot];
	if (s->second != e->now_sec) {
		s->second = e->now_sec;
		s->spans = 0;
	}
	return s;
}

static otf__ts_decision_t composite(const otf__ts_policy_t *p, const otf__ts_trace_t *t,
                                    otf__ts_eval_t *e)
{
	otf__ts_state_t *own = &e->state[p->state];
	if (own->second != e->now_sec) {
		own->second = e->now_sec;
		for (size_t i = 0; i < p->n_subs; i++)
			e->state[p->state + 1 + i] = (otf__ts_state_t){e->now_sec, 0};
	}
	for (size_t i = 0; i < p->n_subs; i++) {
		otf__ts_decision_t d = otf__ts_policy_eval(&p->subs[i], t, e);
		if (d == TS_ERROR)
			return TS_ERROR;
		if (d == TS_SAMPLED || d == TS_INVERT_SAMPLED) {
			otf__ts_state_t *s = &e->state[p->state + 1 + i];
			int64_t if_sampled = s->spans + t->span_count;
			if (if_sampled <= p->alloc_sps[i] && if_sampled <= p->spans_per_second) {
				s->spans = if_sampled;
				return TS_SAMPLED;
			}
			return TS_NOT_SAMPLED;
		}
	}
	return TS_NOT_SAMPLED;
}

otf__ts_decision_t otf__ts_policy_eval(const otf__ts_policy_t *p, const otf__ts_trace_t *t,
                                       otf__ts_eval_t *e)
{
	switch (p->type) {
	case TS_ALWAYS_SAMPLE:
		return TS_SAMPLED;
	case TS_LATENCY:
		return latency(p, t->spans);
	case TS_NUMERIC_ATTRIBUTE:
	case TS_STRING_ATTRIBUTE:
	case TS_BOOLEAN_ATTRIBUTE:
		return attr_policy(p, t->spans, e);
	case TS_PROBABILISTIC:
		return otf__ts_hash(p->hash_salt, t->trace_id, 16) <= p->prob_threshold
		           ? TS_SAMPLED
		           : TS_NOT_SAMPLED;
	case TS_STATUS_CODE:
		return status_code(p, t->spans);
	case TS_RATE_LIMITING: {
		otf__ts_state_t *s = second_of(e, p->state);
		int64_t if_sampled = s->spans + t->span_count;
		if (if_sampled <= p->spans_per_second) {
			s->spans = if_sampled;
			return TS_SAMPLED;
		}
		return TS_NOT_SAMPLED;
	}
	case TS_SPAN_COUNT:
		return t->span_count >= p->min_spans &&
		               (!p->max_spans || t->span_count <= p->max_spans)
		           ? TS_SAMPLED
		           : TS_NOT_SAMPLED;
	case TS_OTTL_CONDITION:
		return ottl_condition(p, t->spans, e);
	case TS_AND:
	case TS_DROP:
		/* and samples, drop drops, when every sub-policy samples. */
		for (size_t i = 0; i < p->n_subs; i++) {
			otf__ts_decision_t d = otf__ts_policy_eval(&p->subs[i], t, e);
			if (d == TS_ERROR)
				return TS_ERROR;
			if (d == TS_NOT_SAMPLED || d == TS_INVERT_NOT_SAMPLED)
				return TS_NOT_SAMPLED;
		}
		return p->type == TS_AND ? TS_SAMPLED : TS_DROPPED;
	case TS_TRACE_STATE:
		return trace_state(p, t->spans);
	case TS_COMPOSITE:
		return composite(p, t, e);
	default:
		return TS_ERROR;
	}
}

bool otf__ts_decide(const otf__ts_config_t *cfg, const otf__ts_trace_t *t, otf__ts_eval_t *e,
                    int *first)
{
	int by[TS_ERROR + 1];
	for (int i = 0; i <= TS_ERROR; i++)
		by[i] = -1;
	for (size_t i = 0; i < cfg->policies.n; i++) {
		otf__ts_decision_t d = otf__ts_policy_eval(&cfg->policies.items[i], t, e);
		if (by[d] < 0)
			by[d] = (int)i;
		if (cfg->sample_on_first_match && d == TS_SAMPLED)
			break;
	}
	bool sampled = false;
	int who = -1;
	if (by[TS_DROPPED] >= 0) {
		who = by[TS_DROPPED];
	} else if (by[TS_INVERT_NOT_SAMPLED] >= 0) {
		who = by[TS_INVERT_NOT_SAMPLED];
	} else if (by[TS_SAMPLED] >= 0) {
		sampled = true;
		who = by[TS_SAMPLED];
	} else if (by[TS_INVERT_SAMPLED] >= 0 && by[TS_NOT_SAMPLED] < 0) {
		sampled = true;
		who = by[TS_INVERT_SAMPLED];
	}
	if (first)
		*first = who;
	return sampled;
}
