/* Attribute rename (insert from_attribute, then delete: the attributes
 * processor's two actions) on a request of 1000 logs, two ways in one run:
 * the in-place editor (otflow/pdata_edit.h) on the request bytes, and
 * decode, the same actions on the tree (the processors' tree path),
 * encode. Both produce a new request from the received bytes, which is
 * what the processor sends on; both are checked to decode to the same
 * records first. Each figure is the best of ROUNDS rounds of at least
 * 0.25 s of this thread's CPU time (CLOCK_THREAD_CPUTIME_ID: on a shared
 * machine the time the thread waits for the core is not its cost).
 * Output: a Markdown table on stdout. */
#include "bench_data.h"

#include "components/processors/internal/attraction.h"
#include "otflow/arena.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 5
#define LOGS   1000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const otf_pdata_edit_op_t k_ops[2] = {
    {.kind = OTF_EDIT_INSERT,
     .key = {(const uint8_t *)"http.user_agent", 15},
     .from_key = {(const uint8_t *)"user_agent.original", 19}},
    {.kind = OTF_EDIT_DELETE, .key = {(const uint8_t *)"user_agent.original", 19}},
};

static otf_attr_action_t k_actions[2];
static otf_attr_actions_t k_acts = {.items = k_actions, .n = 2};

static otf_buf_t *in_place(const otf_pdata_edit_t *e, const otf_buf_t *pb, otf_arena_t *a)
{
	(void)a;
	otf_buf_t *out = NULL;
	if (otf_pdata_edit_apply(e, OTF_SIGNAL_LOGS, pb->data, pb->len, &out, NULL)) {
		fprintf(stderr, "edit_bench: edit failed\n");
		exit(1);
	}
	return out;
}

static otf_buf_t *tree(const otf_pdata_edit_t *e, const otf_buf_t *pb, otf_arena_t *a)
{
	(void)e;
	otf_logs_t l;
	otf_arena_reset(a);
	otf_buf_t *out = NULL;
	if (otf_pdata_decode_logs(&l, pb->data, pb->len, a, NULL, NULL)) {
		fprintf(stderr, "edit_bench: decode failed\n");
		exit(1);
	}
	for (size_t i = 0; i < l.resource_logs_len; i++)
		for (size_t j = 0; j < l.resource_logs[i].scope_logs_len; j++) {
			otf_scope_logs_t *sl = &l.resource_logs[i].scope_logs[j];
			for (size_t k = 0; k < sl->log_records_len; k++)
				if (otf__attr_actions_apply(&k_acts, &sl->log_records[k].attributes,
				                            a, NULL, NULL)) {
					fprintf(stderr, "edit_bench: apply failed\n");
					exit(1);
				}
		}
	if (otf_pdata_encode_logs(&l, &out)) {
		fprintf(stderr, "edit_bench: encode failed\n");
		exit(1);
	}
	return out;
}

typedef otf_buf_t *(*way_fn)(const otf_pdata_edit_t *, const otf_buf_t *, otf_arena_t *);

static double measure(way_fn f, const otf_pdata_edit_t *e, const otf_buf_t *pb, otf_arena_t *a)
{
	double best = 1e9;
	for (int r = 0; r < ROUNDS; r++) {
		unsigned long iters = 0;
		double t0 = now_s(), t;
		do {
			otf_buf_unref(f(e, pb, a));
			iters++;
		} while ((t = now_s() - t0) < 0.25);
		double per = t / (double)(iters * LOGS);
		if (per < best)
			best = per;
	}
	return best * 1e9;
}

/* The renamed attribute is last in every record, with the old value. */
static void check(const otf_buf_t *b, otf_arena_t *a)
{
	otf_logs_t l;
	otf_arena_reset(a);
	if (otf_pdata_decode_logs(&l, b->data, b->len, a, NULL, NULL)) {
		fprintf(stderr, "edit_bench: output does not decode\n");
		exit(1);
	}
	otf_scope_logs_t *sl = &l.resource_logs[0].scope_logs[0];
	if (sl->log_records_len != LOGS) {
		fprintf(stderr, "edit_bench: %zu records\n", sl->log_records_len);
		exit(1);
	}
	for (size_t k = 0; k < sl->log_records_len; k++) {
		otf_attributes_t *at = &sl->log_records[k].attributes;
		otf_key_value_t *kv = &at->items[at->len - 1];
		if (at->len != 6 || kv->key.len != 15 ||
		    memcmp(kv->key.ptr, "http.user_agent", 15) ||
		    kv->value.u.string_value.len != 13 ||
		    memcmp(kv->value.u.string_value.ptr, "okhttp/4.12.0", 13)) {
			fprintf(stderr, "edit_bench: record %zu not renamed\n", k);
			exit(1);
		}
		for (size_t i = 0; i + 1 < at->len; i++)
			if (at->items[i].key.len == 19 &&
			    !memcmp(at->items[i].key.ptr, "user_agent.original", 19)) {
				fprintf(stderr, "edit_bench: record %zu keeps the old key\n", k);
				exit(1);
			}
	}
}

int main(void)
{
	otf_buf_t *pb = NULL;
	if (bench_logs(LOGS, &pb) != 0) {
		fprintf(stderr, "edit_bench: cannot build the request\n");
		return 1;
	}
	k_actions[0] = (otf_attr_action_t){
	    .kind = OTF_ATTR_INSERT, .key = k_ops[0].key, .from_attribute = k_ops[0].from_key};
	k_actions[1] = (otf_attr_action_t){.kind = OTF_ATTR_DELETE, .key = k_ops[1].key};
	otf_pdata_edit_t e;
	if (otf_pdata_edit_prepare(&e, k_ops, 2, OTF_EDIT_RECORDS)) {
		fprintf(stderr, "edit_bench: prepare failed\n");
		return 1;
	}
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_buf_t *x = in_place(&e, pb, &a), *y = tree(&e, pb, &a);
	check(x, &a);
	check(y, &a);
	otf_buf_unref(x);
	otf_buf_unref(y);

	double ip = measure(in_place, &e, pb, &a);
	double tr = measure(tree, &e, pb, &a);
	printf("| attribute rename, 1000 logs/request (%zu B) | ns/log | vs decode/re-encode |\n",
	       pb->len);
	printf("|---|---|---|\n");
	printf("| in place (otf_pdata_edit_apply) | %.0f | %.1fx faster |\n", ip, tr / ip);
	printf("| decode, actions on the tree, encode | %.0f | 1.0x |\n", tr);
	otf_arena_close(&a);
	otf_buf_unref(pb);
	return 0;
}
