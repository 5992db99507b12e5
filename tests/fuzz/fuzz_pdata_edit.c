/* Fuzz target: the in-place attribute editor (otflow/pdata_edit.h).
 *
 * Input: byte 0 picks the signal (bits 0-1) and the targets (bits 2-3:
 * resource, records; none means both); bytes 1-4 pick up to four ops
 * (kind, key, value source); the rest is the request. Checked:
 * - nothing crashes or reads out of bounds (ASan, UBSan), whatever the
 *   bytes;
 * - when the decoder accepts the request, the editor does too, and
 *   decode(edit(x)) equals the tree obtained by decoding x, applying the
 *   same ops to each targeted attribute list (an implementation of the
 *   header's semantics written here, independent of the editor's) and
 *   encoding it. */
#include "fuzz_common.h"

#include "otflow/arena.h"
#include "otflow/pdata_edit.h"
#include "pdata_eq.h"

static const char *const k_keys[] = {"a", "b", "service.name", "k"};

static otf_bytes_t bs(const char *s)
{
	return (otf_bytes_t){(const uint8_t *)s, strlen(s)};
}

static otf_key_value_t *find(otf_attributes_t *a, otf_bytes_t k)
{
	for (size_t i = 0; i < a->len; i++)
		if (a->items[i].key.len == k.len && !memcmp(a->items[i].key.ptr, k.ptr, k.len))
			return &a->items[i];
	return NULL;
}

static void ref_apply(const otf_pdata_edit_op_t *ops, size_t n, otf_attributes_t *a,
                      otf_arena_t *ar)
{
	for (size_t i = 0; i < n; i++) {
		const otf_pdata_edit_op_t *op = &ops[i];
		if (op->kind == OTF_EDIT_DELETE) {
			size_t w = 0;
			for (size_t r = 0; r < a->len; r++)
				if (!(a->items[r].key.len == op->key.len &&
				      !memcmp(a->items[r].key.ptr, op->key.ptr, op->key.len)))
					a->items[w++] = a->items[r];
			a->len = w;
			continue;
		}
		otf_any_value_t v = op->value;
		if (op->from_key.len) {
			otf_key_value_t *src = find(a, op->from_key);
			if (!src)
				continue;
			v = src->value;
		}
		otf_key_value_t *d = find(a, op->key);
		if (d && op->kind != OTF_EDIT_INSERT) {
			d->value = v;
		} else if (!d && op->kind != OTF_EDIT_UPDATE) {
			otf_key_value_t *nn = otf_arena_alloc(ar, (a->len + 1) * sizeof *nn);
			FUZZ_CHECK(nn);
			if (a->len)
				memcpy(nn, a->items, a->len * sizeof *nn);
			nn[a->len].key = op->key;
			nn[a->len].value = v;
			a->items = nn;
			a->len++;
		}
	}
}

static void ref_tree(tree_t *t, const otf_pdata_edit_op_t *ops, size_t n, uint32_t targets,
                     otf_arena_t *ar)
{
	bool res = targets & OTF_EDIT_RESOURCE, rec = targets & OTF_EDIT_RECORDS;
	if (t->signal == OTF_SIGNAL_LOGS) {
		for (size_t i = 0; i < t->u.logs.resource_logs_len; i++) {
			otf_resource_logs_t *rl = &t->u.logs.resource_logs[i];
			if (res)
				ref_apply(ops, n, &rl->resource.attributes, ar);
			for (size_t j = 0; rec && j < rl->scope_logs_len; j++)
				for (size_t k = 0; k < rl->scope_logs[j].log_records_len; k++)
					ref_apply(ops, n,
					          &rl->scope_logs[j].log_records[k].attributes, ar);
		}
	} else if (t->signal == OTF_SIGNAL_TRACES) {
		for (size_t i = 0; i < t->u.traces.resource_spans_len; i++) {
			otf_resource_spans_t *rs = &t->u.traces.resource_spans[i];
			if (res)
				ref_apply(ops, n, &rs->resource.attributes, ar);
			for (size_t j = 0; rec && j < rs->scope_spans_len; j++)
				for (size_t k = 0; k < rs->scope_spans[j].spans_len; k++)
					ref_apply(ops, n, &rs->scope_spans[j].spans[k].attributes,
					          ar);
		}
	} else {
		for (size_t i = 0; res && i < t->u.metrics.resource_metrics_len; i++)
			ref_apply(ops, n, &t->u.metrics.resource_metrics[i].resource.attributes,
			          ar);
	}
}

static int decode(otf_signal_t s, const uint8_t *p, size_t n, tree_t *t, otf_arena_t *ar)
{
	t->signal = s;
	return s == OTF_SIGNAL_LOGS ? otf_pdata_decode_logs(&t->u.logs, p, n, ar, NULL, NULL)
	       : s == OTF_SIGNAL_TRACES
	           ? otf_pdata_decode_traces(&t->u.traces, p, n, ar, NULL, NULL)
	           : otf_pdata_decode_metrics(&t->u.metrics, p, n, ar, NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5)
		return 0;
	otf_signal_t s = (otf_signal_t)((data[0] & 3) % 3);
	uint32_t targets = (data[0] >> 2) & 3;
	if (!targets)
		targets = OTF_EDIT_RESOURCE | OTF_EDIT_RECORDS;
	otf_pdata_edit_op_t ops[4];
	size_t n = 0;
	for (int i = 1; i <= 4; i++) {
		uint8_t b = data[i];
		if (b == 0xff)
			continue;
		otf_pdata_edit_op_t *op = &ops[n++];
		memset(op, 0, sizeof *op);
		op->kind = (otf_pdata_edit_kind_t)(b & 3);
		op->key = bs(k_keys[(b >> 2) & 3]);
		switch (b >> 6) {
		case 0:
			op->value.type = OTF_ANY_STRING;
			op->value.u.string_value = bs("v");
			break;
		case 1:
			op->value.type = OTF_ANY_INT;
			op->value.u.int_value = -(int64_t)b;
			break;
		case 2:
			op->value.type = OTF_ANY_DOUBLE;
			op->value.u.double_value = 0.5;
			break;
		default:
			op->from_key = bs(k_keys[(b >> 4) & 3]);
			break;
		}
	}
	otf_pdata_edit_t e;
	FUZZ_CHECK(otf_pdata_edit_prepare(&e, ops, n, targets) == 0);
	const uint8_t *x = data + 5;
	size_t xlen = size - 5;

	otf_arena_t ar;
	otf_arena_init(&ar, 0);
	otf_buf_t *y = NULL;
	int erc = otf_pdata_edit_apply(&e, s, x, xlen, &y, NULL);
	tree_t want;
	if (decode(s, x, xlen, &want, &ar) == 0) {
		FUZZ_CHECK(erc == 0);
		ref_tree(&want, ops, n, targets, &ar);
		otf_buf_t *w = NULL;
		int rc = s == OTF_SIGNAL_LOGS     ? otf_pdata_encode_logs(&want.u.logs, &w)
		         : s == OTF_SIGNAL_TRACES ? otf_pdata_encode_traces(&want.u.traces, &w)
		                                  : otf_pdata_encode_metrics(&want.u.metrics, &w);
		FUZZ_CHECK(rc == 0);
		tree_t a, b;
		FUZZ_CHECK(decode(s, w->data, w->len, &a, &ar) == 0);
		FUZZ_CHECK(decode(s, y->data, y->len, &b, &ar) == 0);
		char diff[512];
		bool eq = s == OTF_SIGNAL_LOGS
		              ? otf_eq_logs(&a.u.logs, &b.u.logs, diff, sizeof diff)
		          : s == OTF_SIGNAL_TRACES
		              ? otf_eq_traces(&a.u.traces, &b.u.traces, diff, sizeof diff)
		              : otf_eq_metrics(&a.u.metrics, &b.u.metrics, diff, sizeof diff);
		if (!eq)
			fprintf(stderr, "edit differs from decode-edit-encode: %s\n", diff);
		FUZZ_CHECK(eq);
		otf_buf_unref(w);
	}
	if (y)
		otf_buf_unref(y);
	otf_arena_close(&ar);
	return 0;
}
