/* Completions from other threads: otf_msg_ack_async / otf_msg_nack_async
 * queue the outcome on the message's worker and wake its loop, which then
 * calls otf_msg_ack / otf_msg_nack there. This is the seed's "consumer stub
 * that waits for the response" without blocking the worker: a component
 * whose work finishes on its own threads (a Go goroutine, a Rust thread
 * pool, a blocking client library) hands the result back here.
 *
 * One mutex per worker guards a singly linked FIFO; the uv_async handle
 * coalesces wake-ups, so a burst of completions costs one loop turn. */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <stdio.h>
#include <string.h>

typedef struct otf_async_done {
	struct otf_async_done *next;
	otf_msg_t *msg;
	int error; /* 0 = ack */
	bool permanent;
	uint64_t retry_after_ns;
	char reason[160];
} otf_async_done_t;

static void drain(otf_worker_t *w)
{
	pthread_mutex_lock(&w->async_lock);
	otf_async_done_t *d = w->async_head;
	w->async_head = w->async_tail = NULL;
	pthread_mutex_unlock(&w->async_lock);
	while (d) {
		otf_async_done_t *next = d->next;
		if (d->msg->held_by || d->msg->expired)
			otf__plugin_msg_done(d->msg, d->error, d->permanent, d->reason,
			                     d->retry_after_ns);
		else if (d->error && d->retry_after_ns)
			otf_msg_nack_throttled(d->msg, d->error, d->retry_after_ns, d->reason);
		else if (d->error)
			otf_msg_nack(d->msg, d->error, d->permanent, d->reason);
		else
			otf_msg_ack(d->msg);
		otf_free(d);
		d = next;
	}
}

static void completions_cb(uv_async_t *a)
{
	drain(a->data);
	otf__worker_cfg_drain(a->data);
	otf__worker_peer_drain(a->data, false);
}

void otf__worker_async_init(otf_worker_t *w)
{
	pthread_mutex_init(&w->async_lock, NULL);
	uv_async_init(&w->loop, &w->completions, completions_cb);
	w->completions.data = w;
	w->async_open = true;
}

void otf__worker_async_close(otf_worker_t *w)
{
	drain(w);
	pthread_mutex_lock(&w->async_lock);
	w->async_open = false;
	pthread_mutex_unlock(&w->async_lock);
	otf__worker_cfg_drain(w);        /* phase 2: each answered as not applied */
	otf__worker_peer_drain(w, true); /* posts from other workers: cancelled */
	if (!uv_is_closing((uv_handle_t *)&w->completions))
		uv_close((uv_handle_t *)&w->completions, NULL);
}

static void post(otf_msg_t *m, int error, bool permanent, const char *reason,
                 uint64_t retry_after_ns)
{
	otf_worker_t *w = m->worker;
	otf_async_done_t *d = otf_malloc(sizeof *d);
	pthread_mutex_lock(&w->async_lock);
	if (!d || !w->async_open) {
		/* Out of memory, or a worker that already finished: the message
		 * cannot be answered here; the engine released it at finish. */
		pthread_mutex_unlock(&w->async_lock);
		otf_free(d);
		return;
	}
	d->next = NULL;
	d->msg = m;
	d->error = error;
	d->permanent = permanent;
	d->retry_after_ns = permanent ? 0 : retry_after_ns;
	snprintf(d->reason, sizeof d->reason, "%s", reason ? reason : "");
	if (w->async_tail)
		w->async_tail->next = d;
	else
		w->async_head = d;
	w->async_tail = d;
	uv_async_send(&w->completions);
	pthread_mutex_unlock(&w->async_lock);
}

void otf_msg_ack_async(otf_msg_t *m)
{
	post(m, 0, false, NULL, 0);
}

void otf_msg_nack_async(otf_msg_t *m, int error, bool permanent, const char *reason)
{
	post(m, error ? error : OTF_E_IO, permanent, reason, 0);
}

void otf_msg_nack_throttled_async(otf_msg_t *m, int error, uint64_t retry_after_ns,
                                  const char *reason)
{
	post(m, error ? error : OTF_E_IO, false, reason, retry_after_ns);
}
