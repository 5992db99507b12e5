/* In-order offset tracking of one Kafka partition, for the kafka receiver's
 * at-least-once commits: messages are added in the order the consumer
 * returns them (increasing offsets, gaps allowed: compaction, transaction
 * markers), finish in any order (the pipeline acknowledges them out of
 * order), and the committable position only advances over a prefix of
 * finished messages. So an offset is committed only when its message and
 * every earlier one of the partition were acknowledged.
 *
 * Shape: a ring of at most cap entries {offset, done}. Positions follow
 * Kafka's commit convention: the offset of the next message to consume
 * (last finished + 1). Socket-free and allocation-free after init.
 *
 * Threads: none (the owner's). Errors: negative OTF_E_* codes. */
#ifndef OTF_KAFKA_OFFSETS_H
#define OTF_KAFKA_OFFSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct otf_kafka_track {
	int64_t *offsets; /* ring, cap entries */
	bool *done;
	size_t cap, head, len;
	int64_t last_added; /* -1 before the first add */
	int64_t committed;  /* position last returned by done (-1: none yet) */
} otf_kafka_track_t;

/* 0 or OTF_E_NOMEM (nothing to clean up then); cap >= 1. */
int otf__kafka_track_init(otf_kafka_track_t *t, size_t cap);
void otf__kafka_track_close(otf_kafka_track_t *t);

/* Records a message handed on: 0, OTF_E_NOSPACE when cap messages are
 * unfinished (the partition must pause), OTF_E_INVAL when offset is not
 * above the last one added. */
int otf__kafka_track_add(otf_kafka_track_t *t, int64_t offset);

/* Marks offset finished (acknowledged, or skipped by message_marking).
 * Returns the new committable position when the finished prefix grew, 0
 * when it did not (an earlier message is unfinished), OTF_E_NOT_FOUND for
 * an offset not tracked (already finished, or never added). */
int64_t otf__kafka_track_done(otf_kafka_track_t *t, int64_t offset);

static inline size_t otf__kafka_track_len(const otf_kafka_track_t *t)
{
	return t->len;
}
static inline bool otf__kafka_track_full(const otf_kafka_track_t *t)
{
	return t->len >= t->cap;
}

#endif
