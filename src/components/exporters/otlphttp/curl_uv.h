/* libcurl's multi interface driven by a libuv loop (curl_multi_socket_action
 * with one uv_poll_t per socket curl watches and one uv_timer_t for curl's
 * timeouts): HTTP transfers that never block the worker loop. Connections
 * are reused across transfers by the multi handle's connection cache.
 *
 * Thread rules: everything on the loop's thread. */
#ifndef OTF_CURL_UV_H
#define OTF_CURL_UV_H

#include "curl_dl.h" /* <curl/curl.h>, its functions loaded at first use */
#include <uv.h>

typedef struct otf_curl_uv otf_curl_uv_t;

/* A transfer finished (result CURLE_OK or the failure); the easy handle
 * was removed from the multi handle and belongs to the caller again.
 * Called from the loop, never inside otf__curl_uv_add. */
typedef void (*otf_curl_uv_done_cb)(void *ctx, CURL *easy, CURLcode result);
typedef void (*otf_curl_uv_close_cb)(void *arg);

/* OTF_E_NOMEM, or OTF_E_IO when libcurl cannot be set up. */
int otf__curl_uv_create(uv_loop_t *loop, otf_curl_uv_done_cb done, void *ctx, otf_curl_uv_t **out);
/* Starts a transfer; 0 or OTF_E_IO. */
int otf__curl_uv_add(otf_curl_uv_t *cu, CURL *easy);
/* Aborts a transfer without calling done. */
void otf__curl_uv_remove(otf_curl_uv_t *cu, CURL *easy);
/* Closes the multi handle and the loop handles; transfers still added are
 * aborted without done. cb(arg) runs once every handle is closed (never
 * inside this call); cu is freed right after. */
void otf__curl_uv_close(otf_curl_uv_t *cu, otf_curl_uv_close_cb cb, void *arg);

#endif
