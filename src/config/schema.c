/* Declarative component config schemas: defaults, apply, free, docs. */
#include "otflow/config_schema.h"

#include "config/config_int.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <string.h>

#define SLOT(base, f, T) ((T *)(void *)((char *)(base) + (f)->offset))

const char *otf_config_type_name(otf_config_type_t type)
{
	switch (type) {
	case OTF_CFG_BOOL:
		return "bool";
	case OTF_CFG_INT:
		return "int";
	case OTF_CFG_UINT:
		return "uint";
	case OTF_CFG_DOUBLE:
		return "double";
	case OTF_CFG_STRING:
		return "string";
	case OTF_CFG_DURATION:
		return "duration";
	case OTF_CFG_SIZE:
		return "size";
	case OTF_CFG_ENUM:
		return "enum";
	case OTF_CFG_STRING_LIST:
		return "list of strings";
	case OTF_CFG_OBJECT:
		return "object";
	case OTF_CFG_STRING_MAP:
		return "map of strings";
	case OTF_CFG_OBJECT_LIST:
		return "list of objects";
	case OTF_CFG_CUSTOM:
		return "custom";
	}
	return "unknown";
}

const char *otf_config_strmap_get(const otf_config_strmap_t *m, const char *key)
{
	for (size_t i = 0; m && i < m->n; i++)
		if (strcmp(m->keys[i], key) == 0)
			return m->values[i];
	return NULL;
}

static void free_list(otf_config_strlist_t *l)
{
	for (size_t i = 0; i < l->n; i++)
		otf_free(l->items[i]);
	otf_free(l->items);
	l->items = NULL;
	l->n = 0;
}

static void free_map(otf_config_strmap_t *m)
{
	for (size_t i = 0; i < m->n; i++) {
		otf_free(m->keys[i]);
		otf_free(m->values[i]);
	}
	otf_free(m->keys);
	otf_free(m->values);
	*m = (otf_config_strmap_t){0};
}

static void free_objlist(const otf_config_field_t *f, otf_config_objlist_t *l)
{
	for (size_t i = 0; i < l->n; i++)
		otf_config_schema_free(f->sub, (char *)l->items + i * f->elem_size);
	otf_free(l->items);
	l->items = NULL;
	l->n = 0;
}

void otf_config_schema_free(const otf_config_field_t *schema, void *out)
{
	for (const otf_config_field_t *f = schema; f && f->key; f++) {
		if (f->type == OTF_CFG_STRING) {
			otf_free(*SLOT(out, f, char *));
			*SLOT(out, f, char *) = NULL;
		} else if (f->type == OTF_CFG_STRING_LIST) {
			free_list(SLOT(out, f, otf_config_strlist_t));
		} else if (f->type == OTF_CFG_STRING_MAP) {
			free_map(SLOT(out, f, otf_config_strmap_t));
		} else if (f->type == OTF_CFG_OBJECT) {
			otf_config_schema_free(f->sub, SLOT(out, f, char));
		} else if (f->type == OTF_CFG_OBJECT_LIST) {
			free_objlist(f, SLOT(out, f, otf_config_objlist_t));
		} else if (f->type == OTF_CFG_CUSTOM && f->release) {
			f->release(SLOT(out, f, char));
		}
	}
}

/* Makes every described field hold nothing, so that _free is safe on a
 * struct that arrived uninitialised. */
static void zero_fields(const otf_config_field_t *schema, void *out)
{
	for (const otf_config_field_t *f = schema; f && f->key; f++) {
		switch (f->type) {
		case OTF_CFG_BOOL:
			*SLOT(out, f, bool) = false;
			break;
		case OTF_CFG_INT:
		case OTF_CFG_DURATION:
			*SLOT(out, f, int64_t) = 0;
			break;
		case OTF_CFG_UINT:
		case OTF_CFG_SIZE:
			*SLOT(out, f, uint64_t) = 0;
			break;
		case OTF_CFG_DOUBLE:
			*SLOT(out, f, double) = 0;
			break;
		case OTF_CFG_ENUM:
			*SLOT(out, f, int) = 0;
			break;
		case OTF_CFG_STRING:
			*SLOT(out, f, char *) = NULL;
			break;
		case OTF_CFG_STRING_LIST:
			*SLOT(out, f, otf_config_strlist_t) = (otf_config_strlist_t){0};
			break;
		case OTF_CFG_STRING_MAP:
			*SLOT(out, f, otf_config_strmap_t) = (otf_config_strmap_t){0};
			break;
		case OTF_CFG_OBJECT:
			zero_fields(f->sub, SLOT(out, f, char));
			break;
		case OTF_CFG_OBJECT_LIST:
			*SLOT(out, f, otf_config_objlist_t) = (otf_config_objlist_t){0};
			break;
		case OTF_CFG_CUSTOM:
			break; /* the owner's struct starts zeroed (calloc) */
		}
		if (f->present_at)
			*(bool *)(void *)((char *)out + f->present_at - 1) = false;
	}
}

static int enum_index(const otf_config_field_t *f, const char *s)
{
	for (int i = 0; f->enum_values && f->enum_values[i]; i++)
		if (strcmp(f->enum_values[i], s) == 0)
			return i;
	return -1;
}

/* Scalar types from text: the one parser for defaults and YAML values. */
static int parse_scalar(const otf_config_field_t *f, const char *s, void *out)
{
	switch (f->type) {
	case OTF_CFG_BOOL:
		return otf_config_parse_bool(s, SLOT(out, f, bool));
	case OTF_CFG_INT:
		return otf_config_parse_int64(s, SLOT(out, f, int64_t));
	case OTF_CFG_UINT:
		return otf_config_parse_uint64(s, SLOT(out, f, uint64_t));
	case OTF_CFG_DOUBLE:
		return otf_config_parse_double(s, SLOT(out, f, double));
	case OTF_CFG_DURATION:
		return otf_config_parse_duration(s, SLOT(out, f, int64_t));
	case OTF_CFG_SIZE:
		return otf_config_parse_size(s, SLOT(out, f, uint64_t));
	case OTF_CFG_ENUM: {
		int i = enum_index(f, s);
		if (i < 0)
			return OTF_E_CONFIG;
		*SLOT(out, f, int) = i;
		return 0;
	}
	case OTF_CFG_STRING: {
		char *dup = otf_strndup(s, strlen(s));
		if (!dup)
			return -ENOMEM;
		otf_free(*SLOT(out, f, char *));
		*SLOT(out, f, char *) = dup;
		return 0;
	}
	default:
		return OTF_E_INVAL;
	}
}

/* Appends a copy of s[0..len) to a list or (with value) a map. */
static int list_add(char ***items, size_t *n, const char *s, size_t len)
{
	char **grown = otf_realloc(*items, (*n + 1) * sizeof(char *));
	if (!grown)
		return -ENOMEM;
	*items = grown;
	char *dup = otf_strndup(s, len);
	if (!dup)
		return -ENOMEM;
	grown[(*n)++] = dup;
	return 0;
}

static int map_add(otf_config_strmap_t *m, const char *k, size_t klen, const char *v, size_t vlen)
{
	char **vals = otf_realloc(m->values, (m->n + 1) * sizeof(char *));
	if (!vals)
		return -ENOMEM;
	m->values = vals;
	char *dup = otf_strndup(v, vlen);
	if (!dup)
		return -ENOMEM;
	size_t n = m->n;
	int rc = list_add(&m->keys, &n, k, klen);
	if (rc < 0) {
		otf_free(dup);
		return rc;
	}
	m->values[m->n++] = dup;
	return 0;
}

static size_t trim(const char **s, size_t len)
{
	while (len && **s == ' ') {
		(*s)++;
		len--;
	}
	while (len && (*s)[len - 1] == ' ')
		len--;
	return len;
}

/* "a, b" for lists and "k=v, k2=v2" for maps; "" is empty. */
static int parse_default_collection(const otf_config_field_t *f, const char *def, void *out)
{
	const char *p = def;
	while (*p) {
		size_t len = strcspn(p, ",");
		const char *item = p;
		size_t ilen = trim(&item, len);
		p += len + (p[len] == ',');
		int rc;
		if (f->type == OTF_CFG_STRING_LIST) {
			otf_config_strlist_t *l = SLOT(out, f, otf_config_strlist_t);
			rc = list_add(&l->items, &l->n, item, ilen);
		} else {
			const char *eq = memchr(item, '=', ilen);
			if (!eq)
				return OTF_E_INVAL;
			const char *k = item, *v = eq + 1;
			size_t klen = trim(&k, (size_t)(eq - item));
			size_t vlen = trim(&v, ilen - (size_t)(eq - item) - 1);
			rc = map_add(SLOT(out, f, otf_config_strmap_t), k, klen, v, vlen);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int fill_defaults(const otf_config_field_t *schema, void *out, otf_config_error_t *err)
{
	for (const otf_config_field_t *f = schema; f && f->key; f++) {
		int rc = 0;
		if (f->type == OTF_CFG_OBJECT)
			rc = fill_defaults(f->sub, SLOT(out, f, char), err);
		else if (!f->def)
			continue;
		else if (f->type == OTF_CFG_STRING_LIST || f->type == OTF_CFG_STRING_MAP)
			rc = parse_default_collection(f, f->def, out);
		else
			rc = parse_scalar(f, f->def, out);
		if (rc < 0 && rc != -ENOMEM && f->type != OTF_CFG_OBJECT) {
			otf__config_error_set(err, NULL, 0, 0, f->key,
			                      "schema bug: default \"%s\" is not a valid %s",
			                      f->def, otf_config_type_name(f->type));
			return OTF_E_INVAL;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

int otf_config_schema_defaults(const otf_config_field_t *schema, void *out)
{
	zero_fields(schema, out);
	int rc = fill_defaults(schema, out, NULL);
	if (rc < 0)
		otf_config_schema_free(schema, out);
	return rc;
}

static void list_keys(const otf_config_field_t *schema, char *buf, size_t cap)
{
	size_t at = 0;
	buf[0] = '\0';
	for (const otf_config_field_t *f = schema; f && f->key && at < cap; f++)
		at += (size_t)snprintf(buf + at, cap - at, "%s%s", at ? ", " : "", f->key);
}

typedef struct warn_ctx {
	otf_config_warn_fn fn;
	void *user;
} warn_ctx_t;

static int apply_map(const otf_config_field_t *schema, const otf_config_node_t *node, void *out,
                     otf_config_error_t *err, const warn_ctx_t *w);

static int type_error(otf_config_error_t *err, const otf_config_node_t *v, const char *what,
                      const char *hint)
{
	if (hint)
		return otf_config_errorf(err, v, "expected %s \"%s\", got %s", what, hint,
		                         otf_config_kind_name(v));
	return otf_config_errorf(err, v, "expected %s, got %s", what, otf_config_kind_name(v));
}

static int enum_error(const otf_config_field_t *f, const otf_config_node_t *v,
                      otf_config_error_t *err)
{
	char allowed[400];
	size_t at = 0;
	allowed[0] = '\0';
	for (size_t i = 0; f->enum_values && f->enum_values[i] && at < sizeof(allowed); i++)
		at += (size_t)snprintf(allowed + at, sizeof(allowed) - at, "%s\"%s\"",
		                       i ? ", " : "", f->enum_values[i]);
	const char *s = otf_config_scalar(v, NULL);
	if (!s)
		return otf_config_errorf(err, v, "expected one of %s, got %s", allowed,
		                         otf_config_kind_name(v));
	return otf_config_errorf(err, v, "expected one of %s, got \"%s\"", allowed, s);
}

static int set_list(const otf_config_field_t *f, const otf_config_node_t *v, void *out,
                    otf_config_error_t *err)
{
	if (otf_config_node_kind(v) != OTF_CONFIG_SEQUENCE)
		return type_error(err, v, "a list of strings", f->hint);
	otf_config_strlist_t l = {0};
	int rc = 0;
	for (size_t i = 0; i < otf_config_len(v) && rc == 0; i++) {
		const otf_config_node_t *item = otf_config_seq_at(v, i);
		size_t len;
		const char *s = otf_config_scalar(item, &len);
		rc = s ? list_add(&l.items, &l.n, s, len) : type_error(err, item, "a string", NULL);
	}
	if (rc < 0) {
		free_list(&l);
		return rc;
	}
	free_list(SLOT(out, f, otf_config_strlist_t));
	*SLOT(out, f, otf_config_strlist_t) = l;
	return 0;
}

static int set_map(const otf_config_field_t *f, const otf_config_node_t *v, void *out,
                   otf_config_error_t *err)
{
	if (otf_config_node_kind(v) != OTF_CONFIG_MAPPING)
		return type_error(err, v, "a mapping of strings", f->hint);
	otf_config_strmap_t m = {0};
	int rc = 0;
	for (size_t i = 0; i < otf_config_len(v) && rc == 0; i++) {
		const otf_config_node_t *val;
		const char *k = otf_config_map_at(v, i, &val);
		size_t len = 0;
		const char *s = otf_config_scalar(val, &len);
		if (!s && otf_config_node_kind(val) == OTF_CONFIG_NULL)
			s = "";
		rc = s ? map_add(&m, k, strlen(k), s, len) : type_error(err, val, "a string", NULL);
	}
	if (rc < 0) {
		free_map(&m);
		return rc;
	}
	free_map(SLOT(out, f, otf_config_strmap_t));
	*SLOT(out, f, otf_config_strmap_t) = m;
	return 0;
}

/* -1 below min, 1 above max, 0 inside (or unbounded). */
static int out_of_range(const otf_config_field_t *f, const void *out)
{
	union {
		int64_t i;
		uint64_t u;
		double d;
	} lo, hi;
	otf_config_field_t tmp = *f;
	tmp.offset = 0;
	int below = 0, above = 0;
	switch (f->type) {
	case OTF_CFG_INT:
	case OTF_CFG_DURATION: {
		int64_t v = *(const int64_t *)(const void *)((const char *)out + f->offset);
		below = f->min && parse_scalar(&tmp, f->min, &lo.i) == 0 && v < lo.i;
		above = f->max && parse_scalar(&tmp, f->max, &hi.i) == 0 && v > hi.i;
		break;
	}
	case OTF_CFG_UINT:
	case OTF_CFG_SIZE: {
		uint64_t v = *(const uint64_t *)(const void *)((const char *)out + f->offset);
		below = f->min && parse_scalar(&tmp, f->min, &lo.u) == 0 && v < lo.u;
		above = f->max && parse_scalar(&tmp, f->max, &hi.u) == 0 && v > hi.u;
		break;
	}
	case OTF_CFG_DOUBLE: {
		double v = *(const double *)(const void *)((const char *)out + f->offset);
		below = f->min && parse_scalar(&tmp, f->min, &lo.d) == 0 && v < lo.d;
		above = f->max && parse_scalar(&tmp, f->max, &hi.d) == 0 && v > hi.d;
		break;
	}
	default:
		break;
	}
	return below ? -1 : above ? 1 : 0;
}

static int range_error(const otf_config_field_t *f, const otf_config_node_t *v,
                       otf_config_error_t *err)
{
	const char *s = otf_config_scalar(v, NULL);
	char range[128];
	if (f->min && f->max)
		snprintf(range, sizeof(range), "%s..%s", f->min, f->max);
	else if (f->min)
		snprintf(range, sizeof(range), "at least %s", f->min);
	else
		snprintf(range, sizeof(range), "at most %s", f->max);
	return otf_config_errorf(err, v, "%s is out of range: expected %s%s%s%s", s ? s : "value",
	                         range, f->range_why ? " (" : "", f->range_why ? f->range_why : "",
	                         f->range_why ? ")" : "");
}

static int set_value_raw(const otf_config_field_t *f, const otf_config_node_t *v, void *out,
                         otf_config_error_t *err);

static int set_objlist(const otf_config_field_t *f, const otf_config_node_t *v, void *out,
                       otf_config_error_t *err, const warn_ctx_t *w);

static int set_value(const otf_config_field_t *f, const otf_config_node_t *v, void *out,
                     otf_config_error_t *err, const warn_ctx_t *w)
{
	int rc = f->type == OTF_CFG_OBJECT_LIST ? set_objlist(f, v, out, err, w)
	         : f->type == OTF_CFG_OBJECT && otf_config_node_kind(v) != OTF_CONFIG_NULL
	             ? apply_map(f->sub, v, SLOT(out, f, char), err, w)
	             : set_value_raw(f, v, out, err);
	if (rc == 0 && (f->min || f->max) && otf_config_node_kind(v) != OTF_CONFIG_NULL &&
	    out_of_range(f, out))
		return range_error(f, v, err);
	return rc;
}

static int set_value_raw(const otf_config_field_t *f, const otf_config_node_t *v, void *out,
                         otf_config_error_t *err)
{
	/* A null value keeps the default, as mapstructure leaves a field
	 * alone for a nil input; an object still checks its required keys. */
	if (otf_config_node_kind(v) == OTF_CONFIG_NULL && f->type != OTF_CFG_OBJECT)
		return 0;
	switch (f->type) {
	case OTF_CFG_BOOL:
		return otf_config_read_bool(v, SLOT(out, f, bool), err);
	case OTF_CFG_INT:
		return otf_config_read_int64(v, SLOT(out, f, int64_t), err);
	case OTF_CFG_UINT:
		return otf_config_read_uint64(v, SLOT(out, f, uint64_t), err);
	case OTF_CFG_DOUBLE:
		return otf_config_read_double(v, SLOT(out, f, double), err);
	case OTF_CFG_DURATION:
		return otf_config_read_duration(v, SLOT(out, f, int64_t), err);
	case OTF_CFG_SIZE:
		return otf_config_read_size(v, SLOT(out, f, uint64_t), err);
	case OTF_CFG_STRING: {
		const char *s = otf_config_scalar(v, NULL);
		return s ? parse_scalar(f, s, out) : type_error(err, v, "a string", f->hint);
	}
	case OTF_CFG_ENUM: {
		const char *s = otf_config_scalar(v, NULL);
		return s && parse_scalar(f, s, out) == 0 ? 0 : enum_error(f, v, err);
	}
	case OTF_CFG_STRING_LIST:
		return set_list(f, v, out, err);
	case OTF_CFG_STRING_MAP:
		return set_map(f, v, out, err);
	case OTF_CFG_OBJECT:
		return apply_map(f->sub, v, SLOT(out, f, char), err, NULL);
	case OTF_CFG_OBJECT_LIST:
		return OTF_E_INVAL; /* set_value handles it */
	case OTF_CFG_CUSTOM:
		if (!f->parse)
			return OTF_E_INVAL;
		if (f->release)
			f->release(SLOT(out, f, char));
		return f->parse(v, SLOT(out, f, char), err);
	}
	return OTF_E_INVAL;
}

/* A sequence of mappings, each filled like an object: defaults, then its
 * keys. A list given twice (merged configs) replaces the earlier one. */
static int set_objlist(const otf_config_field_t *f, const otf_config_node_t *v, void *out,
                       otf_config_error_t *err, const warn_ctx_t *w)
{
	otf_config_objlist_t *l = SLOT(out, f, otf_config_objlist_t);
	free_objlist(f, l);
	if (otf_config_node_kind(v) == OTF_CONFIG_NULL)
		return 0;
	if (otf_config_node_kind(v) != OTF_CONFIG_SEQUENCE)
		return type_error(err, v, "a list of mappings", f->hint);
	size_t n = otf_config_len(v);
	if (!n)
		return 0;
	l->items = otf_calloc(n, f->elem_size);
	if (!l->items)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char *el = (char *)l->items + i * f->elem_size;
		zero_fields(f->sub, el);
		l->n = i + 1;
		int rc = fill_defaults(f->sub, el, err);
		if (!rc)
			rc = apply_map(f->sub, otf_config_seq_at(v, i), el, err, w);
		if (rc < 0)
			return rc; /* the caller frees the whole struct */
	}
	return 0;
}

static void warn_ignored(const otf_config_field_t *f, const otf_config_node_t *v,
                         const warn_ctx_t *w)
{
	if (!w || !w->fn)
		return;
	otf_config_error_t e;
	otf_config_errorf(&e, v, "accepted and ignored: %s", f->ignored);
	w->fn(w->user, &e);
}

static int apply_map(const otf_config_field_t *schema, const otf_config_node_t *node, void *out,
                     otf_config_error_t *err, const warn_ctx_t *w)
{
	otf_config_kind_t kind = otf_config_node_kind(node);
	if (kind != OTF_CONFIG_MAPPING && kind != OTF_CONFIG_NULL)
		return type_error(err, node, "a mapping", NULL);
	for (size_t i = 0; i < otf_config_len(node); i++) {
		const otf_config_node_t *v;
		const char *key = otf_config_map_at(node, i, &v);
		const otf_config_field_t *f = schema;
		while (f && f->key && strcmp(f->key, key) != 0)
			f++;
		if (!f || !f->key) {
			char keys[400], path[256];
			uint32_t line, col;
			list_keys(schema, keys, sizeof(keys));
			otf_config_map_key_pos(node, i, &line, &col);
			otf_config_node_path(node, path, sizeof(path));
			return otf__config_error_set(err, otf_config_node_file(v), line, col, path,
			                             "unknown key \"%s\" (valid keys: %s)", key,
			                             keys[0] ? keys : "none");
		}
		int rc = set_value(f, v, out, err, w);
		if (rc < 0)
			return rc;
		if (f->ignored)
			warn_ignored(f, v, w);
		if (f->present_at)
			*(bool *)(void *)((char *)out + f->present_at - 1) = true;
	}
	for (const otf_config_field_t *f = schema; f && f->key; f++) {
		if (!f->required)
			continue;
		const otf_config_node_t *kv = otf_config_map_get(node, f->key);
		if (!kv)
			return otf_config_errorf(err, node, "missing required key \"%s\"", f->key);
		/* A null keeps the default, and a required key has none: the
		 * component would get NULL where it was promised a value. */
		if (otf_config_node_kind(kv) == OTF_CONFIG_NULL)
			return otf_config_errorf(err, kv, "required key \"%s\" is null", f->key);
	}
	return 0;
}

int otf_config_schema_apply(const otf_config_field_t *schema, const otf_config_node_t *node,
                            void *out, otf_config_error_t *err)
{
	return otf_config_schema_apply_ex(schema, node, out, err, NULL, NULL);
}

int otf_config_schema_apply_ex(const otf_config_field_t *schema, const otf_config_node_t *node,
                               void *out, otf_config_error_t *err, otf_config_warn_fn warn,
                               void *warn_user)
{
	warn_ctx_t w = {warn, warn_user};
	if (err)
		memset(err, 0, sizeof(*err));
	zero_fields(schema, out);
	int rc = fill_defaults(schema, out, err);
	if (rc == 0)
		rc = apply_map(schema, node, out, err, &w);
	if (rc == -ENOMEM)
		otf_config_errorf(err, node, "out of memory");
	if (rc < 0)
		otf_config_schema_free(schema, out);
	return rc;
}

/* Markdown cell text: pipes would end the cell and newlines the row. */
static void cell(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

static void doc_rows(const otf_config_field_t *schema, const char *prefix, FILE *f)
{
	for (const otf_config_field_t *e = schema; e && e->key; e++) {
		char key[256];
		snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "", e->key);
		fputs("| `", f);
		cell(f, key);
		fputs("` | ", f);
		cell(f, e->type == OTF_CFG_CUSTOM && e->hint ? e->hint
		                                             : otf_config_type_name(e->type));
		if (e->type == OTF_CFG_ENUM) {
			for (size_t i = 0; e->enum_values && e->enum_values[i]; i++) {
				fputs(i ? ", `" : ": `", f);
				cell(f, e->enum_values[i]);
				fputc('`', f);
			}
		}
		if (e->hint && e->type != OTF_CFG_CUSTOM) {
			fputs(" (", f);
			cell(f, e->hint);
			fputc(')', f);
		}
		if (e->min || e->max) {
			fputs(e->min && e->max ? ", range "
			      : e->min         ? ", at least "
			                       : ", at most ",
			      f);
			cell(f, e->min ? e->min : e->max);
			if (e->min && e->max) {
				fputs("..", f);
				cell(f, e->max);
			}
		}
		fputs(" | ", f);
		if (e->required) {
			fputs("required", f);
		} else if (e->def && *e->def) {
			fputc('`', f);
			cell(f, e->def);
			fputc('`', f);
		}
		fputs(" | ", f);
		cell(f, e->desc);
		fputs(" |\n", f);
		if (e->type == OTF_CFG_OBJECT)
			doc_rows(e->sub, key, f);
		if (e->type == OTF_CFG_OBJECT_LIST) {
			char item[260];
			snprintf(item, sizeof item, "%s[]", key);
			doc_rows(e->sub, item, f);
		}
	}
}

int otf_config_schema_doc(const otf_config_field_t *schema, FILE *f)
{
	fputs("| Key | Type | Default | Description |\n", f);
	fputs("|-----|------|---------|-------------|\n", f);
	doc_rows(schema, "", f);
	return ferror(f) ? -EIO : 0;
}
