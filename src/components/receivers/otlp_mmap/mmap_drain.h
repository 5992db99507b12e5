/* Drain of one otlp-mmap file: reads the three rings, assembles span
 * lifecycle records into whole spans, turns events into log records,
 * aggregates measurements, and produces encoded OTLP requests
 * (docs/mmap-protocol.md, "Reader (otlp_mmap receiver)"). No libuv, no
 * engine: the receiver, `otflow mmap dump`, the fuzz target and the
 * benchmark drive it.
 *
 * Positions: the drain reads ahead of each ring's reader_index with its
 * own cursor. otf__mmd_cut() closes a "cut": everything read so far is
 * either in the requests queued by then or in the open state (open spans,
 * metric aggregation). Committing a cut (otf__mmd_commit) stores the
 * cursors as reader_index, which lets producers reuse those slots.
 * at_most_once commits right after the cut; at_least_once commits once the
 * cut's requests are acknowledged and its open state is checkpointed.
 *
 * Thread rules: one drain belongs to one thread.
 */
#ifndef OTF_MMAP_DRAIN_H
#define OTF_MMAP_DRAIN_H

#include "mmap_msg.h"
#include "mmap_reader.h"

#include "otflow/buf.h"
#include "otflow/pdata.h"

/* Output temporality of sums and histograms. */
enum { OTF_MMD_TEMP_CUMULATIVE = 0, OTF_MMD_TEMP_DELTA = 1 };

/* Attribute set on spans emitted without their end (TTL, epoch change, limit). */
#define OTF_MMD_INCOMPLETE_KEY "otflow.mmap.incomplete"

typedef struct otf__mmd_opts {
	uint64_t hole_timeout_ns; /* claimed-but-unpublished slots are skipped after this */
	uint64_t span_ttl_ns;     /* open spans older than this are emitted incomplete; 0 = never */
	size_t max_open_spans;    /* beyond it the oldest is emitted incomplete */
	size_t max_series;        /* metric series beyond it are dropped (counted) */
	size_t max_batch;         /* items per request */
	int temporality;          /* OTF_MMD_TEMP_* */
	/* Reference path: decode spans and log records into the pdata tree and
	 * encode each request from it at the cut (how the drain worked first;
	 * tests and the benchmark compare the default direct path with it). */
	bool via_tree;
} otf__mmd_opts_t;

void otf__mmd_opts_default(otf__mmd_opts_t *o);

typedef struct otf__mmd_req {
	otf_signal_t signal;
	otf_buf_t *payload;
	uint64_t items;
} otf__mmd_req_t;

typedef struct otf__mmd_ospan otf__mmd_ospan_t;
/* Requests of one signal built directly (mmap_direct.c). */
typedef struct otf__mmd_dir otf__mmd_dir_t;
typedef struct otf__mmd_series otf__mmd_series_t;

typedef struct otf__mmd_stats {
	uint64_t records[OTF_MMR_RINGS];
	uint64_t spans, logs, points;
	uint64_t bad_records;     /* undecodable messages or bad ids: skipped */
	uint64_t unknown_span;    /* lifecycle records for a span that is not open */
	uint64_t duplicate_start; /* a second Start for an open span (the later wins) */
	uint64_t incomplete;      /* spans emitted without an end (marker attribute) */
	uint64_t dropped_points;  /* measurements that could not be aggregated */
	uint64_t encode_errors;
	uint64_t bad_cells; /* format 1001 cells whose kind, buckets or metric disagree */
} otf__mmd_stats_t;

typedef struct otf__mmd {
	otf__mmr_t r;
	otf__mmx_t x;
	otf__mmd_opts_t o;
	bool attached;
	uint8_t *rec; /* one record, copied out of its slot */
	size_t rec_cap;
	/* open spans: hash table + list oldest first */
	otf__mmd_ospan_t **tab;
	size_t tab_cap, open;
	otf__mmd_ospan_t *oldest, *newest;
	/* pending completed items, in their arenas */
	otf_arena_t span_arena, log_arena, metric_arena;
	struct pend_span *spans;
	size_t spans_len, spans_cap;
	struct pend_log *logs;
	size_t logs_len, logs_cap;
	/* metric series */
	otf__mmd_series_t **series;
	size_t series_cap, series_len;
	uint64_t metrics_start_ns; /* wall time the aggregation state began */
	uint64_t last_collect_ns;
	bool no_cells; /* collecting for an epoch change: the cells are the new producer's */
	/* direct path (!o.via_tree): records encoded as they are decoded */
	otf__mmd_dir_t *dlogs, *dspans;
	/* requests ready to send */
	otf__mmd_req_t *out;
	size_t out_len, out_cap;
	int64_t cut[OTF_MMR_RINGS]; /* cursor - 1 at the last cut */
	otf__mmd_stats_t st;
} otf__mmd_t;

int otf__mmd_init(otf__mmd_t *d, const otf__mmd_opts_t *o);
/* Opens path (not created). 0 or -errno. */
int otf__mmd_open(otf__mmd_t *d, const char *path);
/* Takes over fd (the fuzz target passes a memfd). */
int otf__mmd_open_fd(otf__mmd_t *d, int fd);
void otf__mmd_close(otf__mmd_t *d); /* frees queued requests too */

/* Checks the file and reads up to max records per ring. wall_ns is the
 * clock for emitted incomplete spans, mono_ns times holes and TTLs.
 * Returns records consumed (>= 0; skipped slots count), or a negative
 * otf__mmr_state_t-derived code: OTF_E_NOT_FOUND while the file is not
 * ready, OTF_E_UNSUPPORTED for a bad layout or version (r.why). */
long otf__mmd_poll(otf__mmd_t *d, uint64_t mono_ns, uint64_t wall_ns, size_t max);
/* Emits open spans older than the TTL (and all of them when all). */
void otf__mmd_expire(otf__mmd_t *d, uint64_t mono_ns, uint64_t wall_ns, bool all);
/* Encodes pending spans and log records into queued requests and records
 * the cut (the cursors now). */
void otf__mmd_cut(otf__mmd_t *d);
/* Encodes the metric aggregation state into a queued request (delta
 * sums and histograms restart). wall_ns is the collection time. */
void otf__mmd_collect(otf__mmd_t *d, uint64_t wall_ns);
/* Takes the oldest queued request; false when none. */
bool otf__mmd_take(otf__mmd_t *d, otf__mmd_req_t *req);
/* Stores the positions of the last cut as the rings' reader_index. */
void otf__mmd_commit(otf__mmd_t *d, const int64_t pos[OTF_MMR_RINGS]);

/* Open state for checkpoints and dump. */
size_t otf__mmd_open_spans(const otf__mmd_t *d);
/* Calls fn for each open span: ids (16 + 8 bytes), scope ref, the stored
 * lifecycle records ([u8 kind][varint len][body]...). */
typedef void (*otf__mmd_span_fn)(void *ctx, const uint8_t ids[24], int64_t scope_ref,
                                 const uint8_t *recs, size_t len);
void otf__mmd_each_open(const otf__mmd_t *d, otf__mmd_span_fn fn, void *ctx);
/* Restores one open span (checkpoint load). */
int otf__mmd_restore_span(otf__mmd_t *d, const uint8_t ids[24], int64_t scope_ref,
                          const uint8_t *recs, size_t len, uint64_t mono_ns);

/* mmap_metrics.c */
int otf__mmd_measure(otf__mmd_t *d, const uint8_t *p, size_t n, uint64_t wall_ns);
void otf__mmd_series_free(otf__mmd_t *d);
/* One live format-1001 cell as read from the file (mmap_cells.c). */
typedef struct otf__mmd_cell {
	uint64_t index;
	uint32_t kind; /* 1 sum i64, 2 sum f64, 3 gauge i64, 4 gauge f64, 5 histogram */
	bool is_double;
	int64_t metric_ref, attributes_ref;
	uint64_t start_ns, time_ns;
	int64_t i;
	double f; /* double value, or the histogram's sum */
	uint64_t count;
	double min, max;
	const uint64_t *buckets;
	uint32_t nb;
} otf__mmd_cell_t;
/* Reads every live cell into the series table (collect does it first). */
void otf__mmd_cells_load(otf__mmd_t *d);
/* Sets the cumulative state of the cell's series (created on first sight). */
int otf__mmd_cell_update(otf__mmd_t *d, const otf__mmd_cell_t *c);
/* mmap_direct.c: each item (an otf_log_record_t for the logs builder, an
 * otf_span_t for the traces one) is encoded at once into its scope group;
 * a 65th scope flushes first. Flush wraps the groups into one request
 * (queued) and starts over. add: 0 or a negative code (item not added). */
otf__mmd_dir_t *otf__mmd_dir_create(otf_signal_t signal);
void otf__mmd_dir_destroy(otf__mmd_dir_t *g);
int otf__mmd_dir_add(otf__mmd_t *d, otf__mmd_dir_t *g, int64_t scope_ref, const void *item);
void otf__mmd_dir_flush(otf__mmd_t *d, otf__mmd_dir_t *g);
size_t otf__mmd_dir_items(const otf__mmd_dir_t *g);
/* drain-internal: queue an encoded request */
int otf__mmd_queue(otf__mmd_t *d, otf_signal_t s, otf_buf_t *payload, uint64_t items);

#endif
