/* Text rendering of pdata for the debug exporter, in the layout of the
 * OpenTelemetry Collector's debug exporter (verbosity normal and detailed). */
#ifndef OTF_DEBUG_FORMAT_H
#define OTF_DEBUG_FORMAT_H

#include "otflow/pdata.h"

#include <stdio.h>

void otf__debug_traces(FILE *f, const otf_traces_t *t, int detailed);
void otf__debug_metrics(FILE *f, const otf_metrics_t *m, int detailed);
void otf__debug_logs(FILE *f, const otf_logs_t *l, int detailed);

/* sampling_initial / sampling_thereafter, as the Collector's debug exporter
 * samples its log output (zap's sampler, tick 1 s): within each second the
 * first `initial` requests of a signal are printed, then every
 * `thereafter`-th (0: none); the window restarts at the first request after
 * it ends. Returns true to print. Not thread-safe: the caller serialises. */
typedef struct otf_debug_sampler {
	uint64_t reset_at_ns; /* end of the current window */
	uint64_t count;       /* requests seen in it */
} otf_debug_sampler_t;

#include <stdbool.h>
#include <stdint.h>
bool otf__debug_sample(otf_debug_sampler_t *s, int64_t initial, int64_t thereafter,
                       uint64_t now_ns);

#endif
