/* Extensions (otflow/extension.h): an enabled extension is created once
 * into the DAG, started before the workers create their nodes, found by
 * id and interface from a component's create, destroyed with the DAG; a
 * config field naming an extension (ext_ref) is checked at build, with
 * file:line:col and the key path in the error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/config_schema.h"
#include "otflow/engine.h"
#include "otflow/err.h"
#include "otflow/extension.h"
#include "otflow/service.h"

#include <string.h>

/* ---- a client-auth extension holding a token ---- */

typedef struct tok_cfg {
	char *token;
} tok_cfg_t;

typedef struct tok_iface {
	const char *(*token)(void *instance);
} tok_iface_t;

typedef struct tok {
	char token[64];
	int started;
} tok_t;

static int g_created, g_started, g_destroyed;
static char g_seen_token[64];

static const char *tok_token(void *instance)
{
	return ((tok_t *)instance)->token;
}

static const tok_iface_t k_tok_iface = {.token = tok_token};

static int tok_create(const otf_ext_create_ctx_t *ctx, void **instance)
{
	const tok_cfg_t *c = ctx->config;
	if (!c->token || !*c->token) {
		snprintf(ctx->err, ctx->errlen, "token must not be empty");
		return OTF_E_CONFIG;
	}
	tok_t *t = otf_calloc(1, sizeof *t);
	if (!t)
		return OTF_E_NOMEM;
	snprintf(t->token, sizeof t->token, "%s", c->token);
	g_created++;
	*instance = t;
	return 0;
}

static int tok_start(void *instance)
{
	((tok_t *)instance)->started = 1;
	g_started++;
	return 0;
}

static void tok_destroy(void *instance)
{
	g_destroyed++;
	otf_free(instance);
}

static const otf_config_field_t k_tok_schema[] = {
    {.key = "token", .type = OTF_CFG_STRING, .offset = offsetof(tok_cfg_t, token)},
    OTF_CONFIG_FIELD_END,
};

static otf_component_factory_t g_tok_factory;

/* ---- an exporter whose auth.authenticator names a client authenticator ---- */

typedef struct exp_auth {
	char *authenticator;
} exp_auth_t;
typedef struct exp_cfg {
	exp_auth_t auth;
} exp_cfg_t;

static const otf_config_field_t k_exp_auth[] = {
    {.key = "authenticator",
     .type = OTF_CFG_STRING,
     .offset = offsetof(exp_auth_t, authenticator),
     .ext_ref = 1 + OTF_EXT_CLIENT_AUTH},
    OTF_CONFIG_FIELD_END,
};
static const otf_config_field_t k_exp_schema[] = {
    {.key = "auth", .type = OTF_CFG_OBJECT, .offset = offsetof(exp_cfg_t, auth), .sub = k_exp_auth},
    OTF_CONFIG_FIELD_END,
};

static int exp_create(const otf_create_ctx_t *ctx, void **instance)
{
	const exp_cfg_t *c = ctx->config;
	void *inst;
	const tok_iface_t *vt =
	    otf_node_extension(ctx->node, c->auth.authenticator, OTF_EXT_CLIENT_AUTH, &inst);
	if (vt) {
		/* Started before any node is created. */
		assert_int_equal(((tok_t *)inst)->started, 1);
		snprintf(g_seen_token, sizeof g_seen_token, "%s", vt->token(inst));
	}
	*instance = (void *)1;
	return 0;
}

static void exp_consume(void *instance, otf_msg_t *msg)
{
	(void)instance;
	otf_msg_ack(msg);
}

static otf_component_factory_t g_exp_factory;

static void register_test_factories(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	otf_components_register_builtins();
	otf_component_factory_t *x = &g_tok_factory;
	x->abi_version = OTF_COMPONENT_ABI_VERSION;
	x->struct_size = sizeof *x;
	x->kind = OTF_KIND_EXTENSION;
	x->type = "testtoken";
	x->description = "test";
	x->config_schema = k_tok_schema;
	x->config_size = sizeof(tok_cfg_t);
	x->ext_create = tok_create;
	x->ext_start = tok_start;
	x->ext_destroy = tok_destroy;
	x->ext_ifaces[OTF_EXT_CLIENT_AUTH] = &k_tok_iface;
	assert_int_equal(otf_component_register(x), 0);

	otf_component_factory_t *e = &g_exp_factory;
	e->abi_version = OTF_COMPONENT_ABI_VERSION;
	e->struct_size = sizeof *e;
	e->kind = OTF_KIND_EXPORTER;
	e->type = "testexp";
	e->description = "test";
	e->stability[OTF_SIGNAL_LOGS] = OTF_STABILITY_DEVELOPMENT;
	e->config_schema = k_exp_schema;
	e->config_size = sizeof(exp_cfg_t);
	e->create[OTF_SIGNAL_LOGS] = exp_create;
	e->consume[OTF_SIGNAL_LOGS] = exp_consume;
	assert_int_equal(otf_component_register(e), 0);

	/* An extension factory without ext_create is refused. */
	static otf_component_factory_t bad;
	bad = *x;
	bad.type = "nocreate";
	bad.ext_create = NULL;
	assert_int_equal(otf_component_register(&bad), OTF_E_INVAL);
}

static int build(const char *yaml, otf_config_t **cfg, otf_dag_t **dag, otf_config_error_t *err)
{
	otf_service_settings_t st;
	*dag = NULL;
	int rc = otf_config_load_string("ext.yaml", yaml, strlen(yaml), NULL, cfg, err);
	if (!rc)
		rc = otf_service_build(*cfg, dag, &st, err);
	return rc;
}

#define PIPELINE                 \
	"receivers: {nop: {}}\n" \
	"service:\n"             \
	"  pipelines:\n"         \
	"    logs: {receivers: [nop], exporters: [testexp]}\n"

static void test_enabled_extension_reaches_the_exporter(void **state)
{
	(void)state;
	register_test_factories();
	g_created = g_started = g_destroyed = 0;
	g_seen_token[0] = '\0';
	const char *yaml = "extensions:\n"
	                   "  testtoken/a: {token: s3cret}\n"
	                   "  testtoken/unused: {token: other}\n"
	                   "exporters:\n"
	                   "  testexp: {auth: {authenticator: testtoken/a}}\n" PIPELINE
	                   "  extensions: [testtoken/a]\n";
	otf_config_t *cfg = NULL;
	otf_dag_t *dag;
	otf_config_error_t err;
	int rc = build(yaml, &cfg, &dag, &err);
	if (rc)
		fail_msg("build: %s", err.text);
	/* Only the enabled id is created; nothing started yet. */
	assert_int_equal(g_created, 1);
	assert_int_equal(g_started, 0);
	void *inst;
	const tok_iface_t *vt = otf_dag_extension(dag, "testtoken/a", OTF_EXT_CLIENT_AUTH, &inst);
	assert_non_null(vt);
	assert_string_equal(vt->token(inst), "s3cret");
	assert_null(otf_dag_extension(dag, "testtoken/a", OTF_EXT_SERVER_AUTH, &inst));
	assert_null(inst);
	assert_null(otf_dag_extension(dag, "testtoken/unused", OTF_EXT_CLIENT_AUTH, &inst));

	otf_runtime_config_t rt;
	otf_runtime_config_defaults(&rt);
	rt.workers = 2;
	otf_engine_t *e;
	assert_int_equal(otf_engine_start(dag, &rt, &e), 0);
	/* Started once for two workers, before their nodes were created. */
	assert_int_equal(g_started, 1);
	assert_string_equal(g_seen_token, "s3cret");
	otf_engine_request_stop(e);
	assert_true(otf_engine_join(e) >= 0);
	assert_int_equal(g_destroyed, 0);
	otf_dag_destroy(dag);
	assert_int_equal(g_destroyed, 1);
	otf_config_destroy(cfg);
}

static void expect_error(const char *yaml, const char *want)
{
	otf_config_t *cfg = NULL;
	otf_dag_t *dag;
	otf_config_error_t err;
	int rc = build(yaml, &cfg, &dag, &err);
	assert_int_not_equal(rc, 0);
	if (!strstr(err.text, want))
		fail_msg("error \"%s\" lacks \"%s\"", err.text, want);
	otf_config_destroy(cfg);
}

static void test_bad_references_are_config_errors(void **state)
{
	(void)state;
	register_test_factories();
	g_created = g_destroyed = 0;
	/* Defined but not enabled: the key's position and path are named. */
	expect_error("extensions:\n"
	             "  testtoken/a: {token: s3cret}\n"
	             "exporters:\n"
	             "  testexp:\n"
	             "    auth:\n"
	             "      authenticator: testtoken/a\n" PIPELINE,
	             "ext.yaml:6:22: auth.authenticator: 'testtoken/a' is not an extension "
	             "enabled in service.extensions");
	/* Not defined at all. */
	expect_error("exporters:\n"
	             "  testexp: {auth: {authenticator: nosuch}}\n" PIPELINE,
	             "'nosuch' is not an extension enabled");
	/* Created extensions are destroyed when the build fails. */
	assert_int_equal(g_created, g_destroyed);
	/* An unknown type, a bad config of an unused one, a failing create. */
	expect_error("extensions: {oauth2clientx: {}}\n" PIPELINE,
	             "unknown extension type 'oauth2clientx'");
	expect_error("extensions: {testtoken/u: {tokn: x}}\n"
	             "exporters: {testexp: {}}\n" PIPELINE,
	             "unknown key");
	expect_error("extensions: {testtoken: {token: \"\"}}\n"
	             "exporters: {testexp: {}}\n" PIPELINE "  extensions: [testtoken]\n",
	             "extension 'testtoken': token must not be empty");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_enabled_extension_reaches_the_exporter),
	    cmocka_unit_test(test_bad_references_are_config_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
