/* Conditions compiled to byte compares (otf_ottl_fast_t in otflow/ottl.h):
 * the shapes routers use most, `attributes["k"] == "v"` on a resource and
 * `request["H"] == "v"`, joined by and/or/not, answered from the
 * Resource's protobuf bytes (otf_view_*) and the request's header values
 * with no OTTL value boxing, no decode and no allocation per record.
 *
 * Why a second evaluator for these shapes only: the tree evaluator decodes
 * the resource (every attribute, in an arena) before the first compare,
 * which is most of a router's cost per resource; these compares need one
 * walk over the attribute slices. The results are the tree's by the same
 * rules (ottl_value.c otf__ottl_compare, ottl_request.c): the first
 * KeyValue with the key decides (the lazy path's rule, ottl_lazy.c); nil
 * equals only nil; values of another type than the literal's are unequal;
 * header keys are cut at REQUEST_KEY_MAX as request[] does. What the views
 * reject (malformed bytes) is answered OTF_OTTL_FAST_UNSURE and the caller
 * asks the tree, which reports the error as it always did. */
#include "ottl_fields.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/pdata_view.h"

#include <string.h>

#define REQUEST_KEY_MAX 256 /* as ottl_request.c */
#define FAST_MAX_NODES  32
#define FAST_MAX_KEYS   8

typedef enum fast_op {
	OP_CONST, /* b */
	OP_AND,   /* a, b: node indexes */
	OP_OR,
	OP_NOT,      /* a */
	OP_ATTR_CMP, /* key, val (val.ptr NULL: nil), ne */
	OP_HDR_CMP,  /* slot into hdr_keys, val (ptr NULL: nil), ne */
} fast_op_t;

typedef struct fast_node {
	fast_op_t op;
	bool b, ne;
	uint8_t a, c; /* operands of AND/OR/NOT */
	uint8_t slot;
	otf_bytes_t key, val;
} fast_node_t;

struct otf_ottl_fast {
	fast_node_t nodes[FAST_MAX_NODES];
	size_t nnodes;
	size_t root;
	char hdr_keys[FAST_MAX_KEYS][REQUEST_KEY_MAX];
	size_t nkeys;
	/* Literal bytes (keys, values) live in the program's arena, which
	 * outlives this (see otf_ottl_fast_compile). */
};

static bool lit_string(const otf__ottl_node_t *n)
{
	return n->kind == N_LIT && n->lit.type == OTF_ANY_STRING;
}

static bool lit_nil(const otf__ottl_node_t *n)
{
	return n->kind == N_LIT && n->lit.type == OTF_ANY_EMPTY;
}

/* path[key] with one string literal key, of field f. */
static bool keyed_path(const otf__ottl_node_t *n, int f)
{
	return n->kind == N_PATH && n->field == f && n->nkeys == 1 && lit_string(n->keys[0]);
}

static int build(otf_ottl_fast_t *f, const otf__ottl_node_t *n, int depth)
{
	if (f->nnodes == FAST_MAX_NODES || depth > 16)
		return -1;
	fast_node_t x;
	memset(&x, 0, sizeof x);
	int a, c;
	switch (n->kind) {
	case N_LIT:
		if (n->lit.type != OTF_ANY_BOOL)
			return -1;
		x.op = OP_CONST;
		x.b = n->lit.u.bool_value;
		break;
	case N_AND:
	case N_OR:
		if ((a = build(f, n->args[0], depth + 1)) < 0 ||
		    (c = build(f, n->args[1], depth + 1)) < 0)
			return -1;
		x.op = n->kind == N_AND ? OP_AND : OP_OR;
		x.a = (uint8_t)a;
		x.c = (uint8_t)c;
		break;
	case N_NOT:
		if ((a = build(f, n->args[0], depth + 1)) < 0)
			return -1;
		x.op = OP_NOT;
		x.a = (uint8_t)a;
		break;
	case N_CMP: {
		if (n->op != T_EQ && n->op != T_NE)
			return -1;
		const otf__ottl_node_t *p = n->args[0], *v = n->args[1];
		if (p->kind == N_LIT) { /* "v" == attributes["k"] */
			p = n->args[1];
			v = n->args[0];
		}
		if (!lit_string(v) && !lit_nil(v))
			return -1;
		x.ne = n->op == T_NE;
		x.val = lit_nil(v) ? (otf_bytes_t){NULL, 0} : v->lit.u.string_value;
		if (x.val.ptr == NULL && !lit_nil(v))
			x.val.ptr = (const uint8_t *)""; /* the empty string, not nil */
		if (keyed_path(p, F_RES_ATTRS)) {
			x.op = OP_ATTR_CMP;
			x.key = p->keys[0]->lit.u.string_value;
		} else if (keyed_path(p, F_REQUEST)) {
			otf_bytes_t k = p->keys[0]->lit.u.string_value;
			x.op = OP_HDR_CMP;
			if (k.len >= REQUEST_KEY_MAX) {
				/* request[] reads such a key as nil: a constant */
				x.op = OP_CONST;
				x.b = (x.val.ptr == NULL) != x.ne;
				break;
			}
			size_t s = 0;
			while (s < f->nkeys && (strlen(f->hdr_keys[s]) != k.len ||
			                        memcmp(f->hdr_keys[s], k.ptr, k.len)))
				s++;
			if (s == f->nkeys) {
				if (f->nkeys == FAST_MAX_KEYS)
					return -1;
				if (k.len)
					memcpy(f->hdr_keys[s], k.ptr, k.len);
				f->hdr_keys[s][k.len] = '\0';
				f->nkeys++;
			}
			x.slot = (uint8_t)s;
		} else {
			return -1;
		}
		break;
	}
	default:
		return -1;
	}
	f->nodes[f->nnodes] = x;
	return (int)f->nnodes++;
}

int otf_ottl_fast_compile(const otf_ottl_program_t *p, size_t i, otf_ottl_fast_t **out)
{
	*out = NULL;
	const otf__ottl_node_t *cond = otf__ottl_program_condition(p, i);
	if (!cond || otf__ottl_program_context(p) != OTF_OTTL_CTX_RESOURCE)
		return 0;
	otf_ottl_fast_t *f = otf_calloc(1, sizeof *f);
	if (!f)
		return OTF_E_NOMEM;
	int root = build(f, cond, 0);
	if (root < 0) {
		otf_free(f);
		return 0;
	}
	f->root = (size_t)root;
	*out = f;
	return 0;
}

void otf_ottl_fast_destroy(otf_ottl_fast_t *f)
{
	otf_free(f);
}

size_t otf_ottl_fast_header_count(const otf_ottl_fast_t *f)
{
	return f->nkeys;
}

const char *otf_ottl_fast_header_key(const otf_ottl_fast_t *f, size_t slot)
{
	return slot < f->nkeys ? f->hdr_keys[slot] : NULL;
}

/* n bytes equal: keys and values are short, and a libc call per compare
 * was a third of a fast condition's cost. */
static inline bool eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint64_t x, y;
	while (n >= 8) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		if (x != y)
			return false;
		a += 8;
		b += 8;
		n -= 8;
	}
	while (n--)
		if (*a++ != *b++)
			return false;
	return true;
}

/* KeyValue kv's key and AnyValue, as otf_view_kv_read (the last of each
 * field wins); false on bytes the fast reader leaves to the views. */
static inline bool kv_fast(otf_bytes_t kv, otf_bytes_t *key, otf_bytes_t *val)
{
	const uint8_t *p = kv.ptr, *end = kv.ptr + kv.len;
	*key = (otf_bytes_t){NULL, 0};
	*val = (otf_bytes_t){NULL, 0};
	while (p < end) {
		size_t n;
		uint32_t f = otf_view_ld_field(&p, end, &n);
		if (f == 1)
			*key = (otf_bytes_t){p, n};
		else if (f == 2)
			*val = (otf_bytes_t){p, n};
		else
			return false;
		p += n;
	}
	return true;
}

/* 1 equal, 0 not, UNSURE on bytes the views refuse. */
static int attr_eq(otf_bytes_t resource, otf_bytes_t key, otf_bytes_t val)
{
	/* an absent field is {NULL, 0}: no arithmetic on NULL */
	const uint8_t *p = resource.ptr, *end = resource.len ? resource.ptr + resource.len : p;
	while (p < end) {
		size_t n;
		uint32_t f = otf_view_ld_field(&p, end, &n);
		if (!f)
			break; /* not the simple shape: the views read the rest */
		otf_bytes_t kv = {p, n}, k, v;
		p += n;
		if (f != 1)
			continue; /* Resource.attributes = 1 */
		if (!kv_fast(kv, &k, &v) && otf_view_kv_read(kv, &k, &v))
			return OTF_OTTL_FAST_UNSURE;
		if (k.len != key.len || !eq(k.ptr, key.ptr, k.len))
			continue;
		/* The AnyValue: a lone string_value (field 1) is the usual one. */
		const uint8_t *q = v.ptr, *vend = v.len ? v.ptr + v.len : q;
		size_t sl;
		if (v.len && otf_view_ld_field(&q, vend, &sl) == 1 && q + sl == vend) {
			if (!val.ptr)
				return 0;
			return sl == val.len && eq(q, val.ptr, sl);
		}
		otf_view_any_t a;
		if (otf_view_any_read(v, &a))
			return OTF_OTTL_FAST_UNSURE;
		if (!val.ptr)
			return a.type == OTF_ANY_EMPTY;
		return a.type == OTF_ANY_STRING && otf__ottl_bytes_eq(a.u.bytes, val);
	}
	if (p < end) { /* the rest, field by field, by the views */
		otf_view_iter_t it;
		otf_bytes_t kv, k, v;
		int rc;
		otf_view_iter_init(&it, (otf_bytes_t){p, (size_t)(end - p)}, 1);
		while ((rc = otf_view_iter_next(&it, &kv)) > 0) {
			if (otf_view_kv_read(kv, &k, &v))
				return OTF_OTTL_FAST_UNSURE;
			if (!otf__ottl_bytes_eq(k, key))
				continue;
			otf_view_any_t a;
			if (otf_view_any_read(v, &a))
				return OTF_OTTL_FAST_UNSURE;
			if (!val.ptr)
				return a.type == OTF_ANY_EMPTY;
			return a.type == OTF_ANY_STRING && otf__ottl_bytes_eq(a.u.bytes, val);
		}
		if (rc < 0)
			return OTF_OTTL_FAST_UNSURE;
	}
	return val.ptr == NULL; /* absent: nil */
}

/* A compare leaf: 1, 0 or UNSURE. */
static inline int leaf(const fast_node_t *x, otf_bytes_t resource, const char *const *hdr_vals)
{
	if (x->op == OP_HDR_CMP) {
		const char *v = hdr_vals[x->slot];
		bool eq = x->val.ptr ? v && strlen(v) == x->val.len &&
		                           (!x->val.len || !memcmp(v, x->val.ptr, x->val.len))
		                     : v == NULL;
		return eq != x->ne;
	}
	int rc = attr_eq(resource, x->key, x->val);
	return rc == OTF_OTTL_FAST_UNSURE ? rc : rc != x->ne;
}

static int eval(const otf_ottl_fast_t *f, size_t i, otf_bytes_t resource,
                const char *const *hdr_vals)
{
	const fast_node_t *x = &f->nodes[i];
	int rc;
	switch (x->op) {
	case OP_CONST:
		return x->b;
	case OP_AND:
		rc = eval(f, x->a, resource, hdr_vals);
		return rc != 1 ? rc : eval(f, x->c, resource, hdr_vals);
	case OP_OR:
		rc = eval(f, x->a, resource, hdr_vals);
		return rc != 0 ? rc : eval(f, x->c, resource, hdr_vals);
	case OP_NOT:
		rc = eval(f, x->a, resource, hdr_vals);
		return rc == OTF_OTTL_FAST_UNSURE ? rc : !rc;
	case OP_ATTR_CMP:
	case OP_HDR_CMP:
		return leaf(x, resource, hdr_vals);
	}
	return OTF_OTTL_FAST_UNSURE;
}

int otf_ottl_fast_eval(const otf_ottl_fast_t *f, otf_bytes_t resource, const char *const *hdr_vals)
{
	const fast_node_t *x = &f->nodes[f->root];
	if (x->op == OP_ATTR_CMP || x->op == OP_HDR_CMP)
		return leaf(x, resource, hdr_vals); /* the usual: one compare */
	return eval(f, f->root, resource, hdr_vals);
}
