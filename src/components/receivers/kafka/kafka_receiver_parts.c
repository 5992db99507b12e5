/* receiver `kafka`: the slots of held messages and the table of assigned
 * partitions (kafka_receiver_state.h). Kept apart from the consumer's
 * flow (kafka_receiver.c) because both are plain bookkeeping: they
 * decide nothing about delivery, they only keep counts and librdkafka's
 * pause and offset store in step with it. */
#include "kafka_receiver_state.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ---- slots ---- */

int otf__krcv_held_new(krcv_t *r)
{
	if (r->free_head < 0) {
		size_t n = r->nheld ? r->nheld * 2 : 64;
		held_t *h = otf_realloc(r->held, n * sizeof *h);
		if (!h)
			return OTF_E_NOMEM;
		memset(h + r->nheld, 0, (n - r->nheld) * sizeof *h);
		for (size_t i = r->nheld; i < n; i++)
			h[i].next_free = i + 1 < n ? (int32_t)(i + 1) : -1;
		r->free_head = (int32_t)r->nheld;
		r->held = h;
		r->nheld = n;
	}
	int i = r->free_head;
	held_t *h = &r->held[i];
	r->free_head = h->next_free;
	uint32_t gen = h->gen + 1;
	memset(h, 0, sizeof *h);
	h->gen = gen;
	h->live = true;
	return i;
}

void otf__krcv_held_free(krcv_t *r, int i)
{
	held_t *h = &r->held[i];
	if (h->rkm)
		rd_kafka_message_destroy(h->rkm);
	otf_buf_unref(h->payload);
	if (h->sent)
		r->inflight--;
	if (h->waiting && h->part >= 0)
		r->parts[h->part]->waiting--;
	uint32_t gen = h->gen;
	memset(h, 0, sizeof *h);
	h->gen = gen;
	h->next_free = r->free_head;
	r->free_head = i;
}

/* ---- partitions ---- */

int otf__krcv_part_find(krcv_t *r, const char *topic, int32_t partition)
{
	for (size_t i = 0; i < r->nparts; i++)
		if (r->parts[i] && r->parts[i]->partition == partition &&
		    !strcmp(r->parts[i]->topic, topic))
			return (int)i;
	return -1;
}

static otf_signal_t topic_signal(krcv_t *r, const char *topic, int *enc)
{
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
		if (!(r->signals & (1u << s)))
			continue;
		size_t n;
		const char *const *t = otf__krcv_topics(r->cfg, (otf_signal_t)s, &n);
		for (size_t i = 0; i < n; i++) {
			if (!strcmp(t[i], topic)) {
				*enc = otf__krcv_signal_encoding(r->cfg, (otf_signal_t)s);
				return (otf_signal_t)s;
			}
		}
	}
	return (otf_signal_t)-1;
}

void otf__krcv_part_open(krcv_t *r, const char *topic, int32_t partition)
{
	if (otf__krcv_part_find(r, topic, partition) >= 0)
		return;
	int enc = 0;
	otf_signal_t s = topic_signal(r, topic, &enc);
	if ((int)s < 0)
		return;
	size_t i;
	for (i = 0; i < r->nparts && r->parts[i]; i++) {
	}
	if (i == r->nparts) {
		part_t **pp = otf_realloc(r->parts, (r->nparts + 1) * sizeof *pp);
		if (!pp)
			return;
		r->parts = pp;
		r->parts[r->nparts++] = NULL;
	}
	part_t *p = otf_calloc(1, sizeof *p);
	if (!p)
		return;
	/* bound + slack: messages already fetched when the pause lands */
	if (otf__kafka_track_init(&p->track, (size_t)r->cfg->max_inflight * 2 + 64)) {
		otf_free(p);
		return;
	}
	r->parts[i] = p;
	p->tp = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(p->tp, topic, partition);
	snprintf(p->topic, sizeof p->topic, "%s", topic);
	p->partition = partition;
	p->signal = s;
	p->enc = enc;
	p->used = true;
	char label[160];
	snprintf(label, sizeof label, "%s %s/%d", otf_node_name(r->node), topic, (int)partition);
	otf__krcv_metrics_open(&p->m, label);
}

void otf__krcv_part_close(krcv_t *r, int pi)
{
	part_t *p = r->parts[pi];
	/* Held messages are forgotten: the next owner starts at the commit. */
	for (size_t i = 0; i < r->nheld; i++)
		if (r->held[i].live && r->held[i].part == pi)
			otf__krcv_held_free(r, (int)i);
	otf__kafka_track_close(&p->track);
	rd_kafka_topic_partition_list_destroy(p->tp);
	otf__krcv_metrics_close(&p->m);
	otf_free(p);
	r->parts[pi] = NULL;
}

void otf__krcv_part_pause(krcv_t *r, part_t *p)
{
	if (p->paused)
		return;
	p->paused = true;
	rd_kafka_pause_partitions(r->rk, p->tp);
}

void otf__krcv_part_maybe_resume(krcv_t *r, part_t *p)
{
	if (!p->paused || r->closing || r->starved || p->waiting ||
	    otf__kafka_track_len(&p->track) >= (size_t)r->cfg->max_inflight)
		return;
	p->paused = false;
	rd_kafka_resume_partitions(r->rk, p->tp);
}

/* Marks position pos (next offset to consume) of p for commit. */
void otf__krcv_part_store(krcv_t *r, part_t *p, int64_t pos)
{
	p->tp->elems[0].offset = pos;
	rd_kafka_resp_err_t e = rd_kafka_offsets_store(r->rk, p->tp);
	if (e)
		otf_node_log(r->node, OTF_LOG_WARN, "cannot store offset %" PRId64 " of %s/%d: %s",
		             pos, p->topic, (int)p->partition, rd_kafka_err2str(e));
	else if (!r->cfg->autocommit.enable)
		rd_kafka_commit(r->rk, p->tp, 1);
}
