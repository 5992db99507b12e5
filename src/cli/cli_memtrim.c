/* Memory release after a burst (otflow run): once a second the main
 * thread looks at malloc's books (mallinfo2) and, when at least 1 MiB that
 * was in use at the last look has been freed and what malloc keeps free is
 * at least what is in use, two looks in a row, it calls malloc_trim(0):
 * free pages inside the heap go back to the kernel (MADV_DONTNEED) and the
 * heap's free top is cut. main.c keeps 16 MiB of free top and request
 * buffers up to 8 MiB in the heap so that steady traffic reuses its pages
 * instead of faulting them in per request; without this, the high-water
 * mark of a burst stayed resident for good. Under steady load the second
 * condition rarely holds twice in a row, and a trim then costs a few
 * hundred page faults.
 *
 * malloc_trim cuts and releases only what it sees from one arena's books
 * with that arena's lock held; the worker threads' arenas have no free top
 * it may cut, so main.c keeps every thread in one arena (M_ARENA_MAX 1). */
#include "cli/cli.h"

#include "otflow/alloc.h"

#include <malloc.h>
#include <uv.h>

#define TICK_MS  1000
#define MIN_FREE (1u << 20)

struct otf_cli_memtrim {
	uv_timer_t timer;
	size_t high;   /* most bytes in use seen since the last trim */
	unsigned calm; /* looks in a row that asked for a trim */
	uint64_t trims;
};

static void on_tick(uv_timer_t *h)
{
	otf_cli_memtrim_t *t = h->data;
	struct mallinfo2 mi = mallinfo2();
	size_t used = mi.uordblks, held = mi.fordblks;
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
