/* otflow-loadgen: sends OTLP requests (gRPC or HTTP, protobuf) at a given
 * rate or as fast as possible over a number of connections, and reports
 * items sent, acknowledged and failed, and export-call latency percentiles
 * (at a fixed rate counted from each request's scheduled send time).
 * HTTP/1.1 comes from libcurl's multi interface (one connection per
 * concurrent request); gRPC from nghttp2 (grpc_path.c). */
#include "loadgen.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define N_PAYLOADS 16

typedef struct slot {
	CURL *easy;
	bool busy;
	double started;
} slot_t;

typedef struct run {
	lg_options_t o;
	otf_buf_t *bodies[N_PAYLOADS];
	struct curl_slist *headers;
	char url[512];
	lg_result_t res;
} run_t;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *p, size_t sz, size_t n, void *u)
{
	(void)p;
	(void)u;
	return sz * n;
}

static const char *const k_paths[][2] = {
    {"/v1/traces", "/opentelemetry.proto.collector.trace.v1.TraceService/Export"},
    {"/v1/metrics", "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"},
    {"/v1/logs", "/opentelemetry.proto.collector.logs.v1.LogsService/Export"},
};

static int prepare(run_t *r)
{
	bool gz = !strcmp(r->o.compression, "gzip");
	for (int i = 0; i < N_PAYLOADS; i++) {
		otf_buf_t *p;
		int rc = lg_build_payload(&r->o, (uint64_t)i + 1, &p);
		if (rc)
			return rc;
		if (gz) {
			otf_buf_t *z;
			rc = lg_gzip(p->data, p->len, &z);
			otf_buf_unref(p);
			if (rc)
				return rc;
			p = z;
		}
		if (r->o.grpc) {
			/* gRPC message: compressed flag + 4-byte big-endian length */
			otf_buf_t *f = otf_buf_create(p->len + 5);
			if (!f)
				return OTF_E_NOMEM;
			f->data[0] = gz ? 1 : 0;
			f->data[1] = (uint8_t)(p->len >> 24);
			f->data[2] = (uint8_t)(p->len >> 16);
			f->data[3] = (uint8_t)(p->len >> 8);
			f->data[4] = (uint8_t)p->len;
			memcpy(f->data + 5, p->data, p->len);
			f->len = p->len + 5;
			otf_buf_unref(p);
			p = f;
		}
		r->bodies[i] = p;
	}
	snprintf(r->url, sizeof r->url, "http://%s%s", r->o.endpoint,
	         k_paths[r->o.signal][r->o.grpc ? 1 : 0]);
	if (!r->o.grpc) {
		r->headers = curl_slist_append(NULL, "Content-Type: application/x-protobuf");
		if (gz)
			r->headers = curl_slist_append(r->headers, "Content-Encoding: gzip");
	}
	r->headers = curl_slist_append(r->headers, "Expect:");
	return 0;
}

/* due: the request's scheduled send time at a fixed rate, else 0 (now). */
static void start(run_t *r, CURLM *multi, slot_t *s, double due)
{
	otf_buf_t *b = r->bodies[r->res.requests % N_PAYLOADS];
	CURL *e = s->easy;
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, (const char *)&b->data[0]);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
	s->busy = true;
	/* latency from the scheduled send time (no coordinated omission): a
	 * request sent late because every connection was busy counts its wait */
	s->started = due > 0 ? due : now_s();
	r->res.requests++;
	r->res.items_sent += r->o.batch;
	curl_multi_add_handle(multi, e);
}

static void finish(run_t *r, CURLM *multi, CURLMsg *msg)
{
	slot_t *s;
	curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
	long code = 0;
	curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
	bool ok = msg->data.result == CURLE_OK && code == 200;
	if (ok) {
		r->res.items_acked += r->o.batch;
	} else {
		r->res.items_failed += r->o.batch;
		snprintf(r->res.last_error, sizeof r->res.last_error, "%s, HTTP %ld",
		         curl_easy_strerror(msg->data.result), code);
	}
	if (r->res.lat_len == r->res.lat_cap) {
		size_t ncap = r->res.lat_cap ? r->res.lat_cap * 2 : 4096;
		double *n = otf_realloc(r->res.lat, ncap * sizeof *n);
		if (n) {
			r->res.lat = n;
			r->res.lat_cap = ncap;
		}
	}
	if (r->res.lat_len < r->res.lat_cap)
		r->res.lat[r->res.lat_len++] = now_s() - s->started;
	curl_multi_remove_handle(multi, msg->easy_handle);
	s->busy = false;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const run_t *r, double p)
{
	if (!r->res.lat_len)
		return 0;
	size_t i = (size_t)ceil(p / 100.0 * (double)r->res.lat_len);
	return r->res.lat[i ? i - 1 : 0] * 1000.0;
}

static void usage(FILE *f)
{
	fputs("usage: otflow-loadgen [options]\n"
	      "  --signal traces|metrics|logs   (default logs)\n"
	      "  --protocol grpc|http           (default grpc)\n"
	      "  --endpoint HOST:PORT           (default localhost:4317 for grpc, 4318 for http)\n"
	      "  --rate ITEMS_PER_S             0 = as fast as possible (default 0)\n"
	      "  --duration SECONDS             (default 10)\n"
	      "  --requests N                   stop after N requests (default: duration only)\n"
	      "  --batch ITEMS                  items per request (default 1000)\n"
	      "  --connections N                concurrent requests/connections (default 1)\n"
	      "  --streams N                    gRPC: N concurrent calls on each connection,\n"
	      "                                 sent in waves of N (default 1)\n"
	      "  --compression none|gzip        (default none)\n"
	      "  --size BYTES                   approximate bytes per item (default 360)\n"
	      "  --json                         print the summary as JSON\n"
	      "  --latency-out FILE             write every latency (ms, ascending), one a line\n"
	      "  --trace-out FILE               gRPC: after a line \"# t0 S\" (the schedule's\n"
	      "                                 start, CLOCK_MONOTONIC seconds), one line per\n"
	      "                                 request, \"due sent done\"\n"
	      "                                 (ms from the schedule's start: when it was due,\n"
	      "                                 when its thread began sending it, when its\n"
	      "                                 response was in), in order of completion per\n"
	      "                                 connection\n"
	      "  --write-body FILE              write one request body (gRPC: with its 5-byte\n"
	      "                                 message prefix) to FILE and exit, for another\n"
	      "                                 client such as h2load -d FILE\n",
	      f);
}

static int parse(int argc, char **argv, lg_options_t *o)
{
	*o = (lg_options_t){.signal = OTF_SIGNAL_LOGS,
	                    .grpc = true,
	                    .duration_s = 10,
	                    .batch = 1000,
	                    .connections = 1,
	                    .streams = 1,
	                    .compression = "none",
	                    .size = 360};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--json")) {
			o->json_summary = true;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		}
		if (!v) {
			fprintf(stderr, "otflow-loadgen: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--signal")) {
			if (!strcmp(v, "traces"))
				o->signal = OTF_SIGNAL_TRACES;
			else if (!strcmp(v, "metrics"))
				o->signal = OTF_SIGNAL_METRICS;
			else if (!strcmp(v, "logs"))
				o->signal = OTF_SIGNAL_LOGS;
			else
				return fprintf(stderr, "otflow-loadgen: bad --signal %s\n", v), 2;
		} else if (!strcmp(a, "--protocol")) {
			if (strcmp(v, "grpc") && strcmp(v, "http"))
				return fprintf(stderr, "otflow-loadgen: bad --protocol %s\n", v), 2;
			o->grpc = !strcmp(v, "grpc");
		} else if (!strcmp(a, "--endpoint")) {
			o->endpoint = v;
		} else if (!strcmp(a, "--rate")) {
			o->rate = atof(v);
		} else if (!strcmp(a, "--duration")) {
			o->duration_s = atof(v);
		} else if (!strcmp(a, "--requests")) {
			o->max_requests = strtoull(v, NULL, 10);
		} else if (!strcmp(a, "--batch")) {
			o->batch = (uint32_t)strtoul(v, NULL, 10);
		} else if (!strcmp(a, "--connections")) {
			o->connections = (uint32_t)strtoul(v, NULL, 10);
		} else if (!strcmp(a, "--streams")) {
			o->streams = (uint32_t)strtoul(v, NULL, 10);
		} else if (!strcmp(a, "--compression")) {
			if (strcmp(v, "none") && strcmp(v, "gzip"))
				return fprintf(stderr, "otflow-loadgen: bad --compression %s\n", v),
				       2;
			o->compression = v;
		} else if (!strcmp(a, "--latency-out")) {
			o->latency_out = v;
		} else if (!strcmp(a, "--trace-out")) {
			o->trace_out = v;
		} else if (!strcmp(a, "--write-body")) {
			o->write_body = v;
		} else if (!strcmp(a, "--size")) {
			o->size = (uint32_t)strtoul(v, NULL, 10);
		} else {
			fprintf(stderr, "otflow-loadgen: unknown option %s\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (!o->endpoint)
		o->endpoint = o->grpc ? "localhost:4317" : "localhost:4318";
	if (!o->batch || !o->connections || o->connections > 1024 || o->duration_s <= 0) {
		fprintf(stderr,
		        "otflow-loadgen: --batch, --connections (1..1024) and --duration must "
		        "be positive\n");
		return 2;
	}
	if (!o->streams || o->streams > 1000 || (o->streams > 1 && !o->grpc)) {
		fprintf(stderr, "otflow-loadgen: --streams must be 1..1000 (gRPC only)\n");
		return 2;
	}
	return 0;
}

void lg_sched_add_self(lg_result_t *r)
{
	FILE *f = fopen("/proc/thread-self/schedstat", "r");
	unsigned long long cpu, wait, slices;
	if (!f)
		return;
	if (fscanf(f, "%llu %llu %llu", &cpu, &wait, &slices) == 3) {
		r->sched_cpu_ns += cpu;
		r->sched_wait_ns += wait;
		r->sched_slices += slices;
	}
	fclose(f);
}

static void report(run_t *r, double elapsed)
{
	lg_sched_add_self(&r->res); /* the main thread (all of the HTTP path) */
	qsort(r->res.lat, r->res.lat_len, sizeof *r->res.lat, cmp_double);
	double rate = elapsed > 0 ? (double)r->res.items_acked / elapsed : 0;
	if (r->o.json_summary) {
		printf("{\"requests\":%llu,\"items_sent\":%llu,\"items_acked\":%llu,"
		       "\"items_failed\":%llu,\"elapsed_s\":%.3f,\"acked_per_s\":%.1f,"
		       "\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,"
		       "\"max\":%.3f},\"sched\":{\"cpu_us\":%.0f,\"runq_us\":%.0f,"
		       "\"slices\":%llu}}\n",
		       (unsigned long long)r->res.requests, (unsigned long long)r->res.items_sent,
		       (unsigned long long)r->res.items_acked,
		       (unsigned long long)r->res.items_failed, elapsed, rate, pct(r, 50),
		       pct(r, 90), pct(r, 99), pct(r, 99.9), pct(r, 100),
		       (double)r->res.sched_cpu_ns / 1e3, (double)r->res.sched_wait_ns / 1e3,
		       (unsigned long long)r->res.sched_slices);
	} else {
		printf("requests:      %llu\nitems sent:    %llu\nitems acked:   %llu\n"
		       "items failed:  %llu\nelapsed:       %.3f s\nacked/s:       %.1f\n"
		       "latency ms:    p50 %.3f  p90 %.3f  p99 %.3f  p999 %.3f  max %.3f\n"
		       "client:        %.1f ms on CPU, %.1f ms waiting to run, %llu timeslices\n",
		       (unsigned long long)r->res.requests, (unsigned long long)r->res.items_sent,
		       (unsigned long long)r->res.items_acked,
		       (unsigned long long)r->res.items_failed, elapsed, rate, pct(r, 50),
		       pct(r, 90), pct(r, 99), pct(r, 99.9), pct(r, 100),
		       (double)r->res.sched_cpu_ns / 1e6, (double)r->res.sched_wait_ns / 1e6,
		       (unsigned long long)r->res.sched_slices);
	}
	if (r->res.items_failed)
		fprintf(stderr, "otflow-loadgen: last failure: %s\n", r->res.last_error);
	if (r->o.latency_out) {
		FILE *f = fopen(r->o.latency_out, "w");
		if (!f) {
			fprintf(stderr, "otflow-loadgen: cannot write %s\n", r->o.latency_out);
			return;
		}
		for (size_t i = 0; i < r->res.lat_len; i++)
			fprintf(f, "%.4f\n", r->res.lat[i] * 1000.0);
		fclose(f);
	}
	if (r->o.trace_out) {
		FILE *f = fopen(r->o.trace_out, "w");
		if (!f) {
			fprintf(stderr, "otflow-loadgen: cannot write %s\n", r->o.trace_out);
			return;
		}
		const double *t = r->res.trace;
		/* the start on CLOCK_MONOTONIC, to line the requests up with a
		 * trace of the machine (perf record -k CLOCK_MONOTONIC) */
		fprintf(f, "# t0 %.6f\n", r->res.t0);
		for (size_t i = 0; i + 2 < r->res.trace_len; i += 3)
			fprintf(f, "%.4f %.4f %.4f\n", t[i] * 1e3, t[i + 1] * 1e3, t[i + 2] * 1e3);
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	run_t r;
	memset(&r, 0, sizeof r);
	int rc = parse(argc, argv, &r.o);
	if (rc)
		return rc;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = prepare(&r);
	if (rc) {
		fprintf(stderr, "otflow-loadgen: cannot build payloads: %s\n", otf_strerror(rc));
		return 1;
	}
	if (r.o.write_body) {
		/* The same bytes this client sends (the first payload), so that
		 * an independent client measures the same requests. */
		FILE *f = fopen(r.o.write_body, "wb");
		const otf_buf_t *b = r.bodies[0]; /* gRPC: already with its prefix */
		bool ok = f && fwrite(b->data, 1, b->len, f) == b->len;
		if (f && fclose(f) != 0)
			ok = false;
		if (!ok)
			fprintf(stderr, "otflow-loadgen: cannot write %s\n", r.o.write_body);
		for (int i = 0; i < N_PAYLOADS; i++)
			otf_buf_unref(r.bodies[i]);
		curl_slist_free_all(r.headers);
		curl_global_cleanup();
		return ok ? 0 : 1;
	}
	if (r.o.grpc) {
		double t0 = now_s();
		rc = lg_run_grpc(&r.o, k_paths[r.o.signal][1], r.bodies, N_PAYLOADS, &r.res);
		if (!rc)
			report(&r, now_s() - t0);
		for (int i = 0; i < N_PAYLOADS; i++)
			otf_buf_unref(r.bodies[i]);
		curl_slist_free_all(r.headers);
		otf_free(r.res.lat);
		otf_free(r.res.trace);
		curl_global_cleanup();
		return rc ? rc : r.res.items_failed ? 1 : 0;
	}
	CURLM *multi = curl_multi_init();
	/* one connection per concurrent request: no HTTP/2 multiplexing */
	curl_multi_setopt(multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
	slot_t *slots = otf_calloc(r.o.connections, sizeof *slots);
	for (uint32_t i = 0; i < r.o.connections; i++)
		slots[i].easy = curl_easy_init();
	double t0 = now_s(), end = t0 + r.o.duration_s;
	uint32_t busy = 0;
	for (;;) {
		double t = now_s();
		bool more = t < end && (!r.o.max_requests || r.res.requests < r.o.max_requests);
		double next = r.o.rate > 0 ? t0 + (double)r.res.items_sent / r.o.rate : t;
		for (uint32_t i = 0; more && i < r.o.connections && next <= t; i++) {
			if (slots[i].busy)
				continue;
			start(&r, multi, &slots[i], r.o.rate > 0 ? next : 0);
			busy++;
			more = !r.o.max_requests || r.res.requests < r.o.max_requests;
			next = r.o.rate > 0 ? t0 + (double)r.res.items_sent / r.o.rate : t;
		}
		if (!more && !busy)
			break;
		int running;
		curl_multi_perform(multi, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(multi, &left))) {
			if (msg->msg == CURLMSG_DONE) {
				finish(&r, multi, msg);
				busy--;
			}
		}
		int wait_ms = 50;
		if (more && r.o.rate > 0 && next > t)
			wait_ms = (int)((next - t) * 1000.0) + 1 < 50
			              ? (int)((next - t) * 1000.0) + 1
			              : 50;
		else if (more && busy < r.o.connections)
			wait_ms = 0;
		if (wait_ms)
			curl_multi_poll(multi, NULL, 0, wait_ms, NULL);
	}
	report(&r, now_s() - t0);
	for (uint32_t i = 0; i < r.o.connections; i++)
		curl_easy_cleanup(slots[i].easy);
	otf_free(slots);
	curl_multi_cleanup(multi);
	curl_slist_free_all(r.headers);
	for (int i = 0; i < N_PAYLOADS; i++)
		otf_buf_unref(r.bodies[i]);
	otf_free(r.res.lat);
	curl_global_cleanup();
	return r.res.items_failed ? 1 : 0;
}
