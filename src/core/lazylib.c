/* Optional shared libraries loaded at first use (see lazylib.h). */
#include "core/lazylib.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static void fatal(const char *soname, const char *who, const char *why)
{
	fprintf(stderr, "otflow: cannot load %s (needed by %s): %s\n", soname, who,
	        why ? why : "unknown reason");
	abort();
}

void otf__lazylib_load(const char *soname, const char *who, const char *const *names, size_t n,
                       void (**table)(void), _Atomic int *loaded)
{
	pthread_mutex_lock(&g_lock);
	if (!atomic_load_explicit(loaded, memory_order_acquire)) {
		/* RTLD_LOCAL: its symbols serve only this table, never resolve
		 * anything else of the process. */
		void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
		if (!h)
			fatal(soname, who, dlerror());
		for (size_t i = 0; i < n; i++) {
			void *f = dlsym(h, names[i]);
			if (!f)
				fatal(soname, who, dlerror());
			/* POSIX: a dlsym result may be converted to a function pointer. */
			memcpy(&table[i], &f, sizeof f);
		}
		atomic_store_explicit(loaded, 1, memory_order_release);
	}
	pthread_mutex_unlock(&g_lock);
}

int otf__lazylib_try_load(const char *const *paths, size_t npaths, const char *const *names,
                          size_t n, void (**table)(void), _Atomic int *loaded, char *why,
                          size_t size)
{
	if (atomic_load_explicit(loaded, memory_order_acquire))
		return 0;
	int rc = -1;
	if (size)
		why[0] = '\0';
	pthread_mutex_lock(&g_lock);
	if (atomic_load_explicit(loaded, memory_order_acquire)) {
		rc = 0;
		goto out;
	}
	for (size_t k = 0; k < npaths; k++) {
		bool is_path = strchr(paths[k], '/') != NULL;
		/* Candidates that do not exist say nothing: the reason kept is
		 * that of one that exists but does not load (wrong ELF class, a
		 * missing dependency). */
		if (is_path && access(paths[k], F_OK) != 0)
			continue;
		void *h = dlopen(paths[k], RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			const char *e = dlerror();
			if (size && !why[0] && (is_path || (e && !strstr(e, "No such file"))))
				snprintf(why, size, "%s", e ? e : paths[k]);
			continue;
		}
		size_t i = 0;
		for (; i < n; i++) {
			void *f = dlsym(h, names[i]);
			if (!f)
				break;
			memcpy(&table[i], &f, sizeof f);
		}
		if (i < n) {
			if (size)
				snprintf(why, size, "%s: no %s", paths[k], names[i]);
			dlclose(h);
			goto out;
		}
		atomic_store_explicit(loaded, 1, memory_order_release);
		rc = 0;
		goto out;
	}
out:
	pthread_mutex_unlock(&g_lock);
	return rc;
}
