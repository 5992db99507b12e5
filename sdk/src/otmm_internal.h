/* libotmmap internals shared by the sdk/src files: the file layout, the mapped handle and a
 * minimal back-to-front protobuf writer into caller-provided (stack) buffers. */
#ifndef OTMM_INTERNAL_H
#define OTMM_INTERNAL_H

#include "otmm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the otlp-mmap format is native-endian; libotmmap supports little-endian hosts only"
#endif

/* ---- layout (docs/mmap-protocol.md) ---- */
enum { RING_EVENTS = 0, RING_SPANS = 1, RING_MEASUREMENTS = 2 };

#define HDR_SIZE      64
#define RING_HDR_SIZE 32
#define DICT_HDR_SIZE 64
#define AGG_HDR_SIZE  64
#define AGG_MAGIC     0x314747414D4D544FULL /* "OTMMAGG1" */

/* file header offsets */
#define H_VERSION  0
#define H_EVENTS   8
#define H_SPANS    16
#define H_MEAS     24
#define H_DICT     32
#define H_EPOCH    40
#define H_AGG      48
#define H_AGG_SIZE 56
/* dictionary header offsets */
#define D_END     0
#define D_ENTRIES 8
#define D_DROPPED 16 /* + 8 * ring */
#define D_REFUSED 40
#define D_PID     48
/* aggregation header and cell offsets */
#define A_MAGIC    0
#define A_CELLS    8
#define A_CELLSIZE 16
#define A_USED     24
#define A_REFUSED  32
#define C_STATE    0
#define C_KIND     4
#define C_METRIC   8
#define C_ATTRS    16
#define C_START    24
#define C_VALUE    32
#define C_COUNT    40
#define C_MIN      48
#define C_MAX      56
#define C_TIME     64
#define C_NBUCKETS 72
#define C_BUCKETS  80
enum { CELL_SUM_I64 = 1, CELL_SUM_F64 = 2, CELL_GAUGE_I64 = 3, CELL_GAUGE_F64 = 4, CELL_HIST = 5 };

typedef struct otmm_ring {
	uint8_t *base;
	_Atomic int64_t *reader;
	_Atomic int64_t *writer;
	_Atomic int32_t *avail;
	uint8_t *slots;
	uint64_t n, mask, slot_size;
	uint32_t shift;
	_Atomic uint64_t *dropped; /* in the dictionary header */
} otmm_ring_t;

/* process-local content-addressed index: hash -> value (a dictionary ref or a cell index + 1) */
typedef struct otmm_index_entry {
	_Atomic uint64_t hash;
	_Atomic int64_t val;
} otmm_index_entry_t;

#define OTMM_MAX_CALLBACKS 64

/* string -> ref cache keyed by the caller's pointer (dict.c); each half is its own atomic */
typedef struct otmm_key_cache {
	_Atomic(const char *) ptr;
	_Atomic int64_t ref;
} otmm_key_cache_t;
#define OTMM_KEY_CACHE 512 /* entries, a power of two */

struct otmm {
	int fd;
	uint8_t *map;
	size_t map_len;          /* mapping length: the maximum file size */
	_Atomic uint64_t fsize;  /* current file size (file covers [0, fsize)) */
	pthread_mutex_t grow_mu; /* only for growing the file */
	otmm_ring_t rings[3];
	uint64_t dict_off;   /* absolute offset of the dictionary */
	uint64_t dict_limit; /* absolute offset the dictionary never passes */
	_Atomic int64_t *dict_end;
	_Atomic int64_t *dict_entries;
	_Atomic uint64_t *dict_refused;
	otmm_index_entry_t *intern; /* dictionary interning */
	otmm_index_entry_t *series; /* format 1001: series -> cell */
	uint64_t index_mask;
	uint64_t spin_ns;
	int64_t resource_ref;
	int64_t version;
	uint8_t *agg; /* format 1001: aggregation section, NULL otherwise */
	uint64_t ncells, cell_size;
	pthread_mutex_t cb_mu;
	otmm_callback_fn cb_fn[OTMM_MAX_CALLBACKS];
	void *cb_arg[OTMM_MAX_CALLBACKS];
	int n_cb;
	otmm_key_cache_t key_cache[OTMM_KEY_CACHE];
};

/* ---- back-to-front protobuf writer ----
 * Writes go in front of `p`; a message's contents are written first (last field first), then its
 * length and tag. `bad` is set when the buffer is too small; the writer then stops writing. */
typedef struct pbw {
	uint8_t *start;
	uint8_t *p;
	uint8_t *end;
	int bad;
} pbw_t;

static inline void pbw_init(pbw_t *w, uint8_t *buf, size_t cap)
{
	w->start = buf;
	w->p = buf + cap;
	w->end = buf + cap;
	w->bad = 0;
}
static inline size_t pbw_len(const pbw_t *w)
{
	return (size_t)(w->end - w->p);
}
static inline void pbw_raw(pbw_t *w, const void *b, size_t n)
{
	if (w->bad || (size_t)(w->p - w->start) < n) {
		w->bad = 1;
		return;
	}
	w->p -= n;
	if (n)
		memcpy(w->p, b, n);
}
static inline unsigned varint_size(uint64_t v)
{
	unsigned n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}
static inline void pbw_varint(pbw_t *w, uint64_t v)
{
	if (v < 0x80) { /* lengths, tags and small values: one byte */
		if (w->bad || w->p == w->start) {
			w->bad = 1;
			return;
		}
		*--w->p = (uint8_t)v;
		return;
	}
	unsigned n = varint_size(v);
	if (w->bad || (size_t)(w->p - w->start) < n) {
		w->bad = 1;
		return;
	}
	w->p -= n;
	uint8_t *q = w->p;
	while (v >= 0x80) {
		*q++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*q = (uint8_t)v;
}
static inline void pbw_tag(pbw_t *w, uint32_t field, uint32_t wt)
{
	pbw_varint(w, ((uint64_t)field << 3) | wt);
}
static inline void pbw_uint(pbw_t *w, uint32_t field, uint64_t v)
{
	pbw_varint(w, v);
	pbw_tag(w, field, 0);
}
static inline void pbw_fixed64(pbw_t *w, uint32_t field, uint64_t v)
{
	if (w->bad || w->p - w->start < 8) {
		w->bad = 1;
		return;
	}
	w->p -= 8;
	memcpy(w->p, &v, 8);
	pbw_tag(w, field, 1);
}
static inline void pbw_fixed32(pbw_t *w, uint32_t field, uint32_t v)
{
	if (w->bad || w->p - w->start < 4) {
		w->bad = 1;
		return;
	}
	w->p -= 4;
	memcpy(w->p, &v, 4);
	pbw_tag(w, field, 5);
}
static inline void pbw_double(pbw_t *w, uint32_t field, double d)
{
	uint64_t v;
	memcpy(&v, &d, 8);
	pbw_fixed64(w, field, v);
}
static inline void pbw_bytes(pbw_t *w, uint32_t field, const void *b, size_t n)
{
	pbw_raw(w, b, n);
	pbw_varint(w, n);
	pbw_tag(w, field, 2);
}
/* a nested message whose contents were written since `mark` (= pbw_len before them) */
static inline void pbw_close(pbw_t *w, uint32_t field, size_t mark)
{
	pbw_varint(w, pbw_len(w) - mark);
	pbw_tag(w, field, 2);
}

/* ---- cross-file internals ---- */
static inline uint8_t *otmm__at(const otmm_t *m, uint64_t off)
{
	return m->map + off;
}
uint64_t otmm__hash(const void *p, size_t n, uint64_t seed);
/* ring.c: publishes an encoded record (varint length included); drops and counts when full
 * after the spin or when larger than the slot. */
int otmm__ring_write(otmm_t *m, int ring, const uint8_t *rec, size_t len);
/* ring.c: counts a drop of a record that never reached the ring (e.g. dictionary full). */
void otmm__ring_drop(otmm_t *m, int ring);
/* dict.c: interned entry (ref > 0) or a negative error */
int64_t otmm__intern(otmm_t *m, const void *bytes, size_t len);
int64_t otmm__intern_str(otmm_t *m, const char *s);
int otmm__ensure_file(otmm_t *m, uint64_t end);
/* encode.c */
int otmm__enc_value(pbw_t *w, const otmm_value_t *v); /* AnyValue contents */
int otmm__enc_attrs(otmm_t *m, pbw_t *w, uint32_t field, const otmm_attr_t *a, size_t n);
static inline void otmm__enc_span_context(pbw_t *w, uint32_t field, const otmm_span_context_t *c)
{
	size_t mark = pbw_len(w);
	if (c->trace_flags)
		pbw_fixed32(w, 3, c->trace_flags);
	pbw_bytes(w, 2, c->trace_id, 16);
	pbw_bytes(w, 1, c->span_id, 8);
	pbw_close(w, field, mark);
}
/* Record encoders keep their pbw_t in a local that never escapes, so that the compiler holds it in
 * registers; these pass a copy to the out-of-line encoders. */
static inline int otmm__enc_attrs_local(otmm_t *m, pbw_t *w, uint32_t field, const otmm_attr_t *a,
                                        size_t n)
{
	pbw_t t = *w;
	int rc = otmm__enc_attrs(m, &t, field, a, n);
	*w = t;
	return rc;
}
static inline int otmm__enc_value_local(pbw_t *w, const otmm_value_t *v)
{
	pbw_t t = *w;
	int rc = otmm__enc_value(&t, v);
	*w = t;
	return rc;
}
/* Starts a record in a stack buffer of `cap` bytes, using only as much of it as one slot of
 * `ring` holds: a larger record is dropped anyway, so it is refused as soon as it outgrows the
 * slot (before more of its keys are interned), and the bytes written stay within a few cache
 * lines of the callees' stack frames. */
static inline void otmm__record_init(const otmm_t *m, int ring, pbw_t *w, uint8_t *buf, size_t cap)
{
	size_t slot = m->rings[ring].slot_size;
	pbw_init(w, buf, slot < cap ? slot : cap);
}
/* finishes a record: prepends the varint length; returns the record's first byte */
static inline int otmm__finish(pbw_t *w)
{
	pbw_varint(w, pbw_len(w));
	return w->bad ? OTMM_E_TOO_BIG : 0;
}
/* logger.c: one Event on the events ring (logs and span events) */
int otmm__emit_event(otmm_t *m, int64_t scope_ref, uint64_t time, int32_t severity,
                     const char *severity_text, const otmm_value_t *body, const char *event_name,
                     const otmm_span_context_t *ctx, const otmm_attr_t *attrs, size_t n_attrs);
/* agg.c (format 1001) */
int otmm__cell_for(const otmm_instrument_t *inst, const uint8_t *attrs, size_t attr_len,
                   uint8_t **cell);
int otmm__cell_update(const otmm_instrument_t *inst, uint8_t *cell, int is_double, int64_t i,
                      double d);
int otmm__agg_init(otmm_t *m);

#endif
