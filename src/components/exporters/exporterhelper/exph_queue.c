/* The sending queue's FIFO and budget (exporterhelper.h). */
#include "exporterhelper.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/selfmetric.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct otf_exph_gauges {
	otf_exph_gauges_t *next;
	int refs;
	otf_selfcounter_t size, capacity;
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static otf_exph_gauges_t *g_all;

static void gauge_add(otf_selfcounter_t *c, uint64_t n, bool sub)
{
	otf_selfcounter_add(c, sub ? (uint64_t) - (int64_t)n : n);
}

void otf__exph_queue_init(otf_exph_queue_t *q, uint64_t cap)
{
	q->head = q->tail = NULL;
	q->len = 0;
	q->used = 0;
	q->cap = cap;
	q->g = NULL;
}

int otf__exph_queue_reserve(otf_exph_queue_t *q, uint64_t size)
{
	if (size > q->cap || q->used > q->cap - size)
		return OTF_E_NOSPACE;
	q->used += size;
	if (q->g)
		gauge_add(&q->g->size, size, false);
	return 0;
}

void otf__exph_queue_force(otf_exph_queue_t *q, uint64_t size)
{
	q->used += size;
	if (q->g)
		gauge_add(&q->g->size, size, false);
}

void otf__exph_queue_release(otf_exph_queue_t *q, uint64_t size)
{
	uint64_t n = size > q->used ? q->used : size;
	q->used -= n;
	if (q->g)
		gauge_add(&q->g->size, n, true);
}

void otf__exph_queue_gauges_attach(otf_exph_queue_t *q, const char *exporter_id)
{
	pthread_mutex_lock(&g_mu);
	otf_exph_gauges_t *g = g_all;
	while (g && strcmp(g->size.label, exporter_id))
		g = g->next;
	if (!g && (g = otf_calloc(1, sizeof *g))) {
		g->size = (otf_selfcounter_t){
		    .name = "otelcol_exporter_queue_size",
		    .desc = "Current size of the sending queue (in sizer units: requests, items or "
		            "bytes), every worker's.",
		    .unit = "1",
		    .label_key = "exporter",
		    .gauge = true};
		g->capacity = g->size;
		g->capacity.name = "otelcol_exporter_queue_capacity";
		g->capacity.desc = "Fixed capacity of the sending queue (in sizer units), every "
		                   "worker's.";
		snprintf(g->size.label, sizeof g->size.label, "%s", exporter_id);
		snprintf(g->capacity.label, sizeof g->capacity.label, "%s", exporter_id);
		otf_selfcounter_register(&g->size);
		otf_selfcounter_register(&g->capacity);
		g->next = g_all;
		g_all = g;
	}
	if (g) {
		g->refs++;
		gauge_add(&g->capacity, q->cap, false);
		gauge_add(&g->size, q->used, false);
	}
	q->g = g;
	pthread_mutex_unlock(&g_mu);
}

void otf__exph_queue_gauges_detach(otf_exph_queue_t *q)
{
	otf_exph_gauges_t *g = q->g;
	if (!g)
		return;
	pthread_mutex_lock(&g_mu);
	gauge_add(&g->capacity, q->cap, true);
	gauge_add(&g->size, q->used, true);
	q->g = NULL;
	if (--g->refs == 0) {
		for (otf_exph_gauges_t **pp = &g_all; *pp; pp = &(*pp)->next) {
			if (*pp == g) {
				*pp = g->next;
				break;
			}
		}
		otf_selfcounter_unregister(&g->size);
		otf_selfcounter_unregister(&g->capacity);
		otf_free(g);
	}
	pthread_mutex_unlock(&g_mu);
}

void otf__exph_queue_push(otf_exph_queue_t *q, otf_exph_req_t *r)
{
	r->next = NULL;
	r->prev = q->tail;
	if (q->tail)
		q->tail->next = r;
	else
		q->head = r;
	q->tail = r;
	q->len++;
}

otf_exph_req_t *otf__exph_queue_pop(otf_exph_queue_t *q)
{
	otf_exph_req_t *r = q->head;
	if (!r)
		return NULL;
	q->head = r->next;
	if (q->head)
		q->head->prev = NULL;
	else
		q->tail = NULL;
	r->next = r->prev = NULL;
	q->len--;
	return r;
}

void otf__exph_queue_remove(otf_exph_queue_t *q, otf_exph_req_t *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		q->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		q->tail = r->prev;
	r->next = r->prev = NULL;
	q->len--;
}
