/* receiver `push`: the entry point of an application that embeds otflow
 * (otflow/service.h, otf_embedded_push). The application hands OTLP
 * protobuf request bytes to a named push receiver from any thread; the
 * bytes are validated on the caller's thread, copied once, queued to one of
 * the receiver's worker instances (round robin) and sent into the pipeline
 * there; the completion callback reports the outcome (ACK, or NACK with its
 * code and whether retrying can help) from that worker's thread.
 *
 * Instances register by component id in a process-wide table when they
 * start and leave it when destroyed; a push to an id with no live instance
 * is OTF_E_NOT_FOUND. Queued pushes still waiting at shutdown are
 * completed with -ECANCELED (retryable). Bounded: at most `queue_size`
 * pushes wait per instance; past it a push fails with -EAGAIN at once. */
#include "push_internal.h"

#include "otflow/alloc.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

typedef struct push_item {
	struct push_item *next;
	otf_signal_t signal;
	otf_buf_t *payload;
	uint64_t items;
	otf_push_cb cb;
	void *arg;
} push_item_t;

typedef struct push_config {
	uint64_t queue_size;
} push_config_t;

typedef struct push_rx push_rx_t;

struct push_rx {
	otf_node_t *node;
	const push_config_t *cfg;
	char id[128];
	uv_async_t async;
	pthread_mutex_t lock;
	push_item_t *head, *tail;
	uint64_t queued;
	bool open; /* accepting pushes (lock) */
	bool started;
	push_rx_t *next_reg; /* registry chain */
};

static const otf_config_field_t k_schema[] = {
    {.key = "queue_size",
     .type = OTF_CFG_UINT,
     .offset = offsetof(push_config_t, queue_size),
     .def = "1024",
     .min = "1",
     .desc = "Pushes waiting per worker instance; past it a push fails with -EAGAIN."},
    OTF_CONFIG_FIELD_END,
};

/* ---- registry: id -> instances (one per worker) ---- */

static pthread_mutex_t g_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static push_rx_t *g_reg;
static unsigned g_rr;

static void reg_add(push_rx_t *r)
{
	pthread_mutex_lock(&g_reg_lock);
	r->next_reg = g_reg;
	g_reg = r;
	pthread_mutex_unlock(&g_reg_lock);
}

static void reg_del(push_rx_t *r)
{
	pthread_mutex_lock(&g_reg_lock);
	for (push_rx_t **p = &g_reg; *p; p = &(*p)->next_reg)
		if (*p == r) {
			*p = r->next_reg;
			break;
		}
	pthread_mutex_unlock(&g_reg_lock);
}

/* Queues it on one open instance of id: 0, OTF_E_NOT_FOUND, -EAGAIN. */
static int enqueue(const char *id, push_item_t *it)
{
	pthread_mutex_lock(&g_reg_lock);
	push_rx_t *match[64];
	size_t n = 0;
	for (push_rx_t *r = g_reg; r && n < 64; r = r->next_reg)
		if (!strcmp(r->id, id))
			match[n++] = r;
	int rc = OTF_E_NOT_FOUND;
	for (size_t k = 0; k < n && rc; k++) {
		push_rx_t *r = match[(g_rr + k) % n];
		pthread_mutex_lock(&r->lock);
		if (!r->open) {
			pthread_mutex_unlock(&r->lock);
			continue;
		}
		if (r->queued >= r->cfg->queue_size) {
			rc = -EAGAIN;
			pthread_mutex_unlock(&r->lock);
			continue;
		}
		it->next = NULL;
		if (r->tail)
			r->tail->next = it;
		else
			r->head = it;
		r->tail = it;
		r->queued++;
		uv_async_send(&r->async);
		pthread_mutex_unlock(&r->lock);
		rc = 0;
	}
	g_rr++;
	pthread_mutex_unlock(&g_reg_lock);
	return rc;
}

int otf__push(const char *receiver_id, otf_signal_t signal, const void *data, size_t len,
              otf_push_cb cb, void *arg, char *err, size_t errlen)
{
	if ((unsigned)signal >= OTF_SIGNAL_COUNT || (!data && len))
		return OTF_E_INVAL;
	otf_view_counts_t counts;
	otf_pdata_error_t perr;
	int rc = otf_view_validate(signal, data, len, NULL, &counts, &perr);
	if (rc) {
		if (err && errlen)
			otf_pdata_error_format(&perr, err, errlen);
		return rc;
	}
	push_item_t *it = otf_calloc(1, sizeof *it);
	otf_buf_t *b = otf_buf_create_copy(data, len);
	if (!it || !b) {
		otf_free(it);
		if (b)
			otf_buf_unref(b);
		return OTF_E_NOMEM;
	}
	*it = (push_item_t){
	    .signal = signal, .payload = b, .items = counts.records, .cb = cb, .arg = arg};
	rc = enqueue(receiver_id, it);
	if (rc) {
		if (err && errlen)
			snprintf(err, errlen,
			         rc == -EAGAIN ? "push receiver '%s' is full"
			                       : "no running push receiver '%s'",
			         receiver_id);
		otf_buf_unref(b);
		otf_free(it);
	}
	return rc;
}

/* ---- the node ---- */

static void complete(push_item_t *it, int code, bool permanent, const char *reason)
{
	if (it->cb)
		it->cb(it->arg, code, permanent, reason ? reason : "");
	otf_free(it);
}

static void send_one(push_rx_t *r, push_item_t *it)
{
	if (!otf_node_has_output(r->node, it->signal)) {
		otf_buf_unref(it->payload);
		complete(it, OTF_E_INVAL, true, "no pipeline of this signal behind the receiver");
		return;
	}
	otf_msg_t *m = otf_msg_create(r->node, it->signal, it->payload, it->items);
	if (!m) {
		complete(it, OTF_E_NOMEM, false, "out of memory");
		return;
	}
	if (otf_msg_subscribe(m, r->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK,
	                      (uint64_t)(uintptr_t)it)) {
		otf_msg_drop(m);
		complete(it, OTF_E_NOMEM, false, "out of memory");
		return;
	}
	int rc = otf_node_send(r->node, m);
	if (rc) {
		otf_msg_drop(m);
		otf_node_count(r->node, OTF_COUNTER_REFUSED, it->signal, it->items);
		complete(it, rc, false,
		         rc == -EAGAIN ? "pipeline is full" : "pipeline unavailable");
		return;
	}
	otf_node_count(r->node, OTF_COUNTER_ACCEPTED, it->signal, it->items);
}

static void on_async(uv_async_t *a)
{
	push_rx_t *r = a->data;
	pthread_mutex_lock(&r->lock);
	push_item_t *it = r->head;
	r->head = r->tail = NULL;
	r->queued = 0;
	pthread_mutex_unlock(&r->lock);
	while (it) {
		push_item_t *next = it->next;
		send_one(r, it);
		it = next;
	}
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	push_rx_t *r = otf_calloc(1, sizeof *r);
	if (!r)
		return OTF_E_NOMEM;
	r->node = ctx->node;
	r->cfg = ctx->config;
	/* "receiver:push/app" -> "push/app": the id the application names. */
	const char *name = otf_node_name(ctx->node);
	const char *colon = strchr(name, ':');
	snprintf(r->id, sizeof r->id, "%s", colon ? colon + 1 : name);
	pthread_mutex_init(&r->lock, NULL);
	*inst = r;
	return 0;
}

static int start(void *inst)
{
	push_rx_t *r = inst;
	int rc = uv_async_init(otf_node_loop(r->node), &r->async, on_async);
	if (rc)
		return rc;
	r->async.data = r;
	r->started = true;
	r->open = true;
	reg_add(r);
	return 0;
}

/* Stops accepting and fails what waits (on the worker). */
static void close_queue(push_rx_t *r)
{
	pthread_mutex_lock(&r->lock);
	r->open = false;
	push_item_t *it = r->head;
	r->head = r->tail = NULL;
	r->queued = 0;
	pthread_mutex_unlock(&r->lock);
	while (it) {
		push_item_t *next = it->next;
		otf_buf_unref(it->payload);
		complete(it, -ECANCELED, false, "otflow is shutting down");
		it = next;
	}
}

static void control(void *inst, const otf_ctrl_t *c)
{
	push_rx_t *r = inst;
	push_item_t *it = (push_item_t *)(uintptr_t)c->calldata;
	if (c->type == OTF_CTRL_ACK && it) {
		complete(it, 0, false, NULL);
	} else if (c->type == OTF_CTRL_NACK && it) {
		complete(it, c->error ? c->error : OTF_E_IO, c->permanent, c->reason);
	} else if (c->type == OTF_CTRL_KIL) {
		reg_del(r);
		close_queue(r);
		otf_node_shutdown_done(r->node);
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void free_rx(uv_handle_t *h)
{
	push_rx_t *r = h->data;
	pthread_mutex_destroy(&r->lock);
	otf_free(r);
}

static void destroy(void *inst)
{
	push_rx_t *r = inst;
	reg_del(r);
	close_queue(r);
	if (r->started) {
		uv_close((uv_handle_t *)&r->async, free_rx);
		return;
	}
	pthread_mutex_destroy(&r->lock);
	otf_free(r);
}

const otf_component_factory_t otf_receiver_push_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_RECEIVER,
    .type = "push",
    .description = "Entry point for an application embedding otflow (otf_embedded_push).",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_schema,
    .config_size = sizeof(push_config_t),
    .create = {create, create, create},
    .start = start,
    .control = control,
    .destroy = destroy,
};
