/* processor metricstransform: the examples of the Collector's
 * processor/metricstransformprocessor README as a table (config YAML,
 * input metrics, expected metrics), each metric rendered field by field:
 * name, type, every point's attributes (in order), value and value type;
 * aggregation checks start times and timestamps too; then every
 * aggregation_type, histograms merged by sum, and config errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "components/processors/metricstransform/metricstransform.h"
#include "otflow/config.h"
#include "otflow/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1700000000000000000ull

static otf_config_t *g_yaml;

static int load(const char *yaml, otf_mt_config_t *c, char *msg, size_t len)
{
	otf_config_error_t err;
	memset(c, 0, sizeof *c);
	otf_config_destroy(g_yaml);
	g_yaml = NULL;
	assert_int_equal(otf_config_load_string("p.yaml", yaml, strlen(yaml), NULL, &g_yaml, &err),
	                 0);
	int rc = otf_config_schema_apply(otf_mt_schema,
	                                 otf_config_get(otf_config_root(g_yaml), "p"), c, &err);
	if (rc) {
		snprintf(msg, len, "%.400s", err.text);
		return rc;
	}
	return otf__mt_validate(c, msg, len);
}

/* Input: "name:type|k=v,k=v=value|..." ; value with '.' is a double,
 * otherwise an int; type g (gauge) or s (sum). Points get start T0+i and
 * time T0+100+i. */
static void parse_metrics(const char *spec, otf_arena_t *a, otf_scope_metrics_t *sm)
{
	char buf[1024];
	snprintf(buf, sizeof buf, "%s", spec);
	sm->metrics = otf_arena_calloc(a, 8, sizeof *sm->metrics);
	sm->metrics_len = 0;
	char *save1 = NULL;
	for (char *ms = strtok_r(buf, ";", &save1); ms; ms = strtok_r(NULL, ";", &save1)) {
		otf_metric_t *m = &sm->metrics[sm->metrics_len++];
		char *save2 = NULL;
		char *head = strtok_r(ms, "|", &save2);
		char *colon = strchr(head, ':');
		*colon = 0;
		m->name = (otf_bytes_t){otf_arena_memdup(a, head, strlen(head)), strlen(head)};
		m->type = colon[1] == 'g' ? OTF_METRIC_GAUGE : OTF_METRIC_SUM;
		if (m->type == OTF_METRIC_SUM) {
			m->aggregation_temporality = OTF_TEMPORALITY_CUMULATIVE;
			m->is_monotonic = true;
		}
		m->data_points.number = otf_arena_calloc(a, 16, sizeof(otf_number_data_point_t));
		for (char *ps = strtok_r(NULL, "|", &save2); ps; ps = strtok_r(NULL, "|", &save2)) {
			size_t i = m->data_points_len++;
			otf_number_data_point_t *p = &m->data_points.number[i];
			p->start_time_unix_nano = T0 + i;
			p->time_unix_nano = T0 + 100 + i;
			char *eq = strrchr(ps, '=');
			char *val = eq + 1;
			*eq = 0;
			if (strchr(val, '.')) {
				p->value_type = OTF_NUMBER_DOUBLE;
				p->value.as_double = strtod(val, NULL);
			} else {
				p->value_type = OTF_NUMBER_INT;
				p->value.as_int = strtoll(val, NULL, 10);
			}
			p->attributes.items = otf_arena_calloc(a, 8, sizeof(otf_key_value_t));
			char *save3 = NULL;
			for (char *kv = strtok_r(ps, ",", &save3); kv;
			     kv = strtok_r(NULL, ",", &save3)) {
				char *e = strchr(kv, '=');
				if (!e)
					continue;
				*e = 0;
				otf_key_value_t *x = &p->attributes.items[p->attributes.len++];
				x->key =
				    (otf_bytes_t){otf_arena_memdup(a, kv, strlen(kv)), strlen(kv)};
				x->value.type = OTF_ANY_STRING;
				x->value.u.string_value = (otf_bytes_t){
				    otf_arena_memdup(a, e + 1, strlen(e + 1)), strlen(e + 1)};
			}
		}
	}
}

/* The same syntax back, from the tree. */
static void render(const otf_scope_metrics_t *sm, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = 0;
	for (size_t i = 0; i < sm->metrics_len; i++) {
		const otf_metric_t *m = &sm->metrics[i];
		n += (size_t)snprintf(out + n, cap - n, "%s%.*s:%s", i ? ";" : "", (int)m->name.len,
		                      (const char *)m->name.ptr,
		                      m->type == OTF_METRIC_GAUGE ? "g" : "s");
		for (size_t j = 0; j < m->data_points_len; j++) {
			const otf_number_data_point_t *p = &m->data_points.number[j];
			n += (size_t)snprintf(out + n, cap - n, "|");
			for (size_t k = 0; k < p->attributes.len; k++) {
				const otf_key_value_t *kv = &p->attributes.items[k];
				n += (size_t)snprintf(out + n, cap - n, "%s%.*s=%.*s", k ? "," : "",
				                      (int)kv->key.len, (const char *)kv->key.ptr,
				                      (int)kv->value.u.string_value.len,
				                      (const char *)kv->value.u.string_value.ptr);
			}
			if (p->value_type == OTF_NUMBER_INT)
				n += (size_t)snprintf(out + n, cap - n, "=%lld",
				                      (long long)p->value.as_int);
			else
				n +=
				    (size_t)snprintf(out + n, cap - n, "=%.2f", p->value.as_double);
		}
	}
}

static void run(const char *yaml, const char *in, const char *want)
{
	otf_mt_config_t c;
	char msg[512] = "";
	if (load(yaml, &c, msg, sizeof msg))
		fail_msg("config: %s\n%s", msg, yaml);
	otf_mt_compiled_t x;
	assert_int_equal(otf__mt_compile(&c, &x), 0);
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_scope_metrics_t sm = {0};
	parse_metrics(in, &a, &sm);
	otf_resource_metrics_t rm = {.scope_metrics = &sm, .scope_metrics_len = 1};
	otf_metrics_t md = {.resource_metrics = &rm, .resource_metrics_len = 1};
	otf_mt_stats_t st = {0};
	assert_int_equal(otf__mt_apply(&c, &x, &md, &a, &st), 0);
	char got[2048];
	render(&sm, got, sizeof got);
	if (strcmp(got, want))
		fail_msg("\n%s\nwant %s\n got %s", yaml, want, got);
	otf_arena_close(&a);
	otf__mt_compiled_free(&x);
	otf_config_schema_free(otf_mt_schema, &c);
}

#define P "p:\n  transforms:\n"

static void test_readme_examples(void **st)
{
	(void)st;
	/* Create a new metric from an existing metric */
	run(P "    - include: host.cpu.usage\n      action: insert\n      new_name: "
	      "host.cpu.utilization\n",
	    "host.cpu.usage:g|cpu=0=5|cpu=1=7;other:g|=1",
	    "host.cpu.usage:g|cpu=0=5|cpu=1=7;host.cpu.utilization:g|cpu=0=5|cpu=1=7;other:g|=1");
	/* ... with matching label values: only those points are copied */
	run(P "    - include: host.cpu.usage\n      action: insert\n      new_name: "
	      "host.cpu.utilization\n      match_type: strict\n      experimental_match_labels: "
	      "{\"container\": \"my_container\"}\n",
	    "host.cpu.usage:g|container=my_container=5|container=other=7;x:g|container=my_"
	    "container=1",
	    "host.cpu.usage:g|container=my_container=5|container=other=7;host.cpu.utilization:g|"
	    "container=my_container=5;x:g|container=my_container=1");
	/* ... with regexp: pods with non-empty values; a metric without such a
	 * point is not copied */
	run(P "    - include: host.cpu.usage\n      action: insert\n      new_name: "
	      "host.cpu.utilization\n      match_type: regexp\n      experimental_match_labels: "
	      "{\"pod\": \"(.|\\\\s)*\\\\S(.|\\\\s)*\"}\n",
	    "host.cpu.usage:g|pod=a=1|pod= =2|cpu=0=3;host.cpu.usage.x:g|pod= =4",
	    "host.cpu.usage:g|pod=a=1|pod= =2|cpu=0=3;host.cpu.utilization:g|pod=a=1;"
	    "host.cpu.usage.x:g|pod= =4");
	/* Rename metric */
	run(P "    - include: system.cpu.usage\n      action: update\n      new_name: "
	      "system.cpu.usage_time\n",
	    "system.cpu.usage:s|state=idle=1;system.cpu.x:s|=2",
	    "system.cpu.usage_time:s|state=idle=1;system.cpu.x:s|=2");
	/* Rename multiple metrics using Substitution ($$ is a literal $) */
	run(P "    - include: ^system\\.cpu\\.(.*)$$\n      match_type: regexp\n      action: "
	      "update\n      new_name: system.processor.$${1}.stat\n",
	    "system.cpu.usage:s|=1;system.cpu.time:s|=2;system.memory.usage:s|=3",
	    "system.processor.usage.stat:s|=1;system.processor.time.stat:s|=2;"
	    "system.memory.usage:s|=3");
	/* Add a label; {{version}} is the version */
	run(P "    - include: system.cpu.usage\n      action: update\n      operations:\n        - "
	      "action: add_label\n          new_label: version\n          new_value: opentelemetry "
	      "collector {{version}}\n",
	    "system.cpu.usage:s|state=idle=1",
	    "system.cpu.usage:s|state=idle,version=opentelemetry collector " OTF_VERSION "=1");
	/* Add a label to multiple metrics */
	run(P "    - include: ^system\\.\n      match_type: regexp\n      action: update\n      "
	      "operations:\n        - action: add_label\n          new_label: version\n          "
	      "new_value: v1\n",
	    "system.a:s|=1;system.b:g|x=y=2.50;app.c:s|=3",
	    "system.a:s|version=v1=1;system.b:g|x=y,version=v1=2.50;app.c:s|=3");
	/* Rename labels */
	run(P "    - include: system.cpu.usage\n      action: update\n      operations:\n        - "
	      "action: update_label\n          label: state\n          new_label: cpu_state\n",
	    "system.cpu.usage:s|cpu=0,state=idle=1|cpu=0=2",
	    "system.cpu.usage:s|cpu=0,cpu_state=idle=1|cpu=0=2");
	/* Rename label values */
	run(P
	    "    - include: system.memory.usage\n      action: update\n      operations:\n        "
	    "- action: update_label\n          label: state\n          value_actions:\n         "
	    "   - value: slab_reclaimable\n              new_value: sreclaimable\n            - "
	    "value: slab_unreclaimable\n              new_value: sunreclaimable\n",
	    "system.memory.usage:g|state=slab_reclaimable=1|state=slab_unreclaimable=2|state=used="
	    "3",
	    "system.memory.usage:g|state=sreclaimable=1|state=sunreclaimable=2|state=used=3");
	/* Delete by label value */
	run(P "    - include: system.cpu.usage\n      action: update\n      operations:\n        - "
	      "action: delete_label_value\n          label: state\n          label_value: idle\n",
	    "system.cpu.usage:s|state=idle=1|state=user=2|state=idle,cpu=1=3|cpu=1=4",
	    "system.cpu.usage:s|state=user=2|cpu=1=4");
	/* Toggle datatype (int -> double, and back) */
	run(P "    - include: system.cpu.usage\n      action: update\n      operations:\n        - "
	      "action: toggle_scalar_data_type\n",
	    "system.cpu.usage:s|=3|=2.75", "system.cpu.usage:s|=3.00|=2");
	/* A double outside int64's range saturates (the cast was undefined:
	 * found by fuzz_metrics_state, its input kept in
	 * corpus/metrics_state/regress-toggle-huge-double.pb). */
	run(P "    - include: m\n      action: update\n      operations:\n        - action: "
	      "toggle_scalar_data_type\n",
	    "m:s|=1.0e300|=-1.0e300|=-2.50", "m:s|=9223372036854775807|=-9223372036854775808|=-2");
	/* Scale value: seconds to milliseconds */
	run(P "    - include: system.cpu.usage\n      action: update\n      operations:\n        - "
	      "action: experimental_scale_value\n          experimental_scale: 1000\n",
	    "system.cpu.usage:s|=3|=0.25", "system.cpu.usage:s|=3000|=250.00");
	/* Aggregate labels: only state stays, summed */
	run(P "    - include: system.cpu.usage\n      action: update\n      operations:\n        - "
	      "action: aggregate_labels\n          label_set: [ state ]\n          "
	      "aggregation_type: sum\n",
	    "system.cpu.usage:s|state=user,cpu=0=1|state=idle,cpu=0=10|state=user,cpu=1=2|cpu=2=5",
	    "system.cpu.usage:s|state=user=3|state=idle=10|=5");
	/* Aggregate label values */
	run(P
	    "    - include: system.memory.usage\n      action: update\n      operations:\n        "
	    "- action: aggregate_label_values\n          label: state\n          "
	    "aggregated_values: [ slab_reclaimable, slab_unreclaimable ]\n          new_value: "
	    "slab\n          aggregation_type: sum\n",
	    "system.memory.usage:g|state=slab_reclaimable=1.50|state=used=3.00|state=slab_"
	    "unreclaimable=2.25",
	    "system.memory.usage:g|state=slab=3.75|state=used=3.00");
	/* Combine metrics: capture groups become labels, lower case */
	run(P "    - include: ^Web Service \\(\\*\\)/Total (?P<http_method>.*) Requests$$\n      "
	      "match_type: regexp\n      action: combine\n      new_name: iis.requests\n      "
	      "submatch_case: lower\n",
	    "Web Service (*)/Total Delete Requests:s|=1;other:s|=9;Web Service (*)/Total Get "
	    "Requests:s|=2;Web Service (*)/Total Post Requests:s|=3",
	    "iis.requests:s|http_method=delete=1|http_method=get=2|http_method=post=3;other:s|=9");
}

/* Every aggregation type on the same points; start times are the
 * earliest and timestamps the latest of the merged points. */
static void test_aggregation_types(void **st)
{
	(void)st;
	static const struct {
		const char *type, *want;
	} cases[] = {
	    {"sum", "m:g|s=a=10|s=b=7"},  {"mean", "m:g|s=a=3|s=b=7"},
	    {"min", "m:g|s=a=1|s=b=7"},   {"max", "m:g|s=a=6|s=b=7"},
	    {"count", "m:g|s=a=3|s=b=1"}, {"median", "m:g|s=a=3|s=b=7"},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		char yaml[512];
		snprintf(
		    yaml, sizeof yaml,
		    P
		    "    - include: m\n      action: update\n      operations:\n        - action: "
		    "aggregate_labels\n          label_set: [s]\n          aggregation_type: "
		    "%s\n",
		    cases[k].type);
		run(yaml, "m:g|s=a,x=1=6|s=a,x=2=1|s=b=7|s=a,x=3=3", cases[k].want);
	}
	run(P "    - include: m\n      action: update\n      operations:\n        - action: "
	      "aggregate_labels\n          label_set: [s]\n          aggregation_type: median\n",
	    "m:g|s=a,x=1=1.00|s=a,x=2=2.00", "m:g|s=a=1.50");
	/* times */
	otf_mt_config_t c;
	char msg[256];
	assert_int_equal(
	    load(P "    - include: m\n      action: update\n      operations:\n        - "
	           "action: aggregate_labels\n          label_set: []\n          "
	           "aggregation_type: sum\n",
	         &c, msg, sizeof msg),
	    0);
	otf_mt_compiled_t x;
	assert_int_equal(otf__mt_compile(&c, &x), 0);
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_scope_metrics_t sm = {0};
	parse_metrics("m:s|x=1=1|x=2=2|x=3=3", &a, &sm);
	otf_resource_metrics_t rm = {.scope_metrics = &sm, .scope_metrics_len = 1};
	otf_metrics_t md = {.resource_metrics = &rm, .resource_metrics_len = 1};
	otf_mt_stats_t s = {0};
	assert_int_equal(otf__mt_apply(&c, &x, &md, &a, &s), 0);
	assert_int_equal(sm.metrics[0].data_points_len, 1);
	const otf_number_data_point_t *p = sm.metrics[0].data_points.number;
	assert_int_equal(p->value.as_int, 6);
	assert_int_equal(p->attributes.len, 0);
	assert_int_equal(p->start_time_unix_nano, T0);
	assert_int_equal(p->time_unix_nano, T0 + 102);
	assert_int_equal(sm.metrics[0].aggregation_temporality, OTF_TEMPORALITY_CUMULATIVE);
	otf_arena_close(&a);
	otf__mt_compiled_free(&x);
	otf_config_schema_free(otf_mt_schema, &c);
}

/* Histograms merge by sum: counts, sums and buckets of the same bounds
 * add up; min is the smallest, max the largest. */
static void test_histogram_sum(void **st)
{
	(void)st;
	otf_mt_config_t c;
	char msg[256];
	assert_int_equal(
	    load(P "    - include: h\n      action: update\n      operations:\n        - "
	           "action: aggregate_labels\n          label_set: []\n          "
	           "aggregation_type: sum\n",
	         &c, msg, sizeof msg),
	    0);
	otf_mt_compiled_t x;
	assert_int_equal(otf__mt_compile(&c, &x), 0);
	otf_arena_t a;
	otf_arena_init(&a, 0);
	double bounds[2] = {1, 10};
	uint64_t b1[3] = {1, 2, 3}, b2[3] = {4, 0, 1};
	otf_key_value_t k1 = {.key = {(const uint8_t *)"x", 1}, .value = {.type = OTF_ANY_INT}};
	otf_key_value_t k2 = k1;
	k2.value.u.int_value = 2;
	otf_histogram_data_point_t hp[2] = {
	    {.attributes = {&k1, 1},
	     .start_time_unix_nano = T0,
	     .time_unix_nano = T0 + 5,
	     .count = 6,
	     .has_sum = true,
	     .sum = 30,
	     .bucket_counts = b1,
	     .bucket_counts_len = 3,
	     .explicit_bounds = bounds,
	     .explicit_bounds_len = 2,
	     .has_min = true,
	     .min = 0.5,
	     .has_max = true,
	     .max = 12},
	    {.attributes = {&k2, 1},
	     .start_time_unix_nano = T0 - 1,
	     .time_unix_nano = T0 + 4,
	     .count = 5,
	     .has_sum = true,
	     .sum = 12,
	     .bucket_counts = b2,
	     .bucket_counts_len = 3,
	     .explicit_bounds = bounds,
	     .explicit_bounds_len = 2,
	     .has_min = true,
	     .min = 0.1,
	     .has_max = true,
	     .max = 11},
	};
	otf_metric_t m = {.name = {(const uint8_t *)"h", 1},
	                  .type = OTF_METRIC_HISTOGRAM,
	                  .data_points.histogram = hp,
	                  .data_points_len = 2,
	                  .aggregation_temporality = OTF_TEMPORALITY_DELTA};
	otf_scope_metrics_t sm = {.metrics = &m, .metrics_len = 1};
	otf_resource_metrics_t rm = {.scope_metrics = &sm, .scope_metrics_len = 1};
	otf_metrics_t md = {.resource_metrics = &rm, .resource_metrics_len = 1};
	otf_mt_stats_t s = {0};
	assert_int_equal(otf__mt_apply(&c, &x, &md, &a, &s), 0);
	assert_int_equal(m.data_points_len, 1);
	const otf_histogram_data_point_t *p = m.data_points.histogram;
	assert_int_equal(p->count, 11);
	assert_true(p->sum == 42 && p->min == 0.1 && p->max == 12);
	assert_int_equal(p->bucket_counts[0], 5);
	assert_int_equal(p->bucket_counts[1], 2);
	assert_int_equal(p->bucket_counts[2], 4);
	assert_int_equal(p->start_time_unix_nano, T0 - 1);
	assert_int_equal(p->time_unix_nano, T0 + 5);
	otf_arena_close(&a);
	otf__mt_compiled_free(&x);
	otf_config_schema_free(otf_mt_schema, &c);
}

static void test_config_errors(void **st)
{
	(void)st;
	static const struct {
		const char *yaml, *msg;
	} cases[] = {
	    {P "    - include: a\n      action: insert\n", "missing required field \"new_name\""},
	    {P "    - action: update\n", "include"},
	    {P "    - include: a\n      action: combine\n      new_name: b\n",
	     "match_type must be regexp"},
	    {P "    - include: a\n      action: rename\n", "action"},
	    {P "    - include: a\n      match_type: regexp\n      action: update\n      "
	       "experimental_match_labels: {pod: '(x'}\n",
	     "experimental_match_labels.pod: regular expression"},
	    {P "    - include: a\n      action: group\n",
	     "missing required field \"group_resource_labels\""},
	    {P "    - include: a\n      action: update\n      group_resource_labels: {a: b}\n",
	     "group_resource_labels needs action group"},
	    {P "    - include: '(a'\n      match_type: regexp\n      action: update\n",
	     "does not compile"},
	    {P "    - include: a\n      action: update\n      operations:\n        - action: "
	       "aggregate_labels\n          label_set: [a]\n",
	     "missing required field \"aggregation_type\""},
	    {P "    - include: a\n      action: update\n      operations:\n        - action: "
	       "aggregate_labels\n          label_set: [a]\n          aggregation_type: avg\n",
	     "unsupported aggregation_type \"avg\""},
	    {P "    - include: a\n      action: update\n      operations:\n        - action: "
	       "add_label\n          new_label: x\n",
	     "\"new_value\""},
	    {P "    - include: a\n      action: update\n      operations:\n        - action: "
	       "delete_label_value\n          label: x\n",
	     "\"label_value\""},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		otf_mt_config_t c;
		char msg[512] = "";
		assert_int_equal(load(cases[k].yaml, &c, msg, sizeof msg), OTF_E_CONFIG);
		if (!strstr(msg, cases[k].msg))
			fail_msg("case %zu: %s", k, msg);
		otf_config_schema_free(otf_mt_schema, &c);
	}
}

/* The README's "Group Metrics": the pod and container metrics move to
 * resources of their own (the original's attributes plus
 * group_resource_labels), the rest stays. */
static void test_group(void **st)
{
	(void)st;
	otf_mt_config_t c;
	char msg[512] = "";
	int rc =
	    load(P "    - include: ^k8s\\.pod\\.(.*)$$\n      match_type: regexp\n      action: "
	           "group\n      group_resource_labels: {\"resouce.type\": \"k8s.pod\", "
	           "\"source\": \"kubelet\"}\n    - include: ^container\\.(.*)$$\n      "
	           "match_type: regexp\n      action: group\n      group_resource_labels: "
	           "{\"resouce.type\": \"container\", \"source\": \"kubelet\"}\n",
	         &c, msg, sizeof msg);
	if (rc)
		fail_msg("%s", msg);
	otf_mt_compiled_t x;
	assert_int_equal(otf__mt_compile(&c, &x), 0);
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_scope_metrics_t sm = {.scope = {.name = {(const uint8_t *)"kubeletstats", 12}}};
	parse_metrics("k8s.pod.cpu:g|=1;container.memory:g|=2;node.cpu:g|=3;k8s.pod.mem:g|=4", &a,
	              &sm);
	otf_key_value_t host = {.key = {(const uint8_t *)"host", 4},
	                        .value = {.type = OTF_ANY_STRING}};
	host.value.u.string_value = (otf_bytes_t){(const uint8_t *)"h1", 2};
	otf_resource_metrics_t rm = {
	    .resource = {.attributes = {&host, 1}}, .scope_metrics = &sm, .scope_metrics_len = 1};
	otf_metrics_t md = {.resource_metrics = &rm, .resource_metrics_len = 1};
	otf_mt_stats_t s = {0};
	assert_int_equal(otf__mt_apply(&c, &x, &md, &a, &s), 0);
	assert_int_equal(md.resource_metrics_len, 3);
	char got[512];
	render(&md.resource_metrics[0].scope_metrics[0], got, sizeof got);
	assert_string_equal(got, "node.cpu:g|=3");
	static const char *const want[2][2] = {{"k8s.pod", "k8s.pod.cpu:g|=1;k8s.pod.mem:g|=4"},
	                                       {"container", "container.memory:g|=2"}};
	for (int g = 0; g < 2; g++) {
		const otf_resource_metrics_t *r = &md.resource_metrics[1 + g];
		const otf_attributes_t *at = &r->resource.attributes;
		assert_int_equal(at->len, 3);
		assert_memory_equal(at->items[0].key.ptr, "host", 4);
		assert_memory_equal(at->items[1].key.ptr, "resouce.type", 12);
		assert_int_equal(at->items[1].value.u.string_value.len, strlen(want[g][0]));
		assert_memory_equal(at->items[1].value.u.string_value.ptr, want[g][0],
		                    strlen(want[g][0]));
		assert_memory_equal(at->items[2].value.u.string_value.ptr, "kubelet", 7);
		assert_int_equal(r->scope_metrics_len, 1);
		assert_memory_equal(r->scope_metrics[0].scope.name.ptr, "kubeletstats", 12);
		render(&r->scope_metrics[0], got, sizeof got);
		assert_string_equal(got, want[g][1]);
	}
	otf_arena_close(&a);
	otf__mt_compiled_free(&x);
	otf_config_schema_free(otf_mt_schema, &c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_readme_examples), cmocka_unit_test(test_aggregation_types),
	    cmocka_unit_test(test_histogram_sum),   cmocka_unit_test(test_config_errors),
	    cmocka_unit_test(test_group),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	otf_config_destroy(g_yaml);
	return rc;
}
