/* Hand-off of complete requests between workers (otflow/component.h).
 *
 * Workers share nothing on the data path, so a connection's requests all
 * run on the worker that accepted it: one busy connection (one client,
 * many concurrent streams) keeps one core busy and leaves the others idle.
 * The connection itself cannot move (its socket, HTTP/2 state and
 * timers belong to its loop), but a request is complete at its message
 * boundary, and from there on only the node's instance matters: a
 * receiver posts the request to another worker's instance of the same
 * node (otf_node_post_worker), which runs it into that worker's pipeline
 * and posts the outcome back the same way.
 *
 * A post is a node index, a function and its argument in a FIFO per
 * worker, under the worker's async_lock and woken by its completions
 * handle (msg_async.c): one lock and at most one wake-up per post (none
 * while the handle is still pending), nothing shared per item. Load: each worker samples its thread's CPU share
 * and its demand (CPU time plus the time it was runnable but waiting for
 * a CPU, both from /proc/thread-self/schedstat, over >= 20 ms) whenever
 * it is asked for a peer or runs posts, and publishes its CPU share in
 * one relaxed atomic. A request is handed off only while its own worker
 * is saturated (demand >= 50% of the window, of which it ran >= 2%) and
 * another worker ran at least 1/16 less (and this one is not taking
 * requests from another itself), so an unloaded process keeps the
 * lower latency of staying on one loop, a saturated worker sheds what
 * another can take, and two evenly loaded workers hand nothing back and
 * forth. Saturation by demand, not by CPU time alone: on cores the
 * client (or anything else) shares, a worker with requests waiting is
 * preempted part of the time, and its CPU share stays far below a core
 * although it is the bottleneck (one connection's worker beside h2load
 * ran 0.3-0.5 of a core, which a ">= 50% CPU" test read as not busy, so
 * it kept most or all of its requests). The CPU floor keeps a worker that only
 * waits long for each of a few wake-ups (an overloaded machine, a low
 * rate) from counting as saturated. The comparison is by CPU share: the
 * work each worker actually did. */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct otf_peer_post {
	struct otf_peer_post *next;
	uint32_t node_index;
	otf_worker_fn fn;
	void *arg;
} otf_peer_post_t;

/* Windows of >= 20 ms: several scheduler slices of a loaded machine, so
 * one slice more or less does not swing a sample (5 ms ones did). */
#define LOAD_WINDOW_NS 20000000ull
#define LOAD_STALE_NS  100000000ull /* older: that worker sampled nothing since */
#define DEMAND_PM      500u         /* saturated: ran or waited to run, per mille */
#define CPU_FLOOR_PM   20u          /* ... of which it ran at least this */
/* A peer takes requests while it ran 1/16 less than this worker:
 * relative, because on shared cores both run far less than a core (an
 * absolute 10 points was most of their share, so the split stopped well
 * short of even). */
#define MARGIN_DIV 16u
/* Posts a peer has not taken yet (it is running its pipeline, or not
 * scheduled): beyond this, requests stay home. A bound for a peer stuck
 * in a blocking call; 4 and 16 capped one connection's 32 streams well
 * short of an even split while the peer ran less than the owner. */
#define MAX_WAITING 64u

enum { MODE_UNSET = -1, MODE_OFF = 0, MODE_AUTO = 1, MODE_ALWAYS = 2 };
static _Atomic int g_mode = MODE_UNSET;

static int mode(void)
{
	int m = atomic_load_explicit(&g_mode, memory_order_relaxed);
	if (m != MODE_UNSET)
		return m;
	const char *v = getenv("OTFLOW_HANDOFF");
	m = MODE_AUTO;
	if (v && (!strcmp(v, "0") || !strcmp(v, "off") || !strcmp(v, "false")))
		m = MODE_OFF;
	else if (v && !strcmp(v, "always"))
		m = MODE_ALWAYS;
	atomic_store_explicit(&g_mode, m, memory_order_relaxed);
	return m;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The calling worker thread's time on a CPU and time runnable on a run
 * queue (ns): /proc/thread-self/schedstat, opened once by the thread
 * itself and read with one pread per sample; CPU time alone (wait 0)
 * where that file is missing or fails. */
static void thread_times(otf_worker_t *w, uint64_t *cpu, uint64_t *wait)
{
	if (w->load_fd == 0) {
		int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
		w->load_fd = fd >= 0 ? fd + 1 : -1;
	}
	if (w->load_fd > 0) {
		char b[96];
		ssize_t n = pread(w->load_fd - 1, b, sizeof b - 1, 0);
		if (n > 0) {
			b[n] = 0;
			char *end;
			*cpu = strtoull(b, &end, 10);
			*wait = strtoull(end, NULL, 10);
			return;
		}
		close(w->load_fd - 1);
		w->load_fd = -1;
		w->load_t0 = 0; /* the next window starts on the other clock */
	}
	*cpu = thread_cpu_ns();
	*wait = 0;
}

static uint32_t per_mille(uint64_t part, uint64_t whole)
{
	return part >= whole ? 1000 : (uint32_t)(part * 1000 / whole);
}

void otf__worker_load_sample(otf_worker_t *w)
{
	uint64_t now = uv_hrtime();
	if (now - w->load_t0 < LOAD_WINDOW_NS)
		return;
	uint64_t cpu, run;
	thread_times(w, &cpu, &run);
	if (w->load_t0) {
		uint64_t span = now - w->load_t0;
		uint64_t used = cpu - w->load_cpu0, waited = run - w->load_run0;
		w->demand_pm = per_mille(used + waited, span);
		atomic_store_explicit(&w->busy_pm, per_mille(used, span), memory_order_relaxed);
		atomic_store_explicit(&w->busy_at, now, memory_order_relaxed);
	}
	w->load_t0 = now;
	w->load_cpu0 = cpu;
	w->load_run0 = run;
}

void otf__worker_load_close(otf_worker_t *w)
{
	if (w->load_fd > 0)
		close(w->load_fd - 1);
	w->load_fd = -1;
}

int otf_node_handoff_peer(otf_node_t *node)
{
	otf_worker_t *w = node->worker;
	otf_engine_t *e = w->engine;
	if (e->workers_len < 2)
		return -1;
	int m = mode();
	if (m == MODE_OFF)
		return -1;
	if (m == MODE_ALWAYS) {
		int i = (int)(w->rr++ % (uint32_t)e->workers_len);
		return i == w->index ? -1 : i;
	}
	otf__worker_load_sample(w);
	uint32_t mine = atomic_load_explicit(&w->busy_pm, memory_order_relaxed);
	if (w->demand_pm < DEMAND_PM || mine < CPU_FLOOR_PM)
		return -1;
	uint64_t now = uv_hrtime();
	/* A worker that takes requests from another does not hand its own
	 * away in the same window: two saturated workers (many connections)
	 * within the margin of each other would otherwise trade requests
	 * back and forth, paying the hop both ways for nothing. */
	if (now < atomic_load_explicit(&w->taken_at, memory_order_relaxed) + LOAD_WINDOW_NS)
		return -1;
	int best = -1;
	uint32_t best_busy = mine - mine / MARGIN_DIV;
	for (int i = 0; i < e->workers_len; i++) {
		otf_worker_t *o = &e->workers[i];
		if (o == w ||
		    atomic_load_explicit(&o->peer_queued, memory_order_relaxed) >= MAX_WAITING)
			continue;
		uint64_t at = atomic_load_explicit(&o->busy_at, memory_order_relaxed);
		uint32_t busy = now - at > LOAD_STALE_NS
		                    ? 0
		                    : atomic_load_explicit(&o->busy_pm, memory_order_relaxed);
		if (busy < best_busy) {
			best_busy = busy;
			best = i;
		}
	}
	if (best >= 0)
		atomic_store_explicit(&e->workers[best].taken_at, now, memory_order_relaxed);
	return best;
}

static int post_to(otf_worker_t *w, uint32_t node_index, otf_worker_fn fn, void *arg)
{
	otf_peer_post_t *p = otf_malloc(sizeof *p);
	if (!p)
		return OTF_E_NOMEM;
	p->next = NULL;
	p->node_index = node_index;
	p->fn = fn;
	p->arg = arg;
	pthread_mutex_lock(&w->async_lock);
	if (!w->async_open) {
		pthread_mutex_unlock(&w->async_lock);
		otf_free(p);
		return -ECANCELED;
	}
	if (w->peer_tail)
		w->peer_tail->next = p;
	else
		w->peer_head = p;
	w->peer_tail = p;
	atomic_fetch_add_explicit(&w->peer_queued, 1, memory_order_relaxed);
	uv_async_send(&w->completions);
	pthread_mutex_unlock(&w->async_lock);
	return 0;
}

int otf_node_post_worker(otf_node_t *node, int worker, otf_worker_fn fn, void *arg)
{
	otf_engine_t *e = node->worker->engine;
	if (worker < 0 || worker >= e->workers_len || !fn)
		return OTF_E_INVAL;
	/* A node a reload adds exists on every worker only once each has
	 * switched to the new DAG (reshape.c). */
	if (node->index >= atomic_load_explicit(&e->nodes_ready, memory_order_acquire))
		return -ECANCELED;
	return post_to(&e->workers[worker], node->index, fn, arg);
}

int otf__worker_post(otf_worker_t *w, otf_worker_fn fn, void *arg)
{
	return post_to(w, UINT32_MAX, fn, arg);
}

void otf__worker_peer_drain(otf_worker_t *w, bool closing)
{
	pthread_mutex_lock(&w->async_lock);
	otf_peer_post_t *p = w->peer_head;
	w->peer_head = w->peer_tail = NULL;
	pthread_mutex_unlock(&w->async_lock);
	if (p && !closing)
		otf__worker_load_sample(w);
	if (closing)
		otf__worker_load_close(w);
	while (p) {
		otf_peer_post_t *next = p->next;
		atomic_fetch_sub_explicit(&w->peer_queued, 1, memory_order_relaxed);
		/* The nodes are freed only after the loop ended, and posts
		 * stop before that (async_open). */
		if (p->node_index == UINT32_MAX) {
			/* The engine's own work (reshape.c). */
			p->fn(NULL, NULL, p->arg, closing ? -ECANCELED : 0);
			otf_free(p);
			p = next;
			continue;
		}
		otf_node_t *n = w->nodes[p->node_index];
		if (!closing && n->instance)
			p->fn(n->instance, n, p->arg, 0);
		else
			p->fn(NULL, n, p->arg, -ECANCELED);
		otf_free(p);
		p = next;
	}
}
