/* Test components of the worker tests (test_accept_balance,
 * test_grpc_handoff): an in-process engine with the OTLP receiver on 2
 * workers feeding `test_rec`, an exporter that records every request with
 * the worker it ran on, and OTLP logs requests to send it.
 *
 * test_rec answers by the payload's bytes: a request containing "NACKME"
 * is nacked (permanent, "marked to fail"), one containing "HOLDME" is held
 * until CAN (nacked -ECANCELED, counted in otf_wr_cancelled) or KIL
 * (acked), every other one is acked.
 *
 * Threads: test_rec runs on the workers; otf_wr_seen is written under
 * otf_wr_lock and read by the test after otf_wr_engine_down. */
#ifndef OTF_TEST_WORKER_REC_H
#define OTF_TEST_WORKER_REC_H

#include "otflow/service.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OTF_WR_NREC     20 /* log records per request */
#define OTF_WR_HOLD_MAX 48 /* messages one instance can hold */
#define OTF_WR_SEEN_MAX (4 * OTF_WR_HOLD_MAX)

typedef struct otf_wr_seen {
	int worker;        /* otf_node_worker_index */
	uint64_t deadline; /* the message's, unix ns */
	uint8_t *data;     /* a copy of the payload (malloc) */
	size_t len;
} otf_wr_seen_t;

extern pthread_mutex_t otf_wr_lock;
extern otf_wr_seen_t otf_wr_seen[OTF_WR_SEEN_MAX];
extern int otf_wr_nseen;
extern _Atomic int otf_wr_held, otf_wr_cancelled;
/* The gRPC method of logs exports. */
extern const char otf_wr_logs_method[];

typedef struct otf_wr_engine {
	otf_config_t *cfg;
	otf_dag_t *dag;
	otf_engine_t *eng;
	int port, http_port; /* gRPC; OTLP/HTTP (0 = none) */
} otf_wr_engine_t;

/* Registers test_rec (after otf_components_register_builtins). */
void otf_wr_register(void);
/* A loopback port free at the time of the call. */
int otf_wr_free_port(void);
/* ExportLogsServiceRequest: one resource, one scope, OTF_WR_NREC records
 * whose string bodies are "rec-RRR-II" plus mark (malloc; *len bytes). */
uint8_t *otf_wr_logs_request(int req, const char *mark, size_t *len);
/* Starts otlp (wait_for_result, gRPC and with http also OTLP/HTTP) ->
 * test_rec on 2 workers and waits until the gRPC port accepts; on fresh
 * ports again when the start fails (a port taken since its choice), 3
 * attempts. */
void otf_wr_engine_up(otf_wr_engine_t *rn, bool http);
void otf_wr_engine_down(otf_wr_engine_t *rn);
/* Frees and forgets what test_rec recorded. */
void otf_wr_reset_seen(void);

#endif
