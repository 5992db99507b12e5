/* Asynchronous libpq client on libuv. See partial_pg.h. */
#include "partial_pg.h"

#include "partial_sql.h"

#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#define BACKOFF_MIN_MS 100u
#define BACKOFF_MAX_MS 5000u

typedef struct pg_stmt pg_stmt_t;
struct pg_stmt {
	pg_stmt_t *next;
	partial_pg_cb cb;
	void *ctx;
	int nparams;
	bool binary_result;
	char *sql;
	char **values;
	int *lengths;
	int *formats;
	/* one allocation: the arrays and bytes follow */
};

typedef enum { ST_DOWN, ST_CONNECTING, ST_READY } pg_state_t;

typedef struct pg_poll {
	uv_poll_t h;
	int fd;
} pg_poll_t;

struct partial_pg {
	uv_loop_t *loop;
	otf_node_t *node;
	char *conninfo;
	uint64_t timeout_ms;
	PGconn *conn;
	pg_state_t state;
	pg_poll_t *poll; /* watcher on PQsocket(conn) */
	int poll_events;
	uv_timer_t *timer; /* statement deadline while one runs, reconnect while down */
	uint32_t backoff_ms;
	pg_stmt_t *head, *tail; /* head is running when `running` */
	bool running;
	PGresult *result; /* last result of the running statement */
	size_t pending;
	bool logged_down;
	char why[256]; /* reason of a deferred drop */
};

static void pg_log(partial_pg_t *pg, otf_log_level_t lvl, const char *what, const char *detail)
{
	if (pg->node)
		otf_node_log(pg->node, lvl, "postgres %s%s", what, detail);
}

static void handle_free_cb(uv_handle_t *h)
{
	otf_free(h);
}

static void poll_close(partial_pg_t *pg)
{
	if (!pg->poll)
		return;
	uv_poll_stop(&pg->poll->h);
	uv_close((uv_handle_t *)&pg->poll->h, handle_free_cb);
	pg->poll = NULL;
	pg->poll_events = 0;
}

static void on_poll(uv_poll_t *h, int status, int events);

/* Watches the connection's socket for events; re-creates the watcher when
 * libpq switched sockets (a multi-host connect string). */
static int poll_set(partial_pg_t *pg, int events)
{
	int fd = PQsocket(pg->conn);
	if (fd < 0)
		return OTF_E_IO;
	if (pg->poll && pg->poll->fd != fd)
		poll_close(pg);
	if (!pg->poll) {
		pg_poll_t *p = otf_calloc(1, sizeof *p);
		if (!p)
			return OTF_E_NOMEM;
		int rc = uv_poll_init(pg->loop, &p->h, fd);
		if (rc) {
			otf_free(p);
			return rc;
		}
		p->fd = fd;
		p->h.data = pg;
		pg->poll = p;
		pg->poll_events = 0;
	}
	if (events == pg->poll_events)
		return 0;
	pg->poll_events = events;
	return uv_poll_start(&pg->poll->h, events, on_poll);
}

static void stmt_free(pg_stmt_t *s)
{
	otf_free(s);
}

static void timer_arm(partial_pg_t *pg, uint64_t ms);
static void reconnect_cb(uv_timer_t *t);
static void start_next(partial_pg_t *pg, bool from_submit);

/* Fails the statement at the head of the queue (running or not). */
static void fail_head(partial_pg_t *pg, const char *why)
{
	pg_stmt_t *s = pg->head;
	pg->head = s->next;
	if (!pg->head)
		pg->tail = NULL;
	pg->pending--;
	pg->running = false;
	PGresult *r = pg->result;
	pg->result = NULL;
	s->cb(s->ctx, r, why);
	if (r)
		PQclear(r);
	stmt_free(s);
}

/* Drops the connection, fails everything queued and schedules a reconnect. */
static void conn_drop(partial_pg_t *pg, const char *why)
{
	char msg[256];
	snprintf(msg, sizeof msg, "%s", why ? why : "connection lost");
	/* libpq messages span lines; keep the log to one */
	for (char *c = msg; *c; c++)
		if (*c == '\n' || *c == '\t')
			*c = ' ';
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = 0;
	if (!pg->logged_down)
		pg_log(pg, OTF_LOG_WARN, "unavailable: ", msg);
	pg->logged_down = true;
	if (pg->node) /* ERR: recoverable until the connection is back */
		otf_node_error(pg->node, OTF_ERR_RECOVERABLE, "database_down", "%s", msg);
	poll_close(pg);
	if (pg->conn)
		PQfinish(pg->conn);
	pg->conn = NULL;
	pg->state = ST_DOWN;
	if (pg->result) {
		PQclear(pg->result);
		pg->result = NULL;
	}
	pg->running = false;
	timer_arm(pg, pg->backoff_ms);
	pg->backoff_ms = pg->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : pg->backoff_ms * 2;
	while (pg->head)
		fail_head(pg, msg);
}

static void deadline_cb(uv_timer_t *t)
{
	partial_pg_t *pg = t->data;
	if (pg->state == ST_DOWN) {
		reconnect_cb(t);
		return;
	}
	conn_drop(pg, pg->state == ST_CONNECTING ? "connect timed out" : "statement timed out");
}

static void timer_arm(partial_pg_t *pg, uint64_t ms)
{
	uv_timer_start(pg->timer, deadline_cb, ms, 0);
}

static void connect_step(partial_pg_t *pg)
{
	PostgresPollingStatusType st = PQconnectPoll(pg->conn);
	int rc = 0;
	switch (st) {
	case PGRES_POLLING_READING:
		rc = poll_set(pg, UV_READABLE);
		break;
	case PGRES_POLLING_WRITING:
		rc = poll_set(pg, UV_WRITABLE);
		break;
	case PGRES_POLLING_OK:
		if (PQsetnonblocking(pg->conn, 1) != 0) {
			conn_drop(pg, PQerrorMessage(pg->conn));
			return;
		}
		pg->state = ST_READY;
		pg->backoff_ms = BACKOFF_MIN_MS;
		if (pg->logged_down)
			pg_log(pg, OTF_LOG_INFO, "connection restored", "");
		pg->logged_down = false;
		if (pg->node)
			otf_node_recovered(pg->node);
		uv_timer_stop(pg->timer);
		rc = poll_set(pg, UV_READABLE);
		if (!rc)
			start_next(pg, false);
		break;
	default:
		conn_drop(pg, PQerrorMessage(pg->conn));
		return;
	}
	if (rc)
		conn_drop(pg, otf_strerror(rc));
}

static void notice_drop(void *arg, const char *message)
{
	(void)arg;
	(void)message; /* NOTICEs are not errors; libpq would print them to stderr */
}

static void conn_start(partial_pg_t *pg)
{
	pg->conn = PQconnectStart(pg->conninfo);
	if (!pg->conn || PQstatus(pg->conn) == CONNECTION_BAD) {
		conn_drop(pg, pg->conn ? PQerrorMessage(pg->conn) : "out of memory");
		return;
	}
	PQsetNoticeProcessor(pg->conn, notice_drop, NULL);
	pg->state = ST_CONNECTING;
	timer_arm(pg, pg->timeout_ms);
	connect_step(pg);
}

static void reconnect_cb(uv_timer_t *t)
{
	partial_pg_t *pg = t->data;
	if (pg->state == ST_DOWN)
		conn_start(pg);
}

/* Result handling for the running statement. */
static void drain(partial_pg_t *pg)
{
	while (pg->running && !PQisBusy(pg->conn)) {
		PGresult *r = PQgetResult(pg->conn);
		if (r) {
			/* Keep the first error, else the last result. */
			if (pg->result) {
				ExecStatusType prev = PQresultStatus(pg->result);
				if (prev == PGRES_FATAL_ERROR) {
					PQclear(r);
					continue;
				}
				PQclear(pg->result);
			}
			pg->result = r;
			continue;
		}
		/* Statement complete. */
		pg_stmt_t *s = pg->head;
		pg->head = s->next;
		if (!pg->head)
			pg->tail = NULL;
		pg->pending--;
		pg->running = false;
		uv_timer_stop(pg->timer);
		PGresult *res = pg->result;
		pg->result = NULL;
		ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
		const char *err = NULL;
		char ebuf[512];
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			snprintf(ebuf, sizeof ebuf, "%s",
			         res ? PQresultErrorMessage(res) : "no result");
			size_t n = strlen(ebuf);
			while (n && ebuf[n - 1] == '\n')
				ebuf[--n] = 0;
			err = ebuf;
		}
		s->cb(s->ctx, res, err);
		if (res)
			PQclear(res);
		stmt_free(s);
		start_next(pg, false);
		return;
	}
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	partial_pg_t *pg = h->data;
	if (status < 0) {
		conn_drop(pg, uv_strerror(status));
		return;
	}
	if (pg->state == ST_CONNECTING) {
		connect_step(pg);
		return;
	}
	if (pg->state != ST_READY)
		return;
	if (events & UV_WRITABLE) {
		int f = PQflush(pg->conn);
		if (f < 0) {
			conn_drop(pg, PQerrorMessage(pg->conn));
			return;
		}
		if (f == 0 && poll_set(pg, UV_READABLE)) {
			conn_drop(pg, "poll failed");
			return;
		}
	}
	if (events & UV_READABLE) {
		if (!PQconsumeInput(pg->conn) || PQstatus(pg->conn) == CONNECTION_BAD) {
			conn_drop(pg, PQerrorMessage(pg->conn));
			return;
		}
		if (pg->running)
			drain(pg);
		else
			while (PQnotifies(pg->conn))
				; /* nothing listens; keep libpq's queue empty */
	}
}

static void deferred_drop_cb(uv_timer_t *t)
{
	partial_pg_t *pg = t->data;
	conn_drop(pg, pg->why);
}

/* A failure found inside partial_pg_query must not run callbacks there:
 * the drop happens on the next loop turn. */
static void fail_soon(partial_pg_t *pg, bool from_submit, const char *why)
{
	if (!from_submit) {
		conn_drop(pg, why);
		return;
	}
	snprintf(pg->why, sizeof pg->why, "%s", why);
	uv_timer_start(pg->timer, deferred_drop_cb, 0, 0);
}

static void start_next(partial_pg_t *pg, bool from_submit)
{
	if (pg->state != ST_READY || pg->running || !pg->head)
		return;
	pg_stmt_t *s = pg->head;
	/* Without parameters the simple protocol runs a script of several
	 * statements (the schema migration); the extended one allows one. */
	int ok = s->nparams == 0 && !s->binary_result
	             ? PQsendQuery(pg->conn, s->sql)
	             : PQsendQueryParams(pg->conn, s->sql, s->nparams, NULL,
	                                 (const char *const *)s->values, s->lengths, s->formats,
	                                 s->binary_result ? 1 : 0);
	if (!ok) {
		fail_soon(pg, from_submit, PQerrorMessage(pg->conn));
		return;
	}
	pg->running = true;
	timer_arm(pg, pg->timeout_ms);
	int f = PQflush(pg->conn);
	if (f < 0) {
		fail_soon(pg, from_submit, PQerrorMessage(pg->conn));
		return;
	}
	if (poll_set(pg, f ? UV_READABLE | UV_WRITABLE : UV_READABLE))
		fail_soon(pg, from_submit, "poll failed");
}

int partial_pg_create(struct uv_loop_s *loop, const char *conninfo, uint64_t timeout_ms,
                      otf_node_t *node, partial_pg_t **out)
{
	partial_pg_t *pg = otf_calloc(1, sizeof *pg);
	if (!pg)
		return OTF_E_NOMEM;
	pg->loop = loop;
	pg->node = node;
	pg->timeout_ms = timeout_ms ? timeout_ms : 5000;
	pg->backoff_ms = BACKOFF_MIN_MS;
	pg->conninfo = otf_strndup(conninfo ? conninfo : "", conninfo ? strlen(conninfo) : 0);
	pg->timer = otf_calloc(1, sizeof *pg->timer);
	if (!pg->conninfo || !pg->timer) {
		otf_free(pg->conninfo);
		otf_free(pg->timer);
		otf_free(pg);
		return OTF_E_NOMEM;
	}
	uv_timer_init(loop, pg->timer);
	pg->timer->data = pg;
	conn_start(pg);
	*out = pg;
	return 0;
}

void partial_pg_destroy(partial_pg_t *pg)
{
	if (!pg)
		return;
	poll_close(pg);
	if (pg->result)
		PQclear(pg->result);
	if (pg->conn)
		PQfinish(pg->conn);
	while (pg->head) {
		pg_stmt_t *s = pg->head;
		pg->head = s->next;
		stmt_free(s);
	}
	uv_timer_stop(pg->timer);
	uv_close((uv_handle_t *)pg->timer, handle_free_cb);
	otf_free(pg->conninfo);
	otf_free(pg);
}

int partial_pg_query(partial_pg_t *pg, const char *sql, int nparams, const char *const *values,
                     const int *lengths, const int *formats, bool binary_result, partial_pg_cb cb,
                     void *ctx)
{
	if (pg->state == ST_DOWN)
		return -ENOTCONN;
	size_t sqllen = strlen(sql) + 1;
	size_t bytes = sizeof(pg_stmt_t) + (size_t)nparams * (sizeof(char *) + 2 * sizeof(int));
	size_t vbytes = 0;
	for (int i = 0; i < nparams; i++) {
		size_t l = 0;
		if (values[i])
			l = formats && formats[i] ? (size_t)lengths[i] : strlen(values[i]) + 1;
		vbytes += l;
	}
	pg_stmt_t *s = otf_malloc(bytes + sqllen + vbytes);
	if (!s)
		return OTF_E_NOMEM;
	memset(s, 0, sizeof *s);
	s->cb = cb;
	s->ctx = ctx;
	s->nparams = nparams;
	s->binary_result = binary_result;
	char *p = (char *)(s + 1);
	s->values = (char **)(void *)p;
	p += (size_t)nparams * sizeof(char *);
	s->lengths = (int *)(void *)p;
	p += (size_t)nparams * sizeof(int);
	s->formats = (int *)(void *)p;
	p += (size_t)nparams * sizeof(int);
	s->sql = p;
	memcpy(p, sql, sqllen);
	p += sqllen;
	for (int i = 0; i < nparams; i++) {
		s->formats[i] = formats ? formats[i] : 0;
		s->lengths[i] = s->formats[i] ? lengths[i] : 0;
		if (!values[i]) {
			s->values[i] = NULL;
			continue;
		}
		size_t l = s->formats[i] ? (size_t)lengths[i] : strlen(values[i]) + 1;
		memcpy(p, values[i], l);
		s->values[i] = p;
		p += l;
	}
	if (pg->tail)
		pg->tail->next = s;
	else
		pg->head = s;
	pg->tail = s;
	pg->pending++;
	start_next(pg, true);
	return 0;
}

bool partial_pg_available(const partial_pg_t *pg)
{
	return pg->state != ST_DOWN;
}

size_t partial_pg_pending(const partial_pg_t *pg)
{
	return pg->pending;
}

int partial_pg_migrate_blocking(const char *conninfo, char *err, size_t errlen)
{
	PGconn *c = PQconnectdb(conninfo ? conninfo : "");
	if (!c || PQstatus(c) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot connect: %s",
		         c ? PQerrorMessage(c) : "out of memory");
		PQfinish(c);
		return OTF_E_IO;
	}
	int rc = 0;
	PGresult *r = PQexec(c, partial_sql_migration);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "migration failed: %s", PQresultErrorMessage(r));
		rc = OTF_E_IO;
	}
	PQclear(r);
	PQfinish(c);
	return rc;
}
