/* Deterministic OTLP requests for the codec benchmark: every call with the
 * same arguments returns the same bytes, so figures from different runs
 * and machines describe the same work. */
#ifndef OTFLOW_BENCH_DATA_H
#define OTFLOW_BENCH_DATA_H

#include "otflow/buf.h"
#include "otflow/pdata.h"

#include <stddef.h>

/* n log records of about 360 bytes each (HTTP access log style: semantic-
 * convention attributes, a string body, trace and span ids), one resource,
 * one scope, encoded with otflow's encoder. 0 or a negative OTF_E_* code. */
int bench_logs(size_t n, otf_buf_t **out);

/* n server and client spans with 9 attributes, one event and a status. */
int bench_spans(size_t n, otf_buf_t **out);

/* About n data points: half cumulative sums, half explicit-bucket
 * histograms (16 buckets), each point with HTTP attributes. */
int bench_metrics(size_t n, otf_buf_t **out);

#endif
