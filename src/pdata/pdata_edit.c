/* In-place attribute editor over OTLP protobuf bytes (otflow/pdata_edit.h).
 *
 * One forward pass writes the output: runs of fields off the edited path
 * are copied as bytes. An attribute holder (log record, span, resource)
 * is parsed first (the key and value range of each KeyValue; values are
 * never decoded), the ops run on that list, and its new length is known
 * before it is written: its contents keep their order, a changed
 * attribute is re-encoded where it was, a deleted one left out, new ones
 * follow the end. A group (resource_*, scope_*) is written with room for
 * a length varint of its old size and the contents moved only in the
 * rare case the new length needs another size. An unchanged holder is one
 * copy. */
#include "otflow/pdata_edit.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "pdata_wr.h"

#include <string.h>

/* ---- one attribute list ---- */

/* Keys of one list often share a length (semantic-convention names):
 * the end bytes reject most of them before memcmp is called. */
static inline bool key_eq(otf_bytes_t a, otf_bytes_t b)
{
	return a.len == b.len &&
	       (a.len == 0 || (a.ptr[0] == b.ptr[0] && a.ptr[a.len - 1] == b.ptr[a.len - 1] &&
	                       !memcmp(a.ptr, b.ptr, a.len)));
}

typedef struct slot {
	otf_bytes_t key;
	const uint8_t *f0, *f1;    /* the whole field (tag to end) in the input; NULL if new */
	const uint8_t *hdr, *tail; /* value field payload: hdr then tail */
	size_t hdr_len, tail_len;
	bool has_val, live, changed;
} slot_t;

static int parse_kv(const uint8_t *p, const uint8_t *end, slot_t *s)
{
	while (p < end) {
		uint32_t f, wt;
		int rc = otf__pb_tag(&p, end, &f, &wt);
		if (rc)
			return rc;
		if (f == 1 || f == 2) {
			const uint8_t *sub;
			size_t n;
			if (wt != OTF_WT_LEN)
				return OTF_E_WIRETYPE;
			if ((rc = otf__pb_len(&p, end, &sub, &n)))
				return rc;
			if (f == 1) {
				s->key = (otf_bytes_t){sub, n};
			} else {
				s->hdr = sub;
				s->hdr_len = n;
				s->has_val = true;
			}
		} else if ((rc = skip(&p, end, wt))) {
			return rc;
		}
	}
	return 0;
}

static slot_t *find(slot_t *s, size_t n, otf_bytes_t key)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].live && key_eq(s[i].key, key))
			return &s[i];
	return NULL;
}

/* The value an op writes: the literal, or from_key's value. */
static bool op_value(const otf_pdata_edit_t *e, size_t i, slot_t *s, size_t n, slot_t *v)
{
	const otf_pdata_edit_op_t *op = &e->ops[i];
	memset(v, 0, sizeof *v);
	if (op->from_key.len) {
		slot_t *src = find(s, n, op->from_key);
		if (!src)
			return false;
		v->has_val = src->has_val;
		v->hdr = src->hdr;
		v->hdr_len = src->hdr_len;
		v->tail = src->tail;
		v->tail_len = src->tail_len;
		return true;
	}
	v->has_val = true;
	v->hdr = e->lit[i];
	v->hdr_len = e->lit_len[i];
	if (op->value.type == OTF_ANY_STRING) {
		v->tail = op->value.u.string_value.ptr;
		v->tail_len = op->value.u.string_value.len;
	}
	return true;
}

static void set_value(slot_t *d, const slot_t *v)
{
	d->changed = true;
	d->has_val = v->has_val;
	d->hdr = v->hdr;
	d->hdr_len = v->hdr_len;
	d->tail = v->tail;
	d->tail_len = v->tail_len;
}

/* Applies the ops; returns whether anything changed. */
static bool run_ops(const otf_pdata_edit_t *e, slot_t *s, size_t *n)
{
	bool changed = false;
	for (size_t i = 0; i < e->n; i++) {
		const otf_pdata_edit_op_t *op = &e->ops[i];
		slot_t v, *d;
		switch (op->kind) {
		case OTF_EDIT_DELETE:
			for (size_t j = 0; j < *n; j++)
				if (s[j].live && key_eq(s[j].key, op->key)) {
					s[j].live = false;
					s[j].changed = true;
					changed = true;
				}
			break;
		case OTF_EDIT_INSERT:
		case OTF_EDIT_UPDATE:
		case OTF_EDIT_UPSERT:
			if (!op_value(e, i, s, *n, &v))
				break;
			d = find(s, *n, op->key);
			if (d && op->kind != OTF_EDIT_INSERT) {
				set_value(d, &v);
				changed = true;
			} else if (!d && op->kind != OTF_EDIT_UPDATE) {
				d = &s[(*n)++];
				memset(d, 0, sizeof *d);
				d->key = op->key;
				d->live = true;
				set_value(d, &v);
				changed = true;
			}
			break;
		}
	}
	return changed;
}

/* Size of the KeyValue contents a changed slot gets. */
static size_t kv_size(const slot_t *s)
{
	size_t vl = s->hdr_len + s->tail_len;
	return 1 + varint_len(s->key.len) + s->key.len + (s->has_val ? 1 + varint_len(vl) + vl : 0);
}

/* Writes a changed slot; need() was called for it. */
static void emit_slot(wr_t *w, uint8_t tag, const slot_t *s, size_t kv)
{
	put(w, &tag, 1);
	put_varint(w, kv);
	uint8_t t = 0x0a;
	put(w, &t, 1);
	put_varint(w, s->key.len);
	put(w, s->key.ptr, s->key.len);
	if (s->has_val) {
		t = 0x12;
		put(w, &t, 1);
		put_varint(w, s->hdr_len + s->tail_len);
		put(w, s->hdr, s->hdr_len);
		put(w, s->tail, s->tail_len);
	}
}

/* An attribute holder (log record, span, resource) as a whole field: tag
 * bytes, exact length, then the contents in their original order with
 * changed attributes re-encoded where they were, deleted ones left out and
 * new ones after the end. With synth (a resource absent from the wire)
 * nothing is written unless an attribute is added. */
static int holder(const otf_pdata_edit_t *e, wr_t *w, const uint8_t *tag, size_t taglen,
                  const uint8_t *p, const uint8_t *end, uint32_t attr_field, bool synth,
                  size_t *edited)
{
	slot_t stack[64], *s = stack;
	size_t n = 0, cap = 64 - OTF_PDATA_EDIT_MAX_OPS;
	const uint8_t *start = p;
	int rc = 0;
	while (p < end) {
		const uint8_t *f0 = p;
		uint32_t f, wt;
		if ((rc = otf__pb_tag(&p, end, &f, &wt)))
			goto out;
		if (f != attr_field) {
			if ((rc = skip(&p, end, wt)))
				goto out;
			continue;
		}
		const uint8_t *sub;
		size_t len;
		if (wt != OTF_WT_LEN) {
			rc = OTF_E_WIRETYPE;
			goto out;
		}
		if ((rc = otf__pb_len(&p, end, &sub, &len)))
			goto out;
		if (OTF_UNLIKELY(n == cap)) {
			size_t ncap = cap * 2;
			slot_t *ns = otf_malloc((ncap + OTF_PDATA_EDIT_MAX_OPS) * sizeof *ns);
			if (!ns) {
				rc = OTF_E_NOMEM;
				goto out;
			}
			memcpy(ns, s, n * sizeof *s);
			if (s != stack)
				otf_free(s);
			s = ns;
			cap = ncap;
		}
		slot_t *sl = &s[n++];
		memset(sl, 0, sizeof *sl);
		sl->f0 = f0;
		sl->f1 = p;
		sl->live = true;
		if ((rc = parse_kv(sub, sub + len, sl)))
			goto out;
	}
	size_t orig = n;
	bool changed = run_ops(e, s, &n);
	if (changed && edited)
		(*edited)++;
	size_t olen = (size_t)(end - start), nlen = olen;
	for (size_t i = 0; i < n; i++) {
		if (!s[i].changed)
			continue;
		if (i < orig)
			nlen -= (size_t)(s[i].f1 - s[i].f0);
		if (s[i].live) {
			size_t kv = kv_size(&s[i]);
			nlen += 1 + varint_len(kv) + kv;
		}
	}
	if (synth && nlen == 0)
		goto out;
	if ((rc = need(w, taglen + 10 + nlen)))
		goto out;
	put(w, tag, taglen);
	put_varint(w, nlen);
	if (!changed) {
		put(w, start, olen);
		goto out;
	}
	uint8_t t = (uint8_t)(attr_field << 3 | OTF_WT_LEN);
	const uint8_t *cur = start;
	for (size_t i = 0; i < orig; i++) {
		if (!s[i].changed)
			continue;
		put(w, cur, (size_t)(s[i].f0 - cur));
		cur = s[i].f1;
		if (s[i].live)
			emit_slot(w, t, &s[i], kv_size(&s[i]));
	}
	put(w, cur, (size_t)(end - cur));
	for (size_t i = orig; i < n; i++)
		if (s[i].live)
			emit_slot(w, t, &s[i], kv_size(&s[i]));
out:
	if (s != stack)
		otf_free(s);
	return rc;
}

/* ---- the path ---- */

enum { L_REQUEST, L_RES_GROUP, L_SCOPE_GROUP };

typedef struct path {
	uint32_t record_attr; /* 6 log record, 9 span, 0 none */
	bool resource, records;
} path_t;

static int level(const otf_pdata_edit_t *e, const path_t *pt, wr_t *w, const uint8_t *p,
                 const uint8_t *end, int lvl, size_t *edited)
{
	bool seen_resource = false;
	const uint8_t *run = p; /* fields off the path not yet copied */
	int rc;
	while (p < end) {
		const uint8_t *f0 = p;
		uint32_t f, wt;
		if ((rc = otf__pb_tag(&p, end, &f, &wt)))
			return rc;
		/* what this field is on the path: 0 off it */
		int next = 0;
		if (lvl == L_REQUEST && f == 1)
			next = 1; /* resource_* group */
		else if (lvl == L_RES_GROUP && f == 1 && pt->resource)
			next = 2; /* resource */
		else if (lvl == L_RES_GROUP && f == 2 && pt->records)
			next = 3; /* scope_* group */
		else if (lvl == L_SCOPE_GROUP && f == 2)
			next = 4; /* record */
		if (!next) {
			if ((rc = skip(&p, end, wt)))
				return rc;
			continue;
		}
		if (wt != OTF_WT_LEN)
			return OTF_E_WIRETYPE;
		const uint8_t *tag_end = p, *sub;
		size_t len, at;
		uint8_t room;
		if ((rc = otf__pb_len(&p, end, &sub, &len)))
			return rc;
		if ((rc = need(w, (size_t)(f0 - run))))
			return rc;
		put(w, run, (size_t)(f0 - run));
		run = p;
		if (next == 2 || next == 4) {
			if (next == 2)
				seen_resource = true;
			rc = holder(e, w, f0, (size_t)(tag_end - f0), sub, sub + len,
			            next == 2 ? 1 : pt->record_attr, false, edited);
			if (rc)
				return rc;
			continue;
		}
		if ((rc = open_len(w, f0, (size_t)(tag_end - f0), len, &at, &room)))
			return rc;
		rc = level(e, pt, w, sub, sub + len, next == 1 ? L_RES_GROUP : L_SCOPE_GROUP,
		           edited);
		if (rc || (rc = close_len(w, at, room)))
			return rc;
	}
	if ((rc = need(w, (size_t)(end - run))))
		return rc;
	put(w, run, (size_t)(end - run));
	if (lvl == L_RES_GROUP && pt->resource && !seen_resource) {
		/* An empty resource is not on the wire, but an insert into it
		 * must be. */
		static const uint8_t tag = 0x0a;
		if ((rc = holder(e, w, &tag, 1, end, end, 1, true, edited)))
			return rc;
	}
	return 0;
}

int otf_pdata_edit_prepare(otf_pdata_edit_t *e, const otf_pdata_edit_op_t *ops, size_t n,
                           uint32_t targets)
{
	memset(e, 0, sizeof *e);
	if (n > OTF_PDATA_EDIT_MAX_OPS)
		return OTF_E_INVAL;
	for (size_t i = 0; i < n; i++) {
		const otf_pdata_edit_op_t *op = &ops[i];
		uint8_t *l = e->lit[i];
		size_t k = 0;
		if (op->kind > OTF_EDIT_DELETE)
			return OTF_E_INVAL;
		if (op->kind != OTF_EDIT_DELETE && !op->from_key.len) {
			switch (op->value.type) {
			case OTF_ANY_STRING:
				l[k++] = 0x0a;
				k += varint_put(l + k, op->value.u.string_value.len);
				break;
			case OTF_ANY_BOOL:
				l[k++] = 0x10;
				l[k++] = op->value.u.bool_value ? 1 : 0;
				break;
			case OTF_ANY_INT:
				l[k++] = 0x18;
				k += varint_put(l + k, (uint64_t)op->value.u.int_value);
				break;
			case OTF_ANY_DOUBLE: {
				uint64_t u = otf__pb_double_to_u64(op->value.u.double_value);
				l[k++] = 0x21;
				memcpy(l + k, &u, 8);
				k += 8;
				break;
			}
			default:
				return OTF_E_INVAL;
			}
		}
		e->ops[i] = *op;
		e->lit_len[i] = (uint8_t)k;
	}
	e->n = n;
	e->targets = targets;
	return 0;
}

int otf_pdata_edit_apply(const otf_pdata_edit_t *e, otf_signal_t s, const uint8_t *in, size_t len,
                         otf_buf_t **out, size_t *edited)
{
	path_t pt = {
	    .record_attr = s == OTF_SIGNAL_LOGS     ? 6
	                   : s == OTF_SIGNAL_TRACES ? 9
	                                            : 0,
	    .resource = (e->targets & OTF_EDIT_RESOURCE) != 0,
	};
	pt.records = (e->targets & OTF_EDIT_RECORDS) && pt.record_attr;
	if (edited)
		*edited = 0;
	wr_t w = {otf_buf_create(len + len / 4 + 64)};
	if (!w.buf)
		return OTF_E_NOMEM;
	int rc = level(e, &pt, &w, in, in + len, L_REQUEST, edited);
	if (rc) {
		otf_buf_unref(w.buf);
		return rc;
	}
	*out = w.buf;
	return 0;
}
