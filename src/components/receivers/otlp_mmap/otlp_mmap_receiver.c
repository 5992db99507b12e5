/* receiver `otlp_mmap`: drains otlp-mmap files (format version 1) written
 * by libotmmap or the original project's SDKs (docs/mmap-protocol.md,
 * "Reader (otlp_mmap receiver)").
 *
 * Threads: every worker runs an instance, but only worker 0's reads; the
 * others stay idle, because a file has exactly one consumer (the format's
 * single reader_index). The reader runs on worker 0's loop from a timer:
 * each tick drains up to max_batch records per ring and file, sends the
 * requests, and reschedules itself at once while data flows; when the
 * files are quiet it spins briefly (wait.spin checks of the rings'
 * availability words), re-polls on the next loop turns (wait.yield), then
 * sleeps from wait.min_sleep doubling to wait.max_sleep, so idle CPU stays
 * far below 1% of a core.
 *
 * Delivery: at_most_once stores each ring's reader_index right after the
 * records are read and encoded. at_least_once stores it only when every
 * request of a cut is acknowledged and the open spans of that cut are
 * checkpointed next to the file; NACKed requests are resent (retryable)
 * or dropped (permanent). Measurements are committed only when the metric
 * export that aggregated them is acknowledged (no aggregation state is
 * checkpointed: a restart restarts cumulative series with a new start
 * time and loses no measurement).
 *
 * Files: every scan_interval the path is looked at again and files are
 * followed by inode, because a name can be re-used by another file while
 * the old one is still mapped: an unlinked or replaced file is drained
 * and then closed (its disk and address space released); a file that
 * shrank under the reader (corrupt) is closed at once and opened again by
 * the next scan. Loss before the pipeline is counted (otlp_mmap_obs.h). */
#include "mmap_ckpt.h"
#include "mmap_drain.h"
#include "otlp_mmap_config.h"
#include "otlp_mmap_obs.h"

#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <uv.h>

#define MAX_CUTS 64
#define MAX_MSGS 64

typedef struct sent {
	otf_signal_t signal;
	otf_buf_t *payload; /* our ref, for resending */
	uint64_t items;
	bool done;
	bool resend; /* NACKed as retryable, resent from the next tick */
} sent_t;

typedef struct cut {
	uint64_t id;
	bool closed;
	int64_t pos[OTF_MMR_RINGS];
	otf_buf_t *snap;
	sent_t msgs[MAX_MSGS];
	size_t nmsgs;
} cut_t;

typedef struct mfile {
	struct mfile *next;
	uint32_t id;
	char *path;
	otf__mmd_t d;
	bool deleted; /* unlinked, replaced or corrupt: drained, then dropped */
	bool final;   /* deleted: its last cut is out */
	dev_t dev;
	ino_t ino;
	int last_rc;
	otf__mmo_file_t obs;
	cut_t cuts[MAX_CUTS]; /* ring buffer of cuts (at_least_once) */
	size_t cut_head, cut_len;
	uint64_t next_cut;
	int64_t meas_pos;                /* measurements committed at the last acked collection */
	int64_t last_pos[OTF_MMR_RINGS]; /* positions of the last closed cut */
	uint64_t last_ckpt_ns;
	otf__mmd_req_t held; /* a request the pipeline refused for now */
	bool has_held;
} mfile_t;

typedef struct mmap_receiver {
	otf_node_t *node;
	const mmap_cfg_t *cfg;
	bool active, closing, is_dir;
	uv_timer_t *timer;
	uv_idle_t *soon; /* "poll again on the next loop turn" (see reschedule) */
	mfile_t *files;
	uint32_t next_id;
	uint64_t idle;
	uint64_t last_scan_ns, last_collect_ns;
	uint64_t retry_at_ns;
	otf__mmo_t obs;
} mmap_receiver_t;

static uint64_t wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool alo(const mmap_receiver_t *r)
{
	return r->cfg->delivery == 1;
}

static mfile_t *file_add(mmap_receiver_t *r, const char *path)
{
	mfile_t *f = otf_calloc(1, sizeof *f);
	if (!f || !(f->path = otf_strndup(path, strlen(path)))) {
		otf_free(f);
		return NULL;
	}
	otf__mmd_opts_t o;
	otf__mmd_opts_default(&o);
	o.hole_timeout_ns = (uint64_t)r->cfg->hole_timeout_ns;
	o.span_ttl_ns = (uint64_t)r->cfg->span_ttl_ns;
	o.max_open_spans = (size_t)r->cfg->max_open_spans;
	o.max_series = (size_t)r->cfg->metrics.max_series;
	o.max_batch = (size_t)r->cfg->max_batch;
	o.temporality = r->cfg->metrics.temporality;
	otf__mmd_init(&f->d, &o);
	int rc = otf__mmd_open(&f->d, path);
	struct stat st;
	if (!rc && fstat(f->d.r.fd, &st))
		rc = -errno;
	if (rc) {
		otf__mmd_close(&f->d);
		otf_free(f->path);
		otf_free(f);
		return NULL;
	}
	/* Followed by inode: a file replaced under the same name is another
	 * file (track). */
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->id = ++r->next_id & 0xffffff;
	f->meas_pos = -2;
	f->next = r->files;
	r->files = f;
	otf_node_log(r->node, OTF_LOG_INFO, "draining %s", path);
	return f;
}

static void cuts_free(mfile_t *f)
{
	for (size_t k = 0; k < f->cut_len; k++) {
		cut_t *c = &f->cuts[(f->cut_head + k) % MAX_CUTS];
		for (size_t i = 0; i < c->nmsgs; i++)
			otf_buf_unref(c->msgs[i].payload);
		otf_buf_unref(c->snap);
	}
	f->cut_len = 0;
}

static void file_free(mfile_t *f)
{
	cuts_free(f);
	if (f->has_held)
		otf_buf_unref(f->held.payload);
	otf__mmd_close(&f->d);
	otf_free(f->path);
	otf_free(f);
}

static cut_t *cut_open(mfile_t *f)
{
	if (f->cut_len && !f->cuts[(f->cut_head + f->cut_len - 1) % MAX_CUTS].closed)
		return &f->cuts[(f->cut_head + f->cut_len - 1) % MAX_CUTS];
	if (f->cut_len == MAX_CUTS)
		return NULL;
	cut_t *c = &f->cuts[(f->cut_head + f->cut_len++) % MAX_CUTS];
	memset(c, 0, sizeof *c);
	c->id = ++f->next_cut;
	return c;
}

static int send_req(mmap_receiver_t *r, mfile_t *f, const otf__mmd_req_t *q, uint64_t calldata)
{
	if (!otf_node_has_output(r->node, q->signal)) {
		otf_buf_unref(q->payload);
		return 1; /* nothing wired for this signal: done */
	}
	otf_msg_t *m = otf_msg_create(r->node, q->signal, otf_buf_ref(q->payload), q->items);
	if (!m)
		return OTF_E_NOMEM;
	if (alo(r) && otf_msg_subscribe(m, r->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK,
	                                ((uint64_t)f->id << 40) | calldata)) {
		otf_msg_drop(m);
		return OTF_E_NOMEM;
	}
	int rc = otf_node_send(r->node, m);
	if (rc) {
		otf_msg_drop(m);
		return rc;
	}
	if (!alo(r)) {
		otf_node_count(r->node, OTF_COUNTER_ACCEPTED, q->signal, q->items);
		otf_buf_unref(q->payload);
	}
	return 0;
}

/* Sends queued requests; false when the pipeline refused one (held). */
static bool pump(mmap_receiver_t *r, mfile_t *f)
{
	for (;;) {
		otf__mmd_req_t q;
		if (f->has_held) {
			q = f->held;
		} else if (!otf__mmd_take(&f->d, &q)) {
			return true;
		}
		f->has_held = false;
		uint64_t cd = 0;
		cut_t *c = NULL;
		if (alo(r)) {
			c = cut_open(f);
			if (!c || c->nmsgs == MAX_MSGS) {
				f->held = q;
				f->has_held = true;
				return false;
			}
			cd = (c->id << 8) | c->nmsgs;
		}
		int rc = send_req(r, f, &q, cd);
		if (rc < 0) {
			f->held = q;
			f->has_held = true;
			return false;
		}
		if (c) {
			if (rc == 1) {
				c->msgs[c->nmsgs++] = (sent_t){q.signal, NULL, q.items, true};
			} else {
				c->msgs[c->nmsgs++] = (sent_t){q.signal, q.payload, q.items, false};
			}
		}
	}
}

/* at_least_once: commits acknowledged cuts in order. */
static void settle(mmap_receiver_t *r, mfile_t *f)
{
	while (f->cut_len) {
		cut_t *c = &f->cuts[f->cut_head];
		if (!c->closed)
			return;
		for (size_t i = 0; i < c->nmsgs; i++)
			if (!c->msgs[i].done)
				return;
		if (c->snap && !f->deleted) { /* the name may be another file's now */
			int rc = otf__mmck_write(f->path, c->snap);
			if (rc) {
				otf_node_log(r->node, OTF_LOG_WARN,
				             "cannot write checkpoint of %s: %s", f->path,
				             otf_strerror(rc));
				return; /* keep the slots; retried at the next ack or tick */
			}
		}
		otf__mmd_commit(&f->d, c->pos);
		for (size_t i = 0; i < c->nmsgs; i++)
			otf_buf_unref(c->msgs[i].payload);
		otf_buf_unref(c->snap);
		f->cut_head = (f->cut_head + 1) % MAX_CUTS;
		f->cut_len--;
	}
}

static void close_cut(mmap_receiver_t *r, mfile_t *f, uint64_t mono, bool force)
{
	otf__mmd_cut(&f->d);
	if (!pump(r, f))
		return; /* the cut closes once its requests are out */
	if (!alo(r)) {
		otf__mmd_commit(&f->d, f->d.cut);
		return;
	}
	if (!force && mono - f->last_ckpt_ns < (uint64_t)r->cfg->checkpoint_interval_ns)
		return;
	int64_t pos[OTF_MMR_RINGS];
	memcpy(pos, f->d.cut, sizeof pos);
	/* Measurements are committed with the metric export that holds them. */
	pos[OTF_MMR_MEASUREMENTS] = f->meas_pos;
	bool open_cut = f->cut_len && !f->cuts[(f->cut_head + f->cut_len - 1) % MAX_CUTS].closed;
	if (!open_cut && !memcmp(pos, f->last_pos, sizeof pos))
		return; /* nothing read since the last checkpoint */
	cut_t *c = cut_open(f);
	if (!c)
		return;
	memcpy(c->pos, pos, sizeof pos);
	memcpy(f->last_pos, pos, sizeof pos);
	if (otf__mmck_snapshot(&f->d, c->pos, &c->snap))
		return;
	c->closed = true;
	f->last_ckpt_ns = mono;
	settle(r, f);
}

static void attach(mmap_receiver_t *r, mfile_t *f, uint64_t mono)
{
	/* First attach of this epoch: resume open spans from a checkpoint. */
	int64_t pos[OTF_MMR_RINGS];
	if (!alo(r))
		return;
	char why[160];
	int rc = otf__mmck_load(&f->d, f->path, pos, mono, why, sizeof why);
	if (rc == 0) {
		for (int i = 0; i < OTF_MMR_RINGS; i++) {
			otf__mmr_ring_t *g = &f->d.r.ring[i];
			if (i != OTF_MMR_MEASUREMENTS && pos[i] + 1 > g->next) {
				/* checkpointed but not committed before a crash */
				g->next = pos[i] + 1;
				otf__mmr_commit(&f->d.r, i, pos[i]);
			}
		}
		otf_node_log(r->node, OTF_LOG_INFO, "%s: resumed %zu open span(s) from checkpoint",
		             f->path, otf__mmd_open_spans(&f->d));
	} else if (rc != OTF_E_NOT_FOUND) {
		/* Positions checked against the file's indices: the file's own
		 * reader_index is the fallback. */
		otf__mmo_add(&r->obs, &f->obs, OTF_MMO_CKPT_REFUSED, 1);
		otf_node_log(r->node, OTF_LOG_WARN,
		             "%s: checkpoint refused (%s); resuming at the file's reader index",
		             f->path, rc == OTF_E_INVAL ? why : otf_strerror(rc));
	}
	f->meas_pos = f->d.r.ring[OTF_MMR_MEASUREMENTS].next - 1;
}

/* Sends again what was NACKed as retryable; false while refused. */
static bool resend(mmap_receiver_t *r, mfile_t *f)
{
	for (size_t k = 0; k < f->cut_len; k++) {
		cut_t *c = &f->cuts[(f->cut_head + k) % MAX_CUTS];
		for (size_t i = 0; i < c->nmsgs; i++) {
			sent_t *s = &c->msgs[i];
			if (!s->resend)
				continue;
			otf__mmd_req_t q = {s->signal, s->payload, s->items};
			if (send_req(r, f, &q, (c->id << 8) | i) < 0)
				return false;
			s->resend = false;
		}
	}
	return true;
}

static long drain_file(mmap_receiver_t *r, mfile_t *f, uint64_t mono, uint64_t wall, bool collect)
{
	if (alo(r) && !resend(r, f))
		return 0;
	if (!pump(r, f))
		return 0; /* backpressure: read nothing more until it clears */
	if (alo(r) && f->cut_len == MAX_CUTS)
		return 0;
	bool was = f->d.attached;
	uint64_t epoch = f->d.r.epoch;
	/* Attach (or notice a new epoch) before reading anything, so a
	 * checkpoint is restored before the records that follow it. */
	long n = otf__mmd_poll(&f->d, mono, wall, 0);
	if (n >= 0 && (!was || epoch != f->d.r.epoch)) {
		if (was)
			cuts_free(f); /* a new producer: nothing of the old epoch is pending */
		attach(r, f, mono);
	}
	if (n >= 0)
		n = otf__mmd_poll(&f->d, mono, wall, (size_t)r->cfg->max_batch);
	otf__mmo_sample(&r->obs, &f->obs, &f->d);
	if (otf__mmr_corrupt(&f->d.r)) {
		/* Shrunk under us: nothing read from it since can be trusted.
		 * Dropped now, opened again by the next scan (at its own
		 * reader_index, which we stored only for what we sent). */
		otf__mmo_add(&r->obs, &f->obs, OTF_MMO_CORRUPT, 1);
		otf__mmo_warn(&f->obs, r->node, f->path, mono, true);
		f->deleted = true;
		f->last_rc = OTF_E_TRUNCATED;
		return 0;
	}
	otf__mmo_warn(&f->obs, r->node, f->path, mono, false);
	if (n < 0) {
		if (n != f->last_rc)
			otf_node_log(r->node, n == OTF_E_NOT_FOUND ? OTF_LOG_DEBUG : OTF_LOG_WARN,
			             "%s: not readable yet (%s)", f->path, f->d.r.why);
		f->last_rc = (int)n;
		return 0;
	}
	f->last_rc = 0;
	otf__mmd_expire(&f->d, mono, wall, false);
	if (collect) {
		otf__mmd_collect(&f->d, wall);
		f->meas_pos = f->d.r.ring[OTF_MMR_MEASUREMENTS].next - 1;
	}
	close_cut(r, f, mono, false);
	return n;
}

/* Adds the file at p unless the list holds its inode already; a listed
 * file whose name now points to another inode was replaced: it is
 * drained and dropped, and the new inode is another file. */
static void track(mmap_receiver_t *r, const char *p)
{
	struct stat st;
	if (stat(p, &st) || !S_ISREG(st.st_mode))
		return;
	for (mfile_t *f = r->files; f; f = f->next) {
		if (f->deleted || strcmp(f->path, p))
			continue;
		if (f->dev == st.st_dev && f->ino == st.st_ino)
			return;
		f->deleted = true;
	}
	file_add(r, p);
}

static void scan(mmap_receiver_t *r)
{
	/* Unlinked files are drained and dropped: their disk space and
	 * mapping are released only once nobody holds them. */
	for (mfile_t *f = r->files; f; f = f->next) {
		struct stat st;
		if (!f->deleted && (fstat(f->d.r.fd, &st) || st.st_nlink == 0))
			f->deleted = true;
	}
	if (!r->is_dir) {
		track(r, r->cfg->path);
		return;
	}
	DIR *dir = opendir(r->cfg->path);
	if (!dir)
		return;
	struct dirent *de;
	char p[4096];
	while ((de = readdir(dir))) {
		const char *nm = de->d_name;
		size_t l = strlen(nm);
		if (nm[0] == '.' || strstr(nm, OTF_MMCK_SUFFIX) ||
		    (l > 4 && !strcmp(nm + l - 4, ".tmp")))
			continue;
		snprintf(p, sizeof p, "%s/%s", r->cfg->path, nm);
		track(r, p);
	}
	closedir(dir);
}

/* A deleted or replaced file: true once it is drained and what was read
 * from it is out (open spans emitted incomplete: their producer's file
 * is gone), so it can be closed. A corrupt one goes at once. */
static bool retire(mmap_receiver_t *r, mfile_t *f, uint64_t mono, uint64_t wall, long n)
{
	if (otf__mmr_corrupt(&f->d.r))
		return true;
	if (n > 0 || f->has_held)
		return false;
	for (int k = 0; k < OTF_MMR_RINGS; k++)
		if (otf__mmr_available(&f->d.r, k))
			return false;
	if (!f->final && f->d.attached) {
		otf__mmd_expire(&f->d, mono, wall, true);
		otf__mmd_collect(&f->d, wall);
		f->meas_pos = f->d.r.ring[OTF_MMR_MEASUREMENTS].next - 1;
		close_cut(r, f, mono, true);
	}
	f->final = true;
	return !f->has_held && (!alo(r) || f->cut_len == 0);
}

static void reschedule(mmap_receiver_t *r, bool busy);
static void tick(mmap_receiver_t *r);

static void timer_cb(uv_timer_t *t)
{
	tick(t->data);
}

static void soon_cb(uv_idle_t *h)
{
	uv_idle_stop(h);
	tick(h->data);
}

static void tick(mmap_receiver_t *r)
{
	if (r->closing)
		return;
	uint64_t mono = uv_hrtime(), wall = wall_now();
	if (mono - r->last_scan_ns >= (uint64_t)r->cfg->scan_interval_ns || !r->last_scan_ns) {
		r->last_scan_ns = mono;
		scan(r);
	}
	bool collect = mono - r->last_collect_ns >= (uint64_t)r->cfg->metrics.export_interval_ns;
	if (collect)
		r->last_collect_ns = mono;
	long total = 0;
	for (mfile_t **pf = &r->files; *pf;) {
		mfile_t *f = *pf;
		long n = drain_file(r, f, mono, wall, collect);
		total += n;
		if (f->deleted && retire(r, f, mono, wall, n)) {
			otf_node_log(r->node, OTF_LOG_INFO, "%s: closed (%s)", f->path,
			             otf__mmr_corrupt(&f->d.r) ? "corrupt" : "deleted or replaced");
			*pf = f->next;
			otf__mmo_warn(&f->obs, r->node, f->path, mono, true);
			file_free(f);
			continue;
		}
		pf = &f->next;
	}
	if (!total && r->cfg->wait.spin > 0 && r->idle == 0) {
		/* Data just stopped: a short spin catches the next record
		 * without a loop turn. Bounded by wait.spin checks. */
		for (int64_t i = 0; i < r->cfg->wait.spin && !total; i++) {
			for (mfile_t *f = r->files; f && !total; f = f->next)
				for (int k = 0; k < OTF_MMR_RINGS; k++)
					if (otf__mmr_available(&f->d.r, k))
						total = 1;
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
		}
		reschedule(r, total > 0);
		return;
	}
	reschedule(r, total > 0);
}

static void reschedule(mmap_receiver_t *r, bool busy)
{
	uint64_t ms;
	if (busy) {
		r->idle = 0;
		ms = 0;
	} else if (++r->idle <= (uint64_t)r->cfg->wait.yield) {
		ms = 0;
	} else {
		uint64_t k = r->idle - (uint64_t)r->cfg->wait.yield - 1;
		uint64_t ns = (uint64_t)r->cfg->wait.min_sleep_ns << (k > 20 ? 20 : k);
		if (ns > (uint64_t)r->cfg->wait.max_sleep_ns)
			ns = (uint64_t)r->cfg->wait.max_sleep_ns;
		ms = ns / 1000000;
		if (!ms)
			ms = 1;
	}
	/* A 0 ms timer re-armed from its own callback runs again in the same
	 * timer phase on libuv < 1.45 and starves the loop (the exporters on
	 * this worker never run): "poll again now" is an idle handle, which
	 * runs once per loop turn. */
	if (!ms)
		uv_idle_start(r->soon, soon_cb);
	else
		uv_timer_start(r->timer, timer_cb, ms, 0);
}

static mfile_t *file_by_id(mmap_receiver_t *r, uint32_t id)
{
	mfile_t *f = r->files;
	while (f && f->id != id)
		f = f->next;
	return f;
}

static void outcome(mmap_receiver_t *r, const otf_ctrl_t *c)
{
	mfile_t *f = file_by_id(r, (uint32_t)(c->calldata >> 40));
	if (!f)
		return;
	uint64_t cid = (c->calldata & 0xffffffffffull) >> 8;
	size_t mi = c->calldata & 0xff;
	for (size_t k = 0; k < f->cut_len; k++) {
		cut_t *ct = &f->cuts[(f->cut_head + k) % MAX_CUTS];
		if (ct->id != cid || mi >= ct->nmsgs)
			continue;
		sent_t *s = &ct->msgs[mi];
		if (c->type == OTF_CTRL_ACK || c->permanent) {
			if (c->type == OTF_CTRL_ACK) {
				otf_node_count(r->node, OTF_COUNTER_ACCEPTED, s->signal, s->items);
			} else {
				otf_node_count(r->node, OTF_COUNTER_REFUSED, s->signal, s->items);
				otf_node_log(r->node, OTF_LOG_WARN,
				             "%s: %llu item(s) refused permanently: %s", f->path,
				             (unsigned long long)s->items, c->reason);
			}
			s->done = true;
			otf_buf_unref(s->payload);
			s->payload = NULL;
			settle(r, f);
		} else {
			s->resend = true; /* retryable: the next tick sends it again */
		}
		return;
	}
}

static void control(void *inst, const otf_ctrl_t *c)
{
	mmap_receiver_t *r = inst;
	switch (c->type) {
	case OTF_CTRL_ACK:
	case OTF_CTRL_NACK:
		outcome(r, c);
		break;
	case OTF_CTRL_KIL:
		if (r->closing)
			break;
		r->closing = true;
		if (r->timer)
			uv_timer_stop(r->timer);
		if (r->soon)
			uv_idle_stop(r->soon);
		/* Read records go out; open spans stay in the file (at_most_once:
		 * lost to this process; at_least_once: in the checkpoint). */
		for (mfile_t *f = r->files; f; f = f->next) {
			if (f->d.attached)
				close_cut(r, f, uv_hrtime(), true);
			otf__mmo_warn(&f->obs, r->node, f->path, uv_hrtime(), true);
		}
		otf_node_shutdown_done(r->node);
		break;
	default:
		break;
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void handle_free(uv_handle_t *h)
{
	otf_free(h);
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	mmap_receiver_t *r = otf_calloc(1, sizeof *r);
	if (!r)
		return OTF_E_NOMEM;
	r->node = ctx->node;
	r->cfg = ctx->config;
	/* One consumer per file: only worker 0 reads. */
	r->active = otf_node_worker_index(r->node) == 0;
	*inst = r;
	return 0;
}

static int start(void *inst)
{
	mmap_receiver_t *r = inst;
	if (!r->active)
		return 0;
	struct stat st;
	r->is_dir = stat(r->cfg->path, &st) == 0 && S_ISDIR(st.st_mode);
	r->timer = otf_malloc(sizeof *r->timer);
	r->soon = otf_malloc(sizeof *r->soon);
	if (!r->timer || !r->soon) {
		otf_free(r->timer);
		otf_free(r->soon);
		r->timer = NULL;
		r->soon = NULL;
		return OTF_E_NOMEM;
	}
	uv_timer_init(otf_node_loop(r->node), r->timer);
	uv_idle_init(otf_node_loop(r->node), r->soon);
	r->timer->data = r;
	r->soon->data = r;
	r->last_collect_ns = uv_hrtime();
	const char *id = strchr(otf_node_name(r->node), ':');
	otf__mmo_init(&r->obs, id ? id + 1 : otf_node_name(r->node));
	uv_idle_start(r->soon, soon_cb);
	return 0;
}

static void destroy(void *inst)
{
	mmap_receiver_t *r = inst;
	if (r->timer) {
		uv_timer_stop(r->timer);
		uv_close((uv_handle_t *)r->timer, handle_free);
		uv_idle_stop(r->soon);
		uv_close((uv_handle_t *)r->soon, handle_free);
	}
	otf__mmo_close(&r->obs);
	for (mfile_t *f = r->files, *n; f; f = n) {
		n = f->next;
		file_free(f);
	}
	otf_free(r);
}

const otf_component_factory_t otf_receiver_otlp_mmap_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_RECEIVER,
    .type = "otlp_mmap",
    .description = "Drains otlp-mmap files (format v1) that applications write their spans, "
                   "logs and measurements into.",
    .stability = {OTF_STABILITY_ALPHA, OTF_STABILITY_ALPHA, OTF_STABILITY_ALPHA},
    .config_schema = otf__mmap_schema,
    .config_size = sizeof(mmap_cfg_t),
    .validate = otf__mmap_validate,
    .create = {create, create, create},
    .start = start,
    .control = control,
    .destroy = destroy,
};
