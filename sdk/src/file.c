/* The file: options, layout, creation/re-initialisation in place, mapping, stats, close.
 * Layout and init order: docs/mmap-protocol.md sections 2-4 and 7. */
#include "otmm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static __thread int last_errno __attribute__((tls_model("initial-exec")));

int otmm_last_errno(void)
{
	return last_errno;
}

const char *otmm_strerror(int err)
{
	switch (err) {
	case OTMM_OK:
		return "ok";
	case OTMM_E_INVAL:
		return "invalid argument";
	case OTMM_E_IO:
		return "file or mapping error";
	case OTMM_E_BUSY:
		return "file held by another producer";
	case OTMM_E_FULL:
		return "ring full: record dropped";
	case OTMM_E_TOO_BIG:
		return "record larger than a slot: dropped";
	case OTMM_E_DICT_FULL:
		return "dictionary full: record dropped";
	case OTMM_E_NOMEM:
		return "out of memory at open";
	case OTMM_E_LIMIT:
		return "fixed limit reached";
	case OTMM_E_STATE:
		return "wrong state";
	default:
		return "unknown error";
	}
}

void otmm_options_init(otmm_options_t *o)
{
	memset(o, 0, sizeof(*o));
	o->events_slots = o->spans_slots = o->measurements_slots = 1024;
	o->events_slot_size = o->spans_slot_size = o->measurements_slot_size = 512;
	o->dictionary_size = 64 << 10;
	o->dictionary_max = 64 << 20;
	o->intern_capacity = 4096;
	o->spin_ns = 5000;
	o->cells = 1024;
	o->cell_size = 256;
}

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static bool ring_ok(uint32_t n, uint32_t b)
{
	return pow2(n) && n >= 8 && n <= (1u << 30) && b % 8 == 0 && b >= 64 &&
	       b <= OTMM_MAX_RECORD;
}

static uint64_t ring_bytes(uint32_t n, uint32_t b)
{
	return RING_HDR_SIZE + 4ull * n + (uint64_t)n * b;
}

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

static void ring_init(otmm_t *m, int idx, uint64_t off, uint32_t n, uint32_t b)
{
	otmm_ring_t *r = &m->rings[idx];
	uint8_t *base = otmm__at(m, off);
	int64_t *hdr = (int64_t *)(void *)base;
	hdr[0] = n;
	hdr[1] = b;
	r->base = base;
	r->reader = (_Atomic int64_t *)(void *)(base + 16);
	r->writer = (_Atomic int64_t *)(void *)(base + 24);
	r->avail = (_Atomic int32_t *)(void *)(base + RING_HDR_SIZE);
	r->slots = base + RING_HDR_SIZE + 4ull * n;
	r->n = n;
	r->mask = n - 1;
	r->slot_size = b;
	r->shift = (uint32_t)__builtin_ctzll(n);
	atomic_store_explicit(r->reader, -1, memory_order_relaxed);
	atomic_store_explicit(r->writer, -1, memory_order_relaxed);
	memset((void *)r->avail, 0xff, 4ull * n); /* -1: matches no lap */
	r->dropped = (_Atomic uint64_t *)(void *)otmm__at(m, m->dict_off + D_DROPPED + 8ull * idx);
}

/* fallocate so that pages exist (a write into a hole on a full disk would SIGBUS); filesystems
 * without it get a sparse ftruncate. */
static int grow_to(int fd, uint64_t from, uint64_t to)
{
	if (to <= from)
		return 0;
	if (fallocate(fd, 0, (off_t)from, (off_t)(to - from)) == 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != ENOSYS)
		return -errno;
	return ftruncate(fd, (off_t)to) == 0 ? 0 : -errno;
}

int otmm__ensure_file(otmm_t *m, uint64_t end)
{
	if (end <= atomic_load_explicit(&m->fsize, memory_order_acquire))
		return 0;
	int rc = 0;
	pthread_mutex_lock(&m->grow_mu);
	uint64_t cur = atomic_load_explicit(&m->fsize, memory_order_relaxed);
	if (end > cur) {
		uint64_t want = cur * 2 > end ? cur * 2 : end;
		want = round_up(want, 65536);
		if (want > m->map_len)
			want = m->map_len;
		rc = grow_to(m->fd, cur, want);
		if (rc == 0)
			atomic_store_explicit(&m->fsize, want, memory_order_release);
	}
	pthread_mutex_unlock(&m->grow_mu);
	return rc == 0 ? 0 : OTMM_E_DICT_FULL;
}

static int write_resource(otmm_t *m, const otmm_attr_t *attrs, size_t n)
{
	uint8_t buf[OTMM_MAX_RECORD];
	pbw_t w;
	pbw_init(&w, buf, sizeof(buf));
	int rc = otmm__enc_attrs(m, &w, 1, attrs, n);
	if (rc < 0)
		return rc;
	if (w.bad)
		return OTMM_E_TOO_BIG;
	int64_t ref = otmm__intern(m, w.p, pbw_len(&w));
	if (ref < 0)
		return (int)ref;
	m->resource_ref = ref;
	return 0;
}

static int fail_io(otmm_t *m, int err)
{
	last_errno = err;
	if (m->map && m->map != MAP_FAILED)
		munmap(m->map, m->map_len);
	if (m->fd >= 0)
		close(m->fd);
	free(m->intern);
	free(m->series);
	free(m);
	return OTMM_E_IO;
}

int otmm_open(const char *path, const otmm_options_t *opt, otmm_t **out)
{
	otmm_options_t def;
	if (!opt) {
		otmm_options_init(&def);
		opt = &def;
	}
	if (!path || !out || !ring_ok(opt->events_slots, opt->events_slot_size) ||
	    !ring_ok(opt->spans_slots, opt->spans_slot_size) ||
	    !ring_ok(opt->measurements_slots, opt->measurements_slot_size) ||
	    !pow2(opt->intern_capacity) || opt->dictionary_max < opt->dictionary_size ||
	    opt->dictionary_max < 4096 || (opt->n_resource_attrs && !opt->resource_attrs))
		return OTMM_E_INVAL;
	if (opt->aggregate && (opt->cells == 0 || opt->cell_size < 128 || opt->cell_size % 64))
		return OTMM_E_INVAL;
	*out = NULL;

	uint64_t ev = HDR_SIZE;
	uint64_t sp = ev + ring_bytes(opt->events_slots, opt->events_slot_size);
	uint64_t me = sp + ring_bytes(opt->spans_slots, opt->spans_slot_size);
	uint64_t ag = me + ring_bytes(opt->measurements_slots, opt->measurements_slot_size);
	uint64_t ag_size =
	    opt->aggregate ? AGG_HDR_SIZE + (uint64_t)opt->cells * opt->cell_size : 0;
	uint64_t di = ag + ag_size;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t init_size = round_up(di + DICT_HDR_SIZE + opt->dictionary_size, (uint64_t)page);
	uint64_t max_size = round_up(di + DICT_HDR_SIZE + opt->dictionary_max, (uint64_t)page);

	otmm_t *m = calloc(1, sizeof(*m));
	if (!m)
		return OTMM_E_NOMEM;
	m->fd = -1;
	m->intern = calloc(opt->intern_capacity, sizeof(*m->intern));
	m->series = calloc(opt->intern_capacity, sizeof(*m->series));
	if (!m->intern || !m->series) {
		free(m->intern);
		free(m->series);
		free(m);
		return OTMM_E_NOMEM;
	}
	m->index_mask = opt->intern_capacity - 1;
	m->spin_ns = opt->spin_ns;
	m->version = opt->aggregate ? OTMM_FORMAT_AGGREGATED : OTMM_FORMAT_V1;
	pthread_mutex_init(&m->grow_mu, NULL);
	pthread_mutex_init(&m->cb_mu, NULL);

	m->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (m->fd < 0)
		return fail_io(m, errno);
	(void)fchmod(m->fd, 0600); /* an existing file keeps no wider mode */
	if (flock(m->fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		fail_io(m, e);
		return e == EWOULDBLOCK ? OTMM_E_BUSY : OTMM_E_IO;
	}
	struct stat st;
	if (fstat(m->fd, &st) != 0)
		return fail_io(m, errno);
	uint64_t old = (uint64_t)st.st_size;
	/* never shrink: a reader may have the old size mapped */
	uint64_t fsize = old > init_size ? old : init_size;
	if (fsize > max_size)
		max_size = round_up(fsize, (uint64_t)page);
	m->map_len = max_size;
	m->map = mmap(NULL, m->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (m->map == MAP_FAILED)
		return fail_io(m, errno);

	_Atomic int64_t *version = (_Atomic int64_t *)(void *)otmm__at(m, H_VERSION);
	_Atomic uint64_t *epoch = (_Atomic uint64_t *)(void *)otmm__at(m, H_EPOCH);
	uint64_t old_epoch = 0;
	if (old >= HDR_SIZE) {
		atomic_store_explicit(version, 0, memory_order_release);
		old_epoch = atomic_load_explicit(epoch, memory_order_relaxed);
	}
	int rc = grow_to(m->fd, old < fsize ? old : fsize, fsize);
	if (rc < 0)
		return fail_io(m, -rc);
	atomic_store_explicit(&m->fsize, fsize, memory_order_relaxed);

	int64_t *h = (int64_t *)(void *)m->map;
	h[1] = (int64_t)ev;
	h[2] = (int64_t)sp;
	h[3] = (int64_t)me;
	h[4] = (int64_t)di;
	h[6] = opt->aggregate ? (int64_t)ag : 0;
	h[7] = (int64_t)ag_size;
	m->dict_off = di;
	m->dict_limit = m->map_len;
	uint8_t *dh = otmm__at(m, di);
	memset(dh, 0, DICT_HDR_SIZE);
	m->dict_end = (_Atomic int64_t *)(void *)(dh + D_END);
	m->dict_entries = (_Atomic int64_t *)(void *)(dh + D_ENTRIES);
	m->dict_refused = (_Atomic uint64_t *)(void *)(dh + D_REFUSED);
	atomic_store_explicit(m->dict_end, (int64_t)(di + DICT_HDR_SIZE), memory_order_relaxed);
	*(int64_t *)(void *)(dh + D_PID) = (int64_t)getpid();
	ring_init(m, RING_EVENTS, ev, opt->events_slots, opt->events_slot_size);
	ring_init(m, RING_SPANS, sp, opt->spans_slots, opt->spans_slot_size);
	ring_init(m, RING_MEASUREMENTS, me, opt->measurements_slots, opt->measurements_slot_size);
	if (opt->aggregate) {
		m->agg = otmm__at(m, ag);
		m->ncells = opt->cells;
		m->cell_size = opt->cell_size;
		otmm__agg_init(m);
	}
	rc = write_resource(m, opt->resource_attrs, opt->n_resource_attrs);
	if (rc < 0) {
		otmm_close(m);
		return rc;
	}
	uint64_t now = otmm_now();
	atomic_store_explicit(epoch, now > old_epoch ? now : old_epoch + 1, memory_order_release);
	atomic_store_explicit(version, m->version, memory_order_release);
	*out = m;
	return 0;
}

void otmm_close(otmm_t *m)
{
	if (!m)
		return;
	munmap(m->map, m->map_len);
	close(m->fd);
	pthread_mutex_destroy(&m->grow_mu);
	pthread_mutex_destroy(&m->cb_mu);
	free(m->intern);
	free(m->series);
	free(m);
}

int otmm_flush(otmm_t *m)
{
	if (!m)
		return OTMM_E_INVAL;
	uint64_t n = atomic_load_explicit(&m->fsize, memory_order_acquire);
	return msync(m->map, n, MS_SYNC) == 0 ? 0 : OTMM_E_IO;
}

int otmm_stats(const otmm_t *m, otmm_stats_t *s)
{
	if (!m || !s)
		return OTMM_E_INVAL;
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 3; i++) {
		s->written[i] = (uint64_t)(atomic_load(m->rings[i].writer) + 1);
		s->dropped[i] = atomic_load(m->rings[i].dropped);
	}
	s->dictionary_bytes = (uint64_t)atomic_load(m->dict_end) - m->dict_off - DICT_HDR_SIZE;
	s->dictionary_entries = (uint64_t)atomic_load(m->dict_entries);
	s->dictionary_refused = atomic_load(m->dict_refused);
	if (m->agg) {
		uint64_t used = atomic_load((_Atomic uint64_t *)(void *)(m->agg + A_USED));
		s->cells_used = used < m->ncells ? used : m->ncells;
		s->cells_refused = atomic_load((_Atomic uint64_t *)(void *)(m->agg + A_REFUSED));
	}
	s->version = m->version;
	s->epoch = ((const uint64_t *)(const void *)m->map)[H_EPOCH / 8];
	return 0;
}

int otmm_register_callback(otmm_t *m, otmm_callback_fn fn, void *arg)
{
	if (!m || !fn)
		return OTMM_E_INVAL;
	int rc = OTMM_E_LIMIT;
	pthread_mutex_lock(&m->cb_mu);
	if (m->n_cb < OTMM_MAX_CALLBACKS) {
		m->cb_fn[m->n_cb] = fn;
		m->cb_arg[m->n_cb] = arg;
		m->n_cb++;
		rc = 0;
	}
	pthread_mutex_unlock(&m->cb_mu);
	return rc;
}

int otmm_collect(otmm_t *m)
{
	if (!m)
		return OTMM_E_INVAL;
	pthread_mutex_lock(&m->cb_mu);
	for (int i = 0; i < m->n_cb; i++)
		m->cb_fn[i](m->cb_arg[i]);
	pthread_mutex_unlock(&m->cb_mu);
	return 0;
}
