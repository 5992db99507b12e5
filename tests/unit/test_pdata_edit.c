/* In-place attribute editor (otflow/pdata_edit.h): on generated requests,
 * decode(edit(x)) equals decode-then-apply-the-same-actions (the attributes
 * and resource processors' tree path), for logs, traces and metrics and
 * every target; a rename whose record crosses a varint size boundary;
 * every truncation of a request refused or edited without reading past
 * its end. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "components/processors/internal/attrproc.h"
#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_edit.h"
#include "pdata_eq.h"
#include "pdata_gen.h"

#include <stdio.h>
#include <string.h>

static const char *const k_keys[] = {"a", "b", "c", "dd"};

static otf_bytes_t bs(const char *s)
{
	return (otf_bytes_t){(const uint8_t *)s, strlen(s)};
}

static void gen_scalar(otf_gen_t *g, otf_any_value_t *v)
{
	static const char *const strs[] = {"", "x", "hello world", "0123456789abcdef0123456789"};
	switch (otf_gen_below(g, 4)) {
	case 0:
		v->type = OTF_ANY_STRING;
		v->u.string_value = bs(strs[otf_gen_below(g, 4)]);
		break;
	case 1:
		v->type = OTF_ANY_BOOL;
		v->u.bool_value = otf_gen_below(g, 2);
		break;
	case 2:
		v->type = OTF_ANY_INT;
		v->u.int_value = (int64_t)otf_gen_u64(g);
		break;
	default:
		v->type = OTF_ANY_DOUBLE;
		v->u.double_value = (double)(int64_t)otf_gen_u64(g) / 7.0;
		break;
	}
}

/* Adds attributes with the keys the ops use (sometimes twice). */
static void sprinkle(otf_gen_t *g, otf_attributes_t *a, otf_arena_t *ar)
{
	size_t add = otf_gen_below(g, 4);
	otf_key_value_t *n = otf_arena_alloc(ar, (a->len + add + 1) * sizeof *n);
	assert_non_null(n);
	if (a->len)
		memcpy(n, a->items, a->len * sizeof *n);
	for (size_t i = 0; i < add; i++) {
		otf_key_value_t *kv = &n[a->len + i];
		memset(kv, 0, sizeof *kv);
		kv->key = bs(k_keys[otf_gen_below(g, 4)]);
		if (otf_gen_below(g, 8))
			gen_scalar(g, &kv->value);
		else
			otf_gen_any(g, &kv->value, 2);
	}
	/* shuffle so the known keys sit anywhere */
	size_t len = a->len + add;
	for (size_t i = len; i > 1; i--) {
		size_t j = otf_gen_below(g, i);
		otf_key_value_t t = n[i - 1];
		n[i - 1] = n[j];
		n[j] = t;
	}
	a->items = n;
	a->len = len;
}

static void sprinkle_all(otf_gen_t *g, otf_signal_t s, void *tree, otf_arena_t *ar)
{
	if (s == OTF_SIGNAL_LOGS) {
		otf_logs_t *l = tree;
		for (size_t i = 0; i < l->resource_logs_len; i++) {
			sprinkle(g, &l->resource_logs[i].resource.attributes, ar);
			for (size_t j = 0; j < l->resource_logs[i].scope_logs_len; j++) {
				otf_scope_logs_t *sl = &l->resource_logs[i].scope_logs[j];
				for (size_t k = 0; k < sl->log_records_len; k++)
					sprinkle(g, &sl->log_records[k].attributes, ar);
			}
		}
	} else if (s == OTF_SIGNAL_TRACES) {
		otf_traces_t *t = tree;
		for (size_t i = 0; i < t->resource_spans_len; i++) {
			sprinkle(g, &t->resource_spans[i].resource.attributes, ar);
			for (size_t j = 0; j < t->resource_spans[i].scope_spans_len; j++) {
				otf_scope_spans_t *ss = &t->resource_spans[i].scope_spans[j];
				for (size_t k = 0; k < ss->spans_len; k++)
					sprinkle(g, &ss->spans[k].attributes, ar);
			}
		}
	} else {
		otf_metrics_t *m = tree;
		for (size_t i = 0; i < m->resource_metrics_len; i++)
			sprinkle(g, &m->resource_metrics[i].resource.attributes, ar);
	}
}

static otf_buf_t *encode(otf_signal_t s, void *tree)
{
	otf_buf_t *b = NULL;
	int rc = s == OTF_SIGNAL_LOGS     ? otf_pdata_encode_logs(tree, &b)
	         : s == OTF_SIGNAL_TRACES ? otf_pdata_encode_traces(tree, &b)
	                                  : otf_pdata_encode_metrics(tree, &b);
	assert_int_equal(rc, 0);
	return b;
}

typedef union tree {
	otf_logs_t l;
	otf_traces_t t;
	otf_metrics_t m;
} tree_t;

static int decode(otf_signal_t s, const uint8_t *p, size_t n, tree_t *t, otf_arena_t *ar)
{
	return s == OTF_SIGNAL_LOGS     ? otf_pdata_decode_logs(&t->l, p, n, ar, NULL, NULL)
	       : s == OTF_SIGNAL_TRACES ? otf_pdata_decode_traces(&t->t, p, n, ar, NULL, NULL)
	                                : otf_pdata_decode_metrics(&t->m, p, n, ar, NULL, NULL);
}

static bool equal(otf_signal_t s, tree_t *a, tree_t *b, char *diff, size_t n)
{
	return s == OTF_SIGNAL_LOGS     ? otf_eq_logs(&a->l, &b->l, diff, n)
	       : s == OTF_SIGNAL_TRACES ? otf_eq_traces(&a->t, &b->t, diff, n)
	                                : otf_eq_metrics(&a->m, &b->m, diff, n);
}

/* The tree path with the same ops, through the processors' own code. */
static void apply_tree(otf_signal_t s, const otf_pdata_edit_op_t *ops, size_t n, uint32_t targets,
                       tree_t *t, otf_arena_t *ar)
{
	otf_attr_action_t items[OTF_PDATA_EDIT_MAX_OPS];
	memset(items, 0, sizeof items);
	for (size_t i = 0; i < n; i++) {
		items[i].kind = (otf_attr_kind_t)ops[i].kind;
		items[i].key = ops[i].key;
		items[i].from_attribute = ops[i].from_key;
		items[i].has_value = ops[i].kind != OTF_EDIT_DELETE && !ops[i].from_key.len;
		items[i].value = ops[i].value;
	}
	otf_attr_actions_t acts = {.items = items, .n = n};
	for (int res = 0; res < 2; res++) {
		if (!(targets & (res ? OTF_EDIT_RESOURCE : OTF_EDIT_RECORDS)))
			continue;
		if (!res && s == OTF_SIGNAL_METRICS)
			continue; /* the editor has no metric records */
		attrproc_t p = {0};
		otf__attrproc_init(&p, NULL, &acts, NULL, NULL, res);
		assert_int_equal(otf__attrproc_apply_tree(&p, s, t, ar, NULL, NULL), 0);
	}
}

static size_t gen_ops(otf_gen_t *g, otf_pdata_edit_op_t *ops)
{
	size_t n = 1 + otf_gen_below(g, 5);
	for (size_t i = 0; i < n; i++) {
		memset(&ops[i], 0, sizeof ops[i]);
		ops[i].kind = (otf_pdata_edit_kind_t)otf_gen_below(g, 4);
		ops[i].key = bs(k_keys[otf_gen_below(g, 4)]);
		if (ops[i].kind == OTF_EDIT_DELETE)
			continue;
		if (otf_gen_below(g, 2))
			ops[i].from_key = bs(k_keys[otf_gen_below(g, 4)]);
		else
			gen_scalar(g, &ops[i].value);
	}
	return n;
}

static void check_one(uint64_t seed, otf_signal_t s)
{
	otf_arena_t ar;
	otf_arena_init(&ar, 0);
	otf_gen_t g;
	otf_gen_init(&g, seed, 3, &ar);
	g.max_depth = 2;
	tree_t src;
	if (s == OTF_SIGNAL_LOGS)
		otf_gen_logs(&g, &src.l);
	else if (s == OTF_SIGNAL_TRACES)
		otf_gen_traces(&g, &src.t);
	else
		otf_gen_metrics(&g, &src.m);
	sprinkle_all(&g, s, &src, &ar);
	otf_buf_t *x = encode(s, &src);

	otf_pdata_edit_op_t ops[8];
	size_t n = gen_ops(&g, ops);
	uint32_t targets = 1 + (uint32_t)otf_gen_below(&g, 3);
	otf_pdata_edit_t e;
	assert_int_equal(otf_pdata_edit_prepare(&e, ops, n, targets), 0);

	otf_buf_t *y = NULL;
	int rc = otf_pdata_edit_apply(&e, s, x->data, x->len, &y, NULL);
	if (rc)
		fail_msg("seed %llu signal %d: edit failed %d", (unsigned long long)seed, s, rc);
	tree_t got, want;
	assert_int_equal(decode(s, y->data, y->len, &got, &ar), 0);
	assert_int_equal(decode(s, x->data, x->len, &want, &ar), 0);
	apply_tree(s, ops, n, targets, &want, &ar);
	/* through the encoder too, so that both sides are what goes out */
	otf_buf_t *w = encode(s, &want);
	tree_t want2;
	assert_int_equal(decode(s, w->data, w->len, &want2, &ar), 0);
	char diff[512];
	if (!equal(s, &got, &want2, diff, sizeof diff))
		fail_msg("seed %llu signal %d targets %u: %s", (unsigned long long)seed, s, targets,
		         diff);
	otf_buf_unref(w);
	otf_buf_unref(y);
	otf_buf_unref(x);
	otf_arena_close(&ar);
}

static void test_property(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 400; seed++)
		for (int s = 0; s < 3; s++)
			check_one(seed, (otf_signal_t)s);
}

/* Rename (insert from_attribute + delete) of a 90-byte value to a longer
 * key: the record passes 127 bytes, its length varint grows to two bytes,
 * and so do the enclosing ones. */
static void test_rename_varint_growth(void **state)
{
	(void)state;
	otf_arena_t ar;
	otf_arena_init(&ar, 0);
	char big[91];
	memset(big, 'v', 90);
	big[90] = 0;
	otf_key_value_t kv[2] = {{bs("k"), {.type = OTF_ANY_STRING, .u.string_value = bs(big)}},
	                         {bs("other"), {.type = OTF_ANY_INT, .u.int_value = 5}}};
	otf_log_record_t lr = {.severity_number = 9, .attributes = {kv, 2}};
	lr.body.type = OTF_ANY_STRING;
	lr.body.u.string_value = bs("b");
	otf_scope_logs_t sl = {.log_records = &lr, .log_records_len = 1};
	otf_resource_logs_t rl = {.scope_logs = &sl, .scope_logs_len = 1};
	otf_logs_t logs = {&rl, 1};
	otf_buf_t *x = encode(OTF_SIGNAL_LOGS, &logs);
	assert_true(x->len < 128);

	otf_pdata_edit_op_t ops[2] = {
	    {.kind = OTF_EDIT_INSERT, .key = bs("a.much.longer.key.name"), .from_key = bs("k")},
	    {.kind = OTF_EDIT_DELETE, .key = bs("k")},
	};
	otf_pdata_edit_t e;
	assert_int_equal(otf_pdata_edit_prepare(&e, ops, 2, OTF_EDIT_RECORDS), 0);
	otf_buf_t *y = NULL;
	size_t edited = 0;
	assert_int_equal(otf_pdata_edit_apply(&e, OTF_SIGNAL_LOGS, x->data, x->len, &y, &edited),
	                 0);
	assert_int_equal(edited, 1);
	assert_int_equal(y->len, x->len + strlen("a.much.longer.key.name") - 1 + 3);
	otf_logs_t got;
	assert_int_equal(otf_pdata_decode_logs(&got, y->data, y->len, &ar, NULL, NULL), 0);
	otf_log_record_t *r = &got.resource_logs[0].scope_logs[0].log_records[0];
	assert_int_equal(r->attributes.len, 2);
	assert_int_equal(r->severity_number, 9);
	assert_int_equal(r->attributes.items[0].key.len, 5);
	assert_memory_equal(r->attributes.items[0].key.ptr, "other", 5);
	assert_int_equal(r->attributes.items[1].key.len, strlen("a.much.longer.key.name"));
	assert_int_equal(r->attributes.items[1].value.u.string_value.len, 90);
	assert_memory_equal(r->attributes.items[1].value.u.string_value.ptr, big, 90);
	otf_buf_unref(y);
	otf_buf_unref(x);
	otf_arena_close(&ar);
}

/* A record with more attributes than the editor's stack array: the
 * scratch array on the heap, the same result as the tree path. */
static void test_many_attributes(void **state)
{
	(void)state;
	otf_arena_t ar;
	otf_arena_init(&ar, 0);
	enum { N = 150 };
	otf_key_value_t kv[N];
	char keys[N][8];
	for (int i = 0; i < N; i++) {
		snprintf(keys[i], sizeof keys[i], "k%d", i);
		kv[i].key = bs(keys[i]);
		kv[i].value.type = OTF_ANY_INT;
		kv[i].value.u.int_value = i;
	}
	otf_span_t sp = {.name = bs("s"), .attributes = {kv, N}};
	otf_scope_spans_t ss = {.spans = &sp, .spans_len = 1};
	otf_resource_spans_t rs = {.scope_spans = &ss, .scope_spans_len = 1};
	otf_traces_t t = {&rs, 1};
	otf_buf_t *x = encode(OTF_SIGNAL_TRACES, &t);
	otf_pdata_edit_op_t ops[3] = {
	    {.kind = OTF_EDIT_INSERT, .key = bs("renamed"), .from_key = bs("k120")},
	    {.kind = OTF_EDIT_DELETE, .key = bs("k120")},
	    {.kind = OTF_EDIT_UPDATE, .key = bs("k149"), .value = {.type = OTF_ANY_BOOL}},
	};
	otf_pdata_edit_t e;
	assert_int_equal(otf_pdata_edit_prepare(&e, ops, 3, OTF_EDIT_RECORDS), 0);
	otf_buf_t *y = NULL;
	assert_int_equal(otf_pdata_edit_apply(&e, OTF_SIGNAL_TRACES, x->data, x->len, &y, NULL), 0);
	tree_t got, want;
	assert_int_equal(decode(OTF_SIGNAL_TRACES, y->data, y->len, &got, &ar), 0);
	otf_attributes_t *a = &got.t.resource_spans[0].scope_spans[0].spans[0].attributes;
	assert_int_equal(a->len, N);
	assert_memory_equal(a->items[N - 1].key.ptr, "renamed", 7);
	assert_int_equal(a->items[N - 1].value.u.int_value, 120);
	assert_int_equal(a->items[N - 2].value.type, OTF_ANY_BOOL);
	assert_int_equal(decode(OTF_SIGNAL_TRACES, x->data, x->len, &want, &ar), 0);
	apply_tree(OTF_SIGNAL_TRACES, ops, 3, OTF_EDIT_RECORDS, &want, &ar);
	char diff[256];
	if (!otf_eq_traces(&got.t, &want.t, diff, sizeof diff))
		fail_msg("%s", diff);
	otf_buf_unref(y);
	otf_buf_unref(x);
	otf_arena_close(&ar);
}

/* Every prefix of a request: an error, or output, never a read past the
 * end (the ASan build checks that). */
static void test_truncated(void **state)
{
	(void)state;
	otf_arena_t ar;
	otf_arena_init(&ar, 0);
	otf_gen_t g;
	otf_gen_init(&g, 7, 3, &ar);
	otf_logs_t l;
	otf_gen_logs(&g, &l);
	sprinkle_all(&g, OTF_SIGNAL_LOGS, &l, &ar);
	otf_buf_t *x = encode(OTF_SIGNAL_LOGS, &l);
	otf_pdata_edit_op_t ops[1] = {{.kind = OTF_EDIT_DELETE, .key = bs("a")}};
	otf_pdata_edit_t e;
	assert_int_equal(otf_pdata_edit_prepare(&e, ops, 1, OTF_EDIT_RECORDS | OTF_EDIT_RESOURCE),
	                 0);
	size_t refused = 0;
	for (size_t n = 0; n < x->len; n++) {
		uint8_t *p = otf_malloc(n ? n : 1);
		memcpy(p, x->data, n);
		otf_buf_t *y = NULL;
		int rc = otf_pdata_edit_apply(&e, OTF_SIGNAL_LOGS, p, n, &y, NULL);
		if (rc)
			refused++;
		else
			otf_buf_unref(y);
		otf_free(p);
	}
	assert_true(refused > 0);
	otf_buf_unref(x);
	otf_arena_close(&ar);
}

static void test_prepare_refuses(void **state)
{
	(void)state;
	otf_pdata_edit_t e;
	otf_pdata_edit_op_t op = {.kind = OTF_EDIT_INSERT, .key = bs("k")};
	op.value.type = OTF_ANY_ARRAY;
	assert_int_equal(otf_pdata_edit_prepare(&e, &op, 1, OTF_EDIT_RECORDS), OTF_E_INVAL);
	assert_int_equal(
	    otf_pdata_edit_prepare(&e, &op, OTF_PDATA_EDIT_MAX_OPS + 1, OTF_EDIT_RECORDS),
	    OTF_E_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_property),        cmocka_unit_test(test_rename_varint_growth),
	    cmocka_unit_test(test_many_attributes), cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_prepare_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
