/* exporter `partial` (logs): stores heartbeat snapshots of long-running
 * spans in PostgreSQL and tombstones the spans that ended
 * (seeds/partial-collector-README.md; ../shared/partial-spans.md for the
 * original's behaviour and the defects avoided here).
 *
 * Each request's log records become rows (partial_flatten.h). Rows queue
 * in arrival order and are written by one multi-row INSERT ... ON CONFLICT
 * per statement (up to max_batch_rows rows) on one of the worker's
 * pool_size connections (partial_pg.h, non-blocking), one statement per
 * connection at a time. While statements run, newly arrived requests wait
 * and go into the next one, so under load the batches grow and the round
 * trips are amortised. Several connections matter because a durable commit
 * waits for its WAL flush: with one connection the worker idles through
 * every flush, with several the flushes overlap (PostgreSQL group commit).
 * Statements on different connections may hold the same span; the upsert's
 * rules (tombstone final, newer heartbeat wins) make the result independent
 * of their order, and rows are sorted by primary key in every statement so
 * that concurrent statements lock rows in the same order (no deadlocks). A request is
 * acknowledged when every row it produced is committed; a database error
 * NACKs it as retryable (upsert and tombstone are idempotent, so a retry is
 * safe). Records that cannot be stored (no partial.event, bad frequency,
 * undecodable body) are skipped and counted, never failing the request.
 *
 * Schema: with create_schema (the default) each worker's instance runs the
 * migration (partial_sql.h: one transaction under an advisory lock, every
 * step IF NOT EXISTS, so instances and processes starting together all
 * succeed) on its first reachable connection before its first upsert, and
 * again after an upsert finds the table missing. Rows wait for it; a failed
 * migration fails them (retryable). Without create_schema the table is the
 * operator's (`otflow partial migrate`) and a missing one fails every
 * request with the database's error. */
#include "partial_flatten.h"
#include "partial_pg.h"
#include "partial_sql.h"

#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct partial_exp_config {
	char *postgres;
	int64_t expiry_factor;
	int64_t tombstone_ttl_ns;
	int64_t timeout_ns;
	int64_t max_batch_rows;
	int64_t max_queued_requests;
	int64_t pool_size;
	bool create_schema;
} partial_exp_config_t;

typedef struct pmsg pmsg_t;
struct pmsg {
	otf_msg_t *m;
	uint64_t rows_left;
	bool failed;
	char reason[160];
	pmsg_t *prev, *next;
};

typedef struct partial_exporter partial_exporter_t;

typedef struct pconn {
	partial_exporter_t *e;
	partial_pg_t *pg;
	partial_rows_t inflight; /* rows of the running statement */
	bool busy;
} pconn_t;

struct partial_exporter {
	otf_node_t *node;
	const partial_exp_config_t *cfg;
	pconn_t *conns; /* pool_size */
	size_t nbusy;
	otf_arena_t arena;
	partial_rows_t queue; /* rows waiting, from qhead */
	size_t qhead;
	uint32_t *slots; /* dedupe table for one statement */
	size_t slots_cap;
	bool closing;
	pmsg_t *held; /* requests not yet answered */
	size_t held_len;
	uint64_t skipped_total;
	bool schema_ok; /* migration committed (or create_schema off) */
	bool migrating;
};

static void finish_msg(partial_exporter_t *e, pmsg_t *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		e->held = p->next;
	if (p->next)
		p->next->prev = p->prev;
	e->held_len--;
	uint64_t items = otf_msg_items(p->m);
	if (p->failed) {
		otf_node_count(e->node, OTF_COUNTER_SEND_FAILED, OTF_SIGNAL_LOGS, items);
		otf_msg_nack(p->m, OTF_E_IO, false, p->reason);
	} else {
		otf_node_count(e->node, OTF_COUNTER_SENT, OTF_SIGNAL_LOGS, items);
		otf_msg_ack(p->m);
	}
	otf_free(p);
}

static void maybe_done(partial_exporter_t *e)
{
	if (e->closing && !e->held && !e->nbusy)
		otf_node_shutdown_done(e->node);
}

/* Answers the rows of the finished statement (err NULL = committed). */
static void complete(partial_exporter_t *e, pconn_t *c, const char *err)
{
	for (size_t i = 0; i < c->inflight.len; i++) {
		partial_row_t *r = &c->inflight.items[i];
		pmsg_t *p = r->owner;
		if (err && !p->failed) {
			p->failed = true;
			snprintf(p->reason, sizeof p->reason, "postgres: %s", err);
		}
		if (--p->rows_left == 0)
			finish_msg(e, p);
	}
	partial_rows_clear(&c->inflight);
}

/* Fails every queued row (the migration they waited for failed). */
static void fail_queued(partial_exporter_t *e, const char *err)
{
	size_t from = e->qhead, to = e->queue.len;
	e->qhead = 0;
	e->queue.len = 0;
	for (size_t i = from; i < to; i++) {
		partial_row_t *r = &e->queue.items[i];
		pmsg_t *p = r->owner;
		otf_buf_unref(r->trace);
		r->trace = NULL;
		if (!p->failed) {
			p->failed = true;
			snprintf(p->reason, sizeof p->reason, "postgres: %s", err);
		}
		if (--p->rows_left == 0)
			finish_msg(e, p);
	}
}

static void kick(partial_exporter_t *e);

static void on_migrated(void *ctx, PGresult *res, const char *err)
{
	pconn_t *c = ctx;
	partial_exporter_t *e = c->e;
	(void)res;
	c->busy = false;
	e->nbusy--;
	e->migrating = false;
	if (err) {
		otf_node_log(e->node, OTF_LOG_ERROR,
		             "cannot create the partial_traces schema: %s (grant CREATE on the "
		             "database, or run `otflow partial migrate` as its owner and set "
		             "create_schema: false)",
		             err);
		fail_queued(e, err);
	} else {
		e->schema_ok = true;
		otf_node_log(e->node, OTF_LOG_DEBUG, "partial_traces schema up to date");
		kick(e);
	}
	maybe_done(e);
}

/* Starts the migration on an idle reachable connection; false when none. */
static bool start_migration(partial_exporter_t *e)
{
	if (e->migrating)
		return true;
	for (int64_t i = 0; i < e->cfg->pool_size; i++) {
		pconn_t *c = &e->conns[i];
		if (c->busy || !partial_pg_available(c->pg))
			continue;
		int rc = partial_pg_query(c->pg, partial_sql_migration, 0, NULL, NULL, NULL, false,
		                          on_migrated, c);
		if (rc)
			continue;
		c->busy = true;
		e->nbusy++;
		e->migrating = true;
		return true;
	}
	return false;
}

static uint64_t key_hash(const partial_row_t *r)
{
	uint64_t h = 1469598103934665603ull;
	for (int i = 0; i < 32; i++)
		h = (h ^ (uint8_t)r->trace_id[i]) * 1099511628211ull;
	for (int i = 0; i < 16; i++)
		h = (h ^ (uint8_t)r->span_id[i]) * 1099511628211ull;
	return h;
}

static bool key_eq(const partial_row_t *a, const partial_row_t *b)
{
	return !memcmp(a->trace_id, b->trace_id, 32) && !memcmp(a->span_id, b->span_id, 16);
}

/* The row that decides a key's fate when a statement holds it twice: a
 * tombstone is final; otherwise the newer heartbeat (the later one on a
 * tie, as it arrived last). */
static bool wins(const partial_row_t *cand, const partial_row_t *cur)
{
	if (cur->stop)
		return false;
	if (cand->stop)
		return true;
	return cand->seen_unix_nano >= cur->seen_unix_nano;
}

/* Primary key order (span_id, trace_id): the lock order of every statement. */
static int row_cmp(const void *a, const void *b)
{
	const partial_row_t *x = *(const partial_row_t *const *)a;
	const partial_row_t *y = *(const partial_row_t *const *)b;
	int c = memcmp(x->span_id, y->span_id, 16);
	return c ? c : memcmp(x->trace_id, y->trace_id, 32);
}

static void on_result(void *ctx, PGresult *res, const char *err);

/* Builds and submits one statement from the queue's head on idle c. */
static void submit(partial_exporter_t *e, pconn_t *c)
{
	size_t avail = e->queue.len - e->qhead;
	size_t n = avail < (size_t)e->cfg->max_batch_rows ? avail : (size_t)e->cfg->max_batch_rows;
	/* Move the rows to inflight. */
	if (c->inflight.cap < n) {
		partial_row_t *p = otf_realloc(c->inflight.items, n * sizeof *p);
		if (!p)
			goto oom;
		c->inflight.items = p;
		c->inflight.cap = n;
	}
	size_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	if (e->slots_cap < cap) {
		uint32_t *s = otf_realloc(e->slots, cap * sizeof *s);
		if (!s)
			goto oom;
		e->slots = s;
		e->slots_cap = cap;
	}
	memcpy(c->inflight.items, e->queue.items + e->qhead, n * sizeof(partial_row_t));
	c->inflight.len = n;
	e->qhead += n;
	if (e->qhead == e->queue.len) {
		e->queue.len = 0;
		e->qhead = 0;
	} else if (e->qhead > e->queue.len / 2) {
		/* Keep the queue from creeping forward under steady load. */
		memmove(e->queue.items, e->queue.items + e->qhead,
		        (e->queue.len - e->qhead) * sizeof(partial_row_t));
		e->queue.len -= e->qhead;
		e->qhead = 0;
	}
	/* Dedupe: winners[] lists the index of the deciding row per key. */
	memset(e->slots, 0xff, cap * sizeof *e->slots);
	uint32_t *winners = otf_arena_alloc(&e->arena, n * sizeof *winners);
	if (!winners) {
		complete(e, c, "out of memory");
		return;
	}
	size_t uniq = 0;
	for (size_t i = 0; i < n; i++) {
		partial_row_t *r = &c->inflight.items[i];
		size_t h = key_hash(r) & (cap - 1);
		while (e->slots[h] != UINT32_MAX &&
		       !key_eq(&c->inflight.items[winners[e->slots[h]]], r))
			h = (h + 1) & (cap - 1);
		if (e->slots[h] == UINT32_MAX) {
			e->slots[h] = (uint32_t)uniq;
			winners[uniq++] = (uint32_t)i;
		} else if (wins(r, &c->inflight.items[winners[e->slots[h]]])) {
			winners[e->slots[h]] = (uint32_t)i;
		}
	}
	size_t np = uniq * PARTIAL_UPSERT_PARAMS;
	const char **vals = otf_arena_alloc(&e->arena, np * sizeof *vals);
	int *lens = otf_arena_alloc(&e->arena, np * sizeof *lens);
	int *fmts = otf_arena_alloc(&e->arena, np * sizeof *fmts);
	char *nums = otf_arena_alloc(&e->arena, uniq * 48);
	char *sql = partial_sql_upsert(uniq);
	if (!vals || !lens || !fmts || !nums || !sql) {
		otf_free(sql);
		otf_arena_reset(&e->arena);
		complete(e, c, "out of memory");
		return;
	}
	const partial_row_t **sorted =
	    otf_arena_alloc(&e->arena, (uniq ? uniq : 1) * sizeof *sorted);
	if (!sorted) {
		otf_free(sql);
		otf_arena_reset(&e->arena);
		complete(e, c, "out of memory");
		return;
	}
	for (size_t u = 0; u < uniq; u++)
		sorted[u] = &c->inflight.items[winners[u]];
	qsort(sorted, uniq, sizeof *sorted, row_cmp);
	for (size_t u = 0; u < uniq; u++) {
		const partial_row_t *r = sorted[u];
		size_t k = u * PARTIAL_UPSERT_PARAMS;
		char *ms = nums + u * 48, *seen = ms + 24;
		snprintf(ms, 24, "%" PRId64, r->expiry_ms);
		snprintf(seen, 24, "%" PRId64, r->seen_unix_nano);
		vals[k] = r->trace_id;
		vals[k + 1] = r->span_id;
		vals[k + 2] = r->trace ? (const char *)r->trace->data : "";
		vals[k + 3] = ms;
		vals[k + 4] = seen;
		vals[k + 5] = r->stop ? "t" : "f";
		for (int j = 0; j < PARTIAL_UPSERT_PARAMS; j++) {
			fmts[k + j] = 0;
			lens[k + j] = 0;
		}
		fmts[k + 2] = 1;
		lens[k + 2] = r->trace ? (int)r->trace->len : 0;
	}
	int rc = partial_pg_query(c->pg, sql, (int)np, vals, lens, fmts, false, on_result, c);
	otf_free(sql);
	otf_arena_reset(&e->arena);
	if (rc) {
		complete(e, c, rc == -ENOTCONN ? "database unavailable" : otf_strerror(rc));
		return;
	}
	c->busy = true;
	e->nbusy++;
	return;
oom:
	/* Rows stay queued; fail the statement's would-be rows later. */
	otf_node_log(e->node, OTF_LOG_ERROR, "out of memory building a statement");
}

/* Fills every idle, reachable connection with a statement. */
static void kick(partial_exporter_t *e)
{
	if (!e->schema_ok) {
		if (e->queue.len > e->qhead)
			start_migration(e);
		return;
	}
	for (int64_t i = 0; i < e->cfg->pool_size && e->queue.len > e->qhead; i++) {
		pconn_t *c = &e->conns[i];
		if (c->busy || !partial_pg_available(c->pg))
			continue;
		size_t before = e->queue.len - e->qhead;
		submit(e, c);
		if (!c->busy && e->queue.len - e->qhead == before)
			break; /* out of memory: try again on the next request */
	}
}

static bool any_available(const partial_exporter_t *e)
{
	for (int64_t i = 0; i < e->cfg->pool_size; i++)
		if (partial_pg_available(e->conns[i].pg))
			return true;
	return false;
}

static void on_result(void *ctx, PGresult *res, const char *err)
{
	pconn_t *c = ctx;
	partial_exporter_t *e = c->e;
	(void)res;
	c->busy = false;
	e->nbusy--;
	if (err) {
		bool missing = strstr(err, "does not exist") != NULL;
		otf_node_log(e->node, OTF_LOG_WARN, "upsert of %zu row(s) failed: %s%s",
		             c->inflight.len, err,
		             !missing                ? ""
		             : e->cfg->create_schema ? " (creating the schema again)"
		                                     : " (create_schema is false: run `otflow "
		                                       "partial migrate`)");
		/* Someone dropped the table: migrate again before the next upsert. */
		if (missing && e->cfg->create_schema)
			e->schema_ok = false;
	}
	complete(e, c, err);
	kick(e);
	maybe_done(e);
}

static void consume(void *inst, otf_msg_t *m)
{
	partial_exporter_t *e = inst;
	uint64_t items = otf_msg_items(m);
	bool up = any_available(e);
	if (e->closing || !up || e->held_len >= (size_t)e->cfg->max_queued_requests) {
		otf_node_count(e->node, OTF_COUNTER_SEND_FAILED, OTF_SIGNAL_LOGS, items);
		otf_msg_nack(m, e->closing ? OTF_E_IO : -EAGAIN, false,
		             e->closing ? "exporter shutting down"
		             : !up      ? "postgres unavailable"
		                        : "too many requests queued");
		return;
	}
	otf_buf_t *p = otf_msg_payload(m);
	otf_logs_t logs;
	otf_pdata_error_t perr;
	memset(&perr, 0, sizeof perr);
	int rc = otf_pdata_decode_logs(&logs, p->data, p->len, &e->arena, NULL, &perr);
	if (rc) {
		char buf[256];
		otf_arena_reset(&e->arena);
		otf_node_log(e->node, OTF_LOG_WARN, "undecodable logs request: %s",
		             otf_pdata_error_format(&perr, buf, sizeof buf));
		otf_node_count(e->node, OTF_COUNTER_SEND_FAILED, OTF_SIGNAL_LOGS, items);
		otf_msg_nack(m, rc, true, "undecodable logs request");
		return;
	}
	pmsg_t *pm = otf_calloc(1, sizeof *pm);
	if (!pm) {
		otf_arena_reset(&e->arena);
		otf_msg_nack(m, OTF_E_NOMEM, false, "out of memory");
		return;
	}
	pm->m = m;
	partial_flatten_opts_t o = {.expiry_factor = e->cfg->expiry_factor,
	                            .tombstone_ttl_ms = e->cfg->tombstone_ttl_ns / 1000000};
	partial_flatten_stats_t st;
	memset(&st, 0, sizeof st);
	size_t before = e->queue.len;
	rc = partial_flatten_logs(&logs, &o, &e->arena, &e->queue, &st);
	otf_arena_reset(&e->arena);
	if (st.skipped) {
		e->skipped_total += st.skipped;
		otf_node_log(e->node, OTF_LOG_WARN,
		             "skipped %" PRIu64 " of %" PRIu64 " log record(s) (first: %s)",
		             st.skipped, st.records, st.first_skip);
	}
	if (rc) {
		for (size_t i = before; i < e->queue.len; i++)
			otf_buf_unref(e->queue.items[i].trace);
		e->queue.len = before;
		otf_free(pm);
		otf_msg_nack(m, rc, false, "out of memory");
		return;
	}
	size_t added = e->queue.len - before;
	if (!added) {
		otf_free(pm);
		otf_node_count(e->node, OTF_COUNTER_SENT, OTF_SIGNAL_LOGS, items);
		otf_msg_ack(m);
		return;
	}
	for (size_t i = before; i < e->queue.len; i++)
		e->queue.items[i].owner = pm;
	pm->rows_left = added;
	pm->next = e->held;
	if (e->held)
		e->held->prev = pm;
	e->held = pm;
	e->held_len++;
	kick(e);
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	const partial_exp_config_t *cfg = ctx->config;
	partial_exporter_t *e = otf_calloc(1, sizeof *e);
	if (!e)
		return OTF_E_NOMEM;
	e->node = ctx->node;
	e->cfg = cfg;
	e->schema_ok = !cfg->create_schema;
	otf_arena_init(&e->arena, 0);
	e->conns = otf_calloc((size_t)cfg->pool_size, sizeof *e->conns);
	int rc = e->conns ? 0 : OTF_E_NOMEM;
	for (int64_t i = 0; !rc && i < cfg->pool_size; i++) {
		e->conns[i].e = e;
		/* one connection logs its outages; the others would repeat it */
		rc = partial_pg_create(otf_node_loop(e->node), cfg->postgres,
		                       (uint64_t)(cfg->timeout_ns / 1000000), i ? NULL : e->node,
		                       &e->conns[i].pg);
	}
	if (rc) {
		for (int64_t i = 0; e->conns && i < cfg->pool_size; i++)
			partial_pg_destroy(e->conns[i].pg);
		otf_free(e->conns);
		otf_arena_close(&e->arena);
		otf_free(e);
		return rc;
	}
	*inst = e;
	return 0;
}

static void control(void *inst, const otf_ctrl_t *c)
{
	partial_exporter_t *e = inst;
	if (c->type == OTF_CTRL_KIL) {
		e->closing = true;
		maybe_done(e);
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void destroy(void *inst)
{
	partial_exporter_t *e = inst;
	for (int64_t i = 0; i < e->cfg->pool_size; i++)
		partial_pg_destroy(e->conns[i].pg);
	/* Only at the shutdown deadline can requests still be held. */
	while (e->held) {
		pmsg_t *p = e->held;
		e->held = p->next;
		otf_msg_drop(p->m);
		otf_free(p);
	}
	partial_rows_free(&e->queue);
	for (int64_t i = 0; i < e->cfg->pool_size; i++)
		partial_rows_free(&e->conns[i].inflight);
	otf_free(e->conns);
	otf_free(e->slots);
	otf_arena_close(&e->arena);
	otf_free(e);
}

static int validate(const void *config, char *err, size_t errlen)
{
	const partial_exp_config_t *c = config;
	if (c->expiry_factor < 1 || c->expiry_factor > 1000) {
		snprintf(err, errlen, "expiry_factor must be between 1 and 1000");
		return OTF_E_CONFIG;
	}
	if (c->tombstone_ttl_ns < 0 || c->timeout_ns <= 0) {
		snprintf(err, errlen, "tombstone_ttl must be >= 0 and timeout > 0");
		return OTF_E_CONFIG;
	}
	if (c->max_batch_rows < 1 || c->max_batch_rows > PARTIAL_MAX_ROWS) {
		snprintf(err, errlen, "max_batch_rows must be between 1 and %d", PARTIAL_MAX_ROWS);
		return OTF_E_CONFIG;
	}
	if (c->pool_size < 1 || c->pool_size > 64) {
		snprintf(err, errlen, "pool_size must be between 1 and 64");
		return OTF_E_CONFIG;
	}
	if (c->max_queued_requests < 1) {
		snprintf(err, errlen, "max_queued_requests must be at least 1");
		return OTF_E_CONFIG;
	}
	if (!c->postgres || !c->postgres[0]) {
		snprintf(err, errlen, "postgres: a connection string is required");
		return OTF_E_CONFIG;
	}
	char *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(c->postgres, &perr);
	if (!opts) {
		snprintf(err, errlen, "postgres: %s", perr ? perr : "invalid connection string");
		PQfreemem(perr);
		return OTF_E_CONFIG;
	}
	PQconninfoFree(opts);
	return 0;
}

static const otf_config_field_t k_schema[] = {
    {.key = "postgres",
     .type = OTF_CFG_STRING,
     .offset = offsetof(partial_exp_config_t, postgres),
     .required = true,
     .hint = "libpq connection string",
     .desc = "libpq connection string or URL (postgres://user:pw@host:5432/db?sslmode=disable)."},
    {.key = "expiry_factor",
     .type = OTF_CFG_INT,
     .offset = offsetof(partial_exp_config_t, expiry_factor),
     .def = "3",
     .desc = "A heartbeat expires partial.frequency * expiry_factor after it was stored "
             "(1..1000)."},
    {.key = "tombstone_ttl",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(partial_exp_config_t, tombstone_ttl_ns),
     .def = "10m",
     .desc = "How long a stopped span's tombstone is kept, so late heartbeats for it are "
             "ignored."},
    {.key = "timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(partial_exp_config_t, timeout_ns),
     .def = "5s",
     .desc = "Deadline of a connect or a statement; past it the connection is reset."},
    {.key = "max_batch_rows",
     .type = OTF_CFG_INT,
     .offset = offsetof(partial_exp_config_t, max_batch_rows),
     .def = "1000",
     .desc = "Rows per upsert statement (1..10000)."},
    {.key = "max_queued_requests",
     .type = OTF_CFG_INT,
     .offset = offsetof(partial_exp_config_t, max_queued_requests),
     .def = "1024",
     .desc = "Requests a worker holds while waiting for the database; more are refused "
             "(retryable)."},
    {.key = "pool_size",
     .type = OTF_CFG_INT,
     .offset = offsetof(partial_exp_config_t, pool_size),
     .def = "4",
     .desc = "PostgreSQL connections per worker (1..64); statements on them overlap their "
             "commits' WAL flushes."},
    {.key = "create_schema",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(partial_exp_config_t, create_schema),
     .def = "true",
     .desc = "Create or upgrade the partial_traces schema at start, before the first write "
             "(advisory-locked, idempotent); false leaves it to `otflow partial migrate` and "
             "fails writes while the table is missing."},
    OTF_CONFIG_FIELD_END,
};

const otf_component_factory_t otf_exporter_partial_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "partial",
    .description = "Stores heartbeat snapshots of long-running spans in PostgreSQL.",
    .stability = {OTF_STABILITY_UNDEFINED, OTF_STABILITY_UNDEFINED, OTF_STABILITY_ALPHA},
    .config_schema = k_schema,
    .config_size = sizeof(partial_exp_config_t),
    .validate = validate,
    .create = {NULL, NULL, create},
    .consume = {NULL, NULL, consume},
    .control = control,
    .destroy = destroy,
};
