/* Reading a large gRPC message straight into its buffer.
 *
 * Without this, every byte of a request is copied twice: by the kernel
 * into the connection's read buffer, then by the reader (grpc_frame.c)
 * from there into the message. nghttp2 hands DATA payload to its chunk
 * callback as a pointer into whatever input it was given, so if the
 * socket bytes land in the message buffer itself, at the place where the
 * reader would copy them, the second copy disappears (the reader notices
 * the bytes are in place and skips it).
 *
 * The obstacle is HTTP/2 framing: a 340 kB message comes as ~21 DATA
 * frames of 16 KiB (what grpc-go, nghttp2 and h2load send whatever the
 * peer's SETTINGS_MAX_FRAME_SIZE), each behind a 9-byte frame header. So
 * the read is a readv(2) that scatters the bytes the way they are most
 * likely framed: the rest of the current frame's payload into the message,
 * then (9-byte header into a side slot, next payload piece into the
 * message) over and over, each piece as long as the frame being read, and
 * finally the shared read buffer for whatever follows. Every piece is then
 * handed to nghttp2 in order, so nghttp2 sees exactly the byte stream of
 * the socket. A header that is not what was assumed (another stream,
 * another frame type, a different length, padding) means the bytes behind
 * it were placed wrongly: those are gathered into one linear copy and fed
 * from there, the slow but correct path.
 *
 * Applies when a call's message was taken whole at its prefix (at least
 * OTF__NET_DIRECT_MIN bytes, grpc_frame.c), the connection is plaintext
 * (TLS decrypts into its own buffers) and the read position is inside, or
 * right after, a DATA frame of that call without padding. libuv's own read
 * is pointed at the current frame's rest (on_alloc); when it fills that,
 * the scatter reads take the rest. */
#include "net/grpc_internal.h"

#include "otflow/alloc.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>

/* Frames per scatter read: 64 x 16 KiB covers a 1 MiB message. */
#define MAX_FRAMES 64
/* Not worth a scatter read below this much of the message left. */
#define MIN_LEFT (16u * 1024)

/* The call whose message the next bytes belong to, if direct reading
 * applies; *frame_left: payload bytes of its current DATA frame still due
 * (0 = between frames, the next byte is a frame header). */
static otf_grpc_call_t *target(otf__grpc_conn_t *c, size_t *frame_left)
{
	if (c->io.ssl || c->held || c->closing || c->lingering || c->fatal || !c->h2 ||
	    c->preface_left)
		return NULL;
	int32_t sid;
	*frame_left = 0;
	if (c->fhdr_len == 9) {
		if (c->fhdr[3] != NGHTTP2_DATA || (c->fhdr[4] & NGHTTP2_FLAG_PADDED))
			return NULL;
		sid = (int32_t)(((uint32_t)c->fhdr[5] << 24 | (uint32_t)c->fhdr[6] << 16 |
		                 (uint32_t)c->fhdr[7] << 8 | c->fhdr[8]) &
		                0x7fffffffu);
		*frame_left = c->frame_left;
		c->direct_sid = sid;
		c->direct_fs = (uint32_t)c->fhdr[0] << 16 | (uint32_t)c->fhdr[1] << 8 | c->fhdr[2];
	} else if (c->fhdr_len == 0 && c->direct_sid) {
		sid = c->direct_sid; /* the next frame is probably its too */
	} else {
		return NULL;
	}
	otf_grpc_call_t *call = nghttp2_session_get_stream_user_data(c->h2, sid);
	if (!call || call->answered || !call->headers_done)
		return NULL;
	const otf__grpc_reader_t *r = &call->reader;
	if (!r->msg || r->hdr_len < 5 || r->n_msgs || r->msg->cap < r->msg_len ||
	    r->msg->len != r->got)
		return NULL;
	size_t left = r->msg_len - r->got;
	if (left < MIN_LEFT || *frame_left > left || !c->direct_fs)
		return NULL;
	return call;
}

bool otf__grpc_direct_alloc(otf__grpc_conn_t *c, uv_buf_t *buf)
{
	size_t fl;
	otf_grpc_call_t *call = target(c, &fl);
	if (!call)
		return false;
	if (!fl) { /* between frames: the header first, then the scatter */
		*buf = uv_buf_init((char *)c->direct_hdr, sizeof c->direct_hdr);
		return true;
	}
	otf__grpc_reader_t *r = &call->reader;
	*buf = uv_buf_init((char *)r->msg->data + r->got, (unsigned)fl);
	return true;
}

/* Is h the header of a DATA frame of sid with len bytes of payload and no
 * padding (END_STREAM allowed)? */
static bool header_is(const uint8_t *h, int32_t sid, size_t len)
{
	uint32_t l = (uint32_t)h[0] << 16 | (uint32_t)h[1] << 8 | h[2];
	uint32_t s = ((uint32_t)h[5] << 24 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 8 | h[8]) &
	             0x7fffffffu;
	return l == len && h[3] == NGHTTP2_DATA && !(h[4] & NGHTTP2_FLAG_PADDED) &&
	       s == (uint32_t)sid;
}

/* Bytes iov[from..] received, out of got - done, as one linear copy fed
 * to the session: the scatter guessed the framing wrong from there on. */
static void feed_gathered(otf__grpc_conn_t *c, const struct iovec *iov, int n, int from,
                          size_t rest)
{
	uint8_t *lin = otf_malloc(rest);
	if (!lin) {
		otf__grpc_conn_fail(c);
		return;
	}
	size_t off = 0;
	for (int i = from; i < n && off < rest; i++) {
		size_t l = iov[i].iov_len < rest - off ? iov[i].iov_len : rest - off;
		memcpy(lin + off, iov[i].iov_base, l);
		off += l;
	}
	otf__grpc_conn_input(c, lin, rest);
	otf_free(lin);
}

/* One scatter read; true if it filled every piece (more may be waiting). */
static bool scatter_once(otf__grpc_conn_t *c, otf_grpc_call_t *call, size_t fl)
{
	otf__grpc_reader_t *r = &call->reader;
	int32_t sid = call->stream_id;
	uint8_t hdrs[MAX_FRAMES][9];
	struct iovec iov[2 * MAX_FRAMES + 2];
	size_t expect[2 * MAX_FRAMES + 2]; /* for a header slot: its payload length */
	int n = 0, k = 0;
	uint8_t *at = r->msg->data + r->got;
	size_t rem = r->msg_len - r->got, cap = 0;
	if (fl) {
		iov[n] = (struct iovec){at, fl};
		expect[n++] = 0;
		at += fl;
		rem -= fl;
	}
	while (rem && k < MAX_FRAMES) {
		size_t p = rem < c->direct_fs ? rem : c->direct_fs;
		iov[n] = (struct iovec){hdrs[k++], 9};
		expect[n++] = p;
		iov[n] = (struct iovec){at, p};
		expect[n++] = 0;
		at += p;
		rem -= p;
	}
	otf_grpc_server_t *s = c->srv;
	size_t rbn = otf__grpc_read_buffer_bytes(s);
	if (s->rbuf || (s->rbuf = otf_malloc(rbn))) { /* what follows the message */
		iov[n] = (struct iovec){s->rbuf, rbn};
		expect[n++] = 0;
	}
	for (int i = 0; i < n; i++)
		cap += iov[i].iov_len;
	uv_os_fd_t fd;
	if (uv_fileno((uv_handle_t *)&c->io.tcp, &fd) < 0)
		return false;
	ssize_t got;
	do
		got = readv(fd, iov, n);
	while (got < 0 && errno == EINTR);
	if (got <= 0) /* nothing yet; EOF and errors: libuv's next read sees them */
		return false;
	c->srv->direct_reads++;
	/* The session may drop the call (a reset, a flow-control error) while
	 * pieces of this read still point into its message: keep it alive. */
	otf_buf_t *hold = otf_buf_ref(r->msg);
	size_t done = 0;
	for (int i = 0; i < n && done < (size_t)got && !c->closing && !c->fatal; i++) {
		size_t l =
		    iov[i].iov_len < (size_t)got - done ? iov[i].iov_len : (size_t)got - done;
		if (expect[i] && l == 9 && !header_is(iov[i].iov_base, sid, expect[i])) {
			c->srv->direct_misses++;
			feed_gathered(c, iov, n, i, (size_t)got - done);
			break;
		}
		otf__grpc_conn_input(c, iov[i].iov_base, l);
		done += l;
	}
	otf_buf_unref(hold);
	if ((size_t)got < cap)
		c->drained = true; /* nothing more queued: see on_alloc */
	return (size_t)got == cap;
}

void otf__grpc_direct_drain(otf__grpc_conn_t *c)
{
	for (int round = 0; round < 4; round++) {
		size_t fl;
		otf_grpc_call_t *call = target(c, &fl);
		if (!call || !scatter_once(c, call, fl))
			return;
	}
}
