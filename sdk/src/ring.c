/* Ring buffers: claim with a CAS on writer_index, copy, publish with a release store of the lap
 * flag (docs/mmap-protocol.md section 3). A record is claimed only when it fits, so a claimed slot
 * is always published; a full ring gets a bounded spin, then the record is dropped and counted. */
#include "otmm_internal.h"

#include <time.h>

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void otmm__ring_drop(otmm_t *m, int ring)
{
	atomic_fetch_add_explicit(m->rings[ring].dropped, 1, memory_order_relaxed);
}

int otmm__ring_write(otmm_t *m, int ring, const uint8_t *rec, size_t len)
{
	otmm_ring_t *r = &m->rings[ring];
	if (len > r->slot_size) {
		otmm__ring_drop(m, ring);
		return OTMM_E_TOO_BIG;
	}
	uint64_t deadline = 0;
	unsigned spins = 0;
	int64_t w = atomic_load_explicit(r->writer, memory_order_acquire);
	for (;;) {
		int64_t rd = atomic_load_explicit(r->reader, memory_order_acquire);
		if (w + 1 - (int64_t)r->n < rd) {
			/* capacity: at most N-1 unread slots (defect 2) */
			if (atomic_compare_exchange_weak_explicit(
			        r->writer, &w, w + 1, memory_order_seq_cst, memory_order_acquire)) {
				uint64_t seq = (uint64_t)(w + 1);
				memcpy(r->slots + (seq & r->mask) * r->slot_size, rec, len);
				atomic_store_explicit(&r->avail[seq & r->mask],
				                      (int32_t)(uint32_t)(seq >> r->shift),
				                      memory_order_release);
				return 0;
			}
			continue; /* w was reloaded by the failed CAS */
		}
		/* full: spin for at most spin_ns, reading the clock only now and then */
		if (m->spin_ns == 0)
			break;
		if ((++spins & 15) == 0) {
			uint64_t now = mono_ns();
			if (!deadline)
				deadline = now + m->spin_ns;
			else if (now >= deadline)
				break;
		}
		cpu_relax();
		w = atomic_load_explicit(r->writer, memory_order_acquire);
	}
	otmm__ring_drop(m, ring);
	return OTMM_E_FULL;
}
