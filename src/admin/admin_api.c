/* Admin API routes (admin.h). Answers are JSON with an "error" member on
 * failure, as the Collector's own endpoints do not define one. CFG
 * (POST /api/v1/nodes/{id}/config) answers 200 once every worker runs the
 * new config (otf_engine_reconfigure), 400 with the schema's error text,
 * 404 for an unknown node, 409 for a change of the node's output ports
 * (a DAG shape change), a rebuild while the last one's old instance
 * still drains, or a change its factory's check_rebuild refuses (an
 * exporter's sending_queue.storage), 500 when a rebuilt node's new instance could not start
 * (the old one keeps running), 504 past the wait, 413 over 1 MiB, 415 for
 * a body neither JSON nor YAML. */
#include "admin/admin.h"

#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/err.h"

#include <errno.h>
#include <json.h>
#include <stdio.h>
#include <string.h>

#define MAX_NODES 4096

static void error_reply(otf_admin_reply_t *out, int status, const char *msg)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(msg));
	size_t n = 0;
	const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
	out->status = status;
	out->content_type = "application/json";
	out->body = otf_malloc(n + 1);
	if (out->body) {
		memcpy(out->body, s, n + 1);
		out->len = n;
	}
	json_object_put(o);
}

/* The whole DAG with counters, or one node of it (id != NULL). */
static void dag_reply(const otf_dag_t *dag, otf_engine_t *engine, const char *id,
                      otf_admin_reply_t *out)
{
	/* Sized per request from the live node count: a static thread-local
	 * table for MAX_NODES would be ~1.4 MiB of TLS that glibc zeroes in
	 * every thread at its start (each worker's RSS), for a route the main
	 * thread answers now and then. */
	otf_node_stats_t *stats = NULL;
	size_t n = engine ? otf_engine_stats(engine, NULL, 0) : 0;
	if (n > MAX_NODES)
		n = MAX_NODES;
	if (n && !(stats = otf_calloc(n, sizeof *stats))) {
		error_reply(out, 500, "out of memory");
		return;
	}
	if (n) {
		size_t live = otf_engine_stats(engine, stats, n);
		if (live < n)
			n = live; /* the DAG of an engine does not grow, but stay safe */
	}
	char *json = NULL;
	size_t len = 0;
	const otf_node_stats_t *st = engine ? stats : NULL;
	int rc = id ? otf_dag_describe_node_json(dag, id, st, n, &json, &len)
	            : otf_dag_describe_json(dag, st, n, &json, &len);
	otf_free(stats);
	if (rc == OTF_E_NOT_FOUND) {
		char msg[300];
		snprintf(msg, sizeof msg, "no node '%.200s' (GET /api/v1/dag lists them)", id);
		error_reply(out, 404, msg);
		return;
	}
	if (rc) {
		error_reply(out, 500, "out of memory");
		return;
	}
	out->status = 200;
	out->content_type = "application/json";
	out->body = json;
	out->len = len;
}

/* %XX decoding of a path segment (node ids hold ':' and '/'). */
static void unescape(const char *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < cap; i++) {
		unsigned v;
		if (p[i] == '%' && i + 2 < n && sscanf(p + i + 1, "%2x", &v) == 1) {
			out[o++] = (char)v;
			i += 2;
		} else {
			out[o++] = p[i];
		}
	}
	out[o] = '\0';
}

/* The node's id exists and is live (running, or would run). */
static bool node_known(const otf_dag_t *dag, const char *id)
{
	int i = otf_dag_find(dag, id);
	return i >= 0 && otf_dag_node_live(dag, (size_t)i);
}

static void cfg_reply(const otf_dag_t *dag, otf_engine_t *engine, const char *id, const char *ctype,
                      size_t ctype_len, const char *body, size_t body_len, otf_admin_reply_t *out)
{
	char msg[1400];
	if (!node_known(dag, id)) {
		snprintf(msg, sizeof msg, "no node '%.200s' (GET /api/v1/dag lists them)", id);
		error_reply(out, 404, msg);
		return;
	}
	otf_config_t *cfg = NULL;
	int status = otf__admin_cfg_parse(ctype, ctype_len, body, body_len, &cfg, msg, sizeof msg);
	if (status) {
		error_reply(out, status, msg);
		return;
	}
	int rc;
	if (engine) {
		rc = otf_engine_reconfigure(engine, id, otf_config_root(cfg), msg, sizeof msg);
	} else {
		rc = otf_dag_node_config_check(dag, id, otf_config_root(cfg), msg, sizeof msg);
	}
	otf_config_destroy(cfg);
	if (rc) {
		status = rc == OTF_E_NOT_FOUND     ? 404
		         : rc == OTF_E_UNSUPPORTED ? 409
		         : rc == -EBUSY            ? 409
		         : rc == -ETIMEDOUT        ? 504
		         : rc == OTF_E_NOMEM       ? 500
		         : rc == OTF_E_IO          ? 500
		                                   : 400;
		error_reply(out, status, msg);
		return;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "applied", json_object_new_boolean(engine != NULL));
	json_object_object_add(o, "workers",
	                       json_object_new_int(engine ? otf_engine_workers(engine) : 0));
	size_t n = 0;
	const char *js = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
	out->status = 200;
	out->content_type = "application/json";
	out->body = otf_malloc(n + 1);
	if (out->body) {
		memcpy(out->body, js, n + 1);
		out->len = n;
	}
	json_object_put(o);
}

void otf__admin_route(const otf_dag_t *dag, otf_engine_t *engine, const char *method,
                      const char *path, size_t path_len, const char *ctype, size_t ctype_len,
                      const char *body, size_t body_len, otf_admin_reply_t *out)
{
	memset(out, 0, sizeof *out);
	static const char k_nodes[] = "/api/v1/nodes/";
	const size_t kn = sizeof k_nodes - 1;
	bool get = !strcmp(method, "GET");
	if (path_len == 1 && path[0] == '/' && get) {
		out->status = 200;
		out->content_type = "text/html; charset=utf-8";
		out->static_body = otf__admin_page;
		out->len = strlen(otf__admin_page);
		return;
	}
	if (path_len == 11 && !memcmp(path, "/api/v1/dag", 11)) {
		if (!get) {
			error_reply(out, 405, "use GET");
			return;
		}
		dag_reply(dag, engine, NULL, out);
		return;
	}
	if (path_len > kn && !memcmp(path, k_nodes, kn)) {
		const char *rest = path + kn;
		size_t rn = path_len - kn;
		static const char k_cfg[] = "/config";
		bool cfg = rn > sizeof k_cfg - 1 &&
		           !memcmp(rest + rn - (sizeof k_cfg - 1), k_cfg, sizeof k_cfg - 1);
		char id[256];
		unescape(rest, cfg ? rn - (sizeof k_cfg - 1) : rn, id, sizeof id);
		if (cfg) {
			if (strcmp(method, "POST")) {
				error_reply(out, 405, "use POST with a JSON or YAML body");
				return;
			}
			if (body_len > (1u << 20)) {
				error_reply(out, 413, "body over 1 MiB");
				return;
			}
			cfg_reply(dag, engine, id, ctype, ctype_len, body, body_len, out);
			return;
		}
		if (!get) {
			error_reply(out, 405, "use GET");
			return;
		}
		dag_reply(dag, engine, id, out);
		return;
	}
	error_reply(out, 404,
	            "not found: GET /, /api/v1/dag, /api/v1/nodes/{id}, POST "
	            "/api/v1/nodes/{id}/config");
}
