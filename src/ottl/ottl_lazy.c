/* Lazy records: OTTL over the protobuf bytes of one log record or span
 * (otf_ottl_lazy_t in otflow/ottl.h). The evaluator is the tree one; this
 * file fills the record's scalars from the view, answers attributes["k"]
 * from the bytes, decodes the parts a path needs whole on first use, and
 * maps each write to the wire field it replaces. Why not a separate
 * evaluator over views: one evaluator keeps the in-place results equal to
 * the tree's by construction (same functions, same nil and type rules);
 * what the bytes save is the decode of what no statement reads and the
 * encode of everything no statement wrote. */
#include "ottl_fields.h"

#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_view.h"

#include <string.h>

enum {
	LZ_ATTRS = 1u << 0,
	LZ_BODY = 1u << 1,
	LZ_RESOURCE = 1u << 2,
	LZ_SCOPE = 1u << 3,
	LZ_SCALARS = 1u << 4,
};

int otf_ottl_lazy_init(otf_ottl_lazy_t *lz, otf_ottl_record_t *rec, otf_signal_t s,
                       const otf_pdata_rec_t *in, otf_arena_t *arena)
{
	if (s != OTF_SIGNAL_LOGS && s != OTF_SIGNAL_TRACES)
		return OTF_E_INVAL;
	/* Member by member, no memset: this runs once per record, and the
	 * parts not set here (resource, scope, the record's members) are
	 * written whole when they are loaded, never read before. */
	lz->signal = s;
	lz->record = in->record;
	lz->body = (otf_bytes_t){NULL, 0};
	lz->resource_msg = in->resource;
	lz->scope_msg = in->scope;
	lz->resource_schema_url = in->resource_schema_url;
	lz->scope_schema_url = in->scope_schema_url;
	lz->loaded = 0;
	lz->dirty = 0;
	lz->err = 0;
	lz->nops = 0;
	rec->resource = &lz->resource;
	rec->resource_schema_url = &lz->resource_schema_url;
	rec->scope = &lz->scope;
	rec->scope_schema_url = &lz->scope_schema_url;
	rec->span = s == OTF_SIGNAL_TRACES ? &lz->u.span : NULL;
	rec->event = NULL;
	rec->log = s == OTF_SIGNAL_LOGS ? &lz->u.log : NULL;
	rec->metric = NULL;
	rec->datapoint_index = 0;
	rec->arena = arena;
	rec->cache = (otf_attributes_t){0};
	rec->request_header = NULL;
	rec->request_user = NULL;
	rec->lazy = lz;
	if (s == OTF_SIGNAL_TRACES) {
		lz->u.span.events = NULL;
		lz->u.span.events_len = 0;
		lz->u.span.links = NULL;
		lz->u.span.links_len = 0;
	}
	return 0;
}

/* The record's scalar fields in one pass over its bytes (the view). */
static int scalars(otf_ottl_lazy_t *lz)
{
	int rc;
	if (lz->signal == OTF_SIGNAL_LOGS) {
		otf_view_log_t v;
		if ((rc = otf_view_log_read(lz->record, &v)))
			return rc;
		otf_log_record_t *l = &lz->u.log;
		l->time_unix_nano = v.time_unix_nano;
		l->observed_time_unix_nano = v.observed_time_unix_nano;
		l->severity_number = v.severity_number;
		l->severity_text = v.severity_text;
		l->dropped_attributes_count = v.dropped_attributes_count;
		l->flags = v.flags;
		l->trace_id = v.trace_id;
		l->span_id = v.span_id;
		l->event_name = v.event_name;
		lz->body = v.body;
		if (!v.has_body) {
			l->body = (otf_any_value_t){0};
			lz->loaded |= LZ_BODY;
		}
		return 0;
	}
	otf_view_span_t v;
	if ((rc = otf_view_span_read(lz->record, &v)))
		return rc;
	otf_span_t *sp = &lz->u.span;
	sp->trace_id = v.trace_id;
	sp->span_id = v.span_id;
	sp->parent_span_id = v.parent_span_id;
	sp->trace_state = v.trace_state;
	sp->name = v.name;
	sp->kind = (otf_span_kind_t)v.kind;
	sp->start_time_unix_nano = v.start_time_unix_nano;
	sp->end_time_unix_nano = v.end_time_unix_nano;
	sp->flags = v.flags;
	sp->dropped_attributes_count = v.dropped_attributes_count;
	sp->dropped_events_count = v.dropped_events_count;
	sp->dropped_links_count = v.dropped_links_count;
	sp->status.code = (otf_status_code_t)v.status_code;
	sp->status.message = v.status_message;
	return 0;
}

/* The single-attribute edits noted so far, applied to the decoded list
 * as the tree applies them (otf__ottl_map_put, delete_key's first
 * occurrence); the list is then re-encoded whole. */
static void replay(otf_ottl_lazy_t *lz, otf_arena_t *a)
{
	otf_attributes_t *at =
	    lz->signal == OTF_SIGNAL_LOGS ? &lz->u.log.attributes : &lz->u.span.attributes;
	for (size_t i = 0; i < lz->nops && !lz->err; i++) {
		const otf_pdata_attr_op_t *op = &lz->ops[i];
		if (!op->del) {
			if (otf__ottl_map_put(a, &at->items, &at->len, op->key, &op->value))
				lz->err = OTF_E_NOMEM;
			continue;
		}
		for (size_t j = 0; j < at->len; j++)
			if (otf__ottl_bytes_eq(at->items[j].key, op->key)) {
				otf__ottl_map_remove_at(at->items, &at->len, j);
				break;
			}
	}
	lz->nops = 0;
	lz->dirty |= 1u << (lz->signal == OTF_SIGNAL_LOGS ? 6 : 9);
}

/* Decodes what field needs of a lazy record, once; a failure is sticky in
 * lz->err (the run functions return it). */
void otf__ottl_lazy_load(otf_ottl_record_t *rec, int field)
{
	otf_ottl_lazy_t *lz = rec->lazy;
	uint32_t bit;
	if (!(lz->loaded & LZ_SCALARS) && field != F_LOG_ATTRS && field != F_SPAN_ATTRS &&
	    field < F_COUNT) {
		otf_ottl_context_t c = otf__ottl_field_desc(field)->ctx;
		if (c == OTF_OTTL_CTX_LOG || c == OTF_OTTL_CTX_SPAN) {
			lz->loaded |= LZ_SCALARS;
			int rc = lz->err ? lz->err : scalars(lz);
			if (rc) {
				/* the run stops at the end of the statement; until then
				 * the record reads as empty */
				if (lz->signal == OTF_SIGNAL_LOGS)
					memset(&lz->u.log, 0, sizeof lz->u.log);
				else
					memset(&lz->u.span, 0, sizeof lz->u.span);
				lz->loaded |= LZ_BODY | LZ_ATTRS;
				lz->err = rc;
				return;
			}
		}
	}
	switch (field) {
	case F_LOG_ATTRS:
	case F_SPAN_ATTRS:
		bit = LZ_ATTRS;
		break;
	case F_LOG_BODY:
	case F_LOG_BODY_STR:
		bit = LZ_BODY;
		break;
	case F_RES_ATTRS:
	case F_RES_DROPPED:
		bit = LZ_RESOURCE;
		break;
	case F_SCOPE_NAME:
	case F_SCOPE_VERSION:
	case F_SCOPE_ATTRS:
	case F_SCOPE_DROPPED:
		bit = LZ_SCOPE;
		break;
	default:
		return;
	}
	if (lz->loaded & bit)
		return;
	lz->loaded |= bit;
	int rc = lz->err; /* failed before: read as empty (below) */
	if (!rc) {
		if (bit == LZ_ATTRS && lz->signal == OTF_SIGNAL_LOGS)
			rc = otf_pdata_decode_attributes(&lz->u.log.attributes, lz->record.ptr,
			                                 lz->record.len, OTF_VIEW_LOG_ATTRIBUTES,
			                                 rec->arena, NULL);
		else if (bit == LZ_ATTRS)
			rc = otf_pdata_decode_attributes(&lz->u.span.attributes, lz->record.ptr,
			                                 lz->record.len, OTF_VIEW_SPAN_ATTRIBUTES,
			                                 rec->arena, NULL);
		else if (bit == LZ_BODY)
			rc = otf_pdata_decode_any(&lz->u.log.body, lz->body.ptr, lz->body.len,
			                          rec->arena, NULL);
		else if (bit == LZ_RESOURCE)
			rc = otf_pdata_decode_resource(&lz->resource, lz->resource_msg.ptr,
			                               lz->resource_msg.len, rec->arena, NULL);
		else
			rc = otf_pdata_decode_scope(&lz->scope, lz->scope_msg.ptr,
			                            lz->scope_msg.len, rec->arena, NULL);
	}
	if (rc) {
		/* as above: empty until the statement ends */
		if (bit == LZ_ATTRS && lz->signal == OTF_SIGNAL_LOGS)
			lz->u.log.attributes = (otf_attributes_t){0};
		else if (bit == LZ_ATTRS)
			lz->u.span.attributes = (otf_attributes_t){0};
		else if (bit == LZ_BODY)
			lz->u.log.body = (otf_any_value_t){0};
		else if (bit == LZ_RESOURCE)
			memset(&lz->resource, 0, sizeof lz->resource);
		else
			memset(&lz->scope, 0, sizeof lz->scope);
		lz->err = rc;
		return;
	}
	if (bit == LZ_ATTRS && lz->nops)
		replay(lz, rec->arena);
}

/* The message and field number holding the attribute list of field, and
 * its loaded bit; false for other fields. */
static bool attr_list(const otf_ottl_lazy_t *lz, int field, otf_bytes_t *msg, uint32_t *num,
                      uint32_t *bit)
{
	switch (field) {
	case F_LOG_ATTRS:
	case F_SPAN_ATTRS:
		if ((field == F_LOG_ATTRS) != (lz->signal == OTF_SIGNAL_LOGS))
			return false;
		*msg = lz->record;
		*num = field == F_LOG_ATTRS ? OTF_VIEW_LOG_ATTRIBUTES : OTF_VIEW_SPAN_ATTRIBUTES;
		*bit = LZ_ATTRS;
		return true;
	case F_RES_ATTRS:
		*msg = lz->resource_msg;
		*num = 1; /* Resource.attributes */
		*bit = LZ_RESOURCE;
		return true;
	case F_SCOPE_ATTRS:
		*msg = lz->scope_msg;
		*num = 3; /* InstrumentationScope.attributes */
		*bit = LZ_SCOPE;
		return true;
	default:
		return false;
	}
}

int otf__ottl_lazy_attr(otf__ottl_run_t *r, const otf__ottl_node_t *path, otf_any_value_t *out)
{
	otf_ottl_lazy_t *lz = r->rec->lazy;
	otf_bytes_t msg;
	uint32_t num, bit;
	if (!path->nkeys || !attr_list(lz, path->field, &msg, &num, &bit) || (lz->loaded & bit))
		return 0;
	otf_any_value_t k;
	int rc = otf__ottl_eval(r, path->keys[0], &k);
	if (rc)
		return rc;
	if (k.type != OTF_ANY_STRING)
		return 0; /* the tree path reports it */
	for (size_t i = 0; bit == LZ_ATTRS && i < lz->nops; i++)
		if (otf__ottl_bytes_eq(lz->ops[i].key, k.u.string_value))
			return 0; /* edited: decode the list, replay, read it there */
	otf_view_iter_t it;
	otf_bytes_t kv, key, val;
	otf_any_value_t v = {0};
	otf_view_iter_init(&it, msg, num);
	while ((rc = otf_view_iter_next(&it, &kv)) > 0) {
		if (otf_view_kv_read(kv, &key, &val))
			return 0;
		if (!otf__ottl_bytes_eq(key, k.u.string_value))
			continue;
		otf_view_any_t a;
		if (otf_view_any_read(val, &a))
			return 0;
		v.type = a.type;
		switch (a.type) {
		case OTF_ANY_STRING:
			v.u.string_value = a.u.bytes;
			break;
		case OTF_ANY_BYTES:
			v.u.bytes_value = a.u.bytes;
			break;
		case OTF_ANY_BOOL:
			v.u.bool_value = a.u.b;
			break;
		case OTF_ANY_INT:
			v.u.int_value = a.u.i;
			break;
		case OTF_ANY_DOUBLE:
			v.u.double_value = a.u.d;
			break;
		case OTF_ANY_EMPTY:
			break;
		default:
			return 0; /* a map or list: decode the whole list */
		}
		break;
	}
	if (rc < 0)
		return 0;
	if (path->nkeys == 1) {
		*out = v;
		return 1;
	}
	rc = otf__ottl_index(r, path->keys + 1, path->nkeys - 1, v, out);
	return rc ? rc : 1;
}

/* Wire field of the record a write to field replaces; 0 for none. */
static uint32_t wire_of(int field)
{
	switch (field) {
	case F_LOG_TIME:
	case F_LOG_TIME_T:
		return 1;
	case F_LOG_SEV_NUM:
		return 2;
	case F_LOG_SEV_TEXT:
		return 3;
	case F_LOG_BODY:
	case F_LOG_BODY_STR:
		return 5;
	case F_LOG_ATTRS:
		return 6;
	case F_LOG_DROPPED:
		return 7;
	case F_LOG_FLAGS:
		return 8;
	case F_LOG_TRACE_ID:
	case F_LOG_TRACE_ID_STR:
		return 9;
	case F_LOG_SPAN_ID:
	case F_LOG_SPAN_ID_STR:
		return 10;
	case F_LOG_OBSERVED:
	case F_LOG_OBSERVED_T:
		return 11;
	case F_LOG_EVENT_NAME:
		return 12;
	case F_SPAN_TRACE_ID:
	case F_SPAN_TRACE_ID_STR:
		return 1;
	case F_SPAN_SPAN_ID:
	case F_SPAN_SPAN_ID_STR:
		return 2;
	case F_SPAN_TRACE_STATE:
		return 3;
	case F_SPAN_PARENT_ID:
	case F_SPAN_PARENT_ID_STR:
		return 4;
	case F_SPAN_NAME:
		return 5;
	case F_SPAN_KIND:
		return 6;
	case F_SPAN_START:
	case F_SPAN_START_TIME:
		return 7;
	case F_SPAN_END:
	case F_SPAN_END_TIME:
		return 8;
	case F_SPAN_ATTRS:
		return 9;
	case F_SPAN_DROPPED:
		return 10;
	case F_SPAN_DROPPED_EVENTS:
		return 12;
	case F_SPAN_DROPPED_LINKS:
		return 14;
	case F_SPAN_STATUS_CODE:
	case F_SPAN_STATUS_MSG:
		return 15;
	case F_SPAN_FLAGS:
		return 16;
	default:
		return 0;
	}
}

int otf__ottl_lazy_write(otf__ottl_run_t *r, const otf__ottl_node_t *path)
{
	otf_ottl_lazy_t *lz = r->rec->lazy;
	if (path->field == F_CACHE)
		return 0;
	uint32_t w = wire_of(path->field);
	if (!w) {
		/* the resource or scope, shared with the group's other records */
		lz->err = OTF_E_UNSUPPORTED;
		return otf__ottl_errorf(r->e, path->pos, "not editable in place");
	}
	otf__ottl_lazy_load(r->rec, path->field);
	if (lz->err)
		return lz->err;
	lz->dirty |= 1u << w;
	return 0;
}

/* The attribute field id of the lazy record's own list. */
static int own_attrs(const otf_ottl_lazy_t *lz)
{
	return lz->signal == OTF_SIGNAL_LOGS ? F_LOG_ATTRS : F_SPAN_ATTRS;
}

static int note_op(otf__ottl_run_t *r, bool del, otf_bytes_t key, const otf_any_value_t *v)
{
	otf_ottl_lazy_t *lz = r->rec->lazy;
	otf_pdata_attr_op_t *op = &lz->ops[lz->nops];
	memset(op, 0, sizeof *op);
	op->del = del;
	op->key.ptr = otf_arena_memdup(r->rec->arena, key.ptr ? (const void *)key.ptr : "",
	                               key.len ? key.len : 1);
	op->key.len = key.len;
	if (!op->key.ptr)
		return OTF_E_NOMEM;
	if (!del) {
		op->value = *v;
		if (v->type == OTF_ANY_STRING) {
			otf_bytes_t sv = v->u.string_value;
			op->value.u.string_value.ptr = otf_arena_memdup(
			    r->rec->arena, sv.ptr ? (const void *)sv.ptr : "", sv.len ? sv.len : 1);
			if (!op->value.u.string_value.ptr)
				return OTF_E_NOMEM;
		}
	}
	lz->nops++;
	return 1;
}

int otf__ottl_lazy_attr_set(otf__ottl_run_t *r, const otf__ottl_node_t *path,
                            const otf_any_value_t *v)
{
	otf_ottl_lazy_t *lz = r->rec->lazy;
	if (path->field != own_attrs(lz) || path->nkeys != 1 || (lz->loaded & LZ_ATTRS) ||
	    lz->nops == OTF_OTTL_LAZY_OPS)
		return 0;
	if (v->type != OTF_ANY_STRING && v->type != OTF_ANY_BOOL && v->type != OTF_ANY_INT &&
	    v->type != OTF_ANY_DOUBLE)
		return 0;
	otf_any_value_t k;
	int rc = otf__ottl_eval(r, path->keys[0], &k);
	if (rc)
		return rc;
	if (k.type != OTF_ANY_STRING)
		return 0;
	return note_op(r, false, k.u.string_value, v);
}

int otf__ottl_lazy_attr_del(otf__ottl_run_t *r, const otf__ottl_node_t *path, otf_bytes_t key)
{
	otf_ottl_lazy_t *lz = r->rec->lazy;
	if (path->field != own_attrs(lz) || path->nkeys || (lz->loaded & LZ_ATTRS) ||
	    lz->nops == OTF_OTTL_LAZY_OPS)
		return 0;
	return note_op(r, true, key, NULL);
}
