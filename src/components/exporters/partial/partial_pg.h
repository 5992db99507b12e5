/* Asynchronous PostgreSQL client on a worker's libuv loop, shared by the
 * partial exporter and the partial receiver.
 *
 * Why async libpq rather than the libuv threadpool: the threadpool is one
 * process-wide pool (4 threads by default) shared with file and DNS work;
 * a slow or unreachable database would park its threads. libpq's
 * non-blocking API (PQconnectStart/PQconnectPoll, PQsendQueryParams,
 * PQflush, PQconsumeInput, PQgetResult) driven by a uv_poll on PQsocket
 * keeps each worker's loop free and needs no locks: the connection belongs
 * to one worker, like every other node state.
 *
 * Model: one connection per instance, statements run one at a time in
 * submission order (FIFO). The query text and parameters are copied at
 * submission, so the caller's buffers can go at once. Each statement has a
 * deadline (timeout_ms): when it passes, or the connection breaks, the
 * connection is dropped, the statement and everything queued fail with a
 * callback, and a reconnect is scheduled with exponential backoff (100 ms
 * doubling up to 5 s). A database that is down at start is not an error:
 * the client keeps trying, and submissions fail until it is back.
 *
 * Callbacks: never inside partial_pg_query (a failure there is its return
 * code) and never after partial_pg_destroy. res is the statement's last
 * result (NULL when the statement never ran); err is NULL on success
 * (PGRES_COMMAND_OK or PGRES_TUPLES_OK) and a message otherwise. res is
 * cleared after the callback returns.
 *
 * Threads: everything on the loop's thread. */
#ifndef OTF_PARTIAL_PG_H
#define OTF_PARTIAL_PG_H

#include "pq_dl.h" /* <libpq-fe.h>, its functions loaded at first use */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct uv_loop_s;
typedef struct otf_node otf_node_t;
typedef struct partial_pg partial_pg_t;

typedef void (*partial_pg_cb)(void *ctx, PGresult *res, const char *err);

/* Starts connecting (returns before the connection exists). node (may be
 * NULL) receives the connection log lines. Errors: OTF_E_NOMEM. */
int partial_pg_create(struct uv_loop_s *loop, const char *conninfo, uint64_t timeout_ms,
                      otf_node_t *node, partial_pg_t **out);
/* Closes the connection; pending statements are dropped without callbacks. */
void partial_pg_destroy(partial_pg_t *pg);

/* Queues a statement. formats[i] 1 = binary parameter (lengths[i] bytes),
 * 0 = text (NUL-terminated); formats/lengths may be NULL for all-text.
 * binary_result selects the result format. With nparams 0 and a text
 * result, sql may hold several statements separated by ';' (simple query
 * protocol; the first error is reported). Errors: -ENOTCONN while the
 * database is unreachable (between reconnect attempts), OTF_E_NOMEM. */
int partial_pg_query(partial_pg_t *pg, const char *sql, int nparams, const char *const *values,
                     const int *lengths, const int *formats, bool binary_result, partial_pg_cb cb,
                     void *ctx);

/* True while connected (or connecting) and statements can be queued. */
bool partial_pg_available(const partial_pg_t *pg);
/* Statements queued or running. */
size_t partial_pg_pending(const partial_pg_t *pg);

/* Blocking helpers for the CLI and tests (never on a worker loop). */
/* Runs the schema migration (partial_sql.h) on conninfo; 0 or OTF_E_IO
 * with a message in err. */
int partial_pg_migrate_blocking(const char *conninfo, char *err, size_t errlen);

#endif
