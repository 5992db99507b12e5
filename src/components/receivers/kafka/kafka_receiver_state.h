/* receiver `kafka`: the consumer's state, shared by kafka_receiver.c
 * (fetching, sending, outcomes, lifecycle) and kafka_receiver_parts.c
 * (the slots of held messages and the table of assigned partitions).
 * Everything here runs on the owning worker (kafka_common.h, Threads). */
#ifndef OTF_KAFKA_RECEIVER_STATE_H
#define OTF_KAFKA_RECEIVER_STATE_H

#include "kafka_offsets.h"
#include "kafka_receiver.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct held {
	uint32_t gen;
	int32_t next_free; /* free list; -1 = end */
	bool live;
	bool waiting; /* for a redelivery */
	bool sent;    /* in the pipeline */
	int part;
	int64_t offset;
	rd_kafka_message_t *rkm;
	otf_buf_t *payload; /* converted once, reused by redeliveries */
	uint64_t items;
	uint32_t attempts;
	otf_exph_backoff_t backoff;
	uint64_t due_ms;
	bool warned;
} held_t;

typedef struct part {
	bool used;
	char topic[256];
	int32_t partition;
	otf_signal_t signal;
	int enc;
	otf_kafka_track_t track;
	rd_kafka_topic_partition_list_t *tp; /* this partition alone */
	bool paused;
	size_t waiting;
	krcv_part_metrics_t m;
} part_t;

typedef struct krcv {
	otf_node_t *node; /* first: otf__kafka_log_cb */
	const krcv_config_t *cfg;
	uv_loop_t *loop;
	rd_kafka_t *rk;
	otf_kafka_pump_t *pump;
	uint32_t signals; /* wired, OTF_SIGNAL_BIT */
	part_t **parts;   /* stable: counters are linked into a registry */
	size_t nparts;
	held_t *held;
	size_t nheld;
	int32_t free_head;
	size_t inflight; /* held in the pipeline */
	int64_t timer;
	uint64_t timer_due;
	bool closing, closed, started;
	bool closing_async; /* rd_kafka_consumer_close_queue running */
	uint64_t last_err_log_ms;
	bool cooperative;
	bool starved; /* REB: the budget downstream is 0, every partition paused */
} krcv_t;

/* Slots of held messages: held_new returns a zeroed live slot of a new
 * generation (its index) or OTF_E_NOMEM; held_free releases its message
 * and payload and undoes its counts (inflight, its partition's waiting).
 * r->held moves when held_new grows it: indexes stay, pointers do not. */
int otf__krcv_held_new(krcv_t *r);
void otf__krcv_held_free(krcv_t *r, int i);

/* Assigned partitions: find returns the index in r->parts or -1; open
 * adds an entry for a partition of a wired signal's topic (nothing when
 * it exists, is not ours, or memory is short: its messages are then
 * dropped, never half-tracked); close forgets its held messages (the next
 * owner starts at the commit). pause/maybe_resume: resumed only when not
 * closing, nothing of it waits for a redelivery, it has room under
 * max_inflight_per_partition and the budget downstream is not 0.
 * store marks pos (the next offset to consume) for commit, and commits
 * at once without autocommit. */
int otf__krcv_part_find(krcv_t *r, const char *topic, int32_t partition);
void otf__krcv_part_open(krcv_t *r, const char *topic, int32_t partition);
void otf__krcv_part_close(krcv_t *r, int pi);
void otf__krcv_part_pause(krcv_t *r, part_t *p);
void otf__krcv_part_maybe_resume(krcv_t *r, part_t *p);
void otf__krcv_part_store(krcv_t *r, part_t *p, int64_t pos);

#endif
