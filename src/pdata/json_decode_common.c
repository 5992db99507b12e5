/* OTLP/JSON decoding: input checks, the object/array walkers over the
 * On-Demand parser (json_sj.h) and the messages shared by every signal.
 * The scalar conversions are json_decode_scalar.c. */
#include "json_internal.h"
#include "json_sj_dl.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "pb_wire.h"
#include "pdata_err.h"

#include <ctype.h>
#include <limits.h>

/* ---- input ---- */

static bool hex4(const char *p, const char *end, unsigned *cp)
{
	if (end - p < 4)
		return false;
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		int h = otf__jhex_digit((unsigned char)p[i]);
		if (h < 0)
			return false;
		v = v << 4 | (unsigned)h;
	}
	*cp = v;
	return true;
}

/* Finds the first \u escape of an unpaired surrogate. A backslash can only
 * occur inside strings in well-formed JSON (the rest is a syntax error), so
 * no string tracking is needed. Returns the escape's offset or -1. */
static long find_lone_surrogate(const char *json, size_t len)
{
	const char *p = json, *end = json + len;
	while (p < end && (p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
		unsigned cp, lo;
		if (end - p < 2)
			break;
		if (p[1] != 'u' || !hex4(p + 2, end, &cp)) {
			p += 2;
			continue;
		}
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (end - p >= 12 && p[6] == '\\' && p[7] == 'u' && hex4(p + 8, end, &lo) &&
			    lo >= 0xdc00 && lo <= 0xdfff) {
				p += 12;
				continue;
			}
			return (long)(p - json);
		}
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return (long)(p - json);
		p += 6;
	}
	return -1;
}

/* json-c's names of the JSON types, which the error details use. */
static const char *type_name(const otf__jval *v)
{
	static const char *const names[] = {"null",   "boolean", "int",  "double",
	                                    "string", "object",  "array"};
	return names[v->type];
}

static int syntax_error(otf__jdec *d)
{
	const otf__jsj_error_t *e = otf__jsj_error(d->p);
	return otf__perr_set(d->err, e->code, e->offset, "%s", e->detail);
}

int otf__jdec_begin(otf__jdec *d, otf__jval *root, const char *json, size_t len, otf_arena_t *arena,
                    const otf_pdata_limits_t *limits, otf_pdata_error_t *err)
{
	size_t max_in = limits && limits->max_input_bytes ? limits->max_input_bytes
	                                                  : OTF_PDATA_DEFAULT_MAX_INPUT;
	uint32_t max_depth =
	    limits && limits->max_depth ? limits->max_depth : OTF_PDATA_DEFAULT_MAX_DEPTH;
	memset(d, 0, sizeof *d);
	memset(root, 0, sizeof *root);
	d->arena = arena;
	d->err = err;
	d->max_depth = max_depth;
	/* The limit json-c's int length imposed, kept so that the same inputs
	 * are refused. */
	if (len > max_in || len > INT_MAX)
		return otf__perr_set(err, OTF_E_TOO_LARGE, 0, "%zu bytes, limit %zu", len, max_in);
	if (!json || !arena)
		return otf__perr_set(err, OTF_E_INVAL, 0, "no input or arena");
	long bad = find_lone_surrogate(json, len);
	if (bad >= 0) {
		d->bad_surrogate = true;
		d->bad_offset = (size_t)bad;
	}
	/* Enough JSON nesting for max_depth AnyValue levels under the deepest
	 * OTLP path (exemplar attributes: 16 levels), 4 per kvlist level. */
	uint64_t jdepth = 24 + 4 * (uint64_t)max_depth;
	if (jdepth > 16384)
		jdepth = 16384;
	d->json = json;
	d->len = len;
	d->jdepth = (size_t)jdepth;
	/* The parser is a module loaded now (json_sj_dl.h): a missing one
	 * fails this decode, not the process. */
	char why[sizeof err->detail];
	if (otf__jsj_module_load(why, sizeof why))
		return otf__perr_set(err, OTF_E_UNSUPPORTED, 0, "%s", why);
	d->p = otf__jsj_get();
	if (!d->p)
		return otf__perr_set(err, OTF_E_NOMEM, 0, "json parser");
	int rc = otf__jsj_parse(d->p, json, len, d->jdepth, d->bad_surrogate, root);
	if (rc == OTF__JSJ_SYNTAX && otf__jsj_error(d->p)->code == OTF_E_UTF8) {
		d->fixed = otf_malloc(len);
		if (!d->fixed)
			return otf__perr_set(err, OTF_E_NOMEM, 0, "json input copy");
		memcpy(d->fixed, json, len);
		for (size_t i = 0; i < len;) {
			i += otf__jsj_first_bad_utf8((const unsigned char *)d->fixed + i, len - i);
			if (i < len)
				d->fixed[i++] = 0x7f;
		}
		rc = otf__jsj_parse(d->p, d->fixed, len, d->jdepth, d->bad_surrogate, root);
	}
	if (rc) {
		otf_free(d->fixed);
		d->fixed = NULL;
		otf__jsj_trim();
	}
	if (rc == OTF__JSJ_SYNTAX)
		return syntax_error(d);
	if (rc)
		return otf__perr_set(err, rc, 0, "json parser");
	if (root->type != OTF__JT_OBJECT) {
		otf_free(d->fixed);
		d->fixed = NULL;
		otf__jsj_trim();
		return otf__perr_set(err, OTF_E_JSON_TYPE, 0,
		                     "expected an object at top level, got %s", type_name(root));
	}
	return 0;
}

int otf__jdec_end(otf__jdec *d, int rc)
{
	if (rc == 0)
		rc = otf__jsj_finish(d->p);
	if (rc == OTF__JSJ_SYNTAX)
		rc = syntax_error(d);
	/* A walking error stopped the parse early: malformed JSON further on
	 * is what json-c reported, having tokenized the whole input first. */
	else if (rc && rc != OTF_E_NOMEM &&
	         otf__jsj_validate(d->p, d->fixed ? d->fixed : d->json, d->len, d->jdepth,
	                           d->bad_surrogate) == OTF__JSJ_SYNTAX)
		rc = syntax_error(d);
	otf_free(d->fixed);
	d->fixed = NULL;
	otf__jsj_trim();
	return rc;
}

/* ---- walkers ---- */

/* lowerCamelCase form of a proto field name ("trace_id" -> "traceId");
 * keys without '_' are returned as they are. Over-long keys become "",
 * which matches no field. */
static const char *norm_key(const char *k, char *buf, size_t size)
{
	if (!strchr(k, '_'))
		return k;
	size_t n = 0;
	bool up = false;
	for (; *k; k++) {
		if (*k == '_') {
			up = true;
			continue;
		}
		if (n + 1 >= size)
			return "";
		buf[n++] = up ? (char)toupper((unsigned char)*k) : *k;
		up = false;
	}
	buf[n] = '\0';
	return buf;
}

int otf__jdec_type_error(otf__jdec *d, const char *want, const otf__jval *v)
{
	return otf__perr_set(d->err, OTF_E_JSON_TYPE, 0, "expected %s, got %s", want, type_name(v));
}

typedef struct object_ctx {
	otf__jdec *d;
	otf__jfield_fn fn;
	void *out;
} object_ctx;

static int object_member(void *ctx, const char *key, otf__jval *v)
{
	object_ctx *c = ctx;
	otf__jdec *d = c->d;
	if (v->type == OTF__JT_NULL) /* null: the field keeps its default */
		return 0;
	char kb[64];
	const char *k = v->key_underscore ? norm_key(key, kb, sizeof kb) : key;
	d->pushed = false;
	int rc = c->fn(d, k, v, c->out);
	if (rc) {
		if (!d->pushed && rc != OTF__JSJ_SYNTAX)
			otf__perr_push(d->err, rc, k, -1);
		d->pushed = false;
	}
	return rc;
}

int otf__jdec_object(otf__jdec *d, otf__jval *v, otf__jfield_fn fn, void *out)
{
	if (v->type != OTF__JT_OBJECT)
		return otf__jdec_type_error(d, "object", v);
	object_ctx c = {d, fn, out};
	return otf__jsj_object(v, object_member, &c);
}

typedef struct array_ctx {
	otf__jdec *d;
	otf__jelem_fn fn;
	const char *name;
	size_t esize;
	uint8_t *arr;
	size_t n, cap;
} array_ctx;

/* Elements go into an arena array that doubles as it fills (the old one
 * stays in the arena until its reset): counting the elements first would
 * make the parser walk each array twice. */
static int array_grow(array_ctx *c)
{
	size_t cap = c->cap ? 2 * c->cap : 4;
	uint8_t *arr = otf_arena_calloc(c->d->arena, cap, c->esize);
	if (!arr) {
		int rc = otf__perr_set(c->d->err, OTF_E_NOMEM, 0, "%zu elements", cap);
		otf__perr_push(c->d->err, rc, c->name, -1);
		c->d->pushed = true;
		return rc;
	}
	if (c->n)
		memcpy(arr, c->arr, c->n * c->esize);
	c->arr = arr;
	c->cap = cap;
	return 0;
}

static int array_elem(void *ctx, size_t i, otf__jval *v)
{
	array_ctx *c = ctx;
	otf__jdec *d = c->d;
	int rc;
	if (i >= c->cap && (rc = array_grow(c)) != 0)
		return rc;
	c->n = i + 1;
	rc = v->type != OTF__JT_NULL
	         ? c->fn(d, v, c->arr + i * c->esize)
	         : otf__perr_set(d->err, OTF_E_JSON_TYPE, 0, "null array element");
	if (rc && rc != OTF__JSJ_SYNTAX) {
		otf__perr_push(d->err, rc, c->name, (long)i);
		d->pushed = true;
	}
	return rc;
}

int otf__jdec_array(otf__jdec *d, otf__jval *v, const char *name, size_t esize, void *items_ptr,
                    size_t *len, otf__jelem_fn fn)
{
	if (v->type != OTF__JT_ARRAY) {
		int rc = otf__jdec_type_error(d, "array", v);
		otf__perr_push(d->err, rc, name, -1);
		d->pushed = true;
		return rc;
	}
	array_ctx c = {d, fn, name, esize, NULL, 0, 0};
	int rc = otf__jsj_array(v, NULL, array_elem, &c);
	if (rc)
		return rc;
	memcpy(items_ptr, &c.arr, sizeof c.arr);
	*len = c.n;
	return 0;
}

/* ---- shared messages ---- */

static int kv_field(otf__jdec *d, const char *k, otf__jval *v, void *out)
{
	otf_key_value_t *kv = out;
	if (!strcmp(k, "key"))
		return otf__jdec_string(d, v, &kv->key);
	if (!strcmp(k, "value"))
		return otf__jdec_any(d, v, &kv->value);
	return 0;
}

static int kv_elem(otf__jdec *d, otf__jval *v, void *elem)
{
	return otf__jdec_object(d, v, kv_field, elem);
}

int otf__jdec_attributes(otf__jdec *d, otf__jval *v, const char *name, otf_attributes_t *out)
{
	return otf__jdec_array(d, v, name, sizeof *out->items, &out->items, &out->len, kv_elem);
}

static int array_value_field(otf__jdec *d, const char *k, otf__jval *v, void *out)
{
	otf_any_value_t *a = out;
	if (!strcmp(k, "values"))
		return otf__jdec_array(d, v, "values", sizeof *a->u.array_value.values,
		                       &a->u.array_value.values, &a->u.array_value.values_len,
		                       otf__jdec_any);
	return 0;
}

static int kvlist_value_field(otf__jdec *d, const char *k, otf__jval *v, void *out)
{
	otf_any_value_t *a = out;
	if (!strcmp(k, "values"))
		return otf__jdec_array(d, v, "values", sizeof *a->u.kvlist_value.values,
		                       &a->u.kvlist_value.values, &a->u.kvlist_value.values_len,
		                       kv_elem);
	return 0;
}

static int any_field(otf__jdec *d, const char *k, otf__jval *v, void *out)
{
	static const char *const members[] = {NULL,          "stringValue", "boolValue",
	                                      "intValue",    "doubleValue", "arrayValue",
	                                      "kvlistValue", "bytesValue"};
	otf_any_value_t *a = out;
	size_t t = 1;
	while (t < sizeof members / sizeof members[0] && strcmp(k, members[t]))
		t++;
	if (t == sizeof members / sizeof members[0])
		return 0;
	/* A later oneof member replaces an earlier one. */
	memset(&a->u, 0, sizeof a->u);
	a->type = (otf_any_type_t)t;
	switch (a->type) {
	case OTF_ANY_STRING:
		return otf__jdec_string(d, v, &a->u.string_value);
	case OTF_ANY_BOOL:
		return otf__jdec_bool(d, v, &a->u.bool_value);
	case OTF_ANY_INT:
		return otf__jdec_i64(d, v, &a->u.int_value);
	case OTF_ANY_DOUBLE:
		return otf__jdec_double(d, v, &a->u.double_value);
	case OTF_ANY_ARRAY:
		return otf__jdec_object(d, v, array_value_field, a);
	case OTF_ANY_KVLIST:
		return otf__jdec_object(d, v, kvlist_value_field, a);
	case OTF_ANY_BYTES:
		return otf__jdec_base64(d, v, &a->u.bytes_value);
	case OTF_ANY_EMPTY:
		break;
	}
	return 0;
}

int otf__jdec_any(otf__jdec *d, otf__jval *v, void *out)
{
	if (++d->depth > d->max_depth)
		return otf__perr_set(d->err, OTF_E_DEPTH, 0, "AnyValue nesting deeper than %u",
		                     d->max_depth);
	int rc = otf__jdec_object(d, v, any_field, out);
	d->depth--;
	return rc;
}

static int string_elem(otf__jdec *d, otf__jval *v, void *elem)
{
	return otf__jdec_string(d, v, elem);
}

static int entity_ref_field(otf__jdec *d, const char *k, otf__jval *v, void *out)
{
	otf_entity_ref_t *e = out;
	if (!strcmp(k, "schemaUrl"))
		return otf__jdec_string(d, v, &e->schema_url);
	if (!strcmp(k, "type"))
		return otf__jdec_string(d, v, &e->type);
	if (!strcmp(k, "idKeys"))
		return otf__jdec_array(d, v, k, sizeof *e->id_keys.items, &e->id_keys.items,
		                       &e->id_keys.len, string_elem);
	if (!strcmp(k, "descriptionKeys"))
		return otf__jdec_array(d, v, k, sizeof *e->description_keys.items,
		                       &e->description_keys.items, &e->description_keys.len,
		                       string_elem);
	return 0;
}

static int entity_ref_elem(otf__jdec *d, otf__jval *v, void *elem)
{
	return otf__jdec_object(d, v, entity_ref_field, elem);
}

static int resource_field(otf__jdec *d, const char *k, otf__jval *v, void *out)
{
	otf_resource_t *r = out;
	if (!strcmp(k, "attributes"))
		return otf__jdec_attributes(d, v, k, &r->attributes);
	if (!strcmp(k, "droppedAttributesCount"))
		return otf__jdec_u32(d, v, &r->dropped_attributes_count);
	if (!strcmp(k, "entityRefs"))
		return otf__jdec_array(d, v, k, sizeof *r->entity_refs, &r->entity_refs,
		                       &r->entity_refs_len, entity_ref_elem);
	return 0;
}

int otf__jdec_resource(otf__jdec *d, otf__jval *v, void *out)
{
	return otf__jdec_object(d, v, resource_field, out);
}

static int scope_field(otf__jdec *d, const char *k, otf__jval *v, void *out)
{
	otf_scope_t *s = out;
	if (!strcmp(k, "name"))
		return otf__jdec_string(d, v, &s->name);
	if (!strcmp(k, "version"))
		return otf__jdec_string(d, v, &s->version);
	if (!strcmp(k, "attributes"))
		return otf__jdec_attributes(d, v, k, &s->attributes);
	if (!strcmp(k, "droppedAttributesCount"))
		return otf__jdec_u32(d, v, &s->dropped_attributes_count);
	return 0;
}

int otf__jdec_scope(otf__jdec *d, otf__jval *v, void *out)
{
	return otf__jdec_object(d, v, scope_field, out);
}
