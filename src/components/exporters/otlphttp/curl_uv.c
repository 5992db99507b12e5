/* libcurl multi on a libuv loop (curl_uv.h), after libcurl's
 * docs/examples/multi-uv.c. */
#include "curl_uv.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <pthread.h>
#include <stdbool.h>

typedef struct sock_ctx sock_ctx_t;

struct otf_curl_uv {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	sock_ctx_t *socks; /* live poll handles */
	int handles;       /* loop handles not yet closed */
	bool closing;
	otf_curl_uv_done_cb done;
	void *ctx;
	otf_curl_uv_close_cb close_cb;
	void *close_arg;
};

struct sock_ctx {
	uv_poll_t poll;
	curl_socket_t fd;
	otf_curl_uv_t *cu;
	sock_ctx_t *prev, *next;
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static CURLcode g_init_rc;

static void global_init(void)
{
	/* Once per process: curl_global_init is not thread-safe on every
	 * libcurl build, and workers create their exporters in parallel. */
	g_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void handle_closed(otf_curl_uv_t *cu)
{
	if (--cu->handles > 0 || !cu->closing)
		return;
	otf_curl_uv_close_cb cb = cu->close_cb;
	void *arg = cu->close_arg;
	otf_free(cu);
	if (cb)
		cb(arg);
}

static void poll_closed(uv_handle_t *h)
{
	sock_ctx_t *sc = h->data;
	otf_curl_uv_t *cu = sc->cu;
	otf_free(sc);
	handle_closed(cu);
}

static void sock_release(otf_curl_uv_t *cu, sock_ctx_t *sc)
{
	if (sc->prev)
		sc->prev->next = sc->next;
	else
		cu->socks = sc->next;
	if (sc->next)
		sc->next->prev = sc->prev;
	uv_poll_stop(&sc->poll);
	uv_close((uv_handle_t *)&sc->poll, poll_closed);
}

static void check_done(otf_curl_uv_t *cu)
{
	CURLMsg *m;
	int left;
	while (!cu->closing && (m = curl_multi_info_read(cu->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURL *e = m->easy_handle;
		CURLcode rc = m->data.result;
		curl_multi_remove_handle(cu->multi, e);
		cu->done(cu->ctx, e, rc);
	}
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	sock_ctx_t *sc = p->data;
	otf_curl_uv_t *cu = sc->cu;
	int flags = 0;
	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	int running;
	curl_multi_socket_action(cu->multi, sc->fd, flags, &running);
	check_done(cu);
}

static void on_timeout(uv_timer_t *t)
{
	otf_curl_uv_t *cu = t->data;
	int running;
	curl_multi_socket_action(cu->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(cu);
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	(void)e;
	otf_curl_uv_t *cu = userp;
	sock_ctx_t *sc = socketp;
	if (cu->closing)
		return 0;
	if (what == CURL_POLL_REMOVE) {
		if (sc) {
			curl_multi_assign(cu->multi, s, NULL);
			sock_release(cu, sc);
		}
		return 0;
	}
	if (!sc) {
		sc = otf_calloc(1, sizeof *sc);
		if (!sc)
			return -1;
		if (uv_poll_init_socket(cu->loop, &sc->poll, s)) {
			otf_free(sc);
			return -1;
		}
		sc->fd = s;
		sc->cu = cu;
		sc->poll.data = sc;
		sc->next = cu->socks;
		if (cu->socks)
			cu->socks->prev = sc;
		cu->socks = sc;
		cu->handles++;
		curl_multi_assign(cu->multi, s, sc);
	}
	int ev =
	    ((what & CURL_POLL_IN) ? UV_READABLE : 0) | ((what & CURL_POLL_OUT) ? UV_WRITABLE : 0);
	uv_poll_start(&sc->poll, ev, on_poll);
	return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
	(void)m;
	otf_curl_uv_t *cu = userp;
	if (cu->closing)
		return 0;
	if (timeout_ms < 0)
		uv_timer_stop(&cu->timer);
	else /* 0 too: curl wants socket_action called, but not from here */
		uv_timer_start(&cu->timer, on_timeout, (uint64_t)timeout_ms, 0);
	return 0;
}

int otf__curl_uv_create(uv_loop_t *loop, otf_curl_uv_done_cb done, void *ctx, otf_curl_uv_t **out)
{
	pthread_once(&g_once, global_init);
	if (g_init_rc != CURLE_OK)
		return OTF_E_IO;
	otf_curl_uv_t *cu = otf_calloc(1, sizeof *cu);
	if (!cu)
		return OTF_E_NOMEM;
	cu->multi = curl_multi_init();
	if (!cu->multi) {
		otf_free(cu);
		return OTF_E_IO;
	}
	cu->loop = loop;
	cu->done = done;
	cu->ctx = ctx;
	uv_timer_init(loop, &cu->timer);
	cu->timer.data = cu;
	cu->handles = 1;
	curl_multi_setopt(cu->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(cu->multi, CURLMOPT_SOCKETDATA, cu);
	curl_multi_setopt(cu->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(cu->multi, CURLMOPT_TIMERDATA, cu);
	*out = cu;
	return 0;
}

int otf__curl_uv_add(otf_curl_uv_t *cu, CURL *easy)
{
	if (cu->closing || curl_multi_add_handle(cu->multi, easy) != CURLM_OK)
		return OTF_E_IO;
	return 0;
}

void otf__curl_uv_remove(otf_curl_uv_t *cu, CURL *easy)
{
	curl_multi_remove_handle(cu->multi, easy);
}

static void timer_closed(uv_handle_t *h)
{
	handle_closed(h->data);
}

void otf__curl_uv_close(otf_curl_uv_t *cu, otf_curl_uv_close_cb cb, void *arg)
{
	cu->closing = true;
	cu->close_cb = cb;
	cu->close_arg = arg;
	/* Poll handles go first, while their sockets are still open; curl's
	 * cleanup then closes the sockets and its callbacks are ignored. */
	while (cu->socks)
		sock_release(cu, cu->socks);
	curl_multi_cleanup(cu->multi);
	cu->multi = NULL;
	uv_timer_stop(&cu->timer);
	uv_close((uv_handle_t *)&cu->timer, timer_closed);
}
