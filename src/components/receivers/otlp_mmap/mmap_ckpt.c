/* Checkpoint of a drain's open spans (at_least_once): a sidecar file
 * "<file>.otflow-ckpt" next to the mmap file, replaced atomically (write a
 * temporary, rename). Layout, little-endian:
 *   "OTFMMCK2" | epoch u64 | n[3] u64 | b[3] u64 | dictionary u64 |
 *   pos[3] i64 | count u64 |
 *   count x (ids[24] | scope_ref i64 | len u32 | records[len]) | "END1"
 * Version 1 ("OTFMMCK1", written by earlier otflow versions) lacks n, b
 * and dictionary and is still read, with every other check.
 * The checkpoint is untrusted input like the file: it is refused whole
 * (nothing restored) unless its epoch and ring sizes are the file's, each
 * position lies in [-1, writer_index] of its ring and the records parse
 * to the end. See docs/mmap-protocol.md, "Reader (otlp_mmap receiver)". */
#include "mmap_ckpt.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC  "OTFMMCK2"
#define MAGIC1 "OTFMMCK1"
/* magic, epoch, n[3], b[3], dictionary, pos[3], count */
#define HEAD  (8 + 8 + 24 + 24 + 8 + 24 + 8)
#define HEAD1 (8 + 8 + 24 + 8) /* version 1: magic, epoch, pos[3], count */
#define TAIL  "END1"

typedef struct wctx {
	otf_buf_t *b;
	int err;
} wctx_t;

static void put(wctx_t *w, const void *p, size_t n)
{
	if (w->err)
		return;
	if (w->b->len + n > w->b->cap && otf_buf_reserve(&w->b, (w->b->len + n) * 2)) {
		w->err = OTF_E_NOMEM;
		return;
	}
	memcpy(w->b->data + w->b->len, p, n);
	w->b->len += n;
}

static void each(void *ctx, const uint8_t ids[24], int64_t scope_ref, const uint8_t *recs,
                 size_t len)
{
	wctx_t *w = ctx;
	uint32_t l = (uint32_t)len;
	put(w, ids, 24);
	put(w, &scope_ref, 8);
	put(w, &l, 4);
	put(w, recs, len);
}

int otf__mmck_snapshot(const otf__mmd_t *d, const int64_t pos[OTF_MMR_RINGS], otf_buf_t **out)
{
	wctx_t w = {otf_buf_create(4096), 0};
	if (!w.b)
		return OTF_E_NOMEM;
	uint64_t n = otf__mmd_open_spans(d);
	put(&w, MAGIC, 8);
	put(&w, &d->r.epoch, 8);
	for (int i = 0; i < OTF_MMR_RINGS; i++)
		put(&w, &d->r.ring[i].n, 8);
	for (int i = 0; i < OTF_MMR_RINGS; i++)
		put(&w, &d->r.ring[i].b, 8);
	put(&w, &d->r.dict_off, 8);
	put(&w, pos, 8 * OTF_MMR_RINGS);
	put(&w, &n, 8);
	otf__mmd_each_open(d, each, &w);
	put(&w, TAIL, 4);
	if (w.err) {
		otf_buf_unref(w.b);
		return w.err;
	}
	*out = w.b;
	return 0;
}

void otf__mmck_path(const char *file, char *out, size_t cap, bool tmp)
{
	snprintf(out, cap, "%s%s%s", file, OTF_MMCK_SUFFIX, tmp ? ".tmp" : "");
}

int otf__mmck_write(const char *file, const otf_buf_t *snap)
{
	char path[4096], tmp[4096];
	otf__mmck_path(file, path, sizeof path, false);
	otf__mmck_path(file, tmp, sizeof tmp, true);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	size_t off = 0;
	while (off < snap->len) {
		ssize_t k = write(fd, snap->data + off, snap->len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			int e = k < 0 ? -errno : OTF_E_IO;
			close(fd);
			unlink(tmp);
			return e;
		}
		off += (size_t)k;
	}
	if (close(fd) || rename(tmp, path)) {
		int e = -errno;
		unlink(tmp);
		return e;
	}
	return 0;
}

void otf__mmck_remove(const char *file)
{
	char path[4096];
	otf__mmck_path(file, path, sizeof path, false);
	unlink(path);
}

static int refuse(char *why, size_t cap, const char *what)
{
	if (cap)
		snprintf(why, cap, "%s", what);
	return OTF_E_INVAL;
}

/* Walks the span entries; restores them only when restore is true. */
static int spans(otf__mmd_t *d, const uint8_t *b, size_t n, size_t head, bool restore,
                 uint64_t mono_ns)
{
	uint64_t count;
	memcpy(&count, b + head - 8, 8);
	size_t off = head, end = n - 4;
	for (uint64_t i = 0; i < count; i++) {
		if (end - off < 36)
			return OTF_E_INVAL;
		int64_t scope_ref;
		uint32_t l;
		memcpy(&scope_ref, b + off + 24, 8);
		memcpy(&l, b + off + 32, 4);
		if (end - off - 36 < l)
			return OTF_E_INVAL;
		if (restore) {
			int rc =
			    otf__mmd_restore_span(d, b + off, scope_ref, b + off + 36, l, mono_ns);
			if (rc)
				return rc;
		}
		off += 36 + l;
	}
	return off == end ? 0 : OTF_E_INVAL;
}

int otf__mmck_parse(otf__mmd_t *d, const uint8_t *b, size_t n, int64_t pos[OTF_MMR_RINGS],
                    uint64_t mono_ns, char *why, size_t why_cap)
{
	bool v1 = n >= 8 && !memcmp(b, MAGIC1, 8);
	size_t head = v1 ? HEAD1 : HEAD;
	if (n < head + 4 || (!v1 && memcmp(b, MAGIC, 8)) || memcmp(b + n - 4, TAIL, 4))
		return refuse(why, why_cap, "not an otflow checkpoint, or cut short");
	if (!d->r.ready)
		return refuse(why, why_cap, "the file is not attached");
	uint64_t epoch;
	int64_t p[OTF_MMR_RINGS];
	memcpy(&epoch, b + 8, 8);
	memcpy(p, b + head - 8 - sizeof p, sizeof p);
	if (epoch != d->r.epoch)
		return refuse(why, why_cap, "written for another producer (epoch differs)");
	if (!v1) {
		uint64_t dict, rn[OTF_MMR_RINGS], rb[OTF_MMR_RINGS];
		memcpy(rn, b + 16, sizeof rn);
		memcpy(rb, b + 40, sizeof rb);
		memcpy(&dict, b + 64, 8);
		for (int i = 0; i < OTF_MMR_RINGS; i++)
			if (rn[i] != d->r.ring[i].n || rb[i] != d->r.ring[i].b)
				return refuse(why, why_cap, "ring sizes differ from the file's");
		if (dict != d->r.dict_off)
			return refuse(why, why_cap, "dictionary offset differs from the file's");
	}
	for (int i = 0; i < OTF_MMR_RINGS; i++) {
		/* A position past writer_index names records no producer ever
		 * claimed: trusting it would skip every record up to it. */
		int64_t w = otf__mmr_writer_index(&d->r, i);
		if (p[i] < -1 || p[i] > w) {
			if (why_cap)
				snprintf(
				    why, why_cap,
				    "%s position %lld outside the ring's [-1, writer_index %lld]",
				    otf__mmr_ring_name(i), (long long)p[i], (long long)w);
			return OTF_E_INVAL;
		}
	}
	if (spans(d, b, n, head, false, mono_ns))
		return refuse(why, why_cap, "open-span records are damaged");
	int rc = spans(d, b, n, head, true, mono_ns);
	if (rc)
		return refuse(why, why_cap, "open spans cannot be restored");
	memcpy(pos, p, sizeof p);
	return 0;
}

int otf__mmck_load(otf__mmd_t *d, const char *file, int64_t pos[OTF_MMR_RINGS], uint64_t mono_ns,
                   char *why, size_t why_cap)
{
	char path[4096];
	otf__mmck_path(file, path, sizeof path, false);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? OTF_E_NOT_FOUND : -errno;
	struct stat st;
	if (fstat(fd, &st) || st.st_size < HEAD1 + 4 || st.st_size > ((off_t)1 << 32)) {
		close(fd);
		return refuse(why, why_cap, "not a checkpoint (size)");
	}
	size_t n = (size_t)st.st_size;
	uint8_t *b = otf_malloc(n);
	size_t got = 0;
	while (b && got < n) {
		ssize_t k = read(fd, b + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close(fd);
	int rc = b && got == n ? otf__mmck_parse(d, b, n, pos, mono_ns, why, why_cap)
	                       : refuse(why, why_cap, "cannot be read");
	otf_free(b);
	return rc;
}
