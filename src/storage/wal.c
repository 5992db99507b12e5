/* The write-ahead log (otflow/storage.h): segment files in one directory,
 * appends and ACKs, group commit, recovery at open, deletion of consumed
 * segments. The record format and the scan are wal_format.c. */
#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define DEFAULT_SEGMENT (8ull << 20)
#define MAX_PARTS       8

/* One segment file. Its APPENDs hold the ids first..first+n-1 (contiguous:
 * ids grow by one per append, all into the active segment); acked has a
 * bit per id, set once consumed (or never present: a skipped record). */
typedef struct seg {
	uint64_t no; /* file name: %016x.wal */
	uint64_t bytes;
	uint64_t first, n;
	uint64_t live; /* ids pending */
	uint64_t *acked;
	size_t acked_words;
} seg_t;

/* A record recovered at open, waiting for otf_wal_take_recovered. */
typedef struct rec {
	uint64_t id;
	uint8_t *data; /* NULL once acknowledged during the scan */
	uint32_t len;
} rec_t;

struct otf_wal {
	pthread_mutex_t mu;
	char *dir;
	int dirfd, lockfd, fd; /* fd: the active (last) segment */
	otf_wal_options_t o;
	seg_t *segs;
	size_t nsegs, capsegs;
	uint64_t next_id;
	uint64_t write_seq, synced_seq;
	bool dir_dirty, taken;
	rec_t *recs;
	size_t nrecs, caprecs;
	otf_wal_stats_t st;
	/* The sync thread (otf_wal_sync_request), started on first use; a
	 * sync runs without the mutex (syncing set), so appends go on. */
	pthread_cond_t cv, cv_idle;
	pthread_t thr;
	bool thr_on, stop, syncing;
	uint64_t want_seq;
	struct {
		uint64_t lo, hi; /* write sequence numbers (lo, hi] a failed sync covered */
		int rc;
	} fail[8];
	size_t nfail;
};

static int seg_path(uint64_t no, char *buf, size_t cap)
{
	int k = snprintf(buf, cap, "%016" PRIx64 ".wal", no);
	return k > 0 && (size_t)k < cap ? 0 : OTF_E_NOSPACE;
}

static bool bit_get(const seg_t *s, uint64_t i)
{
	return i / 64 < s->acked_words && (s->acked[i / 64] >> (i % 64) & 1);
}

/* Grows the bitmap to hold n ids; new bits are set (= not pending). */
static int bits_grow(seg_t *s, uint64_t n, bool set)
{
	size_t words = (size_t)((n + 63) / 64);
	if (words <= s->acked_words)
		return 0;
	size_t cap = s->acked_words ? s->acked_words : 8;
	while (cap < words)
		cap *= 2;
	uint64_t *a = otf_realloc(s->acked, cap * sizeof *a);
	if (!a)
		return OTF_E_NOMEM;
	memset(a + s->acked_words, set ? 0xff : 0, (cap - s->acked_words) * sizeof *a);
	s->acked = a;
	s->acked_words = cap;
	return 0;
}

static seg_t *seg_of(otf_wal_t *w, uint64_t id)
{
	/* Few segments, and ACKs mostly hit the oldest: a forward walk. */
	for (size_t i = 0; i < w->nsegs; i++) {
		seg_t *s = &w->segs[i];
		if (s->n && id >= s->first && id < s->first + s->n)
			return s;
	}
	return NULL;
}

static seg_t *seg_push(otf_wal_t *w, uint64_t no)
{
	if (w->nsegs == w->capsegs) {
		size_t cap = w->capsegs ? w->capsegs * 2 : 8;
		seg_t *s = otf_realloc(w->segs, cap * sizeof *s);
		if (!s)
			return NULL;
		w->segs = s;
		w->capsegs = cap;
	}
	seg_t *s = &w->segs[w->nsegs++];
	memset(s, 0, sizeof *s);
	s->no = no;
	return s;
}

/* Deletes the oldest segments whose ids are all consumed, never the
 * active one: in order, so that an ACK is never kept while the segment of
 * its APPEND is gone ... the other way round. */
static void delete_consumed(otf_wal_t *w)
{
	size_t k = 0;
	while (k + 1 < w->nsegs && !w->segs[k].live) {
		char name[32];
		if (!seg_path(w->segs[k].no, name, sizeof name))
			(void)unlinkat(w->dirfd, name, 0);
		w->st.disk_bytes -= w->segs[k].bytes;
		w->st.segments_deleted++;
		otf_free(w->segs[k].acked);
		k++;
	}
	if (k) {
		memmove(w->segs, w->segs + k, (w->nsegs - k) * sizeof *w->segs);
		w->nsegs -= k;
	}
}

/* ---- recovery ---- */

typedef struct scan_ctx {
	otf_wal_t *w;
	seg_t *s;
	uint64_t max_ids; /* a segment of n bytes holds at most n / 24 records */
	int err;
} scan_ctx_t;

static rec_t *rec_find(otf_wal_t *w, uint64_t id)
{
	size_t lo = 0, hi = w->nrecs;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (w->recs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < w->nrecs && w->recs[lo].id == id ? &w->recs[lo] : NULL;
}

static void ack_bit(otf_wal_t *w, seg_t *s, uint64_t id)
{
	uint64_t i = id - s->first;
	s->acked[i / 64] |= 1ull << (i % 64);
	s->live--;
	w->st.pending--;
}

static void on_record(void *ctx, const otf_wal_record_t *r)
{
	scan_ctx_t *c = ctx;
	otf_wal_t *w = c->w;
	if (c->err)
		return;
	if (r->id >= w->next_id)
		w->next_id = r->id + 1;
	if (r->type == OTF_WAL_ACK) {
		seg_t *s = seg_of(w, r->id);
		rec_t *e = rec_find(w, r->id);
		if (s && e && e->data && !bit_get(s, r->id - s->first)) {
			ack_bit(w, s, r->id);
			otf_free(e->data);
			e->data = NULL;
		}
		return;
	}
	seg_t *s = c->s;
	/* Ids only grow; one out of order (a copied file) is skipped. */
	if ((w->nrecs && r->id <= w->recs[w->nrecs - 1].id) || (s->n && r->id < s->first) ||
	    r->id > UINT64_MAX / 2 || (s->n && r->id - s->first >= c->max_ids)) {
		w->st.scan.corrupt_records++;
		return;
	}
	if (!s->n)
		s->first = r->id;
	uint64_t n = r->id - s->first + 1;
	if (bits_grow(s, n, true)) {
		c->err = OTF_E_NOMEM;
		return;
	}
	s->n = n;
	uint64_t i = r->id - s->first;
	s->acked[i / 64] &= ~(1ull << (i % 64));
	if (w->nrecs == w->caprecs) {
		size_t cap = w->caprecs ? w->caprecs * 2 : 64;
		rec_t *a = otf_realloc(w->recs, cap * sizeof *a);
		if (!a) {
			c->err = OTF_E_NOMEM;
			return;
		}
		w->recs = a;
		w->caprecs = cap;
	}
	rec_t *e = &w->recs[w->nrecs];
	e->id = r->id;
	e->len = r->len;
	e->data = otf_malloc(r->len ? r->len : 1);
	if (!e->data) {
		c->err = OTF_E_NOMEM;
		return;
	}
	memcpy(e->data, r->data, r->len);
	w->nrecs++;
	s->live++;
	w->st.pending++;
}

static int read_all(int fd, uint8_t **out, size_t *n)
{
	struct stat sb;
	if (fstat(fd, &sb))
		return -errno;
	size_t size = (size_t)sb.st_size, got = 0;
	uint8_t *p = otf_malloc(size ? size : 1);
	if (!p)
		return OTF_E_NOMEM;
	while (got < size) {
		ssize_t k = read(fd, p + got, size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			otf_free(p);
			return k < 0 ? -errno : OTF_E_IO;
		}
		got += (size_t)k;
	}
	*out = p;
	*n = size;
	return 0;
}

/* Reads segment no, records what it holds, truncates a torn tail. */
static int recover_segment(otf_wal_t *w, uint64_t no)
{
	char name[32];
	int rc = seg_path(no, name, sizeof name);
	if (rc)
		return rc;
	int fd = openat(w->dirfd, name, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	uint8_t *p = NULL;
	size_t n = 0;
	rc = read_all(fd, &p, &n);
	if (rc) {
		close(fd);
		return rc;
	}
	seg_t *s = seg_push(w, no);
	if (!s) {
		otf_free(p);
		close(fd);
		return OTF_E_NOMEM;
	}
	/* A bad file header is scanned like any corruption: records past it
	 * are still found. */
	size_t start =
	    n >= OTF_WAL_FILE_HEADER && !memcmp(p, OTF_WAL_FILE_MAGIC, OTF_WAL_FILE_HEADER)
	        ? OTF_WAL_FILE_HEADER
	        : 0;
	scan_ctx_t c = {w, s, n / OTF_WAL_HEADER + 1, 0};
	size_t end = start + otf_wal_scan(p + start, n - start, on_record, &c, &w->st.scan);
	otf_free(p);
	if (c.err) {
		close(fd);
		return c.err;
	}
	if (end < n && ftruncate(fd, (off_t)end)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	close(fd);
	s->bytes = end;
	w->st.disk_bytes += end;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int list_segments(otf_wal_t *w, uint64_t **nos, size_t *count)
{
	int fd = dup(w->dirfd);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = -errno;
		close(fd);
		return e;
	}
	uint64_t *a = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *nm = de->d_name;
		if (strlen(nm) != 20 || strcmp(nm + 16, ".wal") ||
		    strspn(nm, "0123456789abcdef") != 16)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			uint64_t *b = otf_realloc(a, cap * sizeof *b);
			if (!b) {
				otf_free(a);
				closedir(d);
				return OTF_E_NOMEM;
			}
			a = b;
		}
		a[n++] = strtoull(nm, NULL, 16);
	}
	closedir(d);
	if (n)
		qsort(a, n, sizeof *a, cmp_u64);
	*nos = a;
	*count = n;
	return 0;
}

static int open_active(otf_wal_t *w, uint64_t no)
{
	char name[32];
	int rc = seg_path(no, name, sizeof name);
	if (rc)
		return rc;
	int fd = openat(w->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (write(fd, OTF_WAL_FILE_MAGIC, OTF_WAL_FILE_HEADER) != OTF_WAL_FILE_HEADER) {
		rc = errno ? -errno : OTF_E_IO;
		close(fd);
		(void)unlinkat(w->dirfd, name, 0);
		return rc;
	}
	seg_t *s = seg_push(w, no);
	if (!s) {
		close(fd);
		(void)unlinkat(w->dirfd, name, 0);
		return OTF_E_NOMEM;
	}
	s->bytes = OTF_WAL_FILE_HEADER;
	w->st.disk_bytes += OTF_WAL_FILE_HEADER;
	w->fd = fd;
	w->dir_dirty = true;
	return 0;
}

static int mkdir_p(const char *dir, mode_t mode)
{
	char buf[4096];
	size_t n = strlen(dir);
	if (n >= sizeof buf)
		return -ENAMETOOLONG;
	memcpy(buf, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char c = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		buf[i] = c;
	}
	return 0;
}

int otf_wal_open(const char *dir, const otf_wal_options_t *opt, otf_wal_t **out, char *err,
                 size_t errlen)
{
	*out = NULL;
	otf_wal_t *w = otf_calloc(1, sizeof *w);
	if (!w)
		return OTF_E_NOMEM;
	w->o = *opt;
	if (!w->o.segment_bytes)
		w->o.segment_bytes = DEFAULT_SEGMENT;
	w->dirfd = w->lockfd = w->fd = -1;
	w->next_id = 1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	pthread_cond_init(&w->cv_idle, NULL);
	int rc = 0;
	const char *what = "";
	if (!(w->dir = otf_strndup(dir, strlen(dir)))) {
		rc = OTF_E_NOMEM;
		goto fail;
	}
	if (w->o.create_directory &&
	    (rc = mkdir_p(dir, w->o.dir_mode ? (mode_t)w->o.dir_mode : 0750))) {
		what = "cannot create directory";
		goto fail;
	}
	w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dirfd < 0) {
		rc = -errno;
		what = "cannot open directory";
		goto fail;
	}
	/* Two processes appending to one queue would interleave ids. */
	w->lockfd = openat(w->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (w->lockfd < 0 || flock(w->lockfd, LOCK_EX | LOCK_NB)) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		what = errno == EWOULDBLOCK ? "queue in use by another process" : "cannot lock";
		goto fail;
	}
	uint64_t *nos = NULL;
	size_t count = 0;
	if ((rc = list_segments(w, &nos, &count))) {
		what = "cannot list";
		goto fail;
	}
	for (size_t i = 0; i < count && !rc; i++)
		rc = recover_segment(w, nos[i]);
	uint64_t next_no = count ? nos[count - 1] + 1 : 1;
	otf_free(nos);
	if (rc) {
		what = "cannot read a segment in";
		goto fail;
	}
	w->st.recovered = w->st.pending;
	if ((rc = open_active(w, next_no))) {
		what = "cannot create a segment in";
		goto fail;
	}
	delete_consumed(w);
	w->st.segments = w->nsegs;
	*out = w;
	return 0;
fail:
	if (err && errlen)
		snprintf(err, errlen, "%s %s: %s", what, dir, otf_strerror(rc));
	otf_wal_close(w);
	return rc;
}

size_t otf_wal_take_recovered(otf_wal_t *w, otf_wal_recovered_cb cb, void *ctx)
{
	pthread_mutex_lock(&w->mu);
	rec_t *recs = w->recs;
	size_t n = w->nrecs, k = 0;
	bool first = !w->taken;
	w->taken = true;
	w->recs = NULL;
	w->nrecs = w->caprecs = 0;
	pthread_mutex_unlock(&w->mu);
	for (size_t i = 0; i < n; i++) {
		if (!recs[i].data)
			continue;
		if (first && cb) {
			cb(ctx, recs[i].id, recs[i].data, recs[i].len);
			k++;
		}
		otf_free(recs[i].data);
	}
	otf_free(recs);
	return k;
}

static int write_record(otf_wal_t *w, uint32_t type, uint64_t id, const otf_wal_part_t *parts,
                        size_t nparts, uint32_t len)
{
	uint8_t hdr[OTF_WAL_HEADER];
	otf_wal_record_header(hdr, type, id, NULL, 0);
	/* The CRC over the parts, as if they were one payload. */
	hdr[4] = (uint8_t)len;
	hdr[5] = (uint8_t)(len >> 8);
	hdr[6] = (uint8_t)(len >> 16);
	hdr[7] = (uint8_t)(len >> 24);
	uint32_t crc = otf_crc32c(0, hdr + 4, 4);
	crc = otf_crc32c(crc, hdr + 12, 12);
	struct iovec iov[MAX_PARTS + 1];
	iov[0].iov_base = hdr;
	iov[0].iov_len = OTF_WAL_HEADER;
	for (size_t i = 0; i < nparts; i++) {
		crc = otf_crc32c(crc, parts[i].p, parts[i].n);
		iov[i + 1].iov_base = (void *)(uintptr_t)parts[i].p;
		iov[i + 1].iov_len = parts[i].n;
	}
	for (int k = 0; k < 4; k++)
		hdr[8 + k] = (uint8_t)(crc >> (8 * k));
	seg_t *s = &w->segs[w->nsegs - 1];
	size_t want = OTF_WAL_HEADER + (size_t)len;
	ssize_t k = writev(w->fd, iov, (int)nparts + 1);
	if (k != (ssize_t)want) {
		int e = k < 0 ? -errno : -ENOSPC;
		/* No partial record stays behind to be taken for a torn tail
		 * in the middle of the segment. */
		if (k > 0 && ftruncate(w->fd, (off_t)s->bytes))
			e = -errno;
		w->st.write_errors++;
		return e;
	}
	s->bytes += want;
	w->st.disk_bytes += want;
	w->write_seq++;
	return 0;
}

/* The outcome of the sync that covered token: 0, or the failed one's
 * error. Called with the mutex. */
static int outcome(const otf_wal_t *w, uint64_t token)
{
	for (size_t i = 0; i < w->nfail; i++)
		if (token > w->fail[i].lo && token <= w->fail[i].hi)
			return w->fail[i].rc;
	return 0;
}

/* One sync of everything written so far, with the mutex held on entry and
 * exit but not during fdatasync (the file stays open: roll and close wait
 * for syncing to clear). */
static int sync_now(otf_wal_t *w)
{
	while (w->syncing)
		pthread_cond_wait(&w->cv_idle, &w->mu);
	uint64_t prev = w->synced_seq, upto = w->write_seq;
	if (upto <= prev)
		return 0;
	int rc = 0;
	if (w->o.fsync) {
		int fd = w->fd, dirfd = w->dirfd;
		bool dir = w->dir_dirty;
		w->dir_dirty = false;
		w->syncing = true;
		pthread_mutex_unlock(&w->mu);
		if (dir && fsync(dirfd))
			rc = -errno;
		/* No active file (its creation failed): the roll before
		 * synced everything written. */
		if (!rc && fd >= 0 && fdatasync(fd))
			rc = -errno;
		pthread_mutex_lock(&w->mu);
		w->syncing = false;
		if (rc && dir)
			w->dir_dirty = true;
		w->st.syncs++;
		pthread_cond_broadcast(&w->cv_idle);
	}
	if (rc) {
		/* Remembered for the waiters of (prev, upto]; the oldest two
		 * ranges merge when full (more refused, none acknowledged
		 * wrongly). */
		if (w->nfail == sizeof w->fail / sizeof w->fail[0]) {
			w->fail[1].lo = w->fail[0].lo;
			memmove(w->fail, w->fail + 1, (w->nfail - 1) * sizeof w->fail[0]);
			w->nfail--;
		}
		w->fail[w->nfail].lo = prev;
		w->fail[w->nfail].hi = upto;
		w->fail[w->nfail].rc = rc;
		w->nfail++;
	}
	if (upto > w->synced_seq)
		w->synced_seq = upto;
	return rc;
}

static void *sync_main(void *arg)
{
	otf_wal_t *w = arg;
	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		if (w->want_seq > w->synced_seq)
			(void)sync_now(w);
		else
			pthread_cond_wait(&w->cv, &w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Starts a new active segment (the old one made durable first, so that a
 * sync token taken in it stays meaningful). */
static int roll(otf_wal_t *w)
{
	while (w->syncing)
		pthread_cond_wait(&w->cv_idle, &w->mu);
	if (w->o.fsync && w->synced_seq < w->write_seq && fdatasync(w->fd))
		return -errno;
	w->synced_seq = w->write_seq;
	close(w->fd);
	w->fd = -1;
	int rc = open_active(w, w->segs[w->nsegs - 1].no + 1);
	w->st.segments = w->nsegs;
	return rc;
}

int otf_wal_append(otf_wal_t *w, const otf_wal_part_t *parts, size_t nparts, uint64_t *id,
                   uint64_t *sync_token)
{
	if (nparts > MAX_PARTS)
		return OTF_E_INVAL;
	uint64_t len = 0;
	for (size_t i = 0; i < nparts; i++)
		len += parts[i].n;
	if (len > OTF_WAL_MAX_RECORD)
		return OTF_E_TOO_LARGE;
	pthread_mutex_lock(&w->mu);
	int rc = 0;
	seg_t *s = &w->segs[w->nsegs - 1];
	uint64_t want = OTF_WAL_HEADER + len;
	bool full = w->o.max_bytes && w->st.disk_bytes + want > w->o.max_bytes;
	/* A segment that could not be created last time (descriptors, disk)
	 * is tried again, so one failure does not stop the queue for good. */
	if (w->fd < 0) {
		if ((rc = open_active(w, w->segs[w->nsegs - 1].no + 1)))
			goto out;
		w->st.segments = w->nsegs;
		s = &w->segs[w->nsegs - 1];
	}
	/* A new segment past segment_bytes, or when the budget is spent and
	 * the active segment is all consumed: the active one is never deleted,
	 * so rolling is what gives its bytes back. */
	if (s->bytes > OTF_WAL_FILE_HEADER &&
	    (s->bytes + want > w->o.segment_bytes || (full && !s->live))) {
		if ((rc = roll(w)))
			goto out;
		delete_consumed(w);
		w->st.segments = w->nsegs;
		s = &w->segs[w->nsegs - 1];
		full = w->o.max_bytes && w->st.disk_bytes + want > w->o.max_bytes;
	}
	if (full) {
		rc = OTF_E_NOSPACE;
		goto out;
	}
	uint64_t n = s->n ? s->n + 1 : 1;
	if ((rc = bits_grow(s, n, false)))
		goto out;
	uint64_t nid = w->next_id;
	if ((rc = write_record(w, OTF_WAL_APPEND, nid, parts, nparts, (uint32_t)len)))
		goto out;
	if (!s->n)
		s->first = nid;
	s->n = n;
	s->live++;
	w->next_id++;
	w->st.pending++;
	*id = nid;
	*sync_token = w->write_seq;
out:
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int otf_wal_sync(otf_wal_t *w, uint64_t token)
{
	pthread_mutex_lock(&w->mu);
	if (token > w->write_seq)
		token = w->write_seq; /* nothing past what was written */
	while (token > w->synced_seq)
		(void)sync_now(w);
	int rc = outcome(w, token);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void otf_wal_sync_request(otf_wal_t *w, uint64_t token)
{
	pthread_mutex_lock(&w->mu);
	if (token > w->write_seq)
		token = w->write_seq;
	if (token > w->synced_seq) {
		if (token > w->want_seq)
			w->want_seq = token;
		if (!w->thr_on && !pthread_create(&w->thr, NULL, sync_main, w))
			w->thr_on = true;
		if (w->thr_on)
			pthread_cond_signal(&w->cv);
		else
			(void)sync_now(w); /* no thread: at once, as otf_wal_sync */
	}
	pthread_mutex_unlock(&w->mu);
}

bool otf_wal_sync_poll(otf_wal_t *w, uint64_t token, int *rc)
{
	pthread_mutex_lock(&w->mu);
	bool done = token <= w->synced_seq;
	if (done)
		*rc = outcome(w, token);
	pthread_mutex_unlock(&w->mu);
	return done;
}

int otf_wal_ack(otf_wal_t *w, uint64_t id)
{
	pthread_mutex_lock(&w->mu);
	int rc = OTF_E_NOT_FOUND;
	seg_t *s = seg_of(w, id);
	if (s && !bit_get(s, id - s->first)) {
		/* When the ACK cannot be written the record is consumed here all
		 * the same; a restart replays it once more (a duplicate). */
		rc = w->fd >= 0 ? write_record(w, OTF_WAL_ACK, id, NULL, 0, 0) : OTF_E_IO;
		ack_bit(w, s, id);
		delete_consumed(w);
		w->st.segments = w->nsegs;
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void otf_wal_stats(otf_wal_t *w, otf_wal_stats_t *st)
{
	pthread_mutex_lock(&w->mu);
	*st = w->st;
	pthread_mutex_unlock(&w->mu);
}

void otf_wal_close(otf_wal_t *w)
{
	if (!w)
		return;
	if (w->thr_on) {
		pthread_mutex_lock(&w->mu);
		w->stop = true;
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thr, NULL);
	}
	if (w->fd >= 0) {
		if (w->o.fsync && w->synced_seq < w->write_seq)
			(void)fdatasync(w->fd);
		close(w->fd);
	}
	if (w->lockfd >= 0)
		close(w->lockfd);
	if (w->dirfd >= 0)
		close(w->dirfd);
	for (size_t i = 0; i < w->nsegs; i++)
		otf_free(w->segs[i].acked);
	otf_free(w->segs);
	for (size_t i = 0; i < w->nrecs; i++)
		otf_free(w->recs[i].data);
	otf_free(w->recs);
	otf_free(w->dir);
	pthread_cond_destroy(&w->cv);
	pthread_cond_destroy(&w->cv_idle);
	pthread_mutex_destroy(&w->mu);
	otf_free(w);
}
