/* Text rendering of pdata for the debug exporter, in the layout of the
 * OpenTelemetry Collector's debug exporter (verbosity normal and detailed). */
#ifndef OTF_DEBUG_FORMAT_H
#define OTF_DEBUG_FORMAT_H

#include "otflow/pdata.h"

#include <stdio.h>

void otf__debug_traces(FILE *f, const otf_traces_t *t, int detailed);
void otf__debug_metrics(FILE *f, const otf_metrics_t *m, int detailed);
void otf__debug_logs(FILE *f, const otf_logs_t *l, int detailed);

#endif
