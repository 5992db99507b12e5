/* partial receiver leases and permanent failures, against a real
 * PostgreSQL (OTF_TEST_PG_DSN; tests/sh/partial_unit.sh starts one, the
 * tests skip without it) and a scriptable downstream exporter:
 *   - a lease that expires while its receiver is stuck: another receiver
 *     emits the span, and the first one's late ACK deletes nothing;
 *   - a heartbeat that arrives while its row is leased: the receiver's ACK
 *     of the old snapshot does not delete the newer one, which is emitted
 *     later with its own content;
 *   - a span downstream refuses permanently: retried alone, then moved to
 *     partial_traces_dead after max_permanent_failures, while the spans
 *     that shared its batch are delivered once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "components/exporters/partial/partial_flatten.h"
#include "components/exporters/partial/partial_pg.h"
#include "components/exporters/partial/partial_sql.h"

#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otflow/service.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- scriptable exporter `test_script/<name>` ----
 * "ok": acknowledges everything; "hold": keeps requests until the test
 * sets g_cmd to 1 (acknowledged on the exporter's own timer, on its worker);
 * "reject": refuses permanently any request holding a span named "bad". */

#define MAX_DELIV 64
typedef struct deliv {
	char who[16];
	char name[16];
	char span_id[17];
	uint64_t end;
	bool gc;
} deliv_t;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static deliv_t g_deliv[MAX_DELIV];
static int g_ndeliv;
static _Atomic int g_held, g_cmd, g_requests;

typedef struct script {
	otf_node_t *node;
	char who[16];
	otf_msg_t *held[8];
	int nheld;
	int64_t timer;
} script_t;

static int script_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (!*inst) {
		script_t *s = otf_calloc(1, sizeof *s);
		s->node = ctx->node;
		const char *slash = strrchr(otf_node_name(ctx->node), '/');
		snprintf(s->who, sizeof s->who, "%s", slash ? slash + 1 : "ok");
		*inst = s;
	}
	return 0;
}

/* Records the request's spans; true when one is named "bad". */
static bool record(const char *who, otf_msg_t *m)
{
	bool bad = false;
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_traces_t t;
	otf_buf_t *p = otf_msg_payload(m);
	assert_int_equal(otf_pdata_decode_traces(&t, p->data, p->len, &a, NULL, NULL), 0);
	pthread_mutex_lock(&g_mu);
	for (size_t i = 0; i < t.resource_spans_len; i++) {
		otf_span_t *sp = &t.resource_spans[i].scope_spans[0].spans[0];
		deliv_t *d = &g_deliv[g_ndeliv < MAX_DELIV - 1 ? g_ndeliv++ : g_ndeliv];
		snprintf(d->who, sizeof d->who, "%s", who);
		snprintf(d->name, sizeof d->name, "%.*s", (int)sp->name.len,
		         (const char *)sp->name.ptr);
		partial_hex(sp->span_id.ptr, 8, d->span_id);
		d->end = sp->end_time_unix_nano;
		for (size_t k = 0; k < sp->attributes.len; k++)
			if (sp->attributes.items[k].key.len == 10 &&
			    !memcmp(sp->attributes.items[k].key.ptr, "partial.gc", 10))
				d->gc = sp->attributes.items[k].value.u.bool_value;
		bad |= !strcmp(d->name, "bad");
	}
	pthread_mutex_unlock(&g_mu);
	otf_arena_close(&a);
	atomic_fetch_add(&g_requests, 1);
	return bad;
}

static void script_consume(void *inst, otf_msg_t *m)
{
	script_t *s = inst;
	bool bad = record(s->who, m);
	if (!strcmp(s->who, "hold") && s->nheld < 8) {
		s->held[s->nheld++] = m;
		atomic_fetch_add(&g_held, 1);
		if (!s->timer)
			s->timer = otf_node_timer_start(s->node, 10, 10, 1);
		return;
	}
	if (!strcmp(s->who, "reject") && bad) {
		otf_msg_nack(m, OTF_E_INVAL, true, "bad span refused");
		return;
	}
	otf_msg_ack(m);
}

static void script_control(void *inst, const otf_ctrl_t *c)
{
	script_t *s = inst;
	if (c->type == OTF_CTRL_TMR && atomic_exchange(&g_cmd, 0) == 1) {
		for (int i = 0; i < s->nheld; i++)
			otf_msg_ack(s->held[i]);
		s->nheld = 0;
	}
	if (c->type == OTF_CTRL_KIL) {
		for (int i = 0; i < s->nheld; i++)
			otf_msg_nack(s->held[i], OTF_E_IO, false, "shutting down");
		s->nheld = 0;
		if (s->timer > 0)
			otf_node_timer_stop(s->node, s->timer);
		s->timer = 0;
		otf_node_shutdown_done(s->node);
	}
}

static const otf_component_factory_t k_script = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "test_script",
    .description = "acknowledges, holds or refuses as the test says",
    .stability = {OTF_STABILITY_DEVELOPMENT, 0, 0},
    .create = {script_create, NULL, NULL},
    .consume = {script_consume, NULL, NULL},
    .control = script_control,
    .destroy = otf_free,
};

/* ---- database helpers ---- */

static PGconn *setup(void)
{
	const char *dsn = getenv("OTF_TEST_PG_DSN");
	char err[256];
	PGconn *c = PQconnectdb(dsn);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PQclear(PQexec(c, "DROP TABLE IF EXISTS partial_traces, partial_traces_dead"));
	assert_int_equal(partial_pg_migrate_blocking(dsn, err, sizeof err), 0);
	pthread_mutex_lock(&g_mu);
	g_ndeliv = 0;
	pthread_mutex_unlock(&g_mu);
	atomic_store(&g_held, 0);
	atomic_store(&g_cmd, 0);
	atomic_store(&g_requests, 0);
	return c;
}

/* One value of a query (text), copied into out. */
static void q1(PGconn *c, const char *sql, char *out, size_t len)
{
	PGresult *r = PQexec(c, sql);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	snprintf(out, len, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
}

static long qn(PGconn *c, const char *sql)
{
	char v[64];
	q1(c, sql, v, sizeof v);
	return atol(v);
}

/* Snapshot of span <sid> named name (trace id ab..ab). */
static otf_buf_t *snapshot(int sid, const char *name)
{
	uint8_t tid[16], s[8] = {0};
	memset(tid, 0xab, 16);
	s[7] = (uint8_t)sid;
	otf_span_t sp = {.trace_id = {tid, 16},
	                 .span_id = {s, 8},
	                 .name = {(const uint8_t *)name, strlen(name)},
	                 .start_time_unix_nano = 1000};
	otf_scope_spans_t ss = {.spans = &sp, .spans_len = 1};
	otf_resource_spans_t rs = {.scope_spans = &ss, .scope_spans_len = 1};
	otf_traces_t t = {.resource_spans = &rs, .resource_spans_len = 1};
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_traces(&t, &b), 0);
	return b;
}

static void span_hex(int sid, char *out)
{
	snprintf(out, 17, "%016x", sid);
}

/* Writes span sid as the partial exporter does (its upsert statement):
 * heartbeat at seen, expiring after expiry_ms (negative: already expired). */
static void heartbeat(PGconn *c, int sid, const char *name, int64_t seen, int64_t expiry_ms)
{
	otf_buf_t *b = snapshot(sid, name);
	char sh[17], ms[24], sn[24];
	span_hex(sid, sh);
	snprintf(ms, sizeof ms, "%lld", (long long)expiry_ms);
	snprintf(sn, sizeof sn, "%lld", (long long)seen);
	const char *vals[6] = {
	    "abababababababababababababababab", sh, (const char *)b->data, ms, sn, "f"};
	int lens[6] = {0, 0, (int)b->len, 0, 0, 0}, fmts[6] = {0, 0, 1, 0, 0, 0};
	char *sql = partial_sql_upsert(1);
	PGresult *r = PQexecParams(c, sql, 6, NULL, vals, lens, fmts, 0);
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	otf_free(sql);
	otf_buf_unref(b);
}

typedef struct run {
	otf_config_t *cfg;
	otf_dag_t *dag;
	otf_engine_t *e;
} run_t;

static void start(run_t *r, const char *body)
{
	char yaml[2048];
	const char *dsn = getenv("OTF_TEST_PG_DSN");
	size_t n = 0;
	/* every @DSN@ in body is the connection string */
	for (const char *p = body; *p && n + strlen(dsn) + 1 < sizeof yaml;) {
		if (!strncmp(p, "@DSN@", 5)) {
			n += (size_t)snprintf(yaml + n, sizeof yaml - n, "%s", dsn);
			p += 5;
		} else {
			yaml[n++] = *p++;
		}
	}
	yaml[n] = 0;
	otf_config_error_t cerr;
	otf_service_settings_t st;
	assert_int_equal(otf_config_load_string("t.yaml", yaml, strlen(yaml), NULL, &r->cfg, &cerr),
	                 0);
	assert_int_equal(otf_service_build(r->cfg, &r->dag, &st, &cerr), 0);
	assert_int_equal(otf_engine_start(r->dag, &st.runtime, &r->e), 0);
}

static void stop(run_t *r)
{
	otf_engine_request_stop(r->e);
	assert_int_equal(otf_engine_join(r->e), 0);
	otf_dag_destroy(r->dag);
	otf_config_destroy(r->cfg);
}

/* Polls cond every 20 ms for at most ms. */
#define WAIT_UNTIL(cond, ms)                                      \
	do {                                                      \
		for (int w_ = 0; w_ < (ms) / 20 && !(cond); w_++) \
			usleep(20000);                            \
	} while (0)

static int deliveries(const char *who, const char *name)
{
	int n = 0;
	pthread_mutex_lock(&g_mu);
	for (int i = 0; i < g_ndeliv; i++)
		n += !strcmp(g_deliv[i].who, who) && (!name || !strcmp(g_deliv[i].name, name));
	pthread_mutex_unlock(&g_mu);
	return n;
}

static void test_lease_expires(void **state)
{
	(void)state;
	if (!getenv("OTF_TEST_PG_DSN")) {
		skip();
		return;
	}
	PGconn *c = setup();
	heartbeat(c, 1, "job", 5000, -1000);
	run_t r;
	/* a claims at once and is stuck (its downstream holds the request);
	 * b's first cycle comes after a's 300 ms lease ran out. */
	start(&r, "runtime: {workers: 1}\n"
	          "receivers:\n"
	          "  partial/a: {postgres: \"@DSN@\", gc_interval: 50ms, jitter: 10ms, "
	          "lease_duration: 300ms}\n"
	          "  partial/b: {postgres: \"@DSN@\", gc_interval: 1500ms, jitter: 0s}\n"
	          "exporters:\n  test_script/hold:\n  test_script/ok:\n"
	          "service:\n  pipelines:\n"
	          "    traces/a: {receivers: [partial/a], exporters: [test_script/hold]}\n"
	          "    traces/b: {receivers: [partial/b], exporters: [test_script/ok]}\n");
	WAIT_UNTIL(atomic_load(&g_held) == 1, 5000);
	assert_int_equal(atomic_load(&g_held), 1);
	char owner[160];
	q1(c, "SELECT lease_owner FROM partial_traces", owner, sizeof owner);
	assert_true(owner[0]); /* leased to a while a's request is out */
	assert_int_equal(qn(c, "SELECT count(*) FROM partial_traces WHERE expires_at > now()"), 1);
	WAIT_UNTIL(deliveries("ok", NULL) == 1 && qn(c, "SELECT count(*) FROM partial_traces") == 0,
	           5000);
	/* the lease expired: b emitted the same span again and deleted it */
	assert_int_equal(deliveries("ok", "job"), 1);
	assert_int_equal(deliveries("hold", "job"), 1);
	pthread_mutex_lock(&g_mu);
	assert_string_equal(g_deliv[0].span_id, g_deliv[1].span_id);
	assert_true(g_deliv[0].gc && g_deliv[1].gc);
	assert_true(g_deliv[1].end == 5000);
	pthread_mutex_unlock(&g_mu);
	/* a's late ACK: nothing left to delete, and nothing more emitted; a
	 * heartbeat that re-creates the span now must survive a's delete */
	heartbeat(c, 1, "job-again", 7000, 60000);
	atomic_store(&g_cmd, 1);
	WAIT_UNTIL(atomic_load(&g_cmd) == 0, 2000);
	usleep(300000);
	assert_int_equal(qn(c, "SELECT count(*) FROM partial_traces WHERE seen_unix_nano = 7000"),
	                 1);
	assert_int_equal(atomic_load(&g_requests), 2);
	stop(&r);
	PQfinish(c);
}

static void test_heartbeat_while_leased(void **state)
{
	(void)state;
	if (!getenv("OTF_TEST_PG_DSN")) {
		skip();
		return;
	}
	PGconn *c = setup();
	heartbeat(c, 2, "v1", 5000, -1000);
	run_t r;
	start(&r, "runtime: {workers: 1}\n"
	          "receivers:\n"
	          "  partial: {postgres: \"@DSN@\", gc_interval: 50ms, jitter: 10ms}\n"
	          "exporters:\n  test_script/hold:\n"
	          "service:\n  pipelines:\n"
	          "    traces: {receivers: [partial], exporters: [test_script/hold]}\n");
	WAIT_UNTIL(atomic_load(&g_held) == 1, 5000);
	assert_int_equal(atomic_load(&g_held), 1);
	assert_int_equal(qn(c, "SELECT version FROM partial_traces"), 1);
	/* the SDK's next heartbeat lands while v1 is on its way downstream */
	heartbeat(c, 2, "v2", 9000, 1000);
	assert_int_equal(qn(c, "SELECT count(*) FROM partial_traces WHERE version = 2 AND "
	                       "lease_owner IS NULL AND seen_unix_nano = 9000"),
	                 1);
	atomic_store(&g_cmd, 1); /* v1 acknowledged */
	WAIT_UNTIL(atomic_load(&g_cmd) == 0, 2000);
	usleep(300000);
	/* the ACK of version 1 did not delete version 2 */
	assert_int_equal(qn(c, "SELECT count(*) FROM partial_traces WHERE version = 2 AND "
	                       "seen_unix_nano = 9000"),
	                 1);
	assert_int_equal(deliveries("hold", NULL), 1);
	/* once v2's heartbeats stop too, v2 is emitted, ending at its heartbeat */
	WAIT_UNTIL(atomic_load(&g_held) == 2, 5000);
	assert_int_equal(deliveries("hold", "v2"), 1);
	pthread_mutex_lock(&g_mu);
	assert_true(g_deliv[1].end == 9000 && g_deliv[1].gc);
	pthread_mutex_unlock(&g_mu);
	atomic_store(&g_cmd, 1);
	WAIT_UNTIL(qn(c, "SELECT count(*) FROM partial_traces") == 0, 2000);
	assert_int_equal(qn(c, "SELECT count(*) FROM partial_traces"), 0);
	assert_int_equal(deliveries("hold", NULL), 2);
	stop(&r);
	PQfinish(c);
}

static void test_permanent_failure_dead_letter(void **state)
{
	(void)state;
	if (!getenv("OTF_TEST_PG_DSN")) {
		skip();
		return;
	}
	PGconn *c = setup();
	heartbeat(c, 3, "good1", 5000, -1000);
	heartbeat(c, 4, "bad", 5000, -1000);
	heartbeat(c, 5, "good2", 5000, -1000);
	run_t r;
	start(&r, "runtime: {workers: 1}\n"
	          "receivers:\n"
	          "  partial: {postgres: \"@DSN@\", gc_interval: 100ms, jitter: 10ms, "
	          "max_permanent_failures: 2}\n"
	          "exporters:\n  test_script/reject:\n"
	          "service:\n  pipelines:\n"
	          "    traces: {receivers: [partial], exporters: [test_script/reject]}\n");
	WAIT_UNTIL(qn(c, "SELECT count(*) FROM partial_traces") == 0, 10000);
	usleep(500000); /* more cycles: nothing more may be sent */
	stop(&r);
	assert_int_equal(qn(c, "SELECT count(*) FROM partial_traces"), 0);
	char v[256];
	q1(c,
	   "SELECT span_id || ' ' || failures || ' ' || reason || ' ' || length(trace) "
	   "FROM partial_traces_dead",
	   v, sizeof v);
	char want[128];
	otf_buf_t *b = snapshot(4, "bad");
	snprintf(want, sizeof want, "0000000000000004 2 bad span refused %zu", b->len);
	otf_buf_unref(b);
	assert_string_equal(v, want);
	assert_int_equal(qn(c, "SELECT count(*) FROM partial_traces_dead"), 1);
	/* the batch of three was refused once; then each span alone: the good
	 * ones delivered, the bad one refused a second time and moved aside */
	assert_int_equal(deliveries("reject", "bad"), 2);
	assert_int_equal(deliveries("reject", "good1"), 2);
	assert_int_equal(deliveries("reject", "good2"), 2);
	assert_int_equal(atomic_load(&g_requests), 4);
	PQfinish(c);
}

int main(void)
{
	otf_components_register_builtins();
	otf_component_register(&k_script);
	otf_log_set_level(OTF_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lease_expires),
	    cmocka_unit_test(test_heartbeat_while_leased),
	    cmocka_unit_test(test_permanent_failure_dead_letter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
