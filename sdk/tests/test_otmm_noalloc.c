/* No allocation after otmm_open: this executable replaces malloc & co. (glibc lets a program
 * interpose them; every allocation in the process, libc's own included, comes here) and counts
 * calls while 4 threads write spans, span events, logs and metrics (version 1 and 1001, with new
 * dictionary keys and file growth on the way). Then every allocation fails ("out of memory")
 * and the same workload must still succeed. Under AddressSanitizer (which owns malloc) the
 * workload runs without the count. */
#include "otmm.h"
#include "otmm_test.h"

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_INTERPOSE 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define NO_INTERPOSE 1
#endif

static atomic_long n_alloc __attribute__((unused));
static atomic_int counting, failing;

#ifndef NO_INTERPOSE
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t sz);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t a, size_t n);
extern void __libc_free(void *p);

static int hook(void)
{
	if (atomic_load_explicit(&counting, memory_order_relaxed))
		atomic_fetch_add(&n_alloc, 1);
	return atomic_load_explicit(&failing, memory_order_relaxed);
}
void *malloc(size_t n)
{
	return hook() ? NULL : __libc_malloc(n);
}
void *calloc(size_t n, size_t sz)
{
	return hook() ? NULL : __libc_calloc(n, sz);
}
void *realloc(void *p, size_t n)
{
	return hook() ? NULL : __libc_realloc(p, n);
}
void free(void *p)
{
	__libc_free(p);
}
void *aligned_alloc(size_t a, size_t n)
{
	return hook() ? NULL : __libc_memalign(a, n);
}
void *memalign(size_t a, size_t n)
{
	return hook() ? NULL : __libc_memalign(a, n);
}
int posix_memalign(void **out, size_t a, size_t n)
{
	if (hook())
		return 12; /* ENOMEM */
	*out = __libc_memalign(a, n);
	return *out ? 0 : 12;
}
#endif

#define THREADS 4
#define ROUNDS  1000

struct file {
	otmm_t *m;
	otmm_scope_t scope;
	otmm_instrument_t counter, hist, gauge, updown;
	otmm_series_t series;
};
static struct file files[2];
static pthread_barrier_t start_bar, end_bar;
static atomic_long errors;
static atomic_int phase; /* 0: count, 1: out of memory, 2: quit */

static void workload(int t, int round)
{
	char key[32];
	for (int k = 0; k < 2; k++) {
		struct file *f = &files[k];
		/* a new key every 100 rounds: dictionary appends during the workload */
		snprintf(key, sizeof(key), "key.%d.%d.%d", atomic_load(&phase), t, round / 100);
		otmm_attr_t at[] = {otmm_attr("http.method", otmm_str("GET")),
		                    otmm_attr("http.status_code", otmm_int(200)),
		                    otmm_attr("thread", otmm_int(t)),
		                    otmm_attr(key, otmm_double(1.5))};
		otmm_span_t s;
		long bad = 0;
		bad += otmm_span_start(&f->scope, "op", OTMM_SPAN_KIND_SERVER, NULL, at, 4, NULL, 0,
		                       0, &s) != 0;
		bad += otmm_span_add_event(&s, "evt", 0, at, 2) != 0;
		bad += otmm_span_set_attributes(&s, at + 2, 1) != 0;
		otmm_span_set_status(&s, OTMM_STATUS_ERROR, "x");
		bad += otmm_span_end(&s, 0) != 0;
		otmm_log_record_t r = {.severity_number = 9,
		                       .body = otmm_str("hello"),
		                       .span_context = &s.ctx,
		                       .attrs = at,
		                       .n_attrs = 4};
		bad += otmm_log_emit(&f->scope, &r) != 0;
		bad += otmm_record_i64(&f->counter, 1, at, 2) != 0;
		bad += otmm_record_f64(&f->hist, round % 300, at + 2, 1) != 0;
		bad += otmm_record_i64(&f->gauge, round, NULL, 0) != 0;
		bad += otmm_record_f64(&f->updown, -0.5, at + 3, 1) != 0;
		bad += otmm_series_record_i64(&f->series, 2) != 0;
		if (bad)
			atomic_fetch_add(&errors, bad);
	}
}

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;
	for (;;) {
		pthread_barrier_wait(&start_bar);
		if (atomic_load(&phase) == 2)
			return NULL;
		for (int i = 0; i < ROUNDS; i++)
			workload(t, i);
		pthread_barrier_wait(&end_bar);
	}
}

static void open_file(struct file *f, const char *path, int aggregate)
{
	otmm_options_t o;
	otmm_options_init(&o);
	/* rings hold the whole workload: errors would only mean drops */
	o.events_slots = o.spans_slots = o.measurements_slots = 65536;
	o.events_slot_size = o.spans_slot_size = o.measurements_slot_size = 256;
	o.dictionary_size = 4096; /* forces growth during the workload */
	o.aggregate = aggregate;
	otmm_attr_t res[] = {otmm_attr("service.name", otmm_str("noalloc"))};
	o.resource_attrs = res;
	o.n_resource_attrs = 1;
	CHECK_EQ(otmm_open(path, &o, &f->m), 0);
	CHECK_EQ(otmm_scope(f->m, "noalloc", "1", NULL, 0, &f->scope), 0);
	CHECK_EQ(otmm_instrument_create(&f->scope, OTMM_COUNTER, "c", NULL, NULL, 0, NULL, 0,
	                                &f->counter),
	         0);
	CHECK_EQ(otmm_instrument_create(&f->scope, OTMM_HISTOGRAM, "h", NULL, "ms", 1, NULL, 0,
	                                &f->hist),
	         0);
	CHECK_EQ(
	    otmm_instrument_create(&f->scope, OTMM_GAUGE, "g", NULL, NULL, 0, NULL, 0, &f->gauge),
	    0);
	CHECK_EQ(otmm_instrument_create(&f->scope, OTMM_UP_DOWN_COUNTER, "u", NULL, NULL, 1, NULL,
	                                0, &f->updown),
	         0);
	otmm_attr_t at[] = {otmm_attr("bound", otmm_bool(1))};
	CHECK_EQ(otmm_series_bind(&f->counter, at, 1, &f->series), 0);
}

static uint64_t total_written(void)
{
	uint64_t n = 0;
	for (int k = 0; k < 2; k++) {
		otmm_stats_t s;
		otmm_stats(files[k].m, &s);
		n += s.written[0] + s.written[1] + s.written[2];
	}
	return n;
}

int main(void)
{
	open_file(&files[0], t_path("v1.mmap"), 0);
	open_file(&files[1], t_path("agg.mmap"), 1);
	pthread_barrier_init(&start_bar, NULL, THREADS + 1);
	pthread_barrier_init(&end_bar, NULL, THREADS + 1);
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);

#ifndef NO_INTERPOSE
	/* the counter sees direct calls and libc's own (strdup allocates inside libc) */
	atomic_store(&counting, 1);
	char *volatile probe = strdup("probe");
	atomic_store(&counting, 0);
	free(probe);
	CHECK_EQ(atomic_load(&n_alloc), 1);
	atomic_store(&n_alloc, 0);
#endif
	/* phase 0: count allocations */
	uint64_t before = total_written();
	atomic_store(&counting, 1);
	pthread_barrier_wait(&start_bar);
	pthread_barrier_wait(&end_bar);
	atomic_store(&counting, 0);
	uint64_t after = total_written();
#ifdef NO_INTERPOSE
	printf("allocation count skipped (sanitizer owns malloc)\n");
#else
	long allocs = atomic_load(&n_alloc);
	printf("allocations during the workload: %ld (records written: %llu)\n", allocs,
	       (unsigned long long)(after - before));
	CHECK_EQ(allocs, 0);
#endif
	CHECK_EQ(atomic_load(&errors), 0);
	/* per round, v1: 3 span records + 2 events + 5 measurements; 1001: no measurements */
	CHECK_EQ(after - before, (uint64_t)THREADS * ROUNDS * 15);

	/* phase 1: out of memory, every allocation fails */
	atomic_store(&phase, 1);
	before = after;
	atomic_store(&failing, 1);
	pthread_barrier_wait(&start_bar);
	pthread_barrier_wait(&end_bar);
	atomic_store(&failing, 0);
	after = total_written();
	CHECK_EQ(atomic_load(&errors), 0);
	CHECK_EQ(after - before, (uint64_t)THREADS * ROUNDS * 15);

	atomic_store(&phase, 2);
	pthread_barrier_wait(&start_bar);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	for (int k = 0; k < 2; k++) {
		otmm_stats_t s;
		otmm_stats(files[k].m, &s);
		CHECK_EQ(s.dropped[0] + s.dropped[1] + s.dropped[2], 0);
		CHECK(s.dictionary_entries > 2 * THREADS * ROUNDS / 100);
		otmm_close(files[k].m);
	}
	pthread_barrier_destroy(&start_bar);
	pthread_barrier_destroy(&end_bar);
	return t_done();
}
