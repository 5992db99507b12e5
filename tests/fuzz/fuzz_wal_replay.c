/* Fuzz target: WAL segment replay (src/storage/wal_format.c, wal.c).
 *
 * Input: the bytes of one segment file, as a crash, a full disk or a
 * flipped bit may leave it. Checked:
 * - nothing crashes or reads out of bounds (ASan, UBSan), nothing leaks;
 * - the scan accounts for every byte: records, corrupt runs and the torn
 *   tail add up, and the valid end is within the input;
 * - scanning only up to the valid end again finds the same records and no
 *   torn tail (what recovery truncates to is a clean segment);
 * - opening a WAL directory holding the input as its segment recovers at
 *   most as many records as the scan found, the file is truncated to the
 *   valid end, and a second open finds no torn tail and the same records. */
#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/storage.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

typedef struct sum {
	uint64_t n, bytes, crc;
} sum_t;

static void on_scan(void *ctx, const otf_wal_record_t *r)
{
	sum_t *s = ctx;
	s->n++;
	s->bytes += OTF_WAL_HEADER + r->len;
	s->crc = otf_crc32c((uint32_t)s->crc, r->data, r->len) ^ r->id;
}

static void on_recovered(void *ctx, uint64_t id, const uint8_t *data, size_t len)
{
	sum_t *s = ctx;
	s->n++;
	s->crc = otf_crc32c((uint32_t)s->crc, data, len) ^ id;
}

static char g_dir[64];

static void write_file(const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, p, n) == (ssize_t)n);
	close(fd);
}

static void clear_dir(void)
{
	char path[128];
	for (unsigned i = 1; i < 4; i++) {
		snprintf(path, sizeof path, "%s/%016x.wal", g_dir, i);
		unlink(path);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 16))
		return 0;
	if (!g_dir[0]) {
		snprintf(g_dir, sizeof g_dir, "/tmp/fuzz_wal_XXXXXX");
		CHECK(mkdtemp(g_dir));
	}
	/* The scan over memory. */
	otf_wal_scan_stats_t st = {0};
	sum_t a = {0};
	size_t end = otf_wal_scan(data, size, on_scan, &a, &st);
	CHECK(end <= size);
	CHECK(st.records == a.n);
	CHECK(a.bytes + st.corrupt_bytes == end);
	CHECK(end + st.torn_bytes == size);
	CHECK(st.torn_tails <= 1 && (st.torn_tails == 0) == (st.torn_bytes == 0));
	otf_wal_scan_stats_t st2 = {0};
	sum_t b = {0};
	CHECK(otf_wal_scan(data, end, on_scan, &b, &st2) == end);
	CHECK(b.n == a.n && b.crc == a.crc && st2.torn_tails == 0);

	/* Recovery of a directory holding it (with a valid file header). */
	clear_dir();
	uint8_t *file = otf_malloc(size + OTF_WAL_FILE_HEADER);
	CHECK(file);
	memcpy(file, OTF_WAL_FILE_MAGIC, OTF_WAL_FILE_HEADER);
	memcpy(file + OTF_WAL_FILE_HEADER, data, size);
	char path[128];
	snprintf(path, sizeof path, "%s/%016x.wal", g_dir, 1u);
	write_file(path, file, size + OTF_WAL_FILE_HEADER);
	otf_free(file);
	otf_wal_options_t o = {.fsync = false};
	otf_wal_t *w = NULL;
	char err[256];
	int rc = otf_wal_open(g_dir, &o, &w, err, sizeof err);
	CHECK(rc == 0);
	sum_t r1 = {0};
	otf_wal_take_recovered(w, on_recovered, &r1);
	otf_wal_stats_t ws;
	otf_wal_stats(w, &ws);
	CHECK(r1.n <= a.n && ws.recovered == r1.n && ws.pending == r1.n);
	otf_wal_close(w);
	if (r1.n) {
		struct stat sb;
		CHECK(stat(path, &sb) == 0);
		CHECK((size_t)sb.st_size == OTF_WAL_FILE_HEADER + end);
	}
	/* The open left segment 2 (empty, active); a second open agrees. */
	CHECK(otf_wal_open(g_dir, &o, &w, err, sizeof err) == 0);
	sum_t r2 = {0};
	otf_wal_take_recovered(w, on_recovered, &r2);
	otf_wal_stats(w, &ws);
	CHECK(r2.n == r1.n && r2.crc == r1.crc && ws.scan.torn_tails == 0);
	otf_wal_close(w);
	clear_dir();
	return 0;
}
