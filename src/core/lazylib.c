/* Optional shared libraries loaded at first use (see lazylib.h). */
#include "core/lazylib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
