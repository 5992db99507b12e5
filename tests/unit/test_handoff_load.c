/* When a worker counts as saturated for the hand-off between workers
 * (src/engine/handoff.c, otf_node_handoff_peer with OTFLOW_HANDOFF
 * unset). A connection's worker that shares its core with other runnable
 * threads (the client, other processes) is the bottleneck although its
 * CPU share stays far below a core: here it shares one core with two
 * spinning threads, so it runs about a third of the time and waits to
 * run the rest. It must still hand requests to an idle peer in nearly
 * every load window (it did in almost none while the load was its CPU
 * time alone). A peer just as loaded takes nothing, a worker that takes
 * requests from another hands none of its own away, and a worker that
 * mostly sleeps keeps its requests (it is not saturated, whatever the
 * machine's load makes it wait for each wake-up). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine/engine_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define WINDOWS 20 /* load windows (>= 5 ms each) judged per case */

static _Atomic bool g_spin;
static cpu_set_t g_cpu;

static void *spinner(void *arg)
{
	(void)arg;
	pthread_setaffinity_np(pthread_self(), sizeof g_cpu, &g_cpu);
	volatile uint64_t x = 0;
	while (atomic_load_explicit(&g_spin, memory_order_relaxed))
		x++;
	return NULL;
}

typedef struct {
	otf_engine_t e;
	otf_worker_t w[2];
	otf_node_t node;
} fake_t;

/* Two workers; the calling thread plays worker 0, whose node asks. */
static fake_t *fake_new(void)
{
	fake_t *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->e.workers = f->w;
	f->e.workers_len = 2;
	for (int i = 0; i < 2; i++) {
		f->w[i].engine = &f->e;
		f->w[i].index = i;
	}
	f->node.worker = &f->w[0];
	return f;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Asks for a peer until WINDOWS new load windows were sampled (the first
 * two skipped: the first has no history); returns in how many of them
 * the answer was worker 1. peer_busy: worker 1's published load (0: an
 * idle peer). nap_us: sleep between the asks (0: ask back to back).
 * taking: worker 0 is itself being handed requests (just chosen as a
 * peer by another worker before each ask). */
static int handed_windows(fake_t *f, uint32_t peer_busy, unsigned nap_us, bool taking)
{
	uint64_t last = 0, deadline = now_ns() + 20000000000ull;
	int seen = -2, handed = 0;
	while (seen < WINDOWS) {
		if (now_ns() > deadline)
			fail_msg("only %d load windows sampled in 20 s", seen);
		atomic_store(&f->w[1].busy_pm, peer_busy);
		atomic_store(&f->w[1].busy_at, uv_hrtime());
		if (taking) /* chosen again and again: ahead of now, so that waiting
		             * for the core before the ask cannot make it old */
			atomic_store(&f->w[0].taken_at, uv_hrtime() + 1000000000ull);
		int peer = otf_node_handoff_peer(&f->node);
		uint64_t at = atomic_load(&f->w[0].busy_at);
		if (at != last) {
			last = at;
			if (seen++ >= 0 && peer == 1)
				handed++;
		}
		if (nap_us)
			usleep(nap_us);
	}
	return handed;
}

static void pin_here(void)
{
	CPU_ZERO(&g_cpu);
	int cpu = sched_getcpu();
	CPU_SET(cpu < 0 ? 0 : cpu, &g_cpu);
	assert_int_equal(pthread_setaffinity_np(pthread_self(), sizeof g_cpu, &g_cpu), 0);
}

static void unpin(void)
{
	cpu_set_t all;
	CPU_ZERO(&all);
	for (int i = 0; i < CPU_SETSIZE; i++)
		CPU_SET(i, &all);
	pthread_setaffinity_np(pthread_self(), sizeof all, &all);
}

/* Sharing one core with two spinners: saturated, handed to the idle
 * peer; not to a peer just as loaded, and not while it takes requests
 * from another worker itself. */
static void test_contended_worker_hands_off(void **state)
{
	(void)state;
	pin_here();
	atomic_store(&g_spin, true);
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, spinner, NULL), 0);
	fake_t *f = fake_new();
	int idle_peer = handed_windows(f, 0, 0, false);
	int busy_peer = handed_windows(f, 1000, 0, false);
	int taking = handed_windows(f, 0, 0, true);
	atomic_store(&g_spin, false);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	unpin();
	fprintf(stderr,
	        "contended: handed in %d of %d windows (idle peer), %d (busy peer), %d (while "
	        "taking others' requests); last cpu %u per mille, demand %u\n",
	        idle_peer, WINDOWS, busy_peer, taking, atomic_load(&f->w[0].busy_pm),
	        f->w[0].demand_pm);
	otf__worker_load_close(&f->w[0]);
	free(f);
	if (idle_peer < WINDOWS * 3 / 4)
		fail_msg("a worker waiting for its core handed off in only %d of %d windows",
		         idle_peer, WINDOWS);
	/* A window may see the peer's load as stale (older than 100 ms,
	 * as if that worker had stopped sampling) when this thread waited
	 * that long for its core between storing it and asking. */
	assert_true(busy_peer <= 2);
	/* Taking requests from another worker, it hands none of its own away
	 * (two saturated workers would trade requests back and forth). */
	assert_int_equal(taking, 0);
}

/* Mostly asleep (5 ms naps): not saturated, nothing handed off. */
static void test_sleeping_worker_keeps_requests(void **state)
{
	(void)state;
	fake_t *f = fake_new();
	int handed = handed_windows(f, 0, 5000, false);
	fprintf(stderr, "sleeping: handed in %d of %d windows; last cpu %u, demand %u\n", handed,
	        WINDOWS, atomic_load(&f->w[0].busy_pm), f->w[0].demand_pm);
	otf__worker_load_close(&f->w[0]);
	free(f);
	assert_true(handed <= 2);
}

int main(void)
{
	unsetenv("OTFLOW_HANDOFF"); /* the default policy */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_contended_worker_hands_off),
	    cmocka_unit_test(test_sleeping_worker_keeps_requests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
