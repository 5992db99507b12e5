/* C side of the Go embedding example: the completion callback cgo cannot
 * pass as a Go func, forwarding to the exported goDone. */
#include "bridge.h"

#include "_cgo_export.h"

static void on_done(void *arg, int code, bool permanent, const char *reason)
{
	goDone((uintptr_t)arg, code, permanent, (char *)reason);
}

int bridge_push(otf_embedded_t *e, const char *receiver, const void *data, size_t len,
                uintptr_t token, char *err, size_t errlen)
{
	return otf_embedded_push(e, receiver, OTF_SIGNAL_LOGS, data, len, on_done, (void *)token,
	                         err, errlen);
}
