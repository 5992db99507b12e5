/* In-order offset tracking (kafka_offsets.h). */
#include "kafka_offsets.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

int otf__kafka_track_init(otf_kafka_track_t *t, size_t cap)
{
	if (!cap)
		return OTF_E_INVAL;
	t->offsets = otf_calloc(cap, sizeof *t->offsets);
	t->done = otf_calloc(cap, sizeof *t->done);
	if (!t->offsets || !t->done) {
		otf_free(t->offsets);
		otf_free(t->done);
		t->offsets = NULL;
		t->done = NULL;
		return OTF_E_NOMEM;
	}
	t->cap = cap;
	t->head = t->len = 0;
	t->last_added = -1;
	t->committed = -1;
	return 0;
}

void otf__kafka_track_close(otf_kafka_track_t *t)
{
	otf_free(t->offsets);
	otf_free(t->done);
	t->offsets = NULL;
	t->done = NULL;
	t->cap = t->len = 0;
}

int otf__kafka_track_add(otf_kafka_track_t *t, int64_t offset)
{
	if (offset < 0 || offset <= t->last_added)
		return OTF_E_INVAL;
	if (t->len >= t->cap)
		return OTF_E_NOSPACE;
	size_t i = (t->head + t->len) % t->cap;
	t->offsets[i] = offset;
	t->done[i] = false;
	t->len++;
	t->last_added = offset;
	return 0;
}

int64_t otf__kafka_track_done(otf_kafka_track_t *t, int64_t offset)
{
	/* Entries are sorted: binary search over the ring's logical order. */
	size_t lo = 0, hi = t->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int64_t o = t->offsets[(t->head + mid) % t->cap];
		if (o < offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= t->len)
		return OTF_E_NOT_FOUND;
	size_t i = (t->head + lo) % t->cap;
	if (t->offsets[i] != offset || t->done[i])
		return OTF_E_NOT_FOUND;
	t->done[i] = true;
	int64_t pos = 0;
	while (t->len && t->done[t->head]) {
		pos = t->offsets[t->head] + 1;
		t->head = (t->head + 1) % t->cap;
		t->len--;
	}
	if (pos)
		t->committed = pos;
	return pos;
}
