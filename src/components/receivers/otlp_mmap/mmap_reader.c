/* otlp-mmap file reader, format version 1: see mmap_reader.h. */
#include "mmap_reader.h"

#include "mmap_guard.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Sequence numbers past this are not a real producer's (2^62 records):
 * such indices make the file unreadable instead of overflowing. */
#define MAX_SEQ ((int64_t)1 << 62)

/* Remaps per epoch before growth is refused (a doubling dictionary needs
 * a few dozen at most; a file grown byte by byte would exhaust mappings). */
#define MAX_OLD_MAPS 64
/* Largest slot accepted: records are copied into a buffer of this size. */
#define MAX_SLOT ((uint64_t)16 << 20)

static const char *const k_ring_names[OTF_MMR_RINGS] = {"events", "spans", "measurements"};

const char *otf__mmr_ring_name(int ring)
{
	return ring >= 0 && ring < OTF_MMR_RINGS ? k_ring_names[ring] : "?";
}

static int64_t ld64(const otf__mmr_t *r, uint64_t off)
{
	return __atomic_load_n((const int64_t *)(const void *)(r->map + off), __ATOMIC_ACQUIRE);
}

int otf__mmr_open_fd(otf__mmr_t *r, int fd, uint64_t hole_timeout_ns)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->hole_timeout_ns = hole_timeout_ns;
	snprintf(r->why, sizeof r->why, "not checked yet");
	return 0;
}

int otf__mmr_open(otf__mmr_t *r, const char *path, uint64_t hole_timeout_ns)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return OTF_E_INVAL;
	}
	return otf__mmr_open_fd(r, fd, hole_timeout_ns);
}

static void unmap(void *p, size_t len)
{
	otf__mmg_unregister(p);
	munmap(p, len);
}

static void drop_old(otf__mmr_t *r)
{
	for (size_t i = 0; i < r->old_len; i++)
		unmap(r->old[i].p, r->old[i].len);
	r->old_len = 0;
}

bool otf__mmr_corrupt(const otf__mmr_t *r)
{
	return r->corrupt || r->fault;
}

void otf__mmr_close(otf__mmr_t *r)
{
	drop_old(r);
	otf_free(r->old);
	if (r->map)
		unmap(r->map, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof *r);
	r->fd = -1;
}

/* Maps the file at its current size when that differs from the mapping.
 * Returns 1 remapped, 0 unchanged, negative on failure. */
static int remap(otf__mmr_t *r)
{
	struct stat st;
	if (fstat(r->fd, &st))
		return -errno;
	if (st.st_size < 0 || (uint64_t)st.st_size == r->map_len)
		return 0;
	/* No producer shrinks a mapped file (they only grow the dictionary):
	 * pages we hold pointers into are gone. */
	if (r->map && (uint64_t)st.st_size < r->map_len)
		return OTF_E_TRUNCATED;
	if (st.st_size == 0) {
		if (r->map)
			unmap(r->map, r->map_len);
		drop_old(r);
		r->map = NULL;
		r->map_len = 0;
		return 1;
	}
	if (r->map && r->old_len >= MAX_OLD_MAPS)
		return OTF_E_TOO_LARGE;
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (otf__mmg_register(p, (size_t)st.st_size, &r->fault)) {
		munmap(p, (size_t)st.st_size);
		return OTF_E_TOO_LARGE;
	}
	if (r->map) {
		if (r->old_len == r->old_cap) {
			size_t cap = r->old_cap ? r->old_cap * 2 : 4;
			otf__mmr_map_t *o = otf_realloc(r->old, cap * sizeof *o);
			if (!o) {
				unmap(p, (size_t)st.st_size);
				return OTF_E_NOMEM;
			}
			r->old = o;
			r->old_cap = cap;
		}
		r->old[r->old_len++] = (otf__mmr_map_t){r->map, r->map_len};
	}
	r->map = p;
	r->map_len = (size_t)st.st_size;
	return 1;
}

static otf__mmr_state_t not_ready(otf__mmr_t *r, otf__mmr_state_t s, const char *why)
{
	r->ready = false;
	if (why != r->why)
		snprintf(r->why, sizeof r->why, "%s", why);
	return s;
}

/* Validates the ring at off whose section ends at limit. */
static bool ring_ok(otf__mmr_t *r, int i, uint64_t off, uint64_t limit, bool *uninit)
{
	otf__mmr_ring_t *g = &r->ring[i];
	if (off % 8 || limit < off || limit - off < 32) {
		snprintf(r->why, sizeof r->why, "%s ring: bad offset %llu", k_ring_names[i],
		         (unsigned long long)off);
		return false;
	}
	int64_t n = ld64(r, off), b = ld64(r, off + 8);
	if (n == 0 || b == 0) {
		*uninit = true;
		snprintf(r->why, sizeof r->why, "%s ring not initialised", k_ring_names[i]);
		return false;
	}
	uint64_t room = limit - off - 32;
	if (n < 1 || (n & (n - 1)) || b < 1 || (uint64_t)b > MAX_SLOT || (uint64_t)n > room / 4 ||
	    (uint64_t)b > (room - 4 * (uint64_t)n) / (uint64_t)n) {
		snprintf(r->why, sizeof r->why,
		         "%s ring: num_buffers %lld / buffer_size %lld do not fit its %llu bytes",
		         k_ring_names[i], (long long)n, (long long)b, (unsigned long long)room);
		return false;
	}
	g->off = off;
	g->n = (uint64_t)n;
	g->b = (uint64_t)b;
	g->shift = (uint32_t)__builtin_ctzll((uint64_t)n);
	return true;
}

otf__mmr_state_t otf__mmr_check(otf__mmr_t *r)
{
	if (otf__mmr_corrupt(r))
		return not_ready(r, OTF_MMR_BAD, "the file shrank while mapped (corrupt)");
	int rc = remap(r);
	if (rc == OTF_E_TRUNCATED || r->fault) {
		r->corrupt = true;
		return not_ready(r, OTF_MMR_BAD, "the file shrank while mapped (corrupt)");
	}
	if (rc < 0)
		return not_ready(r, OTF_MMR_BAD, "cannot map the file");
	if (r->map_len < OTF_MMR_HEADER_SIZE + 32)
		return not_ready(r, OTF_MMR_NOT_READY, "file shorter than its header");
	int64_t version = ld64(r, 0);
	r->version = version;
	if (version == 0)
		return not_ready(r, OTF_MMR_NOT_READY, "header not initialised (version 0)");
	if (version != OTF_MMR_VERSION && version != OTF_MMR_VERSION_AGG) {
		char why[64];
		snprintf(why, sizeof why, "unsupported format version %lld", (long long)version);
		return not_ready(r, OTF_MMR_BAD, why);
	}
	uint64_t epoch = (uint64_t)ld64(r, 40);
	uint64_t off[4];
	for (int i = 0; i < 4; i++)
		off[i] = (uint64_t)ld64(r, 8 + 8 * (uint64_t)i);
	/* Version 1001: an aggregation section between the measurements ring
	 * and the dictionary (docs/mmap-protocol.md section 7). */
	uint64_t agg = version == OTF_MMR_VERSION_AGG ? (uint64_t)ld64(r, 48) : 0;
	uint64_t agg_size = version == OTF_MMR_VERSION_AGG ? (uint64_t)ld64(r, 56) : 0;
	if (r->ready && epoch == r->epoch && off[3] == r->dict_off && r->dict_off <= r->map_len) {
		bool same = true;
		for (int i = 0; i < OTF_MMR_RINGS && same; i++)
			same = off[i] == r->ring[i].off &&
			       (uint64_t)ld64(r, off[i]) == r->ring[i].n &&
			       (uint64_t)ld64(r, off[i] + 8) == r->ring[i].b;
		if (same) {
			/* A cursor moved by someone else: follow it. */
			for (int i = 0; i < OTF_MMR_RINGS; i++) {
				otf__mmr_ring_t *g = &r->ring[i];
				int64_t ri = ld64(r, g->off + 16);
				if (ri < -1 || ri > MAX_SEQ)
					return not_ready(r, OTF_MMR_BAD,
					                 "reader_index out of range");
				if (ri != g->stored) {
					g->resets++;
					g->stored = ri;
					g->next = ri + 1;
					g->hole_seq = -1;
				}
			}
			return OTF_MMR_OK;
		}
	}
	/* (Re)attach: validate the whole layout. */
	bool uninit = false;
	uint64_t dict = off[3];
	if (dict % 8 || dict > r->map_len || r->map_len - dict < OTF_MMR_DICT_HEADER ||
	    off[0] < OTF_MMR_HEADER_SIZE || !(off[0] < off[1] && off[1] < off[2] && off[2] < dict))
		return not_ready(r, OTF_MMR_BAD, "section offsets out of order or past the file");
	if (agg && (agg % 8 || agg <= off[2] || agg > dict || agg_size > dict - agg))
		return not_ready(r, OTF_MMR_BAD, "aggregation section outside its place");
	for (int i = 0; i < OTF_MMR_RINGS; i++)
		if (!ring_ok(r, i, off[i], i == 2 && agg ? agg : off[i + 1], &uninit))
			return not_ready(r, uninit ? OTF_MMR_NOT_READY : OTF_MMR_BAD, r->why);
	r->agg_off = agg;
	r->agg_size = agg_size;
	if (r->ready)
		r->epoch_changes++;
	if (epoch != r->epoch || !r->lock_seen) {
		/* A new producer: does it hold libotmmap's lock? (It takes the
		 * lock before it initialises the file, so it holds it by now.) */
		r->lock_seen = flock(r->fd, LOCK_SH | LOCK_NB) != 0;
		if (!r->lock_seen)
			flock(r->fd, LOCK_UN);
	}
	r->dict_off = dict;
	r->epoch = epoch;
	for (int i = 0; i < OTF_MMR_RINGS; i++) {
		otf__mmr_ring_t *g = &r->ring[i];
		int64_t ri = ld64(r, g->off + 16);
		if (ri < -1 || ri > MAX_SEQ)
			return not_ready(r, OTF_MMR_BAD, "reader_index out of range");
		g->stored = ri;
		g->next = ri + 1;
		g->hole_seq = -1;
	}
	r->ready = true;
	r->why[0] = 0;
	return OTF_MMR_NEW_EPOCH;
}

static inline const int32_t *avail(const otf__mmr_t *r, const otf__mmr_ring_t *g, uint64_t slot)
{
	return (const int32_t *)(const void *)(r->map + g->off + 32) + slot;
}

static inline bool published(const otf__mmr_t *r, const otf__mmr_ring_t *g, uint64_t seq)
{
	int32_t a = __atomic_load_n(avail(r, g, seq & (g->n - 1)), __ATOMIC_ACQUIRE);
	return a == otf__mmr_flag(seq, g->shift) ||
	       a == (int32_t)(((uint32_t)seq) >> g->shift); /* the Rust reader's form */
}

bool otf__mmr_available(const otf__mmr_t *r, int ring)
{
	if (!r->ready)
		return false;
	const otf__mmr_ring_t *g = &r->ring[ring];
	return g->next >= 0 && published(r, g, (uint64_t)g->next) && !r->fault;
}

/* libotmmap holds flock(LOCK_EX) for its whole life: once that lock was
 * seen held, a shared lock that can be taken means its producer is gone
 * and a hole will never be filled. The probe is released at once. The
 * original SDKs take no lock at all, so "no lock held" alone says nothing:
 * a writer descheduled between claim and publish is alive, and only the
 * full hole_timeout tells it from a dead one. */
static bool producer_gone(otf__mmr_t *r)
{
	if (flock(r->fd, LOCK_SH | LOCK_NB)) {
		r->lock_seen = true;
		return false;
	}
	flock(r->fd, LOCK_UN);
	return r->lock_seen;
}

int otf__mmr_next(otf__mmr_t *r, int ring, uint64_t now_ns, uint8_t *buf, size_t cap, size_t *len)
{
	otf__mmr_ring_t *g = &r->ring[ring];
	if (!r->ready || g->next < 0)
		return OTF_MMR_EMPTY;
	uint64_t seq = (uint64_t)g->next;
	if (!published(r, g, seq)) {
		int64_t w = ld64(r, g->off + 24);
		if (w < (int64_t)seq || w > MAX_SEQ)
			return OTF_MMR_EMPTY; /* nothing claimed: the ring is drained */
		if ((uint64_t)w - seq >= g->n) {
			/* The writer is a lap or more ahead, which a writer honouring
			 * capacity never is: what we missed is gone. */
			uint64_t to = (uint64_t)w - g->n + 1;
			g->holes += to - seq;
			g->next = (int64_t)to;
			g->hole_seq = -1;
			return OTF_MMR_SKIP;
		}
		if (g->hole_seq != (int64_t)seq) {
			g->hole_seq = (int64_t)seq;
			g->hole_since_ns = now_ns;
			return OTF_MMR_EMPTY;
		}
		if (now_ns - g->hole_since_ns < r->hole_timeout_ns && !producer_gone(r))
			return OTF_MMR_EMPTY;
		/* Claimed and never published: its producer died between claim
		 * and publish (or gave up). Skip it. */
		g->holes++;
		g->next++;
		g->hole_seq = -1;
		return OTF_MMR_SKIP;
	}
	g->hole_seq = -1;
	const uint8_t *s = r->map + g->off + 32 + 4 * g->n + (seq & (g->n - 1)) * g->b;
	const uint8_t *e = s + g->b;
	uint64_t l = 0;
	unsigned shift = 0;
	const uint8_t *p = s;
	bool ok = false;
	while (p < e && shift < 64) {
		uint8_t c = *p++;
		l |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			ok = true;
			break;
		}
		shift += 7;
	}
	g->next++;
	if (!ok || l > (uint64_t)(e - p) || l > cap) {
		g->undecodable++;
		return OTF_MMR_SKIP;
	}
	memcpy(buf, p, (size_t)l);
	if (r->fault) {
		r->corrupt = true; /* the copy may hold zeros of a vanished page */
		not_ready(r, OTF_MMR_BAD, "the file shrank while mapped (corrupt)");
		return OTF_MMR_EMPTY;
	}
	*len = (size_t)l;
	g->read++;
	return OTF_MMR_REC;
}

void otf__mmr_commit(otf__mmr_t *r, int ring, int64_t seq)
{
	otf__mmr_ring_t *g = &r->ring[ring];
	if (!r->ready || seq <= g->stored || r->map_len < g->off + 32)
		return;
	__atomic_store_n((int64_t *)(void *)(r->map + g->off + 16), seq, __ATOMIC_RELEASE);
	g->stored = seq;
}

int64_t otf__mmr_reader_index(const otf__mmr_t *r, int ring)
{
	return r->ready ? ld64(r, r->ring[ring].off + 16) : -1;
}

int64_t otf__mmr_writer_index(const otf__mmr_t *r, int ring)
{
	return r->ready ? ld64(r, r->ring[ring].off + 24) : -1;
}

int64_t otf__mmr_dict_end(const otf__mmr_t *r)
{
	return r->ready ? ld64(r, r->dict_off) : 0;
}

int64_t otf__mmr_dict_entries(const otf__mmr_t *r)
{
	return r->ready ? ld64(r, r->dict_off + 8) : 0;
}

uint64_t otf__mmr_drops(const otf__mmr_t *r, int i)
{
	return r->ready && i >= 0 && i < 4 ? (uint64_t)ld64(r, r->dict_off + 16 + 8 * (uint64_t)i)
	                                   : 0;
}

static int dict_read(const otf__mmr_t *r, uint64_t ref, const uint8_t **out, size_t *len)
{
	if (ref >= r->map_len)
		return OTF_E_TRUNCATED;
	const uint8_t *p = r->map + ref, *e = r->map + r->map_len;
	uint64_t l = 0;
	unsigned shift = 0;
	for (;;) {
		if (p >= e)
			return OTF_E_TRUNCATED;
		if (shift >= 64)
			return OTF_E_VARINT;
		uint8_t c = *p++;
		l |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			break;
		shift += 7;
	}
	if (l > (uint64_t)(e - p))
		return OTF_E_TRUNCATED;
	*out = p;
	*len = (size_t)l;
	return 0;
}

int otf__mmr_dict(otf__mmr_t *r, int64_t ref, const uint8_t **p, size_t *len)
{
	if (ref == 0) {
		static const uint8_t empty[1];
		*p = empty;
		*len = 0;
		return 0;
	}
	if (!r->ready || ref < 0 || (uint64_t)ref < r->dict_off + OTF_MMR_DICT_HEADER)
		return OTF_E_NOT_FOUND;
	int64_t end = otf__mmr_dict_end(r);
	if (end > 0 && ref >= end)
		return OTF_E_NOT_FOUND; /* not reserved by any writer */
	int rc = dict_read(r, (uint64_t)ref, p, len);
	if (rc == OTF_E_TRUNCATED && remap(r) == 1)
		rc = dict_read(r, (uint64_t)ref, p, len);
	if (r->fault)
		return OTF_E_NOT_FOUND;
	if (rc)
		return OTF_E_LENGTH;
	/* An entry runs inside what writers reserved. */
	if (end > 0 && (uint64_t)(*p - r->map) + *len > (uint64_t)end)
		return OTF_E_LENGTH;
	return 0;
}
