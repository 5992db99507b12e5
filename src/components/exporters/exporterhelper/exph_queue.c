/* The sending queue's FIFO and budget (exporterhelper.h). */
#include "exporterhelper.h"

#include "otflow/err.h"

void otf__exph_queue_init(otf_exph_queue_t *q, uint64_t cap)
{
	q->head = q->tail = NULL;
	q->len = 0;
	q->used = 0;
	q->cap = cap;
}

int otf__exph_queue_reserve(otf_exph_queue_t *q, uint64_t size)
{
	if (size > q->cap || q->used > q->cap - size)
		return OTF_E_NOSPACE;
	q->used += size;
	return 0;
}

void otf__exph_queue_release(otf_exph_queue_t *q, uint64_t size)
{
	q->used = size > q->used ? 0 : q->used - size;
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
