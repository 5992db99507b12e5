/* Libraries loaded at first use (core/lazylib.h): OpenSSL is not mapped
 * before its first call and serves that call (a SHA-256 digest, a TLS
 * context) once loaded; a library that cannot be loaded is an error that
 * names it, returned by the try variant and fatal with a message on
 * stderr from the other (the components' *_dl.h tables). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/lazylib.h"
#include "core/openssl_dl.h"
#include "otflow/err.h"

#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Is a file whose name contains name mapped in this process? */
static bool mapped(const char *name)
{
	FILE *f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	char line[1024];
	bool found = false;
	while (!found && fgets(line, sizeof line, f))
		found = strstr(line, name) != NULL;
	fclose(f);
	return found;
}

/* Runs first (cmocka keeps the order): nothing before it called OpenSSL. */
static void test_openssl_loaded_at_first_use(void **state)
{
	(void)state;
	assert_int_equal(atomic_load(&otf__openssl_loaded), 0);
	assert_false(mapped("/libssl.so"));
	assert_false(mapped("/libcrypto.so"));

	/* The first call goes through the table and loads the library. */
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	assert_int_equal(EVP_Digest("abc", 3, md, &n, EVP_sha256(), NULL), 1);
	assert_int_equal(atomic_load(&otf__openssl_loaded), 1);
	assert_true(mapped("/libssl.so.3"));
	assert_true(mapped("/libcrypto.so.3"));
	/* FIPS 180-2's example: SHA-256("abc"). */
	static const unsigned char want[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
	                                       0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
	                                       0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
	                                       0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
	assert_int_equal(n, 32);
	assert_memory_equal(md, want, 32);

	/* libssl's functions come from the same table (one dlopen). */
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(ctx);
	SSL_CTX_free(ctx);
	/* Already loaded: the try variant says so at once. */
	char why[128] = "unchanged";
	assert_int_equal(otf__openssl_try_load(why, sizeof why), 0);
}

static void test_missing_library_try(void **state)
{
	(void)state;
	static const char *const names[] = {"otf_nope_fn"};
	void (*table[1])(void) = {NULL};
	_Atomic int loaded = 0;
	const char *paths[] = {"libotflow-no-such-library.so.7"};
	char why[256];
	assert_int_equal(otf__lazylib_try_load(paths, 1, names, 1, table, &loaded, why, sizeof why),
	                 -1);
	assert_int_equal(atomic_load(&loaded), 0);
	assert_null(table[0]);
	/* A library that exists but lacks a function: named in the reason. */
	const char *libc[] = {"libc.so.6"};
	assert_int_equal(otf__lazylib_try_load(libc, 1, names, 1, table, &loaded, why, sizeof why),
	                 -1);
	assert_non_null(strstr(why, "no otf_nope_fn"));
	assert_int_equal(atomic_load(&loaded), 0);
}

/* The fatal variant, in a child: it must end with SIGABRT and a message
 * naming the library and who needed it. */
static void test_missing_library_fatal(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		/* The child's abort is the expected outcome: no core file. */
		signal(SIGABRT, SIG_DFL);
		static const char *const names[] = {"otf_nope_fn"};
		void (*table[1])(void) = {NULL};
		_Atomic int loaded = 0;
		otf__lazylib_load("libotflow-no-such-library.so.7", "the test component", names, 1,
		                  table, &loaded);
		_exit(0); /* not reached */
	}
	close(fds[1]);
	char out[1024];
	size_t got = 0;
	ssize_t r;
	while (got < sizeof out - 1 && (r = read(fds[0], out + got, sizeof out - 1 - got)) > 0)
		got += (size_t)r;
	out[got] = '\0';
	close(fds[0]);
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
	assert_non_null(strstr(out, "cannot load libotflow-no-such-library.so.7 (needed by the "
	                            "test component)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_openssl_loaded_at_first_use),
	    cmocka_unit_test(test_missing_library_try),
	    cmocka_unit_test(test_missing_library_fatal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
