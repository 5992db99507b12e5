/* kafka_mock: a librdkafka mock cluster for the Kafka tests (the real Kafka
 * protocol on loopback, brokers in this process). Prints the bootstrap
 * servers on the first line of stdout, then reads commands from stdin, one
 * per line, answering each with "ok" or "error: ..." on stdout:
 *
 *   topic NAME PARTITIONS        create a topic
 *   down BROKER | up BROKER      broker 1..N refuses / accepts connections
 *   rtt BROKER MS                round-trip delay of a broker
 *   error APIKEY ERR COUNT       the next COUNT requests of API APIKEY
 *                                (0 Produce, 1 Fetch, 8 OffsetCommit, ...)
 *                                fail with Kafka error code ERR
 *   leader TOPIC PARTITION BROKER   move a partition's leader
 *   produce TOPIC PARTITION FILE [NAME=VALUE...]
 *                                one message holding FILE's bytes, with
 *                                the headers given, flushed before "ok"
 *
 * Exits when stdin closes (so a test's pipe ends it with the test).
 * Usage: kafka_mock [BROKERS (default 1)] */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rd_kafka_t *g_producer;

/* A producer of its own (the cluster's handle has no bootstrap servers). */
static rd_kafka_resp_err_t produce(const char *bootstraps, char *args)
{
	char err[256];
	if (!g_producer) {
		rd_kafka_conf_t *c = rd_kafka_conf_new();
		if (rd_kafka_conf_set(c, "bootstrap.servers", bootstraps, err, sizeof err))
			return RD_KAFKA_RESP_ERR__INVALID_ARG;
		g_producer = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
		if (!g_producer)
			return RD_KAFKA_RESP_ERR__FAIL;
	}
	char *save = NULL, *topic = strtok_r(args, " \t\n", &save);
	char *part = strtok_r(NULL, " \t\n", &save), *file = strtok_r(NULL, " \t\n", &save);
	if (!topic || !part || !file)
		return RD_KAFKA_RESP_ERR__INVALID_ARG;
	FILE *f = fopen(file, "rb");
	if (!f)
		return RD_KAFKA_RESP_ERR__FS;
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	rd_kafka_headers_t *h = rd_kafka_headers_new(4);
	for (char *kv; (kv = strtok_r(NULL, " \t\n", &save));) {
		char *eq = strchr(kv, '=');
		if (eq) {
			*eq = 0;
			rd_kafka_header_add(h, kv, -1, eq + 1, -1);
		}
	}
	rd_kafka_resp_err_t e = rd_kafka_producev(
	    g_producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION((int32_t)atoi(part)),
	    RD_KAFKA_V_VALUE(buf, n), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
	    RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
	if (e) {
		rd_kafka_headers_destroy(h);
		return e;
	}
	return rd_kafka_flush(g_producer, 10000);
}

int main(int argc, char **argv)
{
	int brokers = argc > 1 ? atoi(argv[1]) : 1;
	char err[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	/* The mock cluster needs a handle for its threads and logs only. */
	if (rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err)) {
		fprintf(stderr, "kafka_mock: %s\n", err);
		return 1;
	}
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
	if (!rk) {
		fprintf(stderr, "kafka_mock: %s\n", err);
		return 1;
	}
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers > 0 ? brokers : 1);
	if (!mc) {
		fprintf(stderr, "kafka_mock: cannot start the mock cluster\n");
		return 1;
	}
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	char line[512];
	while (fgets(line, sizeof line, stdin)) {
		char a[256] = "", b[64] = "", c[64] = "", d[64] = "";
		int n = sscanf(line, "%255s %63s %63s %63s", a, b, c, d);
		rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
		if (n < 1)
			continue;
		if (!strcmp(a, "topic") && n >= 3) {
			e = rd_kafka_mock_topic_create(mc, b, atoi(c), 1);
		} else if (!strcmp(a, "down") && n >= 2) {
			e = rd_kafka_mock_broker_set_down(mc, atoi(b));
		} else if (!strcmp(a, "up") && n >= 2) {
			e = rd_kafka_mock_broker_set_up(mc, atoi(b));
		} else if (!strcmp(a, "rtt") && n >= 3) {
			e = rd_kafka_mock_broker_set_rtt(mc, atoi(b), atoi(c));
		} else if (!strcmp(a, "error") && n >= 4) {
			size_t cnt = (size_t)atoi(d);
			rd_kafka_resp_err_t *errs = calloc(cnt ? cnt : 1, sizeof *errs);
			for (size_t i = 0; i < cnt; i++)
				errs[i] = (rd_kafka_resp_err_t)atoi(c);
			rd_kafka_mock_push_request_errors_array(mc, (int16_t)atoi(b), cnt, errs);
			free(errs);
		} else if (!strcmp(a, "produce") && n >= 4) {
			e = produce(rd_kafka_mock_cluster_bootstraps(mc), line + 8);
		} else if (!strcmp(a, "leader") && n >= 4) {
			e = rd_kafka_mock_partition_set_leader(mc, b, atoi(c), atoi(d));
		} else {
			printf("error: unknown command: %s", line);
			fflush(stdout);
			continue;
		}
		if (e)
			printf("error: %s\n", rd_kafka_err2str(e));
		else
			printf("ok\n");
		fflush(stdout);
	}
	if (g_producer)
		rd_kafka_destroy(g_producer);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
