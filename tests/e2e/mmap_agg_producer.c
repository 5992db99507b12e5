/* mmap_agg_producer: writes known metric values into a format-1001 otlp-mmap file with libotmmap
 * (metrics aggregated in the file's cells), prints them as JSON on stdout, then either exits
 * (otmm_close) or, with --hold, stays alive until it is killed, so a test can SIGKILL it and
 * check that a reader still exports the last values (the flight-recorder promise).
 *
 * usage: mmap_agg_producer PATH [--hold] [--phases N]
 *   each phase p (1..N, 300 ms apart): counter "agg.requests" {route=/a} += 3*p, {route=/b} += p;
 *   double counter "agg.bytes" += 1.5*p; up-down counter "agg.active" += 2 then -1;
 *   gauge "agg.temperature" {room=lab} = 20 + p; histogram "agg.latency" (bounds 1, 10, 100)
 *   samples 0.5*p, 7, 42 * p, 1000. */
#include "otmm.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	int hold = 0;
	long phases = 2;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--hold"))
			hold = 1;
		else if (!strcmp(argv[i], "--phases") && i + 1 < argc)
			phases = strtol(argv[++i], NULL, 10);
		else
			path = argv[i];
	}
	if (!path || phases < 1 || phases > 100) {
		fprintf(stderr, "usage: mmap_agg_producer PATH [--hold] [--phases N]\n");
		return 2;
	}
	otmm_options_t o;
	otmm_options_init(&o);
	o.aggregate = 1;
	otmm_attr_t res[] = {otmm_attr("service.name", otmm_str("agg-producer"))};
	o.resource_attrs = res;
	o.n_resource_attrs = 1;
	otmm_t *m;
	int rc = otmm_open(path, &o, &m);
	if (rc < 0) {
		fprintf(stderr, "mmap_agg_producer: %s: %s\n", path, otmm_strerror(rc));
		return 1;
	}
	otmm_scope_t scope;
	otmm_instrument_t req, bytes, active, temp, lat;
	static const double bounds[] = {1, 10, 100};
	if (otmm_scope(m, "agg.test", "2.0", NULL, 0, &scope) < 0 ||
	    otmm_instrument_create(&scope, OTMM_COUNTER, "agg.requests", "requests", "1", 0, NULL,
	                           0, &req) < 0 ||
	    otmm_instrument_create(&scope, OTMM_COUNTER, "agg.bytes", "bytes", "By", 1, NULL, 0,
	                           &bytes) < 0 ||
	    otmm_instrument_create(&scope, OTMM_UP_DOWN_COUNTER, "agg.active", "in flight", "1", 0,
	                           NULL, 0, &active) < 0 ||
	    otmm_instrument_create(&scope, OTMM_GAUGE, "agg.temperature", "temperature", "Cel", 1,
	                           NULL, 0, &temp) < 0 ||
	    otmm_instrument_create(&scope, OTMM_HISTOGRAM, "agg.latency", "latency", "ms", 1,
	                           bounds, 3, &lat) < 0) {
		fprintf(stderr, "mmap_agg_producer: setup failed\n");
		otmm_close(m);
		return 1;
	}
	otmm_attr_t ra[] = {otmm_attr("route", otmm_str("/a"))};
	otmm_attr_t rb[] = {otmm_attr("route", otmm_str("/b"))};
	otmm_attr_t lab[] = {otmm_attr("room", otmm_str("lab"))};
	int64_t a = 0, b = 0, act = 0;
	double by = 0, t = 0, hsum = 0, hmin = 1e300, hmax = -1e300;
	uint64_t hb[4] = {0};
	for (long p = 1; p <= phases; p++) {
		if (p > 1)
			sleep_ms(300);
		otmm_record_i64(&req, 3 * p, ra, 1);
		otmm_record_i64(&req, p, rb, 1);
		a += 3 * p;
		b += p;
		otmm_record_f64(&bytes, 1.5 * (double)p, NULL, 0);
		by += 1.5 * (double)p;
		otmm_record_i64(&active, 2, NULL, 0);
		otmm_record_i64(&active, -1, NULL, 0);
		act += 1;
		t = 20.0 + (double)p;
		otmm_record_f64(&temp, t, lab, 1);
		double s[] = {0.5 * (double)p, 7, 42.0 * (double)p, 1000};
		for (int k = 0; k < 4; k++) {
			otmm_record_f64(&lat, s[k], NULL, 0);
			hsum += s[k];
			hmin = s[k] < hmin ? s[k] : hmin;
			hmax = s[k] > hmax ? s[k] : hmax;
			hb[s[k] <= 1 ? 0 : s[k] <= 10 ? 1 : s[k] <= 100 ? 2 : 3]++;
		}
	}
	printf("{\"sums\": {\"agg.requests|/a\": %" PRId64 ", \"agg.requests|/b\": %" PRId64
	       ", \"agg.bytes|\": %.17g, \"agg.active|\": %" PRId64 "},\n"
	       " \"gauges\": {\"agg.temperature|lab\": %.17g},\n"
	       " \"histogram\": {\"name\": \"agg.latency\", \"count\": %" PRIu64
	       ", \"sum\": %.17g, \"min\": %.17g, \"max\": %.17g, \"bounds\": [1, 10, 100], "
	       "\"bucket_counts\": [%" PRIu64 ", %" PRIu64 ", %" PRIu64 ", %" PRIu64 "]}}\n",
	       a, b, by, act, t, hb[0] + hb[1] + hb[2] + hb[3], hsum, hmin, hmax, hb[0], hb[1],
	       hb[2], hb[3]);
	fflush(stdout);
	if (hold)
		for (;;)
			sleep_ms(1000); /* until SIGKILL */
	otmm_close(m);
	return 0;
}
