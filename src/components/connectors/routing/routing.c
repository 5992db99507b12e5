/* connector `routing`: the Collector's routing connector (spec:
 * connector/routingconnector/README.md in opentelemetry-collector-contrib),
 * compiled onto the content_router node: the same routing core (router.h),
 * with one output port per table entry (`table[0]`, `table[1]`, ...)
 * whose edges lead to that entry's pipelines, and `default` leading to
 * default_pipelines (pipeline_ports tells the Collector front-end which
 * ports feed which pipeline).
 *
 * Keys as the Collector's: table[].statement (`route() where <cond>`) or
 * table[].condition, table[].context (resource, the default; request:
 * conditions on client metadata, `request["X-Tenant"] == "acme"`; the
 * record contexts span, metric, datapoint and log: conditions on each
 * record, records.h), table[].pipelines, default_pipelines, error_mode.
 * The first entry that matches takes the data (the Collector's only mode
 * since match_once was removed). A table of resource and request entries
 * runs on the content_router core alone (per resource, its fast path); a
 * table with a record entry runs records.h, which splits requests by
 * record.
 *
 * Without default_pipelines, data that matches no entry is dropped, as the
 * Collector does (acknowledged upstream), but not silently: the drops are
 * counted (otelcol_connector_dropped_*, attribute connector) and the first
 * is logged as a warning naming the connector.
 *
 * A record entry whose signal never arrives (a span entry in a connector
 * fed only logs) would do nothing: a config error naming the entry. */
#include "records.h"

#include "otflow/alloc.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

enum { CTX_RESOURCE = OTF_RR_RESOURCE, CTX_REQUEST = OTF_RR_REQUEST };

typedef struct route_entry {
	char *statement;
	char *condition;
	int context;
	otf_config_strlist_t pipelines;
} route_entry_t;

typedef struct routing_config {
	otf_config_objlist_t table; /* route_entry_t */
	otf_config_strlist_t default_pipelines;
	int error_mode;
	/* Not a key: drops of unmatched data by the node's instances on every
	 * worker (the config is the one thing they share), so that the first
	 * is logged once per process. */
	_Atomic uint64_t drops;
} routing_config_t;

/* Contexts of the key, in the order of OTF_RR_* (records.h). */
static const char *const k_contexts[] = {"resource",  "request", "span", "metric",
                                         "datapoint", "log",     NULL};
/* What a record context routes, for messages. */
static const char *const k_routed[] = {"", "", "spans", "metrics", "data points", "log records"};
static const char *const k_error_modes[] = {"propagate", "ignore", "silent", NULL};

static const otf_config_field_t k_entry_schema[] = {
    {.key = "statement",
     .type = OTF_CFG_STRING,
     .offset = offsetof(route_entry_t, statement),
     .desc = "`route() where <condition>`; not with context request."},
    {.key = "condition",
     .type = OTF_CFG_STRING,
     .offset = offsetof(route_entry_t, condition),
     .desc = "The OTTL condition (instead of statement); required for context request."},
    {.key = "context",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(route_entry_t, context),
     .def = "resource",
     .enum_values = k_contexts,
     .desc = "resource, request (client metadata: `request[\"X-Tenant\"] == \"acme\"`), "
             "or a record context: span, metric, datapoint, log (each record routed on its "
             "own, the request split by record)."},
    {.key = "pipelines",
     .type = OTF_CFG_STRING_LIST,
     .offset = offsetof(route_entry_t, pipelines),
     .required = true,
     .desc = "Pipelines that receive the data when the condition is true."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t k_schema[] = {
    {.key = "table",
     .type = OTF_CFG_OBJECT_LIST,
     .offset = offsetof(routing_config_t, table),
     .sub = k_entry_schema,
     .elem_size = sizeof(route_entry_t),
     .required = true,
     .desc = "The routing table, in order: the first entry whose condition is true takes the "
             "data (each resource, or with a record context each record, is routed on its "
             "own; a request is split accordingly)."},
    {.key = "default_pipelines",
     .type = OTF_CFG_STRING_LIST,
     .offset = offsetof(routing_config_t, default_pipelines),
     .desc = "Pipelines for data that matches no entry. Without it such data is dropped "
             "(as the Collector), counted in otelcol_connector_dropped_* and logged."},
    {.key = "error_mode",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(routing_config_t, error_mode),
     .def = "propagate",
     .enum_values = k_error_modes,
     .desc = "A condition that fails: propagate nacks the request (permanent); ignore "
             "(logged) and silent route it to default_pipelines."},
    OTF_CONFIG_FIELD_END,
};

/* clang-format off */
static const char *const k_port_names[OTF_CR_MAX_ROUTES] = {
    "table[0]", "table[1]", "table[2]", "table[3]", "table[4]", "table[5]", "table[6]", "table[7]", "table[8]", "table[9]", "table[10]", "table[11]", "table[12]", "table[13]", "table[14]", "table[15]", "table[16]", "table[17]", "table[18]", "table[19]", "table[20]", "table[21]", "table[22]", "table[23]", "table[24]", "table[25]", "table[26]", "table[27]", "table[28]", "table[29]", "table[30]", "table[31]", "table[32]", "table[33]", "table[34]", "table[35]", "table[36]", "table[37]", "table[38]", "table[39]", "table[40]", "table[41]", "table[42]", "table[43]", "table[44]", "table[45]", "table[46]", "table[47]", "table[48]", "table[49]", "table[50]", "table[51]", "table[52]", "table[53]", "table[54]", "table[55]", "table[56]", "table[57]", "table[58]", "table[59]", "table[60]", "table[61]", "table[62]"};
/* clang-format on */

static const route_entry_t *entry(const routing_config_t *c, size_t i)
{
	return (const route_entry_t *)((const char *)c->table.items + i * sizeof(route_entry_t));
}

/* The condition of entry e, into buf: its condition, or what follows
 * `where` in `route() where <cond>` (`true` for a bare `route()`). NULL
 * with why set when the statement has another shape. */
static const char *condition_of(const route_entry_t *e, char *why, size_t whylen)
{
	if (e->condition)
		return e->condition;
	const char *s = e->statement;
	while (isspace((unsigned char)*s))
		s++;
	if (strncmp(s, "route", 5)) {
		snprintf(why, whylen, "statement must be `route() where <condition>`");
		return NULL;
	}
	s += 5;
	while (isspace((unsigned char)*s))
		s++;
	if (*s++ != '(')
		goto bad;
	while (isspace((unsigned char)*s))
		s++;
	if (*s++ != ')')
		goto bad;
	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return "true";
	if (strncmp(s, "where", 5) || !isspace((unsigned char)s[5]))
		goto bad;
	return s + 6;
bad:
	snprintf(why, whylen,
	         "statement must be `route() where <condition>` (route takes no "
	         "arguments)");
	return NULL;
}

/* The conditions of the table (array of n); NULL with err set. */
static const char **conditions(const routing_config_t *c, char *err, size_t errlen)
{
	size_t n = c->table.n;
	if (!n) {
		snprintf(err, errlen, "table: at least one entry is required");
		return NULL;
	}
	if (n > OTF_CR_MAX_ROUTES) {
		snprintf(err, errlen, "table: %zu entries, at most %d", n, OTF_CR_MAX_ROUTES);
		return NULL;
	}
	const char **conds = otf_calloc(n, sizeof *conds);
	if (!conds) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const route_entry_t *e = entry(c, i);
		char why[160] = "";
		if (!e->statement == !e->condition)
			snprintf(why, sizeof why,
			         "exactly one of statement and condition is required");
		else if (e->context == CTX_REQUEST && e->statement)
			snprintf(why, sizeof why,
			         "context request takes a condition, not a statement");
		else if (!e->pipelines.n)
			snprintf(why, sizeof why, "pipelines must name at least one pipeline");
		else
			conds[i] = condition_of(e, why, sizeof why);
		if (!conds[i]) {
			snprintf(err, errlen, "table[%zu]: %s", i, why);
			otf_free(conds);
			return NULL;
		}
	}
	return conds;
}

/* The instance: the content_router core, or record routing when the
 * table has a record entry. */
typedef struct routing {
	otf__cr_t *cr;
	otf__rr_t *rr;
} routing_t;

static bool by_record(const routing_config_t *c, int *ctxs)
{
	bool any = false;
	for (size_t i = 0; i < c->table.n && i < OTF_CR_MAX_ROUTES; i++) {
		ctxs[i] = entry(c, i)->context;
		any |= otf__rr_is_record(ctxs[i]);
	}
	return any;
}

/* Compiles the table into *out (node NULL: compile only). */
static int build(routing_t *out, otf_node_t *node, const routing_config_t *c, char *err,
                 size_t errlen)
{
	const char **conds = conditions(c, err, errlen);
	if (!conds)
		return OTF_E_CONFIG;
	int ctxs[OTF_CR_MAX_ROUTES];
	char msg[300] = "";
	int rc = by_record(c, ctxs)
	             ? otf__rr_create(&out->rr, node, conds, ctxs, k_port_names, c->table.n,
	                              c->error_mode, msg, sizeof msg)
	             : otf__cr_create(&out->cr, node, conds, k_port_names, c->table.n,
	                              OTF_CR_CTX_RESOURCE, c->error_mode, msg, sizeof msg);
	otf_free(conds);
	if (rc == OTF_E_CONFIG)
		snprintf(err, errlen, "%s", msg); /* "route 'table[i]': ..." */
	return rc;
}

static int validate(const void *config, char *err, size_t errlen)
{
	routing_t none = {0};
	return build(&none, NULL, config, err, errlen);
}

static const char *config_port(const void *config, uint32_t i)
{
	const routing_config_t *c = config;
	return c && i < c->table.n && i < OTF_CR_MAX_ROUTES ? k_port_names[i] : NULL;
}

static bool lists(const otf_config_strlist_t *l, const char *pipeline)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->items[i], pipeline))
			return true;
	return false;
}

static uint64_t pipeline_ports(const void *config, const char *pipeline)
{
	const routing_config_t *c = config;
	uint64_t mask = lists(&c->default_pipelines, pipeline) ? 1 : 0;
	for (size_t i = 0; i < c->table.n && i < OTF_CR_MAX_ROUTES; i++)
		if (lists(&entry(c, i)->pipelines, pipeline))
			mask |= 1ull << (i + 1);
	return mask;
}

static int check_wiring(const void *config, uint32_t in, const uint32_t *ps, uint32_t nports,
                        char *err, size_t errlen)
{
	const routing_config_t *c = config;
	/* No default_pipelines: unmatched data is dropped (counted), so
	 * default needs nothing wired. */
	bool always = !c->default_pipelines.n;
	char why[8];
	for (size_t i = 0; i < c->table.n; i++) {
		/* a record entry sees no container left without records */
		const char *cond = condition_of(entry(c, i), why, sizeof why);
		always |=
		    cond && !otf__rr_is_record(entry(c, i)->context) && otf__cr_cond_always(cond);
	}
	for (size_t i = 0; i < c->table.n; i++) {
		int ctx = entry(c, i)->context;
		otf_signal_t s = otf__rr_signal(ctx);
		if (otf__rr_is_record(ctx) && !(in & (1u << s))) {
			snprintf(
			    err, errlen,
			    "table[%zu]: context %s routes %s, but the connector receives no %s", i,
			    k_contexts[ctx], k_routed[ctx], otf_signal_name(s));
			return OTF_E_CONFIG;
		}
	}
	int rc =
	    otf__cr_check_wiring(k_port_names, c->table.n, always, in, ps, nports, err, errlen);
	if (rc && !always && !(ps[0]))
		snprintf(err + strlen(err), errlen - strlen(err), " (set default_pipelines)");
	return rc;
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	const routing_config_t *c = ctx->config;
	routing_t *r = otf_calloc(1, sizeof *r);
	if (!r)
		return OTF_E_NOMEM;
	char err[300];
	int rc = build(r, ctx->node, c, err, sizeof err);
	if (rc) {
		otf_free(r);
		return rc;
	}
	if (!c->default_pipelines.n && r->rr)
		otf__rr_drop_unmatched(r->rr, (_Atomic uint64_t *)&c->drops);
	else if (!c->default_pipelines.n)
		otf__cr_drop_unmatched(r->cr, (_Atomic uint64_t *)&c->drops);
	*inst = r;
	return 0;
}

static void consume(void *inst, otf_msg_t *m)
{
	routing_t *r = inst;
	if (r->rr)
		otf__rr_consume(r->rr, m);
	else
		otf__cr_consume(r->cr, m);
}

static void control(void *inst, const otf_ctrl_t *c)
{
	routing_t *r = inst;
	if (r->rr)
		otf__rr_control(r->rr, c);
	else
		otf__cr_control(r->cr, c);
}

static void destroy(void *inst)
{
	routing_t *r = inst;
	if (!r)
		return;
	otf__rr_destroy(r->rr);
	otf__cr_destroy(r->cr);
	otf_free(r);
}

const otf_component_factory_t otf_connector_routing_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_CONNECTOR,
    .type = "routing",
    .description = "The Collector's routing connector: routes by OTTL conditions (resource, "
                   "client metadata, span, log, metric, data point) to pipelines; runs as a "
                   "content_router node.",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_schema,
    .config_size = sizeof(routing_config_t),
    .validate = validate,
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
    .check_wiring = check_wiring,
    .config_port = config_port,
    .pipeline_ports = pipeline_ports,
};
