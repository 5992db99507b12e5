/* libcurl.so.4, loaded at first use instead of at process start (the otlphttp exporter and the telemetry push).
 *
 * otflow links many libraries that only some components use; as DT_NEEDED
 * entries the dynamic loader maps and relocates them, with their own
 * dependency trees and library constructors, in every process, also when
 * no pipeline uses them (docs/benchmarks.md, "memory"). This header is
 * included after <curl/curl.h>: each function the code calls becomes a call through
 * a table filled by dlopen + dlsym the first time any of them is used
 * (core/lazylib.h). Add a function here (and to the table in curl_dl.c)
 * before calling it. Thread-safe; the table never changes once loaded. A
 * library that cannot be loaded is a fatal error naming it (the Debian
 * package depends on it). Generated list: the functions otflow calls. */
#ifndef OTF_CURL_DL_H
#define OTF_CURL_DL_H

#include <curl/curl.h>

typedef struct otf__curl_fns {
	__typeof__(curl_easy_cleanup) *curl_easy_cleanup;
	__typeof__(curl_easy_getinfo) *curl_easy_getinfo;
	__typeof__(curl_easy_init) *curl_easy_init;
	__typeof__(curl_easy_setopt) *curl_easy_setopt;
	__typeof__(curl_easy_strerror) *curl_easy_strerror;
	__typeof__(curl_free) *curl_free;
	__typeof__(curl_getdate) *curl_getdate;
	__typeof__(curl_global_init) *curl_global_init;
	__typeof__(curl_multi_add_handle) *curl_multi_add_handle;
	__typeof__(curl_multi_assign) *curl_multi_assign;
	__typeof__(curl_multi_cleanup) *curl_multi_cleanup;
	__typeof__(curl_multi_info_read) *curl_multi_info_read;
	__typeof__(curl_multi_init) *curl_multi_init;
	__typeof__(curl_multi_remove_handle) *curl_multi_remove_handle;
	__typeof__(curl_multi_setopt) *curl_multi_setopt;
	__typeof__(curl_multi_socket_action) *curl_multi_socket_action;
	__typeof__(curl_slist_append) *curl_slist_append;
	__typeof__(curl_slist_free_all) *curl_slist_free_all;
	__typeof__(curl_url) *curl_url;
	__typeof__(curl_url_cleanup) *curl_url_cleanup;
	__typeof__(curl_url_get) *curl_url_get;
	__typeof__(curl_url_set) *curl_url_set;
} otf__curl_fns_t;

extern otf__curl_fns_t otf__curl_table;
extern _Atomic int otf__curl_loaded;
/* Loads the library (once) and returns the table; exits naming the
 * library and the loader's reason when it cannot be loaded. */
const otf__curl_fns_t *otf__curl_load(void);

static inline const otf__curl_fns_t *otf__curl_fns(void)
{
	return __builtin_expect(otf__curl_loaded, 1) ? &otf__curl_table : otf__curl_load();
}

#undef curl_easy_cleanup
#define curl_easy_cleanup (otf__curl_fns()->curl_easy_cleanup)
#undef curl_easy_getinfo
#define curl_easy_getinfo (otf__curl_fns()->curl_easy_getinfo)
#undef curl_easy_init
#define curl_easy_init (otf__curl_fns()->curl_easy_init)
#undef curl_easy_setopt
#define curl_easy_setopt (otf__curl_fns()->curl_easy_setopt)
#undef curl_easy_strerror
#define curl_easy_strerror (otf__curl_fns()->curl_easy_strerror)
#undef curl_free
#define curl_free (otf__curl_fns()->curl_free)
#undef curl_getdate
#define curl_getdate (otf__curl_fns()->curl_getdate)
#undef curl_global_init
#define curl_global_init (otf__curl_fns()->curl_global_init)
#undef curl_multi_add_handle
#define curl_multi_add_handle (otf__curl_fns()->curl_multi_add_handle)
#undef curl_multi_assign
#define curl_multi_assign (otf__curl_fns()->curl_multi_assign)
#undef curl_multi_cleanup
#define curl_multi_cleanup (otf__curl_fns()->curl_multi_cleanup)
#undef curl_multi_info_read
#define curl_multi_info_read (otf__curl_fns()->curl_multi_info_read)
#undef curl_multi_init
#define curl_multi_init (otf__curl_fns()->curl_multi_init)
#undef curl_multi_remove_handle
#define curl_multi_remove_handle (otf__curl_fns()->curl_multi_remove_handle)
#undef curl_multi_setopt
#define curl_multi_setopt (otf__curl_fns()->curl_multi_setopt)
#undef curl_multi_socket_action
#define curl_multi_socket_action (otf__curl_fns()->curl_multi_socket_action)
#undef curl_slist_append
#define curl_slist_append (otf__curl_fns()->curl_slist_append)
#undef curl_slist_free_all
#define curl_slist_free_all (otf__curl_fns()->curl_slist_free_all)
#undef curl_url
#define curl_url (otf__curl_fns()->curl_url)
#undef curl_url_cleanup
#define curl_url_cleanup (otf__curl_fns()->curl_url_cleanup)
#undef curl_url_get
#define curl_url_get (otf__curl_fns()->curl_url_get)
#undef curl_url_set
#define curl_url_set (otf__curl_fns()->curl_url_set)

#endif
