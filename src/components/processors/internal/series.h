/* Per-series state of the stateful metrics processors (cumulativetodelta,
 * deltatocumulative, interval): the identity of a series (stream) and a
 * map from it to the processor's state, shared by the node's instances on
 * every worker.
 *
 * Why shared and not routed: the receivers' workers accept connections
 * from one socket, so the points of one series arrive on whichever worker
 * took the client's connection, and a client may reconnect (or send on
 * several connections) at any time. Routing series to one worker would
 * need a cross-worker data hop per point (a decode to find the series,
 * then a queue), which the engine keeps for control traffic only. A map
 * sharded by the identity hash, one mutex per shard, costs one
 * uncontended lock per point in the common case and gives every worker
 * the same state, so a counter split across connections converts as if
 * it had come on one.
 *
 * Identity (as the Collector's streams: pdatautil / tracking.MetricIdentity):
 * resource attributes, scope name, version and attributes, metric name,
 * unit, type, temporality and monotonicity, and the point's attributes;
 * attribute order does not matter. The key is a 128-bit hash (two
 * independent 64-bit hashes): two series share a slot only on a 128-bit
 * collision.
 *
 * Bounds: at most max_series entries; a new series past that is refused
 * (-ENOSPC) and the caller counts it. Entries not seen for a while are
 * evicted by otf__series_map_evict (each processor's timer), counted.
 *
 * Units: ns. Thread rules: every function is thread-safe; an entry
 * returned by _lock may be used only until the matching _unlock (the
 * shard's mutex is held in between: do not lock a second entry). */
#ifndef OTF_SERIES_H
#define OTF_SERIES_H

#include "otflow/pdata.h"
#include "otflow/selfmetric.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct otf_series_key {
	uint64_t a, b;
} otf_series_key_t;

/* Hash of an attribute list, independent of its order; seed selects one
 * of the two independent hashes. */
uint64_t otf__series_hash_attrs(const otf_attributes_t *attrs, uint64_t seed);
/* Keys of the levels of a series: resource, scope (under its resource),
 * metric (under its scope) and the point (under its metric). */
otf_series_key_t otf__series_resource_key(const otf_resource_t *r);
otf_series_key_t otf__series_scope_key(otf_series_key_t rk, const otf_scope_t *s);
otf_series_key_t otf__series_metric_key(otf_series_key_t sk, const otf_metric_t *m);
/* extra: what else the caller wants in the identity (cumulativetodelta:
 * the start time, as the Collector's identity has it). */
otf_series_key_t otf__series_point_key(otf_series_key_t mk, const otf_attributes_t *attrs,
                                       uint64_t extra);

typedef struct otf_series_entry otf_series_entry_t;
struct otf_series_entry {
	otf_series_entry_t *next;
	otf_series_key_t key;
	uint64_t seen_ns; /* last update (CLOCK_MONOTONIC) */
	/* The processor's state, owned by the entry: freed by free_data. */
	void *data;
	uint64_t u[4]; /* small state that needs no allocation */
};

typedef struct otf_series_map otf_series_map_t;

/* Called with the shard locked on every entry removed (evicted, drained,
 * destroyed) to release its data. */
typedef void (*otf_series_free_fn)(otf_series_entry_t *e);

/* The map of node `node_name` ("processor:cumulativetodelta/x") of the
 * engine whose parsed config struct is `owner` (the create context's
 * config: one per engine, shared by the node's instances on every
 * worker, so two engines in one process never share a map), created on
 * the first call and shared (refcounted) by the later ones with the same
 * name and owner: each worker's instance calls it at create and _put at
 * destroy. max_series 0 = no bound but OTF_SERIES_HARD_MAX. NULL on OOM. */
otf_series_map_t *otf__series_map_get(const char *node_name, const void *owner, size_t max_series,
                                      otf_series_free_fn free_data);
void otf__series_map_put(otf_series_map_t *m);

/* Hard bound whatever the config: 1M series. */
#define OTF_SERIES_HARD_MAX ((size_t)1 << 20)

/* Finds the entry of key, creating it (data NULL, u zero) when create is
 * set. 1 found, 0 created (then *out is set), OTF_E_NOT_FOUND (create
 * false), -ENOSPC (at max_series), OTF_E_NOMEM; on 0 and 1 the shard
 * stays locked until otf__series_map_unlock(m, *out). now_ns updates
 * seen_ns. */
int otf__series_map_lock(otf_series_map_t *m, otf_series_key_t key, bool create, uint64_t now_ns,
                         otf_series_entry_t **out);
void otf__series_map_unlock(otf_series_map_t *m, otf_series_entry_t *e);
/* Removes e (locked by the caller through _lock) and unlocks its shard. */
void otf__series_map_remove_unlock(otf_series_map_t *m, otf_series_entry_t *e);

/* Removes the entries not seen since older_than_ns; returns how many. */
size_t otf__series_map_evict(otf_series_map_t *m, uint64_t older_than_ns);
/* Removes every entry, calling fn(user, e) first (under the shard's lock;
 * fn takes over e->data and sets it NULL if it keeps it). */
void otf__series_map_drain(otf_series_map_t *m, void (*fn)(void *user, otf_series_entry_t *e),
                           void *user);

typedef struct otf_series_stats {
	size_t series;    /* tracked now */
	uint64_t evicted; /* removed as stale, ever */
	uint64_t refused; /* new series refused at the bound, ever */
} otf_series_stats_t;
void otf__series_map_stats(otf_series_map_t *m, otf_series_stats_t *out);
/* Counts one refusal (the caller got -ENOSPC). */
void otf__series_map_count_refused(otf_series_map_t *m, uint64_t n);
/* CLOCK_MONOTONIC and CLOCK_REALTIME in ns. */
uint64_t otf__series_mono_ns(void);
uint64_t otf__series_unix_ns(void);

#endif
