/* Plugin boundary benchmark (bench/suite-plugins.sh): CPU per message of
 * one worker running push -> [processor] -> nop, for no processor, the
 * built-in pass-through (ack, mode downstream), the C plugin pass-through
 * (tests/plugins abi_probe) and the Rust plugin with nothing to drop
 * (forwards the same message), in one process, one after the other, each
 * the best of 3 rounds. Messages carry one small log record, so the
 * per-message costs are what is compared; every processor forwards the
 * message it received (zero copies of the payload).
 * usage: plugin_bench C_PLUGIN.so [RUST_PLUGIN.so] */
#include "otflow/pdata_codec.h"
#include "otflow/service.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MESSAGES 200000
#define WINDOW   64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int in_flight, failed;

static void on_done(void *arg, int code, bool permanent, const char *reason)
{
	(void)arg;
	(void)permanent;
	(void)reason;
	pthread_mutex_lock(&lock);
	in_flight--;
	failed += code != 0;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

/* ns of CPU (all threads) per message, or -1 on failure. */
static double run(const char *plugins, const char *processor, const otf_buf_t *req)
{
	char yaml[2048], err[512];
	snprintf(yaml, sizeof yaml,
	         "%s"
	         "receivers: {push/b: {queue_size: %d}}\n"
	         "processors: {ack: {mode: downstream}, abi_probe: {}, drop_attributes: {keys: "
	         "[nothing.matches]}}\n"
	         "exporters: {nop: {}}\n"
	         "service:\n"
	         "  telemetry: {metrics: {level: none}}\n"
	         "  pipelines: {logs: {receivers: [push/b], processors: [%s], exporters: [nop]}}\n"
	         "runtime: {workers: 1}\n",
	         plugins, WINDOW * 2, processor);
	otf_embedded_t *svc;
	if (otf_embedded_start_string("bench.yaml", yaml, strlen(yaml), &svc, err, sizeof err)) {
		fprintf(stderr, "start (%s): %s\n", processor, err);
		return -1;
	}
	double c0 = cpu_s();
	for (int i = 0; i < MESSAGES; i++) {
		pthread_mutex_lock(&lock);
		while (in_flight >= WINDOW)
			pthread_cond_wait(&cond, &lock);
		in_flight++;
		pthread_mutex_unlock(&lock);
		if (otf_embedded_push(svc, "push/b", OTF_SIGNAL_LOGS, req->data, req->len, on_done,
		                      NULL, err, sizeof err))
			on_done(NULL, -1, false, err);
	}
	pthread_mutex_lock(&lock);
	while (in_flight)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	double c1 = cpu_s();
	otf_embedded_stop(svc);
	return (c1 - c0) * 1e9 / MESSAGES;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return fprintf(stderr, "usage: plugin_bench C_PLUGIN.so [RUST_PLUGIN.so]\n"), 2;
	otf_log_record_t rec = {.time_unix_nano = 1, .severity_number = 9};
	rec.body.type = OTF_ANY_STRING;
	rec.body.u.string_value = (otf_bytes_t){(const uint8_t *)"bench", 5};
	otf_scope_logs_t sl = {.log_records = &rec, .log_records_len = 1};
	otf_resource_logs_t rl = {.scope_logs = &sl, .scope_logs_len = 1};
	otf_logs_t logs = {.resource_logs = &rl, .resource_logs_len = 1};
	otf_buf_t *req = NULL;
	if (otf_pdata_encode_logs(&logs, &req))
		return 1;
	char plugins[1200];
	snprintf(plugins, sizeof plugins, "plugins: [\"%s\"%s%s%s]\n", argv[1],
	         argc > 2 ? ", \"" : "", argc > 2 ? argv[2] : "", argc > 2 ? "\"" : "");
	const char *names[] = {"", "ack", "abi_probe", "drop_attributes"};
	const char *label[] = {"no processor", "built-in pass-through (ack, downstream)",
	                       "C plugin pass-through (abi_probe)",
	                       "Rust plugin, nothing to drop (drop_attributes)"};
	int n = argc > 2 ? 4 : 3;
	double best[4] = {0, 0, 0, 0};
	for (int k = 0; k < n; k++) {
		best[k] = 1e18;
		for (int round = 0; round < 3; round++) {
			double ns = run(plugins, names[k], req);
			if (ns < 0)
				return 1;
			if (ns < best[k])
				best[k] = ns;
		}
	}
	printf("| pipeline | CPU ns/message | added by the processor |\n|---|---|---|\n");
	for (int k = 0; k < n; k++)
		printf("| %s | %.0f | %s%.0f |\n", label[k], best[k], k ? "" : "(base) ",
		       best[k] - best[0]);
	printf("\nPlugin boundary (C plugin minus built-in, same work): %.0f ns/message; "
	       "failed pushes: %d.\n",
	       best[2] - best[1], failed);
	otf_buf_unref(req);
	return failed ? 1 : 0;
}
