/* OTLP/JSON encoding of the messages every signal shares: AnyValue,
 * KeyValue lists, Resource (with EntityRefs), InstrumentationScope, and the
 * Export*ServiceResponse. */
#include "json_internal.h"

#include "otflow/err.h"

static void kv_list(otf__jw *w, const otf_key_value_t *items, size_t len, uint32_t depth)
{
	otf__jw_ch(w, '[');
	for (size_t i = 0; i < len && !w->err; i++) {
		otf__jw_sep(w);
		otf__jw_ch(w, '{');
		otf__jw_f_str(w, "key", items[i].key);
		/* A missing value (EMPTY) is an absent message: omit it. */
		if (items[i].value.type != OTF_ANY_EMPTY) {
			otf__jw_key(w, "value");
			otf__jw_any(w, &items[i].value, depth);
		}
		otf__jw_ch(w, '}');
	}
	otf__jw_ch(w, ']');
}

void otf__jw_f_attributes(otf__jw *w, const char *key, const otf_attributes_t *a)
{
	if (!a->len)
		return;
	otf__jw_key(w, key);
	kv_list(w, a->items, a->len, 1);
}

void otf__jw_any(otf__jw *w, const otf_any_value_t *v, uint32_t depth)
{
	/* Same limit as the decoders' default, so anything we decoded we can
	 * encode, and a cyclic or absurd tree cannot recurse without bound. */
	if (depth > OTF_PDATA_DEFAULT_MAX_DEPTH) {
		if (!w->err)
			w->err = OTF_E_DEPTH;
		return;
	}
	otf__jw_ch(w, '{');
	switch (v->type) {
	case OTF_ANY_EMPTY:
		break;
	case OTF_ANY_STRING:
		otf__jw_key(w, "stringValue");
		otf__jw_str(w, v->u.string_value.ptr, v->u.string_value.len);
		break;
	case OTF_ANY_BOOL:
		otf__jw_key(w, "boolValue");
		otf__jw_raw(w, v->u.bool_value ? "true" : "false", v->u.bool_value ? 4 : 5);
		break;
	case OTF_ANY_INT:
		otf__jw_key(w, "intValue");
		otf__jw_i64s(w, v->u.int_value);
		break;
	case OTF_ANY_DOUBLE:
		otf__jw_key(w, "doubleValue");
		otf__jw_double(w, v->u.double_value);
		break;
	case OTF_ANY_ARRAY:
		otf__jw_key(w, "arrayValue");
		otf__jw_ch(w, '{');
		if (v->u.array_value.values_len) {
			otf__jw_key(w, "values");
			otf__jw_ch(w, '[');
			for (size_t i = 0; i < v->u.array_value.values_len && !w->err; i++) {
				otf__jw_sep(w);
				otf__jw_any(w, &v->u.array_value.values[i], depth + 1);
			}
			otf__jw_ch(w, ']');
		}
		otf__jw_ch(w, '}');
		break;
	case OTF_ANY_KVLIST:
		otf__jw_key(w, "kvlistValue");
		otf__jw_ch(w, '{');
		if (v->u.kvlist_value.values_len) {
			otf__jw_key(w, "values");
			kv_list(w, v->u.kvlist_value.values, v->u.kvlist_value.values_len,
			        depth + 1);
		}
		otf__jw_ch(w, '}');
		break;
	case OTF_ANY_BYTES:
		otf__jw_key(w, "bytesValue");
		otf__jw_base64(w, v->u.bytes_value.ptr, v->u.bytes_value.len);
		break;
	}
	otf__jw_ch(w, '}');
}

static void string_list(otf__jw *w, const char *key, const otf_string_list_t *l)
{
	if (!l->len)
		return;
	otf__jw_key(w, key);
	otf__jw_ch(w, '[');
	for (size_t i = 0; i < l->len; i++) {
		otf__jw_sep(w);
		otf__jw_str(w, l->items[i].ptr, l->items[i].len);
	}
	otf__jw_ch(w, ']');
}

void otf__jw_f_resource(otf__jw *w, const otf_resource_t *r)
{
	/* The tree has no presence bit for Resource: an all-default resource is
	 * written as absent. */
	if (!r->attributes.len && !r->dropped_attributes_count && !r->entity_refs_len)
		return;
	otf__jw_key(w, "resource");
	otf__jw_ch(w, '{');
	otf__jw_f_attributes(w, "attributes", &r->attributes);
	otf__jw_f_u32(w, "droppedAttributesCount", r->dropped_attributes_count);
	if (r->entity_refs_len) {
		otf__jw_key(w, "entityRefs");
		otf__jw_ch(w, '[');
		for (size_t i = 0; i < r->entity_refs_len; i++) {
			const otf_entity_ref_t *e = &r->entity_refs[i];
			otf__jw_sep(w);
			otf__jw_ch(w, '{');
			otf__jw_f_str(w, "schemaUrl", e->schema_url);
			otf__jw_f_str(w, "type", e->type);
			string_list(w, "idKeys", &e->id_keys);
			string_list(w, "descriptionKeys", &e->description_keys);
			otf__jw_ch(w, '}');
		}
		otf__jw_ch(w, ']');
	}
	otf__jw_ch(w, '}');
}

void otf__jw_f_scope(otf__jw *w, const otf_scope_t *s)
{
	if (!s->name.len && !s->version.len && !s->attributes.len && !s->dropped_attributes_count)
		return;
	otf__jw_key(w, "scope");
	otf__jw_ch(w, '{');
	otf__jw_f_str(w, "name", s->name);
	otf__jw_f_str(w, "version", s->version);
	otf__jw_f_attributes(w, "attributes", &s->attributes);
	otf__jw_f_u32(w, "droppedAttributesCount", s->dropped_attributes_count);
	otf__jw_ch(w, '}');
}

int otf_pdata_json_encode_response(const otf_export_response_t *in, otf_signal_t signal,
                                   otf_buf_t **out)
{
	const char *rejected;
	switch (signal) {
	case OTF_SIGNAL_TRACES:
		rejected = "rejectedSpans";
		break;
	case OTF_SIGNAL_METRICS:
		rejected = "rejectedDataPoints";
		break;
	case OTF_SIGNAL_LOGS:
		rejected = "rejectedLogRecords";
		break;
	default:
		return OTF_E_INVAL;
	}
	otf__jw w;
	int rc = otf__jw_init(&w, 128);
	if (rc)
		return rc;
	otf__jw_ch(&w, '{');
	if (in->has_partial_success) {
		otf__jw_key(&w, "partialSuccess");
		otf__jw_ch(&w, '{');
		if (in->rejected) {
			otf__jw_key(&w, rejected);
			otf__jw_i64s(&w, in->rejected);
		}
		otf__jw_f_str(&w, "errorMessage", in->error_message);
		otf__jw_ch(&w, '}');
	}
	otf__jw_ch(&w, '}');
	return otf__jw_finish(&w, out);
}
