/*
 * libotmmap: an OpenTelemetry SDK that writes spans, logs and metrics into a memory-mapped file
 * (the "otlp-mmap" format, docs/mmap-protocol.md). The file is a flight recorder: whatever a call
 * has published stays readable by a collector (otflow's otlp_mmap receiver) even if the
 * application crashes right after.
 *
 * Source of behaviour: the original project's FILE_PROTOCOL.MD and mmap.proto (format version 1),
 * the OpenTelemetry API specification (tracing, logs, metrics instruments), W3C Trace Context for
 * ids and flags. Deviations and extensions are documented in docs/mmap-protocol.md.
 *
 * Guarantees:
 * - No allocation after otmm_open(): every buffer is preallocated at open, on the caller's stack
 *   (records are encoded into a stack buffer of at most OTMM_MAX_RECORD bytes) or in the file.
 *   Calls keep working while the process is out of memory.
 * - Never blocks: a full ring gets a bounded spin (otmm_options_t.spin_ns), then the record is
 *   dropped and counted. The only lock is taken when the dictionary file must grow (rare; a
 *   fallocate call) and when observable callbacks are registered or collected.
 * - Thread safety: an otmm_t, its scopes and its instruments may be used from any number of
 *   threads at once. An otmm_span_t or otmm_series_t is caller-owned memory; a span must not be
 *   used by two threads at the same time (hand it over with the caller's own synchronisation).
 *
 * Units: times are nanoseconds since the Unix epoch (uint64_t, 0 = "now"); sizes are bytes.
 * Strings are NUL-terminated UTF-8 unless a length is given; the library never keeps a pointer
 * to caller memory past the call (it copies into the file or into the caller's own structs).
 *
 * Errors: functions return 0 or a negative OTMM_E_* code (otmm_strerror() describes it).
 */
#ifndef OTMM_H
#define OTMM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
/* libotmmap is built with hidden visibility; everything declared here is its public API. */
#pragma GCC visibility push(default)

/* File format versions (docs/mmap-protocol.md). */
#define OTMM_FORMAT_V1         1    /* the original project's version 1 (default) */
#define OTMM_FORMAT_AGGREGATED 1001 /* version 1 + metrics aggregated in the file */

#define OTMM_MAX_RECORD 16384 /* largest encoded record (and slot size), bytes */
#define OTMM_MAX_BOUNDS 32    /* most explicit histogram bucket bounds */

/* Error codes (negative). */
enum {
	OTMM_OK = 0,
	OTMM_E_INVAL = -1,   /* bad argument or option */
	OTMM_E_IO = -2,      /* open/mmap/fallocate/flock failed (errno kept in otmm_last_errno) */
	OTMM_E_BUSY = -3,    /* another live producer holds the file */
	OTMM_E_FULL = -4,    /* ring full after the bounded spin: record dropped and counted */
	OTMM_E_TOO_BIG = -5, /* record larger than the ring's slot: dropped and counted */
	OTMM_E_DICT_FULL = -6, /* dictionary at its maximum size: record dropped and counted */
	OTMM_E_NOMEM = -7,     /* allocation at otmm_open failed */
	OTMM_E_LIMIT = -8,     /* a fixed table is full (callbacks, bounds, series attributes) */
	OTMM_E_STATE = -9,     /* wrong state: span already ended, not recording */
};
const char *otmm_strerror(int err);

/* ---- values and attributes ----
 * A flat value (easy to fill from C and from ctypes). For strings and bytes `ptr`/`len`
 * (len may be SIZE_MAX for a NUL-terminated string); for arrays `ptr` points to `len`
 * otmm_value_t items (scalars only, no nested arrays). */
enum {
	OTMM_VAL_NONE = 0,
	OTMM_VAL_STRING = 1,
	OTMM_VAL_BOOL = 2,
	OTMM_VAL_INT = 3,
	OTMM_VAL_DOUBLE = 4,
	OTMM_VAL_BYTES = 5,
	OTMM_VAL_ARRAY = 6,
};
typedef struct otmm_value {
	int32_t type; /* OTMM_VAL_* */
	int32_t b;    /* bool */
	int64_t i;    /* int */
	double d;     /* double */
	const void *ptr;
	size_t len;
} otmm_value_t;

/* One attribute. Keys are interned in the file's dictionary (written once per process). */
typedef struct otmm_attr {
	const char *key;
	otmm_value_t value;
} otmm_attr_t;

static inline otmm_value_t otmm_str(const char *s)
{
	otmm_value_t v = {OTMM_VAL_STRING, 0, 0, 0.0, s, (size_t)-1};
	return v;
}
static inline otmm_value_t otmm_int(int64_t i)
{
	otmm_value_t v = {OTMM_VAL_INT, 0, i, 0.0, NULL, 0};
	return v;
}
static inline otmm_value_t otmm_double(double d)
{
	otmm_value_t v = {OTMM_VAL_DOUBLE, 0, 0, d, NULL, 0};
	return v;
}
static inline otmm_value_t otmm_bool(int b)
{
	otmm_value_t v = {OTMM_VAL_BOOL, b != 0, 0, 0.0, NULL, 0};
	return v;
}
static inline otmm_attr_t otmm_attr(const char *key, otmm_value_t v)
{
	otmm_attr_t a = {key, v};
	return a;
}

/* ---- the file ---- */
typedef struct otmm otmm_t;

typedef struct otmm_options {
	/* Ring geometry per signal: N slots (power of two, 8..2^30) of B bytes (multiple of 8,
	 * 64..OTMM_MAX_RECORD). Defaults 1024 x 512. */
	uint32_t events_slots, spans_slots, measurements_slots;
	uint32_t events_slot_size, spans_slot_size, measurements_slot_size;
	uint64_t dictionary_size; /* initial dictionary bytes (default 64 KiB) */
	uint64_t dictionary_max;  /* maximum dictionary bytes, reserved as address space (64 MiB) */
	uint32_t intern_capacity; /* process-local intern/series index entries, power of 2 (4096) */
	uint32_t spin_ns;         /* bounded spin on a full ring before dropping (5000; 0 = none) */
	int32_t aggregate;        /* 1: format 1001, metrics aggregated in the file */
	uint32_t cells;           /* format 1001: number of series cells (1024) */
	uint32_t cell_size;       /* format 1001: bytes per cell, multiple of 64, >= 128 (256) */
	const otmm_attr_t *resource_attrs; /* copied into the file at open */
	size_t n_resource_attrs;
} otmm_options_t;

/* Fills the defaults above. */
void otmm_options_init(otmm_options_t *opt);

/* Creates (mode 0600) or re-initialises in place the file at `path` and maps it. A new epoch
 * starts; whatever the file held is discarded. Takes an exclusive flock for the producer's
 * lifetime (OTMM_E_BUSY when another live process holds it). opt may be NULL (defaults).
 * Allocates the otmm_t and its tables: the only allocation of the library. */
int otmm_open(const char *path, const otmm_options_t *opt, otmm_t **out);
/* Unmaps and closes. No other thread may use `m` or anything derived from it any more.
 * Data already published stays in the file. NULL is accepted. */
void otmm_close(otmm_t *m);
/* msync of the whole file (only needed to survive a machine crash; a process crash loses
 * nothing that was published). */
int otmm_flush(otmm_t *m);
/* errno of the last OTMM_E_IO from otmm_open in this thread. */
int otmm_last_errno(void);

typedef struct otmm_stats {
	uint64_t written[3]; /* records claimed per ring: events, spans, measurements */
	uint64_t dropped[3]; /* records dropped per ring (full, too big, dictionary full) */
	uint64_t dictionary_bytes, dictionary_entries, dictionary_refused;
	uint64_t cells_used, cells_refused; /* format 1001 */
	int64_t version;                    /* OTMM_FORMAT_* */
	uint64_t epoch;                     /* the header's time_unix_nano */
} otmm_stats_t;
int otmm_stats(const otmm_t *m, otmm_stats_t *out);

/* ---- instrumentation scopes: a tracer, a logger and a meter are each a scope ----
 * The scope (name, version, attributes, pointing at the file's resource) is interned in the
 * dictionary by content. otmm_scope_t is a small value; copy it freely. */
typedef struct otmm_scope {
	otmm_t *m;
	int64_t ref;
} otmm_scope_t;
typedef otmm_scope_t otmm_tracer_t;
typedef otmm_scope_t otmm_logger_t;
typedef otmm_scope_t otmm_meter_t;
int otmm_scope(otmm_t *m, const char *name, const char *version, const otmm_attr_t *attrs,
               size_t n_attrs, otmm_scope_t *out);

/* ---- ids and time ---- */
uint64_t otmm_now(void); /* CLOCK_REALTIME, ns */
/* Random W3C ids (never all zero) from a per-thread xorshift128+ seeded by getrandom(). */
void otmm_new_trace_id(uint8_t out[16]);
void otmm_new_span_id(uint8_t out[8]);

/* ---- spans ---- */
enum {
	OTMM_SPAN_KIND_UNSPECIFIED = 0,
	OTMM_SPAN_KIND_INTERNAL = 1,
	OTMM_SPAN_KIND_SERVER = 2,
	OTMM_SPAN_KIND_CLIENT = 3,
	OTMM_SPAN_KIND_PRODUCER = 4,
	OTMM_SPAN_KIND_CONSUMER = 5,
};
enum { OTMM_STATUS_UNSET = 0, OTMM_STATUS_OK = 1, OTMM_STATUS_ERROR = 2 };

typedef struct otmm_span_context {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t trace_flags; /* W3C flags, 0x01 = sampled */
	uint8_t is_remote;
	uint8_t pad[6];
} otmm_span_context_t;
/* 1 when both ids are non-zero. */
int otmm_span_context_is_valid(const otmm_span_context_t *ctx);

typedef struct otmm_link {
	otmm_span_context_t ctx;
	const char *trace_state; /* may be NULL */
	const otmm_attr_t *attrs;
	size_t n_attrs;
} otmm_link_t;

#define OTMM_STATUS_MESSAGE_MAX 128
/* A span, in caller-owned memory (stack, struct field, ...). Fields are read-only for callers
 * except through the functions below; `ctx` is the span's context for propagation. */
typedef struct otmm_span {
	otmm_t *m;
	int64_t scope_ref;
	otmm_span_context_t ctx;
	int32_t status_code;
	uint8_t recording; /* 0 when the start record was dropped: later calls write nothing */
	uint8_t ended;
	uint8_t pad[2];
	char status_message[OTMM_STATUS_MESSAGE_MAX]; /* copied, truncated */
} otmm_span_t;

/* Starts a span: a new span id, the parent's trace id (or a new one when parent is NULL or
 * invalid), the parent's flags (sampled for a root). Writes a start record with the attributes,
 * then the links (as link records). start_time 0 = now. The span is always initialised, also
 * when an error is returned (OTMM_E_FULL etc.: the span is then not recording; its context is
 * still valid for propagation). */
int otmm_span_start(const otmm_scope_t *tracer, const char *name, int kind,
                    const otmm_span_context_t *parent, const otmm_attr_t *attrs, size_t n_attrs,
                    const otmm_link_t *links, size_t n_links, uint64_t start_time,
                    otmm_span_t *span);
/* Sets attributes after start (one record; for a repeated key the last value wins). */
int otmm_span_set_attributes(otmm_span_t *span, const otmm_attr_t *attrs, size_t n_attrs);
int otmm_span_update_name(otmm_span_t *span, const char *name);
int otmm_span_add_links(otmm_span_t *span, const otmm_link_t *links, size_t n_links);
/* A span event, written to the events ring as an Event with this span's context. */
int otmm_span_add_event(otmm_span_t *span, const char *name, uint64_t time,
                        const otmm_attr_t *attrs, size_t n_attrs);
/* The "exception" event with exception.type/message/stacktrace (NULLs are left out). */
int otmm_span_record_exception(otmm_span_t *span, const char *type, const char *message,
                               const char *stacktrace);
/* Kept in the span and written by otmm_span_end. message may be NULL. */
void otmm_span_set_status(otmm_span_t *span, int code, const char *message);
/* Ends the span (end_time 0 = now). A second end returns OTMM_E_STATE and writes nothing. */
int otmm_span_end(otmm_span_t *span, uint64_t end_time);

/* ---- logs ---- */
typedef struct otmm_log_record {
	uint64_t time_unix_nano; /* 0 = now */
	int32_t severity_number; /* OTLP SeverityNumber 0..24 */
	const char *severity_text;
	otmm_value_t body; /* type OTMM_VAL_NONE for no body */
	const char *event_name;
	const otmm_span_context_t *span_context; /* NULL or invalid: none */
	const otmm_attr_t *attrs;
	size_t n_attrs;
} otmm_log_record_t;
int otmm_log_emit(const otmm_scope_t *logger, const otmm_log_record_t *rec);

/* ---- metrics ---- */
enum {
	OTMM_COUNTER = 1,
	OTMM_UP_DOWN_COUNTER = 2,
	OTMM_HISTOGRAM = 3,
	OTMM_GAUGE = 4,
	OTMM_OBSERVABLE_COUNTER = 5,
	OTMM_OBSERVABLE_UP_DOWN_COUNTER = 6,
	OTMM_OBSERVABLE_GAUGE = 7,
};
/* An instrument, in caller-owned memory; immutable after creation, shareable across threads. */
typedef struct otmm_instrument {
	otmm_t *m;
	int64_t metric_ref; /* MetricRef entry in the dictionary */
	int32_t kind;       /* OTMM_COUNTER ... */
	int32_t is_double;  /* value type: 0 int64, 1 double */
	uint32_t n_bounds;
	uint32_t pad;
	double bounds[OTMM_MAX_BOUNDS];
} otmm_instrument_t;
/* Creates an instrument of `kind` on `meter`. For histograms `bounds` are the explicit bucket
 * bounds (strictly increasing, finite); NULL/0 = the OpenTelemetry default bounds. The
 * definition is interned by full content. */
int otmm_instrument_create(const otmm_scope_t *meter, int kind, const char *name,
                           const char *description, const char *unit, int is_double,
                           const double *bounds, size_t n_bounds, otmm_instrument_t *out);
/* Records a value: counters add (monotonic counters reject negative values with OTMM_E_INVAL),
 * histograms record a sample, gauges set, observable instruments observe (the total for
 * observable counters). The value is converted to the instrument's type. Format 1: one
 * Measurement on the ring; format 1001: an atomic update of the series's cell. */
int otmm_record_i64(const otmm_instrument_t *inst, int64_t value, const otmm_attr_t *attrs,
                    size_t n_attrs);
int otmm_record_f64(const otmm_instrument_t *inst, double value, const otmm_attr_t *attrs,
                    size_t n_attrs);

/* A series bound once to an instrument and an attribute set, so that recording skips encoding
 * and lookup (format 1001: one atomic operation on the cell). Caller-owned; the instrument must
 * outlive it. The encoded attributes must fit in OTMM_SERIES_ATTR_MAX bytes (else OTMM_E_LIMIT). */
#define OTMM_SERIES_ATTR_MAX 240
typedef struct otmm_series {
	const otmm_instrument_t *inst;
	void
	    *cell; /* format 1001: the series's cell in the file; NULL = Measurements on the ring */
	uint32_t attr_len;
	uint32_t pad;
	uint8_t attr_enc[OTMM_SERIES_ATTR_MAX];
} otmm_series_t;
int otmm_series_bind(const otmm_instrument_t *inst, const otmm_attr_t *attrs, size_t n_attrs,
                     otmm_series_t *out);
int otmm_series_record_i64(const otmm_series_t *s, int64_t value);
int otmm_series_record_f64(const otmm_series_t *s, double value);

/* Observable instruments: callbacks registered here run in otmm_collect() (the library starts
 * no thread); they observe with otmm_record_*. At most 64 callbacks (OTMM_E_LIMIT). */
typedef void (*otmm_callback_fn)(void *arg);
int otmm_register_callback(otmm_t *m, otmm_callback_fn fn, void *arg);
int otmm_collect(otmm_t *m);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
