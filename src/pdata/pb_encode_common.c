/* Protobuf encoding of the messages every signal shares: AnyValue, KeyValue
 * lists, Resource (with EntityRefs), InstrumentationScope; plus the writer
 * setup used by every encoder. Field numbers: common.proto, resource.proto. */
#include "pb_encode_internal.h"

static void kv_list(otf__pb_wr *w, uint32_t field, const otf_key_value_t *items, size_t len,
                    uint32_t depth);

void otf__pbe_packed_varint(otf__pb_wr *w, uint32_t field, const uint64_t *a, size_t n)
{
	if (!n)
		return;
	if (OTF_UNLIKELY(n > (SIZE_MAX - 32) / 10)) {
		if (!w->err)
			w->err = OTF_E_NOMEM;
		return;
	}
	if (OTF_UNLIKELY(!otf__pb_wr_need(w, n * 10 + 12)))
		return;
	uint8_t *end = w->p, *p = end;
	for (size_t i = n; i-- > 0;)
		p = otf__pbe_varint_at(p, a[i]);
	p = otf__pbe_varint_at(p, (uint64_t)(end - p));
	w->p = otf__pbe_varint_at(p, OTF__PBE_KEY(field, OTF_WT_LEN));
}

void otf__pbe_any(otf__pb_wr *w, const otf_any_value_t *v, uint32_t depth)
{
	/* The decoders' default limit: anything they accept encodes, and a
	 * cyclic tree cannot recurse without bound. */
	if (OTF_UNLIKELY(depth > OTF_PDATA_DEFAULT_MAX_DEPTH)) {
		if (!w->err)
			w->err = OTF_E_DEPTH;
		return;
	}
	size_t mark;
	switch (v->type) {
	case OTF_ANY_EMPTY:
		break;
	/* oneof members are written even when they hold the zero value: the
	 * member's presence is the information. */
	case OTF_ANY_STRING:
		otf__pbe_bytes_always(w, 1, v->u.string_value.ptr, v->u.string_value.len);
		break;
	case OTF_ANY_BOOL:
		otf__pbe_varint_always(w, 2, v->u.bool_value ? 1 : 0);
		break;
	case OTF_ANY_INT:
		otf__pbe_varint_always(w, 3, (uint64_t)v->u.int_value);
		break;
	case OTF_ANY_DOUBLE:
		otf__pbe_fixed64_always(w, 4, otf__pb_double_to_u64(v->u.double_value));
		break;
	case OTF_ANY_ARRAY:
		mark = otf__pb_wr_size(w);
		/* ArrayValue.values = 1; elements last to first. */
		for (size_t i = v->u.array_value.values_len; i-- > 0 && !w->err;) {
			size_t m = otf__pb_wr_size(w);
			otf__pbe_any(w, &v->u.array_value.values[i], depth + 1);
			otf__pbe_close(w, 1, m);
		}
		otf__pbe_close(w, 5, mark);
		break;
	case OTF_ANY_KVLIST:
		mark = otf__pb_wr_size(w);
		/* KeyValueList.values = 1 */
		kv_list(w, 1, v->u.kvlist_value.values, v->u.kvlist_value.values_len, depth + 1);
		otf__pbe_close(w, 6, mark);
		break;
	case OTF_ANY_BYTES:
		otf__pbe_bytes_always(w, 7, v->u.bytes_value.ptr, v->u.bytes_value.len);
		break;
	default:
		/* Not a value the decoders produce: refuse rather than drop it. */
		if (!w->err)
			w->err = OTF_E_INVAL;
		break;
	}
}

/* A string-valued KeyValue in one reservation: the most common attribute,
 * so it skips the per-field checks of the general path. */
static inline void kv_string(otf__pb_wr *w, uint32_t field, otf_bytes_t key, otf_bytes_t val)
{
	if (OTF_UNLIKELY(key.len > SIZE_MAX / 4 || val.len > SIZE_MAX / 4)) {
		if (!w->err)
			w->err = OTF_E_NOMEM;
		return;
	}
	if (OTF_UNLIKELY(!otf__pb_wr_need(w, key.len + val.len + 48)))
		return;
	uint8_t *end = w->p, *p = end - val.len;
	if (val.len)
		memcpy(p, val.ptr, val.len);
	p = otf__pbe_varint_at(p, val.len);
	*--p = (uint8_t)OTF__PBE_KEY(1, OTF_WT_LEN); /* AnyValue.string_value */
	p = otf__pbe_varint_at(p, (uint64_t)(end - p));
	*--p = (uint8_t)OTF__PBE_KEY(2, OTF_WT_LEN); /* KeyValue.value */
	if (key.len) {
		p -= key.len;
		memcpy(p, key.ptr, key.len);
		p = otf__pbe_varint_at(p, key.len);
		*--p = (uint8_t)OTF__PBE_KEY(1, OTF_WT_LEN); /* KeyValue.key */
	}
	p = otf__pbe_varint_at(p, (uint64_t)(end - p));
	w->p = otf__pbe_varint_at(p, OTF__PBE_KEY(field, OTF_WT_LEN));
}

/* KeyValue elements of field `field`, last to first. The value submessage
 * is always written (an empty AnyValue as a zero-length one), as the Go
 * Collector does, so a present-but-empty value survives a round trip. */
static void kv_list(otf__pb_wr *w, uint32_t field, const otf_key_value_t *items, size_t len,
                    uint32_t depth)
{
	for (size_t i = len; i-- > 0 && !w->err;) {
		const otf_key_value_t *kv = &items[i];
		if (kv->value.type == OTF_ANY_STRING && depth <= OTF_PDATA_DEFAULT_MAX_DEPTH) {
			kv_string(w, field, kv->key, kv->value.u.string_value);
			continue;
		}
		size_t mark = otf__pb_wr_size(w);
		size_t mv = mark;
		otf__pbe_any(w, &kv->value, depth);
		otf__pbe_close(w, 2, mv);
		otf__pbe_bytes(w, 1, kv->key);
		otf__pbe_close(w, field, mark);
	}
}

void otf__pbe_attributes(otf__pb_wr *w, uint32_t field, const otf_attributes_t *a)
{
	kv_list(w, field, a->items, a->len, 1);
}

static void string_list(otf__pb_wr *w, uint32_t field, const otf_string_list_t *l)
{
	/* Elements of a repeated string are written even when empty. */
	for (size_t i = l->len; i-- > 0 && !w->err;)
		otf__pbe_bytes_always(w, field, l->items[i].ptr, l->items[i].len);
}

static void entity_ref(otf__pb_wr *w, const otf_entity_ref_t *e)
{
	string_list(w, 4, &e->description_keys);
	string_list(w, 3, &e->id_keys);
	otf__pbe_bytes(w, 2, e->type);
	otf__pbe_bytes(w, 1, e->schema_url);
}

void otf__pbe_resource(otf__pb_wr *w, uint32_t field, const otf_resource_t *r)
{
	if (!r->attributes.len && !r->dropped_attributes_count && !r->entity_refs_len)
		return;
	size_t mark = otf__pb_wr_size(w);
	for (size_t i = r->entity_refs_len; i-- > 0 && !w->err;) {
		size_t m = otf__pb_wr_size(w);
		entity_ref(w, &r->entity_refs[i]);
		otf__pbe_close(w, 3, m);
	}
	otf__pbe_varint(w, 2, r->dropped_attributes_count);
	otf__pbe_attributes(w, 1, &r->attributes);
	otf__pbe_close(w, field, mark);
}

void otf__pbe_scope(otf__pb_wr *w, uint32_t field, const otf_scope_t *s)
{
	if (!s->name.len && !s->version.len && !s->attributes.len && !s->dropped_attributes_count)
		return;
	size_t mark = otf__pb_wr_size(w);
	otf__pbe_varint(w, 4, s->dropped_attributes_count);
	otf__pbe_attributes(w, 3, &s->attributes);
	otf__pbe_bytes(w, 2, s->version);
	otf__pbe_bytes(w, 1, s->name);
	otf__pbe_close(w, field, mark);
}

int otf__pbe_begin(otf__pb_wr *w, size_t estimate)
{
	/* An estimate is only a starting size: cap it so a silly count cannot
	 * reserve gigabytes up front; the writer grows past it if needed. */
	if (estimate > ((size_t)64 << 20))
		estimate = (size_t)64 << 20;
	return otf__pb_wr_init(w, estimate);
}

int otf__pbe_end(otf__pb_wr *w, otf_buf_t **out)
{
	return otf__pb_wr_finish(w, out);
}
