/* Test components for DAG tests, shared by the unit tests of the dataflow
 * nodes (retry, failover_router, content_router, deadline, batch, the
 * connectors, ack): a source that sends given messages and records the
 * outcome of each, and sinks that record what reaches them and ack, nack or
 * hold it. Registered through the factory ABI like any component
 * (otf_tf_register), so the engine under test is the real one.
 *
 *   tf_src  (receiver) config:
 *     count        messages to send when the queue set with otf_tf_add is
 *                  empty: copies of a one-span message (default 1)
 *     payload      >= 0: those messages carry the test's payload number
 *                  `payload` (otf_tf_set_payloads) instead, `items` items
 *     header2      one more such message, with this header instead
 *     signal       of those (otf_signal_t, default 0 = traces)
 *     deadline_ms  deadline of each message from its send (0 = none;
 *                  negative: already past)
 *     delay_ms     wait after start before sending (default 1)
 *     again_ms     send the same again this long after each send (0 = once) ...
 *     repeat       ... this many more times (default 1)
 *     header       "key=value": an envelope header on each message
 *     nosub        true: send without subscribing (outcomes not recorded)
 *   tf_sink (exporter) config:
 *     slot         which otf_tf.sink[] records it (0..OTF_TF_SINKS-1)
 *     fail         nack the first `fail` messages (-1 = every one)
 *     nack_at      nack (retryable) the message of that index (0 = first)
 *     reason       the reason of those nacks (default "sink down")
 *     permanent    those nacks are permanent
 *     throttle_ms  those nacks are retryable with this throttle delay
 *                  (otf_msg_nack_throttled), as a server's RetryInfo
 *     hold         keep every message it does not nack until KIL (acked
 *                  then); a CAN of one drops it (nacked permanent
 *                  -ECANCELED, counted in `cancelled`)
 *     queued       report each message queued (otf_msg_queued) on arrival,
 *                  before answering it, as an exporter's sending queue
 *
 * Threads: the components run on the engine's workers; the state below is
 * written there and read by the test thread (atomics; strings and
 * payloads are written before the count that publishes them). One engine at
 * a time. */
#ifndef OTF_TEST_FLOW_NODES_H
#define OTF_TEST_FLOW_NODES_H

#include "otflow/buf.h"
#include "otflow/component.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define OTF_TF_MAX   256 /* messages recorded per source / sink */
#define OTF_TF_SINKS 4

typedef struct otf_tf_sink_rec {
	_Atomic int seen;                        /* messages consumed */
	_Atomic uint64_t id[OTF_TF_MAX];         /* otf_msg_id of each */
	_Atomic uint64_t source[OTF_TF_MAX];     /* its first source id, 0 = none */
	_Atomic uint64_t items[OTF_TF_MAX];      /* otf_msg_items */
	_Atomic int signal[OTF_TF_MAX];          /* otf_msg_signal */
	_Atomic uint64_t deadline[OTF_TF_MAX];   /* otf_msg_deadline */
	_Atomic uint64_t arrived_ns[OTF_TF_MAX]; /* CLOCK_REALTIME */
	otf_buf_t *payload[OTF_TF_MAX];          /* a reference, freed by otf_tf_reset */
	_Atomic int nsources;                    /* every source id of every message */
	_Atomic uint64_t sources[OTF_TF_MAX];
	_Atomic int acked, nacked; /* answers it gave */
	_Atomic int cancelled;     /* held messages a CAN dropped (not in nacked) */
} otf_tf_sink_rec_t;

typedef struct otf_tf_state {
	/* source */
	/* answers: acks + nacks (a send refused at the handover counts as a
	 * nack, and in send_failed) */
	_Atomic int sent, acks, nacks, nack_permanent, send_failed;
	_Atomic uint64_t sent_ids[OTF_TF_MAX];
	_Atomic uint64_t sent_ns; /* CLOCK_REALTIME of the last send, its deadline base */
	_Atomic uint64_t answered_ns[OTF_TF_MAX]; /* per answer, in answer order */
	/* per message, by its index in sending order (as calldata) */
	_Atomic int acked[OTF_TF_MAX], nacked[OTF_TF_MAX];
	_Atomic uint64_t answer_items[OTF_TF_MAX]; /* otf_ctrl_t.items */
	bool permanent[OTF_TF_MAX];
	char reasons[OTF_TF_MAX][160];
	_Atomic int error;               /* last NACK's */
	_Atomic uint64_t retry_after_ns; /* last NACK's */
	char reason[200];                /* last NACK's */
	otf_tf_sink_rec_t sink[OTF_TF_SINKS];
} otf_tf_state_t;

extern otf_tf_state_t otf_tf;

/* Registers tf_src and tf_sink (once; idempotent). */
void otf_tf_register(void);
/* Clears the state and the queued messages (between runs). */
void otf_tf_reset(void);
/* cmocka group teardown: otf_tf_reset (releases the recorded payloads). */
int otf_tf_teardown(void **state);
/* Where tf_src's `payload: i` comes from: fn(i), a new reference, of
 * signal. */
void otf_tf_set_payloads(otf_buf_t *(*fn)(int i), otf_signal_t signal);
/* Queues a message for tf_src: takes the caller's reference to payload. */
void otf_tf_add(otf_signal_t s, otf_buf_t *payload, uint64_t items);
/* Source answers (acks + nacks) reach n within ms; fails the test if not. */
void otf_tf_await_answers(int n, int ms);
/* Sink slot has consumed n messages within ms; fails the test if not. */
void otf_tf_await_seen(int slot, int n, int ms);
/* True when id is one of the source's sent ids. */
bool otf_tf_was_sent(uint64_t id);
uint64_t otf_tf_now_ns(void); /* CLOCK_REALTIME */

#endif
