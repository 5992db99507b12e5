/* The in-place path of filter and transform against their tree path
 * (inplace_check.h). */
#include "inplace_check.h"

#include "components/processors/filter/filter.h"
#include "components/processors/transform/transform.h"
#include "otflow/arena.h"
#include "otflow/component.h"
#include "otflow/config.h"
#include "otflow/config_schema.h"
#include "otflow/pdata_codec.h"
#include "pdata_eq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T OTF_SIGNAL_TRACES
#define L OTF_SIGNAL_LOGS
#define M OTF_SIGNAL_METRICS

const inplace_case_t inplace_cases[] = {
    /* the OpenTelemetry demo's collector config (otelcol-config.yml) */
    {"transform", T,
     "error_mode: ignore\n"
     "trace_statements:\n"
     "  - context: span\n"
     "    statements:\n"
     "      - replace_pattern(name, \"\\\\?.*\", \"\")\n"
     "      - replace_match(name, \"GET /api/products/*\", \"GET /api/products/{productId}\")\n",
     true},
    /* the benchmark's statement: a where clause on every record */
    {"transform", L,
     "log_statements:\n"
     "  - 'set(log.severity_text, \"WARN\") where "
     "log.attributes[\"http.response.status_code\"] >= 500'\n",
     true},
    {"transform", L,
     "log_statements:\n"
     "  - context: log\n"
     "    statements:\n"
     "      - 'delete_key(attributes, \"user_agent.original\")'\n"
     "      - 'set(attributes[\"deployment.environment\"], \"prod\")'\n"
     "      - 'keep_keys(attributes, [\"http.request.method\", \"deployment.environment\", "
     "\"nested\", \"k\"])'\n",
     true},
    {"transform", L,
     "log_statements:\n"
     "  - context: log\n"
     "    statements:\n"
     "      - 'replace_pattern(body, \"orders/\\\\d+\", \"orders/{id}\")'\n"
     "      - 'set(severity_number, SEVERITY_NUMBER_ERROR) where IsMatch(body, \"fail\")'\n"
     "      - 'set(body[\"seen\"], true) where body[\"msg\"] != nil'\n",
     true},
    {"transform", L,
     "log_statements:\n"
     "  - context: log\n"
     "    conditions: ['severity_number >= SEVERITY_NUMBER_WARN']\n"
     "    statements:\n"
     "      - 'set(attributes[\"alert\"], true)'\n"
     "      - 'set(cache[\"m\"], attributes[\"http.request.method\"])'\n"
     "      - 'set(attributes[\"method\"], cache[\"m\"])'\n"
     "      - 'set(attributes[\"alert2\"], attributes[\"alert\"])'\n",
     true},
    {"transform", L,
     "log_statements:\n"
     "  - 'set(log.attributes[\"svc\"], resource.attributes[\"service.name\"])'\n"
     "  - 'set(log.attributes[\"copy\"], log.attributes[\"nested\"][\"a\"])'\n"
     "  - 'set(log.attributes[\"tid\"], log.trace_id.string)'\n"
     "  - 'set(log.event_name, \"e\") where instrumentation_scope.name == \"a\"'\n"
     "  - 'set(log.attributes[\"k\"], \"one\")'\n",
     true},
    /* a runtime type error: ignore leaves the record, propagate nacks */
    {"transform", L,
     "log_statements:\n"
     "  - 'set(log.severity_number, log.attributes[\"http.request.method\"])'\n"
     "  - 'set(log.severity_text, \"after\")'\n",
     true},
    {"transform", L,
     "error_mode: propagate\n"
     "log_statements:\n"
     "  - 'set(log.severity_number, log.attributes[\"http.request.method\"])'\n",
     true},
    /* handed to the tree: a resource write from a record, a resource group */
    {"transform", L,
     "log_statements:\n"
     "  - 'set(resource.attributes[\"x\"], \"y\") where log.severity_number > 0'\n",
     false},
    {"transform", L,
     "log_statements:\n"
     "  - context: resource\n"
     "    statements: ['set(attributes[\"x\"], \"y\")']\n",
     false},
    {"transform", T,
     "trace_statements:\n"
     "  - 'set(span.status.code, STATUS_CODE_ERROR) where "
     "span.attributes[\"http.response.status_code\"] >= 500'\n"
     "  - 'set(span.attributes[\"peer\"], \"x\")'\n"
     "  - 'delete_key(span.attributes, \"http.url\")'\n"
     "  - 'set(span.name, \"renamed\") where span.kind == SPAN_KIND_SERVER'\n"
     "  - 'set(span.start_time_unix_nano, span.end_time_unix_nano) where span.name == "
     "\"POST /api/checkout\"'\n"
     "  - 'set(span.trace_state, \"a=b\")'\n"
     "  - 'set(span.status.message, \"\") where span.status.code == STATUS_CODE_ERROR'\n",
     true},
    /* the filter processor README's examples */
    {"filter", L,
     "error_mode: ignore\n"
     "logs:\n"
     "  log_record:\n"
     "    - 'IsMatch(body, \".*password.*\")'\n"
     "    - 'severity_number < SEVERITY_NUMBER_WARN'\n",
     true},
    {"filter", L, "log_conditions:\n  - 'log.attributes[\"http.request.method\"] == \"GET\"'\n",
     true},
    {"filter", T,
     "error_mode: ignore\n"
     "traces:\n"
     "  span:\n"
     "    - 'attributes[\"container.name\"] == \"app_container_1\"'\n"
     "    - 'resource.attributes[\"host.name\"] == \"localhost\"'\n"
     "    - 'name == \"app_3\"'\n",
     true},
    {"filter", T,
     "trace_conditions:\n"
     "  - 'span.kind == SPAN_KIND_INTERNAL'\n"
     "  - 'IsMatch(span.name, \"checkout\")'\n",
     true},
    {"filter", L, "log_conditions:\n  - 'log.severity_number >= 0'\n", true},
    {"filter", T,
     "traces:\n"
     "  spanevent:\n"
     "    - 'attributes[\"grpc\"] == true'\n"
     "    - 'IsMatch(name, \".*grpc.*\")'\n",
     false},
    {"filter", M, "metrics:\n  metric:\n    - 'name == \"x\"'\n", false},
    /* single-attribute edits noted for the rewriter, duplicates, a read of
     * an edited key (the list decoded and the edits replayed), absent keys */
    {"transform", L,
     "log_statements:\n"
     "  - context: log\n"
     "    statements:\n"
     "      - 'delete_key(attributes, \"k\")'\n"
     "      - 'set(attributes[\"new\"], 1.5)'\n"
     "      - 'delete_key(attributes, \"new\")'\n"
     "      - 'set(attributes[\"new\"], \"again\")'\n"
     "      - 'set(attributes[\"http.request.method\"], \"PATCH\")'\n"
     "      - 'delete_key(attributes, \"absent\")'\n"
     "      - 'set(attributes[\"n\"], 7) where attributes[\"http.request.method\"] == \"GET\"'\n"
     "      - 'set(attributes[\"k_after\"], attributes[\"k\"])'\n",
     true},
    /* more edits than the lazy record notes: the rest on the decoded list */
    {"transform", T,
     "trace_statements:\n"
     "  - context: span\n"
     "    statements:\n"
     "      - 'set(attributes[\"a1\"], 1)'\n"
     "      - 'set(attributes[\"a2\"], true)'\n"
     "      - 'set(attributes[\"a3\"], \"3\")'\n"
     "      - 'delete_key(attributes, \"http.url\")'\n"
     "      - 'set(attributes[\"a5\"], 5)'\n"
     "      - 'set(attributes[\"a6\"], 6)'\n"
     "      - 'set(attributes[\"a7\"], 7)'\n"
     "      - 'set(attributes[\"a8\"], 8)'\n"
     "      - 'set(attributes[\"a9\"], 9)'\n"
     "      - 'delete_key(attributes, \"a1\")'\n"
     "      - 'set(attributes[\"container.name\"], \"c\") where name == \"app_3\"'\n",
     true},
};
const size_t inplace_cases_len = sizeof inplace_cases / sizeof inplace_cases[0];

static const otf_component_factory_t *factory(const inplace_case_t *c)
{
	otf_components_register_builtins();
	return otf_component_find(OTF_KIND_PROCESSOR, c->processor);
}

void *inplace_load(const inplace_case_t *c)
{
	const otf_component_factory_t *f = factory(c);
	otf_config_t *yaml = NULL;
	otf_config_error_t err;
	void *cfg = f ? calloc(1, f->config_size) : NULL;
	if (!cfg)
		return NULL;
	if (otf_config_load_string("inplace.yaml", c->yaml, strlen(c->yaml), NULL, &yaml, &err) ||
	    otf_config_schema_apply(f->config_schema, otf_config_root(yaml), cfg, &err)) {
		fprintf(stderr, "inplace_load: %s: %s\n", c->processor, err.text);
		otf_config_destroy(yaml);
		free(cfg);
		return NULL;
	}
	otf_config_destroy(yaml);
	return cfg;
}

void inplace_free(const inplace_case_t *c, void *cfg)
{
	if (!cfg)
		return;
	otf_config_schema_free(factory(c)->config_schema, cfg);
	free(cfg);
}

static int decode(otf_signal_t s, const uint8_t *p, size_t n, otf_arena_t *a, ottlproc_tree_t *t)
{
	memset(t, 0, sizeof *t);
	t->signal = s;
	return s == T   ? otf_pdata_decode_traces(&t->u.traces, p, n, a, NULL, NULL)
	       : s == L ? otf_pdata_decode_logs(&t->u.logs, p, n, a, NULL, NULL)
	                : otf_pdata_decode_metrics(&t->u.metrics, p, n, a, NULL, NULL);
}

static bool eq(const ottlproc_tree_t *a, const ottlproc_tree_t *b, char *diff, size_t n)
{
	return a->signal == T   ? otf_eq_traces(&a->u.traces, &b->u.traces, diff, n)
	       : a->signal == L ? otf_eq_logs(&a->u.logs, &b->u.logs, diff, n)
	                        : otf_eq_metrics(&a->u.metrics, &b->u.metrics, diff, n);
}

int inplace_check(const inplace_case_t *c, const void *cfg, const uint8_t *in, size_t len,
                  char *diff, size_t difflen)
{
	bool filter = !strcmp(c->processor, "filter");
	otf_signal_t s = c->signal;
	otf_arena_t a1, a2;
	otf_arena_init(&a1, 0);
	otf_arena_init(&a2, 0);
	otf_buf_t *buf = otf_buf_create(len ? len : 1);
	otf_buf_t *tree_out = NULL;
	int res = INPLACE_DIFFERENT;
	snprintf(diff, difflen, "(no difference recorded)");
	if (!buf)
		goto out;
	if (len)
		memcpy(buf->data, in, len);
	buf->len = len;
	ottlproc_tree_t t;
	if (decode(s, in, len, &a2, &t)) {
		res = INPLACE_UNDECODABLE;
		goto out;
	}
	/* in place first: it must leave the input as it found it */
	otf_ottl_stats_t st1 = {0}, st2 = {0};
	uint64_t lg1 = 0, lg2 = 0;
	ottlproc_inplace_result_t ip;
	int rc1 = filter ? otf__filter_inplace(cfg, s, buf, &a1, &st1, &lg1, &ip)
	                 : otf__transform_inplace(cfg, s, buf, &a1, &st1, &lg1, &ip);
	int rc2 = filter ? otf__filter_apply(cfg, &t, &a2, &st2, &lg2)
	                 : otf__transform_apply(cfg, &t, &a2, &st2, &lg2);
	if (rc1 == 0) {
		res = INPLACE_FALLBACK;
		goto out;
	}
	if (rc1 < 0 || rc2 < 0) {
		otf_buf_unref(ip.out);
		if (rc1 == rc2) {
			res = INPLACE_EQUAL;
			goto out;
		}
		snprintf(diff, difflen, "in place returned %d (%s), the tree %d (%s)", rc1,
		         st1.first_error.msg, rc2, st2.first_error.msg);
		goto out;
	}
	if (st1.errors != st2.errors || st1.dropped != st2.dropped) {
		otf_buf_unref(ip.out);
		snprintf(diff, difflen, "errors %llu vs %llu, dropped %llu vs %llu",
		         (unsigned long long)st1.errors, (unsigned long long)st2.errors,
		         (unsigned long long)st1.dropped, (unsigned long long)st2.dropped);
		goto out;
	}
	/* what each processor sends on: the tree is encoded only when a
	 * statement applied (transform) or a record went (filter) */
	uint64_t items2 = 0;
	bool rewrote = filter ? st2.dropped > 0 : st2.applied > 0;
	if (rewrote && otf__ottlproc_encode(&t, &tree_out, &items2)) {
		otf_buf_unref(ip.out);
		snprintf(diff, difflen, "the tree does not encode");
		goto out;
	}
	const otf_buf_t *o1 = ip.out ? ip.out : buf, *o2 = tree_out ? tree_out : buf;
	ottlproc_tree_t d1, d2;
	if (decode(s, o1->data, o1->len, &a1, &d1)) {
		snprintf(diff, difflen, "the in-place output does not decode");
	} else if (decode(s, o2->data, o2->len, &a2, &d2)) {
		snprintf(diff, difflen, "the tree output does not decode");
	} else if (!eq(&d1, &d2, diff, difflen)) {
		/* diff filled in */
	} else if (ip.out && tree_out && ip.items != items2) {
		snprintf(diff, difflen, "items %llu vs %llu", (unsigned long long)ip.items,
		         (unsigned long long)items2);
	} else {
		res = INPLACE_EQUAL;
	}
	otf_buf_unref(ip.out);
out:
	otf_buf_unref(tree_out);
	otf_buf_unref(buf);
	otf_arena_close(&a1);
	otf_arena_close(&a2);
	return res;
}
