/* Requests of one gRPC connection handed between workers at the message
 * boundary (src/engine/handoff.c, the otlp receiver's hand-off): a real
 * HTTP/2 client sends 48 concurrent Export calls on ONE connection to an
 * in-process engine with 2 workers and wait_for_result; a test exporter
 * records which worker each request reached and nacks those marked so.
 * With OTFLOW_HANDOFF=always the requests must run on both workers, every
 * record arrive exactly once, and each stream get its own request's
 * answer (OK, or INVALID_ARGUMENT with the exporter's reason), and each
 * message carry its call's grpc-timeout as its deadline. A second
 * case holds requests on the peer and resets the client's connection: the
 * peer's messages must be cancelled (CAN travels to the worker that has
 * them). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "h2_client.h"
#include "worker_rec.h"
#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/err.h"
#include "otflow/service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NREQ 48 /* calls on the one connection (at most OTF_WR_HOLD_MAX held) */

/* 48 calls on one connection, every 4th marked to be nacked: each stream
 * gets its own answer, each record arrives once, both workers ran some. */
static void test_one_connection_both_workers(void **state)
{
	(void)state;
	otf_wr_reset_seen();
	otf_wr_engine_t rn;
	otf_wr_engine_up(&rn, false);
	h2_conn_t *c = h2_connect(rn.port);
	assert_non_null(c);
	static h2_result_t res[NREQ];
	uint8_t *frames[NREQ];
	for (int i = 0; i < NREQ; i++) {
		size_t ml, fl;
		uint8_t *msg = otf_wr_logs_request(i, i % 4 == 3 ? "NACKME" : "", &ml);
		frames[i] = grpc_frame(msg, ml, 0, &fl);
		free(msg);
		memset(&res[i], 0, sizeof res[i]);
		/* The call's deadline must travel with the request. */
		static const char *const timeout[] = {"grpc-timeout", "30S", NULL};
		assert_true(h2_submit(c, NULL, otf_wr_logs_method, NULL, timeout, frames[i], fl,
		                      &res[i]) > 0);
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	assert_int_equal(h2_run(c, 20000), 0);
	for (int i = 0; i < NREQ; i++) {
		assert_int_equal(res[i].http_status, 200);
		if (i % 4 == 3) {
			assert_int_equal(res[i].grpc_status, 3); /* INVALID_ARGUMENT */
			assert_non_null(strstr(res[i].grpc_message, "marked to fail"));
		} else {
			assert_int_equal(res[i].grpc_status, 0);
		}
		h2_result_free(&res[i]);
		free(frames[i]);
	}
	h2_close(c);
	otf_wr_engine_down(&rn);
	/* Exactly once: each record in exactly one delivered request. */
	int per_worker[2] = {0, 0};
	assert_int_equal(otf_wr_nseen, NREQ);
	for (int s = 0; s < otf_wr_nseen; s++) {
		assert_in_range(otf_wr_seen[s].worker, 0, 1);
		assert_in_range(otf_wr_seen[s].deadline, now + 25000000000ull,
		                now + 31000000000ull);
		per_worker[otf_wr_seen[s].worker]++;
	}
	for (int i = 0; i < NREQ; i++)
		for (int k = 0; k < OTF_WR_NREC; k++) {
			char text[40];
			snprintf(text, sizeof text, "rec-%03d-%02d", i, k);
			int found = 0;
			for (int s = 0; s < otf_wr_nseen; s++)
				if (memmem(otf_wr_seen[s].data, otf_wr_seen[s].len, text,
				           strlen(text)))
					found++;
			if (found != 1)
				fail_msg("record %s delivered %d times", text, found);
		}
	fprintf(stderr, "requests per worker: %d %d\n", per_worker[0], per_worker[1]);
	assert_true(per_worker[0] > 0);
	assert_true(per_worker[1] > 0);
	otf_wr_reset_seen();
}

/* CAN across the hand-off: requests held downstream on both workers,
 * then the client leaves; every held message is cancelled, including
 * those on the worker that does not own the connection. */
static void test_cancel_reaches_peer(void **state)
{
	(void)state;
	otf_wr_reset_seen();
	otf_wr_engine_t rn;
	otf_wr_engine_up(&rn, false);
	atomic_store(&otf_wr_held, 0);
	atomic_store(&otf_wr_cancelled, 0);
	h2_conn_t *c = h2_connect(rn.port);
	assert_non_null(c);
	enum { N = 8 };
	static h2_result_t res[N];
	uint8_t *frames[N];
	for (int i = 0; i < N; i++) {
		size_t ml, fl;
		uint8_t *msg = otf_wr_logs_request(100 + i, "HOLDME", &ml);
		frames[i] = grpc_frame(msg, ml, 0, &fl);
		free(msg);
		memset(&res[i], 0, sizeof res[i]);
		assert_true(
		    h2_submit(c, NULL, otf_wr_logs_method, NULL, NULL, frames[i], fl, &res[i]) > 0);
	}
	for (int t = 0; t < 1000 && atomic_load(&otf_wr_held) < N; t++)
		h2_pump(c, 10);
	if (atomic_load(&otf_wr_held) != N)
		fail_msg("only %d of %d requests reached the exporter", atomic_load(&otf_wr_held),
		         N);
	int workers_seen[2] = {0, 0};
	pthread_mutex_lock(&otf_wr_lock);
	for (int s = 0; s < otf_wr_nseen; s++)
		workers_seen[otf_wr_seen[s].worker] = 1;
	pthread_mutex_unlock(&otf_wr_lock);
	assert_true(workers_seen[0] && workers_seen[1]);
	h2_close(c); /* the client leaves: every call is gone */
	for (int t = 0; t < 500 && atomic_load(&otf_wr_cancelled) < N; t++)
		usleep(10000);
	if (atomic_load(&otf_wr_cancelled) != N)
		fail_msg("%d of %d held requests cancelled", atomic_load(&otf_wr_cancelled), N);
	for (int i = 0; i < N; i++) {
		h2_result_free(&res[i]);
		free(frames[i]);
	}
	otf_wr_engine_down(&rn);
	otf_wr_reset_seen();
}

static int setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	/* Round robin over the workers whatever their load, so that the
	 * spread does not depend on this machine's speed. */
	setenv("OTFLOW_HANDOFF", "always", 1);
	otf_components_register_builtins();
	otf_wr_register();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_connection_both_workers),
	    cmocka_unit_test(test_cancel_reaches_peer),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
