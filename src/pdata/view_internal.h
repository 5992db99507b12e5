/* Protobuf views: field readers shared by view.c and view_metrics.c.
 * Each checks the wire type of a known field, so a view never accepts a
 * field the decoder would reject for its type. */
#ifndef OTF_PDATA_VIEW_INTERNAL_H
#define OTF_PDATA_VIEW_INTERNAL_H

#include "otflow/pdata_view.h"
#include "pb_wire.h"

/* End of a slice; an empty slice may have a NULL ptr, and NULL + 0 is
 * undefined behaviour in C. */
static inline const uint8_t *otf__view_end(otf_bytes_t b)
{
	return b.len ? b.ptr + b.len : b.ptr;
}

static inline int otf__view_len(const uint8_t **pp, const uint8_t *end, uint32_t wt,
                                otf_bytes_t *out)
{
	if (OTF_UNLIKELY(wt != OTF_WT_LEN))
		return OTF_E_WIRETYPE;
	return otf__pb_len(pp, end, &out->ptr, &out->len);
}

static inline int otf__view_varint(const uint8_t **pp, const uint8_t *end, uint32_t wt, uint64_t *v)
{
	if (OTF_UNLIKELY(wt != OTF_WT_VARINT))
		return OTF_E_WIRETYPE;
	return otf__pb_varint(pp, end, v);
}

static inline int otf__view_fixed64(const uint8_t **pp, const uint8_t *end, uint32_t wt,
                                    uint64_t *v)
{
	if (OTF_UNLIKELY(wt != OTF_WT_I64))
		return OTF_E_WIRETYPE;
	return otf__pb_fixed64(pp, end, v);
}

static inline int otf__view_fixed32(const uint8_t **pp, const uint8_t *end, uint32_t wt,
                                    uint32_t *v)
{
	if (OTF_UNLIKELY(wt != OTF_WT_I32))
		return OTF_E_WIRETYPE;
	return otf__pb_fixed32(pp, end, v);
}

/* Counts the occurrences of LEN field `field` in [p, end), adding to *n.
 * The hot loop of the count functions: a one-byte tag compare and a skip
 * per record. On failure *err_at is the start of the bad field. */
int otf__view_count_field(const uint8_t *p, const uint8_t *end, uint32_t field, size_t *n,
                          const uint8_t **err_at);

#endif
