/* SQL texts of the partial components (partial_sql.h). */
#include "partial_sql.h"

#include "otflow/alloc.h"

#include <stdio.h>
#include <string.h>

/* One transaction under an advisory lock, so that two `otflow partial
 * migrate` runs (or a run beside a starting fleet) cannot race on CREATE.
 * Starts from nothing or from the original Go collector's schema
 * (000001_init_schema), whose rows keep working. */
const char partial_sql_migration[] =
    "BEGIN;\n"
    "SET LOCAL client_min_messages = warning;\n"
    "SELECT pg_advisory_xact_lock(727001);\n"
    "CREATE TABLE IF NOT EXISTS partial_traces (\n"
    "  trace_id text NOT NULL,\n"
    "  span_id text NOT NULL,\n"
    "  trace bytea NOT NULL,\n"
    "  \"timestamp\" timestamptz NOT NULL DEFAULT now(),\n"
    "  expires_at timestamptz NOT NULL,\n"
    "  CONSTRAINT partial_traces_pkey PRIMARY KEY (span_id, trace_id)\n"
    ");\n"
    "ALTER TABLE partial_traces\n"
    "  ADD COLUMN IF NOT EXISTS seen_unix_nano bigint NOT NULL DEFAULT 0,\n"
    "  ADD COLUMN IF NOT EXISTS stopped_at timestamptz,\n"
    "  ADD COLUMN IF NOT EXISTS lease_owner text,\n"
    "  ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 1,\n"
    "  ADD COLUMN IF NOT EXISTS failures integer NOT NULL DEFAULT 0;\n"
    "CREATE INDEX IF NOT EXISTS idx_partial_traces_expires_at ON partial_traces (expires_at);\n"
    "CREATE TABLE IF NOT EXISTS partial_traces_dead (\n"
    "  trace_id text NOT NULL,\n"
    "  span_id text NOT NULL,\n"
    "  trace bytea NOT NULL,\n"
    "  \"timestamp\" timestamptz NOT NULL,\n"
    "  seen_unix_nano bigint NOT NULL,\n"
    "  failures integer NOT NULL,\n"
    "  reason text NOT NULL,\n"
    "  dead_at timestamptz NOT NULL DEFAULT now()\n"
    ");\n"
    "CREATE TABLE IF NOT EXISTS otflow_partial_schema (\n"
    "  id integer PRIMARY KEY CHECK (id = 1),\n"
    "  version integer NOT NULL\n"
    ");\n"
    "INSERT INTO otflow_partial_schema VALUES (1, 3)\n"
    "  ON CONFLICT (id) DO UPDATE SET version = GREATEST(otflow_partial_schema.version, 3);\n"
    "COMMIT;\n";

/* Claim: purge expired tombstones, then lease up to $2 expired live rows to
 * owner $1 for $3 ms; $4 true takes only rows downstream refused
 * permanently before (failures > 0; the receiver sends those one at a time,
 * so that one bad span cannot drag a whole batch to the dead-letter table),
 * false only the others. FOR UPDATE SKIP LOCKED makes concurrent receivers
 * take disjoint rows; a row another receiver leased a moment ago has a
 * future expires_at and fails the re-check, so it is not taken twice.
 * Autocommit (READ COMMITTED): the locks last for this statement only,
 * never while spans travel through the pipeline. */
const char partial_sql_claim[] =
    "WITH purged AS (\n"
    "  DELETE FROM partial_traces d USING (\n"
    "    SELECT span_id, trace_id FROM partial_traces\n"
    "    WHERE stopped_at IS NOT NULL AND expires_at < now()\n"
    "    LIMIT $2 FOR UPDATE SKIP LOCKED) x\n"
    "  WHERE d.span_id = x.span_id AND d.trace_id = x.trace_id),\n"
    "c AS (\n"
    "  SELECT span_id, trace_id FROM partial_traces\n"
    "  WHERE expires_at < now() AND stopped_at IS NULL AND (failures > 0) = $4::bool\n"
    "  ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)\n"
    "UPDATE partial_traces p\n"
    "  SET lease_owner = $1, expires_at = now() + $3::bigint * interval '1 millisecond'\n"
    "  FROM c WHERE p.span_id = c.span_id AND p.trace_id = c.trace_id\n"
    "RETURNING p.trace_id, p.span_id, p.version, p.seen_unix_nano,\n"
    "  (extract(epoch FROM p.\"timestamp\") * 1000000)::bigint, p.trace";

typedef struct sb {
	char *p;
	size_t len, cap;
	int oom;
} sb_t;

static void sb_add(sb_t *b, const char *s)
{
	size_t n = strlen(s);
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *q = otf_realloc(b->p, cap);
		if (!q) {
			b->oom = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

static char *sb_done(sb_t *b)
{
	if (b->oom) {
		otf_free(b->p);
		return NULL;
	}
	return b->p;
}

/* (VALUES ($k::text,$k+1::text,$k+2::bigint), ...) for n key triples
 * starting at parameter first. */
static void key_values(sb_t *b, size_t n, size_t first)
{
	char tmp[96];
	sb_add(b, "(VALUES ");
	for (size_t i = 0; i < n; i++) {
		size_t k = first + i * PARTIAL_KEY_PARAMS;
		snprintf(tmp, sizeof tmp, "%s($%zu::text,$%zu::text,$%zu::bigint)", i ? "," : "", k,
		         k + 1, k + 2);
		sb_add(b, tmp);
	}
	sb_add(b, ") AS v(t, s, ver)");
}

char *partial_sql_upsert(size_t n)
{
	sb_t b = {0};
	char tmp[160];
	sb_add(&b, "INSERT INTO partial_traces AS p (trace_id, span_id, trace, \"timestamp\", "
	           "expires_at, seen_unix_nano, stopped_at)\n"
	           "SELECT v.t, v.s, v.b, now(), now() + v.ms * interval '1 millisecond', v.seen, "
	           "CASE WHEN v.stop THEN now() END\nFROM (VALUES ");
	for (size_t i = 0; i < n; i++) {
		size_t k = 1 + i * PARTIAL_UPSERT_PARAMS;
		snprintf(
		    tmp, sizeof tmp,
		    "%s($%zu::text,$%zu::text,$%zu::bytea,$%zu::bigint,$%zu::bigint,$%zu::bool)",
		    i ? "," : "", k, k + 1, k + 2, k + 3, k + 4, k + 5);
		sb_add(&b, tmp);
	}
	/* A tombstone is final: nothing overwrites it. A stop always wins over
	 * a live row; a heartbeat only when it is not older than the stored
	 * snapshot (out-of-order delivery across exporter replicas). Any
	 * write ends a receiver's lease and bumps the version, so a receiver
	 * that emitted the old version will not delete the refreshed row. */
	sb_add(&b, ") AS v(t, s, b, ms, seen, stop)\n"
	           "ON CONFLICT (span_id, trace_id) DO UPDATE SET trace = EXCLUDED.trace, "
	           "\"timestamp\" = EXCLUDED.\"timestamp\", expires_at = EXCLUDED.expires_at, "
	           "seen_unix_nano = GREATEST(p.seen_unix_nano, EXCLUDED.seen_unix_nano), "
	           "stopped_at = EXCLUDED.stopped_at, lease_owner = NULL, version = p.version + 1\n"
	           "WHERE p.stopped_at IS NULL AND (EXCLUDED.stopped_at IS NOT NULL OR "
	           "EXCLUDED.seen_unix_nano >= p.seen_unix_nano)");
	return sb_done(&b);
}

char *partial_sql_delete(size_t n)
{
	sb_t b = {0};
	sb_add(&b, "DELETE FROM partial_traces p USING ");
	key_values(&b, n, 2);
	sb_add(&b, "\nWHERE p.trace_id = v.t AND p.span_id = v.s AND p.version = v.ver "
	           "AND p.lease_owner = $1");
	return sb_done(&b);
}

char *partial_sql_release(size_t n)
{
	sb_t b = {0};
	sb_add(&b, "UPDATE partial_traces p SET lease_owner = NULL, "
	           "expires_at = now() + $2::bigint * interval '1 millisecond' FROM ");
	key_values(&b, n, 3);
	sb_add(&b, "\nWHERE p.trace_id = v.t AND p.span_id = v.s AND p.version = v.ver "
	           "AND p.lease_owner = $1");
	return sb_done(&b);
}

char *partial_sql_fail(size_t n)
{
	sb_t b = {0};
	/* Two disjoint halves of the same key set (failures + 1 below or at
	 * the limit), so no row is modified twice in the statement. */
	sb_add(&b, "WITH v(t, s, ver) AS (SELECT * FROM ");
	key_values(&b, n, 5);
	sb_add(&b,
	       "),\n"
	       "dead AS (DELETE FROM partial_traces p USING v\n"
	       "  WHERE p.trace_id = v.t AND p.span_id = v.s AND p.version = v.ver\n"
	       "  AND p.lease_owner = $1 AND p.failures + 1 >= $3::int\n"
	       "  RETURNING p.trace_id, p.span_id, p.trace, p.\"timestamp\", p.seen_unix_nano,\n"
	       "  p.failures + 1 AS failures),\n"
	       "moved AS (INSERT INTO partial_traces_dead (trace_id, span_id, trace, "
	       "\"timestamp\", seen_unix_nano, failures, reason)\n"
	       "  SELECT trace_id, span_id, trace, \"timestamp\", seen_unix_nano, failures, "
	       "$4::text FROM dead RETURNING 1),\n"
	       "kept AS (UPDATE partial_traces p SET lease_owner = NULL, failures = p.failures + "
	       "1,\n"
	       "  expires_at = now() + $2::bigint * interval '1 millisecond' FROM v\n"
	       "  WHERE p.trace_id = v.t AND p.span_id = v.s AND p.version = v.ver\n"
	       "  AND p.lease_owner = $1 AND p.failures + 1 < $3::int RETURNING 1)\n"
	       "SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM kept)");
	return sb_done(&b);
}
