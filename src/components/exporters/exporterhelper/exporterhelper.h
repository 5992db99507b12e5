/* exporterhelper: what the OTLP exporters share, as the Collector's
 * exporter/exporterhelper: retry_on_failure (exponential backoff with
 * jitter, bounded by max_elapsed_time), sending_queue (bounded, num_consumers
 * requests in flight), per-attempt timeout, the acknowledgement of each
 * message once its outcome is known, and request compression.
 *
 * A transport (otlp: gRPC client; otlphttp: libcurl) implements one send
 * attempt (otf_exph_ops_t.send) and reports its outcome with
 * otf__exph_done(). Everything here runs on the node's worker loop.
 *
 * Acknowledgements: a message is acknowledged upstream when the server
 * accepted it (wait_for_result true, otflow's default) or as soon as it is
 * queued (wait_for_result false, the Collector's default). It is NACKed
 * permanent when the server refused it permanently, retryable when retries
 * are exhausted (max_elapsed_time, or the message's deadline comes before
 * the next attempt), when the queue is full, and at shutdown. A retryable
 * NACK after the server asked for a delay (RetryInfo, Retry-After) carries
 * it (otf_msg_nack_throttled), so that a retry node upstream waits as
 * long when retry_on_failure is off. With sending_queue enabled and
 * wait_for_result, a message taken into the queue is reported queued (otf_msg_queued: the ack node's
 * pre_export acknowledges upstream then), once its record is durable when
 * the queue has storage.
 *
 * Sources: opentelemetry-collector exporter/exporterhelper README (keys and
 * defaults), cenkalti/backoff ExponentialBackOff (the schedule the Collector
 * uses), OTLP specification "Failures" (retryable codes, throttling). */
#ifndef OTF_EXPORTERHELPER_H
#define OTF_EXPORTERHELPER_H

#include "otflow/buf.h"
#include "otflow/component.h"
#include "otflow/config_schema.h"
#include "otflow/storage.h"
#include "otflow/tls.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- configuration (exporterhelper.c) ---- */

typedef struct otf_exph_retry_config {
	bool enabled;
	int64_t initial_interval_ns;
	double randomization_factor;
	double multiplier;
	int64_t max_interval_ns;
	int64_t max_elapsed_time_ns; /* 0 = retry forever */
} otf_exph_retry_config_t;

typedef enum otf_exph_sizer {
	OTF_EXPH_SIZER_REQUESTS = 0,
	OTF_EXPH_SIZER_ITEMS = 1,
	OTF_EXPH_SIZER_BYTES = 2,
} otf_exph_sizer_t;

typedef struct otf_exph_queue_config {
	bool enabled;
	int64_t num_consumers;
	int64_t queue_size; /* in sizer units */
	int sizer;          /* otf_exph_sizer_t */
	bool wait_for_result;
	bool block_on_overflow;
	char *storage; /* a storage extension's id (file_storage/x); NULL = memory only */
} otf_exph_queue_config_t;

/* Schema fragments for the retry_on_failure and sending_queue objects
 * (offsets relative to the structs above). */
extern const otf_config_field_t otf__exph_retry_schema[];
extern const otf_config_field_t otf__exph_queue_schema[];

/* Cross-field checks; 0 or OTF_E_CONFIG with a message. */
int otf__exph_validate(const otf_exph_retry_config_t *r, const otf_exph_queue_config_t *q,
                       char *err, size_t errlen);

/* check_rebuild (otflow/component.h) of the exporters: a node rebuilt
 * while it runs hands its persistent queue to the new instance only when
 * both use the same storage: a change of sending_queue.storage from a
 * storage (to another, or to none) is OTF_E_UNSUPPORTED with why. */
int otf__exph_check_rebuild(const otf_exph_queue_config_t *old, const otf_exph_queue_config_t *nu,
                            char *err, size_t errlen);
/* Defines static check_rebuild(old, new, err, errlen) for config struct
 * type T whose member `queue` is its sending queue's config. */
#define OTF_EXPH_CHECK_REBUILD(T)                                                              \
	static int check_rebuild(const void *a, const void *b, char *err, size_t errlen)       \
	{                                                                                      \
		return otf__exph_check_rebuild(&((const T *)a)->queue, &((const T *)b)->queue, \
		                               err, errlen);                                   \
	}

/* ---- backoff (exph_retry.c): pure, for unit tests ---- */

typedef struct otf_exph_backoff {
	double cur_ns;     /* current interval before jitter */
	uint64_t start_ns; /* first attempt, for max_elapsed_time */
} otf_exph_backoff_t;

void otf__exph_backoff_reset(otf_exph_backoff_t *b, const otf_exph_retry_config_t *c,
                             uint64_t now_ns);
/* Delay before the next attempt, in ns: cur * (1 +- randomization_factor)
 * chosen by rnd in [0,1), then cur grows by multiplier up to max_interval.
 * -1 (stop) when now - start + delay would pass max_elapsed_time. */
int64_t otf__exph_backoff_next(otf_exph_backoff_t *b, const otf_exph_retry_config_t *c,
                               uint64_t now_ns, double rnd);

/* ---- compression (exph_compress.c) ---- */

typedef enum otf_exph_compression {
	OTF_EXPH_COMPRESSION_NONE = 0,
	OTF_EXPH_COMPRESSION_GZIP = 1,
	OTF_EXPH_COMPRESSION_ZSTD = 2,
} otf_exph_compression_t;

/* Compresses in into a new buffer *out (owned by the caller). Returns 0,
 * OTF_E_NOMEM or OTF_E_IO (the library failed). NONE returns a new
 * reference to in. */
int otf__exph_compress(otf_exph_compression_t c, otf_buf_t *in, otf_buf_t **out);
/* Parses "gzip", "zstd", "none" / "" (NULL = none); -1 for others. */
int otf__exph_compression_parse(const char *s);
const char *otf__exph_compression_name(otf_exph_compression_t c);

/* ---- requests and the queue (exph_queue.c) ---- */

typedef struct otf_exph otf_exph_t;
typedef struct otf_exph_req otf_exph_req_t;

struct otf_exph_req {
	otf_exph_req_t *prev, *next; /* the list the request is on */
	otf_msg_t *msg;              /* NULL once acknowledged early */
	otf_buf_t *payload;          /* one reference, protobuf request bytes */
	otf_signal_t signal;
	uint64_t items;
	uint64_t size;        /* in sizer units */
	uint64_t deadline_ms; /* loop clock; 0 = none */
	uint64_t due_ms;      /* next attempt (while waiting to retry) */
	otf_exph_backoff_t backoff;
	uint32_t attempts;
	int state;
	void *tdata;             /* the transport's per-attempt state */
	void *xdata;             /* the exporter's per-request data (ops.capture) */
	otf_buf_t *body;         /* the transport's encoded, compressed body, kept
	                           * across attempts; released with the request */
	uint64_t wal_id;         /* its record in the storage; 0 = none */
	otf_buf_t *meta;         /* replayed: its record's head with the client
	                            * metadata (otf_qrec_parse), or NULL */
	uint64_t msg_id;         /* its message's id (CAN); 0 = replayed from storage */
	bool cancelled;          /* CAN: ends counted as cancelled, not as failed */
	otf_msg_t *hand_msg;     /* handed to the node's new instance (rebuild
	                            * with storage): the message requeued for it */
	otf_msg_slice_t *slices; /* its message's source slices (a batch), cut
	                            * when one of them is cancelled; NULL = none */
	size_t nslices;
	bool sync_wait;            /* msg acknowledged once the record is durable */
	uint64_t sync_token;       /* what makes it durable (otf__exph_store_synced) */
	otf_exph_req_t *sync_next; /* the list waiting for that sync */
	bool sync_queued;          /* the sync reports msg queued, not acked */
	uint64_t retry_after_ns;   /* the last attempt's throttle delay; a
	                            * retryable NACK carries it upstream */
};

/* A FIFO of requests plus the budget they hold: used counts every request
 * the exporter holds (queued, in flight, waiting to retry), so memory is
 * bounded by cap no matter where the requests are. */
typedef struct otf_exph_gauges otf_exph_gauges_t;
typedef struct otf_exph_queue {
	otf_exph_req_t *head, *tail;
	size_t len; /* requests in the FIFO */
	uint64_t used, cap;
	otf_exph_gauges_t *g; /* the exporter's size/capacity self-metrics; may be NULL */
} otf_exph_queue_t;

void otf__exph_queue_init(otf_exph_queue_t *q, uint64_t cap);
/* Takes size units of budget; OTF_E_NOSPACE when used + size > cap. */
int otf__exph_queue_reserve(otf_exph_queue_t *q, uint64_t size);
/* Takes size units even past cap (requests replayed from storage). */
void otf__exph_queue_force(otf_exph_queue_t *q, uint64_t size);
void otf__exph_queue_release(otf_exph_queue_t *q, uint64_t size);

/* otelcol_exporter_queue_size and otelcol_exporter_queue_capacity
 * (gauges, sizer units, attribute exporter=id): one pair per exporter id,
 * shared by its workers (each adds its queue's used and cap). Attaches
 * them to q (with q's cap counted) and detaches (used and cap taken off). */
void otf__exph_queue_gauges_attach(otf_exph_queue_t *q, const char *exporter_id);
void otf__exph_queue_gauges_detach(otf_exph_queue_t *q);
void otf__exph_queue_push(otf_exph_queue_t *q, otf_exph_req_t *r);
otf_exph_req_t *otf__exph_queue_pop(otf_exph_queue_t *q); /* NULL when empty */
/* Unlinks r, which is in q (a request expiring while queued). */
void otf__exph_queue_remove(otf_exph_queue_t *q, otf_exph_req_t *r);

/* ---- the persistent queue (exph_persist.c) ---- */

/* The storage behind a sending queue: one WAL per signal, opened when the
 * first request of the signal comes (or at create, when one is on disk). */
typedef struct otf_exph_store {
	const otf_storage_iface_t *vt;
	void *inst;
	otf_wal_t *wal[OTF_SIGNAL_COUNT];
	int failed[OTF_SIGNAL_COUNT];     /* the open's error, once failed */
	char why[OTF_SIGNAL_COUNT][192];  /* and its message, for each refusal */
	uint64_t token[OTF_SIGNAL_COUNT]; /* appended, not yet synced */
	char base[160];                   /* "exporter_otlp_backend_" */
	bool warned_meta;                 /* metadata over OTF_QREC_MAX_META, logged once */
} otf_exph_store_t;

/* Finds the extension storage (an id checked at build). OTF_E_NOT_FOUND. */
int otf__exph_store_init(otf_exph_store_t *s, otf_node_t *node, const char *storage);
/* For each signal whose queue is on disk: opens it and hands its pending
 * records to cb in order (payload: a new reference, NULL when the record
 * cannot be read or memory ran out: cb settles id then; meta: a new
 * reference to the record's head when it holds client metadata, parsed
 * again with otf_qrec_parse (otflow/storage.h), else NULL). */
typedef void (*otf_exph_replay_cb)(void *ctx, otf_signal_t sig, uint64_t id, uint64_t items,
                                   otf_buf_t *payload, otf_buf_t *meta);
void otf__exph_store_replay(otf_exph_store_t *s, otf_node_t *node, otf_exph_replay_cb cb,
                            void *ctx);
/* Appends a request's record, not yet durable: *token is what
 * otf__exph_store_synced needs. Errors with a reason in why:
 * OTF_E_NOSPACE (max_bytes), -errno of the write (disk full), or the
 * open's error. */
/* m (may be NULL) gives the client metadata stored with the record. */
int otf__exph_store_put(otf_exph_store_t *s, otf_node_t *node, otf_signal_t sig, uint64_t items,
                        const otf_buf_t *payload, const otf_msg_t *m, uint64_t *id, uint64_t *token,
                        char *why, size_t cap);
/* One sync per signal for everything put since the last (group commit):
 * on the WAL's sync thread (wait false: the caller polls), or here. */
void otf__exph_store_sync(otf_exph_store_t *s, bool wait);
/* True when the record of token is durable (*rc 0) or its sync failed
 * (*rc the error). */
bool otf__exph_store_synced(otf_exph_store_t *s, otf_signal_t sig, uint64_t token, int *rc);
/* Opens sig's WAL now (as put would): 0 or the open's error. */
int otf__exph_store_open(otf_exph_store_t *s, otf_node_t *node, otf_signal_t sig);
/* The request is done (sent, or failed for good): its record is consumed. */
void otf__exph_store_settle(otf_exph_store_t *s, otf_signal_t sig, uint64_t id);
void otf__exph_store_close(otf_exph_store_t *s);

/* ---- the sender (exph_sender.c, exph_admit.c) ---- */

typedef enum otf_exph_outcome {
	OTF_EXPH_OK = 0,
	OTF_EXPH_RETRYABLE = 1,
	OTF_EXPH_PERMANENT = 2,
} otf_exph_outcome_t;

typedef struct otf_exph_result {
	otf_exph_outcome_t outcome;
	int error;               /* negative code for the NACK */
	uint64_t retry_after_ns; /* the server's throttling delay; 0 = none */
	uint64_t rejected;       /* OK with partial_success: items the server rejected */
	char reason[160];
} otf_exph_result_t;

typedef struct otf_exph_ops {
	/* Starts one attempt of req, to end within timeout_ms (0 = no
	 * limit). The outcome is reported with otf__exph_done(), later on
	 * the loop and never inside this call. A non-zero return means
	 * nothing was started and *fail (zeroed by the caller) holds the
	 * attempt's outcome: retryable unless the transport set PERMANENT
	 * (a body that cannot be encoded). */
	int (*send)(void *ctx, otf_exph_req_t *req, uint64_t timeout_ms, otf_exph_result_t *fail);
	/* Shutdown: everything queued was sent or failed and nothing is in
	 * flight. The exporter closes its transport and then reports
	 * otf_node_shutdown_done. */
	void (*drained)(void *ctx);
	/* Optional: called once per request when it is queued, while its
	 * message (and so the client metadata in its envelope) is still
	 * there: the message may be acknowledged right after, before any
	 * attempt. The exporter keeps what it needs in req->xdata (the
	 * request headers an authenticator computed). A non-zero return
	 * refuses the message permanently with that code. release frees
	 * xdata when the request ends. */
	int (*capture)(void *ctx, otf_exph_req_t *req, const otf_msg_t *m);
	void (*release)(void *ctx, otf_exph_req_t *req);
	/* Optional: aborts req's attempt in flight (CAN: its message was
	 * cancelled): the transport stops it (gRPC: RST_STREAM CANCEL; HTTP:
	 * the transfer removed), frees tdata and reports nothing; the sender
	 * ends the request. Without it a cancelled attempt runs to its end
	 * and is not retried. */
	void (*abort)(void *ctx, otf_exph_req_t *req);
} otf_exph_ops_t;

/* Timer tokens the sender uses with otf_node_timer_start (retries and
 * waits; the storage's sync once per loop turn). */
#define OTF_EXPH_TIMER_TOKEN 0x4558504854494d52ull
#define OTF_EXPH_SYNC_TOKEN  0x4558504853594e43ull

otf_exph_t *otf__exph_create(otf_node_t *node, const otf_exph_retry_config_t *retry,
                             const otf_exph_queue_config_t *queue, int64_t timeout_ns,
                             const otf_exph_ops_t *ops, void *ctx);
/* Takes msg (the exporter's consume). */
void otf__exph_consume(otf_exph_t *h, otf_msg_t *msg);
/* The outcome of the attempt the transport started for req. */
void otf__exph_done(otf_exph_t *h, otf_exph_req_t *req, const otf_exph_result_t *res);
/* TMR with OTF_EXPH_TIMER_TOKEN, KIL and CAN; true when handled (the
 * caller still unrefs c->payload). CAN (otflow/component.h): the
 * cancelled message's request is dropped from the queue, its retry
 * stopped, its attempt in flight aborted (ops.abort), and a send not yet
 * started is skipped; nacked -ECANCELED, permanent (nobody waits for
 * it), counted OTF_COUNTER_CANCELLED instead of send_failed. A request
 * made of several inputs (a batch: its message's source slices) loses
 * only the cancelled inputs' records while it is queued or waiting to
 * retry (and at the start of each attempt); the others' records are sent
 * and its outcome acknowledged as before. Once every input is cancelled
 * it ends as a cancelled message does, an attempt in flight included;
 * an attempt in flight with inputs left runs to its end. A request whose
 * record is in storage keeps its record whole (after a restart the
 * cancelled records are sent again: at least once). */
bool otf__exph_control(otf_exph_t *h, const otf_ctrl_t *c);
/* Requests in flight (their tdata belongs to the transport). */
typedef void (*otf_exph_each_cb)(void *ctx, otf_exph_req_t *req);
void otf__exph_each_inflight(otf_exph_t *h, otf_exph_each_cb cb, void *ctx);
/* Frees everything; messages still held are dropped (the engine counts
 * them as undelivered). The transport must have released every in-flight
 * attempt's tdata first. */
void otf__exph_destroy(otf_exph_t *h);

/* ---- google.rpc.Status (exph_status.c) ---- */

/* Parses a protobuf google.rpc.Status: code, message (copied into msg, cap
 * bytes, NUL-terminated, may be NULL) and, among details, a
 * google.rpc.RetryInfo's retry_delay (*retry_ns, 0 when absent). Returns 0
 * or OTF_E_INVAL for malformed bytes. */
int otf__exph_status_parse(const uint8_t *p, size_t n, int *code, char *msg, size_t cap,
                           uint64_t *retry_ns);

/* ---- tls: the Collector's configtls.ClientConfig (otflow/tls.h) ---- */

typedef otf_tls_config_t otf_exph_tls_config_t;

/* Item counts held, for tests and logs. */
size_t otf__exph_queued(const otf_exph_t *h);

#endif
