/* Splitting a request at an item boundary (batch processor,
 * send_batch_max_size). The request is walked field by field; a child
 * (resource group, scope group, record, metric data, data point) that lies
 * wholly before the cut is copied into the head as raw bytes, one wholly
 * after it into the tail, and the one child the cut falls into is re-framed
 * in both with the same walk one level down. Everything else in a cut
 * message is copied into both parts, so each part stays a complete request
 * (same resource, scope and metric identity) and field order is kept, which
 * keeps canonical input canonical. */
#include "batch_split.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/pdata_view.h"
#include "pdata/pb_wire.h"

#include <string.h>

typedef enum level {
	L_TOP,      /* Export*ServiceRequest: resource groups (field 1) */
	L_RESOURCE, /* Resource*: scope groups (field 2) */
	L_SCOPE,    /* Scope*: spans | metrics | log records (field 2) */
	L_METRIC,   /* Metric: its data member (Gauge, Sum, ...) */
	L_DATA,     /* Gauge/Sum/...: data points (field 1) */
} level_t;

/* Forward writer; a length prefix is inserted in front of its contents
 * once they are written (a memmove of at most a few bytes' shift), so
 * varints stay minimal. */
typedef struct wr {
	otf_buf_t *b;
	int err;
} wr_t;

static bool wr_need(wr_t *w, size_t n)
{
	if (w->err)
		return false;
	if (w->b->cap - w->b->len >= n)
		return true;
	w->err = otf_buf_reserve(&w->b, w->b->len + n);
	return !w->err;
}

static void wr_put(wr_t *w, const uint8_t *p, size_t n)
{
	if (n && wr_need(w, n)) {
		memcpy(w->b->data + w->b->len, p, n);
		w->b->len += n;
	}
}

static size_t varint_encode(uint64_t v, uint8_t out[10])
{
	size_t n = 0;
	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

/* Writes the tag of a LEN field; returns the mark for wr_end. */
static size_t wr_begin(wr_t *w, uint32_t field)
{
	uint8_t tmp[10];
	size_t n = varint_encode(((uint64_t)field << 3) | OTF_WT_LEN, tmp);
	wr_put(w, tmp, n);
	return w->b->len;
}

static void wr_end(wr_t *w, size_t mark)
{
	if (w->err)
		return;
	size_t body = w->b->len - mark;
	uint8_t tmp[10];
	size_t n = varint_encode(body, tmp);
	if (!wr_need(w, n))
		return;
	memmove(w->b->data + mark + n, w->b->data + mark, body);
	memcpy(w->b->data + mark, tmp, n);
	w->b->len += n;
}

typedef struct field {
	uint32_t no, wt;
	otf_bytes_t raw;     /* tag through the end of the value */
	otf_bytes_t payload; /* LEN fields: the contents */
} field_t;

static int next_field(const uint8_t **pp, const uint8_t *end, field_t *f)
{
	const uint8_t *start = *pp;
	int rc = otf__pb_tag(pp, end, &f->no, &f->wt);
	if (rc)
		return rc;
	f->payload.ptr = NULL;
	f->payload.len = 0;
	if (f->wt == OTF_WT_LEN)
		rc = otf__pb_len(pp, end, &f->payload.ptr, &f->payload.len);
	else
		rc = otf__pb_skip(pp, end, f->wt);
	if (rc)
		return rc;
	f->raw.ptr = start;
	f->raw.len = (size_t)(*pp - start);
	return 0;
}

static uint64_t count_field(otf_bytes_t msg, uint32_t field)
{
	otf_view_iter_t it;
	otf_bytes_t x;
	uint64_t n = 0;
	otf_view_iter_init(&it, msg, field);
	while (otf_view_iter_next(&it, &x) > 0)
		n++;
	return n;
}

static uint64_t metric_items(otf_bytes_t metric)
{
	otf_view_metric_t m;
	if (otf_view_metric_read(metric, &m))
		return 0;
	otf_view_dp_iter_t it;
	otf_bytes_t dp;
	uint64_t n = 0;
	otf_view_data_points(&it, &m);
	while (otf_view_dp_next(&it, &dp) > 0)
		n++;
	return n;
}

static uint64_t scope_items(otf_signal_t sig, otf_bytes_t scope)
{
	if (sig != OTF_SIGNAL_METRICS)
		return count_field(scope, 2);
	otf_view_iter_t it;
	otf_bytes_t m;
	uint64_t n = 0;
	otf_view_records(&it, scope);
	while (otf_view_iter_next(&it, &m) > 0)
		n += metric_items(m);
	return n;
}

static uint64_t resource_items(otf_signal_t sig, otf_bytes_t rg)
{
	otf_view_iter_t it;
	otf_bytes_t s;
	uint64_t n = 0;
	otf_view_scopes(&it, rg);
	while (otf_view_iter_next(&it, &s) > 0)
		n += scope_items(sig, s);
	return n;
}

static bool is_metric_data(uint32_t no)
{
	return no == OTF_METRIC_GAUGE || no == OTF_METRIC_SUM || no == OTF_METRIC_HISTOGRAM ||
	       no == OTF_METRIC_EXP_HISTOGRAM || no == OTF_METRIC_SUMMARY;
}

typedef struct split_ctx {
	otf_signal_t sig;
	wr_t h, t;
} split_ctx_t;

/* Writes the contents of msg (at level lv) cut after k items: the first
 * part into c->h, the rest into c->t. */
static int split_level(split_ctx_t *c, level_t lv, otf_bytes_t msg, uint64_t k)
{
	const uint8_t *p = msg.ptr, *end = msg.ptr + msg.len;
	const uint8_t *chosen = NULL; /* L_METRIC: the data member the views use */
	if (lv == L_METRIC) {
		otf_view_metric_t m;
		int rc = otf_view_metric_read(msg, &m);
		if (rc)
			return rc;
		chosen = m.data.ptr;
	}
	uint64_t taken = 0;
	while (p < end) {
		field_t f;
		int rc = next_field(&p, end, &f);
		if (rc)
			return rc;
		bool child = false;
		uint64_t n = 1;
		if (f.wt == OTF_WT_LEN) {
			switch (lv) {
			case L_TOP:
				child = f.no == 1;
				if (child)
					n = resource_items(c->sig, f.payload);
				break;
			case L_RESOURCE:
				child = f.no == 2;
				if (child)
					n = scope_items(c->sig, f.payload);
				break;
			case L_SCOPE:
				child = f.no == 2;
				if (child && c->sig == OTF_SIGNAL_METRICS)
					n = metric_items(f.payload);
				break;
			case L_METRIC:
				if (is_metric_data(f.no) && f.payload.ptr != chosen)
					continue; /* an earlier oneof member: overridden */
				child = f.payload.ptr == chosen && is_metric_data(f.no);
				if (child)
					n = count_field(f.payload, 1);
				break;
			case L_DATA:
				child = f.no == 1;
				break;
			}
		}
		if (!child) {
			wr_put(&c->h, f.raw.ptr, f.raw.len);
			wr_put(&c->t, f.raw.ptr, f.raw.len);
		} else if (taken >= k) {
			wr_put(&c->t, f.raw.ptr, f.raw.len);
		} else if (taken + n <= k) {
			wr_put(&c->h, f.raw.ptr, f.raw.len);
			taken += n;
		} else {
			size_t mh = wr_begin(&c->h, f.no);
			size_t mt = wr_begin(&c->t, f.no);
			rc = split_level(c, (level_t)(lv + 1), f.payload, k - taken);
			if (rc)
				return rc;
			wr_end(&c->h, mh);
			wr_end(&c->t, mt);
			taken = k;
		}
		if (c->h.err || c->t.err)
			return OTF_E_NOMEM;
	}
	return 0;
}

int otf__batch_split(otf_signal_t sig, const uint8_t *data, size_t len, uint64_t k,
                     otf_buf_t **head, otf_buf_t **tail)
{
	split_ctx_t c;
	memset(&c, 0, sizeof c);
	c.sig = sig;
	/* Each part is at most the input plus the re-framed prefixes. */
	c.h.b = otf_buf_create(len + 64);
	c.t.b = otf_buf_create(len + 64);
	int rc = c.h.b && c.t.b ? 0 : OTF_E_NOMEM;
	if (!rc)
		rc = split_level(&c, L_TOP, (otf_bytes_t){data, len}, k);
	if (!rc)
		rc = c.h.err ? c.h.err : c.t.err;
	if (rc) {
		otf_buf_unref(c.h.b);
		otf_buf_unref(c.t.b);
		return rc;
	}
	*head = c.h.b;
	*tail = c.t.b;
	return 0;
}
