/* receiver `partial` (traces): emits the spans whose heartbeats stopped
 * (seeds/partial-collector-README.md).
 *
 * Every gc_interval (+- jitter) a cycle runs on each worker:
 *   1. claim: one autocommit statement purges expired tombstones and leases
 *      up to batch_size expired live rows to this instance (lease_owner,
 *      expires_at = now + lease_duration), FOR UPDATE SKIP LOCKED, so that
 *      concurrent receivers (other workers, other hosts) get disjoint rows;
 *   2. the leased spans go out as one traces request, each span with
 *      end_time = its last heartbeat and attribute partial.gc = true, and
 *      the receiver waits for the request's acknowledgement;
 *   3. ACK: the rows are deleted, but only if still leased to us at the
 *      version we emitted (a heartbeat in between refreshes the row and
 *      keeps it); retryable NACK: the lease is released so the next cycle
 *      retries; permanent NACK: each row counts a failure and waits one
 *      gc_interval, and at max_permanent_failures it moves to the
 *      partial_traces_dead table (never re-read, never retried forever).
 *      Rows with failures go out one per request at the start of the next
 *      cycles, so one span downstream refuses cannot condemn its batch.
 * No transaction stays open while spans travel, and no row is emitted by
 * two receivers unless a lease expires first (a receiver died, or the
 * pipeline took longer than lease_duration): delivery is exactly once in
 * normal operation and at least once across crashes.
 *
 * A full batch starts the next cycle at once (backlog after an outage). A
 * row whose snapshot cannot be decoded moves to partial_traces_dead and is
 * logged (the original re-read such poison rows forever). A delete, move or
 * release that fails is retried at the start of the next cycle. */
#include "components/exporters/partial/partial_flatten.h"
#include "components/exporters/partial/partial_pg.h"
#include "components/exporters/partial/partial_sql.h"

#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct partial_rcv_config {
	char *postgres;
	int64_t gc_interval_ns;
	int64_t jitter_ns;
	int64_t lease_duration_ns;
	int64_t batch_size;
	int64_t timeout_ns;
	int64_t max_permanent_failures;
} partial_rcv_config_t;

typedef struct rkey {
	char trace_id[33];
	char span_id[17];
	char version[24];
} rkey_t;

typedef struct rkeys {
	rkey_t *items;
	size_t len, cap;
} rkeys_t;

typedef enum { R_IDLE, R_CLAIM, R_SENT, R_SETTLE } rstate_t;

typedef struct partial_receiver {
	otf_node_t *node;
	const partial_rcv_config_t *cfg;
	partial_pg_t *pg;
	otf_arena_t arena;
	char owner[128];
	uint64_t rng;
	rstate_t state;
	bool closing;
	bool again;        /* claim after settling (cycle start, or the last claim was full) */
	bool suspects;     /* claiming rows with failures, one at a time */
	int64_t timer;     /* > 0 while armed */
	rkeys_t emitted;   /* rows in the request downstream */
	rkeys_t to_delete; /* acknowledged or poison rows not yet deleted */
	rkeys_t to_release;
	rkeys_t to_fail; /* refused permanently by downstream */
	rkeys_t to_bury; /* snapshot does not decode */
	char fail_reason[160];
	uint64_t dead_total; /* rows this instance moved to partial_traces_dead */
	uint64_t cycle;
} partial_receiver_t;

static void cycle_end(partial_receiver_t *r);
static void claim(partial_receiver_t *r);

static rkey_t *key_add(rkeys_t *k)
{
	if (k->len == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 64;
		rkey_t *p = otf_realloc(k->items, cap * sizeof *p);
		if (!p)
			return NULL;
		k->items = p;
		k->cap = cap;
	}
	return &k->items[k->len++];
}

static int keys_append(rkeys_t *dst, const rkeys_t *src)
{
	for (size_t i = 0; i < src->len; i++) {
		rkey_t *k = key_add(dst);
		if (!k)
			return OTF_E_NOMEM;
		*k = src->items[i];
	}
	return 0;
}

static uint64_t rnd(partial_receiver_t *r)
{
	r->rng ^= r->rng << 13;
	r->rng ^= r->rng >> 7;
	r->rng ^= r->rng << 17;
	return r->rng;
}

static void arm(partial_receiver_t *r, bool now)
{
	uint64_t ms = 0;
	if (!now) {
		int64_t base = r->cfg->gc_interval_ns / 1000000;
		int64_t j = r->cfg->jitter_ns / 1000000;
		int64_t d = j > 0 ? (int64_t)(rnd(r) % (uint64_t)(2 * j + 1)) - j : 0;
		ms = (uint64_t)(base + d > 1 ? base + d : 1);
	}
	int64_t id = otf_node_timer_start(r->node, ms, 0, 1);
	r->timer = id > 0 ? id : 0;
	if (id <= 0)
		otf_node_log(r->node, OTF_LOG_ERROR, "cannot start the gc timer: %s",
		             otf_strerror((int)id));
}

typedef enum { K_DELETE, K_RELEASE, K_FAIL, K_BURY } kstmt_t;

/* Runs a key statement over keys; cb gets ctx r. */
static int keys_stmt(partial_receiver_t *r, kstmt_t kind, const rkeys_t *keys, partial_pg_cb cb)
{
	size_t n = keys->len > PARTIAL_MAX_ROWS ? PARTIAL_MAX_ROWS : keys->len;
	size_t first = kind == K_DELETE ? 1 : kind == K_RELEASE ? 2 : 4;
	size_t np = first + n * PARTIAL_KEY_PARAMS;
	const char **vals = otf_arena_alloc(&r->arena, np * sizeof *vals);
	char *sql = kind == K_DELETE    ? partial_sql_delete(n)
	            : kind == K_RELEASE ? partial_sql_release(n)
	                                : partial_sql_fail(n);
	if (!vals || !sql) {
		otf_free(sql);
		otf_arena_reset(&r->arena);
		return OTF_E_NOMEM;
	}
	char delay[24], limit[24];
	/* a refused span waits one interval, so its retries are cycles apart */
	snprintf(delay, sizeof delay, "%" PRId64, r->cfg->gc_interval_ns / 1000000);
	snprintf(limit, sizeof limit, "%" PRId64,
	         kind == K_BURY ? (int64_t)1 : r->cfg->max_permanent_failures);
	vals[0] = r->owner;
	if (kind == K_RELEASE)
		vals[1] = "0";
	if (kind == K_FAIL || kind == K_BURY) {
		vals[1] = delay;
		vals[2] = limit;
		vals[3] = kind == K_BURY ? "stored snapshot is not a span" : r->fail_reason;
	}
	for (size_t i = 0; i < n; i++) {
		vals[first + i * 3] = keys->items[i].trace_id;
		vals[first + i * 3 + 1] = keys->items[i].span_id;
		vals[first + i * 3 + 2] = keys->items[i].version;
	}
	int rc = partial_pg_query(r->pg, sql, (int)np, vals, NULL, NULL, false, cb, r);
	otf_free(sql);
	otf_arena_reset(&r->arena);
	return rc;
}

static size_t stmt_rows(const rkeys_t *k)
{
	return k->len > PARTIAL_MAX_ROWS ? PARTIAL_MAX_ROWS : k->len;
}

static void drop_front(rkeys_t *k, size_t n)
{
	memmove(k->items, k->items + n, (k->len - n) * sizeof *k->items);
	k->len -= n;
}

static void settle_step(partial_receiver_t *r);

static void on_settled(void *ctx, PGresult *res, const char *err, rkeys_t *k, const char *what)
{
	partial_receiver_t *r = ctx;
	(void)res;
	if (err) {
		otf_node_log(r->node, OTF_LOG_WARN,
		             "%s of %zu row(s) failed, retried next cycle: %s", what, stmt_rows(k),
		             err);
		cycle_end(r);
		return;
	}
	drop_front(k, stmt_rows(k));
	settle_step(r);
}

static void on_deleted(void *ctx, PGresult *res, const char *err)
{
	on_settled(ctx, res, err, &((partial_receiver_t *)ctx)->to_delete, "delete");
}

static void on_released(void *ctx, PGresult *res, const char *err)
{
	on_settled(ctx, res, err, &((partial_receiver_t *)ctx)->to_release, "release");
}

static void moved_aside(partial_receiver_t *r, PGresult *res, const char *err, bool poison)
{
	if (!err && PQntuples(res) == 1) {
		uint64_t moved = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
		r->dead_total += moved;
		if (poison)
			otf_node_count(r->node, OTF_COUNTER_REFUSED, OTF_SIGNAL_TRACES, moved);
		if (moved)
			otf_node_log(
			    r->node, OTF_LOG_WARN,
			    "moved %" PRIu64 " span(s) to partial_traces_dead (%s; %" PRIu64
			    " by this receiver so far)",
			    moved, poison ? "stored snapshot is not a span" : r->fail_reason,
			    r->dead_total);
	}
}

static void on_failed(void *ctx, PGresult *res, const char *err)
{
	partial_receiver_t *r = ctx;
	moved_aside(r, res, err, false);
	on_settled(ctx, res, err, &r->to_fail, "failure count");
}

static void on_buried(void *ctx, PGresult *res, const char *err)
{
	partial_receiver_t *r = ctx;
	moved_aside(r, res, err, true);
	on_settled(ctx, res, err, &r->to_bury, "move aside");
}

/* Deletes, then releases, what is pending; then claims when asked to
 * (start of a cycle, or the last claim was full), else ends the cycle. */
static void settle_step(partial_receiver_t *r)
{
	r->state = R_SETTLE;
	int rc;
	if (r->to_delete.len) {
		rc = keys_stmt(r, K_DELETE, &r->to_delete, on_deleted);
	} else if (r->to_bury.len) {
		rc = keys_stmt(r, K_BURY, &r->to_bury, on_buried);
	} else if (r->to_fail.len) {
		rc = keys_stmt(r, K_FAIL, &r->to_fail, on_failed);
	} else if (r->to_release.len) {
		rc = keys_stmt(r, K_RELEASE, &r->to_release, on_released);
	} else if (r->again && !r->closing) {
		r->again = false;
		claim(r);
		return;
	} else {
		cycle_end(r);
		return;
	}
	if (rc)
		cycle_end(r); /* database unavailable: keep the lists for the next cycle */
}

/* Rebuilds one emitted span from a stored snapshot. */
static int add_span(partial_receiver_t *r, const uint8_t *blob, size_t len, uint64_t seen_ns,
                    uint64_t stored_ns, otf_resource_spans_t *out)
{
	otf_traces_t t;
	int rc = otf_pdata_decode_traces(&t, blob, len, &r->arena, NULL, NULL);
	if (rc)
		return rc;
	for (size_t i = 0; i < t.resource_spans_len; i++) {
		otf_resource_spans_t *rs = &t.resource_spans[i];
		for (size_t j = 0; j < rs->scope_spans_len; j++) {
			otf_scope_spans_t *ss = &rs->scope_spans[j];
			if (!ss->spans_len)
				continue;
			otf_span_t *sp = &ss->spans[0];
			/* The span ended, at the latest, at its last heartbeat;
			 * seen is on the SDK's clock like start_time. */
			if (!sp->end_time_unix_nano) {
				uint64_t end = seen_ns > sp->start_time_unix_nano ? seen_ns
				               : stored_ns > sp->start_time_unix_nano
				                   ? stored_ns
				                   : sp->start_time_unix_nano;
				sp->end_time_unix_nano = end;
			}
			otf_key_value_t *kv =
			    otf_arena_alloc(&r->arena, (sp->attributes.len + 1) * sizeof *kv);
			if (!kv)
				return OTF_E_NOMEM;
			size_t n = 0;
			for (size_t a = 0; a < sp->attributes.len; a++) {
				otf_bytes_t k = sp->attributes.items[a].key;
				if (k.len == 10 && !memcmp(k.ptr, "partial.gc", 10))
					continue;
				kv[n++] = sp->attributes.items[a];
			}
			kv[n].key = (otf_bytes_t){(const uint8_t *)"partial.gc", 10};
			kv[n].value.type = OTF_ANY_BOOL;
			kv[n].value.u.bool_value = true;
			sp->attributes.items = kv;
			sp->attributes.len = n + 1;
			ss->spans_len = 1;
			rs->scope_spans = ss;
			rs->scope_spans_len = 1;
			*out = *rs;
			return 0;
		}
	}
	return OTF_E_NOT_FOUND;
}

static uint64_t be64(const char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | (uint8_t)p[i];
	return v;
}

static void on_claimed(void *ctx, PGresult *res, const char *err)
{
	partial_receiver_t *r = ctx;
	if (err) {
		otf_node_log(r->node, OTF_LOG_WARN, "claim failed: %s%s", err,
		             strstr(err, "does not exist") ? " (run `otflow partial migrate`)"
		                                           : "");
		cycle_end(r);
		return;
	}
	int n = PQntuples(res);
	if (r->suspects) {
		/* one suspect per request; none left: the ordinary rows */
		r->again = true;
		r->suspects = n > 0;
	} else {
		r->again = n >= r->cfg->batch_size;
	}
	if (!n) {
		settle_step(r);
		return;
	}
	otf_resource_spans_t *rs = otf_arena_alloc(&r->arena, (size_t)n * sizeof *rs);
	size_t good = 0;
	r->emitted.len = 0;
	for (int i = 0; rs && i < n; i++) {
		rkey_t key;
		snprintf(key.trace_id, sizeof key.trace_id, "%.*s", PQgetlength(res, i, 0),
		         PQgetvalue(res, i, 0));
		snprintf(key.span_id, sizeof key.span_id, "%.*s", PQgetlength(res, i, 1),
		         PQgetvalue(res, i, 1));
		snprintf(key.version, sizeof key.version, "%" PRId64,
		         (int64_t)be64(PQgetvalue(res, i, 2)));
		uint64_t seen = be64(PQgetvalue(res, i, 3));
		uint64_t stored = be64(PQgetvalue(res, i, 4)) * 1000u;
		int rc = add_span(r, (const uint8_t *)PQgetvalue(res, i, 5),
		                  (size_t)PQgetlength(res, i, 5), seen, stored, &rs[good]);
		rkey_t *k = NULL;
		if (rc == OTF_E_NOMEM) {
			k = key_add(&r->to_release);
		} else if (rc) {
			otf_node_log(
			    r->node, OTF_LOG_ERROR,
			    "moving span %s/%s aside: its stored snapshot is not a span (%s)",
			    key.trace_id, key.span_id, otf_strerror(rc));
			k = key_add(&r->to_bury);
		} else {
			k = key_add(&r->emitted);
			good++;
		}
		if (k)
			*k = key;
	}
	otf_buf_t *payload = NULL;
	otf_traces_t t = {.resource_spans = rs, .resource_spans_len = good};
	int rc = good ? otf_pdata_encode_traces(&t, &payload) : 0;
	otf_arena_reset(&r->arena);
	otf_msg_t *m = NULL;
	if (good && !rc && !r->closing) {
		m = otf_msg_create(r->node, OTF_SIGNAL_TRACES, payload, good);
		payload = NULL;
		if (m &&
		    otf_msg_subscribe(m, r->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK,
		                      ++r->cycle) == 0 &&
		    otf_node_send(r->node, m) == 0) {
			r->state = R_SENT;
			return;
		}
		if (m)
			otf_msg_drop(m);
	}
	otf_buf_unref(payload);
	/* Not sent (shutting down, backpressure, out of memory): give the
	 * leases back so the next cycle (or another receiver) takes them. */
	if (good) {
		otf_node_count(r->node, OTF_COUNTER_REFUSED, OTF_SIGNAL_TRACES, good);
		keys_append(&r->to_release, &r->emitted);
		r->emitted.len = 0;
		r->again = false;
	}
	settle_step(r);
}

static void claim(partial_receiver_t *r)
{
	char limit[24], lease[24];
	snprintf(limit, sizeof limit, "%" PRId64, r->suspects ? (int64_t)1 : r->cfg->batch_size);
	snprintf(lease, sizeof lease, "%" PRId64, r->cfg->lease_duration_ns / 1000000);
	const char *vals[4] = {r->owner, limit, lease, r->suspects ? "t" : "f"};
	r->state = R_CLAIM;
	if (partial_pg_query(r->pg, partial_sql_claim, 4, vals, NULL, NULL, true, on_claimed, r))
		cycle_end(r);
}

static void cycle_start(partial_receiver_t *r)
{
	if (r->state != R_IDLE || r->closing)
		return;
	/* Leftovers of a failed cycle first, then the claim. */
	r->again = true;
	r->suspects = true;
	settle_step(r);
}

static void cycle_end(partial_receiver_t *r)
{
	r->state = R_IDLE;
	r->again = false;
	if (r->closing) {
		otf_node_shutdown_done(r->node);
		return;
	}
	arm(r, false);
}

static void outcome(partial_receiver_t *r, const otf_ctrl_t *c)
{
	if (r->state != R_SENT || c->calldata != r->cycle)
		return;
	if (c->type == OTF_CTRL_ACK) {
		otf_node_count(r->node, OTF_COUNTER_ACCEPTED, OTF_SIGNAL_TRACES, c->items);
		keys_append(&r->to_delete, &r->emitted);
	} else if (c->permanent) {
		otf_node_count(r->node, OTF_COUNTER_REFUSED, OTF_SIGNAL_TRACES, c->items);
		snprintf(r->fail_reason, sizeof r->fail_reason, "%s",
		         c->reason[0] ? c->reason : otf_strerror(c->error));
		otf_node_log(
		    r->node, OTF_LOG_WARN,
		    "%zu span(s) refused permanently (%s); retried alone, moved aside after "
		    "%" PRId64 " refusals",
		    r->emitted.len, r->fail_reason, r->cfg->max_permanent_failures);
		keys_append(&r->to_fail, &r->emitted);
	} else {
		otf_node_count(r->node, OTF_COUNTER_REFUSED, OTF_SIGNAL_TRACES, c->items);
		otf_node_log(r->node, OTF_LOG_WARN,
		             "%zu span(s) not delivered (%s), kept for the next cycle",
		             r->emitted.len, c->reason[0] ? c->reason : otf_strerror(c->error));
		keys_append(&r->to_release, &r->emitted);
		r->again = false;
	}
	r->emitted.len = 0;
	settle_step(r);
}

static void control(void *inst, const otf_ctrl_t *c)
{
	partial_receiver_t *r = inst;
	switch (c->type) {
	case OTF_CTRL_TMR:
		r->timer = 0;
		cycle_start(r);
		break;
	case OTF_CTRL_ACK:
	case OTF_CTRL_NACK:
		outcome(r, c);
		break;
	case OTF_CTRL_KIL:
		r->closing = true;
		if (r->timer > 0)
			otf_node_timer_stop(r->node, r->timer);
		r->timer = 0;
		if (r->state == R_IDLE)
			otf_node_shutdown_done(r->node);
		break;
	default:
		break;
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	const partial_rcv_config_t *cfg = ctx->config;
	partial_receiver_t *r = otf_calloc(1, sizeof *r);
	if (!r)
		return OTF_E_NOMEM;
	r->node = ctx->node;
	r->cfg = cfg;
	otf_arena_init(&r->arena, 0);
	char host[64] = "host";
	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = 0;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	r->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40) ^
	         ((uint64_t)otf_node_worker_index(r->node) << 8) ^ (uint64_t)(uintptr_t)r;
	if (!r->rng)
		r->rng = 88172645463325252ull;
	snprintf(r->owner, sizeof r->owner, "%s/%d/w%d/%08" PRIx64, host, (int)getpid(),
	         otf_node_worker_index(r->node), rnd(r) & 0xffffffffu);
	int rc = partial_pg_create(otf_node_loop(r->node), cfg->postgres,
	                           (uint64_t)(cfg->timeout_ns / 1000000), r->node, &r->pg);
	if (rc) {
		otf_arena_close(&r->arena);
		otf_free(r);
		return rc;
	}
	*inst = r;
	return 0;
}

static int start(void *inst)
{
	partial_receiver_t *r = inst;
	arm(r, false);
	return 0;
}

static void destroy(void *inst)
{
	partial_receiver_t *r = inst;
	partial_pg_destroy(r->pg);
	otf_free(r->emitted.items);
	otf_free(r->to_delete.items);
	otf_free(r->to_release.items);
	otf_free(r->to_fail.items);
	otf_free(r->to_bury.items);
	otf_arena_close(&r->arena);
	otf_free(r);
}

static int validate(const void *config, char *err, size_t errlen)
{
	const partial_rcv_config_t *c = config;
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
	if (c->gc_interval_ns < 1000000 || c->jitter_ns < 0 || c->jitter_ns >= c->gc_interval_ns) {
		snprintf(err, errlen,
		         "gc_interval must be at least 1ms and larger than jitter (>= 0)");
		return OTF_E_CONFIG;
	}
	if (c->lease_duration_ns < 1000000 || c->timeout_ns <= 0) {
		snprintf(err, errlen, "lease_duration must be at least 1ms and timeout > 0");
		return OTF_E_CONFIG;
	}
	if (c->batch_size < 1 || c->batch_size > PARTIAL_MAX_ROWS) {
		snprintf(err, errlen, "batch_size must be between 1 and %d", PARTIAL_MAX_ROWS);
		return OTF_E_CONFIG;
	}
	if (c->max_permanent_failures < 1 || c->max_permanent_failures > 1000) {
		snprintf(err, errlen, "max_permanent_failures must be between 1 and 1000");
		return OTF_E_CONFIG;
	}
	return 0;
}

static const otf_config_field_t k_schema[] = {
    {.key = "postgres",
     .type = OTF_CFG_STRING,
     .offset = offsetof(partial_rcv_config_t, postgres),
     .required = true,
     .hint = "libpq connection string",
     .desc = "libpq connection string or URL of the database the partial exporter writes."},
    {.key = "gc_interval",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(partial_rcv_config_t, gc_interval_ns),
     .def = "5s",
     .desc = "How often expired spans are collected (each cycle waits gc_interval +- jitter)."},
    {.key = "jitter",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(partial_rcv_config_t, jitter_ns),
     .def = "500ms",
     .desc = "Uniform random offset per cycle, so that receivers drift apart (< gc_interval)."},
    {.key = "lease_duration",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(partial_rcv_config_t, lease_duration_ns),
     .def = "1m",
     .desc = "How long claimed spans stay reserved for this receiver while the pipeline "
             "delivers them; after it, another receiver may emit them again."},
    {.key = "batch_size",
     .type = OTF_CFG_INT,
     .offset = offsetof(partial_rcv_config_t, batch_size),
     .def = "500",
     .desc = "Spans claimed per cycle and sent as one request (1..10000); a full batch "
             "starts the next cycle at once."},
    {.key = "timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(partial_rcv_config_t, timeout_ns),
     .def = "5s",
     .desc = "Deadline of a connect or a statement; past it the connection is reset."},
    {.key = "max_permanent_failures",
     .type = OTF_CFG_INT,
     .offset = offsetof(partial_rcv_config_t, max_permanent_failures),
     .def = "3",
     .desc = "After this many permanent refusals by downstream (one per gc_interval, the "
             "span sent alone) a span moves to the partial_traces_dead table (1..1000)."},
    OTF_CONFIG_FIELD_END,
};

const otf_component_factory_t otf_receiver_partial_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_RECEIVER,
    .type = "partial",
    .description = "Emits spans whose heartbeats stopped, from the partial exporter's database.",
    .stability = {OTF_STABILITY_ALPHA, OTF_STABILITY_UNDEFINED, OTF_STABILITY_UNDEFINED},
    .config_schema = k_schema,
    .config_size = sizeof(partial_rcv_config_t),
    .validate = validate,
    .create = {create, NULL, NULL},
    .start = start,
    .control = control,
    .destroy = destroy,
};
