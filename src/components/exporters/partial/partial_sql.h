/* SQL of the partial components: the schema migration and the statement
 * texts. One table, `partial_traces`, compatible with the original Go
 * collector's migration (same name, columns and primary key), plus the
 * columns otflow needs:
 *
 *   trace_id        text        lowercase hex, 32 characters
 *   span_id         text        lowercase hex, 16 characters
 *   trace           bytea       protobuf TracesData: one resource, one scope, one span
 *                               (empty for a tombstone)
 *   "timestamp"     timestamptz last write (database clock)
 *   expires_at      timestamptz live row: when the receiver may emit it;
 *                               leased row: when the lease ends;
 *                               tombstone: when it may be purged
 *   seen_unix_nano  bigint      the heartbeat log record's time (SDK clock);
 *                               an older heartbeat never overwrites a newer one
 *   stopped_at      timestamptz NULL = live; set = tombstone (span ended)
 *   lease_owner     text        receiver instance holding the row while it
 *                               is being emitted; NULL otherwise
 *   version         bigint      bumped on every write; a receiver deletes a
 *                               row only if it is still the version it emitted
 *   failures        integer     times downstream refused the span permanently
 *   PRIMARY KEY (span_id, trace_id), INDEX on (expires_at)
 *
 *
 * Table `partial_traces_dead`: rows moved aside, never read again by the
 * receiver (trace_id, span_id, trace, "timestamp", seen_unix_nano, failures,
 * reason, dead_at): snapshots that do not decode, and spans downstream
 * refused permanently max_permanent_failures times. Operators inspect,
 * re-insert or delete them by hand.
 *
 * Every time comparison uses the database's now(), never a host clock, so
 * clock skew between exporter and receiver hosts cannot cause early GC. */
#ifndef OTF_PARTIAL_SQL_H
#define OTF_PARTIAL_SQL_H

#include <stddef.h>

extern const char partial_sql_migration[];

/* Parameters per row of the upsert: trace_id, span_id, trace (binary),
 * expiry ms, seen_unix_nano, stop (bool). */
#define PARTIAL_UPSERT_PARAMS 6
/* Parameters per row of delete/release: trace_id, span_id, version. */
#define PARTIAL_KEY_PARAMS 3
/* PostgreSQL accepts at most 65535 parameters per statement. */
#define PARTIAL_MAX_ROWS 10000

/* Statement texts for n rows (n >= 1); malloc'd via otf_malloc, NULL on
 * OOM. The caller otf_free()s them. */
char *partial_sql_upsert(size_t n);
/* $1 owner, then n (trace_id, span_id, version) triples. */
char *partial_sql_delete(size_t n);
/* $1 owner, $2 retry delay ms, then n triples. */
char *partial_sql_release(size_t n);
/* Permanent failure: $1 owner, $2 retry delay ms, $3 failure limit, $4
 * reason, then n triples. Rows reaching the limit move to
 * partial_traces_dead, the others count the failure and wait the delay.
 * Returns one row: moved, kept (bigint, text format). */
char *partial_sql_fail(size_t n);
/* $1 owner, $2 max rows, $3 lease ms, $4 suspects (bool). Returns (binary): trace_id,
 * span_id, version, seen_unix_nano, timestamp (us since epoch), trace. */
extern const char partial_sql_claim[];

#endif
