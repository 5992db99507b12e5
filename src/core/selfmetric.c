/* Registry of component-defined self-metric counters: see otflow/selfmetric.h. */
#include "otflow/selfmetric.h"

#include <pthread.h>
#include <stddef.h>

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static otf_selfcounter_t *g_head, **g_tail = &g_head;

void otf_selfcounter_register(otf_selfcounter_t *c)
{
	pthread_mutex_lock(&g_mu);
	c->next = NULL;
	*g_tail = c;
	g_tail = &c->next;
	pthread_mutex_unlock(&g_mu);
}

void otf_selfcounter_unregister(otf_selfcounter_t *c)
{
	pthread_mutex_lock(&g_mu);
	for (otf_selfcounter_t **p = &g_head; *p; p = &(*p)->next) {
		if (*p != c)
			continue;
		*p = c->next;
		if (g_tail == &c->next)
			g_tail = p;
		break;
	}
	pthread_mutex_unlock(&g_mu);
}

void otf_selfcounters_each(otf_selfcounter_fn fn, void *ctx)
{
	pthread_mutex_lock(&g_mu);
	for (otf_selfcounter_t *c = g_head; c; c = c->next)
		fn(ctx, c, __atomic_load_n(&c->value, __ATOMIC_RELAXED));
	pthread_mutex_unlock(&g_mu);
}
