/* Durable storage for sending queues: otflow's write-ahead log (WAL) and
 * the storage extension interface (OTF_EXT_STORAGE, otflow/extension.h)
 * through which exporters reach it (`sending_queue: {storage:
 * file_storage/x}`).
 *
 * The WAL is a queue format, with no knowledge of OTLP or exporters: a
 * directory of segment files, each a file header and a sequence of
 * records. A record (little endian, docs/durability.md):
 *
 *   off  0  u32 magic   OTF_WAL_REC_MAGIC
 *   off  4  u32 len     payload bytes (at most OTF_WAL_MAX_RECORD)
 *   off  8  u32 crc     CRC32C (Castagnoli) of bytes 4..8 and 12..24+len
 *   off 12  u32 type    OTF_WAL_APPEND or OTF_WAL_ACK
 *   off 16  u64 id      message id (APPEND: its id; ACK: the id consumed)
 *   off 24  payload     len bytes (APPEND only; ACK records have len 0)
 *
 * Ids increase by one per append and across restarts. A record is pending
 * from its APPEND until its ACK. Segments are deleted oldest first once
 * every record they hold is acknowledged, so an ACK never outlives the
 * segment of an APPEND it refers to. On open, segments are read in order:
 * a record whose CRC (or magic, or length) is wrong is skipped up to the
 * next valid record and counted (corrupt_records); bytes at the end of a
 * segment that hold no valid record (a write torn by a crash) are
 * truncated and counted (torn_tails). The pending records are then handed
 * out once, in id order (otf_wal_take_recovered). A new segment is started
 * at every open.
 *
 * Durability: otf_wal_append writes the record with one write(2) (in the
 * page cache: it survives the process being killed); otf_wal_sync makes
 * everything appended so far durable with one fdatasync (when options.fsync)
 * for every caller that appended before it: group commit. ACKs are not
 * synced (a lost ACK means one duplicate after a crash, never a loss).
 *
 * Thread rules: every call takes the WAL's mutex, so workers may share one
 * WAL; fdatasync runs without it (appends go on meanwhile; a segment roll
 * waits for it). Nothing here touches a socket; the only thread is the
 * optional sync thread of otf_wal_sync_request. Errors: negative codes (otflow/err.h), or
 * -errno of the failing system call. */
#ifndef OTFLOW_STORAGE_H
#define OTFLOW_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OTF_WAL_REC_MAGIC   0x314c5741u /* "AWL1" on disk */
#define OTF_WAL_HEADER      24u
#define OTF_WAL_MAX_RECORD  (256u << 20) /* payload bytes */
#define OTF_WAL_FILE_MAGIC  "OTFWAL1\n"  /* the first 8 bytes of a segment */
#define OTF_WAL_FILE_HEADER 8u

enum { OTF_WAL_APPEND = 1, OTF_WAL_ACK = 2 };

/* ---- the record format (wal_format.c): pure functions, fuzzed ---- */

/* CRC32C (Castagnoli, reflected 0x82F63B78), continuing from crc (0 to
 * start). Debian ships no C library for it; this is the table form. */
uint32_t otf_crc32c(uint32_t crc, const void *p, size_t n);

/* Encodes a record header for payload (len bytes) into hdr[OTF_WAL_HEADER]. */
void otf_wal_record_header(uint8_t hdr[OTF_WAL_HEADER], uint32_t type, uint64_t id,
                           const void *payload, uint32_t len);

typedef struct otf_wal_record {
	uint32_t type;
	uint64_t id;
	const uint8_t *data; /* borrowed from the parsed buffer */
	uint32_t len;
} otf_wal_record_t;

/* Parses one record at p (n bytes available). Returns the bytes it takes
 * (> 0), 0 when n is too short for the record its header announces, or
 * OTF_E_INVAL when the bytes are not a valid record (magic, type, length
 * limit, CRC). */
int64_t otf_wal_record_parse(const uint8_t *p, size_t n, otf_wal_record_t *r);

typedef struct otf_wal_scan_stats {
	uint64_t records;         /* valid records delivered */
	uint64_t corrupt_records; /* runs of invalid bytes between valid records */
	uint64_t corrupt_bytes;
	uint64_t torn_tails; /* 1 when the buffer ends in bytes holding no valid record */
	uint64_t torn_bytes;
} otf_wal_scan_stats_t;

/* Calls cb for each valid record of a segment body (the bytes after the
 * file header), in order, skipping invalid runs (resynchronising on the
 * next offset where a valid record parses). Returns the offset where the
 * valid data ends (the truncation point of a torn tail); st is added to. */
typedef void (*otf_wal_scan_cb)(void *ctx, const otf_wal_record_t *r);
size_t otf_wal_scan(const uint8_t *p, size_t n, otf_wal_scan_cb cb, void *ctx,
                    otf_wal_scan_stats_t *st);

/* ---- the log (wal.c) ---- */

typedef struct otf_wal otf_wal_t;

typedef struct otf_wal_options {
	uint64_t segment_bytes; /* a new segment past this size; 0 = 8 MiB */
	uint64_t max_bytes;     /* bytes of all segments; appends past it fail; 0 = no limit */
	bool fsync;             /* otf_wal_sync calls fdatasync */
	bool create_directory;  /* mkdir -p the directory (mode dir_mode) */
	uint32_t dir_mode;      /* 0 = 0750 */
} otf_wal_options_t;

typedef struct otf_wal_stats {
	uint64_t pending;    /* records appended and not acknowledged */
	uint64_t disk_bytes; /* bytes of the segment files */
	uint64_t segments;
	uint64_t recovered; /* pending records found at open */
	otf_wal_scan_stats_t scan;
	uint64_t write_errors; /* failed appends (disk full, I/O error) */
	uint64_t syncs;        /* fdatasync calls */
	uint64_t segments_deleted;
} otf_wal_stats_t;

/* Opens (creating when asked) the WAL in dir and recovers it as described
 * above. Errors: -errno (with a message in err naming dir), OTF_E_NOMEM. */
int otf_wal_open(const char *dir, const otf_wal_options_t *opt, otf_wal_t **out, char *err,
                 size_t errlen);

/* Hands out the records recovered at open that are still pending, in id
 * order, once: the first call gets them, later calls get none. data is
 * valid during the call only. Returns the count. */
typedef void (*otf_wal_recovered_cb)(void *ctx, uint64_t id, const uint8_t *data, size_t len);
size_t otf_wal_take_recovered(otf_wal_t *w, otf_wal_recovered_cb cb, void *ctx);

/* Appends a record of len payload bytes (the concatenation of the nparts
 * parts) and sets *id. *sync_token is what otf_wal_sync needs to make this
 * record durable. Errors: OTF_E_NOSPACE (max_bytes reached),
 * OTF_E_TOO_LARGE (len over OTF_WAL_MAX_RECORD), -errno of a failed write
 * (ENOSPC: disk full; the partial record is cut off again). */
typedef struct otf_wal_part {
	const void *p;
	size_t n;
} otf_wal_part_t;
int otf_wal_append(otf_wal_t *w, const otf_wal_part_t *parts, size_t nparts, uint64_t *id,
                   uint64_t *sync_token);

/* Makes every append up to token durable (at once when a later sync
 * already did). 0 or -errno of fdatasync. */
int otf_wal_sync(otf_wal_t *w, uint64_t token);

/* The same without waiting: the WAL's sync thread (started on first use,
 * joined by otf_wal_close) makes every append up to token durable, and the
 * appends made meanwhile gather for its next sync (group commit off the
 * caller's thread). otf_wal_sync_poll tells whether token is done: true
 * with *rc 0, or -errno of the fdatasync that covered it. */
void otf_wal_sync_request(otf_wal_t *w, uint64_t token);
bool otf_wal_sync_poll(otf_wal_t *w, uint64_t token, int *rc);

/* Marks id consumed (each pending id once); deletes the oldest segments
 * whose records are all consumed. 0, OTF_E_NOT_FOUND (not pending), or
 * -errno of the ACK record's write (then the record is replayed again
 * after a restart: a duplicate, not a loss). */
int otf_wal_ack(otf_wal_t *w, uint64_t id);

void otf_wal_stats(otf_wal_t *w, otf_wal_stats_t *st);
/* Closes the files; pending records stay on disk for the next open. */
void otf_wal_close(otf_wal_t *w);

/* ---- a queued request's payload (queue_record.c): pure, fuzzed ---- */

/* What a sending queue appends for one request (docs/durability.md,
 * little endian):
 *
 *   version 1:  u8 1, u8 signal, u64 items, body
 *   version 2:  u8 2, u8 signal, u64 items, u32 meta_len, meta, body
 *   meta:       u32 count, then count times: u16 key_len, u32 value_len,
 *               key bytes, value bytes (no NUL; keys non-empty)
 *
 * meta is the request's client metadata (the message's envelope headers:
 * what headers_setter's from_context, authenticators and routers read),
 * so that a request replayed after a restart carries it again. Version 1
 * records (no metadata) are still read. */
#define OTF_QREC_V1       1
#define OTF_QREC_V2       2
#define OTF_QREC_MAX_META (64u << 10) /* metadata bytes kept per request */

typedef struct otf_qrec {
	uint8_t version, signal;
	uint64_t items;
	const uint8_t *meta; /* borrowed; the entries after the count */
	uint32_t meta_len;   /* bytes at meta */
	uint32_t nmeta;      /* entries */
	const uint8_t *body; /* borrowed */
	size_t body_len;
} otf_qrec_t;

/* Writes the version 2 head (everything before the body) into out (cap
 * bytes), keeping the entries keys[i]/values[i] that fit in
 * OTF_QREC_MAX_META (in order; an entry with an empty key is left out);
 * *kept tells how many. Returns the head's length; a cap below
 * otf_qrec_head_size's answer writes nothing and returns that answer. */
size_t otf_qrec_head_size(const char *const *keys, const char *const *values, size_t n);
size_t otf_qrec_encode_head(uint8_t *out, size_t cap, uint8_t signal, uint64_t items,
                            const char *const *keys, const char *const *values, size_t n,
                            size_t *kept);

/* Parses a payload of either version: 0, or OTF_E_INVAL when it is short,
 * of another version, or its metadata is malformed (lengths past the end,
 * an empty key, over OTF_QREC_MAX_META). */
int otf_qrec_parse(const uint8_t *p, size_t n, otf_qrec_t *r);

/* One metadata entry of a parsed record. */
typedef struct otf_qrec_entry {
	const uint8_t *key, *value; /* borrowed, not NUL-terminated */
	uint16_t key_len;
	uint32_t value_len;
} otf_qrec_entry_t;
/* Reads the entry at *off (start at 0) and advances *off: false at the
 * end. Only for records otf_qrec_parse accepted. */
bool otf_qrec_meta_next(const otf_qrec_t *r, size_t *off, otf_qrec_entry_t *e);

/* ---- the storage extension interface (ext_ifaces[OTF_EXT_STORAGE]) ---- */

/* A queue name is the Collector's storage client name: kind, type, name
 * and signal, "exporter_otlp_backend_logs" (exporter otlp/backend, logs;
 * "exporter_otlp__logs" for otlp). */
typedef struct otf_storage_iface {
	/* The WAL of queue name, opened on first use and shared by every
	 * caller of the same name (the exporter's workers). Errors as
	 * otf_wal_open, with err. */
	int (*queue_open)(void *instance, const char *name, otf_wal_t **wal, char *err,
	                  size_t errlen);
	/* Gives back a WAL from queue_open; the last release closes it. */
	void (*queue_release)(void *instance, otf_wal_t *wal);
	/* True when queue name has data on disk from an earlier run: opening
	 * it now replays that data. */
	bool (*queue_exists)(void *instance, const char *name);
} otf_storage_iface_t;

#ifdef __cplusplus
}
#endif
#endif
