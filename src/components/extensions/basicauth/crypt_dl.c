/* The table of libcrypt.so.1's functions (see crypt_dl.h). */
#include "crypt_dl.h"

#include "core/lazylib.h"

otf__crypt_fns_t otf__crypt_table;
_Atomic int otf__crypt_loaded;

static const char *const k_names[] = {
    "crypt_r",
};

const otf__crypt_fns_t *otf__crypt_load(void)
{
	_Static_assert(sizeof k_names / sizeof k_names[0] * sizeof(void (*)(void)) ==
	                   sizeof(otf__crypt_fns_t),
	               "one name per table entry");
	otf__lazylib_load("libcrypt.so.1", "basicauth's htpasswd check", k_names,
	                  sizeof k_names / sizeof k_names[0],
	                  (void (**)(void))(void *)&otf__crypt_table, &otf__crypt_loaded);
	return &otf__crypt_table;
}
