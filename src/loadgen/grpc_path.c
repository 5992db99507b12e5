/* The load generator's gRPC path: one thread per connection, each with a
 * blocking h2c client (nghttp2, tests/support/h2_client.c) making unary
 * Export calls back to back, paced by a shared schedule. libcurl's HTTP/2
 * in Debian 12 (7.88) fails every second gRPC call ("Error in the HTTP2
 * framing layer"), so gRPC does not go through libcurl. */
#include "loadgen.h"

#include "h2_client.h"
#include "otflow/alloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct shared {
	const lg_options_t *o;
	const char *path;
	otf_buf_t *const *bodies;
	size_t n_bodies;
	int port;
	double t0, end;
	_Atomic uint64_t next; /* request sequence numbers handed out */
	/* every thread connects before the schedule starts (t0), so that the
	 * first requests' latency is not the TCP and HTTP/2 handshake */
	pthread_barrier_t ready, go;
} shared_t;

typedef struct worker {
	shared_t *sh;
	pthread_t thread;
	lg_result_t res;
} worker_t;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void record(lg_result_t *r, double seconds)
{
	if (r->lat_len == r->lat_cap) {
		size_t ncap = r->lat_cap ? r->lat_cap * 2 : 1024;
		double *n = otf_realloc(r->lat, ncap * sizeof *n);
		if (!n)
			return;
		r->lat = n;
		r->lat_cap = ncap;
	}
	r->lat[r->lat_len++] = seconds;
}

static void trace(lg_result_t *r, double due, double sent, double done)
{
	if (r->trace_len + 3 > r->trace_cap) {
		size_t ncap = r->trace_cap ? r->trace_cap * 2 : 3072;
		double *n = otf_realloc(r->trace, ncap * sizeof *n);
		if (!n)
			return;
		r->trace = n;
		r->trace_cap = ncap;
	}
	r->trace[r->trace_len++] = due;
	r->trace[r->trace_len++] = sent;
	r->trace[r->trace_len++] = done;
}

static void *run(void *arg)
{
	worker_t *w = arg;
	shared_t *sh = w->sh;
	const lg_options_t *o = sh->o;
	const char *extra[] = {"grpc-encoding", "gzip", NULL};
	bool gz = !strcmp(o->compression, "gzip");
	h2_conn_t *c = h2_connect(sh->port);
	if (c) {
		h2_set_coalesce(c, true);
		/* the server's SETTINGS (its windows) before the first request */
		h2_pump(c, 20);
	}
	pthread_barrier_wait(&sh->ready);
	pthread_barrier_wait(&sh->go);
	/* --streams N: N calls submitted on the connection, then run until
	 * all closed (a wave); each call's latency ends with its wave. */
	uint32_t ns = o->streams ? o->streams : 1;
	h2_result_t *res = otf_calloc(ns, sizeof *res);
	double *t1 = otf_calloc(ns, sizeof *t1);
	double *ts = otf_calloc(ns, sizeof *ts); /* when sending began */
	bool stop = !res || !t1 || !ts;
	while (!stop) {
		uint32_t n = 0;
		bool broken = false;
		while (n < ns) {
			uint64_t seq = atomic_fetch_add(&sh->next, 1);
			if (o->max_requests && seq >= o->max_requests) {
				stop = true;
				break;
			}
			double due = o->rate > 0 ? sh->t0 + (double)(seq * o->batch) / o->rate : 0;
			double t = now_s();
			if (t >= sh->end || due >= sh->end) {
				stop = true;
				break;
			}
			if (due > t)
				usleep((useconds_t)((due - t) * 1e6));
			if (!c && (c = h2_connect(sh->port)))
				h2_set_coalesce(c, true);
			if (!c) {
				w->res.items_failed += o->batch;
				snprintf(w->res.last_error, sizeof w->res.last_error,
				         "cannot connect");
				usleep(10000);
				break;
			}
			otf_buf_t *b = sh->bodies[seq % sh->n_bodies];
			/* At a fixed rate the latency counts from the scheduled send
			 * time: a request that waited for a busy connection or a late
			 * wakeup waited in the client's queue, and leaving that out
			 * (coordinated omission) would hide exactly the stalls a tail
			 * figure is for. */
			ts[n] = now_s();
			t1[n] = o->rate > 0 ? due : ts[n];
			memset(&res[n], 0, sizeof res[n]);
			int32_t id = h2_submit(c, "POST", sh->path, "application/grpc",
			                       gz ? extra : NULL, b->data, b->len, &res[n]);
			n++;
			if (id <= 0) {
				broken = true;
				break;
			}
		}
		if (!n)
			continue;
		int rc = broken ? -1 : h2_run(c, 30000);
		double done = now_s();
		for (uint32_t k = 0; k < n; k++) {
			record(&w->res, done - t1[k]);
			if (o->trace_out)
				trace(&w->res, t1[k] - sh->t0, ts[k] - sh->t0, done - sh->t0);
			w->res.requests++;
			w->res.items_sent += o->batch;
			if (rc == 0 && res[k].http_status == 200 && res[k].grpc_status == 0) {
				w->res.items_acked += o->batch;
			} else {
				w->res.items_failed += o->batch;
				snprintf(w->res.last_error, sizeof w->res.last_error,
				         "HTTP %d, grpc-status %d %.180s", res[k].http_status,
				         res[k].grpc_status, res[k].grpc_message);
			}
			h2_result_free(&res[k]);
		}
		if (c && (rc || h2_eof(c))) {
			h2_close(c);
			c = NULL;
		}
	}
	otf_free(res);
	otf_free(t1);
	otf_free(ts);
	if (c)
		h2_close(c);
	lg_sched_add_self(&w->res);
	return NULL;
}

int lg_run_grpc(const lg_options_t *o, const char *path, otf_buf_t *const *bodies, size_t n_bodies,
                lg_result_t *out)
{
	const char *colon = strrchr(o->endpoint, ':');
	if (!colon) {
		fprintf(stderr, "otflow-loadgen: --endpoint must be HOST:PORT\n");
		return 2;
	}
	shared_t sh = {
	    .o = o, .path = path, .bodies = bodies, .n_bodies = n_bodies, .port = atoi(colon + 1)};
	atomic_init(&sh.next, 0);
	worker_t *w = otf_calloc(o->connections, sizeof *w);
	if (!w)
		return 1;
	pthread_barrier_init(&sh.ready, NULL, o->connections + 1);
	pthread_barrier_init(&sh.go, NULL, o->connections + 1);
	for (uint32_t i = 0; i < o->connections; i++) {
		w[i].sh = &sh;
		pthread_create(&w[i].thread, NULL, run, &w[i]);
	}
	pthread_barrier_wait(&sh.ready);
	sh.t0 = now_s();
	sh.end = sh.t0 + o->duration_s;
	out->t0 = sh.t0;
	pthread_barrier_wait(&sh.go);
	for (uint32_t i = 0; i < o->connections; i++) {
		pthread_join(w[i].thread, NULL);
		lg_result_t *r = &w[i].res;
		out->requests += r->requests;
		out->items_sent += r->items_sent;
		out->items_acked += r->items_acked;
		out->items_failed += r->items_failed;
		if (r->last_error[0])
			snprintf(out->last_error, sizeof out->last_error, "%s", r->last_error);
		for (size_t k = 0; k < r->lat_len; k++)
			record(out, r->lat[k]);
		otf_free(r->lat);
		for (size_t k = 0; k + 2 < r->trace_len; k += 3)
			trace(out, r->trace[k], r->trace[k + 1], r->trace[k + 2]);
		otf_free(r->trace);
		out->sched_cpu_ns += r->sched_cpu_ns;
		out->sched_wait_ns += r->sched_wait_ns;
		out->sched_slices += r->sched_slices;
	}
	otf_free(w);
	pthread_barrier_destroy(&sh.ready);
	pthread_barrier_destroy(&sh.go);
	return 0;
}
