/* Process-wide, reference-counted self-metric counters of the sampling
 * processors: see sampler_counters.h. */
#include "sampler_counters.h"

#include "otflow/alloc.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef struct entry entry_t;
struct entry {
	otf_selfcounter_t c; /* first: put() gets the entry back from it */
	int refs;
	entry_t *next;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static entry_t *g_list;

otf_selfcounter_t *otf__sampler_counter_get(const char *name, const char *desc, const char *unit,
                                            const char *label)
{
	pthread_mutex_lock(&g_lock);
	entry_t *e;
	/* "processor:name@pipeline" -> "name@pipeline", as the engine's
	 * otelcol_processor_* counters are labelled. */
	const char *colon = strchr(label, ':');
	const char *bare = colon ? colon + 1 : label;
	for (e = g_list; e; e = e->next)
		if (!strcmp(e->c.name, name) && !strcmp(e->c.label, bare))
			break;
	if (e) {
		e->refs++;
	} else if ((e = otf_calloc(1, sizeof *e))) {
		e->c.name = name;
		e->c.desc = desc;
		e->c.unit = unit;
		e->c.label_key = "processor";
		snprintf(e->c.label, sizeof e->c.label, "%s", bare);
		e->refs = 1;
		e->next = g_list;
		g_list = e;
		otf_selfcounter_register(&e->c);
	}
	pthread_mutex_unlock(&g_lock);
	return e ? &e->c : NULL;
}

void otf__sampler_counter_put(otf_selfcounter_t *c)
{
	if (!c)
		return;
	entry_t *e = (entry_t *)(void *)c;
	pthread_mutex_lock(&g_lock);
	if (--e->refs == 0) {
		for (entry_t **p = &g_list; *p; p = &(*p)->next)
			if (*p == e) {
				*p = e->next;
				break;
			}
		otf_selfcounter_unregister(&e->c);
		otf_free(e);
	}
	pthread_mutex_unlock(&g_lock);
}
