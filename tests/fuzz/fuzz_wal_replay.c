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
 *   valid end, and a second open finds no torn tail and the same records;
 * - every recovered record is also parsed as a queued request
 *   (otf_qrec_parse, the sending queue's payload): what parses has its
 *   body and metadata entries within the record, the entries add up to
 *   the metadata block, and encoding them again gives the same head. */
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

static void check_qrec(const uint8_t *data, size_t len)
{
	otf_qrec_t q;
	if (otf_qrec_parse(data, len, &q))
		return;
	CHECK(q.body >= data && q.body + q.body_len == data + len);
	if (q.version == OTF_QREC_V1) {
		CHECK(q.nmeta == 0 && q.body == data + 10);
		return;
	}
	const char **k = otf_malloc((q.nmeta + 1) * sizeof *k);
	const char **v = otf_malloc((q.nmeta + 1) * sizeof *v);
	char *strs = otf_malloc(q.meta_len + 2 * (size_t)q.nmeta + 1);
	CHECK(k && v && strs);
	char *sp = strs;
	otf_qrec_entry_t e;
	size_t off = 0, n = 0;
	bool plain = true; /* no NUL inside: the entries survive as C strings */
	while (otf_qrec_meta_next(&q, &off, &e)) {
		CHECK(n < q.nmeta && e.key_len > 0);
		plain = plain && !memchr(e.key, 0, e.key_len) && !memchr(e.value, 0, e.value_len);
		CHECK(e.key >= q.meta && e.value + e.value_len <= q.meta + q.meta_len);
		k[n] = sp;
		memcpy(sp, e.key, e.key_len);
		sp += e.key_len;
		*sp++ = 0;
		v[n] = sp;
		memcpy(sp, e.value, e.value_len);
		sp += e.value_len;
		*sp++ = 0;
		n++;
	}
	CHECK(n == q.nmeta && off == q.meta_len);
	size_t head = (size_t)(q.body - data), kept = 0;
	uint8_t *again = otf_malloc(head + 1);
	CHECK(again);
	size_t hl = otf_qrec_encode_head(again, head + 1, q.signal, q.items, k, v, n, &kept);
	if (plain)
		CHECK(hl == head && kept == n && !memcmp(again, data, head));
	otf_free(again);
	otf_free(strs);
	otf_free(k);
	otf_free(v);
}

static void on_recovered(void *ctx, uint64_t id, const uint8_t *data, size_t len)
{
	sum_t *s = ctx;
	check_qrec(data, len);
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
