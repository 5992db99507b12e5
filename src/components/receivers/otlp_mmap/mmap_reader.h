/* Reader of an otlp-mmap file, format version 1 (docs/mmap-protocol.md,
 * "Reader (otlp_mmap receiver)"): header validation, the three rings and
 * the dictionary. Internal to the otlp_mmap receiver, `otflow mmap dump`
 * and the fuzz target; no libuv, no engine.
 *
 * The file is untrusted input: every offset and length read from it is
 * checked against the mapping before use, and a record is copied out of
 * its slot before it is decoded, so a producer rewriting the file under us
 * can give wrong content but never an out-of-bounds access. A file
 * truncated below its mapped size is corrupt: otf__mmr_check() compares
 * the size before every poll, and an access that still hits a page past
 * the end (the file shrank after the check) is contained by mmap_guard.h
 * (the page reads zeros); either way the reader turns BAD for good and
 * otf__mmr_corrupt() says so: its owner closes it and opens the file anew.
 *
 * Mappings are never unmapped while the reader lives (dictionary growth
 * maps the grown file again and keeps the old mapping), so no pointer
 * handed out becomes invalid before otf__mmr_close() or an epoch reset.
 *
 * Thread rules: one reader belongs to one thread.
 */
#ifndef OTF_MMAP_READER_H
#define OTF_MMAP_READER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ring indices, in file order of their header offsets. */
enum { OTF_MMR_EVENTS = 0, OTF_MMR_SPANS = 1, OTF_MMR_MEASUREMENTS = 2, OTF_MMR_RINGS = 3 };

#define OTF_MMR_HEADER_SIZE 64u
#define OTF_MMR_DICT_HEADER 64u
#define OTF_MMR_VERSION     1
#define OTF_MMR_VERSION_AGG 1001 /* version 1 + in-file aggregation section */

typedef struct otf__mmr_ring {
	uint64_t off;     /* absolute offset of the ring header */
	uint64_t n;       /* num_buffers (power of two) */
	uint64_t b;       /* buffer_size, bytes per slot */
	uint32_t shift;   /* log2(n) */
	int64_t next;     /* local cursor: next sequence number to read */
	int64_t stored;   /* last value this reader stored in reader_index */
	int64_t hole_seq; /* sequence waited on, -1 when none */
	uint64_t hole_since_ns;
	uint64_t read;        /* records returned */
	uint64_t holes;       /* claimed slots never published, skipped */
	uint64_t undecodable; /* slots with a bad length prefix, skipped */
	uint64_t resets;      /* indices moved under us (a producer re-initialised) */
} otf__mmr_ring_t;

typedef struct otf__mmr_map {
	uint8_t *p;
	size_t len;
} otf__mmr_map_t;

typedef struct otf__mmr {
	int fd;
	bool ready;   /* header and rings validated */
	uint8_t *map; /* current mapping of the whole file */
	size_t map_len;
	otf__mmr_map_t *old; /* earlier mappings, kept (see above) */
	size_t old_len, old_cap;
	uint64_t epoch;  /* header time_unix_nano when attached */
	int64_t version; /* header version as last read */
	uint64_t dict_off;
	uint64_t agg_off, agg_size; /* version 1001 aggregation section, else 0 */
	otf__mmr_ring_t ring[OTF_MMR_RINGS];
	uint64_t hole_timeout_ns;
	uint64_t epoch_changes;
	volatile sig_atomic_t fault; /* set by the SIGBUS guard (mmap_guard.h) */
	bool corrupt;                /* shrank under the reader: close and reopen */
	bool lock_seen;              /* a producer's flock was seen this epoch */
	char why[128];               /* why the file is not ready, for logs and dump */
} otf__mmr_t;

/* Opens path read-write (reader_index is the reader's one write) without
 * creating it. 0, or -errno. Not yet ready: call otf__mmr_check(). */
int otf__mmr_open(otf__mmr_t *r, const char *path, uint64_t hole_timeout_ns);
/* Same over an already open descriptor (taken over; the fuzz target passes a memfd). */
int otf__mmr_open_fd(otf__mmr_t *r, int fd, uint64_t hole_timeout_ns);
void otf__mmr_close(otf__mmr_t *r);

/* Result of otf__mmr_check(). */
typedef enum otf__mmr_state {
	OTF_MMR_NOT_READY = 0, /* empty, zero version, rings not initialised: retry later */
	OTF_MMR_OK = 1,
	OTF_MMR_NEW_EPOCH = 2, /* attached (first time, or a new producer re-initialised the
	                        * file): the caller resets everything it derived from it */
	OTF_MMR_BAD = 3,       /* invalid layout or unsupported version (r->why); retry later */
} otf__mmr_state_t;

/* Validates (first call) or re-validates the header, remaps when the file
 * grew, detects a new epoch. Cheap when nothing changed (one fstat). When
 * start_at_stored is true a new epoch resumes at reader_index + 1 (the
 * file's own cursor), else also (there is no other). */
otf__mmr_state_t otf__mmr_check(otf__mmr_t *r);

/* Result of otf__mmr_next(). */
#define OTF_MMR_REC   1 /* a record was copied out */
#define OTF_MMR_EMPTY 0 /* nothing published at the cursor (yet) */
#define OTF_MMR_SKIP  2 /* a hole or an undecodable slot was skipped; call again */

/* Copies the message body of the record at the ring's cursor into buf
 * (capacity cap >= ring b) and advances the cursor (not reader_index).
 * now_ns (monotonic) times holes: a slot claimed (writer_index past it)
 * but not published for hole_timeout_ns is skipped and counted. Sooner
 * only when the producer is known to be gone: its exclusive flock was
 * seen held this epoch and can now be taken (libotmmap); writers that
 * take no lock (every original SDK) always get the full timeout. */
int otf__mmr_next(otf__mmr_t *r, int ring, uint64_t now_ns, uint8_t *buf, size_t cap, size_t *len);
/* True when a record is published at the cursor (no copy, no side effect). */
bool otf__mmr_available(const otf__mmr_t *r, int ring);
/* Release-stores reader_index = seq (the last sequence the reader is done
 * with); no-op below the last stored value. */
void otf__mmr_commit(otf__mmr_t *r, int ring, int64_t seq);
/* Loads of the ring header indices (for dump and stats). */
int64_t otf__mmr_reader_index(const otf__mmr_t *r, int ring);
int64_t otf__mmr_writer_index(const otf__mmr_t *r, int ring);
/* Dictionary header: end offset and completed entries. */
int64_t otf__mmr_dict_end(const otf__mmr_t *r);
int64_t otf__mmr_dict_entries(const otf__mmr_t *r);

/* libotmmap's drop counters in the dictionary header (0 from other
 * writers): i = 0 events, 1 spans, 2 measurements, 3 dictionary refused. */
uint64_t otf__mmr_drops(const otf__mmr_t *r, int i);

/* Dictionary entry at absolute offset ref: its bytes [*p, *p + *len) in the
 * mapping. ref 0 is the empty entry (len 0). Remaps once when ref lies past
 * the mapping (the dictionary grew). 0, or OTF_E_NOT_FOUND / OTF_E_LENGTH
 * for a ref outside the dictionary or an entry running past the file. */
int otf__mmr_dict(otf__mmr_t *r, int64_t ref, const uint8_t **p, size_t *len);

/* The lap flag expected in the availability word of sequence seq (the
 * spec's and Java's (int32)(seq >>> log2 N)); the Rust form
 * ((uint32)seq) >> log2 N is accepted too (they differ from 2^32 on). */
static inline int32_t otf__mmr_flag(uint64_t seq, uint32_t shift)
{
	return (int32_t)(uint32_t)(seq >> shift);
}

/* True once the file shrank under the reader (size check or contained
 * SIGBUS): every later check is OTF_MMR_BAD; close and reopen the file. */
bool otf__mmr_corrupt(const otf__mmr_t *r);

const char *otf__mmr_ring_name(int ring); /* "events", "spans", "measurements" */

#endif
