/* example_app: writes spans, logs and metrics into an otlp-mmap file with libotmmap and prints
 * a JSON description of everything it wrote (ids, names, attributes, values) on stdout, so a
 * test can compare it with what a collector exports from the file.
 *
 * usage: example_app PATH [--count N] [--aggregate]
 *   per iteration i (0..N-1): a SERVER span "GET /items/{i%3}" with a CLIENT child
 *   "SELECT items" (a link to the previous request, a span event, status ERROR when i%5==4),
 *   one log record correlated with the request span, counter "example.requests" +1,
 *   histogram "example.duration" (ms), gauge "example.queue_depth" = i, up-down counter
 *   "example.active" +1 then -1. --aggregate writes format 1001 (metrics in the file). */
#include "otmm.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void print_span(const otmm_span_t *s, const char *name, int kind, const uint8_t *parent,
                       uint64_t start, uint64_t end, const char *attrs_json, const char *links_json,
                       int first)
{
	char tid[33], sid[17], pid[17] = "";
	hex(s->ctx.trace_id, 16, tid);
	hex(s->ctx.span_id, 8, sid);
	if (parent)
		hex(parent, 8, pid);
	printf("%s\n    {\"trace_id\": \"%s\", \"span_id\": \"%s\", \"parent_span_id\": \"%s\", "
	       "\"name\": \"%s\", \"kind\": %d, \"start_time_unix_nano\": %" PRIu64
	       ", \"end_time_unix_nano\": %" PRIu64 ", \"attributes\": {%s}, \"links\": [%s], "
	       "\"status\": {\"code\": %d, \"message\": \"%s\"}}",
	       first ? "" : ",", tid, sid, pid, name, kind, start, end, attrs_json, links_json,
	       s->status_code, s->status_message);
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	long count = 10;
	int aggregate = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--aggregate"))
			aggregate = 1;
		else if (!path && argv[i][0] != '-')
			path = argv[i];
		else
			path = NULL, i = argc;
	}
	if (!path || count < 0) {
		fprintf(stderr, "usage: example_app PATH [--count N] [--aggregate]\n");
		return 2;
	}
	otmm_options_t o;
	otmm_options_init(&o);
	o.aggregate = aggregate;
	otmm_attr_t res[] = {otmm_attr("service.name", otmm_str("example-app-c")),
	                     otmm_attr("service.version", otmm_str("1.0.0"))};
	o.resource_attrs = res;
	o.n_resource_attrs = 2;
	/* rings large enough for the whole run: the example never depends on a reader */
	uint32_t need = 1;
	while (need < (uint64_t)count * 8 + 16 && need < (1u << 20))
		need <<= 1;
	o.spans_slots = o.events_slots = o.measurements_slots = need < 1024 ? 1024 : need;
	otmm_t *m;
	int rc = otmm_open(path, &o, &m);
	if (rc < 0) {
		fprintf(stderr, "example_app: %s: %s\n", path, otmm_strerror(rc));
		return 1;
	}
	otmm_scope_t scope;
	otmm_instrument_t requests, duration, depth, active;
	static const double bounds[] = {1, 5, 10, 50, 100};
	if (otmm_scope(m, "otmm.example", "1.0.0", NULL, 0, &scope) < 0 ||
	    otmm_instrument_create(&scope, OTMM_COUNTER, "example.requests", "requests served", "1",
	                           0, NULL, 0, &requests) < 0 ||
	    otmm_instrument_create(&scope, OTMM_HISTOGRAM, "example.duration", "request duration",
	                           "ms", 1, bounds, 5, &duration) < 0 ||
	    otmm_instrument_create(&scope, OTMM_GAUGE, "example.queue_depth", "queued requests",
	                           "1", 0, NULL, 0, &depth) < 0 ||
	    otmm_instrument_create(&scope, OTMM_UP_DOWN_COUNTER, "example.active",
	                           "requests in flight", "1", 0, NULL, 0, &active) < 0) {
		fprintf(stderr, "example_app: setup failed\n");
		otmm_close(m);
		return 1;
	}
	printf("{\n  \"file\": \"%s\", \"format\": %d,\n", path,
	       aggregate ? OTMM_FORMAT_AGGREGATED : OTMM_FORMAT_V1);
	printf("  \"resource\": {\"service.name\": \"example-app-c\", \"service.version\": "
	       "\"1.0.0\"},\n  \"scope\": {\"name\": \"otmm.example\", \"version\": \"1.0.0\"},\n");
	printf("  \"spans\": [");
	/* logs are collected as JSON text while spans print; printed afterwards */
	size_t logcap = 512 * (size_t)count + 64, loglen = 0;
	char *logs = malloc(logcap);
	if (!logs)
		return 1;
	logs[0] = 0;
	long route_count[3] = {0, 0, 0}, errors = 0;
	double dsum = 0;
	long buckets[6] = {0};
	otmm_span_context_t prev = {0};
	for (long i = 0; i < count; i++) {
		char route[32], name[48], attrs[256], links[160] = "";
		snprintf(route, sizeof(route), "/items/%ld", i % 3);
		snprintf(name, sizeof(name), "GET %s", route);
		otmm_attr_t at[] = {otmm_attr("http.request.method", otmm_str("GET")),
		                    otmm_attr("http.route", otmm_str(route)),
		                    otmm_attr("iteration", otmm_int(i)),
		                    otmm_attr("sampled", otmm_bool(1))};
		uint64_t t0 = otmm_now();
		otmm_span_t req, db;
		otmm_span_start(&scope, name, OTMM_SPAN_KIND_SERVER, NULL, at, 4, NULL, 0, t0,
		                &req);
		otmm_link_t link = {prev, NULL, NULL, 0};
		int has_link = otmm_span_context_is_valid(&prev);
		otmm_attr_t dbat[] = {otmm_attr("db.system", otmm_str("sqlite")),
		                      otmm_attr("db.rows", otmm_int(i * 10))};
		otmm_span_start(&scope, "SELECT items", OTMM_SPAN_KIND_CLIENT, &req.ctx, dbat, 2,
		                has_link ? &link : NULL, has_link ? 1 : 0, t0 + 1000, &db);
		otmm_attr_t evat[] = {otmm_attr("cache.hit", otmm_bool(i % 2 == 0))};
		otmm_span_add_event(&db, "cache.lookup", t0 + 1500, evat, 1);
		otmm_span_end(&db, t0 + 2000);
		double ms = (double)(i % 7) * 3.5;
		if (i % 5 == 4) {
			otmm_span_set_status(&req, OTMM_STATUS_ERROR, "upstream timeout");
			errors++;
		}
		otmm_span_end(&req, t0 + 5000);
		snprintf(attrs, sizeof(attrs),
		         "\"http.request.method\": \"GET\", \"http.route\": \"%s\", \"iteration\": "
		         "%ld, \"sampled\": true",
		         route, i);
		print_span(&req, name, 2, NULL, t0, t0 + 5000, attrs, "", i == 0);
		snprintf(attrs, sizeof(attrs), "\"db.system\": \"sqlite\", \"db.rows\": %ld",
		         i * 10);
		if (has_link) {
			char lt[33], ls[17];
			hex(prev.trace_id, 16, lt);
			hex(prev.span_id, 8, ls);
			snprintf(links, sizeof(links),
			         "{\"trace_id\": \"%s\", \"span_id\": \"%s\"}", lt, ls);
		}
		print_span(&db, "SELECT items", 3, req.ctx.span_id, t0 + 1000, t0 + 2000, attrs,
		           links, 0);
		prev = req.ctx;

		otmm_log_record_t r = {.time_unix_nano = t0 + 3000,
		                       .severity_number = i % 5 == 4 ? 17 : 9,
		                       .severity_text = i % 5 == 4 ? "ERROR" : "INFO",
		                       .body = otmm_str("request handled"),
		                       .span_context = &req.ctx,
		                       .attrs = at + 1,
		                       .n_attrs = 1};
		otmm_log_emit(&scope, &r);
		char tid[33], sid[17], dsid[17];
		hex(req.ctx.trace_id, 16, tid);
		hex(req.ctx.span_id, 8, sid);
		hex(db.ctx.span_id, 8, dsid);
		loglen += (size_t)snprintf(
		    logs + loglen, logcap - loglen,
		    "%s\n    {\"time_unix_nano\": %" PRIu64 ", \"event_name\": \"cache.lookup\", "
		    "\"severity_number\": 0, \"trace_id\": \"%s\", \"span_id\": \"%s\", "
		    "\"attributes\": {\"cache.hit\": %s}},"
		    "\n    {\"time_unix_nano\": %" PRIu64 ", \"severity_number\": %d, "
		    "\"severity_text\": \"%s\", \"body\": \"request handled\", \"trace_id\": "
		    "\"%s\", \"span_id\": \"%s\", \"attributes\": {\"http.route\": \"%s\"}}",
		    i ? "," : "", t0 + 1500, tid, dsid, i % 2 == 0 ? "true" : "false", t0 + 3000,
		    r.severity_number, r.severity_text, tid, sid, route);

		otmm_attr_t mat[] = {otmm_attr("http.route", otmm_str(route))};
		otmm_record_i64(&requests, 1, mat, 1);
		otmm_record_f64(&duration, ms, mat, 1);
		otmm_record_i64(&depth, i, NULL, 0);
		otmm_record_i64(&active, 1, NULL, 0);
		otmm_record_i64(&active, -1, NULL, 0);
		route_count[i % 3]++;
		dsum += ms;
		int b = 0;
		while (b < 5 && ms > bounds[b])
			b++;
		buckets[b]++;
	}
	printf("\n  ],\n  \"logs\": [%s\n  ],\n", logs);
	free(logs);
	printf("  \"metrics\": [\n");
	printf("    {\"name\": \"example.requests\", \"type\": \"counter\", \"unit\": \"1\", "
	       "\"points\": [");
	for (int k = 0; k < 3 && k < count; k++)
		printf("%s{\"attributes\": {\"http.route\": \"/items/%d\"}, \"sum\": %ld}",
		       k ? ", " : "", k, route_count[k]);
	printf(
	    "]},\n    {\"name\": \"example.duration\", \"type\": \"histogram\", \"unit\": "
	    "\"ms\", \"bounds\": [1, 5, 10, 50, 100], \"total\": {\"count\": %ld, \"sum\": %.1f, "
	    "\"bucket_counts\": [%ld, %ld, %ld, %ld, %ld, %ld]}},\n",
	    count, dsum, buckets[0], buckets[1], buckets[2], buckets[3], buckets[4], buckets[5]);
	printf("    {\"name\": \"example.queue_depth\", \"type\": \"gauge\", \"unit\": \"1\", "
	       "\"points\": [{\"attributes\": {}, \"value\": %ld}]},\n",
	       count ? count - 1 : 0);
	printf("    {\"name\": \"example.active\", \"type\": \"updowncounter\", \"unit\": \"1\", "
	       "\"points\": [{\"attributes\": {}, \"sum\": 0}]}\n  ],\n");
	otmm_stats_t st;
	otmm_stats(m, &st);
	printf("  \"errors\": %ld, \"dropped\": [%" PRIu64 ", %" PRIu64 ", %" PRIu64 "]\n}\n",
	       errors, st.dropped[0], st.dropped[1], st.dropped[2]);
	otmm_close(m);
	return 0;
}
