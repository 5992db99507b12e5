/* Process-wide admission flag (otflow/component.h, "admission"): a count
 * of holds, so independent holders (one memory_limiter instance per worker
 * and pipeline) raise and lower it without coordinating. */
#include "otflow/component.h"

#include <stdatomic.h>

static _Atomic int g_holds;

void otf_admission_hold(void)
{
	atomic_fetch_add_explicit(&g_holds, 1, memory_order_relaxed);
}

void otf_admission_release(void)
{
	atomic_fetch_sub_explicit(&g_holds, 1, memory_order_relaxed);
}

bool otf_admission_refused(void)
{
	return atomic_load_explicit(&g_holds, memory_order_relaxed) > 0;
}
