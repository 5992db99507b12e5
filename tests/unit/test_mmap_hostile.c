/* otlp_mmap reader against hostile files: a file truncated under the
 * reader's mapping (SIGBUS on a page past the end) leaves the process
 * running and the reader BAD for good ("corrupt"), whether the shrink is
 * seen by the size check or only by the access; a fault outside the
 * reader's mappings is not swallowed (checked in a child process);
 * checkpoint positions outside [-1, writer_index] (INT64_MAX, 1000 on a
 * ring whose writer_index is 2) are refused and restore nothing. Real
 * files in a temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "components/receivers/otlp_mmap/mmap_ckpt.h"
#include "components/receivers/otlp_mmap/mmap_drain.h"

#include "otflow/err.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define N   64
#define B   512
#define RSZ (32 + 4 * N + N * B)
#define SZ  (64 + 3 * RSZ + 64 + 4096)

static char g_path[256];

/* A version-1 file with empty rings; `published` events claimed and
 * published (empty messages). */
static int make_file(int published)
{
	snprintf(g_path, sizeof g_path, "%s/otf-mmap-hostile-XXXXXX", P_tmpdir);
	int fd = mkstemp(g_path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, SZ), 0);
	uint8_t *m = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	int64_t h[6] = {1, 64, 64 + RSZ, 64 + 2 * RSZ, 64 + 3 * RSZ, 12345};
	for (int r = 0; r < 3; r++) {
		int64_t rh[4] = {N, B, -1, published && r == 0 ? published - 1 : -1};
		memcpy(m + h[1 + r], rh, sizeof rh);
		int32_t *av = (int32_t *)(void *)(m + h[1 + r] + 32);
		for (int i = 0; i < N; i++)
			av[i] = r == 0 && i < published ? 0 : -1;
	}
	int64_t dh[2] = {h[4] + 64, 0};
	memcpy(m + h[4], dh, sizeof dh);
	memcpy(m, h, sizeof h);
	munmap(m, SZ);
	return fd;
}

static void test_shrink_seen_by_size_check(void **state)
{
	(void)state;
	int fd = make_file(0);
	otf__mmr_t r;
	assert_int_equal(otf__mmr_open(&r, g_path, 1000000), 0);
	assert_int_equal(otf__mmr_check(&r), OTF_MMR_NEW_EPOCH);
	assert_int_equal(ftruncate(fd, 4096), 0);
	assert_int_equal(otf__mmr_check(&r), OTF_MMR_BAD);
	assert_true(otf__mmr_corrupt(&r));
	/* Growing it back does not make it trustworthy again. */
	assert_int_equal(ftruncate(fd, SZ), 0);
	assert_int_equal(otf__mmr_check(&r), OTF_MMR_BAD);
	otf__mmr_close(&r);
	close(fd);
	unlink(g_path);
}

static void test_shrink_between_check_and_access(void **state)
{
	(void)state;
	int fd = make_file(0);
	otf__mmr_t r;
	assert_int_equal(otf__mmr_open(&r, g_path, 1000000), 0);
	assert_int_equal(otf__mmr_check(&r), OTF_MMR_NEW_EPOCH);
	assert_int_equal(ftruncate(fd, 4096), 0);
	/* The spans ring's availability words lie past 4096: SIGBUS, contained. */
	assert_false(otf__mmr_available(&r, OTF_MMR_SPANS));
	assert_true(otf__mmr_corrupt(&r));
	uint8_t buf[B];
	size_t len = 0;
	assert_int_equal(otf__mmr_next(&r, OTF_MMR_MEASUREMENTS, 1, buf, sizeof buf, &len),
	                 OTF_MMR_EMPTY);
	assert_int_equal(otf__mmr_check(&r), OTF_MMR_BAD);
	otf__mmr_close(&r);
	close(fd);
	unlink(g_path);
	/* A fresh reader of a good file works after that. */
	fd = make_file(0);
	assert_int_equal(otf__mmr_open(&r, g_path, 1000000), 0);
	assert_int_equal(otf__mmr_check(&r), OTF_MMR_NEW_EPOCH);
	assert_false(otf__mmr_corrupt(&r));
	otf__mmr_close(&r);
	close(fd);
	unlink(g_path);
}

static void test_foreign_sigbus_still_crashes(void **state)
{
	(void)state;
	/* Install the handler, then fault on a mapping that is not a reader's. */
	int fd = make_file(0);
	otf__mmr_t r;
	assert_int_equal(otf__mmr_open(&r, g_path, 1000000), 0);
	assert_int_equal(otf__mmr_check(&r), OTF_MMR_NEW_EPOCH);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The test runner's own SIGBUS handler out of the way: the
		 * reader's handler falls back to the default action. */
		signal(SIGBUS, SIG_DFL);
		otf__mmr_t r2;
		if (otf__mmr_open(&r2, g_path, 1000000) || otf__mmr_check(&r2) != OTF_MMR_NEW_EPOCH)
			_exit(4);
		int f2 = open(g_path, O_RDWR);
		volatile uint8_t *m = mmap(NULL, SZ, PROT_READ, MAP_SHARED, f2, 0);
		if (ftruncate(f2, 4096))
			_exit(3);
		(void)m[SZ - 1];
		_exit(0);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGBUS);
	otf__mmr_close(&r);
	close(fd);
	unlink(g_path);
}

/* A format-2 checkpoint of d with positions pos and no open span. */
static otf_buf_t *snapshot(otf__mmd_t *d, int64_t e, int64_t s, int64_t m)
{
	int64_t pos[OTF_MMR_RINGS] = {e, s, m};
	otf_buf_t *b = NULL;
	assert_int_equal(otf__mmck_snapshot(d, pos, &b), 0);
	return b;
}

static void test_checkpoint_positions_checked(void **state)
{
	(void)state;
	int fd = make_file(3); /* events writer_index 2 */
	otf__mmd_opts_t o;
	otf__mmd_opts_default(&o);
	otf__mmd_t d;
	assert_int_equal(otf__mmd_init(&d, &o), 0);
	assert_int_equal(otf__mmd_open(&d, g_path), 0);
	assert_true(otf__mmd_poll(&d, 1, 1, 0) >= 0);
	const int64_t bad[][3] = {
	    {INT64_MAX, -1, -1}, {1000, -1, -1}, {3, -1, -1}, {-2, -1, -1}, {2, INT64_MIN, -1}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		otf_buf_t *b = snapshot(&d, bad[i][0], bad[i][1], bad[i][2]);
		int64_t pos[OTF_MMR_RINGS] = {7, 7, 7};
		char why[160] = "";
		assert_int_equal(otf__mmck_parse(&d, b->data, b->len, pos, 1, why, sizeof why),
		                 OTF_E_INVAL);
		assert_non_null(strstr(why, "outside the ring's [-1, writer_index"));
		assert_int_equal(pos[0], 7); /* untouched */
		otf_buf_unref(b);
	}
	otf_buf_t *b = snapshot(&d, 2, -1, -1);
	int64_t pos[OTF_MMR_RINGS] = {7, 7, 7};
	char why[160] = "";
	assert_int_equal(otf__mmck_parse(&d, b->data, b->len, pos, 1, why, sizeof why), 0);
	assert_int_equal(pos[0], 2);
	/* Another file's sizes: refused. */
	b->data[16] ^= 1; /* events num_buffers */
	assert_int_equal(otf__mmck_parse(&d, b->data, b->len, pos, 1, why, sizeof why),
	                 OTF_E_INVAL);
	assert_non_null(strstr(why, "ring sizes"));
	otf_buf_unref(b);
	otf__mmd_close(&d);
	close(fd);
	unlink(g_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shrink_seen_by_size_check),
	    cmocka_unit_test(test_shrink_between_check_and_access),
	    cmocka_unit_test(test_foreign_sigbus_still_crashes),
	    cmocka_unit_test(test_checkpoint_positions_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
