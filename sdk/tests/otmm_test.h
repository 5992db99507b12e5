/* Tiny check macros for libotmmap's C tests (the SDK does not depend on otflow's test kit). */
#ifndef OTMM_TEST_H
#define OTMM_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int t_pass, t_fail;
#define CHECK(c)                                                                              \
	do {                                                                                  \
		if (c) {                                                                      \
			t_pass++;                                                             \
		} else {                                                                      \
			t_fail++;                                                             \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
		}                                                                             \
	} while (0)
#define CHECK_EQ(a, b)                                                                        \
	do {                                                                                  \
		long long a_ = (long long)(a), b_ = (long long)(b);                           \
		if (a_ == b_) {                                                               \
			t_pass++;                                                             \
		} else {                                                                      \
			t_fail++;                                                             \
			fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, \
			        __LINE__, #a, a_, #b, b_);                                    \
		}                                                                             \
	} while (0)

/* a fresh directory under $TMPDIR (or /tmp), removed by t_cleanup */
static char t_dir[256];
static const char *t_path(const char *name)
{
	static char buf[512];
	if (!t_dir[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(t_dir, sizeof(t_dir), "%s/otmm-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(t_dir)) {
			perror("mkdtemp");
			exit(2);
		}
	}
	snprintf(buf, sizeof(buf), "%s/%s", t_dir, name);
	return buf;
}
static int t_done(void)
{
	if (t_dir[0]) {
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup of %s failed\n", t_dir);
	}
	printf("%d passed, %d failed\n", t_pass, t_fail);
	return t_fail ? 1 : 0;
}

#endif
