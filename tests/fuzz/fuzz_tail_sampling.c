/* libFuzzer target: arbitrary bytes as a tail_sampling configuration
 * (src/components/processors/tail_sampling/ts_config.c: the policies list,
 * regexes and OTTL conditions compiled at load), then, when it loads, its
 * policies decide two small traces. Nothing may crash or leak; a refusal
 * must say where. */
#include "components/processors/tail_sampling/tail_sampling.h"

#include "otflow/config.h"
#include "otflow/config_schema.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                              \
	do {                                                                                  \
		if (!(c)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                              \
		}                                                                             \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	otf_config_t *c = NULL;
	otf_config_error_t err;
	if (otf_config_load_string("f.yaml", (const char *)data, size, NULL, &c, &err))
		return 0;
	const otf_config_node_t *n = otf_config_get(otf_config_root(c), "tail_sampling");
	otf__ts_config_t cfg;
	memset(&cfg, 0, sizeof cfg);
	int rc = otf_config_schema_apply(otf__ts_schema, n, &cfg, &err);
	if (rc) {
		CHECK(err.text[0] != 0);
	} else {
		static uint8_t tid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
		otf_key_value_t kv = {.key = {(const uint8_t *)"key1", 4},
		                      .value = {.type = OTF_ANY_INT, .u.int_value = 60}};
		otf_span_event_t evt = {.name = {(const uint8_t *)"e", 1}};
		otf_span_t sp[2] = {
		    {.trace_id = {tid, 16},
		     .start_time_unix_nano = 1000,
		     .end_time_unix_nano = 9000,
		     .attributes = {&kv, 1},
		     .events = &evt,
		     .events_len = 1,
		     .trace_state = {(const uint8_t *)"key3=value1", 11}},
		    {.trace_id = {tid, 16}, .status = {.code = 2}},
		};
		otf_scope_spans_t ss = {.spans = sp, .spans_len = 2};
		otf_resource_spans_t rs = {.scope_spans = &ss, .scope_spans_len = 1};
		otf_traces_t t = {.resource_spans = &rs, .resource_spans_len = 1};
		otf__ts_state_t *st = calloc(cfg.policies.n_state + 1, sizeof *st);
		pcre2_match_data *md = pcre2_match_data_create(1, NULL);
		otf_arena_t a;
		otf_arena_init(&a, 0);
		otf__ts_eval_t e = {.state = st, .now_sec = 1, .arena = &a, .match_data = md};
		otf__ts_trace_t tr = {.trace_id = tid, .spans = &t, .span_count = 2};
		for (int k = 0; k < 3; k++)
			(void)otf__ts_decide(&cfg, &tr, &e, NULL);
		otf_arena_close(&a);
		pcre2_match_data_free(md);
		free(st);
		otf_config_schema_free(otf__ts_schema, &cfg);
	}
	otf_config_destroy(c);
	return 0;
}
