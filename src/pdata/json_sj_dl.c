/* The table of libotflow-json.so's functions and where the module is
 * looked for (see json_sj_dl.h). */
#include "json_sj_dl.h"

#include "core/lazylib.h"
#include "otflow/engine.h"
#include "otflow/err.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef OTF_JSON_MODULE_FROM_BIN
#define OTF_JSON_MODULE_FROM_BIN "../lib/otflow" /* CMake sets it from the install dirs */
#endif

#ifndef OTF_JSJ_LINKED

otf__jsj_fns_t otf__jsj_table;
_Atomic int otf__jsj_loaded;

static const char *const k_names[] = {
    "otf__jsj_get",     "otf__jsj_parse",  "otf__jsj_finish", "otf__jsj_validate",
    "otf__jsj_error",   "otf__jsj_object", "otf__jsj_array",  "otf__jsj_first_bad_utf8",
    "otf__jsj_release", "otf__jsj_trim",
};

/* The directory of the file that holds this code: the executable when
 * otflow_lib is linked statically (/proc/self/exe: the loader names the
 * main program ""), else libotflow.so as the loader found it. */
static int self_dir(char *dir, size_t size)
{
	Dl_info info;
	struct link_map *lm = NULL;
	char path[PATH_MAX];
	if (dladdr1((void *)self_dir, &info, (void **)&lm, RTLD_DL_LINKMAP) && lm && lm->l_name &&
	    lm->l_name[0]) {
		if (!realpath(lm->l_name, path))
			return -1;
	} else {
		ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
		if (n <= 0)
			return -1;
		path[n] = '\0';
	}
	char *slash = strrchr(path, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	snprintf(dir, size, "%s", path);
	return 0;
}

int otf__jsj_module_load(char *why, size_t size)
{
	_Static_assert(sizeof k_names / sizeof k_names[0] * sizeof(void (*)(void)) ==
	                   sizeof(otf__jsj_fns_t),
	               "one name per table entry");
	if (atomic_load_explicit(&otf__jsj_loaded, memory_order_acquire))
		return 0;
	static atomic_flag logged = ATOMIC_FLAG_INIT;
	char cand[3][PATH_MAX + 64];
	char dir[PATH_MAX];
	const char *paths[4];
	size_t np = 0;
	if (self_dir(dir, sizeof dir) == 0) {
		snprintf(cand[0], sizeof cand[0], "%s/" OTF_JSON_MODULE_NAME, dir);
		snprintf(cand[1], sizeof cand[1], "%s/otflow/" OTF_JSON_MODULE_NAME, dir);
		snprintf(cand[2], sizeof cand[2],
		         "%s/" OTF_JSON_MODULE_FROM_BIN "/" OTF_JSON_MODULE_NAME, dir);
		for (int i = 0; i < 3; i++)
			paths[np++] = cand[i];
	}
	paths[np++] = OTF_JSON_MODULE_NAME;
	char reason[512];
	if (otf__lazylib_try_load(paths, np, k_names, sizeof k_names / sizeof k_names[0],
	                          (void (**)(void))(void *)&otf__jsj_table, &otf__jsj_loaded,
	                          reason, sizeof reason) == 0)
		return 0;
	/* The log line names every place looked at; the decode error (and
	 * the 500 an OTLP client gets) the file and the reason, shortly. */
	if (!atomic_flag_test_and_set(&logged)) {
		if (np > 1)
			otf_log(OTF_LOG_ERROR, "json",
			        "OTLP/JSON decoding unavailable: %s (looked for %s, %s, %s and "
			        "%s in the loader's path)",
			        reason[0] ? reason : "module not found", paths[0], paths[1],
			        paths[2], OTF_JSON_MODULE_NAME);
		else
			otf_log(OTF_LOG_ERROR, "json",
			        "OTLP/JSON decoding unavailable: %s (looked for %s in the loader's "
			        "path; the program's own directory is unknown)",
			        reason[0] ? reason : "module not found", OTF_JSON_MODULE_NAME);
	}
	if (reason[0])
		snprintf(why, size, "cannot load %s: %s", OTF_JSON_MODULE_NAME, reason);
	else
		snprintf(why, size, "%s not installed (see the log for where it was looked for)",
		         OTF_JSON_MODULE_NAME);
	return OTF_E_UNSUPPORTED;
}

#else

int otf__jsj_module_load(char *why, size_t size)
{
	(void)why;
	(void)size;
	return 0;
}

#endif
