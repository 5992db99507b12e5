/* Counted allocation wrapper.
 *
 * Every heap allocation otflow makes goes through these functions so that
 * (1) the bytes in use are a self-metric (otf_alloc_stats), and (2) tests can
 * make allocation fail on purpose (otf_alloc_fail_after) to prove that every
 * error path cleans up.
 *
 * Semantics follow malloc/calloc/realloc/free. A failed call returns NULL and
 * leaves the old block (realloc) untouched. otf_free(NULL) is a no-op.
 * Blocks from these functions must be released with otf_free, never free().
 *
 * Thread rules: all functions are thread-safe (relaxed atomics).
 */
#ifndef OTFLOW_ALLOC_H
#define OTFLOW_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void *otf_malloc(size_t size);
void *otf_calloc(size_t nmemb, size_t size);
void *otf_realloc(void *ptr, size_t size);
void otf_free(void *ptr);

/* Copy of the first len bytes of s plus a NUL; NULL on failure. */
char *otf_strndup(const char *s, size_t len);

typedef struct otf_alloc_stats {
	uint64_t bytes_in_use; /* bytes requested by live blocks */
	uint64_t allocs_total; /* successful malloc/calloc/realloc calls, ever */
	uint64_t frees_total;  /* otf_free calls on non-NULL pointers, ever */
	uint64_t failed_total; /* calls that returned NULL */
} otf_alloc_stats_t;

void otf_alloc_stats(otf_alloc_stats_t *out);

/* Test hook: after n more successful allocations, every allocation fails
 * until otf_alloc_fail_after(-1) restores normal behaviour. n = 0 makes the
 * very next allocation fail. Process-wide. */
void otf_alloc_fail_after(int64_t n);

#ifdef __cplusplus
}
#endif
#endif
