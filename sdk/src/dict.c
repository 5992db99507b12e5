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

/* Attribute keys, event names and scope names are nearly always string literals passed by the
 * same pointer on every call: a direct-mapped cache from the pointer to the ref skips the hash
 * and the index probe. A hit is still verified against the entry's bytes (strlen + memcmp), so a
 * pointer whose memory now holds another string (a reused buffer) is only a miss. The pointer and
 * the ref are two atomics: a torn pair (pointer of one writer, ref of another) fails the
 * verification too, and every ref stored is a complete string entry of this file (the release
 * store of the ref carries the entry's bytes to the thread that acquires it). */
int64_t otmm__intern_str(otmm_t *m, const char *s)
{
	if (!s || !*s)
		return 0;
	size_t n = strlen(s);
	otmm_key_cache_t *c =
	    &m->key_cache[((uintptr_t)s * 0x9E3779B97F4A7C15ull) >> 55 & (OTMM_KEY_CACHE - 1)];
	if (atomic_load_explicit(&c->ptr, memory_order_acquire) == s) {
		int64_t ref = atomic_load_explicit(&c->ref, memory_order_acquire);
		if (ref > 0 && entry_equals(m, ref, s, n))
			return ref;
	}
	int64_t ref = otmm__intern(m, s, n);
	if (ref > 0) {
		atomic_store_explicit(&c->ref, ref, memory_order_release);
		atomic_store_explicit(&c->ptr, s, memory_order_release);
	}
	return ref;
}
