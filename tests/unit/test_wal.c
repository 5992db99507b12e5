/* The write-ahead log (otflow/storage.h) on real files: appends survive a
 * reopen with their ids and bytes, ACKed records are not replayed, a torn
 * tail is truncated and counted, a flipped byte in the middle costs that
 * record only (counted, the rest replayed in order), consumed segments are
 * deleted, many appends share one sync (group commit), max_bytes pushes
 * back, and the format functions agree with a known CRC32C value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/storage.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char g_dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof g_dir, "/tmp/otf_wal_XXXXXX");
	assert_non_null(mkdtemp(g_dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static otf_wal_t *open_wal(uint64_t segment_bytes, uint64_t max_bytes)
{
	otf_wal_options_t o = {.segment_bytes = segment_bytes,
	                       .max_bytes = max_bytes,
	                       .fsync = true,
	                       .create_directory = true};
	char sub[300], err[256] = "";
	snprintf(sub, sizeof sub, "%s/q", g_dir);
	otf_wal_t *w = NULL;
	int rc = otf_wal_open(sub, &o, &w, err, sizeof err);
	if (rc)
		fail_msg("open: %s", err);
	return w;
}

static uint64_t append_str(otf_wal_t *w, const char *s)
{
	otf_wal_part_t p = {s, strlen(s)};
	uint64_t id = 0, tok = 0;
	assert_int_equal(otf_wal_append(w, &p, 1, &id, &tok), 0);
	assert_int_equal(otf_wal_sync(w, tok), 0);
	return id;
}

typedef struct got {
	size_t n;
	uint64_t ids[4096];
	char data[4096][32];
} got_t;

static got_t g_got;

static void on_rec(void *ctx, uint64_t id, const uint8_t *data, size_t len)
{
	got_t *g = ctx;
	assert_true(g->n < 4096 && len < 32);
	g->ids[g->n] = id;
	memcpy(g->data[g->n], data, len);
	g->data[g->n][len] = '\0';
	g->n++;
}

static size_t take(otf_wal_t *w)
{
	memset(&g_got, 0, sizeof g_got);
	return otf_wal_take_recovered(w, on_rec, &g_got);
}

static size_t count_segments(void)
{
	char sub[300];
	snprintf(sub, sizeof sub, "%s/q", g_dir);
	DIR *d = opendir(sub);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += strstr(de->d_name, ".wal") != NULL;
	closedir(d);
	return n;
}

/* The path of the only (or first) segment holding data. */
static void first_segment(char *out, size_t cap)
{
	char sub[300];
	snprintf(sub, sizeof sub, "%s/q", g_dir);
	DIR *d = opendir(sub);
	assert_non_null(d);
	char best[256] = "";
	struct dirent *de;
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".wal") && (!best[0] || strcmp(de->d_name, best) < 0))
			snprintf(best, sizeof best, "%.64s", de->d_name);
	closedir(d);
	assert_true(best[0]);
	snprintf(out, cap, "%s/%s", sub, best);
}

static void test_crc32c_known_value(void **state)
{
	(void)state;
	/* The check value of CRC-32C (RFC 3720, B.4): "123456789". */
	assert_int_equal(otf_crc32c(0, "123456789", 9), 0xE3069283u);
	uint8_t buf[OTF_WAL_HEADER + 5];
	otf_wal_record_header(buf, OTF_WAL_APPEND, 77, "hello", 5);
	memcpy(buf + OTF_WAL_HEADER, "hello", 5);
	otf_wal_record_t r;
	assert_int_equal(otf_wal_record_parse(buf, sizeof buf, &r), (int64_t)sizeof buf);
	assert_int_equal(r.id, 77);
	assert_int_equal(r.len, 5);
	assert_memory_equal(r.data, "hello", 5);
	assert_int_equal(otf_wal_record_parse(buf, sizeof buf - 1, &r), 0);
	buf[OTF_WAL_HEADER + 2] ^= 0x10;
	assert_int_equal(otf_wal_record_parse(buf, sizeof buf, &r), OTF_E_INVAL);
}

static void test_append_ack_replay(void **state)
{
	(void)state;
	otf_wal_t *w = open_wal(0, 0);
	char s[32];
	uint64_t ids[10];
	for (int i = 0; i < 10; i++) {
		snprintf(s, sizeof s, "rec-%d", i);
		ids[i] = append_str(w, s);
		if (i)
			assert_int_equal(ids[i], ids[i - 1] + 1);
	}
	assert_int_equal(otf_wal_ack(w, ids[0]), 0);
	assert_int_equal(otf_wal_ack(w, ids[3]), 0);
	assert_int_equal(otf_wal_ack(w, ids[3]), OTF_E_NOT_FOUND);
	otf_wal_close(w);

	w = open_wal(0, 0);
	assert_int_equal(take(w), 8);
	const int want[] = {1, 2, 4, 5, 6, 7, 8, 9};
	for (int i = 0; i < 8; i++) {
		snprintf(s, sizeof s, "rec-%d", want[i]);
		assert_string_equal(g_got.data[i], s);
		assert_int_equal(g_got.ids[i], ids[want[i]]);
	}
	uint64_t got_ids[8];
	memcpy(got_ids, g_got.ids, sizeof got_ids);
	/* Handed out once. */
	assert_int_equal(take(w), 0);
	/* New ids continue after the old ones. */
	assert_true(append_str(w, "new") > ids[9]);
	otf_wal_stats_t st;
	otf_wal_stats(w, &st);
	assert_int_equal(st.recovered, 8);
	assert_int_equal(st.pending, 9);
	assert_int_equal(st.scan.corrupt_records, 0);
	assert_int_equal(st.scan.torn_tails, 0);
	/* The recovered ones are ACKed after the reopen: not replayed again. */
	for (int i = 0; i < 8; i++)
		assert_int_equal(otf_wal_ack(w, got_ids[i]), 0);
	otf_wal_close(w);
	w = open_wal(0, 0);
	assert_int_equal(take(w), 1);
	assert_string_equal(g_got.data[0], "new");
	otf_wal_close(w);
}

static void test_torn_tail_truncated(void **state)
{
	(void)state;
	otf_wal_t *w = open_wal(0, 0);
	append_str(w, "one");
	append_str(w, "two");
	append_str(w, "three");
	otf_wal_close(w);
	char path[400];
	first_segment(path, sizeof path);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	/* A crash in the middle of the last write: half of "three" is there. */
	assert_int_equal(truncate(path, sb.st_size - 3), 0);

	w = open_wal(0, 0);
	assert_int_equal(take(w), 2);
	assert_string_equal(g_got.data[0], "one");
	assert_string_equal(g_got.data[1], "two");
	otf_wal_stats_t st;
	otf_wal_stats(w, &st);
	assert_int_equal(st.scan.torn_tails, 1);
	assert_int_equal(st.scan.torn_bytes, OTF_WAL_HEADER + 5 - 3);
	assert_int_equal(st.scan.corrupt_records, 0);
	otf_wal_close(w);
	/* Truncated: the next open finds no tear. */
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal((size_t)sb.st_size,
	                 OTF_WAL_FILE_HEADER + 2 * OTF_WAL_HEADER + strlen("one") + strlen("two"));
	w = open_wal(0, 0);
	otf_wal_stats(w, &st);
	assert_int_equal(st.scan.torn_tails, 0);
	assert_int_equal(take(w), 2);
	otf_wal_close(w);
}

static void test_flipped_byte_in_the_middle(void **state)
{
	(void)state;
	otf_wal_t *w = open_wal(0, 0);
	append_str(w, "aaaa");
	append_str(w, "bbbb");
	append_str(w, "cccc");
	append_str(w, "dddd");
	otf_wal_close(w);
	char path[400];
	first_segment(path, sizeof path);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	/* One byte of "bbbb"'s payload. */
	off_t at = OTF_WAL_FILE_HEADER + (OTF_WAL_HEADER + 4) + OTF_WAL_HEADER + 1;
	uint8_t b = 0;
	assert_int_equal(pread(fd, &b, 1, at), 1);
	assert_int_equal(b, 'b');
	b ^= 0x01;
	assert_int_equal(pwrite(fd, &b, 1, at), 1);
	close(fd);

	w = open_wal(0, 0);
	assert_int_equal(take(w), 3);
	assert_string_equal(g_got.data[0], "aaaa");
	assert_string_equal(g_got.data[1], "cccc");
	assert_string_equal(g_got.data[2], "dddd");
	otf_wal_stats_t st;
	otf_wal_stats(w, &st);
	assert_int_equal(st.scan.corrupt_records, 1);
	assert_int_equal(st.scan.corrupt_bytes, OTF_WAL_HEADER + 4);
	assert_int_equal(st.scan.torn_tails, 0);
	otf_wal_close(w);

	/* A flipped length byte: the scan resynchronises on the next record. */
	w = open_wal(0, 0);
	for (size_t i = 0; i < g_got.n; i++)
		otf_wal_ack(w, g_got.ids[i]);
	append_str(w, "eeee");
	append_str(w, "ffff");
	otf_wal_close(w);
	first_segment(path, sizeof path);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	/* Past the three ACKs written first, the length of "eeee". */
	at = OTF_WAL_FILE_HEADER + 3 * OTF_WAL_HEADER + 4;
	assert_int_equal(pread(fd, &b, 1, at), 1);
	b ^= 0x40;
	assert_int_equal(pwrite(fd, &b, 1, at), 1);
	close(fd);
	w = open_wal(0, 0);
	assert_int_equal(take(w), 1);
	assert_string_equal(g_got.data[0], "ffff");
	otf_wal_stats(w, &st);
	assert_int_equal(st.scan.corrupt_records, 1);
	otf_wal_close(w);
}

static void test_consumed_segments_deleted(void **state)
{
	(void)state;
	/* Segments of about 3 records. */
	otf_wal_t *w = open_wal(OTF_WAL_FILE_HEADER + 3 * (OTF_WAL_HEADER + 6), 0);
	uint64_t ids[12];
	char s[32];
	for (int i = 0; i < 12; i++) {
		snprintf(s, sizeof s, "r-%04d", i);
		ids[i] = append_str(w, s);
	}
	otf_wal_stats_t st;
	otf_wal_stats(w, &st);
	assert_true(st.segments >= 4);
	size_t before = count_segments();
	assert_int_equal(before, st.segments);
	/* Consuming the middle deletes nothing: the oldest still holds data. */
	for (int i = 3; i < 9; i++)
		assert_int_equal(otf_wal_ack(w, ids[i]), 0);
	assert_int_equal(count_segments(), before);
	for (int i = 0; i < 3; i++)
		assert_int_equal(otf_wal_ack(w, ids[i]), 0);
	otf_wal_stats(w, &st);
	assert_true(st.segments_deleted >= 3);
	assert_int_equal(count_segments(), st.segments);
	assert_true(count_segments() < before);
	otf_wal_close(w);
	w = open_wal(OTF_WAL_FILE_HEADER + 3 * (OTF_WAL_HEADER + 6), 0);
	assert_int_equal(take(w), 3);
	assert_string_equal(g_got.data[0], "r-0009");
	assert_string_equal(g_got.data[2], "r-0011");
	for (size_t i = 0; i < g_got.n; i++)
		assert_int_equal(otf_wal_ack(w, g_got.ids[i]), 0);
	/* Everything consumed: only the active segment is left. */
	assert_int_equal(count_segments(), 1);
	otf_wal_close(w);
}

static void test_group_commit(void **state)
{
	(void)state;
	otf_wal_t *w = open_wal(0, 0);
	uint64_t tok[100], id;
	for (int i = 0; i < 100; i++) {
		otf_wal_part_t p[2] = {{"x", 1}, {"yz", 2}};
		assert_int_equal(otf_wal_append(w, p, 2, &id, &tok[i]), 0);
	}
	otf_wal_stats_t st;
	otf_wal_stats(w, &st);
	uint64_t syncs = st.syncs;
	/* The last token's sync covers every earlier one. */
	assert_int_equal(otf_wal_sync(w, tok[99]), 0);
	for (int i = 0; i < 99; i++)
		assert_int_equal(otf_wal_sync(w, tok[i]), 0);
	otf_wal_stats(w, &st);
	assert_int_equal(st.syncs, syncs + 1);
	otf_wal_close(w);
	w = open_wal(0, 0);
	assert_int_equal(take(w), 100);
	assert_string_equal(g_got.data[99], "xyz");
	otf_wal_close(w);
}

/* The sync thread: a request returns at once, the poll says when the
 * token is durable; appends made meanwhile are covered by a later sync. */
static void test_group_commit_thread(void **state)
{
	(void)state;
	otf_wal_t *w = open_wal(0, 0);
	uint64_t id, tok = 0, first = 0;
	for (int i = 0; i < 50; i++) {
		otf_wal_part_t p = {"abc", 3};
		assert_int_equal(otf_wal_append(w, &p, 1, &id, &tok), 0);
		if (!i)
			first = tok;
	}
	otf_wal_sync_request(w, tok);
	/* Appends go on while the thread syncs. */
	uint64_t later = 0;
	otf_wal_part_t p = {"def", 3};
	assert_int_equal(otf_wal_append(w, &p, 1, &id, &later), 0);
	int rc = -1, i = 0;
	while (!otf_wal_sync_poll(w, tok, &rc)) {
		struct timespec d = {0, 1000000};
		nanosleep(&d, NULL);
		if (++i > 10000)
			fail_msg("token %llu not durable after 10 s", (unsigned long long)tok);
	}
	assert_int_equal(rc, 0);
	assert_true(otf_wal_sync_poll(w, first, &rc));
	assert_int_equal(rc, 0);
	otf_wal_sync_request(w, later);
	for (i = 0; !otf_wal_sync_poll(w, later, &rc); i++) {
		struct timespec d = {0, 1000000};
		nanosleep(&d, NULL);
		if (i > 10000)
			fail_msg("later token not durable after 10 s");
	}
	otf_wal_stats_t st;
	otf_wal_stats(w, &st);
	assert_true(st.syncs >= 1 && st.syncs <= 2);
	otf_wal_close(w);
	w = open_wal(0, 0);
	assert_int_equal(take(w), 51);
	assert_string_equal(g_got.data[50], "def");
	otf_wal_close(w);
}

static void test_max_bytes_pushes_back(void **state)
{
	(void)state;
	otf_wal_t *w = open_wal(0, OTF_WAL_FILE_HEADER + 2 * (OTF_WAL_HEADER + 4));
	uint64_t a = append_str(w, "1111");
	append_str(w, "2222");
	otf_wal_part_t p = {"3333", 4};
	uint64_t id, tok;
	assert_int_equal(otf_wal_append(w, &p, 1, &id, &tok), OTF_E_NOSPACE);
	otf_wal_stats_t st;
	otf_wal_stats(w, &st);
	assert_int_equal(st.pending, 2);
	/* Consumed: the space comes back, although it is the active segment's. */
	assert_int_equal(otf_wal_ack(w, a), 0);
	assert_int_equal(otf_wal_ack(w, a + 1), 0);
	assert_int_equal(otf_wal_append(w, &p, 1, &id, &tok), 0);
	otf_wal_close(w);
	w = open_wal(0, OTF_WAL_FILE_HEADER + 2 * (OTF_WAL_HEADER + 4));
	assert_int_equal(take(w), 1);
	assert_string_equal(g_got.data[0], "3333");
	otf_wal_close(w);
}

/* A new segment that cannot be created (no descriptor left) fails that
 * append only: the next one tries again. */
static void test_failed_roll_recovers(void **state)
{
	(void)state;
	int probe = dup(0);
	assert_true(probe >= 0);
	close(probe);
	/* The WAL takes the lowest free descriptors: directory, lock, then
	 * the active segment at probe + 2. */
	otf_wal_t *w = open_wal(OTF_WAL_FILE_HEADER + 2 * (OTF_WAL_HEADER + 4), 0);
	append_str(w, "1111");
	append_str(w, "2222");
	struct rlimit old, low;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)(probe + 2);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	otf_wal_part_t p = {"3333", 4};
	uint64_t id = 0, tok = 0;
	int rc = otf_wal_append(w, &p, 1, &id, &tok);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(rc, -EMFILE);
	/* Everything written before is durable all the same. */
	assert_int_equal(otf_wal_sync(w, UINT64_MAX), 0);
	/* Descriptors again: the queue goes on. */
	assert_int_equal(otf_wal_append(w, &p, 1, &id, &tok), 0);
	assert_int_equal(otf_wal_sync(w, tok), 0);
	otf_wal_close(w);
	w = open_wal(0, 0);
	assert_int_equal(take(w), 3);
	assert_string_equal(g_got.data[2], "3333");
	otf_wal_close(w);
}

static void test_second_process_refused(void **state)
{
	(void)state;
	otf_wal_t *w = open_wal(0, 0);
	otf_wal_options_t o = {.create_directory = true};
	char sub[300], err[256] = "";
	snprintf(sub, sizeof sub, "%s/q", g_dir);
	otf_wal_t *w2 = NULL;
	/* flock is per open file description: a second open conflicts too. */
	assert_int_equal(otf_wal_open(sub, &o, &w2, err, sizeof err), -16 /* -EBUSY */);
	assert_non_null(strstr(err, "in use"));
	assert_null(w2);
	otf_wal_close(w);
	o.create_directory = false;
	snprintf(sub, sizeof sub, "%s/missing", g_dir);
	assert_true(otf_wal_open(sub, &o, &w2, err, sizeof err) < 0);
	assert_non_null(strstr(err, "missing"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc32c_known_value),
	    cmocka_unit_test_setup_teardown(test_append_ack_replay, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_tail_truncated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flipped_byte_in_the_middle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_consumed_segments_deleted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_group_commit_thread, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_max_bytes_pushes_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_roll_recovers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_second_process_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
