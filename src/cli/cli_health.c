/* The health_check extension's component status (use_v2: true), as the
 * Collector's healthcheckv2 HTTP status endpoint: a JSON body with
 * start_time, healthy, status ("StatusOK", "StatusRecoverableError",
 * ...), error and status_time for the collector, and with ?verbose the
 * same per pipeline ("pipeline:logs") and per component of each pipeline
 * ("receiver:otlp", "processor:batch", "exporter:otlp/backend");
 * ?pipeline=logs answers for that pipeline alone (404 for an unknown
 * one). Component statuses come from the engine (ERR, status.c).
 *
 * Healthy: a component is, unless it is starting, stopping or stopped,
 * or it has a permanent error and include_permanent_errors is set, or a
 * recoverable error older than recovery_duration and
 * include_recoverable_errors is set. A pipeline is healthy when all its
 * components are, the collector when all its pipelines are. The HTTP
 * code is healthcheckv2's ("Mapping of Component Status to HTTP Status"
 * in its README): 200 when healthy; unhealthy, 503 when the status shown
 * is a lifecycle one (starting, stopping, stopped: not available yet or
 * any more) and 500 when it is an error that counts. The Collector has no
 * key to change these codes, so neither has otflow. The legacy mode
 * (without use_v2, cli_admin.c) keeps its 503 for starting and stopping.
 * The status shown is the most relevant one:
 * permanent before recoverable, reversed when only recoverable errors
 * count (as healthcheckv2). Native-format configs have no pipelines: all
 * their nodes form "pipeline:dag". */
#include "cli/cli_health.h"

#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/err.h"

#include <json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_NODES 1024

typedef struct agg {
	otf_component_status_t status;
	uint64_t since;
	const char *error;
	bool healthy;
	bool any;
} agg_t;

static void rfc3339(uint64_t ns, char *out, size_t cap)
{
	time_t s = (time_t)(ns / 1000000000u);
	struct tm tm;
	gmtime_r(&s, &tm);
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06luZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	         (unsigned long)(ns % 1000000000u / 1000u));
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Relevance of a status when aggregating: higher wins. */
static int rank(const otf_cli_health_t *h, otf_component_status_t s)
{
	switch (s) {
	case OTF_STATUS_FATAL_ERROR:
		return 9;
	case OTF_STATUS_PERMANENT_ERROR:
		return !h->include_permanent && h->include_recoverable ? 7 : 8;
	case OTF_STATUS_RECOVERABLE_ERROR:
		return !h->include_permanent && h->include_recoverable ? 8 : 7;
	case OTF_STATUS_STOPPING:
		return 5;
	case OTF_STATUS_STOPPED:
		return 4;
	case OTF_STATUS_STARTING:
		return 3;
	case OTF_STATUS_OK:
		return 1;
	}
	return 0;
}

static bool healthy(const otf_cli_health_t *h, const otf_node_stats_t *st, uint64_t now)
{
	switch (st->status) {
	case OTF_STATUS_OK:
		return true;
	case OTF_STATUS_RECOVERABLE_ERROR:
		return !h->include_recoverable ||
		       now - st->status_unix_nano < (uint64_t)h->recovery_ns;
	case OTF_STATUS_PERMANENT_ERROR:
		return !h->include_permanent;
	default:
		return false;
	}
}

static void agg_add(const otf_cli_health_t *h, agg_t *a, otf_component_status_t s, uint64_t since,
                    const char *error, bool ok)
{
	if (!a->any || rank(h, s) > rank(h, a->status) ||
	    (rank(h, s) == rank(h, a->status) && since > a->since)) {
		a->status = s;
		a->since = since;
		a->error = error && *error ? error : NULL;
	}
	a->healthy = a->any ? a->healthy && ok : ok;
	a->any = true;
}

/* HTTP code of an aggregate (see the top of this file). */
static int http_code(const agg_t *a)
{
	if (a->healthy)
		return 200;
	switch (a->status) {
	case OTF_STATUS_STARTING:
	case OTF_STATUS_STOPPING:
	case OTF_STATUS_STOPPED:
		return 503;
	default:
		return 500;
	}
}

static json_object *status_obj(const agg_t *a)
{
	char t[80];
	json_object *o = json_object_new_object();
	json_object_object_add(o, "healthy", json_object_new_boolean(a->healthy));
	json_object_object_add(o, "status",
	                       json_object_new_string(otf_component_status_name(a->status)));
	if (a->error)
		json_object_object_add(o, "error", json_object_new_string(a->error));
	rfc3339(a->since, t, sizeof t);
	json_object_object_add(o, "status_time", json_object_new_string(t));
	return o;
}

static const otf_node_stats_t *find(const otf_node_stats_t *st, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(st[i].name, name))
			return &st[i];
	return NULL;
}

/* Adds node `name` (shown as `shown`) to pipeline p's aggregate and, when
 * comps is not NULL, to its components. */
static void add_node(const otf_cli_health_t *h, const otf_node_stats_t *st, size_t n,
                     const char *name, const char *shown, uint64_t now, agg_t *p,
                     json_object *comps)
{
	const otf_node_stats_t *s = find(st, n, name);
	if (!s)
		return; /* removed from the DAG (nothing runs) */
	agg_t c = {0};
	agg_add(h, &c, s->status, s->status_unix_nano, s->error, healthy(h, s, now));
	agg_add(h, p, c.status, c.since, c.error, c.healthy);
	if (comps)
		json_object_object_add(comps, shown, status_obj(&c));
}

/* The node id of pipeline pid's component id from list `list`. */
static void node_name(const otf_config_node_t *root, const char *list, const char *id,
                      const char *pid, char *out, size_t cap)
{
	if (!strcmp(list, "processors")) {
		snprintf(out, cap, "processor:%s@%s", id, pid);
		return;
	}
	bool conn = otf_config_map_get(otf_config_map_get(root, "connectors"), id) != NULL;
	snprintf(out, cap, "%s:%s",
	         conn                         ? "connector"
	         : !strcmp(list, "receivers") ? "receiver"
	                                      : "exporter",
	         id);
}

/* Pipeline pid (config node pl) into an aggregate, its components into
 * comps when not NULL. */
static agg_t pipeline(const otf_cli_health_t *h, const otf_config_node_t *root, const char *pid,
                      const otf_config_node_t *pl, const otf_node_stats_t *st, size_t n,
                      uint64_t now, json_object *comps)
{
	static const char *const lists[] = {"receivers", "processors", "exporters"};
	agg_t p = {0};
	for (size_t l = 0; l < 3; l++) {
		const otf_config_node_t *seq = otf_config_map_get(pl, lists[l]);
		for (size_t i = 0; i < otf_config_len(seq); i++) {
			const char *id = otf_config_scalar(otf_config_seq_at(seq, i), NULL);
			if (!id)
				continue;
			char name[300], shown[300];
			node_name(root, lists[l], id, pid, name, sizeof name);
			snprintf(shown, sizeof shown, "%s", name);
			char *at = l == 1 ? strrchr(shown, '@') : NULL;
			if (at)
				*at = '\0';
			add_node(h, st, n, name, shown, now, &p, comps);
		}
	}
	return p;
}

static bool query_has(const char *q, size_t len, const char *key, char *val, size_t cap)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < len;) {
		size_t e = i;
		while (e < len && q[e] != '&')
			e++;
		if (e - i >= kl && !memcmp(q + i, key, kl) && (e - i == kl || q[i + kl] == '=')) {
			if (val) {
				size_t vl = e - i > kl ? e - i - kl - 1 : 0;
				if (vl >= cap)
					vl = cap - 1;
				memcpy(val, q + i + kl + 1, vl);
				val[vl] = '\0';
			}
			return true;
		}
		i = e + 1;
	}
	return false;
}

int otf_cli_health_reply(const otf_cli_health_t *h, otf_engine_t *engine, const otf_config_t *cfg,
                         const char *query, size_t qlen, char **body, size_t *len)
{
	static otf_node_stats_t st[MAX_NODES]; /* main thread only */
	size_t n = engine ? otf_engine_stats(engine, st, MAX_NODES) : 0;
	if (n > MAX_NODES)
		n = MAX_NODES;
	uint64_t now = now_ns();
	bool verbose = query_has(query, qlen, "verbose", NULL, 0);
	char want[200] = "";
	bool one = query_has(query, qlen, "pipeline", want, sizeof want);
	const otf_config_node_t *root = cfg ? otf_config_root(cfg) : NULL;
	const otf_config_node_t *pls = otf_config_get(root, "service.pipelines");
	json_object *comps = json_object_new_object();
	agg_t all = {0};
	bool found = false;
	json_object *only = NULL;
	agg_t only_agg = {0};
	if (otf_config_len(pls)) {
		for (size_t i = 0; i < otf_config_len(pls); i++) {
			const otf_config_node_t *pl;
			const char *pid = otf_config_map_at(pls, i, &pl);
			if (one && strcmp(pid, want))
				continue;
			found = true;
			json_object *pc = verbose ? json_object_new_object() : NULL;
			agg_t p = pipeline(h, root, pid, pl, st, n, now, pc);
			if (!p.any)
				p = (agg_t){.status = OTF_STATUS_OK,
				            .since = h->start_ns,
				            .healthy = true,
				            .any = true};
			agg_add(h, &all, p.status, p.since, p.error, p.healthy);
			json_object *po = status_obj(&p);
			if (pc)
				json_object_object_add(po, "components", pc);
			if (one) {
				only = po;
				only_agg = p;
			} else {
				char key[240];
				snprintf(key, sizeof key, "pipeline:%s", pid);
				json_object_object_add(comps, key, po);
			}
		}
	} else if (!one || !strcmp(want, "dag")) {
		found = true;
		json_object *pc = verbose ? json_object_new_object() : NULL;
		agg_t p = {0};
		for (size_t i = 0; i < n; i++)
			add_node(h, st, n, st[i].name, st[i].name, now, &p, pc);
		if (!p.any)
			p = (agg_t){.status = OTF_STATUS_OK,
			            .since = h->start_ns,
			            .healthy = true,
			            .any = true};
		agg_add(h, &all, p.status, p.since, p.error, p.healthy);
		json_object *po = status_obj(&p);
		if (pc)
			json_object_object_add(po, "components", pc);
		if (one) {
			only = po;
			only_agg = p;
		} else {
			json_object_object_add(comps, "pipeline:dag", po);
		}
	}
	if (!engine) /* not running yet, or shutting down */
		all = (agg_t){.status = OTF_STATUS_STARTING, .since = now, .any = true};
	json_object *out;
	int status;
	if (one && !found) {
		out = json_object_new_object();
		json_object_object_add(out, "error", json_object_new_string("unknown pipeline"));
		status = 404;
		json_object_put(comps);
	} else {
		agg_t top = one ? only_agg : all;
		if (one) {
			/* The pipeline's own object, start_time first as the
			 * Collector's. */
			out = json_object_new_object();
			json_object_object_foreach(only, k, v)
			    json_object_object_add(out, k, json_object_get(v));
			json_object_put(only);
			json_object_put(comps);
		} else {
			out = status_obj(&all);
			if (verbose)
				json_object_object_add(out, "components", comps);
			else
				json_object_put(comps);
		}
		char t[80];
		rfc3339(h->start_ns, t, sizeof t);
		json_object_object_add(out, "start_time", json_object_new_string(t));
		status = http_code(&top);
	}
	size_t l = 0;
	const char *s = json_object_to_json_string_length(out, JSON_C_TO_STRING_PLAIN, &l);
	*body = otf_malloc(l + 1);
	if (*body) {
		memcpy(*body, s, l + 1);
		*len = l;
	} else {
		*len = 0;
	}
	json_object_put(out);
	return status;
}
