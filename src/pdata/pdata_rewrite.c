/* Per-record rewrite of OTLP protobuf bytes (otflow/pdata_edit.h): one
 * forward pass, runs of fields off the path copied as bytes, each record
 * kept (one copy), dropped (nothing written) or patched. A patched record's
 * replaced members are encoded back to front into a scratch writer reused
 * for the whole request, with the protobuf encoder's own field helpers, so
 * they come out as otf_pdata_encode_* would write them; the record's other
 * fields are copied, and the result is written with room for its old
 * length varint (the rare resize moves it, as in pdata_edit.c). */
#include "otflow/pdata_edit.h"

#include "otflow/pdata_view.h"
#include "pb_encode_internal.h"
#include "pdata_wr.h"

#define HAS(n) (mask & (1u << (n)))

/* The members of LogRecord named by mask, as pb_encode_logs.c writes them
 * (descending field numbers: the writer goes back to front). */
static void log_fields(otf__pb_wr *w, const otf_log_record_t *r, uint32_t mask)
{
	if (HAS(12))
		otf__pbe_bytes(w, 12, r->event_name);
	if (HAS(11))
		otf__pbe_fixed64(w, 11, r->observed_time_unix_nano);
	if (HAS(10))
		otf__pbe_id(w, 10, r->span_id, OTF_SPAN_ID_LEN);
	if (HAS(9))
		otf__pbe_id(w, 9, r->trace_id, OTF_TRACE_ID_LEN);
	if (HAS(8))
		otf__pbe_fixed32(w, 8, r->flags);
	if (HAS(7))
		otf__pbe_varint(w, 7, r->dropped_attributes_count);
	if (HAS(6))
		otf__pbe_attributes(w, 6, &r->attributes);
	if (HAS(5) && r->body.type != OTF_ANY_EMPTY) {
		size_t m = otf__pb_wr_size(w);
		otf__pbe_any(w, &r->body, 1);
		otf__pbe_close(w, 5, m);
	}
	if (HAS(3))
		otf__pbe_bytes(w, 3, r->severity_text);
	if (HAS(2))
		otf__pbe_int32(w, 2, r->severity_number);
	if (HAS(1))
		otf__pbe_fixed64(w, 1, r->time_unix_nano);
}

/* The members of Span named by mask, as pb_encode_traces.c writes them. */
static void span_fields(otf__pb_wr *w, const otf_span_t *s, uint32_t mask)
{
	if (HAS(16))
		otf__pbe_fixed32(w, 16, s->flags);
	if (HAS(15) && (s->status.message.len || s->status.code)) {
		size_t m = otf__pb_wr_size(w);
		otf__pbe_int32(w, 3, s->status.code);
		otf__pbe_bytes(w, 2, s->status.message);
		otf__pbe_close(w, 15, m);
	}
	if (HAS(14))
		otf__pbe_varint(w, 14, s->dropped_links_count);
	if (HAS(12))
		otf__pbe_varint(w, 12, s->dropped_events_count);
	if (HAS(10))
		otf__pbe_varint(w, 10, s->dropped_attributes_count);
	if (HAS(9))
		otf__pbe_attributes(w, 9, &s->attributes);
	if (HAS(8))
		otf__pbe_fixed64(w, 8, s->end_time_unix_nano);
	if (HAS(7))
		otf__pbe_fixed64(w, 7, s->start_time_unix_nano);
	if (HAS(6))
		otf__pbe_int32(w, 6, s->kind);
	if (HAS(5))
		otf__pbe_bytes(w, 5, s->name);
	if (HAS(4))
		otf__pbe_id(w, 4, s->parent_span_id, OTF_SPAN_ID_LEN);
	if (HAS(3))
		otf__pbe_bytes(w, 3, s->trace_state);
	if (HAS(2))
		otf__pbe_id(w, 2, s->span_id, OTF_SPAN_ID_LEN);
	if (HAS(1))
		otf__pbe_id(w, 1, s->trace_id, OTF_TRACE_ID_LEN);
}

typedef struct rw {
	wr_t w;
	otf__pb_wr scratch;
	bool scratch_ready;
	otf_signal_t s;
	bool prune;
	otf_pdata_rec_fn fn;
	void *user;
	otf_pdata_rewrite_stats_t *st;
	otf_pdata_rec_t rec;
} rw_t;

/* Writes the record field (tag bytes tag..) with the masked members
 * replaced. */
static int patch(rw_t *x, const uint8_t *tag, size_t taglen, otf_bytes_t r)
{
	uint32_t mask = x->rec.patch_mask;
	/* events and links are not members a patch can carry */
	if (x->s == OTF_SIGNAL_TRACES)
		mask &= ~((1u << 11) | (1u << 13));
	if (!x->scratch_ready) {
		if (otf__pb_wr_init(&x->scratch, 1024))
			return OTF_E_NOMEM;
		x->scratch_ready = true;
	}
	otf__pb_wr *sw = &x->scratch;
	sw->p = sw->base + sw->buf->cap;
	if (x->s == OTF_SIGNAL_LOGS && x->rec.patch_log)
		log_fields(sw, x->rec.patch_log, mask);
	else if (x->s == OTF_SIGNAL_TRACES && x->rec.patch_span)
		span_fields(sw, x->rec.patch_span, mask);
	else
		return OTF_E_INVAL;
	if (sw->err)
		return sw->err;
	size_t at;
	uint8_t room;
	int rc = open_len(&x->w, tag, taglen, r.len, &at, &room);
	if (rc)
		return rc;
	const uint8_t *p = r.ptr, *end = r.ptr + r.len, *run = p;
	while (p < end) {
		const uint8_t *f0 = p;
		uint32_t f, wt;
		if ((rc = otf__pb_tag(&p, end, &f, &wt)) || (rc = skip(&p, end, wt)))
			return rc;
		if (f < 32 && (mask & (1u << f))) {
			if ((rc = need(&x->w, (size_t)(f0 - run))))
				return rc;
			put(&x->w, run, (size_t)(f0 - run));
			run = p;
		}
	}
	size_t enc = otf__pb_wr_size(sw);
	if ((rc = need(&x->w, (size_t)(end - run) + enc)))
		return rc;
	put(&x->w, run, (size_t)(end - run));
	put(&x->w, sw->p, enc);
	return close_len(&x->w, at, room);
}

enum { L_REQUEST, L_RES_GROUP, L_SCOPE_GROUP };

/* Walks one message of level lvl; *kept counts what stays of its children
 * (resource groups, scope groups, records). */
static int level(rw_t *x, const uint8_t *p, const uint8_t *end, int lvl, size_t *kept)
{
	const uint8_t *run = p; /* fields off the path not yet copied */
	int rc;
	if (lvl != L_REQUEST) {
		otf_view_group_t g;
		if ((rc = otf_view_group_read((otf_bytes_t){p, (size_t)(end - p)}, &g)))
			return rc;
		if (lvl == L_RES_GROUP) {
			x->rec.resource = g.head;
			x->rec.resource_schema_url = g.schema_url;
		} else {
			x->rec.scope = g.head;
			x->rec.scope_schema_url = g.schema_url;
		}
	}
	while (p < end) {
		const uint8_t *f0 = p;
		uint32_t f, wt;
		if ((rc = otf__pb_tag(&p, end, &f, &wt)))
			return rc;
		bool on_path = lvl == L_REQUEST ? f == 1 : f == 2;
		if (!on_path) {
			if ((rc = skip(&p, end, wt)))
				return rc;
			continue;
		}
		if (wt != OTF_WT_LEN)
			return OTF_E_WIRETYPE;
		const uint8_t *tag_end = p, *sub;
		size_t len;
		if ((rc = otf__pb_len(&p, end, &sub, &len)))
			return rc;
		if ((rc = need(&x->w, (size_t)(f0 - run))))
			return rc;
		put(&x->w, run, (size_t)(f0 - run));
		run = p;
		if (lvl == L_SCOPE_GROUP) {
			x->rec.record = (otf_bytes_t){sub, len};
			x->rec.patch_mask = 0;
			x->rec.patch_log = NULL;
			x->rec.patch_span = NULL;
			x->st->records++;
			rc = x->fn(x->user, &x->rec);
			if (rc < 0)
				return rc;
			if (rc == OTF_PDATA_REC_DROP) {
				x->st->dropped++;
				continue;
			}
			(*kept)++;
			if (rc == OTF_PDATA_REC_PATCH && x->rec.patch_mask) {
				x->st->patched++;
				if ((rc = patch(x, f0, (size_t)(tag_end - f0), x->rec.record)))
					return rc;
				continue;
			}
			if ((rc = need(&x->w, (size_t)(p - f0))))
				return rc;
			put(&x->w, f0, (size_t)(p - f0));
			continue;
		}
		size_t mark = x->w.buf->len, at, below = 0;
		uint8_t room;
		if ((rc = open_len(&x->w, f0, (size_t)(tag_end - f0), len, &at, &room)))
			return rc;
		rc = level(x, sub, sub + len, lvl == L_REQUEST ? L_RES_GROUP : L_SCOPE_GROUP,
		           &below);
		if (rc || (rc = close_len(&x->w, at, room)))
			return rc;
		if (x->prune && !below)
			x->w.buf->len = mark; /* left empty: removed, as the filter walkers do */
		else
			(*kept)++;
	}
	if ((rc = need(&x->w, (size_t)(end - run))))
		return rc;
	put(&x->w, run, (size_t)(end - run));
	return 0;
}

int otf_pdata_rewrite(otf_signal_t s, const uint8_t *in, size_t len, bool prune,
                      otf_pdata_rec_fn fn, void *user, otf_buf_t **out,
                      otf_pdata_rewrite_stats_t *st)
{
	if ((s != OTF_SIGNAL_LOGS && s != OTF_SIGNAL_TRACES) || !fn || !out || !st || (len && !in))
		return OTF_E_INVAL;
	memset(st, 0, sizeof *st);
	rw_t x = {.w = {otf_buf_create(len + len / 8 + 64)},
	          .s = s,
	          .prune = prune,
	          .fn = fn,
	          .user = user,
	          .st = st};
	if (!x.w.buf)
		return OTF_E_NOMEM;
	size_t kept = 0;
	int rc = level(&x, in, in + len, L_REQUEST, &kept);
	if (x.scratch_ready)
		otf__pb_wr_abort(&x.scratch);
	if (rc) {
		otf_buf_unref(x.w.buf);
		return rc;
	}
	*out = x.w.buf;
	return 0;
}
