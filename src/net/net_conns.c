/* Connection accounting per loop, shared by every server on that loop
 * (HTTP/1.1 and gRPC, every receiver): a cap on the connections a worker
 * keeps open, derived from RLIMIT_NOFILE, so that accepting never runs the
 * process out of descriptors; eviction of the connection idle the longest
 * when a new one arrives at the cap; accept paused (not spinning) while
 * nothing can be evicted; and what to do when accept fails with EMFILE
 * anyway (descriptors taken by something else).
 *
 * Why per loop: connections live and die on their worker's loop, so the
 * list needs no lock; the process budget is split evenly between loops
 * (otf_net_connection_cap). */
#include "net/net_internal.h"

#include "otflow/alloc.h"
#include "otflow/bufpool.h"
#include "otflow/engine.h"
#include "otflow/net.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct otf__net_conns {
	otf__net_conns_t *next; /* registry of loops (lock) */
	uv_loop_t *loop;
	unsigned refs;
	uint32_t n;                               /* connections counted */
	otf__net_link_t *head, *tail;             /* least recently active first */
	otf__net_waiter_t *wait_head, *wait_tail; /* listeners paused at the cap */
	/* While listeners are paused: retries eviction, since a busy
	 * connection becoming idle frees no slot by itself. */
	uv_timer_t retry;
	bool retry_init;
	/* Large request buffers of the loop's servers (otf__net_conns_pool). */
	otf_bufpool_t *pool;
};

#define RETRY_MS 50

static pthread_mutex_t loops_lock = PTHREAD_MUTEX_INITIALIZER;
static otf__net_conns_t *loops;
static _Atomic uint32_t loop_cap = UINT32_MAX;
static _Atomic int warned_cap, warned_emfile;
/* A descriptor held back for EMFILE: closing it makes room to accept one
 * pending connection and close it at once (lock: loops_lock). */
static int reserve_fd = -1;

void otf_net_set_loop_connection_cap(uint32_t cap)
{
	atomic_store(&loop_cap, cap ? cap : UINT32_MAX);
}

uint32_t otf_net_loop_connection_cap(void)
{
	return atomic_load(&loop_cap);
}

int otf_net_raise_nofile(uint64_t *limit)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	int rc = 0;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit want = {rl.rlim_max, rl.rlim_max};
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			rl.rlim_cur = rl.rlim_max;
		else
			rc = -errno;
	}
	if (limit)
		*limit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
	return rc;
}

uint32_t otf_net_connection_cap(uint64_t nofile, uint32_t loops_n, uint32_t max_total)
{
	if (!loops_n)
		loops_n = 1;
	/* Descriptors that are not connections: loops (epoll, eventfd, libuv's
	 * own reserve), listeners and one pending accept per listener, exporter
	 * sockets, files, the config, stdio. A fixed part covers a small
	 * deployment, the proportional part grows with what it can afford. */
	uint64_t reserve = OTF_NET_FD_RESERVE + nofile / 16;
	uint64_t budget = nofile > reserve ? nofile - reserve : 0;
	if (max_total && max_total < budget)
		budget = max_total;
	uint64_t cap = budget / loops_n;
	/* Without a configured total, no more than the old per-server default
	 * per loop: each connection holds a read buffer, and a hard limit of a
	 * million descriptors is no reason to keep 300k idle clients. */
	if (!max_total && cap > OTF_NET_DEFAULT_LOOP_CONNECTIONS)
		cap = OTF_NET_DEFAULT_LOOP_CONNECTIONS;
	if (cap < 1)
		cap = 1; /* at least one connection per loop, or nothing works */
	return cap > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)cap;
}

otf__net_conns_t *otf__net_conns_get(uv_loop_t *loop)
{
	pthread_mutex_lock(&loops_lock);
	if (reserve_fd < 0)
		reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	otf__net_conns_t *r = loops;
	while (r && r->loop != loop)
		r = r->next;
	if (!r) {
		r = otf_calloc(1, sizeof *r);
		if (r) {
			r->pool = otf_bufpool_create(OTF__NET_POOL_BYTES); /* NULL: no pool */
			r->loop = loop;
			r->next = loops;
			loops = r;
		}
	}
	if (r)
		r->refs++;
	pthread_mutex_unlock(&loops_lock);
	return r;
}

otf_bufpool_t *otf__net_conns_pool(const otf__net_conns_t *r)
{
	return r ? r->pool : NULL;
}

static void free_record(uv_handle_t *h)
{
	otf_free(h->data);
}

void otf__net_conns_put(otf__net_conns_t *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&loops_lock);
	if (--r->refs == 0) {
		for (otf__net_conns_t **p = &loops; *p; p = &(*p)->next)
			if (*p == r) {
				*p = r->next;
				break;
			}
		otf_bufpool_destroy(r->pool); /* buffers still out free themselves */
		r->pool = NULL;
		/* On the loop thread (a server's teardown). A loop torn down with
		 * servers still open (engine.c's last-resort walk) may have closed
		 * the timer already, without a callback: r then stays allocated,
		 * like those servers, rather than be freed under libuv. */
		if (!r->retry_init)
			otf_free(r);
		else if (!uv_is_closing((uv_handle_t *)&r->retry))
			uv_close((uv_handle_t *)&r->retry, free_record);
	}
	pthread_mutex_unlock(&loops_lock);
}

static void unlink_conn(otf__net_link_t *l)
{
	otf__net_conns_t *r = l->reg;
	if (l->prev)
		l->prev->next = l->next;
	else
		r->head = l->next;
	if (l->next)
		l->next->prev = l->prev;
	else
		r->tail = l->prev;
	l->prev = l->next = NULL;
	l->reg = NULL;
	r->n--;
}

static void append(otf__net_conns_t *r, otf__net_link_t *l)
{
	l->reg = r;
	l->next = NULL;
	l->prev = r->tail;
	if (r->tail)
		r->tail->next = l;
	else
		r->head = l;
	r->tail = l;
}

void otf__net_conns_add(otf__net_conns_t *r, otf__net_link_t *l, bool (*idle)(otf__net_link_t *),
                        void (*evict)(otf__net_link_t *))
{
	l->idle = idle;
	l->evict = evict;
	l->reg = NULL;
	if (!r)
		return;
	append(r, l);
	r->n++;
}

void otf__net_conns_touch(otf__net_link_t *l)
{
	otf__net_conns_t *r = l->reg;
	if (!r || r->tail == l)
		return;
	unlink_conn(l);
	r->n++; /* unlink_conn counted it out */
	append(r, l);
}

/* Closes the connection idle the longest; false if none is idle. Its
 * descriptor is closed now (uv_close), so it is uncounted now. */
static bool evict_one(otf__net_conns_t *r)
{
	for (otf__net_link_t *l = r->head; l; l = l->next)
		if (l->idle(l)) {
			unlink_conn(l);
			l->evict(l);
			return true;
		}
	return false;
}

static void dequeue(otf__net_waiter_t *w)
{
	otf__net_conns_t *r = w->reg;
	if (w->prev)
		w->prev->next = w->next;
	else
		r->wait_head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		r->wait_tail = w->prev;
	w->prev = w->next = NULL;
	w->reg = NULL;
}

/* Paused listeners take the free slots, longest paused first; a slot is
 * free below the cap or once an idle connection is evicted for it. */
static void resume_waiters(otf__net_conns_t *r)
{
	uint32_t cap = atomic_load(&loop_cap);
	while (r->wait_head && (r->n < cap || evict_one(r))) {
		otf__net_waiter_t *w = r->wait_head;
		dequeue(w);
		w->resume(w); /* accepts: r->n grows */
	}
	if (!r->wait_head && r->retry_init)
		uv_timer_stop(&r->retry);
}

static void on_retry(uv_timer_t *t)
{
	resume_waiters(t->data);
}

void otf__net_conns_remove(otf__net_link_t *l)
{
	otf__net_conns_t *r = l->reg;
	if (!r)
		return; /* evicted: already uncounted */
	unlink_conn(l);
	if (r->wait_head)
		resume_waiters(r);
}

static void warn_cap(uint32_t cap)
{
	if (!atomic_exchange(&warned_cap, 1))
		otf_log(OTF_LOG_WARN, "net",
		        "a worker reached its connection limit (%u; from runtime.max_connections "
		        "or the open-file limit): new connections evict the one idle the longest, "
		        "accepting pauses while none is idle (logged once)",
		        cap);
}

bool otf__net_conns_admit(otf__net_conns_t *r, otf__net_waiter_t *w,
                          void (*resume)(otf__net_waiter_t *))
{
	uint32_t cap = atomic_load(&loop_cap);
	if (!r || r->n < cap)
		return true;
	warn_cap(cap);
	if (evict_one(r) && r->n < cap)
		return true;
	/* Nothing idle: leave the connection with libuv (not calling
	 * uv_accept stops its watcher on the listener) until a slot frees. */
	if (!w->reg) {
		w->resume = resume;
		w->reg = r;
		w->next = NULL;
		w->prev = r->wait_tail;
		if (r->wait_tail)
			r->wait_tail->next = w;
		else
			r->wait_head = w;
		r->wait_tail = w;
	}
	if (!r->retry_init) {
		uv_timer_init(r->loop, &r->retry); /* cannot fail */
		r->retry.data = r;
		uv_unref((uv_handle_t *)&r->retry); /* does not keep a loop alive */
		r->retry_init = true;
	}
	if (!uv_is_active((uv_handle_t *)&r->retry))
		uv_timer_start(&r->retry, on_retry, RETRY_MS, RETRY_MS);
	return false;
}

void otf__net_conns_cancel(otf__net_waiter_t *w)
{
	if (w->reg)
		dequeue(w);
}

void otf__net_accept_failed(otf__net_conns_t *r, uv_stream_t *listener, int status)
{
	if (status != UV_EMFILE && status != UV_ENFILE)
		return; /* ECONNABORTED and friends: the client retries */
	if (!atomic_exchange(&warned_emfile, 1))
		otf_log(OTF_LOG_WARN, "net",
		        "out of file descriptors while accepting (%s): closing the connection idle "
		        "the longest, or the new one (logged once)",
		        uv_strerror(status));
	/* libuv's own reserve descriptor did not help (another thread took
	 * the slot it freed), and it calls back here until accept succeeds:
	 * free a descriptor for good, else take the pending connection off
	 * the backlog with ours. Either way the next accept makes progress. */
	if (r && evict_one(r))
		return;
	uv_os_fd_t lfd;
	if (uv_fileno((uv_handle_t *)listener, &lfd) < 0)
		return;
	pthread_mutex_lock(&loops_lock);
	if (reserve_fd >= 0) {
		close(reserve_fd);
		int fd = accept(lfd, NULL, NULL);
		if (fd >= 0)
			close(fd);
		reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	pthread_mutex_unlock(&loops_lock);
}
