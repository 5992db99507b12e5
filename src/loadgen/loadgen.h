/* otflow-loadgen: an OTLP load generator (like the Collector's
 * telemetrygen) for benchmarks and soak tests. */
#ifndef OTF_LOADGEN_H
#define OTF_LOADGEN_H

#include "otflow/buf.h"
#include "otflow/pdata.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lg_options {
	otf_signal_t signal;
	bool grpc;               /* --protocol grpc | http */
	const char *endpoint;    /* host:port */
	double rate;             /* items per second, 0 = as fast as possible */
	double duration_s;       /* seconds */
	uint64_t max_requests;   /* 0 = until duration */
	uint32_t batch;          /* items per request */
	uint32_t connections;    /* concurrent requests, one connection each */
	uint32_t streams;        /* gRPC: concurrent calls per connection (waves) */
	const char *compression; /* none | gzip */
	uint32_t size;           /* approximate bytes per item */
	bool json_summary;       /* print the summary as one JSON object */
	const char *latency_out; /* --latency-out FILE: every latency, ms, sorted */
	const char *trace_out;   /* --trace-out FILE: due, sent, done of each request (gRPC) */
	const char *write_body;  /* write one request body here and exit (for other clients) */
} lg_options_t;

/* Builds one Export*ServiceRequest of opt->batch items of about opt->size
 * bytes each, semantic-convention style. seq makes ids unique per request. */
int lg_build_payload(const lg_options_t *opt, uint64_t seq, otf_buf_t **out);

/* Outcome of a run. */
typedef struct lg_result {
	uint64_t requests, items_sent, items_acked, items_failed;
	double *lat; /* seconds per export call */
	size_t lat_len, lat_cap;
	/* --trace-out: (due, sent, done) per request, s from the schedule's
	 * start: when it was due, when its thread began sending it (after
	 * its sleep), when its response was in */
	double *trace;
	size_t trace_len, trace_cap; /* doubles, 3 per request */
	double t0;                   /* the schedule's start, CLOCK_MONOTONIC s */
	/* /proc/thread-self/schedstat of threads that ended (ns on CPU, ns
	 * waiting on a run queue, timeslices), so the summary can say how
	 * long the client itself waited to run */
	uint64_t sched_cpu_ns, sched_wait_ns, sched_slices;
	char last_error[256];
} lg_result_t;

/* Adds the calling thread's schedstat to r (Linux; nothing elsewhere). */
void lg_sched_add_self(lg_result_t *r);

/* The gRPC path (grpc_path.c): bodies are gRPC-framed requests for path
 * (/opentelemetry.proto.collector.<signal>.v1.<Service>/Export). The
 * endpoint must be on this machine (127.0.0.1:PORT). */
int lg_run_grpc(const lg_options_t *o, const char *path, otf_buf_t *const *bodies, size_t n_bodies,
                lg_result_t *out);

/* gzip of data into a new buffer. */
int lg_gzip(const uint8_t *data, size_t len, otf_buf_t **out);

#endif
