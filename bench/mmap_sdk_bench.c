/* libotmmap benchmark: nanoseconds per span (start + end, 4 attributes), per log record, per
 * counter add (version 1: a Measurement on the ring; format 1001: an atomic add in the file,
 * with attribute lookup and with a bound series), from 1 and 2 threads, with the bare ring write
 * of a span-start-sized record as the floor, and the number of allocations during the timed runs
 * (malloc & co. are interposed here and counted). Prints a markdown table.
 * The rings are kept from filling by the writers themselves: every 1024 operations a thread
 * moves reader_index to half a ring behind writer_index (slots that far back are long
 * published), so the figures are the producer's cost without a reader competing for the cores.
 * Times are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID) per operation, best of several rounds.
 * usage: mmap_sdk_bench [DIR (default /dev/shm)] [OPS per thread (default 500000)] */
#include "otmm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int otmm__ring_write(otmm_t *m, int ring, const uint8_t *rec, size_t len); /* internal */

static atomic_long n_alloc;
static __thread int in_op; /* count only calls made inside the measured operations */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t sz);
extern void *__libc_realloc(void *p, size_t n);
void *malloc(size_t n)
{
	if (in_op)
		atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
	return __libc_malloc(n);
}
void *calloc(size_t n, size_t sz)
{
	if (in_op)
		atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
	return __libc_calloc(n, sz);
}
void *realloc(void *p, size_t n)
{
	if (in_op)
		atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
	return __libc_realloc(p, n);
}

#define SLOTS 16384u
enum {
	OP_RING,
	OP_SPAN,
	OP_LOG,
	OP_ADD_V1,
	OP_ADD_V1_BOUND,
	OP_ADD_AGG,
	OP_ADD_AGG_BOUND,
	OP_HIST_AGG
};
static const char *op_names[] = {
    "ring write alone (floor, 120-byte record)",
    "span: start + end, 4 attributes (2 records)",
    "log record: body, severity, 2 attributes",
    "counter add, version 1 (Measurement on the ring), 1 attribute",
    "counter add, version 1, bound series",
    "counter add, in-file (format 1001), 1 attribute (lookup)",
    "counter add, in-file (format 1001), bound series",
    "histogram record, in-file (format 1001), bound series",
};

struct ctx {
	otmm_t *v1, *agg;
	otmm_scope_t s1, s2;
	otmm_instrument_t c1, c2, h2;
	otmm_series_t b1, b2, hb2;
	uint8_t rec[120];
};
static struct ctx C;

/* the thread's CPU time: the figures stay meaningful on a shared, loaded machine */
static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static _Atomic int64_t *ring_idx(const uint8_t *map, int ring, int which)
{
	int64_t off;
	memcpy(&off, map + 8 + 8 * ring, 8);
	return (_Atomic int64_t *)(uintptr_t)(map + off + 16 + 8 * which);
}

static const uint8_t *map_v1;

static const uint8_t *bench_map(const char *path)
{
	int fd = open(path, O_RDWR);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0)
		exit(1);
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		exit(1);
	return p;
}

static void advance(const uint8_t *map, int ring)
{
	_Atomic int64_t *r = ring_idx(map, ring, 0), *w = ring_idx(map, ring, 1);
	int64_t target = atomic_load(w) - SLOTS / 2;
	int64_t cur = atomic_load(r);
	while (cur < target && !atomic_compare_exchange_weak(r, &cur, target))
		;
}

static long run_op(int op, long n)
{
	long bad = 0;
	otmm_attr_t at[] = {otmm_attr("http.request.method", otmm_str("GET")),
	                    otmm_attr("http.route", otmm_str("/api/items")),
	                    otmm_attr("http.response.status_code", otmm_int(200)),
	                    otmm_attr("sampled", otmm_bool(1))};
	for (long i = 0; i < n; i++) {
		switch (op) {
		case OP_RING:
			bad += otmm__ring_write(C.v1, 1, C.rec, sizeof(C.rec)) != 0;
			break;
		case OP_SPAN: {
			otmm_span_t s;
			bad += otmm_span_start(&C.s1, "GET /api/items", OTMM_SPAN_KIND_SERVER, NULL,
			                       at, 4, NULL, 0, 0, &s) != 0;
			bad += otmm_span_end(&s, 0) != 0;
			break;
		}
		case OP_LOG: {
			otmm_log_record_t r = {.severity_number = 9,
			                       .body = otmm_str("request handled"),
			                       .attrs = at + 1,
			                       .n_attrs = 2};
			bad += otmm_log_emit(&C.s1, &r) != 0;
			break;
		}
		case OP_ADD_V1:
			bad += otmm_record_i64(&C.c1, 1, at + 1, 1) != 0;
			break;
		case OP_ADD_V1_BOUND:
			bad += otmm_series_record_i64(&C.b1, 1) != 0;
			break;
		case OP_ADD_AGG:
			bad += otmm_record_i64(&C.c2, 1, at + 1, 1) != 0;
			break;
		case OP_ADD_AGG_BOUND:
			bad += otmm_series_record_i64(&C.b2, 1) != 0;
			break;
		case OP_HIST_AGG:
			bad += otmm_series_record_f64(&C.hb2, (double)(i & 1023)) != 0;
			break;
		}
		if ((i & 255) == 255) {
			for (int r = 0; r < 3; r++)
				advance(map_v1, r);
		}
	}
	return bad;
}

struct job {
	int op;
	long n;
	pthread_barrier_t *bar;
	uint64_t ns;
	long bad;
};

static void *thread_main(void *arg)
{
	struct job *j = arg;
	pthread_barrier_wait(j->bar);
	uint64_t t0 = cpu_ns();
	in_op = 1;
	j->bad = run_op(j->op, j->n);
	in_op = 0;
	j->ns = cpu_ns() - t0;
	return NULL;
}

/* ns per op per thread, best of `rounds` */
static double measure(int op, int threads, long n, int rounds, long *bad)
{
	double best = 1e30;
	for (int r = 0; r < rounds; r++) {
		pthread_t th[2];
		struct job jobs[2];
		pthread_barrier_t bar;
		pthread_barrier_init(&bar, NULL, (unsigned)threads);
		for (int t = 0; t < threads; t++) {
			jobs[t] = (struct job){op, n, &bar, 0, 0};
			pthread_create(&th[t], NULL, thread_main, &jobs[t]);
		}
		double worst = 0;
		for (int t = 0; t < threads; t++) {
			pthread_join(th[t], NULL);
			double per = (double)jobs[t].ns / (double)n;
			if (per > worst)
				worst = per;
			*bad += jobs[t].bad;
		}
		pthread_barrier_destroy(&bar);
		if (worst < best)
			best = worst;
	}
	return best;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "mmap_sdk_bench: %s: %s\n", what, otmm_strerror(rc));
	exit(1);
}

int main(int argc, char **argv)
{
	/* a tmpfs by default: on a disk filesystem the kernel's writeback of the shared mapping
	 * adds page faults that belong to the file system, not to the SDK */
	const char *dir = argc > 1 ? argv[1] : "/dev/shm";
	long n = argc > 2 ? atol(argv[2]) : 500000;
	char p1[512], p2[512];
	snprintf(p1, sizeof(p1), "%s/otmm-bench-%d-v1.mmap", dir, (int)getpid());
	snprintf(p2, sizeof(p2), "%s/otmm-bench-%d-agg.mmap", dir, (int)getpid());
	otmm_options_t o;
	otmm_options_init(&o);
	o.events_slots = o.spans_slots = o.measurements_slots = SLOTS;
	o.spin_ns = 1000000; /* the writers keep the rings from filling; never drop in a run */
	otmm_attr_t res[] = {otmm_attr("service.name", otmm_str("bench"))};
	o.resource_attrs = res;
	o.n_resource_attrs = 1;
	int rc;
	if ((rc = otmm_open(p1, &o, &C.v1)) < 0)
		die(p1, rc);
	o.aggregate = 1;
	if ((rc = otmm_open(p2, &o, &C.agg)) < 0)
		die(p2, rc);
	/* the SDK does not expose its mapping: the bench maps the file again for the indices */
	map_v1 = bench_map(p1);
	otmm_attr_t route[] = {otmm_attr("http.route", otmm_str("/api/items"))};
	if (otmm_scope(C.v1, "bench", "1", NULL, 0, &C.s1) < 0 ||
	    otmm_scope(C.agg, "bench", "1", NULL, 0, &C.s2) < 0 ||
	    otmm_instrument_create(&C.s1, OTMM_COUNTER, "requests", NULL, "1", 0, NULL, 0, &C.c1) <
	        0 ||
	    otmm_instrument_create(&C.s2, OTMM_COUNTER, "requests", NULL, "1", 0, NULL, 0, &C.c2) <
	        0 ||
	    otmm_instrument_create(&C.s2, OTMM_HISTOGRAM, "duration", NULL, "ms", 1, NULL, 0,
	                           &C.h2) < 0 ||
	    otmm_series_bind(&C.c1, route, 1, &C.b1) < 0 ||
	    otmm_series_bind(&C.c2, route, 1, &C.b2) < 0 ||
	    otmm_series_bind(&C.h2, route, 1, &C.hb2) < 0)
		die("setup", -1);
	C.rec[0] = sizeof(C.rec) - 1; /* a length-delimited record of 119 bytes */
	memset(C.rec + 1, 0x5a, sizeof(C.rec) - 1);
	long bad = 0;
	run_op(OP_SPAN, 20000); /* warm up: keys interned, pages touched */
	run_op(OP_LOG, 20000);
	run_op(OP_ADD_V1, 20000);
	run_op(OP_ADD_AGG, 20000);
	long allocs0 = atomic_load(&n_alloc);
	double r1[8], r2[8];
	for (int op = 0; op < 8; op++) {
		r1[op] = measure(op, 1, n, 5, &bad);
		r2[op] = measure(op, 2, n, 3, &bad);
	}
	long allocs = atomic_load(&n_alloc) - allocs0;
	otmm_stats_t s1, s2;
	otmm_stats(C.v1, &s1);
	otmm_stats(C.agg, &s2);
	printf("| operation | 1 thread (ns/op) | 2 threads (ns/op per thread) |\n|---|---|---|\n");
	for (int op = 0; op < 8; op++)
		printf("| %s | %.1f | %.1f |\n", op_names[op], r1[op], r2[op]);
	printf(
	    "\n- allocations inside the measured calls: %ld (malloc/calloc/realloc interposed)\n",
	    allocs);
	printf("- failed calls: %ld; dropped records: %llu\n", bad,
	       (unsigned long long)(s1.dropped[0] + s1.dropped[1] + s1.dropped[2] + s2.dropped[0] +
	                            s2.dropped[1] + s2.dropped[2]));
	printf(
	    "- operations per measurement: %ld per thread; best of 5 (1 thread) or 3 (2 threads) "
	    "rounds\n",
	    n);
	otmm_close(C.v1);
	otmm_close(C.agg);
	remove(p1);
	remove(p2);
	return bad ? 1 : 0;
}
