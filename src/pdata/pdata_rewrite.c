/* Per-record rewrite of OTLP protobuf bytes (otflow/pdata_edit.h): one
 * forward pass, runs of fields off the path copied as bytes, each record
 * kept (one copy), dropped (nothing written) or patched. A patched record's
 * replaced members are encoded back to front into a scratch writer reused
 * for the whole request, with the protobuf encoder's own field helpers, so
 * they come out as otf_pdata_encode_* would write them; the record's other
 * fields are copied, and the result is written with room for its old
 * length varint (the rare resize moves it, as in pdata_edit.c). */
#include "otflow/pdata_edit.h"

#include "otflow/alloc.h"
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

/* ---- single-attribute edits (otf_pdata_attr_op_t) ---- */

typedef struct aslot {
	otf_bytes_t key;
	const uint8_t *f0; /* the KeyValue field in the record; NULL if appended */
	uint8_t hdr[12];   /* a changed value: this head, then tail (a string's bytes) */
	uint8_t hdr_len;
	otf_bytes_t tail;
	bool live, changed;
} aslot_t;

/* The AnyValue of a set, as a head and the string's bytes. */
static void any_head(aslot_t *s, const otf_any_value_t *v)
{
	size_t k = 0;
	s->tail = (otf_bytes_t){NULL, 0};
	switch (v->type) {
	case OTF_ANY_STRING:
		s->hdr[k++] = 0x0a;
		k += varint_put(s->hdr + k, v->u.string_value.len);
		s->tail = v->u.string_value;
		break;
	case OTF_ANY_BOOL:
		s->hdr[k++] = 0x10;
		s->hdr[k++] = v->u.bool_value ? 1 : 0;
		break;
	case OTF_ANY_INT:
		s->hdr[k++] = 0x18;
		k += varint_put(s->hdr + k, (uint64_t)v->u.int_value);
		break;
	case OTF_ANY_DOUBLE: {
		uint64_t u = otf__pb_double_to_u64(v->u.double_value);
		s->hdr[k++] = 0x21;
		memcpy(s->hdr + k, &u, 8);
		k += 8;
		break;
	}
	default: /* the caller sends only scalars; anything else: an empty value */
		break;
	}
	s->hdr_len = (uint8_t)k;
}

/* KeyValue contents size of a changed slot. */
static size_t kv_len(const aslot_t *s)
{
	size_t vl = s->hdr_len + s->tail.len;
	return 1 + varint_len(s->key.len) + s->key.len + 1 + varint_len(vl) + vl;
}

static int emit_kv(wr_t *w, uint32_t field, const aslot_t *s)
{
	size_t kv = kv_len(s), vl = s->hdr_len + s->tail.len;
	int rc = need(w, 2 + 10 + kv);
	if (rc)
		return rc;
	uint8_t t = (uint8_t)(field << 3 | OTF_WT_LEN);
	put(w, &t, 1);
	put_varint(w, kv);
	t = 0x0a;
	put(w, &t, 1);
	put_varint(w, s->key.len);
	put(w, s->key.ptr, s->key.len);
	t = 0x12;
	put(w, &t, 1);
	put_varint(w, vl);
	put(w, s->hdr, s->hdr_len);
	put(w, s->tail.ptr, s->tail.len);
	return 0;
}

/* The attribute slots of record r (field afield), then the ops run on
 * them with the tree's semantics. *out is stack or a heap array the
 * caller frees when it is not stack. */
static int attr_slots(otf_bytes_t r, uint32_t afield, const otf_pdata_attr_op_t *ops, size_t nops,
                      aslot_t *stack, size_t stack_cap, aslot_t **out, size_t *n)
{
	aslot_t *s = stack;
	size_t cap = stack_cap - nops, len = 0;
	const uint8_t *p = r.ptr, *end = r.ptr + r.len;
	int rc;
	*out = s;
	while (p < end) {
		const uint8_t *f0 = p, *sub;
		uint32_t f, wt;
		size_t l;
		if ((rc = otf__pb_tag(&p, end, &f, &wt)))
			return rc;
		if (f != afield) {
			if ((rc = skip(&p, end, wt)))
				return rc;
			continue;
		}
		if (wt != OTF_WT_LEN)
			return OTF_E_WIRETYPE;
		if ((rc = otf__pb_len(&p, end, &sub, &l)))
			return rc;
		if (len == cap) {
			aslot_t *ns = otf_malloc((cap * 2 + nops) * sizeof *ns);
			if (!ns)
				return OTF_E_NOMEM;
			memcpy(ns, s, len * sizeof *s);
			if (s != stack)
				otf_free(s);
			*out = s = ns;
			cap *= 2;
		}
		aslot_t *a = &s[len++];
		memset(a, 0, sizeof *a);
		a->f0 = f0;
		a->live = true;
		/* the key: KeyValue.key = 1 (last occurrence, as the decoder) */
		const uint8_t *q = sub, *qe = sub + l;
		while (q < qe) {
			uint32_t kf, kwt;
			if ((rc = otf__pb_tag(&q, qe, &kf, &kwt)))
				return rc;
			if (kf == 1 && kwt == OTF_WT_LEN) {
				const uint8_t *ks;
				size_t kl;
				if ((rc = otf__pb_len(&q, qe, &ks, &kl)))
					return rc;
				a->key = (otf_bytes_t){ks, kl};
			} else if ((rc = skip(&q, qe, kwt))) {
				return rc;
			}
		}
	}
	for (size_t i = 0; i < nops; i++) {
		const otf_pdata_attr_op_t *op = &ops[i];
		aslot_t *hit = NULL;
		for (size_t j = 0; j < len && !hit; j++)
			if (s[j].live && s[j].key.len == op->key.len &&
			    (!op->key.len || !memcmp(s[j].key.ptr, op->key.ptr, op->key.len)))
				hit = &s[j];
		if (op->del) {
			if (hit) {
				hit->live = false;
				hit->changed = true;
			}
			continue;
		}
		if (!hit) {
			hit = &s[len++];
			memset(hit, 0, sizeof *hit);
			hit->key = op->key;
			hit->live = true;
		}
		hit->changed = true;
		any_head(hit, &op->value);
	}
	*n = len;
	return 0;
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
	uint32_t afield = x->s == OTF_SIGNAL_LOGS ? 6 : 9;
	aslot_t stack[48], *sl = stack;
	size_t ns = 0, si = 0;
	int rc = 0;
	bool ops = x->rec.attr_nops && !(mask & (1u << afield));
	if (ops && x->rec.attr_nops > 16)
		return OTF_E_INVAL;
	if (ops &&
	    (rc = attr_slots(r, afield, x->rec.attr_ops, x->rec.attr_nops, stack, 48, &sl, &ns)))
		goto out;
	size_t at;
	uint8_t room;
	if ((rc = open_len(&x->w, tag, taglen, r.len, &at, &room)))
		goto out;
	const uint8_t *p = r.ptr, *end = r.ptr + r.len, *run = p;
	while (p < end) {
		const uint8_t *f0 = p;
		uint32_t f, wt;
		if ((rc = otf__pb_tag(&p, end, &f, &wt)) || (rc = skip(&p, end, wt)))
			goto out;
		bool cut = f < 32 && (mask & (1u << f));
		bool edit = ops && f == afield && sl[si++].changed;
		if (cut || edit) {
			if ((rc = need(&x->w, (size_t)(f0 - run))))
				goto out;
			put(&x->w, run, (size_t)(f0 - run));
			run = p;
		}
		if (edit && sl[si - 1].live && (rc = emit_kv(&x->w, afield, &sl[si - 1])))
			goto out;
	}
	size_t enc = otf__pb_wr_size(sw);
	if ((rc = need(&x->w, (size_t)(end - run) + enc)))
		goto out;
	put(&x->w, run, (size_t)(end - run));
	put(&x->w, sw->p, enc);
	for (; si < ns; si++) /* appended */
		if (sl[si].live && (rc = emit_kv(&x->w, afield, &sl[si])))
			goto out;
	rc = close_len(&x->w, at, room);
out:
	if (sl != stack)
		otf_free(sl);
	return rc;
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
			x->rec.attr_ops = NULL;
			x->rec.attr_nops = 0;
			x->st->records++;
			rc = x->fn(x->user, &x->rec);
			if (rc < 0)
				return rc;
			if (rc == OTF_PDATA_REC_DROP) {
				x->st->dropped++;
				continue;
			}
			(*kept)++;
			if (rc == OTF_PDATA_REC_PATCH && (x->rec.patch_mask || x->rec.attr_nops)) {
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
