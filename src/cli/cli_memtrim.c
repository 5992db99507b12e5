/* malloc settings of otflow and the release of memory after a burst.
 *
 * glibc serves requests above its mmap threshold (128 KiB at first) with a
 * fresh mmap and gives an arena's free top back above the trim threshold:
 * a 340 KiB OTLP request then costs a page fault and a zeroed page per
 * 4 KiB it is written into, and an munmap or MADV_DONTNEED when freed, on
 * every request (a third of a single gRPC connection's worker time in
 * perf). So once the workers run (otf_cli_memtrim_start), request buffers
 * up to 8 MiB stay in the heap and up to 16 MiB of free top is kept for
 * the next request. Not before: what the start allocates in large blocks
 * (the nodes' control rings, 1.7 MB with two workers) stays in fresh
 * mappings, resident only where touched, instead of being cleared in
 * reused heap memory (0.8 MiB more idle RSS).
 *
 * One arena for every thread (otf_cli_malloc_tune, at process start):
 * glibc's default of one per thread kept each worker's high-water mark
 * apart (a block freed by one worker could not serve the other), and
 * malloc_trim cannot cut a thread arena's free top (8-12 MiB stayed
 * resident after a burst with two workers). The workers allocate about 14
 * times per request (messages, request buffers, not records), so at two
 * workers its lock does not show in CPU time.
 *
 * Release: once a second the main thread looks at malloc's books
 * (mallinfo2) and, when at least 1 MiB that was in use at an earlier look
 * has been freed and what malloc keeps free is at least what is in use,
 * two looks in a row, it calls malloc_trim(0): free pages inside the heap
 * go back to the kernel (MADV_DONTNEED) and the heap's free top is cut.
 * Without it the high-water mark of a burst stayed resident for good.
 * Under steady load the second condition rarely holds twice in a row, and
 * a trim then costs a few hundred page faults.
 *
 * Steady load: the heap also holds free memory that is no burst's rest.
 * The batches being filled (one per worker, ~3.3 MB each at the batch
 * processor's defaults) are the largest blocks; when one is sent and the
 * next does not fit the hole it left (a request buffer took part of it),
 * the next goes to the top and the hole stays resident: at 100k logs/s
 * malloc kept 6-11 MB free next to ~9.5 MB in use (malloc_info), most of
 * the process's RSS. So a look that finds at least STEADY_FREE free, and
 * at least a quarter of what is in use, trims too. What that costs is the
 * page faults of the freed memory that is used again (about 1000 a second
 * at 100k logs/s, ~1.5 us each here, against 350 without), not a copy;
 * the quarter keeps it in proportion to the data a large pipeline holds.
 *
 * A GLIBC_TUNABLES setting for malloc replaces all of these settings (the
 * release still runs). */
#include "cli/cli.h"

#include "otflow/alloc.h"

#include <malloc.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define TICK_MS     1000
#define MIN_FREE    (1u << 20)
#define STEADY_FREE (2u << 20)

struct otf_cli_memtrim {
	uv_timer_t timer;
	size_t high;   /* most bytes in use seen since the last trim */
	unsigned calm; /* looks in a row that asked for a trim */
	uint64_t trims;
};

static bool tunables_set(void)
{
	const char *t = getenv("GLIBC_TUNABLES");
	return t && strstr(t, "glibc.malloc.");
}

void otf_cli_malloc_tune(void)
{
	if (!tunables_set())
		mallopt(M_ARENA_MAX, 1);
}

static void on_tick(uv_timer_t *h)
{
	otf_cli_memtrim_t *t = h->data;
	struct mallinfo2 mi = mallinfo2();
	size_t used = mi.uordblks, held = mi.fordblks;
	if (held >= STEADY_FREE && held >= used / 4) {
		malloc_trim(0);
		t->trims++;
		t->high = used;
		t->calm = 0;
		return;
	}
	if (used > t->high)
		t->high = used;
	if (t->high - used >= MIN_FREE && held >= used && held >= MIN_FREE) {
		if (++t->calm < 2)
			return;
		malloc_trim(0);
		t->trims++;
		t->high = used;
	}
	t->calm = 0;
}

otf_cli_memtrim_t *otf_cli_memtrim_start(uv_loop_t *loop)
{
	if (!tunables_set()) {
		mallopt(M_MMAP_THRESHOLD, 8 << 20);
		mallopt(M_TRIM_THRESHOLD, 16 << 20);
	}
	otf_cli_memtrim_t *t = otf_calloc(1, sizeof *t);
	if (!t)
		return NULL;
	uv_timer_init(loop, &t->timer);
	t->timer.data = t;
	uv_timer_start(&t->timer, on_tick, TICK_MS, TICK_MS);
	uv_unref((uv_handle_t *)&t->timer); /* never what keeps the loop running */
	return t;
}

static void on_closed(uv_handle_t *h)
{
	otf_free(h->data);
}

void otf_cli_memtrim_stop(otf_cli_memtrim_t *t)
{
	if (t)
		uv_close((uv_handle_t *)&t->timer, on_closed);
}
