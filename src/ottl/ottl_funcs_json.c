/* OTTL's ParseJSON converter on json-c: a JSON object or array in a
 * string becomes a map or list in the record's arena. */
#include "ottl_internal.h"

#include "otflow/err.h"

#include <json-c/json.h>
#include <stdint.h>
#include <string.h>

/* Numbers become doubles, as the Collector's ParseJSON decodes them (Go's
 * float64). */
static int from_json(otf__ottl_run_t *r, const otf__ottl_node_t *call, json_object *j,
                     otf_any_value_t *out)
{
	otf_arena_t *a = r->rec->arena;
	memset(out, 0, sizeof *out);
	switch (json_object_get_type(j)) {
	case json_type_null:
		return 0;
	case json_type_boolean:
		out->type = OTF_ANY_BOOL;
		out->u.bool_value = json_object_get_boolean(j);
		return 0;
	case json_type_int:
	case json_type_double:
		out->type = OTF_ANY_DOUBLE;
		out->u.double_value = json_object_get_double(j);
		return 0;
	case json_type_string: {
		const char *sv = json_object_get_string(j);
		size_t n = (size_t)json_object_get_string_len(j);
		if (!otf__ottl_utf8_valid((const uint8_t *)sv, n)) /* lone surrogate escapes */
			return otf__ottl_errorf(r->e, call->pos,
			                        "ParseJSON: string is not valid UTF-8");
		return otf__ottl_string(a, sv, n, out);
	}
	case json_type_array: {
		size_t n = json_object_array_length(j);
		otf_any_value_t *items = n ? otf_arena_calloc(a, n, sizeof *items) : NULL;
		if (n && !items)
			return OTF_E_NOMEM;
		for (size_t i = 0; i < n; i++) {
			int rc = from_json(r, call, json_object_array_get_idx(j, i), &items[i]);
			if (rc)
				return rc;
		}
		out->type = OTF_ANY_ARRAY;
		out->u.array_value.values = items;
		out->u.array_value.values_len = n;
		return 0;
	}
	case json_type_object: {
		size_t n = (size_t)json_object_object_length(j), k = 0;
		otf_key_value_t *items = n ? otf_arena_calloc(a, n, sizeof *items) : NULL;
		if (n && !items)
			return OTF_E_NOMEM;
		json_object_object_foreach(j, key, val)
		{
			size_t kl = strlen(key);
			if (!otf__ottl_utf8_valid((const uint8_t *)key, kl))
				return otf__ottl_errorf(r->e, call->pos,
				                        "ParseJSON: key is not valid UTF-8");
			otf_any_value_t kv;
			int rc = otf__ottl_string(a, key, kl, &kv);
			if (rc || (rc = from_json(r, call, val, &items[k].value)))
				return rc;
			items[k++].key = kv.u.string_value;
		}
		out->type = OTF_ANY_KVLIST;
		out->u.kvlist_value.values = items;
		out->u.kvlist_value.values_len = k;
		return 0;
	}
	}
	return 0;
}

int otf__ottl_parse_json(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out)
{
	otf_any_value_t v;
	int rc = otf__ottl_arg(r, call, 0, &v);
	if (rc)
		return rc;
	if (v.type != OTF_ANY_STRING)
		return otf__ottl_errorf(r->e, call->bound[0]->pos,
		                        "ParseJSON needs a string, got %s",
		                        otf__ottl_type_name(v.type));
	if (v.u.string_value.len > INT32_MAX)
		return otf__ottl_errorf(r->e, call->pos, "ParseJSON: input too large");
	/* depth 32: the pdata decoders' AnyValue nesting limit */
	struct json_tokener *tok = json_tokener_new_ex(32);
	if (!tok)
		return OTF_E_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *j = json_tokener_parse_ex(tok, (const char *)v.u.string_value.ptr,
	                                       (int)v.u.string_value.len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	if (je == json_tokener_continue) {
		/* a top-level number ends only at a delimiter: give it one */
		j = json_tokener_parse_ex(tok, " ", 1);
		je = json_tokener_get_error(tok);
		end = v.u.string_value.len;
	}
	json_tokener_free(tok);
	for (size_t i = end; je == json_tokener_success && i < v.u.string_value.len; i++) {
		uint8_t c = v.u.string_value.ptr[i];
		if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
			je = json_tokener_error_parse_unexpected;
	}
	if (je != json_tokener_success) {
		json_object_put(j);
		return otf__ottl_errorf(r->e, call->pos, "ParseJSON: %s",
		                        je == json_tokener_continue ? "unexpected end of input"
		                                                    : json_tokener_error_desc(je));
	}
	if (!json_object_is_type(j, json_type_object) && !json_object_is_type(j, json_type_array)) {
		json_object_put(j);
		return otf__ottl_errorf(r->e, call->pos, "ParseJSON needs an object or an array");
	}
	rc = from_json(r, call, j, out);
	json_object_put(j);
	return rc;
}
