/* otflow --config FILE...: run the collector until SIGINT/SIGTERM.
 * otflow validate / print-dag: check or show the compiled DAG. */
#include "cli/cli.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/net.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#define MAX_CONFIGS 16

typedef struct run_state {
	otf_engine_t *engine;
	otf_admin_t *admin;
	uv_signal_t sigint, sigterm, sighup;
	int stopping;
	otf_cli_reload_t *reload;
} run_state_t;

static void on_sighup(uv_signal_t *h, int signum)
{
	(void)signum;
	run_state_t *st = h->data;
	if (st->stopping || !st->reload) {
		otf_log(OTF_LOG_WARN, "service", "SIGHUP ignored: %s",
		        st->stopping ? "shutting down" : "still starting");
		return;
	}
	otf_cli_reload_run(st->reload, st->engine);
	/* health_check reports the pipelines of the config running now. */
	if (st->admin)
		otf_admin_set_config(st->admin, otf_cli_reload_config(st->reload));
}

static void on_signal(uv_signal_t *h, int signum)
{
	run_state_t *st = h->data;
	if (st->stopping) {
		otf_log(OTF_LOG_WARN, "service", "second signal: still draining, please wait");
		return;
	}
	st->stopping = 1;
	otf_log(OTF_LOG_INFO, "service", "received %s, shutting down",
	        signum == SIGINT ? "SIGINT" : "SIGTERM");
	if (st->admin)
		otf_admin_set_ready(st->admin, 0);
	otf_engine_request_stop(st->engine);
	/* The loop ends once the admin endpoints close; the workers are
	 * joined after it. The signal handles stay installed, only unref'd:
	 * closing them would restore the default action, and a second signal
	 * during the drain would kill the process instead of letting it
	 * finish (the deadline bounds the drain). */
	if (st->admin)
		otf_admin_stop(st->admin);
	st->admin = NULL;
	uv_unref((uv_handle_t *)&st->sigint);
	uv_unref((uv_handle_t *)&st->sigterm);
	uv_unref((uv_handle_t *)&st->sighup);
}

static void close_signals(uv_loop_t *loop, run_state_t *st)
{
	uv_close((uv_handle_t *)&st->sigint, NULL);
	uv_close((uv_handle_t *)&st->sigterm, NULL);
	uv_close((uv_handle_t *)&st->sighup, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
}

/* Joins the workers; when one does not stop within shutdown_timeout
 * (otf_engine_join named it) the process exits at once, non-zero: the stuck
 * thread still uses the engine and the DAG, so nothing can be freed, and
 * exit() would run atexit handlers under it. */
static int64_t join_or_exit(otf_engine_t *e)
{
	int64_t rc = otf_engine_join(e);
	if (rc == -ETIMEDOUT) {
		otf_log(OTF_LOG_ERROR, "service", "shutdown did not complete; exiting");
		/* stderr only: fflush(NULL) would also flush the streams the
		 * stuck worker writes to, and may block just like it. */
		fflush(stderr);
		_exit(1);
	}
	return rc;
}

/* Raises the open-file limit as far as allowed and sizes the connection
 * cap of every loop (the workers' and this thread's admin endpoints) to
 * what the descriptors allow, so that a flood of connections is met by
 * eviction instead of EMFILE (otflow/net.h). */
static void apply_connection_limits(const otf_runtime_config_t *rt)
{
	uint64_t nofile;
	int rc = otf_net_raise_nofile(&nofile);
	if (rc)
		otf_log(OTF_LOG_WARN, "service", "cannot raise the open-file limit: %s",
		        otf_strerror(rc));
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	uint32_t workers = rt->workers ? rt->workers : cores > 0 ? (uint32_t)cores : 1;
	uint32_t cap = otf_net_connection_cap(nofile, workers + 1, rt->max_connections);
	/* what the descriptors alone allow (no default ceiling) */
	uint32_t fd_cap = otf_net_connection_cap(nofile, workers + 1, UINT32_MAX);
	if (rt->max_connections && rt->max_connections / (workers + 1) > fd_cap)
		otf_log(OTF_LOG_WARN, "service",
		        "runtime.max_connections %u is above what the open-file limit (%llu) "
		        "allows; using %u per worker",
		        rt->max_connections, (unsigned long long)nofile, cap);
	otf_net_set_loop_connection_cap(cap);
	otf_log(OTF_LOG_INFO, "service",
	        "open-file limit %llu: at most %u connection(s) per worker, then the one idle "
	        "the longest is closed",
	        (unsigned long long)nofile, cap);
}

int otf_cli_run(int argc, char **argv)
{
	const char *paths[MAX_CONFIGS];
	size_t n;
	int rc = otf_cli_parse_configs(argc, argv, paths, MAX_CONFIGS, &n, NULL);
	if (rc)
		return rc;
	otf_config_t *cfg;
	otf_dag_t *dag;
	otf_service_settings_t settings;
	rc = otf_cli_load(paths, n, &cfg, &dag, &settings);
	if (rc)
		return rc;
	signal(SIGPIPE, SIG_IGN);
	apply_connection_limits(&settings.runtime);
	run_state_t st;
	memset(&st, 0, sizeof st);
	/* Catch SIGINT/SIGTERM before the workers start: receivers may accept
	 * data as soon as their worker runs, and a signal during start-up must
	 * drain like any other instead of killing the process. It is handled
	 * once the loop runs, after start-up. */
	uv_loop_t *loop = uv_default_loop();
	uv_signal_init(loop, &st.sigint);
	uv_signal_init(loop, &st.sigterm);
	st.sigint.data = st.sigterm.data = &st;
	uv_signal_start(&st.sigint, on_signal, SIGINT);
	uv_signal_start(&st.sigterm, on_signal, SIGTERM);
	uv_signal_init(loop, &st.sighup);
	st.sighup.data = &st;
	uv_signal_start(&st.sighup, on_sighup, SIGHUP);
	rc = otf_engine_start(dag, &settings.runtime, &st.engine);
	if (rc) {
		otf_log(OTF_LOG_ERROR, "service", "cannot start: %s", otf_strerror(rc));
		close_signals(loop, &st);
		otf_dag_destroy(dag);
		otf_config_destroy(cfg);
		return 1;
	}
	rc = otf_admin_start(loop, &settings, st.engine, dag, &st.admin);
	if (rc) {
		/* Like a receiver's port: an endpoint that cannot be bound (most
		 * often another process has it) fails the start, as in the
		 * Collector; otf_admin_start named the endpoint. */
		otf_log(OTF_LOG_ERROR, "service", "cannot start: telemetry or health endpoint: %s",
		        otf_strerror(rc));
		st.stopping = 1;
		otf_engine_request_stop(st.engine);
		otf_admin_stop(st.admin);
		uv_unref((uv_handle_t *)&st.sigint);
		uv_unref((uv_handle_t *)&st.sigterm);
		uv_unref((uv_handle_t *)&st.sighup);
		uv_run(loop, UV_RUN_DEFAULT);
		join_or_exit(st.engine);
		close_signals(loop, &st);
		otf_dag_destroy(dag);
		otf_config_destroy(cfg);
		return 1;
	}
	otf_log(OTF_LOG_INFO, "service", "everything is ready; %d worker(s) running",
	        otf_engine_workers(st.engine));
	if (st.admin) {
		otf_admin_set_config(st.admin, cfg);
		otf_admin_set_ready(st.admin, 1);
	}
	st.reload = otf_cli_reload_create(paths, n, cfg, settings.log_level);
	otf_cli_memtrim_t *trim = otf_cli_memtrim_start(loop);
	uv_run(loop, UV_RUN_DEFAULT);
	int64_t undelivered = join_or_exit(st.engine);
	otf_cli_memtrim_stop(trim);
	close_signals(loop, &st);
	otf_cli_reload_destroy(st.reload);
	if (undelivered > 0)
		otf_log(OTF_LOG_ERROR, "service",
		        "%lld message(s) could not be delivered before the "
		        "shutdown deadline",
		        (long long)undelivered);
	else
		otf_log(OTF_LOG_INFO, "service", "shutdown complete");
	otf_dag_destroy(dag);
	otf_config_destroy(cfg);
	return 0;
}

/* validate and print-dag: load and compile, then report or print. */
static int load_and_show(int argc, char **argv, bool print)
{
	const char *paths[MAX_CONFIGS];
	const char *format = "text";
	size_t n;
	int rc = otf_cli_parse_configs(argc, argv, paths, MAX_CONFIGS, &n, print ? &format : NULL);
	if (rc)
		return rc;
	if (strcmp(format, "text") && strcmp(format, "dot")) {
		fprintf(stderr, "otflow print-dag: --format must be text or dot\n");
		return 2;
	}
	otf_config_t *cfg;
	otf_dag_t *dag;
	otf_service_settings_t settings;
	rc = otf_cli_load(paths, n, &cfg, &dag, &settings);
	if (rc)
		return rc;
	if (print)
		otf_dag_print(dag, stdout, !strcmp(format, "dot"));
	else {
		printf("configuration is valid\n");
		otf_cli_print_used(cfg, stdout);
	}
	otf_dag_destroy(dag);
	otf_config_destroy(cfg);
	return 0;
}

int otf_cli_validate(int argc, char **argv)
{
	return load_and_show(argc, argv, false);
}

int otf_cli_print_dag(int argc, char **argv)
{
	return load_and_show(argc, argv, true);
}
