/* Embedding otflow in a C program (otflow/service.h): start a service from
 * a YAML string, push OTLP/protobuf log requests into its `push/app`
 * receiver, wait for every completion, stop.
 *
 * Build: cc embed.c $(pkg-config --cflags --libs otflow) -o embed
 * Run:   ./embed OUT.jsonl N  (the config writes what arrives to OUT.jsonl)
 *
 * The request bytes are made with otflow's own codec here, to stay short;
 * any OTLP encoder (an SDK's) will do. */
#include "otflow/pdata_codec.h"
#include "otflow/service.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int in_flight, delivered, failed;
static int *retry; /* records to push again (retryable failures) */
static int retry_len;

#define WINDOW 32 /* pushes in flight at most: well below the pipeline's channels */

static void on_done(void *arg, int code, bool permanent, const char *reason)
{
	int i = (int)(intptr_t)arg;
	pthread_mutex_lock(&lock);
	in_flight--;
	if (!code)
		delivered++;
	else if (!permanent)
		retry[retry_len++] = i; /* backpressure: push it again */
	else {
		failed++;
		fprintf(stderr, "record %d failed for good: %d: %s\n", i, code, reason);
	}
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

/* One ExportLogsServiceRequest with one record whose body is `body`. */
static otf_buf_t *request(const char *body, uint64_t ts)
{
	otf_log_record_t rec = {.time_unix_nano = ts, .severity_number = 9};
	rec.body.type = OTF_ANY_STRING;
	rec.body.u.string_value = (otf_bytes_t){(const uint8_t *)body, strlen(body)};
	otf_scope_logs_t sl = {.log_records = &rec, .log_records_len = 1};
	otf_resource_logs_t rl = {.scope_logs = &sl, .scope_logs_len = 1};
	otf_logs_t logs = {.resource_logs = &rl, .resource_logs_len = 1};
	otf_buf_t *b = NULL;
	return otf_pdata_encode_logs(&logs, &b) ? NULL : b;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: embed OUT.jsonl N\n");
		return 2;
	}
	int n = atoi(argv[2]);
	char yaml[1024], err[512];
	snprintf(yaml, sizeof yaml,
	         "receivers: {push/app: {}}\n"
	         "exporters: {file: {path: \"%s\", format: json, flush_interval: 10ms}}\n"
	         "service:\n"
	         "  telemetry: {metrics: {level: none}}\n"
	         "  pipelines: {logs: {receivers: [push/app], exporters: [file]}}\n"
	         "runtime: {workers: 2}\n",
	         argv[1]);
	otf_embedded_t *svc;
	if (otf_embedded_start_string("embed.yaml", yaml, strlen(yaml), &svc, err, sizeof err)) {
		fprintf(stderr, "start: %s\n", err);
		return 1;
	}
	/* A bad request is refused at once, with the decoder's reason. */
	if (!otf_embedded_push(svc, "push/app", OTF_SIGNAL_LOGS, "\x0a\x05\x12", 3, on_done, NULL,
	                       err, sizeof err))
		return fprintf(stderr, "a truncated request was accepted\n"), 1;
	printf("refused: %s\n", err);
	if (!otf_embedded_push(svc, "push/nope", OTF_SIGNAL_LOGS, "", 0, on_done, NULL, err,
	                       sizeof err))
		return fprintf(stderr, "an unknown receiver was accepted\n"), 1;
	printf("refused: %s\n", err);
	retry = calloc((size_t)n + 1, sizeof *retry);
	int next = 0, pushes = 0;
	for (;;) {
		pthread_mutex_lock(&lock);
		while (in_flight >= WINDOW || (next == n && !retry_len && in_flight))
			pthread_cond_wait(&cond, &lock);
		int i = retry_len ? retry[--retry_len] : next < n ? next++ : -1;
		if (i >= 0)
			in_flight++;
		pthread_mutex_unlock(&lock);
		if (i < 0)
			break; /* all delivered or failed */
		char body[64];
		snprintf(body, sizeof body, "embedded-%d", i);
		otf_buf_t *b = request(body, 1700000000000000000ull + (uint64_t)i);
		int rc = b ? otf_embedded_push(svc, "push/app", OTF_SIGNAL_LOGS, b->data, b->len,
		                               on_done, (void *)(intptr_t)i, err, sizeof err)
		           : -1;
		if (b)
			otf_buf_unref(b);
		pushes++;
		if (rc) /* not accepted: no callback will come */
			on_done((void *)(intptr_t)i, rc, rc != -EAGAIN, err);
	}
	printf("pushed %d times, delivered %d, failed %d, library %s\n", pushes, delivered, failed,
	       otf_library_version());
	return otf_embedded_stop(svc) || failed || delivered != n ? 1 : 0;
}
