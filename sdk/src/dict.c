/* Dictionary: append-only entries (varint length + bytes) referenced by absolute file offset,
 * interned by content through a preallocated process-local index (docs/mmap-protocol.md
 * section 4). The file is mapped at its maximum size once, so growing it is an fallocate and
 * never a remap: no thread can write into an unmapped region. */
#include "otmm_internal.h"

uint64_t otmm__hash(const void *p, size_t n, uint64_t seed)
{
	const uint8_t *b = p;
	uint64_t h = seed ^ ((uint64_t)n * 0x9E3779B97F4A7C15ull);
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, b, 8);
		h = (h ^ v) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
		b += 8;
		n -= 8;
	}
	if (n) {
		uint64_t v = 0;
		memcpy(&v, b, n);
		h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
		h ^= h >> 29;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static int64_t dict_append(otmm_t *m, const void *b, size_t n)
{
	uint64_t total = varint_size(n) + n;
	int64_t old = atomic_load_explicit(m->dict_end, memory_order_relaxed);
	do {
		if ((uint64_t)old + total > m->dict_limit) {
			atomic_fetch_add_explicit(m->dict_refused, 1, memory_order_relaxed);
			return OTMM_E_DICT_FULL;
		}
	} while (!atomic_compare_exchange_weak_explicit(
	    m->dict_end, &old, old + (int64_t)total, memory_order_relaxed, memory_order_relaxed));
	if (otmm__ensure_file(m, (uint64_t)old + total) < 0) {
		atomic_fetch_add_explicit(m->dict_refused, 1, memory_order_relaxed);
		return OTMM_E_DICT_FULL;
	}
	pbw_t w;
	pbw_init(&w, otmm__at(m, (uint64_t)old), total);
	pbw_raw(&w, b, n);
	pbw_varint(&w, n);
	atomic_fetch_add_explicit(m->dict_entries, 1, memory_order_relaxed);
	return old;
}

/* our own entry at ref (trusted: we wrote it) equals b[0..n) */
static bool entry_equals(const otmm_t *m, int64_t ref, const void *b, size_t n)
{
	const uint8_t *p = otmm__at(m, (uint64_t)ref);
	uint64_t len = 0;
	unsigned shift = 0;
	while (*p & 0x80) {
		len |= (uint64_t)(*p++ & 0x7f) << shift;
		shift += 7;
	}
	len |= (uint64_t)*p++ << shift;
	return len == n && memcmp(p, b, n) == 0;
}

int64_t otmm__intern(otmm_t *m, const void *b, size_t n)
{
	uint64_t h = otmm__hash(b, n, 0x5bd1e995ull) | 1;
	uint64_t i = h & m->index_mask;
	for (int probe = 0; probe < 64; probe++, i = (i + 1) & m->index_mask) {
		otmm_index_entry_t *e = &m->intern[i];
		uint64_t eh = atomic_load_explicit(&e->hash, memory_order_acquire);
		if (eh == 0 && atomic_compare_exchange_strong_explicit(
		                   &e->hash, &eh, h, memory_order_acq_rel, memory_order_acquire)) {
			int64_t ref = dict_append(m, b, n);
			/* a failed append leaves -1: later lookups probe past it */
			atomic_store_explicit(&e->val, ref > 0 ? ref : -1, memory_order_release);
			return ref;
		}
		if (eh != h)
			continue;
		int64_t v = atomic_load_explicit(&e->val, memory_order_acquire);
		if (v == 0) /* another thread is writing it: same bytes, written twice */
			return dict_append(m, b, n);
		if (v > 0 && entry_equals(m, v, b, n))
			return v;
	}
	return dict_append(m, b, n); /* index crowded: not cached */
}

int64_t otmm__intern_str(otmm_t *m, const char *s)
{
	if (!s || !*s)
		return 0;
	return otmm__intern(m, s, strlen(s));
}
