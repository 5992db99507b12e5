/* Decode-failure details shared by the protobuf and JSON decoders.
 *
 * The innermost decoder that detects a failure calls otf__perr_set() with the
 * code, byte offset and a detail; each enclosing level, as the error unwinds,
 * calls otf__perr_push() to prepend its field name (and element index), so
 * the finished path reads outermost first:
 *   resource_spans[0].scope_spans[1].spans[3].trace_id
 * Only failure paths pay for this. Every function accepts err == NULL.
 */
#ifndef OTF_PDATA_ERR_H
#define OTF_PDATA_ERR_H

#include "otflow/pdata_codec.h"

/* Returns code, for `return otf__perr_set(...)`. */
int otf__perr_set(otf_pdata_error_t *err, int code, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prepends "field[index]" (index >= 0) or "field" (index < 0). Returns code. */
int otf__perr_push(otf_pdata_error_t *err, int code, const char *field, long index);

#endif
