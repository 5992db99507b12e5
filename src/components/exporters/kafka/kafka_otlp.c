/* OTLP byte helpers of the kafka exporter and receiver (kafka_common.h):
 * resource groups, resource attributes and their hash, resource attributes
 * added. Kept apart from librdkafka and libuv so the fuzz target
 * (tests/fuzz/fuzz_kafka_otlp.c) builds it alone. */
#include "kafka_common.h"
#include "pdata/pb_varint.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/pdata_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- OTLP bytes ---- */

int otf__kafka_groups(const uint8_t *data, size_t len, otf_kafka_group_t *out, size_t cap)
{
	otf_view_iter_t it;
	otf_bytes_t g;
	int rc, n = 0;
	otf_view_resources(&it, data, len);
	while ((rc = otf_view_iter_next(&it, &g)) > 0) {
		if ((size_t)n < cap) {
			out[n].ptr = g.ptr;
			out[n].len = g.len;
		}
		n++;
	}
	return rc < 0 ? rc : n;
}

/* tag (field, wire type 2) + length */
static uint8_t *put_ld(uint8_t *p, uint32_t field, size_t len)
{
	p = otf__pb_varint_put(p, (uint64_t)field << 3 | 2);
	return otf__pb_varint_put(p, len);
}

static size_t ld_len(uint32_t field, size_t len)
{
	return otf__pb_varint_len((uint64_t)field << 3 | 2) + otf__pb_varint_len(len) + len;
}

size_t otf__kafka_group_wire_len(const otf_kafka_group_t *g)
{
	return ld_len(1, g->len);
}

void otf__kafka_group_write(otf_buf_t *b, const otf_kafka_group_t *g)
{
	uint8_t *p = put_ld(b->data + b->len, 1, g->len);
	memcpy(p, g->ptr, g->len);
	b->len = (size_t)(p + g->len - b->data);
}

static otf_bytes_t group_resource(const otf_kafka_group_t *g)
{
	otf_view_group_t vg;
	otf_bytes_t msg = {.ptr = g->ptr, .len = g->len};
	if (otf_view_group_read(msg, &vg) || !vg.has_head)
		return (otf_bytes_t){0};
	return vg.head;
}

int otf__kafka_group_attr(const otf_kafka_group_t *g, const char *key, size_t keylen,
                          const uint8_t **val, size_t *vallen)
{
	otf_bytes_t res = group_resource(g), kv, k, v;
	if (!res.ptr)
		return 0;
	otf_view_iter_t it;
	otf_view_resource_attributes(&it, res);
	int found = 0;
	while (otf_view_iter_next(&it, &kv) > 0) {
		if (otf_view_kv_read(kv, &k, &v) || k.len != keylen ||
		    (keylen && memcmp(k.ptr, key, keylen)))
			continue;
		otf_view_any_t any;
		found = 0;
		if (!otf_view_any_read(v, &any) && any.type == OTF_ANY_STRING) {
			*val = any.u.bytes.ptr;
			*vallen = any.u.bytes.len;
			found = 1; /* the last occurrence wins, as in a decoded map */
		}
	}
	return found;
}

typedef struct kvref {
	otf_bytes_t k, v;
} kvref_t;

static int kv_cmp(const void *a, const void *b)
{
	const kvref_t *x = a, *y = b;
	size_t n = x->k.len < y->k.len ? x->k.len : y->k.len;
	int c = n ? memcmp(x->k.ptr, y->k.ptr, n) : 0; /* an empty key may be NULL */
	if (c)
		return c;
	return x->k.len < y->k.len ? -1 : x->k.len > y->k.len;
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h;
}

int otf__kafka_group_hash(const otf_kafka_group_t *g, char hex[17])
{
	otf_bytes_t res = group_resource(g), kv;
	uint64_t h = 14695981039346656037ull;
	size_t n = 0;
	otf_view_iter_t it;
	if (res.ptr) {
		otf_view_resource_attributes(&it, res);
		while (otf_view_iter_next(&it, &kv) > 0)
			n++;
	}
	kvref_t *a = n ? otf_calloc(n, sizeof *a) : NULL;
	if (n && !a)
		return OTF_E_NOMEM;
	size_t i = 0;
	if (n) {
		otf_view_resource_attributes(&it, res);
		while (i < n && otf_view_iter_next(&it, &kv) > 0)
			if (!otf_view_kv_read(kv, &a[i].k, &a[i].v))
				i++;
		qsort(a, i, sizeof *a, kv_cmp);
	}
	for (size_t j = 0; j < i; j++) {
		uint8_t sep = 0;
		h = fnv(h, a[j].k.ptr, a[j].k.len);
		h = fnv(h, &sep, 1);
		h = fnv(h, a[j].v.ptr, a[j].v.len);
		h = fnv(h, &sep, 1);
	}
	otf_free(a);
	snprintf(hex, 17, "%016llx", (unsigned long long)h);
	return 0;
}

/* The fields of msg other than field `skip`, copied to dst when not NULL:
 * their byte count, or OTF_E_LENGTH when a field runs past the end. */
static int64_t other_fields(otf_bytes_t msg, uint32_t skip, uint8_t *dst)
{
	const uint8_t *q = msg.ptr, *end = msg.ptr + msg.len;
	int64_t total = 0;
	while (q < end) {
		const uint8_t *start = q;
		uint64_t tag = 0, l = 0;
		int shift = 0;
		while (q < end && (*q & 0x80) && shift < 63) {
			tag |= (uint64_t)(*q++ & 0x7f) << shift;
			shift += 7;
		}
		if (q >= end)
			return OTF_E_LENGTH;
		tag |= (uint64_t)*q++ << shift;
		const uint8_t *f = q;
		switch (tag & 7) {
		case 0:
			while (f < end && (*f & 0x80))
				f++;
			f++;
			break;
		case 1:
			f += 8;
			break;
		case 5:
			f += 4;
			break;
		case 2:
			shift = 0;
			while (f < end && (*f & 0x80) && shift < 63) {
				l |= (uint64_t)(*f++ & 0x7f) << shift;
				shift += 7;
			}
			if (f >= end)
				return OTF_E_LENGTH;
			l |= (uint64_t)*f++ << shift;
			if (l > (uint64_t)(end - f))
				return OTF_E_LENGTH;
			f += l;
			break;
		default:
			return OTF_E_WIRETYPE;
		}
		if (f > end)
			return OTF_E_LENGTH;
		if ((tag >> 3) != skip) {
			if (dst) {
				memcpy(dst, start, (size_t)(f - start));
				dst += f - start;
			}
			total += f - start;
		}
		q = f;
	}
	return total;
}

/* KeyValue{key = 1, value = 2: AnyValue{string_value = 1}} as field 1 of
 * a Resource. */
static size_t kv_wire_len(size_t kl, size_t vl)
{
	size_t any = ld_len(1, vl);
	return ld_len(1, ld_len(1, kl) + ld_len(2, any));
}

static uint8_t *kv_write(uint8_t *p, const char *k, size_t kl, const char *v, size_t vl)
{
	size_t any = ld_len(1, vl);
	p = put_ld(p, 1, ld_len(1, kl) + ld_len(2, any));
	p = put_ld(p, 1, kl);
	memcpy(p, k, kl);
	p += kl;
	p = put_ld(p, 2, any);
	p = put_ld(p, 1, vl);
	memcpy(p, v, vl);
	return p + vl;
}

int otf__kafka_add_resource_attrs(const uint8_t *data, size_t len, const char *const *keys,
                                  const char *const *vals, size_t n, otf_buf_t **out)
{
	size_t extra = 0;
	for (size_t i = 0; i < n; i++)
		extra += kv_wire_len(strlen(keys[i]), strlen(vals[i]));
	int ng = otf__kafka_groups(data, len, NULL, 0);
	if (ng < 0)
		return ng;
	/* Each group grows by the attributes plus at most two longer length
	 * prefixes (resource, group) and a resource tag. */
	size_t cap = len + (size_t)ng * (extra + 24) + 16;
	otf_buf_t *b = otf_buf_create(cap);
	if (!b)
		return OTF_E_NOMEM;
	otf_view_iter_t it;
	otf_bytes_t g;
	int rc;
	otf_view_resources(&it, data, len);
	while ((rc = otf_view_iter_next(&it, &g)) > 0) {
		/* The group's fields other than resource (1) are copied as they
		 * are; the resource is rewritten with the attributes appended. */
		otf_kafka_group_t kg = {g.ptr, g.len};
		otf_bytes_t res = group_resource(&kg);
		size_t res_len = (res.ptr ? res.len : 0) + extra;
		int64_t rest = other_fields(g, 1, NULL);
		if (rest < 0) {
			otf_buf_unref(b);
			return (int)rest;
		}
		uint8_t *p = b->data + b->len;
		p = put_ld(p, 1, ld_len(1, res_len) + (size_t)rest);
		p = put_ld(p, 1, res_len);
		if (res.ptr) {
			memcpy(p, res.ptr, res.len);
			p += res.len;
		}
		for (size_t i = 0; i < n; i++)
			p = kv_write(p, keys[i], strlen(keys[i]), vals[i], strlen(vals[i]));
		p += other_fields(g, 1, p);
		b->len = (size_t)(p - b->data);
	}
	if (rc < 0) {
		otf_buf_unref(b);
		return rc;
	}
	*out = b;
	return 0;
}

/* ---- partition_traces_by_id ---- */

typedef struct tid {
	uint8_t id[16];
	uint8_t len; /* 16, or 0 for spans without a valid trace id */
} tid_t;

static int tid_cmp(const void *a, const void *b)
{
	const tid_t *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->id, y->id, x->len);
}

static void span_tid(otf_bytes_t span, tid_t *t)
{
	otf_view_span_t v;
	t->len = 0;
	if (!otf_view_span_read(span, &v) && v.trace_id.len == 16) {
		memcpy(t->id, v.trace_id.ptr, 16);
		t->len = 16;
	}
}

/* Bytes of the spans of scope group sg with trace id t (as field 2). */
static size_t scope_match_len(otf_bytes_t sg, const tid_t *t)
{
	otf_view_iter_t it;
	otf_bytes_t sp;
	size_t n = 0;
	otf_view_records(&it, sg);
	while (otf_view_iter_next(&it, &sp) > 0) {
		tid_t x;
		span_tid(sp, &x);
		if (!tid_cmp(&x, t))
			n += ld_len(2, sp.len);
	}
	return n;
}

/* Content length of resource group rg restricted to trace t; 0: no span. */
static size_t group_match_len(otf_bytes_t rg, const tid_t *t)
{
	otf_view_iter_t it;
	otf_bytes_t sg;
	size_t n = 0;
	bool any = false;
	otf_view_scopes(&it, rg);
	while (otf_view_iter_next(&it, &sg) > 0) {
		size_t m = scope_match_len(sg, t);
		if (!m)
			continue;
		any = true;
		n += ld_len(2, (size_t)other_fields(sg, 2, NULL) + m);
	}
	return any ? n + (size_t)other_fields(rg, 2, NULL) : 0;
}

static uint8_t *write_trace(uint8_t *p, const uint8_t *data, size_t len, const tid_t *t)
{
	otf_view_iter_t rit, sit, pit;
	otf_bytes_t rg, sg, sp;
	otf_view_resources(&rit, data, len);
	while (otf_view_iter_next(&rit, &rg) > 0) {
		size_t rl = group_match_len(rg, t);
		if (!rl)
			continue;
		p = put_ld(p, 1, rl);
		p += other_fields(rg, 2, p);
		otf_view_scopes(&sit, rg);
		while (otf_view_iter_next(&sit, &sg) > 0) {
			size_t m = scope_match_len(sg, t);
			if (!m)
				continue;
			p = put_ld(p, 2, (size_t)other_fields(sg, 2, NULL) + m);
			p += other_fields(sg, 2, p);
			otf_view_records(&pit, sg);
			while (otf_view_iter_next(&pit, &sp) > 0) {
				tid_t x;
				span_tid(sp, &x);
				if (tid_cmp(&x, t))
					continue;
				p = put_ld(p, 2, sp.len);
				memcpy(p, sp.ptr, sp.len);
				p += sp.len;
			}
		}
	}
	return p;
}

int otf__kafka_split_traces(const uint8_t *data, size_t len, otf_kafka_trace_part_t **out,
                            size_t *nout)
{
	*out = NULL;
	*nout = 0;
	/* The request must walk cleanly: the copies below skip nothing. */
	otf_view_counts_t c;
	int rc = otf_view_count_traces(data, len, &c);
	if (rc)
		return rc;
	tid_t *ids = otf_calloc(c.records ? c.records : 1, sizeof *ids);
	if (!ids)
		return OTF_E_NOMEM;
	size_t n = 0;
	otf_view_iter_t rit, sit, pit;
	otf_bytes_t rg, sg, sp;
	otf_view_resources(&rit, data, len);
	while (otf_view_iter_next(&rit, &rg) > 0) {
		if (other_fields(rg, 2, NULL) < 0) {
			otf_free(ids);
			return OTF_E_LENGTH;
		}
		otf_view_scopes(&sit, rg);
		while (otf_view_iter_next(&sit, &sg) > 0) {
			if (other_fields(sg, 2, NULL) < 0) {
				otf_free(ids);
				return OTF_E_LENGTH;
			}
			otf_view_records(&pit, sg);
			while (n < c.records && otf_view_iter_next(&pit, &sp) > 0)
				span_tid(sp, &ids[n++]);
		}
	}
	qsort(ids, n, sizeof *ids, tid_cmp);
	size_t d = 0;
	for (size_t i = 0; i < n; i++)
		if (!d || tid_cmp(&ids[d - 1], &ids[i]))
			ids[d++] = ids[i];
	otf_kafka_trace_part_t *parts = otf_calloc(d ? d : 1, sizeof *parts);
	if (!parts) {
		otf_free(ids);
		return OTF_E_NOMEM;
	}
	for (size_t i = 0; i < d; i++) {
		size_t total = 0;
		otf_view_resources(&rit, data, len);
		while (otf_view_iter_next(&rit, &rg) > 0) {
			size_t rl = group_match_len(rg, &ids[i]);
			if (rl)
				total += ld_len(1, rl);
		}
		otf_buf_t *b = otf_buf_create(total ? total : 1);
		if (!b) {
			for (size_t k = 0; k < i; k++)
				otf_buf_unref(parts[k].buf);
			otf_free(parts);
			otf_free(ids);
			return OTF_E_NOMEM;
		}
		b->len = (size_t)(write_trace(b->data, data, len, &ids[i]) - b->data);
		parts[i].buf = b;
		for (int k = 0; k < ids[i].len; k++)
			snprintf(parts[i].key + 2 * k, 3, "%02x", ids[i].id[k]);
		parts[i].has_key = ids[i].len == 16;
	}
	otf_free(ids);
	*out = parts;
	*nout = d;
	return 0;
}
