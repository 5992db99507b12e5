/* libotmmap with 8 writer threads: nothing is lost when the ring is big enough (phase A), nor
 * when a concurrent reader drains a small ring and the spin bound is generous (phase B). Every
 * record is checked for content: each (thread, i) start exactly once with its attributes, every
 * end matching a start, every log and measurement present. */
#include "otmm.h"
#include "otmm_reader.h"
#include "otmm_test.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>

#define THREADS 8
#define SPANS   4000
#define LOGS    1000
#define ADDS    1000

static otmm_tracer_t tracer;
static otmm_instrument_t counter;

static void *writer(void *arg)
{
	int t = (int)(intptr_t)arg;
	char name[32];
	for (int i = 0; i < SPANS; i++) {
		snprintf(name, sizeof(name), "t%d-%d", t, i);
		otmm_attr_t at[] = {otmm_attr("thread", otmm_int(t)), otmm_attr("i", otmm_int(i)),
		                    otmm_attr("component", otmm_str("test")),
		                    otmm_attr("ok", otmm_bool(1))};
		otmm_span_t s;
		if (otmm_span_start(&tracer, name, OTMM_SPAN_KIND_INTERNAL, NULL, at, 4, NULL, 0, 0,
		                    &s) != 0 ||
		    otmm_span_end(&s, 0) != 0)
			return (void *)1;
		if (i < LOGS) {
			otmm_log_record_t r = {.severity_number = 9,
			                       .body = otmm_int(t * 100000 + i)};
			if (otmm_log_emit(&tracer, &r) != 0)
				return (void *)1;
		}
		if (i < ADDS && otmm_record_i64(&counter, t * 100000 + i, NULL, 0) != 0)
			return (void *)1;
	}
	return NULL;
}

struct tally {
	uint8_t started[THREADS][SPANS];
	uint64_t start_ids[THREADS * SPANS], end_ids[THREADS * SPANS];
	long n_start, n_end, n_bad;
	uint8_t logs[THREADS][LOGS], adds[THREADS][ADDS];
	const rd_file_t *f;
};

static void on_span(const uint8_t *m, size_t n, void *arg)
{
	struct tally *ta = arg;
	rd_field_t st, fl, av;
	uint64_t id = 0;
	if (rd_get(m, n, 2, &fl) && fl.n == 8)
		memcpy(&id, fl.p, 8);
	if (rd_get(m, n, 11, &st)) {
		int64_t t = -1, i = -1;
		if (rd_attr(ta->f, st.p, st.n, 9, "thread", &av) && rd_get(av.p, av.n, 3, &fl))
			t = (int64_t)fl.v;
		if (rd_attr(ta->f, st.p, st.n, 9, "i", &av) && rd_get(av.p, av.n, 3, &fl))
			i = (int64_t)fl.v;
		char want[32];
		snprintf(want, sizeof(want), "t%d-%d", (int)t, (int)i);
		if (t < 0 || t >= THREADS || i < 0 || i >= SPANS || !rd_get(st.p, st.n, 5, &fl) ||
		    fl.n != strlen(want) || memcmp(fl.p, want, fl.n) != 0 ||
		    !rd_attr(ta->f, st.p, st.n, 9, "component", &av) ||
		    ta->n_start >= THREADS * SPANS) {
			ta->n_bad++;
			return;
		}
		ta->started[t][i]++;
		ta->start_ids[ta->n_start++] = id;
	} else if (rd_get(m, n, 12, &st) && ta->n_end < THREADS * SPANS) {
		ta->end_ids[ta->n_end++] = id;
	} else {
		ta->n_bad++;
	}
}

static void on_log(const uint8_t *m, size_t n, void *arg)
{
	struct tally *ta = arg;
	rd_field_t av, fl;
	if (rd_get(m, n, 5, &av) && rd_get(av.p, av.n, 3, &fl) && fl.v % 100000 < LOGS &&
	    fl.v / 100000 < THREADS)
		ta->logs[fl.v / 100000][fl.v % 100000]++;
	else
		ta->n_bad++;
}

static void on_measurement(const uint8_t *m, size_t n, void *arg)
{
	struct tally *ta = arg;
	rd_field_t fl;
	if (rd_get(m, n, 4, &fl) && fl.v % 100000 < ADDS && fl.v / 100000 < THREADS)
		ta->adds[fl.v / 100000][fl.v % 100000]++;
	else
		ta->n_bad++;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void verify(struct tally *ta, const otmm_t *m)
{
	CHECK_EQ(ta->n_bad, 0);
	CHECK_EQ(ta->n_start, THREADS * SPANS);
	CHECK_EQ(ta->n_end, THREADS * SPANS);
	int once = 1;
	for (int t = 0; t < THREADS; t++) {
		for (int i = 0; i < SPANS; i++)
			once &= ta->started[t][i] == 1;
		for (int i = 0; i < LOGS; i++)
			once &= ta->logs[t][i] == 1;
		for (int i = 0; i < ADDS; i++)
			once &= ta->adds[t][i] == 1;
	}
	CHECK(once);
	qsort(ta->start_ids, (size_t)ta->n_start, 8, cmp_u64);
	qsort(ta->end_ids, (size_t)ta->n_end, 8, cmp_u64);
	CHECK(ta->n_start == ta->n_end &&
	      memcmp(ta->start_ids, ta->end_ids, 8 * (size_t)ta->n_start) == 0);
	int unique = 1;
	for (long k = 1; k < ta->n_start; k++)
		unique &= ta->start_ids[k] != ta->start_ids[k - 1];
	CHECK(unique);
	otmm_stats_t s;
	otmm_stats(m, &s);
	CHECK_EQ(s.dropped[0] + s.dropped[1] + s.dropped[2], 0);
}

static void run_writers(void)
{
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, writer, (void *)(intptr_t)t);
	long failed = 0;
	for (int t = 0; t < THREADS; t++) {
		void *rv;
		pthread_join(th[t], &rv);
		failed += rv != NULL;
	}
	CHECK_EQ(failed, 0);
}

static otmm_t *open_file(const char *path, uint32_t span_slots, uint32_t other_slots,
                         uint32_t spin_ns)
{
	otmm_options_t o;
	otmm_options_init(&o);
	o.spans_slots = span_slots;
	o.events_slots = o.measurements_slots = other_slots;
	o.events_slot_size = o.spans_slot_size = o.measurements_slot_size = 256;
	o.spin_ns = spin_ns;
	otmm_t *m = NULL;
	CHECK_EQ(otmm_open(path, &o, &m), 0);
	CHECK_EQ(otmm_scope(m, "threads", NULL, NULL, 0, &tracer), 0);
	CHECK_EQ(
	    otmm_instrument_create(&tracer, OTMM_COUNTER, "adds", NULL, NULL, 0, NULL, 0, &counter),
	    0);
	return m;
}

static struct tally tally;

/* phase A: rings hold everything; read after the writers are done */
static void phase_big_ring(void)
{
	const char *path = t_path("big.mmap");
	otmm_t *m = open_file(path, 65536, 16384, 5000);
	run_writers();
	rd_file_t f;
	CHECK_EQ(rd_open(path, &f), 0);
	memset(&tally, 0, sizeof(tally));
	tally.f = &f;
	CHECK_EQ(rd_ring_each(&f, 1, on_span, &tally), 2 * THREADS * SPANS);
	CHECK_EQ(rd_ring_each(&f, 0, on_log, &tally), THREADS * LOGS);
	CHECK_EQ(rd_ring_each(&f, 2, on_measurement, &tally), THREADS * ADDS);
	verify(&tally, m);
	rd_close(&f);
	otmm_close(m);
}

/* phase B: small rings drained by a concurrent reader thread */
static atomic_int writers_done;
static uint8_t *rw_map;

static void *drainer(void *arg)
{
	(void)arg;
	for (;;) {
		int done = atomic_load(&writers_done);
		long got = rd_ring_drain(rw_map, 1, on_span, &tally) +
		           rd_ring_drain(rw_map, 0, on_log, &tally) +
		           rd_ring_drain(rw_map, 2, on_measurement, &tally);
		if (done && got == 0)
			return NULL;
	}
}

static void phase_drained(void)
{
	const char *path = t_path("drained.mmap");
	otmm_t *m = open_file(path, 1024, 256, 2000000000u);
	rd_file_t f;
	CHECK_EQ(rd_open(path, &f), 0);
	int fd = open(path, O_RDWR);
	rw_map = mmap(NULL, f.len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	memset(&tally, 0, sizeof(tally));
	tally.f = &f;
	pthread_t dr;
	pthread_create(&dr, NULL, drainer, NULL);
	run_writers();
	atomic_store(&writers_done, 1);
	pthread_join(dr, NULL);
	verify(&tally, m);
	munmap(rw_map, f.len);
	rd_close(&f);
	otmm_close(m);
}

int main(void)
{
	phase_big_ring();
	phase_drained();
	return t_done();
}
