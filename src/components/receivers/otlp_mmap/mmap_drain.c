/* Drain of one otlp-mmap file: spans and logs (see mmap_drain.h; metrics
 * are in mmap_metrics.c). */
#include "mmap_drain.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <string.h>

struct otf__mmd_ospan {
	uint8_t ids[24]; /* trace_id, span_id */
	uint64_t hash;
	otf__mmd_ospan_t *prev, *next; /* by arrival, oldest first */
	uint64_t seen_ns;
	int64_t scope_ref;
	uint8_t *recs; /* [u8 kind][varint len][body] ... */
	size_t len, cap;
};

struct pend_span {
	int64_t scope_ref;
	otf_span_t span;
};

struct pend_log {
	int64_t scope_ref;
	otf_log_record_t rec;
};

void otf__mmd_opts_default(otf__mmd_opts_t *o)
{
	memset(o, 0, sizeof *o);
	o->hole_timeout_ns = 1000000000ull;
	o->span_ttl_ns = 3600ull * 1000000000ull;
	o->max_open_spans = 100000;
	o->max_series = 100000;
	o->max_batch = 4096;
	o->temporality = OTF_MMD_TEMP_CUMULATIVE;
}

int otf__mmd_init(otf__mmd_t *d, const otf__mmd_opts_t *o)
{
	memset(d, 0, sizeof *d);
	d->o = *o;
	if (!d->o.max_batch)
		d->o.max_batch = 4096;
	d->r.fd = -1;
	otf_arena_init(&d->span_arena, 0);
	otf_arena_init(&d->log_arena, 0);
	otf_arena_init(&d->metric_arena, 0);
	for (int i = 0; i < OTF_MMR_RINGS; i++)
		d->cut[i] = -1;
	if (!d->o.via_tree) {
		d->dlogs = otf__mmd_dir_create(OTF_SIGNAL_LOGS);
		d->dspans = otf__mmd_dir_create(OTF_SIGNAL_TRACES);
		if (!d->dlogs || !d->dspans) {
			/* Out of memory this early: the tree path needs nothing more. */
			otf__mmd_dir_destroy(d->dlogs);
			otf__mmd_dir_destroy(d->dspans);
			d->dlogs = d->dspans = NULL;
			d->o.via_tree = true;
		}
	}
	return 0;
}

static int opened(otf__mmd_t *d)
{
	otf__mmx_init(&d->x, &d->r);
	return 0;
}

int otf__mmd_open(otf__mmd_t *d, const char *path)
{
	int rc = otf__mmr_open(&d->r, path, d->o.hole_timeout_ns);
	return rc ? rc : opened(d);
}

int otf__mmd_open_fd(otf__mmd_t *d, int fd)
{
	otf__mmr_open_fd(&d->r, fd, d->o.hole_timeout_ns);
	return opened(d);
}

static void ospan_free(otf__mmd_ospan_t *s)
{
	otf_free(s->recs);
	otf_free(s);
}

static void spans_clear(otf__mmd_t *d)
{
	for (otf__mmd_ospan_t *s = d->oldest, *n; s; s = n) {
		n = s->next;
		ospan_free(s);
	}
	d->oldest = d->newest = NULL;
	if (d->tab)
		memset(d->tab, 0, d->tab_cap * sizeof *d->tab);
	d->open = 0;
}

void otf__mmd_close(otf__mmd_t *d)
{
	spans_clear(d);
	otf_free(d->tab);
	otf__mmd_series_free(d);
	otf_free(d->series);
	otf__mmd_req_t q;
	while (otf__mmd_take(d, &q))
		otf_buf_unref(q.payload);
	otf_free(d->out);
	otf_free(d->spans);
	otf_free(d->logs);
	otf_free(d->rec);
	otf__mmd_dir_destroy(d->dlogs);
	otf__mmd_dir_destroy(d->dspans);
	otf_arena_close(&d->span_arena);
	otf_arena_close(&d->log_arena);
	otf_arena_close(&d->metric_arena);
	otf__mmx_close(&d->x);
	otf__mmr_close(&d->r);
}

int otf__mmd_queue(otf__mmd_t *d, otf_signal_t s, otf_buf_t *payload, uint64_t items)
{
	if (d->out_len == d->out_cap) {
		size_t cap = d->out_cap ? d->out_cap * 2 : 8;
		otf__mmd_req_t *o = otf_realloc(d->out, cap * sizeof *o);
		if (!o) {
			otf_buf_unref(payload);
			return OTF_E_NOMEM;
		}
		d->out = o;
		d->out_cap = cap;
	}
	d->out[d->out_len++] = (otf__mmd_req_t){s, payload, items};
	return 0;
}

bool otf__mmd_take(otf__mmd_t *d, otf__mmd_req_t *req)
{
	if (!d->out_len)
		return false;
	*req = d->out[0];
	memmove(d->out, d->out + 1, --d->out_len * sizeof *d->out);
	return true;
}

/* ---- open spans table (linear probing, backward-shift delete) ---- */

static uint64_t ids_hash(const uint8_t ids[24])
{
	uint64_t a, b, c;
	memcpy(&a, ids, 8);
	memcpy(&b, ids + 8, 8);
	memcpy(&c, ids + 16, 8);
	uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ull) ^ (c * 0xc2b2ae3d27d4eb4full));
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

static otf__mmd_ospan_t **slot_of(otf__mmd_t *d, const uint8_t ids[24], uint64_t h)
{
	for (size_t i = h & (d->tab_cap - 1);; i = (i + 1) & (d->tab_cap - 1)) {
		otf__mmd_ospan_t *s = d->tab[i];
		if (!s || (s->hash == h && !memcmp(s->ids, ids, 24)))
			return &d->tab[i];
	}
}

static otf__mmd_ospan_t *span_find(otf__mmd_t *d, const uint8_t ids[24])
{
	return d->tab_cap ? *slot_of(d, ids, ids_hash(ids)) : NULL;
}

static int tab_grow(otf__mmd_t *d)
{
	size_t cap = d->tab_cap ? d->tab_cap * 2 : 1024;
	otf__mmd_ospan_t **t = otf_calloc(cap, sizeof *t);
	if (!t)
		return OTF_E_NOMEM;
	otf__mmd_ospan_t **old = d->tab;
	size_t oc = d->tab_cap;
	d->tab = t;
	d->tab_cap = cap;
	for (size_t i = 0; i < oc; i++)
		if (old[i])
			*slot_of(d, old[i]->ids, old[i]->hash) = old[i];
	otf_free(old);
	return 0;
}

static void span_unlink(otf__mmd_t *d, otf__mmd_ospan_t *s)
{
	size_t m = d->tab_cap - 1;
	size_t i = (size_t)(slot_of(d, s->ids, s->hash) - d->tab);
	d->tab[i] = NULL;
	for (size_t j = (i + 1) & m; d->tab[j]; j = (j + 1) & m) {
		size_t home = d->tab[j]->hash & m;
		/* Move back unless home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			d->tab[i] = d->tab[j];
			d->tab[j] = NULL;
			i = j;
		}
	}
	if (s->prev)
		s->prev->next = s->next;
	else
		d->oldest = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		d->newest = s->prev;
	d->open--;
}

static int rec_append(otf__mmd_ospan_t *s, uint32_t kind, const uint8_t *body, size_t n)
{
	size_t need = s->len + 1 + 10 + n;
	if (need > s->cap) {
		size_t cap = s->cap ? s->cap : 128;
		while (cap < need)
			cap *= 2;
		uint8_t *p = otf_realloc(s->recs, cap);
		if (!p)
			return OTF_E_NOMEM;
		s->recs = p;
		s->cap = cap;
	}
	s->recs[s->len++] = (uint8_t)kind;
	uint64_t l = n;
	while (l >= 0x80) {
		s->recs[s->len++] = (uint8_t)(l | 0x80);
		l >>= 7;
	}
	s->recs[s->len++] = (uint8_t)l;
	memcpy(s->recs + s->len, body, n);
	s->len += n;
	return 0;
}

static void emit_span(otf__mmd_t *d, otf__mmd_ospan_t *s, const uint8_t *end_body, size_t end_len,
                      uint64_t incomplete_wall_ns);

static otf__mmd_ospan_t *span_open(otf__mmd_t *d, const uint8_t ids[24], int64_t scope_ref,
                                   uint64_t mono_ns, uint64_t wall_ns)
{
	if (d->open >= d->o.max_open_spans && d->oldest)
		emit_span(d, d->oldest, NULL, 0, wall_ns); /* bounded: the oldest goes out */
	if ((d->open + 1) * 2 > d->tab_cap && tab_grow(d))
		return NULL;
	otf__mmd_ospan_t *s = otf_calloc(1, sizeof *s);
	if (!s)
		return NULL;
	memcpy(s->ids, ids, 24);
	s->hash = ids_hash(ids);
	s->seen_ns = mono_ns;
	s->scope_ref = scope_ref;
	*slot_of(d, ids, s->hash) = s;
	s->prev = d->newest;
	if (d->newest)
		d->newest->next = s;
	else
		d->oldest = s;
	d->newest = s;
	d->open++;
	return s;
}

/* ---- pending items ---- */

static void *grow(void *arr, size_t *cap, size_t len, size_t elem)
{
	if (len < *cap)
		return arr;
	size_t c = *cap ? *cap * 2 : 256;
	void *p = otf_realloc(arr, c * elem);
	if (p)
		*cap = c;
	return p;
}

static otf_key_value_t k_incomplete = {
    .key = {(const uint8_t *)OTF_MMD_INCOMPLETE_KEY, sizeof OTF_MMD_INCOMPLETE_KEY - 1},
    .value = {.type = OTF_ANY_BOOL, .u.bool_value = true}};

/* Applies the stored lifecycle records [recs, recs+len) and then the End
 * record (end_len > 0) to sp. 0 or OTF_E_NOMEM. */
static int apply_recs(otf__mmd_t *d, otf_span_t *sp, const uint8_t *recs, size_t len,
                      const uint8_t *endc, size_t end_len)
{
	int rc = 0;
	for (size_t i = 0; i < len && rc != OTF_E_NOMEM;) {
		uint32_t kind = recs[i++];
		uint64_t l = 0;
		unsigned sh = 0;
		while (i < len && (recs[i] & 0x80)) {
			l |= (uint64_t)(recs[i++] & 0x7f) << sh;
			sh += 7;
		}
		if (i >= len)
			break;
		l |= (uint64_t)recs[i++] << sh;
		if (l > len - i)
			break;
		rc = otf__mmx_span_apply(&d->x, &d->span_arena, sp, kind, recs + i, (size_t)l);
		i += (size_t)l;
	}
	if (endc && rc != OTF_E_NOMEM)
		rc = otf__mmx_span_apply(&d->x, &d->span_arena, sp, 12, endc, end_len);
	return rc == OTF_E_NOMEM ? rc : 0;
}

/* Dedup of attributes, and the marker of a span emitted without its end. */
static int span_finish(otf__mmd_t *d, otf_span_t *sp, uint64_t incomplete_wall_ns)
{
	otf__mmx_attrs_dedup(&sp->attributes);
	if (!incomplete_wall_ns)
		return 0;
	otf_key_value_t *kv =
	    otf_arena_alloc(&d->span_arena, (sp->attributes.len + 1) * sizeof *kv);
	if (!kv)
		return OTF_E_NOMEM;
	if (sp->attributes.len)
		memcpy(kv, sp->attributes.items, sp->attributes.len * sizeof *kv);
	kv[sp->attributes.len] = k_incomplete;
	sp->attributes.items = kv;
	sp->attributes.len++;
	sp->end_time_unix_nano = incomplete_wall_ns > sp->start_time_unix_nano
	                             ? incomplete_wall_ns
	                             : sp->start_time_unix_nano;
	d->st.incomplete++;
	return 0;
}

/* Direct path: the span is assembled on the stack from the open entry's
 * records (no copies) and encoded at once into its scope group. */
static void emit_span_direct(otf__mmd_t *d, otf__mmd_ospan_t *s, const uint8_t *end_body,
                             size_t end_len, uint64_t incomplete_wall_ns)
{
	otf_span_t sp;
	memset(&sp, 0, sizeof sp);
	sp.trace_id = (otf_bytes_t){s->ids, 16};
	sp.span_id = (otf_bytes_t){s->ids + 16, 8};
	int rc = apply_recs(d, &sp, s->recs, s->len, end_len ? end_body : NULL, end_len);
	if (!rc)
		rc = span_finish(d, &sp, incomplete_wall_ns);
	if (!rc)
		rc = otf__mmd_dir_add(d, d->dspans, s->scope_ref, &sp);
	ospan_free(s);
	if (rc) {
		d->st.encode_errors++;
		return;
	}
	d->st.spans++;
}

/* Assembles the span from its stored records (+ the End record) into the
 * pending list and frees the open entry. incomplete_wall_ns != 0 marks a
 * span emitted without its end. */
static void emit_span(otf__mmd_t *d, otf__mmd_ospan_t *s, const uint8_t *end_body, size_t end_len,
                      uint64_t incomplete_wall_ns)
{
	span_unlink(d, s);
	if (d->dspans) {
		emit_span_direct(d, s, end_body, end_len, incomplete_wall_ns);
		return;
	}
	struct pend_span *ps = grow(d->spans, &d->spans_cap, d->spans_len, sizeof *ps);
	uint8_t *ids = otf_arena_memdup(&d->span_arena, s->ids, 24);
	uint8_t *recs = otf_arena_memdup(&d->span_arena, s->recs, s->len);
	uint8_t *endc = end_len ? otf_arena_memdup(&d->span_arena, end_body, end_len) : NULL;
	if (!ps || !ids || !recs || (end_len && !endc)) {
		d->st.encode_errors++;
		ospan_free(s);
		return;
	}
	d->spans = ps;
	ps = &d->spans[d->spans_len];
	memset(ps, 0, sizeof *ps);
	ps->scope_ref = s->scope_ref;
	otf_span_t *sp = &ps->span;
	sp->trace_id = (otf_bytes_t){ids, 16};
	sp->span_id = (otf_bytes_t){ids + 16, 8};
	int rc = apply_recs(d, sp, recs, s->len, endc, end_len);
	ospan_free(s);
	if (rc == OTF_E_NOMEM) {
		d->st.encode_errors++;
		return;
	}
	if (span_finish(d, sp, incomplete_wall_ns))
		return;
	d->spans_len++;
	d->st.spans++;
}

void otf__mmd_expire(otf__mmd_t *d, uint64_t mono_ns, uint64_t wall_ns, bool all)
{
	while (d->oldest &&
	       (all || (d->o.span_ttl_ns && mono_ns - d->oldest->seen_ns >= d->o.span_ttl_ns)))
		emit_span(d, d->oldest, NULL, 0, wall_ns ? wall_ns : 1);
}

static void span_record(otf__mmd_t *d, const uint8_t *p, size_t n, uint64_t mono_ns,
                        uint64_t wall_ns)
{
	otf__mmx_spanev_t ev;
	if (otf__mmx_spanev(p, n, &ev)) {
		d->st.bad_records++;
		return;
	}
	uint8_t ids[24];
	memcpy(ids, ev.trace_id.ptr, 16);
	memcpy(ids + 16, ev.span_id.ptr, 8);
	otf__mmd_ospan_t *s = span_find(d, ids);
	if (ev.kind == 11) {
		if (s) {
			d->st.duplicate_start++;
			s->len = 0; /* the later Start wins, with what follows it */
			s->scope_ref = ev.scope_ref;
		} else if (!(s = span_open(d, ids, ev.scope_ref, mono_ns, wall_ns))) {
			d->st.encode_errors++;
			return;
		}
		if (rec_append(s, 11, ev.body, ev.body_len))
			d->st.encode_errors++;
		return;
	}
	if (!s) {
		d->st.unknown_span++;
		return;
	}
	if (ev.kind == 12) {
		emit_span(d, s, ev.body, ev.body_len, 0);
		return;
	}
	if (rec_append(s, ev.kind, ev.body, ev.body_len))
		d->st.encode_errors++;
}

static void log_record(otf__mmd_t *d, const uint8_t *p, size_t n)
{
	if (d->dlogs) {
		/* Decoded straight from the copy of the slot and encoded at once:
		 * nothing of it outlives this call but its bytes. */
		otf_log_record_t lr;
		int64_t scope_ref;
		if (otf__mmx_event(&d->x, &d->log_arena, p, n, &lr, &scope_ref)) {
			d->st.bad_records++;
			return;
		}
		if (otf__mmd_dir_add(d, d->dlogs, scope_ref, &lr)) {
			d->st.encode_errors++;
			return;
		}
		d->st.logs++;
		return;
	}
	struct pend_log *pl = grow(d->logs, &d->logs_cap, d->logs_len, sizeof *pl);
	uint8_t *c = otf_arena_memdup(&d->log_arena, p, n);
	if (!pl || !c) {
		d->st.encode_errors++;
		return;
	}
	d->logs = pl;
	pl = &d->logs[d->logs_len];
	int rc = otf__mmx_event(&d->x, &d->log_arena, c, n, &pl->rec, &pl->scope_ref);
	if (rc) {
		d->st.bad_records++;
		return;
	}
	d->logs_len++;
	d->st.logs++;
}

static void flush_traces(otf__mmd_t *d);
static void flush_logs(otf__mmd_t *d);

static void reset_epoch(otf__mmd_t *d, uint64_t wall_ns)
{
	/* A new producer: what the old one left open never ends. Emit it
	 * (marked) and the aggregation state while the caches still resolve
	 * the old refs, then forget everything. */
	otf__mmd_expire(d, 0, wall_ns, true);
	otf__mmd_cut(d);
	d->no_cells = true;
	if (d->series_len)
		otf__mmd_collect(d, wall_ns);
	d->no_cells = false;
	otf__mmd_series_free(d);
	otf__mmx_reset(&d->x);
	d->metrics_start_ns = wall_ns;
}

long otf__mmd_poll(otf__mmd_t *d, uint64_t mono_ns, uint64_t wall_ns, size_t max)
{
	otf__mmr_state_t st = otf__mmr_check(&d->r);
	if (st == OTF_MMR_NOT_READY)
		return OTF_E_NOT_FOUND;
	if (st == OTF_MMR_BAD)
		return OTF_E_UNSUPPORTED;
	if (st == OTF_MMR_NEW_EPOCH) {
		if (d->attached)
			reset_epoch(d, wall_ns);
		d->attached = true;
		d->metrics_start_ns = wall_ns;
		for (int i = 0; i < OTF_MMR_RINGS; i++)
			d->cut[i] = d->r.ring[i].next - 1;
		size_t need = 0;
		for (int i = 0; i < OTF_MMR_RINGS; i++)
			if (d->r.ring[i].b > need)
				need = (size_t)d->r.ring[i].b;
		if (need > d->rec_cap) {
			uint8_t *p = otf_realloc(d->rec, need);
			if (!p)
				return OTF_E_NOMEM;
			d->rec = p;
			d->rec_cap = need;
		}
	}
	long total = 0;
	static const int order[OTF_MMR_RINGS] = {OTF_MMR_SPANS, OTF_MMR_EVENTS,
	                                         OTF_MMR_MEASUREMENTS};
	for (int k = 0; k < OTF_MMR_RINGS; k++) {
		int ring = order[k];
		for (size_t i = 0; i < max; i++) {
			size_t n = 0;
			int rc = otf__mmr_next(&d->r, ring, mono_ns, d->rec, d->rec_cap, &n);
			if (rc == OTF_MMR_EMPTY)
				break;
			total++;
			if (rc == OTF_MMR_SKIP)
				continue;
			d->st.records[ring]++;
			if (ring == OTF_MMR_SPANS) {
				span_record(d, d->rec, n, mono_ns, wall_ns);
				if (d->spans_len + otf__mmd_dir_items(d->dspans) >= d->o.max_batch)
					flush_traces(d);
			} else if (ring == OTF_MMR_EVENTS) {
				log_record(d, d->rec, n);
				if (d->logs_len + otf__mmd_dir_items(d->dlogs) >= d->o.max_batch)
					flush_logs(d);
			} else if (otf__mmd_measure(d, d->rec, n, wall_ns)) {
				d->st.dropped_points++;
			}
		}
	}
	return total;
}

/* ---- building requests ---- */

typedef struct group {
	int64_t scope_ref;
	const otf__mmx_scope_t *scope;
	size_t count, fill;
	int res; /* index of its resource group */
} group_t;

#define MAX_GROUPS 64

/* Assigns the first *used items to at most MAX_GROUPS scope groups (an
 * item of a further scope ends this request; the rest go into the next).
 * Returns the group count; idx[i] receives item i's group. */
static size_t group_items(otf__mmd_t *d, const int64_t *refs, size_t stride, size_t n, group_t *g,
                          uint16_t *idx, size_t *used)
{
	size_t k = 0, last = 0;
	size_t i = 0;
	for (; i < n; i++) {
		int64_t ref = *(const int64_t *)(const void *)((const char *)refs + i * stride);
		size_t j;
		if (k && g[last].scope_ref == ref) {
			j = last;
		} else {
			for (j = 0; j < k && g[j].scope_ref != ref; j++)
				;
			if (j == k) {
				if (k == MAX_GROUPS)
					break;
				g[k] = (group_t){.scope_ref = ref,
				                 .scope = otf__mmx_scope(&d->x, ref)};
				k++;
			}
			last = j;
		}
		g[j].count++;
		idx[i] = (uint16_t)j;
	}
	*used = i;
	return k;
}

/* Resource groups over scope groups: same resource_ref -> one group. */
static size_t group_resources(group_t *g, size_t k, int64_t *res_refs)
{
	size_t m = 0;
	for (size_t j = 0; j < k; j++) {
		int64_t rr = g[j].scope ? g[j].scope->resource_ref : 0;
		size_t r;
		for (r = 0; r < m && res_refs[r] != rr; r++)
			;
		if (r == m)
			res_refs[m++] = rr;
		g[j].res = (int)r;
	}
	return m;
}

static void flush_traces(otf__mmd_t *d)
{
	if (d->dspans) {
		otf__mmd_dir_flush(d, d->dspans);
		otf_arena_reset(&d->span_arena);
		return;
	}
	size_t done = 0;
	while (done < d->spans_len) {
		group_t g[MAX_GROUPS];
		int64_t rr[MAX_GROUPS];
		size_t n = d->spans_len - done, used;
		uint16_t *idx = otf_arena_alloc(&d->span_arena, n * sizeof *idx);
		if (!idx)
			break;
		size_t k =
		    group_items(d, &d->spans[done].scope_ref, sizeof *d->spans, n, g, idx, &used);
		size_t m = group_resources(g, k, rr);
		otf_resource_spans_t *rs = otf_arena_calloc(&d->span_arena, m, sizeof *rs);
		otf_scope_spans_t *ss = otf_arena_calloc(&d->span_arena, k, sizeof *ss);
		otf_span_t *sp = otf_arena_alloc(&d->span_arena, used * sizeof *sp);
		if (!rs || !ss || !sp)
			break;
		/* scope groups of one resource are contiguous in ss */
		size_t off = 0, so = 0;
		for (size_t r = 0; r < m; r++) {
			rs[r].scope_spans = &ss[so];
			for (size_t j = 0; j < k; j++) {
				if (g[j].res != (int)r)
					continue;
				otf_scope_spans_t *s = &ss[so++];
				if (g[j].scope) {
					s->scope = g[j].scope->scope;
					rs[r].resource = g[j].scope->resource;
				}
				s->spans = &sp[off];
				s->spans_len = g[j].count;
				g[j].fill = off;
				off += g[j].count;
				rs[r].scope_spans_len++;
			}
		}
		for (size_t i = 0; i < used; i++)
			sp[g[idx[i]].fill++] = d->spans[done + i].span;
		otf_traces_t t = {.resource_spans = rs, .resource_spans_len = m};
		otf_buf_t *buf = NULL;
		if (otf_pdata_encode_traces(&t, &buf) ||
		    otf__mmd_queue(d, OTF_SIGNAL_TRACES, buf, used))
			d->st.encode_errors += used;
		done += used;
	}
	d->spans_len = 0;
	otf_arena_reset(&d->span_arena);
}

static void flush_logs(otf__mmd_t *d)
{
	if (d->dlogs) {
		otf__mmd_dir_flush(d, d->dlogs);
		otf_arena_reset(&d->log_arena);
		return;
	}
	size_t done = 0;
	while (done < d->logs_len) {
		group_t g[MAX_GROUPS];
		int64_t rr[MAX_GROUPS];
		size_t n = d->logs_len - done, used;
		uint16_t *idx = otf_arena_alloc(&d->log_arena, n * sizeof *idx);
		if (!idx)
			break;
		size_t k =
		    group_items(d, &d->logs[done].scope_ref, sizeof *d->logs, n, g, idx, &used);
		size_t m = group_resources(g, k, rr);
		otf_resource_logs_t *rl = otf_arena_calloc(&d->log_arena, m, sizeof *rl);
		otf_scope_logs_t *sl = otf_arena_calloc(&d->log_arena, k, sizeof *sl);
		otf_log_record_t *lr = otf_arena_alloc(&d->log_arena, used * sizeof *lr);
		if (!rl || !sl || !lr)
			break;
		size_t off = 0, so = 0;
		for (size_t r = 0; r < m; r++) {
			rl[r].scope_logs = &sl[so];
			for (size_t j = 0; j < k; j++) {
				if (g[j].res != (int)r)
					continue;
				otf_scope_logs_t *s = &sl[so++];
				if (g[j].scope) {
					s->scope = g[j].scope->scope;
					rl[r].resource = g[j].scope->resource;
				}
				s->log_records = &lr[off];
				s->log_records_len = g[j].count;
				g[j].fill = off;
				off += g[j].count;
				rl[r].scope_logs_len++;
			}
		}
		for (size_t i = 0; i < used; i++)
			lr[g[idx[i]].fill++] = d->logs[done + i].rec;
		otf_logs_t t = {.resource_logs = rl, .resource_logs_len = m};
		otf_buf_t *buf = NULL;
		if (otf_pdata_encode_logs(&t, &buf) ||
		    otf__mmd_queue(d, OTF_SIGNAL_LOGS, buf, used))
			d->st.encode_errors += used;
		done += used;
	}
	d->logs_len = 0;
	otf_arena_reset(&d->log_arena);
}

void otf__mmd_cut(otf__mmd_t *d)
{
	if (d->spans_len || otf__mmd_dir_items(d->dspans))
		flush_traces(d);
	if (d->logs_len || otf__mmd_dir_items(d->dlogs))
		flush_logs(d);
	for (int i = 0; i < OTF_MMR_RINGS; i++)
		d->cut[i] = d->r.ring[i].next - 1;
}

void otf__mmd_commit(otf__mmd_t *d, const int64_t pos[OTF_MMR_RINGS])
{
	for (int i = 0; i < OTF_MMR_RINGS; i++)
		otf__mmr_commit(&d->r, i, pos[i]);
}

size_t otf__mmd_open_spans(const otf__mmd_t *d)
{
	return d->open;
}

void otf__mmd_each_open(const otf__mmd_t *d, otf__mmd_span_fn fn, void *ctx)
{
	for (const otf__mmd_ospan_t *s = d->oldest; s; s = s->next)
		fn(ctx, s->ids, s->scope_ref, s->recs, s->len);
}

int otf__mmd_restore_span(otf__mmd_t *d, const uint8_t ids[24], int64_t scope_ref,
                          const uint8_t *recs, size_t len, uint64_t mono_ns)
{
	otf__mmd_ospan_t *s = span_find(d, ids);
	if (!s && !(s = span_open(d, ids, scope_ref, mono_ns, 0)))
		return OTF_E_NOMEM;
	s->len = 0;
	s->scope_ref = scope_ref;
	if (len > s->cap) {
		uint8_t *p = otf_realloc(s->recs, len);
		if (!p)
			return OTF_E_NOMEM;
		s->recs = p;
		s->cap = len;
	}
	memcpy(s->recs, recs, len);
	s->len = len;
	return 0;
}
