/* The table of libcurl.so.4's functions (see curl_dl.h). */
#include "curl_dl.h"

#include "core/lazylib.h"

otf__curl_fns_t otf__curl_table;
_Atomic int otf__curl_loaded;

static const char *const k_names[] = {
    "curl_easy_cleanup",
    "curl_easy_getinfo",
    "curl_easy_init",
    "curl_easy_setopt",
    "curl_easy_strerror",
    "curl_free",
    "curl_getdate",
    "curl_global_init",
    "curl_multi_add_handle",
    "curl_multi_assign",
    "curl_multi_cleanup",
    "curl_multi_info_read",
    "curl_multi_init",
    "curl_multi_remove_handle",
    "curl_multi_setopt",
    "curl_multi_socket_action",
    "curl_slist_append",
    "curl_slist_free_all",
    "curl_url",
    "curl_url_cleanup",
    "curl_url_get",
    "curl_url_set",
};

const otf__curl_fns_t *otf__curl_load(void)
{
	_Static_assert(sizeof k_names / sizeof k_names[0] * sizeof(void (*)(void)) ==
	                   sizeof(otf__curl_fns_t),
	               "one name per table entry");
	otf__lazylib_load("libcurl.so.4", "the otlphttp exporter and the telemetry push", k_names,
	                  sizeof k_names / sizeof k_names[0],
	                  (void (**)(void))(void *)&otf__curl_table, &otf__curl_loaded);
	return &otf__curl_table;
}
