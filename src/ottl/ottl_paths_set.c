/* OTTL paths, writing side: set a field (type and range checked, values
 * copied into the record's arena), set below keys (creating maps), and
 * the live map an editor rewrites. */
#include "ottl_fields.h"

#include "otflow/err.h"

#include <string.h>

/* The path's top-level storage for kvlist navigation when setting keys. */
static int key_target(otf__ottl_run_t *r, const otf__ottl_node_t *path, otf_any_value_t **slot)
{
	otf_ottl_record_t *rec = r->rec;
	otf_attributes_t *at = otf__ottl_attrs_of(rec, path->field);
	if (at) {
		*slot = NULL; /* keys go into the attribute list itself */
		return 1;
	}
	if (path->field == F_LOG_BODY && rec->log) {
		*slot = &rec->log->body;
		return 0;
	}
	return otf__ottl_missing(r, path);
}

/* Gets (creating when missing) the map slot named by key in a live map. */
static int map_slot(otf__ottl_run_t *r, const otf__ottl_node_t *keynode, otf_key_value_t **items,
                    size_t *len, otf_any_value_t **slot)
{
	otf_any_value_t k;
	int rc = otf__ottl_eval(r, keynode, &k);
	if (rc)
		return rc;
	if (k.type != OTF_ANY_STRING)
		return otf__ottl_errorf(r->e, keynode->pos, "a map key must be a string, not %s",
		                        otf__ottl_type_name(k.type));
	otf_key_value_t *kv = otf__ottl_map_find(*items, *len, k.u.string_value);
	if (!kv) {
		otf_any_value_t nil = {0};
		otf_bytes_t key;
		if (!(key.ptr = otf_arena_memdup(r->rec->arena, k.u.string_value.ptr,
		                                 k.u.string_value.len)))
			return OTF_E_NOMEM;
		key.len = k.u.string_value.len;
		if ((rc = otf__ottl_map_put(r->rec->arena, items, len, key, &nil)))
			return rc;
		kv = &(*items)[*len - 1];
	}
	*slot = &kv->value;
	return 0;
}

/* Writes v at keys below the value *slot (or below the attribute list
 * items/len when slot is NULL), creating maps for missing keys. */
static int set_keys(otf__ottl_run_t *r, const otf__ottl_node_t *path, otf_key_value_t **items,
                    size_t *len, otf_any_value_t *slot, const otf_any_value_t *v)
{
	for (size_t i = 0; i < path->nkeys; i++) {
		const otf__ottl_node_t *kn = path->keys[i];
		int rc;
		if (!slot) {
			if ((rc = map_slot(r, kn, items, len, &slot)))
				return rc;
			continue;
		}
		if (slot->type == OTF_ANY_EMPTY) {
			slot->type = OTF_ANY_KVLIST;
			slot->u.kvlist_value.values = NULL;
			slot->u.kvlist_value.values_len = 0;
		}
		if (slot->type == OTF_ANY_KVLIST) {
			otf_any_value_t *next;
			if ((rc = map_slot(r, kn, &slot->u.kvlist_value.values,
			                   &slot->u.kvlist_value.values_len, &next)))
				return rc;
			slot = next;
		} else if (slot->type == OTF_ANY_ARRAY) {
			otf_any_value_t *next;
			if ((rc = otf__ottl_step(r, kn, slot, &next)))
				return rc;
			slot = next;
		} else {
			return otf__ottl_errorf(r->e, kn->pos, "%s cannot be indexed",
			                        otf__ottl_type_name(slot->type));
		}
	}
	return otf__ottl_value_copy(r->rec->arena, v, slot);
}

static int type_err(otf__ottl_run_t *r, const otf__ottl_node_t *path, const otf_any_value_t *v,
                    const char *want)
{
	return otf__ottl_errorf(r->e, path->pos, "cannot set %s to %s (needs %s)",
	                        otf__ottl_field_desc(path->field)->name,
	                        otf__ottl_type_name(v->type), want);
}

static int want_int(otf__ottl_run_t *r, const otf__ottl_node_t *path, const otf_any_value_t *v,
                    int64_t lo, int64_t hi, int64_t *out)
{
	if (v->type != OTF_ANY_INT && v->type != OTTL_VAL_TIME)
		return type_err(r, path, v, "an int");
	if (v->u.int_value < lo || v->u.int_value > hi)
		return otf__ottl_errorf(r->e, path->pos, "%lld out of range for %s",
		                        (long long)v->u.int_value,
		                        otf__ottl_field_desc(path->field)->name);
	*out = v->u.int_value;
	return 0;
}

static int want_str(otf__ottl_run_t *r, const otf__ottl_node_t *path, const otf_any_value_t *v,
                    otf_bytes_t *dst)
{
	if (v->type != OTF_ANY_STRING)
		return type_err(r, path, v, "a string");
	otf_any_value_t c;
	int rc = otf__ottl_value_copy(r->rec->arena, v, &c);
	if (!rc)
		*dst = c.u.string_value;
	return rc;
}

static int hexdig(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int want_id(otf__ottl_run_t *r, const otf__ottl_node_t *path, const otf_any_value_t *v,
                   size_t n, bool hex, otf_bytes_t *dst)
{
	uint8_t *b = otf_arena_alloc(r->rec->arena, n);
	if (!b)
		return OTF_E_NOMEM;
	if (hex) {
		if (v->type != OTF_ANY_STRING || v->u.string_value.len != 2 * n)
			return otf__ottl_errorf(r->e, path->pos, "%s needs %zu hex digits",
			                        otf__ottl_field_desc(path->field)->name, 2 * n);
		for (size_t i = 0; i < n; i++) {
			int hi = hexdig(v->u.string_value.ptr[2 * i]);
			int lo = hexdig(v->u.string_value.ptr[2 * i + 1]);
			if (hi < 0 || lo < 0)
				return otf__ottl_errorf(r->e, path->pos, "%s: invalid hex",
				                        otf__ottl_field_desc(path->field)->name);
			b[i] = (uint8_t)(hi * 16 + lo);
		}
	} else {
		if (v->type != OTF_ANY_BYTES || v->u.bytes_value.len != n)
			return otf__ottl_errorf(r->e, path->pos, "%s needs %zu bytes",
			                        otf__ottl_field_desc(path->field)->name, n);
		memcpy(b, v->u.bytes_value.ptr, n);
	}
	*dst = (otf_bytes_t){b, n};
	return 0;
}

static int set_field(otf__ottl_run_t *r, const otf__ottl_node_t *path, const otf_any_value_t *v)
{
	otf_ottl_record_t *rec = r->rec;
	int f = path->field;
	otf_any_value_t probe;
	int rc = otf__ottl_get_field(r, path, &probe); /* checks the record has the context */
	if (rc)
		return rc;
	otf_attributes_t *at = otf__ottl_attrs_of(rec, f);
	if (at) {
		if (v->type != OTF_ANY_KVLIST)
			return type_err(r, path, v, "a map");
		otf_any_value_t c;
		if ((rc = otf__ottl_value_copy(rec->arena, v, &c)))
			return rc;
		at->items = c.u.kvlist_value.values;
		at->len = c.u.kvlist_value.values_len;
		return 0;
	}
	otf_span_t *s = rec->span;
	otf_log_record_t *l = rec->log;
	int64_t i = 0;
	dp_ref_t d;
	const int64_t U32 = UINT32_MAX, I32 = INT32_MAX, I64 = INT64_MAX;
	switch (f) {
	case F_RES_DROPPED:
		rc = want_int(r, path, v, 0, U32, &i);
		if (!rc)
			rec->resource->dropped_attributes_count = (uint32_t)i;
		return rc;
	case F_RES_SCHEMA:
		if (!rec->resource_schema_url)
			return otf__ottl_errorf(r->e, path->pos, "schema_url is not settable here");
		return want_str(r, path, v, rec->resource_schema_url);
	case F_SCOPE_NAME:
		return want_str(r, path, v, &rec->scope->name);
	case F_SCOPE_VERSION:
		return want_str(r, path, v, &rec->scope->version);
	case F_SCOPE_DROPPED:
		rc = want_int(r, path, v, 0, U32, &i);
		if (!rc)
			rec->scope->dropped_attributes_count = (uint32_t)i;
		return rc;
	case F_SCOPE_SCHEMA:
		if (!rec->scope_schema_url)
			return otf__ottl_errorf(r->e, path->pos, "schema_url is not settable here");
		return want_str(r, path, v, rec->scope_schema_url);
	case F_SPAN_TRACE_ID:
		return want_id(r, path, v, OTF_TRACE_ID_LEN, false, &s->trace_id);
	case F_SPAN_TRACE_ID_STR:
		return want_id(r, path, v, OTF_TRACE_ID_LEN, true, &s->trace_id);
	case F_SPAN_SPAN_ID:
		return want_id(r, path, v, OTF_SPAN_ID_LEN, false, &s->span_id);
	case F_SPAN_SPAN_ID_STR:
		return want_id(r, path, v, OTF_SPAN_ID_LEN, true, &s->span_id);
	case F_SPAN_PARENT_ID:
		return want_id(r, path, v, OTF_SPAN_ID_LEN, false, &s->parent_span_id);
	case F_SPAN_PARENT_ID_STR:
		return want_id(r, path, v, OTF_SPAN_ID_LEN, true, &s->parent_span_id);
	case F_SPAN_TRACE_STATE:
		return want_str(r, path, v, &s->trace_state);
	case F_SPAN_NAME:
		return want_str(r, path, v, &s->name);
	case F_SPAN_STATUS_MSG:
		return want_str(r, path, v, &s->status.message);
	case F_EV_NAME:
		return want_str(r, path, v, &rec->event->name);
	case F_METRIC_NAME:
		return want_str(r, path, v, &rec->metric->name);
	case F_METRIC_DESC:
		return want_str(r, path, v, &rec->metric->description);
	case F_METRIC_UNIT:
		return want_str(r, path, v, &rec->metric->unit);
	case F_LOG_SEV_TEXT:
		return want_str(r, path, v, &l->severity_text);
	case F_LOG_EVENT_NAME:
		return want_str(r, path, v, &l->event_name);
	case F_LOG_BODY_STR:
		if (v->type != OTF_ANY_STRING)
			return type_err(r, path, v, "a string");
		return otf__ottl_value_copy(rec->arena, v, &l->body);
	case F_LOG_BODY:
		return otf__ottl_value_copy(rec->arena, v, &l->body);
	case F_LOG_TRACE_ID:
		return want_id(r, path, v, OTF_TRACE_ID_LEN, false, &l->trace_id);
	case F_LOG_TRACE_ID_STR:
		return want_id(r, path, v, OTF_TRACE_ID_LEN, true, &l->trace_id);
	case F_LOG_SPAN_ID:
		return want_id(r, path, v, OTF_SPAN_ID_LEN, false, &l->span_id);
	case F_LOG_SPAN_ID_STR:
		return want_id(r, path, v, OTF_SPAN_ID_LEN, true, &l->span_id);
	case F_METRIC_MONOTONIC:
		if (v->type != OTF_ANY_BOOL)
			return type_err(r, path, v, "a bool");
		rec->metric->is_monotonic = v->u.bool_value;
		return 0;
	case F_DP_VALUE_DOUBLE:
	case F_DP_SUM:
		if (v->type != OTF_ANY_DOUBLE)
			return type_err(r, path, v, "a double");
		if (!otf__ottl_dp_of(rec, &d))
			return otf__ottl_missing(r, path);
		if (f == F_DP_SUM) {
			if (!d.sum)
				return otf__ottl_errorf(r->e, path->pos,
				                        "this data point has no sum");
			*d.sum = v->u.double_value;
			if (d.has_sum)
				*d.has_sum = true;
		} else {
			if (!d.num)
				return otf__ottl_errorf(r->e, path->pos,
				                        "this data point has no value_double");
			d.num->value_type = OTF_NUMBER_DOUBLE;
			d.num->value.as_double = v->u.double_value;
		}
		return 0;
	default:
		break;
	}
	/* integer fields */
	int64_t lo = 0, hi = I64;
	if (f == F_SPAN_KIND || f == F_SPAN_STATUS_CODE || f == F_LOG_SEV_NUM ||
	    f == F_METRIC_TEMPORALITY)
		lo = -I32 - 1, hi = I32;
	else if (f == F_SPAN_DROPPED || f == F_SPAN_DROPPED_EVENTS || f == F_SPAN_DROPPED_LINKS ||
	         f == F_SPAN_FLAGS || f == F_EV_DROPPED || f == F_DP_FLAGS || f == F_LOG_DROPPED ||
	         f == F_LOG_FLAGS)
		hi = U32;
	if ((rc = want_int(r, path, v, lo, hi, &i)))
		return rc;
	uint64_t u = (uint64_t)i;
	switch (f) {
	case F_SPAN_KIND:
		s->kind = (int32_t)i;
		break;
	case F_SPAN_STATUS_CODE:
		s->status.code = (int32_t)i;
		break;
	case F_SPAN_START:
	case F_SPAN_START_TIME:
		s->start_time_unix_nano = u;
		break;
	case F_SPAN_END:
	case F_SPAN_END_TIME:
		s->end_time_unix_nano = u;
		break;
	case F_SPAN_DROPPED:
		s->dropped_attributes_count = (uint32_t)u;
		break;
	case F_SPAN_DROPPED_EVENTS:
		s->dropped_events_count = (uint32_t)u;
		break;
	case F_SPAN_DROPPED_LINKS:
		s->dropped_links_count = (uint32_t)u;
		break;
	case F_SPAN_FLAGS:
		s->flags = (uint32_t)u;
		break;
	case F_EV_TIME:
	case F_EV_TIME_T:
		rec->event->time_unix_nano = u;
		break;
	case F_EV_DROPPED:
		rec->event->dropped_attributes_count = (uint32_t)u;
		break;
	case F_METRIC_TEMPORALITY:
		rec->metric->aggregation_temporality = (int32_t)i;
		break;
	case F_LOG_TIME:
	case F_LOG_TIME_T:
		l->time_unix_nano = u;
		break;
	case F_LOG_OBSERVED:
	case F_LOG_OBSERVED_T:
		l->observed_time_unix_nano = u;
		break;
	case F_LOG_SEV_NUM:
		l->severity_number = (int32_t)i;
		break;
	case F_LOG_DROPPED:
		l->dropped_attributes_count = (uint32_t)u;
		break;
	case F_LOG_FLAGS:
		l->flags = (uint32_t)u;
		break;
	case F_DP_START:
	case F_DP_TIME:
	case F_DP_FLAGS:
	case F_DP_VALUE_INT:
	case F_DP_COUNT:
		if (!otf__ottl_dp_of(rec, &d))
			return otf__ottl_missing(r, path);
		if (f == F_DP_START)
			*d.start = u;
		else if (f == F_DP_TIME)
			*d.time = u;
		else if (f == F_DP_FLAGS)
			*d.flags = (uint32_t)u;
		else if (f == F_DP_COUNT) {
			if (!d.count)
				return otf__ottl_errorf(r->e, path->pos,
				                        "this data point has no count");
			*d.count = u;
		} else {
			if (!d.num)
				return otf__ottl_errorf(r->e, path->pos,
				                        "this data point has no value_int");
			d.num->value_type = OTF_NUMBER_INT;
			d.num->value.as_int = i;
		}
		break;
	default:
		return otf__ottl_errorf(r->e, path->pos, "%s is read-only",
		                        otf__ottl_field_desc(f)->name);
	}
	return 0;
}

/* Checks every key before set_keys creates anything, so a statement that
 * fails on a key leaves the record as it was: below a missing level only
 * string keys can create maps; existing levels take step()'s rules. */
static int check_keys(otf__ottl_run_t *r, const otf__ottl_node_t *path)
{
	otf_any_value_t cur;
	int rc = otf__ottl_get_field(r, path, &cur);
	bool missing = false;
	for (size_t i = 0; !rc && i < path->nkeys; i++) {
		const otf__ottl_node_t *kn = path->keys[i];
		if (missing || cur.type == OTF_ANY_EMPTY) {
			otf_any_value_t k;
			if ((rc = otf__ottl_eval(r, kn, &k)))
				break;
			if (k.type != OTF_ANY_STRING)
				rc = otf__ottl_errorf(r->e, kn->pos,
				                      "a map key must be a string, not %s",
				                      otf__ottl_type_name(k.type));
			missing = true;
			continue;
		}
		otf_any_value_t *slot;
		if (!(rc = otf__ottl_step(r, kn, &cur, &slot))) {
			if (slot)
				cur = *slot;
			else
				missing = true;
		}
	}
	return rc;
}

int otf__ottl_path_set(otf__ottl_run_t *r, const otf__ottl_node_t *path, const otf_any_value_t *v)
{
	if (__builtin_expect(r->rec->lazy != NULL, 0)) {
		int rc = otf__ottl_lazy_attr_set(r, path, v);
		if (rc)
			return rc < 0 ? rc : 0;
		rc = otf__ottl_lazy_write(r, path);
		if (rc)
			return rc;
	}
	if (!path->nkeys)
		return set_field(r, path, v);
	int rc = check_keys(r, path);
	if (rc)
		return rc;
	otf_any_value_t *slot = NULL;
	rc = key_target(r, path, &slot);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		otf_attributes_t *at = otf__ottl_attrs_of(r->rec, path->field);
		return set_keys(r, path, &at->items, &at->len, NULL, v);
	}
	return set_keys(r, path, NULL, NULL, slot, v);
}

int otf__ottl_path_map(otf__ottl_run_t *r, const otf__ottl_node_t *path, otf_key_value_t ***items,
                       size_t **len)
{
	if (__builtin_expect(r->rec->lazy != NULL, 0)) {
		int rc = otf__ottl_lazy_write(r, path);
		if (rc)
			return rc;
	}
	otf_attributes_t *at = otf__ottl_attrs_of(r->rec, path->field);
	otf_any_value_t *slot = NULL;
	if (at && !path->nkeys) {
		*items = &at->items;
		*len = &at->len;
		return 0;
	}
	if (at) {
		otf_any_value_t v = {.type = OTF_ANY_KVLIST};
		v.u.kvlist_value.values = at->items;
		v.u.kvlist_value.values_len = at->len;
		otf_any_value_t *s0;
		int rc = otf__ottl_step(r, path->keys[0], &v, &s0);
		if (rc)
			return rc;
		slot = s0;
	} else if (path->field == F_LOG_BODY && r->rec->log) {
		slot = &r->rec->log->body;
	} else {
		return otf__ottl_missing(r, path);
	}
	for (size_t i = at ? 1 : 0; slot && i < path->nkeys; i++) {
		otf_any_value_t *next;
		int rc = otf__ottl_step(r, path->keys[i], slot, &next);
		if (rc)
			return rc;
		slot = next;
	}
	if (!slot || slot->type != OTF_ANY_KVLIST) {
		*items = NULL; /* not a map: the editor does nothing, as the Collector's */
		*len = NULL;
		return 0;
	}
	*items = &slot->u.kvlist_value.values;
	*len = &slot->u.kvlist_value.values_len;
	return 0;
}
