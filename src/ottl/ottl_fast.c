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

#include <stdint.h>
#include <string.h>

#define REQUEST_KEY_MAX 256 /* as ottl_request.c */
#define FAST_MAX_NODES  32
#define FAST_MAX_KEYS   8

typedef enum fast_op {
	OP_CONST, /* b */
	OP_AND,   /* a, b: node indexes */
	OP_OR,
	OP_NOT,      /* a */
	OP_ATTR_CMP, /* slot into attr_keys, val (val.ptr NULL: nil), ne */
	OP_HDR_CMP,  /* slot into hdr_keys, val (ptr NULL: nil), ne */
} fast_op_t;

typedef struct fast_node {
	fast_op_t op;
	bool b, ne;
	uint8_t a, c; /* operands of AND/OR/NOT */
	uint8_t slot;
	otf_bytes_t val;
} fast_node_t;

struct otf_ottl_fast {
	fast_node_t nodes[FAST_MAX_NODES];
	size_t nnodes;
	size_t root;
	char hdr_keys[FAST_MAX_KEYS][REQUEST_KEY_MAX];
	size_t nkeys;
	/* The distinct attribute keys the condition reads: one walk over the
	 * resource's attributes finds them all (scan below). */
	otf_bytes_t attr_keys[FAST_MAX_NODES];
	size_t nattr;
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
			otf_bytes_t k = p->keys[0]->lit.u.string_value;
			size_t s = 0;
			while (s < f->nattr && !otf__ottl_bytes_eq(f->attr_keys[s], k))
				s++;
			if (s == f->nattr)
				f->attr_keys[f->nattr++] = k; /* at most one per node */
			x.op = OP_ATTR_CMP;
			x.slot = (uint8_t)s;
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
	uint64_t x, y, x2, y2;
	uint32_t u, v, u2, v2;
	if (n >= 8) {
		if (n <= 16) { /* keys and values mostly: two words, overlapping */
			memcpy(&x, a, 8);
			memcpy(&y, b, 8);
			memcpy(&x2, a + n - 8, 8);
			memcpy(&y2, b + n - 8, 8);
			return ((x ^ y) | (x2 ^ y2)) == 0;
		}
		/* whole words, the last one overlapping the one before */
		while (n > 8) {
			memcpy(&x, a, 8);
			memcpy(&y, b, 8);
			if (x != y)
				return false;
			a += 8;
			b += 8;
			n -= 8;
		}
		memcpy(&x2, a + n - 8, 8);
		memcpy(&y2, b + n - 8, 8);
		return x2 == y2;
	}
	if (n >= 4) {
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		memcpy(&u2, a + n - 4, 4);
		memcpy(&v2, b + n - 4, 4);
		return u == v && u2 == v2;
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
	/* The encoders' shape: key (1), then value (2), each shorter than
	 * 128 bytes, nothing else: read without the field loop. */
	if (kv.len >= 4 && p[0] == 0x0a && p[1] < 0x80 && (size_t)p[1] + 4 <= kv.len &&
	    p[2 + p[1]] == 0x12 && p[3 + p[1]] < 0x80 && (size_t)p[1] + 4 + p[3 + p[1]] == kv.len) {
		*key = (otf_bytes_t){p + 2, p[1]};
		*val = (otf_bytes_t){p + 4 + p[1], p[3 + p[1]]};
		return true;
	}
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

/* What one walk over a resource's attributes found for its keys: the
 * first KeyValue with a key decides (its AnyValue in v), as ottl_lazy.c.
 * A key not found is absent, or unsure when the walk met bytes the views
 * refuse before finding it (a walk for that key alone would have met them
 * too). Only found bits are read from v: nothing to clear per walk. */
typedef struct walk {
	uint64_t found; /* bit j: keys[j] found, its AnyValue in v[j] */
	bool unsure;
	bool done;
	/* the bytes of the resource the answer depends on: up to where the
	 * walk stopped with every key found; SIZE_MAX (all of it, its length
	 * too) when it reached the end or left the inline shape */
	size_t used;
	otf_bytes_t v[OTF_OTTL_FAST_SET_MAX_KEYS];
} walk_t;

/* One KeyValue of the walk: true when every key is found (stop). Keys are
 * few (a router's routes read one or two): a loop of length compares. */
static inline bool scan_kv(otf_bytes_t k, otf_bytes_t v, const otf_bytes_t *keys, size_t nkeys,
                           uint64_t all, walk_t *w)
{
	for (size_t j = 0; j < nkeys; j++) {
		if (k.len != keys[j].len || (w->found >> j & 1) || !eq(k.ptr, keys[j].ptr, k.len))
			continue;
		w->found |= (uint64_t)1 << j;
		w->v[j] = v;
		return w->found == all;
	}
	return false;
}

/* The walk from p on, field by field (any shape): what scan leaves to the
 * views. Out of line: encoders write the shape scan reads itself. */
static __attribute__((noinline)) void scan_rest(const uint8_t *p, const uint8_t *end,
                                                const otf_bytes_t *keys, size_t nkeys, uint64_t all,
                                                walk_t *w)
{
	while (p < end) {
		size_t n;
		uint32_t f = otf_view_ld_field(&p, end, &n);
		if (!f)
			break; /* not the simple shape: the views read the rest */
		otf_bytes_t kv = {p, n}, k, v;
		p += n;
		if (f != 1)
			continue;
		if (!kv_fast(kv, &k, &v) && otf_view_kv_read(kv, &k, &v)) {
			w->unsure = true;
			return;
		}
		if (scan_kv(k, v, keys, nkeys, all, w))
			return;
	}
	if (p < end) {
		otf_view_iter_t it;
		otf_bytes_t kv, k, v;
		int rc;
		otf_view_iter_init(&it, (otf_bytes_t){p, (size_t)(end - p)}, 1);
		while ((rc = otf_view_iter_next(&it, &kv)) > 0) {
			if (otf_view_kv_read(kv, &k, &v)) {
				w->unsure = true;
				return;
			}
			if (scan_kv(k, v, keys, nkeys, all, w))
				return;
		}
		if (rc < 0)
			w->unsure = true;
	}
}

/* Finds keys[0 .. nkeys) (all: their bits) in resource's attributes
 * (Resource.attributes = 1) in one walk that stops once all are found.
 * Inline for the encoders' shape, attributes (field 1) shorter than 128
 * bytes; anything else from there on is scan_rest's. */
static inline void scan(otf_bytes_t resource, const otf_bytes_t *keys, size_t nkeys, uint64_t all,
                        walk_t *w)
{
	w->found = 0;
	w->unsure = false;
	w->done = true;
	w->used = nkeys ? SIZE_MAX : 0;
	if (!nkeys)
		return;
	/* an absent field is {NULL, 0}: no arithmetic on NULL */
	const uint8_t *p = resource.ptr, *end = resource.len ? resource.ptr + resource.len : p;
	while (p < end) {
		size_t n = end - p >= 2 ? p[1] : 0x80;
		if (p[0] != 0x0a || n >= 0x80 || n > (size_t)(end - p) - 2) {
			scan_rest(p, end, keys, nkeys, all, w);
			return;
		}
		otf_bytes_t kv = {p + 2, n}, k, v;
		p += 2 + n;
		if (!kv_fast(kv, &k, &v) && otf_view_kv_read(kv, &k, &v)) {
			w->unsure = true;
			return;
		}
		if (scan_kv(k, v, keys, nkeys, all, w)) {
			w->used = (size_t)(p - resource.ptr);
			return;
		}
	}
}

static inline uint64_t all_bits(size_t nkeys)
{
	return nkeys >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << nkeys) - 1;
}

/* 1 when what the walk found for key j equals val (NULL: nil), 0 not,
 * UNSURE on bytes the views refuse. */
enum { KEY_ABSENT = 0, KEY_FOUND = 1, KEY_UNSURE = 2 };

/* 1 when a key in state (KEY_*, its AnyValue v when found) equals val
 * (NULL: nil), 0 not, UNSURE on bytes the views refuse. */
static inline int value_is(int state, otf_bytes_t v, otf_bytes_t val)
{
	if (state != KEY_FOUND)
		return state == KEY_UNSURE ? OTF_OTTL_FAST_UNSURE
		                           : val.ptr == NULL; /* absent: nil */
	/* The AnyValue: a lone string_value (field 1) is the usual one, and
	 * shorter than 128 bytes the encoders' usual shape. */
	if (v.len >= 2 && v.ptr[0] == 0x0a && v.ptr[1] < 0x80 && (size_t)v.ptr[1] + 2 == v.len)
		return val.ptr && v.ptr[1] == val.len && eq(v.ptr + 2, val.ptr, val.len);
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

/* What the walk found for key j equals val: value_is. */
static inline int value_eq(const walk_t *w, size_t j, otf_bytes_t val)
{
	int state = w->found >> j & 1 ? KEY_FOUND : w->unsure ? KEY_UNSURE : KEY_ABSENT;
	return value_is(state, w->v[j], val);
}

/* find1 from p on, any shape: scan_rest for one key. */
static __attribute__((noinline)) int find1_rest(const uint8_t *p, const uint8_t *end,
                                                otf_bytes_t key, otf_bytes_t *v)
{
	walk_t w;
	w.found = 0;
	w.unsure = false;
	scan_rest(p, end, &key, 1, 1, &w);
	if (w.found) {
		*v = w.v[0];
		return KEY_FOUND;
	}
	return w.unsure ? KEY_UNSURE : KEY_ABSENT;
}

/* scan for a set with one attribute key (every route reads the same one,
 * or one route reads one): its state (KEY_*) and AnyValue in *v, kept in
 * registers rather than a walk_t. Same rules as scan. */
static inline int find1(otf_bytes_t resource, otf_bytes_t key, otf_bytes_t *v, size_t *used)
{
	*used = SIZE_MAX;
	const uint8_t *p = resource.ptr, *end = resource.len ? resource.ptr + resource.len : p;
	while (p < end) {
		size_t n = end - p >= 2 ? p[1] : 0x80;
		if (p[0] != 0x0a || n >= 0x80 || n > (size_t)(end - p) - 2)
			return find1_rest(p, end, key, v);
		otf_bytes_t kv = {p + 2, n}, k;
		p += 2 + n;
		if (!kv_fast(kv, &k, v) && otf_view_kv_read(kv, &k, v))
			return KEY_UNSURE;
		if (k.len == key.len && eq(k.ptr, key.ptr, k.len)) {
			*used = (size_t)(p - resource.ptr);
			return KEY_FOUND;
		}
	}
	return KEY_ABSENT;
}

/* find1's answer, returned by value: a caller keeps it in registers
 * (through a pointer it had to be kept in memory). */
typedef struct found {
	int st; /* KEY_* */
	otf_bytes_t v;
	size_t used;
} found_t;

/* One KeyValue kv of find1_flat that is not the key's in the encoders'
 * shape: kv_fast or the views, then the key compare (st KEY_ABSENT: go
 * on). Out of line: the usual KeyValue is the inline test's. */
static __attribute__((noinline)) found_t kv_other(otf_bytes_t kv, otf_bytes_t key)
{
	found_t r = {KEY_ABSENT, {NULL, 0}, SIZE_MAX};
	otf_bytes_t k;
	if (!kv_fast(kv, &k, &r.v) && otf_view_kv_read(kv, &k, &r.v))
		r.st = KEY_UNSURE;
	else if (k.len == key.len && eq(k.ptr, key.ptr, k.len))
		r.st = KEY_FOUND;
	return r;
}

static __attribute__((noinline)) found_t find1_rest_v(const uint8_t *p, const uint8_t *end,
                                                      otf_bytes_t key)
{
	found_t r = {KEY_ABSENT, {NULL, 0}, SIZE_MAX};
	r.st = find1_rest(p, end, key, &r.v);
	return r;
}

/* find1 of a flat set (its one key, s->keys[0], and that key's KeyValue
 * head s->key_enc): the same answer. A KeyValue in kv_fast's shape whose
 * head is the key's (key field, key, value tag: one compare) with a
 * value length ending it is found inline; any other goes to kv_other. */
static inline found_t find1_flat(otf_bytes_t resource, otf_bytes_t key, const uint8_t *kenc,
                                 size_t kenc_len)
{
	const uint8_t *p = resource.ptr, *end = resource.len ? resource.ptr + resource.len : p;
	while (p < end) {
		size_t n = end - p >= 2 ? p[1] : 0x80;
		if (p[0] != 0x0a || n >= 0x80 || n > (size_t)(end - p) - 2)
			return find1_rest_v(p, end, key);
		const uint8_t *kv = p + 2;
		p += 2 + n;
		if (kenc_len && n > kenc_len && eq(kv, kenc, kenc_len) && kv[kenc_len] < 0x80 &&
		    kenc_len + 1 + kv[kenc_len] == n)
			return (found_t){KEY_FOUND,
			                 {kv + kenc_len + 1, kv[kenc_len]},
			                 (size_t)(p - resource.ptr)};
		found_t r = kv_other((otf_bytes_t){kv, n}, key);
		if (r.st == KEY_FOUND)
			r.used = (size_t)(p - resource.ptr);
		if (r.st != KEY_ABSENT)
			return r;
	}
	return (found_t){KEY_ABSENT, {NULL, 0}, SIZE_MAX};
}

/* request[] == val (NULL: nil) on the header's value v (NULL: absent). */
static inline bool hdr_eq(const char *v, otf_bytes_t val)
{
	if (!val.ptr)
		return v == NULL;
	return v && strlen(v) == val.len && (!val.len || !memcmp(v, val.ptr, val.len));
}

/* One evaluation: the condition's slots mapped to the caller's (a set's
 * union of keys, or the condition's own), the attribute walk done at the
 * first attribute compare, for every key at once. */
typedef struct eval_ctx {
	otf_bytes_t resource;
	const otf_bytes_t *keys; /* the walk's keys */
	size_t nkeys;
	walk_t *walk;
	const uint8_t *amap, *hmap; /* condition slot -> walk / header slot */
	const char *const *hdr_vals;
} eval_ctx_t;

static const uint8_t k_ident[FAST_MAX_NODES] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                                11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                                22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

/* A compare leaf: 1, 0 or UNSURE. */
static inline int leaf(const fast_node_t *x, eval_ctx_t *cx)
{
	if (x->op == OP_HDR_CMP)
		return hdr_eq(cx->hdr_vals[cx->hmap[x->slot]], x->val) != x->ne;
	if (!cx->walk->done)
		scan(cx->resource, cx->keys, cx->nkeys, all_bits(cx->nkeys), cx->walk);
	int rc = value_eq(cx->walk, cx->amap[x->slot], x->val);
	return rc == OTF_OTTL_FAST_UNSURE ? rc : rc != x->ne;
}

static int eval(const otf_ottl_fast_t *f, size_t i, eval_ctx_t *cx)
{
	const fast_node_t *x = &f->nodes[i];
	int rc;
	switch (x->op) {
	case OP_CONST:
		return x->b;
	case OP_AND:
		rc = eval(f, x->a, cx);
		return rc != 1 ? rc : eval(f, x->c, cx);
	case OP_OR:
		rc = eval(f, x->a, cx);
		return rc != 0 ? rc : eval(f, x->c, cx);
	case OP_NOT:
		rc = eval(f, x->a, cx);
		return rc == OTF_OTTL_FAST_UNSURE ? rc : !rc;
	case OP_ATTR_CMP:
	case OP_HDR_CMP:
		return leaf(x, cx);
	}
	return OTF_OTTL_FAST_UNSURE;
}

static inline int eval_root(const otf_ottl_fast_t *f, eval_ctx_t *cx)
{
	const fast_node_t *x = &f->nodes[f->root];
	if (x->op == OP_ATTR_CMP || x->op == OP_HDR_CMP)
		return leaf(x, cx); /* the usual: one compare */
	return eval(f, f->root, cx);
}

int otf_ottl_fast_eval(const otf_ottl_fast_t *f, otf_bytes_t resource, const char *const *hdr_vals)
{
	walk_t w;
	w.done = false;
	eval_ctx_t cx = {.resource = resource,
	                 .keys = f->attr_keys,
	                 .nkeys = f->nattr,
	                 .walk = &w,
	                 .amap = k_ident,
	                 .hmap = k_ident,
	                 .hdr_vals = hdr_vals};
	return eval_root(f, &cx);
}

/* A set's condition whose root is one compare or a constant (the usual
 * route: `attributes["k"] == "v"`), with its slot already the set's: the
 * set evaluates those in a flat loop, the others by their tree. */
typedef struct set_leaf {
	fast_op_t op; /* OP_CONST, OP_ATTR_CMP, OP_HDR_CMP; OP_AND: a tree */
	bool b, ne;
	uint8_t slot;
	/* OP_ATTR_CMP with a string shorter than 128 bytes: enc_len bytes of
	 * enc are the AnyValue the encoders write for it (string_value = 1,
	 * its length, its bytes); 0 otherwise */
	uint8_t enc_len;
	otf_bytes_t val;
	uint8_t enc[2 + 127];
} set_leaf_t;

/* The encoders' KeyValue of a key shorter than 128 bytes starts with
 * these bytes: key = 1, its length, its bytes, then value's tag (2). */
#define KEY_ENC_MAX (3 + 127)

struct otf_ottl_fast_set {
	const otf_ottl_fast_t *const *conds;
	size_t n;
	otf_bytes_t keys[OTF_OTTL_FAST_SET_MAX_KEYS];
	size_t nkeys;
	const char *hdr_keys[OTF_OTTL_FAST_SET_MAX_HEADERS];
	size_t nhdr;
	/* per condition: its attribute slots and header slots -> the set's */
	uint8_t (*amap)[FAST_MAX_NODES];
	uint8_t (*hmap)[FAST_MAX_KEYS];
	set_leaf_t *leaves; /* per condition */
	uint64_t all;       /* the bits of keys[0 .. nkeys) */
	/* every condition a leaf (no tree) and at most one attribute key:
	 * set_eval_flat, with that key's KeyValue head (key_enc_len bytes of
	 * key_enc; 0: a key of 128 bytes or more) */
	bool flat;
	size_t key_enc_len;
	uint8_t key_enc[KEY_ENC_MAX];
};

int otf_ottl_fast_set_create(const otf_ottl_fast_t *const *conds, size_t n,
                             otf_ottl_fast_set_t **out)
{
	*out = NULL;
	otf_ottl_fast_set_t *s = otf_calloc(1, sizeof *s);
	if (!s)
		return OTF_E_NOMEM;
	s->amap = otf_calloc(n ? n : 1, sizeof *s->amap);
	s->hmap = otf_calloc(n ? n : 1, sizeof *s->hmap);
	s->leaves = otf_calloc(n ? n : 1, sizeof *s->leaves);
	if (!s->amap || !s->hmap || !s->leaves) {
		otf_ottl_fast_set_destroy(s);
		return OTF_E_NOMEM;
	}
	s->conds = conds;
	s->n = n;
	for (size_t i = 0; i < n; i++) {
		const otf_ottl_fast_t *f = conds[i];
		for (size_t a = 0; a < f->nattr; a++) {
			size_t j = 0;
			while (j < s->nkeys && !otf__ottl_bytes_eq(s->keys[j], f->attr_keys[a]))
				j++;
			if (j == s->nkeys) {
				if (j == OTF_OTTL_FAST_SET_MAX_KEYS)
					goto too_many;
				s->keys[s->nkeys++] = f->attr_keys[a];
			}
			s->amap[i][a] = (uint8_t)j;
		}
		for (size_t h = 0; h < f->nkeys; h++) {
			size_t j = 0;
			while (j < s->nhdr && strcmp(s->hdr_keys[j], f->hdr_keys[h]))
				j++;
			if (j == s->nhdr) {
				if (j == OTF_OTTL_FAST_SET_MAX_HEADERS)
					goto too_many;
				s->hdr_keys[s->nhdr++] = f->hdr_keys[h];
			}
			s->hmap[i][h] = (uint8_t)j;
		}
		const fast_node_t *x = &f->nodes[f->root];
		set_leaf_t *l = &s->leaves[i];
		l->op = x->op == OP_CONST || x->op == OP_ATTR_CMP || x->op == OP_HDR_CMP ? x->op
		                                                                         : OP_AND;
		l->b = x->b;
		l->ne = x->ne;
		l->val = x->val;
		if (x->op == OP_ATTR_CMP) {
			l->slot = s->amap[i][x->slot];
			if (x->val.ptr && x->val.len < 0x80) {
				l->enc[0] = 0x0a;
				l->enc[1] = (uint8_t)x->val.len;
				if (x->val.len)
					memcpy(l->enc + 2, x->val.ptr, x->val.len);
				l->enc_len = (uint8_t)(2 + x->val.len);
			}
		} else if (x->op == OP_HDR_CMP)
			l->slot = s->hmap[i][x->slot];
	}
	s->all = all_bits(s->nkeys);
	s->flat = s->nkeys <= 1;
	for (size_t i = 0; i < n; i++)
		if (s->leaves[i].op == OP_AND)
			s->flat = false;
	if (s->nkeys == 1 && s->keys[0].len < 0x80) {
		s->key_enc[0] = 0x0a;
		s->key_enc[1] = (uint8_t)s->keys[0].len;
		if (s->keys[0].len)
			memcpy(s->key_enc + 2, s->keys[0].ptr, s->keys[0].len);
		s->key_enc[2 + s->keys[0].len] = 0x12;
		s->key_enc_len = 3 + s->keys[0].len;
	}
	*out = s;
	return 0;
too_many:
	otf_ottl_fast_set_destroy(s);
	return 0;
}

void otf_ottl_fast_set_destroy(otf_ottl_fast_set_t *s)
{
	if (!s)
		return;
	otf_free(s->amap);
	otf_free(s->hmap);
	otf_free(s->leaves);
	otf_free(s);
}

size_t otf_ottl_fast_set_header_count(const otf_ottl_fast_set_t *s)
{
	return s->nhdr;
}

const char *otf_ottl_fast_set_header_key(const otf_ottl_fast_set_t *s, size_t slot)
{
	return slot < s->nhdr ? s->hdr_keys[slot] : NULL;
}

/* Condition i of s by its tree (its root is no single compare). */
static __attribute__((noinline)) int set_eval_tree(const otf_ottl_fast_set_t *s, size_t i,
                                                   otf_bytes_t resource,
                                                   const char *const *hdr_vals, walk_t *w)
{
	eval_ctx_t cx = {.resource = resource,
	                 .keys = s->keys,
	                 .nkeys = s->nkeys,
	                 .walk = w,
	                 .amap = s->amap[i],
	                 .hmap = s->hmap[i],
	                 .hdr_vals = hdr_vals};
	return eval_root(s->conds[i], &cx);
}

static inline size_t max_used(size_t a, size_t b)
{
	return a > b ? a : b;
}

/* Leaf x (OP_ATTR_CMP) on the key's state st and AnyValue v: 1, 0 or
 * UNSURE, as value_is. The usual value, the encoders' lone string, is
 * compared with the literal's encoding at once. */
static inline int leaf_value(const set_leaf_t *x, int st, otf_bytes_t v)
{
	int rc;
	if (st == KEY_FOUND && x->enc_len) {
		if (v.len == x->enc_len && eq(v.ptr, x->enc, x->enc_len))
			rc = 1;
		else if (v.len >= 2 && v.ptr[0] == 0x0a && v.ptr[1] < 0x80 &&
		         (size_t)v.ptr[1] + 2 == v.len)
			rc = 0; /* another string */
		else
			rc = value_is(st, v, x->val);
	} else {
		rc = value_is(st, v, x->val);
	}
	return rc == OTF_OTTL_FAST_UNSURE ? rc : rc != x->ne;
}

/* otf_ottl_fast_set_eval_used of a flat set (s->flat): leaves only, one
 * attribute key at most, found by find1 at the first attribute leaf. No
 * walk_t: the frame and the registers of the general loop below are not
 * paid for the usual router. */
static inline int set_eval_flat(const otf_ottl_fast_set_t *s, otf_bytes_t resource,
                                const char *const *hdr_vals, size_t *used)
{
	found_t f1 = {-1, {NULL, 0}, 0}; /* st -1: not walked yet */
	size_t used1 = 0;
	for (size_t i = 0; i < s->n; i++) {
		const set_leaf_t *x = &s->leaves[i];
		int rc;
		if (x->op == OP_HDR_CMP) {
			rc = hdr_eq(hdr_vals[x->slot], x->val) != x->ne;
		} else if (x->op == OP_ATTR_CMP) {
			if (f1.st < 0) {
				f1 = find1_flat(resource, s->keys[0], s->key_enc, s->key_enc_len);
				used1 = f1.used;
			}
			rc = leaf_value(x, f1.st, f1.v);
			if (rc == OTF_OTTL_FAST_UNSURE) {
				*used = used1;
				return OTF_OTTL_FAST_SET_UNSURE;
			}
		} else {
			rc = x->b;
		}
		if (rc) {
			*used = used1; /* 0: the headers alone decided */
			return (int)i;
		}
	}
	*used = used1;
	return OTF_OTTL_FAST_SET_NONE;
}

static __attribute__((noinline)) int set_eval_walk(const otf_ottl_fast_set_t *s,
                                                   otf_bytes_t resource,
                                                   const char *const *hdr_vals, size_t *used);

int otf_ottl_fast_set_eval_used(const otf_ottl_fast_set_t *s, otf_bytes_t resource,
                                const char *const *hdr_vals, size_t *used)
{
	if (s->flat)
		return set_eval_flat(s, resource, hdr_vals, used);
	return set_eval_walk(s, resource, hdr_vals, used);
}

/* The general set: trees, several keys (one walk_t for all). */
static __attribute__((noinline)) int set_eval_walk(const otf_ottl_fast_set_t *s,
                                                   otf_bytes_t resource,
                                                   const char *const *hdr_vals, size_t *used)
{
	walk_t w;
	w.done = false;
	*used = 0; /* nothing read yet: the headers alone decide */
	/* a set of one attribute key: its state (-1: not walked yet) and value */
	int st1 = -1;
	size_t used1 = 0;
	otf_bytes_t v1 = {NULL, 0};
	for (size_t i = 0; i < s->n; i++) {
		const set_leaf_t *x = &s->leaves[i];
		int rc;
		if (x->op == OP_HDR_CMP) {
			rc = hdr_eq(hdr_vals[x->slot], x->val) != x->ne;
		} else if (x->op == OP_ATTR_CMP && s->nkeys == 1) {
			if (st1 < 0) {
				st1 = find1(resource, s->keys[0], &v1, &used1);
				*used = max_used(*used, used1);
			}
			rc = value_is(st1, v1, x->val);
			if (rc != OTF_OTTL_FAST_UNSURE)
				rc = rc != x->ne;
		} else if (x->op == OP_ATTR_CMP) {
			if (!w.done) {
				scan(resource, s->keys, s->nkeys, s->all, &w);
				*used = max_used(*used, w.used);
			}
			rc = value_eq(&w, x->slot, x->val);
			if (rc != OTF_OTTL_FAST_UNSURE)
				rc = rc != x->ne;
		} else if (x->op == OP_CONST) {
			rc = x->b;
		} else {
			rc = set_eval_tree(s, i, resource, hdr_vals, &w);
			if (w.done)
				*used = max_used(*used, w.used);
		}
		if (rc == OTF_OTTL_FAST_UNSURE)
			return OTF_OTTL_FAST_SET_UNSURE;
		if (rc)
			return (int)i;
	}
	return OTF_OTTL_FAST_SET_NONE;
}

int otf_ottl_fast_set_eval(const otf_ottl_fast_set_t *s, otf_bytes_t resource,
                           const char *const *hdr_vals)
{
	size_t used;
	return otf_ottl_fast_set_eval_used(s, resource, hdr_vals, &used);
}
