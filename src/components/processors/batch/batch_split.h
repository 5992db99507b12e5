/* Splitting an OTLP Export*ServiceRequest at an item boundary without
 * decoding it: the request is walked with the protobuf views and the parts
 * are re-framed at the resource, scope, metric and data-point levels.
 * Internal to the batch processor. */
#ifndef OTF_BATCH_SPLIT_H
#define OTF_BATCH_SPLIT_H

#include "otflow/buf.h"
#include "otflow/pdata.h"

#include <stdint.h>

/* Splits the request data[0..len) of signal sig into *head holding its
 * first k items (spans, data points or log records, in order) and *tail
 * holding the rest. Fields other than the repeated child fields (resource,
 * scope, schema_url, metric name/unit, temporality, unknown fields) are
 * copied into both parts of a resource, scope or metric that is cut, so
 * each part is a complete request. 0 < k < items(data) is expected; the
 * caller recounts the parts (otf_view_count) rather than trusting k.
 * Returns 0, OTF_E_NOMEM, or a view error for malformed input; on failure
 * nothing is allocated. */
int otf__batch_split(otf_signal_t sig, const uint8_t *data, size_t len, uint64_t k,
                     otf_buf_t **head, otf_buf_t **tail);

#endif
