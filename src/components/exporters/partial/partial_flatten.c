/* Heartbeat/stop log records -> partial_traces rows (partial_flatten.h). */
#include "partial_flatten.h"

#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <stdio.h>
#include <string.h>

#define MAX_FREQUENCY_NS (24LL * 3600 * 1000000000LL)

void partial_hex(const uint8_t *p, size_t n, char *out)
{
	static const char k[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = k[p[i] >> 4];
		out[2 * i + 1] = k[p[i] & 15];
	}
	out[2 * n] = 0;
}

static bool bytes_eq(otf_bytes_t b, const char *s)
{
	size_t n = strlen(s);
	return b.len == n && !memcmp(b.ptr, s, n);
}

static bool is_partial_key(otf_bytes_t k)
{
	return k.len >= 8 && !memcmp(k.ptr, "partial.", 8);
}

static const otf_any_value_t *attr_get(const otf_attributes_t *a, const char *key)
{
	for (size_t i = 0; i < a->len; i++)
		if (bytes_eq(a->items[i].key, key))
			return &a->items[i].value;
	return NULL;
}

static bool attr_has(const otf_attributes_t *a, otf_bytes_t key)
{
	for (size_t i = 0; i < a->len; i++)
		if (a->items[i].key.len == key.len &&
		    !memcmp(a->items[i].key.ptr, key.ptr, key.len))
			return true;
	return false;
}

static bool id_ok(otf_bytes_t id, size_t want)
{
	if (id.len != want)
		return false;
	for (size_t i = 0; i < want; i++)
		if (id.ptr[i])
			return true;
	return false;
}

int partial_parse_frequency(const otf_any_value_t *v, int64_t *out_ns)
{
	int64_t ns;
	if (v->type == OTF_ANY_INT) {
		if (v->u.int_value <= 0 || v->u.int_value > MAX_FREQUENCY_NS / 1000000)
			return OTF_E_INVAL;
		ns = v->u.int_value * 1000000;
	} else if (v->type == OTF_ANY_STRING) {
		char tmp[64];
		otf_bytes_t s = v->u.string_value;
		if (!s.len || s.len >= sizeof tmp)
			return OTF_E_INVAL;
		memcpy(tmp, s.ptr, s.len);
		tmp[s.len] = 0;
		bool digits = true;
		for (size_t i = 0; i < s.len; i++)
			if (tmp[i] < '0' || tmp[i] > '9')
				digits = false;
		if (digits) {
			int64_t ms;
			if (otf_config_parse_int64(tmp, &ms) || ms <= 0 ||
			    ms > MAX_FREQUENCY_NS / 1000000)
				return OTF_E_INVAL;
			ns = ms * 1000000;
		} else if (otf_config_parse_duration(tmp, &ns)) {
			return OTF_E_INVAL;
		}
	} else {
		return OTF_E_INVAL;
	}
	if (ns <= 0 || ns > MAX_FREQUENCY_NS)
		return OTF_E_INVAL;
	*out_ns = ns;
	return 0;
}

static int b64val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int partial_base64_decode(const uint8_t *in, size_t len, otf_arena_t *a, otf_bytes_t *out)
{
	uint8_t *o = otf_arena_alloc(a, len / 4 * 3 + 3);
	if (!o)
		return OTF_E_NOMEM;
	size_t n = 0, pad = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = in[i];
		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		int v = b64val(c);
		if (v < 0 || pad)
			return OTF_E_INVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[n++] = (uint8_t)(acc >> bits);
		}
	}
	if (pad > 2 || bits >= 6)
		return OTF_E_INVAL;
	out->ptr = o;
	out->len = n;
	return 0;
}

static void skip(partial_flatten_stats_t *st, const char *why)
{
	if (!st->skipped++)
		snprintf(st->first_skip, sizeof st->first_skip, "%s", why);
}

static int decode_body(const otf_log_record_t *r, otf_arena_t *a, otf_traces_t *t, char *why,
                       size_t whylen)
{
	const otf_any_value_t *bt = attr_get(&r->attributes, "partial.body.type");
	bool json = false;
	if (bt) {
		if (bt->type == OTF_ANY_STRING && bytes_eq(bt->u.string_value, "json/v1")) {
			json = true;
		} else if (!(bt->type == OTF_ANY_STRING && bytes_eq(bt->u.string_value, "proto"))) {
			snprintf(why, whylen, "unknown partial.body.type (use proto or json/v1)");
			return OTF_E_INVAL;
		}
	}
	otf_pdata_error_t perr;
	memset(&perr, 0, sizeof perr);
	int rc;
	otf_bytes_t body;
	if (r->body.type == OTF_ANY_STRING)
		body = r->body.u.string_value;
	else if (r->body.type == OTF_ANY_BYTES)
		body = r->body.u.bytes_value;
	else {
		snprintf(why, whylen, "body is neither a string nor bytes");
		return OTF_E_INVAL;
	}
	if (json) {
		rc = otf_pdata_json_decode_traces(t, (const char *)body.ptr, body.len, a, NULL,
		                                  &perr);
	} else {
		otf_bytes_t raw = body;
		if (r->body.type == OTF_ANY_STRING) {
			rc = partial_base64_decode(body.ptr, body.len, a, &raw);
			if (rc) {
				snprintf(why, whylen, "body is not valid base64");
				return rc;
			}
		}
		rc = otf_pdata_decode_traces(t, raw.ptr, raw.len, a, NULL, &perr);
	}
	if (rc) {
		char buf[160];
		snprintf(why, whylen, "undecodable %s body: %s", json ? "json/v1" : "proto",
		         otf_pdata_error_format(&perr, buf, sizeof buf));
	}
	return rc;
}

static partial_row_t *row_add(partial_rows_t *out)
{
	if (out->len == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 16;
		partial_row_t *p = otf_realloc(out->items, cap * sizeof *p);
		if (!p)
			return NULL;
		out->items = p;
		out->cap = cap;
	}
	partial_row_t *r = &out->items[out->len++];
	memset(r, 0, sizeof *r);
	return r;
}

/* dst's own keys first, then src's keys that dst lacks (partial.* never). */
static int merge_attrs(otf_arena_t *a, const otf_attributes_t *dst, const otf_attributes_t *src,
                       otf_attributes_t *out)
{
	*out = *dst;
	size_t extra = 0;
	for (size_t i = 0; i < src->len; i++)
		if (!is_partial_key(src->items[i].key) && !attr_has(dst, src->items[i].key))
			extra++;
	if (!extra)
		return 0;
	otf_key_value_t *kv = otf_arena_alloc(a, (dst->len + extra) * sizeof *kv);
	if (!kv)
		return OTF_E_NOMEM;
	if (dst->len)
		memcpy(kv, dst->items, dst->len * sizeof *kv);
	size_t n = dst->len;
	for (size_t i = 0; i < src->len; i++)
		if (!is_partial_key(src->items[i].key) && !attr_has(dst, src->items[i].key))
			kv[n++] = src->items[i];
	out->items = kv;
	out->len = n;
	return 0;
}

static int heartbeat_row(const otf_resource_logs_t *rl, const otf_log_record_t *r,
                         const otf_resource_spans_t *rs, const otf_scope_spans_t *ss,
                         const otf_span_t *span, int64_t expiry_ms, otf_arena_t *a,
                         partial_rows_t *out)
{
	otf_resource_spans_t nrs = *rs;
	otf_scope_spans_t nss = *ss;
	otf_span_t nsp = *span;
	int rc = merge_attrs(a, &rs->resource.attributes, &rl->resource.attributes,
	                     &nrs.resource.attributes);
	if (!rc)
		rc = merge_attrs(a, &span->attributes, &r->attributes, &nsp.attributes);
	if (rc)
		return rc;
	nss.spans = &nsp;
	nss.spans_len = 1;
	nrs.scope_spans = &nss;
	nrs.scope_spans_len = 1;
	otf_traces_t t = {.resource_spans = &nrs, .resource_spans_len = 1};
	otf_buf_t *b = NULL;
	rc = otf_pdata_encode_traces(&t, &b);
	if (rc)
		return rc;
	partial_row_t *row = row_add(out);
	if (!row) {
		otf_buf_unref(b);
		return OTF_E_NOMEM;
	}
	partial_hex(span->trace_id.ptr, 16, row->trace_id);
	partial_hex(span->span_id.ptr, 8, row->span_id);
	row->expiry_ms = expiry_ms;
	row->seen_unix_nano =
	    (int64_t)(r->time_unix_nano ? r->time_unix_nano : r->observed_time_unix_nano);
	row->trace = b;
	return 0;
}

static int stop_row(const otf_log_record_t *r, otf_bytes_t tid, otf_bytes_t sid, int64_t ttl_ms,
                    partial_rows_t *out)
{
	partial_row_t *row = row_add(out);
	if (!row)
		return OTF_E_NOMEM;
	partial_hex(tid.ptr, 16, row->trace_id);
	partial_hex(sid.ptr, 8, row->span_id);
	row->stop = true;
	row->expiry_ms = ttl_ms;
	row->seen_unix_nano =
	    (int64_t)(r->time_unix_nano ? r->time_unix_nano : r->observed_time_unix_nano);
	return 0;
}

static int one_record(const otf_resource_logs_t *rl, const otf_log_record_t *r,
                      const partial_flatten_opts_t *o, otf_arena_t *a, partial_rows_t *out,
                      partial_flatten_stats_t *st)
{
	const otf_any_value_t *ev = attr_get(&r->attributes, "partial.event");
	bool stop;
	if (ev && ev->type == OTF_ANY_STRING && bytes_eq(ev->u.string_value, "heartbeat")) {
		stop = false;
	} else if (ev && ev->type == OTF_ANY_STRING && bytes_eq(ev->u.string_value, "stop")) {
		stop = true;
	} else {
		skip(st, ev ? "partial.event is neither heartbeat nor stop" : "no partial.event");
		return 0;
	}
	int64_t expiry_ms = o->tombstone_ttl_ms;
	if (!stop) {
		const otf_any_value_t *fv = attr_get(&r->attributes, "partial.frequency");
		int64_t ns;
		if (!fv || partial_parse_frequency(fv, &ns)) {
			skip(st, fv ? "partial.frequency is not a duration in (0, 24h]"
			            : "heartbeat without partial.frequency");
			return 0;
		}
		expiry_ms = ns / 1000000 * o->expiry_factor;
		if (!expiry_ms)
			expiry_ms = 1;
	}
	char why[200];
	otf_traces_t t;
	int rc = decode_body(r, a, &t, why, sizeof why);
	if (rc == OTF_E_NOMEM)
		return rc;
	size_t before = out->len;
	bool bad_id = false;
	if (!rc) {
		for (size_t i = 0; i < t.resource_spans_len; i++) {
			const otf_resource_spans_t *rs = &t.resource_spans[i];
			for (size_t j = 0; j < rs->scope_spans_len; j++) {
				const otf_scope_spans_t *ss = &rs->scope_spans[j];
				for (size_t k = 0; k < ss->spans_len; k++) {
					const otf_span_t *sp = &ss->spans[k];
					if (!id_ok(sp->trace_id, 16) || !id_ok(sp->span_id, 8)) {
						bad_id = true;
						continue;
					}
					int e = stop ? stop_row(r, sp->trace_id, sp->span_id,
					                        expiry_ms, out)
					             : heartbeat_row(rl, r, rs, ss, sp, expiry_ms,
					                             a, out);
					if (e)
						return e;
				}
			}
		}
	}
	if (stop && out->len == before && id_ok(r->trace_id, 16) && id_ok(r->span_id, 8)) {
		/* A stop needs ids only: the record's own context will do. */
		int e = stop_row(r, r->trace_id, r->span_id, expiry_ms, out);
		if (e)
			return e;
	}
	size_t added = out->len - before;
	if (!added) {
		skip(st, rc       ? why
		         : bad_id ? "span with empty or all-zero trace/span id"
		                  : "body holds no span");
		return 0;
	}
	if (stop)
		st->stops += added;
	else
		st->heartbeats += added;
	return 0;
}

int partial_flatten_logs(const otf_logs_t *logs, const partial_flatten_opts_t *o,
                         otf_arena_t *arena, partial_rows_t *out, partial_flatten_stats_t *st)
{
	for (size_t i = 0; i < logs->resource_logs_len; i++) {
		const otf_resource_logs_t *rl = &logs->resource_logs[i];
		for (size_t j = 0; j < rl->scope_logs_len; j++) {
			const otf_scope_logs_t *sl = &rl->scope_logs[j];
			for (size_t k = 0; k < sl->log_records_len; k++) {
				st->records++;
				int rc = one_record(rl, &sl->log_records[k], o, arena, out, st);
				if (rc)
					return rc;
			}
		}
	}
	return 0;
}

void partial_rows_clear(partial_rows_t *r)
{
	for (size_t i = 0; i < r->len; i++)
		otf_buf_unref(r->items[i].trace);
	r->len = 0;
}

void partial_rows_free(partial_rows_t *r)
{
	partial_rows_clear(r);
	otf_free(r->items);
	r->items = NULL;
	r->cap = 0;
}
