/* Self-metrics and rate-limited warnings of the otlp_mmap receiver: see otlp_mmap_obs.h. */
#include "otlp_mmap_obs.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name, *desc, *unit, *what;
} k_defs[OTF_MMO_N] = {
    {"otelcol_receiver_otlp_mmap_producer_dropped_records",
     "Records the producer could not write into the file (ring full, too large), as the file "
     "reports them.",
     "{records}", "dropped by the producer"},
    {"otelcol_receiver_otlp_mmap_holes",
     "Ring slots claimed by a producer but never published, skipped after hole_timeout.", "{slots}",
     "hole(s) skipped"},
    {"otelcol_receiver_otlp_mmap_undecodable_records",
     "Ring records that could not be decoded and were skipped.", "{records}",
     "undecodable record(s) skipped"},
    {"otelcol_receiver_otlp_mmap_epoch_changes",
     "Files re-initialised by a new producer while being read.", "{changes}", "epoch change(s)"},
    {"otelcol_receiver_otlp_mmap_incomplete_spans",
     "Spans emitted without their end (TTL, limit, epoch change), marked "
     "otflow.mmap.incomplete.",
     "{spans}", "span(s) emitted incomplete"},
    {"otelcol_receiver_otlp_mmap_corrupt_files",
     "Files that shrank under the reader; they are closed and read again from their own "
     "reader index.",
     "{files}", "corrupt (shrank while mapped)"},
    {"otelcol_receiver_otlp_mmap_checkpoints_refused",
     "at_least_once checkpoints refused because they do not match their file.", "{checkpoints}",
     "checkpoint(s) refused"},
};

void otf__mmo_init(otf__mmo_t *o, const char *component_id)
{
	memset(o, 0, sizeof *o);
	for (int k = 0; k < OTF_MMO_N; k++) {
		otf_selfcounter_t *c = &o->c[k];
		c->name = k_defs[k].name;
		c->desc = k_defs[k].desc;
		c->unit = k_defs[k].unit;
		c->label_key = "receiver";
		snprintf(c->label, sizeof c->label, "%s", component_id);
		otf_selfcounter_register(c);
	}
	o->registered = true;
}

void otf__mmo_close(otf__mmo_t *o)
{
	if (!o->registered)
		return;
	for (int k = 0; k < OTF_MMO_N; k++)
		otf_selfcounter_unregister(&o->c[k]);
	o->registered = false;
}

void otf__mmo_add(otf__mmo_t *o, otf__mmo_file_t *f, int k, uint64_t n)
{
	if (!n)
		return;
	if (o->registered)
		otf_selfcounter_add(&o->c[k], n);
	f->pending[k] += n;
}

static void grew(otf__mmo_t *o, otf__mmo_file_t *f, int k, uint64_t now)
{
	if (now > f->seen[k])
		otf__mmo_add(o, f, k, now - f->seen[k]);
	f->seen[k] = now;
}

void otf__mmo_sample(otf__mmo_t *o, otf__mmo_file_t *f, const otf__mmd_t *d)
{
	uint64_t holes = 0, undec = d->st.bad_records;
	for (int i = 0; i < OTF_MMR_RINGS; i++) {
		holes += d->r.ring[i].holes;
		undec += d->r.ring[i].undecodable;
	}
	grew(o, f, OTF_MMO_HOLES, holes);
	grew(o, f, OTF_MMO_UNDECODABLE, undec);
	grew(o, f, OTF_MMO_EPOCHS, d->r.epoch_changes);
	grew(o, f, OTF_MMO_INCOMPLETE, d->st.incomplete);
	if (!d->r.ready)
		return;
	/* The file's drop counters restart with each producer. */
	if (d->r.epoch != f->epoch) {
		memset(f->drops, 0, sizeof f->drops);
		f->epoch = d->r.epoch;
	}
	for (int i = 0; i < 4; i++) {
		uint64_t v = otf__mmr_drops(&d->r, i);
		otf__mmo_add(o, f, OTF_MMO_PRODUCER_DROPS, v >= f->drops[i] ? v - f->drops[i] : v);
		f->drops[i] = v;
	}
}

void otf__mmo_warn(otf__mmo_file_t *f, otf_node_t *node, const char *path, uint64_t mono_ns,
                   bool now)
{
	bool any = false;
	for (int k = 0; k < OTF_MMO_N && !any; k++)
		any = f->pending[k] != 0;
	if (!any ||
	    (!now && f->last_warn_ns && mono_ns - f->last_warn_ns < OTF_MMO_WARN_INTERVAL_NS))
		return;
	char line[512];
	size_t n = 0;
	for (int k = 0; k < OTF_MMO_N; k++) {
		if (!f->pending[k] || n >= sizeof line)
			continue;
		int w = snprintf(line + n, sizeof line - n, "%s%llu %s", n ? ", " : "",
		                 (unsigned long long)f->pending[k], k_defs[k].what);
		if (w > 0)
			n += (size_t)w;
		f->pending[k] = 0;
	}
	f->last_warn_ns = mono_ns;
	otf_node_log(node, OTF_LOG_WARN, "%s: %s (data lost before the pipeline)", path, line);
}
