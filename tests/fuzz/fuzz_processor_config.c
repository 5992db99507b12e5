/* libFuzzer target: arbitrary bytes as YAML, applied to the schema fields
 * of the filter and transform processors (src/components/processors/
 * ottlproc/ottlproc_config.c: condition lists, legacy per-context blocks,
 * statement lists and groups, each compiled at load) and to the redaction
 * processor's schema (regex lists, sanitizer keys) and the
 * resourcedetection processor's (detector list, attribute switches); and
 * the input as OTEL_RESOURCE_ATTRIBUTES text (the env detector: parsed,
 * or refused with a reason). Every input must parse
 * or fail with a positioned error naming a line; what parses holds only
 * programs of the contexts its signal allows; nothing may leak (programs
 * and regexes are released by the schema's free) or read out of bounds. */
#include "components/processors/ottlproc/ottlproc.h"
#include "components/processors/redaction/redaction.h"
#include "components/processors/resourcedetection/resourcedetection.h"
#include "otflow/config.h"
#include "otflow/config_schema.h"

#include "fuzz_common.h"

#include <errno.h>

typedef struct cfg {
	int error_mode;
	ottlproc_groups_t g[9];
} cfg_t;

#define F(key_, i, fn)                                                                       \
	{                                                                                    \
		.key = key_, .type = OTF_CFG_CUSTOM,                                         \
		.offset = offsetof(cfg_t, g) + (i) * sizeof(ottlproc_groups_t), .parse = fn, \
		.release = otf__ottlproc_groups_free                                         \
	}

static const char *const k_modes[] = {"propagate", "ignore", "silent", NULL};
static const otf_config_field_t k_schema[] = {
    {.key = "error_mode",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(cfg_t, error_mode),
     .enum_values = k_modes},
    F("trace_conditions", 0, otf__ottlproc_parse_trace_conditions),
    F("metric_conditions", 1, otf__ottlproc_parse_metric_conditions),
    F("log_conditions", 2, otf__ottlproc_parse_log_conditions),
    F("traces", 3, otf__ottlproc_parse_traces_legacy),
    F("metrics", 4, otf__ottlproc_parse_metrics_legacy),
    F("logs", 5, otf__ottlproc_parse_logs_legacy),
    F("trace_statements", 6, otf__ottlproc_parse_trace_statements),
    F("metric_statements", 7, otf__ottlproc_parse_metric_statements),
    F("log_statements", 8, otf__ottlproc_parse_log_statements),
    OTF_CONFIG_FIELD_END,
};

/* Contexts each field's signal allows (traces, metrics, logs). */
static bool allowed(int field, otf_ottl_context_t c)
{
	if (c == OTF_OTTL_CTX_RESOURCE || c == OTF_OTTL_CTX_SCOPE)
		return true;
	switch (field % 3) {
	case 0:
		return c == OTF_OTTL_CTX_SPAN || c == OTF_OTTL_CTX_SPANEVENT;
	case 1:
		return c == OTF_OTTL_CTX_METRIC || c == OTF_OTTL_CTX_DATAPOINT;
	default:
		return c == OTF_OTTL_CTX_LOG;
	}
}

static void env_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return;
	memcpy(s, data, size);
	s[size] = 0;
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_attributes_t out = {0};
	char why[256] = "";
	int rc = otf__rd_parse_env(s, &a, &out, why, sizeof why);
	if (rc == 0) {
		for (size_t i = 0; i < out.len; i++)
			FUZZ_CHECK(out.items[i].key.len > 0 &&
			           out.items[i].value.type == OTF_ANY_STRING);
	} else {
		FUZZ_CHECK(rc == OTF_E_NOMEM || why[0] != '\0');
	}
	otf_arena_close(&a);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	env_text(data, size);
	otf_config_t *yaml = NULL;
	otf_config_error_t err;
	if (otf_config_load_string("fuzz.yaml", (const char *)data, size, NULL, &yaml, &err))
		return 0;
	cfg_t c;
	memset(&c, 0, sizeof c);
	int rc = otf_config_schema_apply(k_schema, otf_config_root(yaml), &c, &err);
	if (rc) {
		FUZZ_CHECK(err.text[0] != '\0');
		FUZZ_CHECK(err.line > 0 || rc == OTF_E_NOMEM || rc == -ENOMEM);
		for (int i = 0; i < 9; i++)
			FUZZ_CHECK(c.g[i].n == 0 && c.g[i].g == NULL);
	} else {
		for (int i = 0; i < 9; i++) {
			for (size_t j = 0; j < c.g[i].n; j++) {
				const ottlproc_group_t *g = &c.g[i].g[j];
				FUZZ_CHECK(g->conds || g->stmts);
				FUZZ_CHECK(i < 6 ? g->stmts == NULL : g->stmts != NULL);
				if (g->conds)
					FUZZ_CHECK(allowed(i, otf_ottl_program_context(g->conds)));
				if (g->stmts)
					FUZZ_CHECK(allowed(i, otf_ottl_program_context(g->stmts)));
				FUZZ_CHECK(g->error_mode >= -1 && g->error_mode <= 2);
			}
		}
		otf_config_schema_free(k_schema, &c);
	}
	otf_redaction_config_t r;
	memset(&r, 0, sizeof r);
	rc = otf_config_schema_apply(otf__redaction_schema, otf_config_root(yaml), &r, &err);
	if (rc) {
		FUZZ_CHECK(err.text[0] != '\0');
		FUZZ_CHECK(r.blocked_values.n == 0 && r.blocked_values.re == NULL);
	} else {
		char msg[256];
		(void)otf__redaction_validate(&r, msg, sizeof msg);
		otf_config_schema_free(otf__redaction_schema, &r);
	}
	otf_rd_config_t d;
	memset(&d, 0, sizeof d);
	rc = otf_config_schema_apply(otf__rd_schema, otf_config_root(yaml), &d, &err);
	if (rc) {
		FUZZ_CHECK(err.text[0] != '\0');
	} else {
		char msg[256];
		FUZZ_CHECK(d.detectors.n <= OTF_RD_MAX_DETECTORS);
		(void)otf__rd_validate(&d, msg, sizeof msg);
		otf_config_schema_free(otf__rd_schema, &d);
	}
	otf_config_destroy(yaml);
	return 0;
}
