/* Optional shared libraries loaded at first use (dlopen) instead of at
 * process start: their functions are called through a table that
 * otf__lazylib_load fills (the <lib>_dl.h headers of the components that
 * use libcurl, librdkafka and libpq).
 *
 * Thread rules: any thread may call it; the first loads under a lock, the
 * others wait; once *loaded is set (release) the table never changes. The
 * library stays loaded until the process exits.
 * Errors: a library or function that cannot be found ends the process with
 * a message naming the library, who needs it and the loader's reason: the
 * code that calls the table has no way to go on without it, and the Debian
 * package depends on the library (a missing one is a broken install). */
#ifndef OTF_CORE_LAZYLIB_H
#define OTF_CORE_LAZYLIB_H

#include <stddef.h>

/* soname: e.g. "libcurl.so.4"; who: what needs it (for the message);
 * names[i] is stored into table[i]; *loaded is set to 1 when complete. */
void otf__lazylib_load(const char *soname, const char *who, const char *const *names, size_t n,
                       void (**table)(void), _Atomic int *loaded);

/* The same for a library whose absence the caller can report (a module of
 * otflow's own, e.g. the OTLP/JSON decoder): tries paths[0..npaths) in
 * order (a path with a '/' is opened as it is, a bare name through the
 * dynamic loader's search) and fills the table from the first that opens.
 * Returns 0 (also when already loaded), or -1 with why (NUL-terminated,
 * cut to size) holding the loader's reason for the first candidate that
 * exists but does not load, "" when none exists; nothing is kept loaded
 * then, and a later call tries again. */
int otf__lazylib_try_load(const char *const *paths, size_t npaths, const char *const *names,
                          size_t n, void (**table)(void), _Atomic int *loaded, char *why,
                          size_t size);

#endif
