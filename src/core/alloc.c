/* Counted allocation wrapper: a 16-byte header in front of every block holds
 * its size so that otf_free can subtract it from the bytes-in-use counter.
 * 16 keeps the user pointer aligned for any scalar type (max_align_t). */
#include "otflow/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define HDR 16

static _Atomic uint64_t g_in_use;
static _Atomic uint64_t g_allocs;
static _Atomic uint64_t g_frees;
static _Atomic uint64_t g_failed;
static _Atomic int64_t g_fail_after = -1;

/* Returns 1 when this allocation must fail on purpose. */
static int should_fail(void)
{
	int64_t n = atomic_load_explicit(&g_fail_after, memory_order_relaxed);
	if (n < 0)
		return 0;
	while (n > 0) {
		if (atomic_compare_exchange_weak_explicit(
		        &g_fail_after, &n, n - 1, memory_order_relaxed, memory_order_relaxed))
			return 0;
		if (n < 0)
			return 0;
	}
	return 1;
}

static void *finish(unsigned char *raw, size_t size)
{
	if (!raw) {
		atomic_fetch_add_explicit(&g_failed, 1, memory_order_relaxed);
		return NULL;
	}
	memcpy(raw, &size, sizeof size);
	atomic_fetch_add_explicit(&g_in_use, size, memory_order_relaxed);
	atomic_fetch_add_explicit(&g_allocs, 1, memory_order_relaxed);
	return raw + HDR;
}

void *otf_malloc(size_t size)
{
	if (size > SIZE_MAX - HDR || should_fail())
		return finish(NULL, 0);
	return finish(malloc(size + HDR), size);
}

void *otf_calloc(size_t nmemb, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(nmemb, size, &total) || total > SIZE_MAX - HDR || should_fail())
		return finish(NULL, 0);
	return finish(calloc(1, total + HDR), total);
}

void *otf_realloc(void *ptr, size_t size)
{
	if (!ptr)
		return otf_malloc(size);
	if (size > SIZE_MAX - HDR || should_fail())
		return finish(NULL, 0);
	unsigned char *raw = (unsigned char *)ptr - HDR;
	size_t old;
	memcpy(&old, raw, sizeof old);
	unsigned char *n = realloc(raw, size + HDR);
	if (!n)
		return finish(NULL, 0);
	atomic_fetch_sub_explicit(&g_in_use, old, memory_order_relaxed);
	return finish(n, size);
}

void otf_free(void *ptr)
{
	if (!ptr)
		return;
	unsigned char *raw = (unsigned char *)ptr - HDR;
	size_t size;
	memcpy(&size, raw, sizeof size);
	atomic_fetch_sub_explicit(&g_in_use, size, memory_order_relaxed);
	atomic_fetch_add_explicit(&g_frees, 1, memory_order_relaxed);
	free(raw);
}

char *otf_strndup(const char *s, size_t len)
{
	char *d = otf_malloc(len + 1);
	if (!d)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

void otf_alloc_stats(otf_alloc_stats_t *out)
{
	out->bytes_in_use = atomic_load_explicit(&g_in_use, memory_order_relaxed);
	out->allocs_total = atomic_load_explicit(&g_allocs, memory_order_relaxed);
	out->frees_total = atomic_load_explicit(&g_frees, memory_order_relaxed);
	out->failed_total = atomic_load_explicit(&g_failed, memory_order_relaxed);
}

void otf_alloc_fail_after(int64_t n)
{
	atomic_store_explicit(&g_fail_after, n, memory_order_relaxed);
}
