/* libcrypt.so.1 (libxcrypt), loaded at first use instead of at process
 * start: only basicauth's htpasswd check of bcrypt and SHA-crypt hashes
 * calls it (crypt_r), so a process without basicauth need not map it
 * (see core/openssl_dl.h for why, docs/benchmarks.md "memory").
 *
 * Included after <crypt.h>: crypt_r becomes a call through a one-entry
 * table filled by dlopen + dlsym at the first call (core/lazylib.h).
 * Thread-safe; the table never changes once loaded. A library that cannot
 * be loaded ends the process with a message naming it (the Debian package
 * depends on libcrypt1). */
#ifndef OTF_CRYPT_DL_H
#define OTF_CRYPT_DL_H

#include <crypt.h>

typedef struct otf__crypt_fns {
	__typeof__(crypt_r) *crypt_r;
} otf__crypt_fns_t;

extern otf__crypt_fns_t otf__crypt_table;
extern _Atomic int otf__crypt_loaded;
/* Loads the library (once) and returns the table; ends the process naming
 * the library and the loader's reason when it cannot be loaded. */
const otf__crypt_fns_t *otf__crypt_load(void);

static inline const otf__crypt_fns_t *otf__crypt_fns(void)
{
	return __builtin_expect(otf__crypt_loaded, 1) ? &otf__crypt_table : otf__crypt_load();
}

#undef crypt_r
#define crypt_r (otf__crypt_fns()->crypt_r)

#endif
