/* ERR: component errors and the status derived from them
 * (otflow/component.h: otf_node_error, otf_node_recovered).
 *
 * The engine is the ERR signal's consumer. Each report is counted per
 * node and reason (a self-metric counter registered on the first one),
 * logged rate-limited per node and reason, and, unless it is about data
 * (OTF_ERR_DATA), sets the reporting instance's status. A node's status
 * is the worst of its instances' (one per worker), kept with the time it
 * last changed and the last error's text, for otf_engine_stats: the admin
 * API's /api/v1/dag and the health_check extension read it there.
 *
 * One mutex guards it all: reports come from the workers on failures (and
 * on the first success after one), reads from the main thread, so it is
 * never on a path that runs per message while things work. */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/selfmetric.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define LOG_EVERY_NS (10ull * 1000000000ull)

typedef struct otf_err_entry {
	struct otf_err_entry *next;
	uint32_t node;
	otf_selfcounter_t counter; /* label: the node, label2: the reason */
	uint64_t last_log_ns;
	uint64_t suppressed;
} otf_err_entry_t;

struct otf_status_table {
	pthread_mutex_t mu;
	int workers;
	size_t nodes;    /* indexes covered (grown by a reload: reshape.c) */
	uint8_t *inst;   /* [node * workers + worker]: otf_component_status_t */
	uint8_t *agg;    /* per node */
	uint64_t *since; /* per node: unix ns of the last change of agg */
	char (*error)[120];
	otf_err_entry_t *errs;
};

const char *otf_component_status_name(otf_component_status_t s)
{
	static const char *const k[] = {
	    "StatusStarting",   "StatusOK",       "StatusRecoverableError", "StatusPermanentError",
	    "StatusFatalError", "StatusStopping", "StatusStopped"};
	return (unsigned)s < sizeof k / sizeof k[0] ? k[s] : "StatusNone";
}

static uint64_t unix_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int otf__status_init(otf_engine_t *e)
{
	size_t n = e->dag->nodes_len, w = e->rt.workers;
	otf_status_table_t *t = otf_calloc(1, sizeof *t);
	if (!t)
		return OTF_E_NOMEM;
	t->workers = (int)w;
	t->inst = otf_calloc(n * w + 1, 1);
	t->agg = otf_calloc(n + 1, 1);
	t->since = otf_calloc(n + 1, sizeof *t->since);
	t->error = otf_calloc(n + 1, sizeof *t->error);
	if (!t->inst || !t->agg || !t->since || !t->error) {
		otf_free(t->inst);
		otf_free(t->agg);
		otf_free(t->since);
		otf_free(t->error);
		otf_free(t);
		return OTF_E_NOMEM;
	}
	uint64_t now = unix_ns();
	for (size_t i = 0; i < n; i++) {
		t->agg[i] = OTF_STATUS_OK;
		t->since[i] = now;
		for (size_t k = 0; k < w; k++)
			t->inst[i * w + k] = OTF_STATUS_OK;
	}
	pthread_mutex_init(&t->mu, NULL);
	t->nodes = n;
	e->status = t;
	return 0;
}

int otf__status_grow(otf_engine_t *e, size_t n)
{
	otf_status_table_t *t = e->status;
	if (!t)
		return 0;
	pthread_mutex_lock(&t->mu);
	int rc = 0;
	if (n > t->nodes) {
		size_t w = (size_t)t->workers, old = t->nodes;
		uint8_t *inst = otf_realloc(t->inst, n * w + 1);
		if (inst)
			t->inst = inst;
		uint8_t *agg = inst ? otf_realloc(t->agg, n + 1) : NULL;
		if (agg)
			t->agg = agg;
		uint64_t *since = agg ? otf_realloc(t->since, (n + 1) * sizeof *since) : NULL;
		if (since)
			t->since = since;
		char(*error)[120] = since ? otf_realloc(t->error, (n + 1) * sizeof *error) : NULL;
		if (error) {
			t->error = error;
			uint64_t now = unix_ns();
			for (size_t i = old; i < n; i++) {
				t->agg[i] = OTF_STATUS_OK;
				t->since[i] = now;
				t->error[i][0] = '\0';
				for (size_t k = 0; k < w; k++)
					t->inst[i * w + k] = OTF_STATUS_OK;
			}
			t->nodes = n;
		} else {
			rc = OTF_E_NOMEM;
		}
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

void otf__status_free(otf_engine_t *e)
{
	otf_status_table_t *t = e->status;
	if (!t)
		return;
	while (t->errs) {
		otf_err_entry_t *x = t->errs;
		t->errs = x->next;
		otf_selfcounter_unregister(&x->counter);
		otf_free(x);
	}
	pthread_mutex_destroy(&t->mu);
	otf_free(t->inst);
	otf_free(t->agg);
	otf_free(t->since);
	otf_free(t->error);
	otf_free(t);
	e->status = NULL;
}

/* Recomputes node i's status from its instances (t->mu held). */
static void aggregate(otf_status_table_t *t, uint32_t i, uint64_t now)
{
	uint8_t worst = OTF_STATUS_OK;
	for (int k = 0; k < t->workers; k++) {
		uint8_t s = t->inst[(size_t)i * (size_t)t->workers + (size_t)k];
		if (s > worst && s <= OTF_STATUS_PERMANENT_ERROR)
			worst = s;
	}
	if (worst != t->agg[i]) {
		t->agg[i] = worst;
		t->since[i] = now;
		if (worst == OTF_STATUS_OK)
			t->error[i][0] = '\0';
	}
}

static otf_err_entry_t *entry(otf_status_table_t *t, const otf_node_t *node, const char *reason)
{
	for (otf_err_entry_t *x = t->errs; x; x = x->next)
		if (x->node == node->index && !strcmp(x->counter.label2, reason))
			return x;
	otf_err_entry_t *x = otf_calloc(1, sizeof *x);
	if (!x)
		return NULL;
	x->node = node->index;
	x->counter.name = "otelcol_component_errors";
	x->counter.desc = "Errors components reported (the ERR signal), per component and reason.";
	x->counter.unit = "{errors}";
	x->counter.label_key = "component";
	snprintf(x->counter.label, sizeof x->counter.label, "%s", node->def->name);
	x->counter.label2_key = "reason";
	snprintf(x->counter.label2, sizeof x->counter.label2, "%s", reason);
	otf_selfcounter_register(&x->counter);
	x->next = t->errs;
	t->errs = x;
	return x;
}

void otf_node_error(otf_node_t *node, otf_err_severity_t sev, const char *reason, const char *fmt,
                    ...)
{
	char msg[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!reason || !*reason)
		reason = "error";
	otf_status_table_t *t = node->worker->engine->status;
	uint64_t now = unix_ns();
	bool log = true;
	uint64_t suppressed = 0;
	if (t) {
		pthread_mutex_lock(&t->mu);
		otf_err_entry_t *x = entry(t, node, reason);
		if (x) {
			otf_selfcounter_add(&x->counter, 1);
			log = !x->last_log_ns || now - x->last_log_ns >= LOG_EVERY_NS;
			if (log) {
				suppressed = x->suppressed;
				x->suppressed = 0;
				x->last_log_ns = now;
			} else {
				x->suppressed++;
			}
		}
		if (sev != OTF_ERR_DATA) {
			size_t at =
			    (size_t)node->index * (size_t)t->workers + (size_t)node->worker->index;
			uint8_t s = sev == OTF_ERR_PERMANENT ? OTF_STATUS_PERMANENT_ERROR
			                                     : OTF_STATUS_RECOVERABLE_ERROR;
			if (t->inst[at] < s)
				t->inst[at] = s;
			__atomic_store_n(&node->err_status, t->inst[at], __ATOMIC_RELAXED);
			snprintf(t->error[node->index], sizeof t->error[0], "%.40s: %.76s", reason,
			         msg);
			aggregate(t, node->index, now);
		}
		pthread_mutex_unlock(&t->mu);
	}
	if (!log)
		return;
	if (suppressed)
		otf_node_log(node, sev == OTF_ERR_DATA ? OTF_LOG_WARN : OTF_LOG_ERROR,
		             "%s: %s (%llu more like it in the last 10 s not logged)", reason, msg,
		             (unsigned long long)suppressed);
	else
		otf_node_log(node, sev == OTF_ERR_DATA ? OTF_LOG_WARN : OTF_LOG_ERROR, "%s: %s",
		             reason, msg);
}

void otf_node_recovered(otf_node_t *node)
{
	if (__atomic_load_n(&node->err_status, __ATOMIC_RELAXED) != OTF_STATUS_RECOVERABLE_ERROR)
		return; /* the common case: nothing to clear, no lock */
	otf_status_table_t *t = node->worker->engine->status;
	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	size_t at = (size_t)node->index * (size_t)t->workers + (size_t)node->worker->index;
	if (t->inst[at] == OTF_STATUS_RECOVERABLE_ERROR)
		t->inst[at] = OTF_STATUS_OK;
	__atomic_store_n(&node->err_status, t->inst[at], __ATOMIC_RELAXED);
	uint8_t before = t->agg[node->index];
	aggregate(t, node->index, unix_ns());
	bool ok = before != OTF_STATUS_OK && t->agg[node->index] == OTF_STATUS_OK;
	pthread_mutex_unlock(&t->mu);
	if (ok)
		otf_node_log(node, OTF_LOG_INFO, "recovered: status ok");
}

void otf__status_fill(otf_engine_t *e, uint32_t i, otf_node_stats_t *st)
{
	otf_status_table_t *t = e->status;
	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	st->status = t->agg[i];
	st->status_unix_nano = t->since[i];
	snprintf(st->error, sizeof st->error, "%s", t->error[i]);
	pthread_mutex_unlock(&t->mu);
	if (atomic_load(&e->stop_requested_ns)) {
		/* Shutdown: every node stops; stopped once its worker finished. */
		bool all_done = true;
		for (int k = 0; k < e->workers_len; k++)
			if (__atomic_load_n(&e->workers[k].phase, __ATOMIC_RELAXED) < 2)
				all_done = false;
		st->status = all_done ? OTF_STATUS_STOPPED : OTF_STATUS_STOPPING;
	}
}
