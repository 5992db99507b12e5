/* WAL append throughput and acknowledgement latency with group commit
 * (bench/suite-wal.sh): records of SIZE bytes appended in groups of G (one
 * worker loop turn's requests), then one otf_wal_sync for the group, as
 * exph_persist.c does. A record's latency is from its append to the end of
 * its group's sync (what a client waits for on top of the network). Each
 * record is consumed (ACK record) after the sync, so segments are deleted
 * as they go and the disk use stays flat. Prints a markdown table.
 * usage: wal_bench DIR [SECONDS_PER_ROW] */
#include "otflow/storage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

#define MAX_LAT (1u << 20)
static double g_lat[MAX_LAT];

static int row(const char *dir, bool fsync, size_t size, unsigned group, double secs)
{
	char sub[512], cmd[600];
	snprintf(sub, sizeof sub, "%s/q-%d-%zu-%u", dir, fsync, size, group);
	otf_wal_options_t o = {.fsync = fsync, .create_directory = true};
	otf_wal_t *w;
	char err[256];
	if (otf_wal_open(sub, &o, &w, err, sizeof err)) {
		fprintf(stderr, "wal_bench: %s\n", err);
		return 1;
	}
	uint8_t *buf = malloc(size);
	for (size_t i = 0; i < size; i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	uint64_t ids[4096];
	double t_app[4096];
	size_t nlat = 0;
	uint64_t records = 0;
	double t0 = now_s(), t = t0;
	while (t - t0 < secs) {
		uint64_t tok = 0;
		for (unsigned g = 0; g < group; g++) {
			otf_wal_part_t p = {buf, size};
			t_app[g] = now_s();
			if (otf_wal_append(w, &p, 1, &ids[g], &tok)) {
				fprintf(stderr, "wal_bench: append failed\n");
				return 1;
			}
		}
		if (otf_wal_sync(w, tok)) {
			fprintf(stderr, "wal_bench: sync failed\n");
			return 1;
		}
		t = now_s();
		for (unsigned g = 0; g < group; g++) {
			if (nlat < MAX_LAT)
				g_lat[nlat++] = t - t_app[g];
			otf_wal_ack(w, ids[g]);
		}
		records += group;
	}
	double el = t - t0;
	otf_wal_stats_t st;
	otf_wal_stats(w, &st);
	otf_wal_close(w);
	free(buf);
	qsort(g_lat, nlat, sizeof *g_lat, cmp_d);
	printf("| %s | %zu B | %u | %.0f | %.1f | %.3f | %.3f | %.0f |\n", fsync ? "true" : "false",
	       size, group, (double)records / el, (double)records * (double)size / el / 1e6,
	       g_lat[nlat / 2] * 1e3, g_lat[nlat * 99 / 100] * 1e3, (double)st.syncs / el);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", sub);
	return system(cmd) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: wal_bench DIR [SECONDS_PER_ROW]\n");
		return 2;
	}
	double secs = argc > 2 ? atof(argv[2]) : 2.0;
	printf("| fsync | record | group (appends per sync) | records/s | MB/s | latency p50 ms | "
	       "latency p99 ms | fdatasync/s |\n|---|---|---|---|---|---|---|---|\n");
	static const struct {
		bool fsync;
		size_t size;
		unsigned group;
	} rows[] = {
	    {true, 4096, 1},   {true, 4096, 16}, {true, 4096, 256},
	    {true, 65536, 16}, {false, 4096, 1}, {false, 4096, 256},
	};
	int rc = 0;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		rc |= row(argv[1], rows[i].fsync, rows[i].size, rows[i].group, secs);
	return rc;
}
