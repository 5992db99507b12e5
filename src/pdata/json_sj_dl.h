/* The OTLP/JSON decoder's parser (json_sj.h) in its own module,
 * libotflow-json.so, loaded at the first OTLP/JSON decode instead of at
 * process start.
 *
 * json_sj.cc is otflow's only C++: linked into libotflow it made every
 * process map and initialise libstdc++ and libsimdjson (with their
 * relocations and static constructors), ~1.5 MiB of idle RSS also when no
 * client ever sends JSON (docs/benchmarks.md, "memory"). The module links
 * them; libotflow and otflow do not. This header is included by the
 * decoders after json_sj.h: each otf__jsj_* call becomes a call through a
 * table filled by dlopen + dlsym (core/lazylib.h).
 *
 * Where: the module is looked for next to the object that holds this code
 * (the otflow executable or libotflow.so), then in its otflow/
 * subdirectory (libotflow.so in LIBDIR, module in LIBDIR/otflow), then at
 * OTF_JSON_MODULE_FROM_BIN relative to it (otflow in BINDIR), then by name
 * through the dynamic loader's search (RUNPATH: the build tree's tests).
 *
 * Errors: unlike the other lazily loaded libraries, a missing module is
 * not fatal: otf__jsj_module_load() returns OTF_E_UNSUPPORTED with a
 * message naming the file, logs it once (error level), and the decode
 * fails with that code (the OTLP receiver answers 500); the next decode
 * tries again. Thread-safe; the table never changes once loaded.
 *
 * Builds that link json_sj.cc into the program (the fuzz targets, which
 * instrument it) define OTF_JSJ_LINKED: the calls are then direct. */
#ifndef OTF_PDATA_JSON_SJ_DL_H
#define OTF_PDATA_JSON_SJ_DL_H

#include "json_sj.h"

#include <stddef.h>

/* The module's file name. */
#define OTF_JSON_MODULE_NAME "libotflow-json.so"

/* Loads the module (once): 0, or OTF_E_UNSUPPORTED with why (NUL-terminated,
 * cut to size) naming the file and the loader's reason. */
int otf__jsj_module_load(char *why, size_t size);

#ifndef OTF_JSJ_LINKED

typedef struct otf__jsj_fns {
	__typeof__(otf__jsj_get) *get;
	__typeof__(otf__jsj_parse) *parse;
	__typeof__(otf__jsj_finish) *finish;
	__typeof__(otf__jsj_validate) *validate;
	__typeof__(otf__jsj_error) *error;
	__typeof__(otf__jsj_object) *object;
	__typeof__(otf__jsj_array) *array;
	__typeof__(otf__jsj_first_bad_utf8) *first_bad_utf8;
	__typeof__(otf__jsj_release) *release;
	__typeof__(otf__jsj_trim) *trim;
} otf__jsj_fns_t;

extern otf__jsj_fns_t otf__jsj_table;
extern _Atomic int otf__jsj_loaded;

/* release and trim have nothing to free before a parser exists. */
static inline void otf__jsj_release_dl(void)
{
	if (otf__jsj_loaded)
		otf__jsj_table.release();
}
static inline void otf__jsj_trim_dl(void)
{
	if (otf__jsj_loaded)
		otf__jsj_table.trim();
}

/* Every other call comes after a successful otf__jsj_module_load() (the
 * decoders' entry): straight through the table. */
#define otf__jsj_get            (otf__jsj_table.get)
#define otf__jsj_parse          (otf__jsj_table.parse)
#define otf__jsj_finish         (otf__jsj_table.finish)
#define otf__jsj_validate       (otf__jsj_table.validate)
#define otf__jsj_error          (otf__jsj_table.error)
#define otf__jsj_object         (otf__jsj_table.object)
#define otf__jsj_array          (otf__jsj_table.array)
#define otf__jsj_first_bad_utf8 (otf__jsj_table.first_bad_utf8)
#define otf__jsj_release        otf__jsj_release_dl
#define otf__jsj_trim           otf__jsj_trim_dl

#endif

#endif
