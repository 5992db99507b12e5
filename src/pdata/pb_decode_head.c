/* Protobuf decode of one Resource or InstrumentationScope message alone:
 * the head of a Resource* / Scope* group located with the views
 * (otf_view_group_read), so that a router can evaluate conditions on a
 * resource or scope without decoding the records under it. */
#include "pb_decode_internal.h"

int otf_pdata_decode_resource(otf_resource_t *out, const uint8_t *data, size_t len,
                              otf_arena_t *arena, otf_pdata_error_t *err)
{
	otf__pbd_t d;
	int rc = otf__pbd_begin(&d, out, data, len, arena, NULL, err);
	if (rc)
		return rc;
	return otf__pbd_resource(&d, out, d.base, d.base + len);
}

int otf_pdata_decode_scope(otf_scope_t *out, const uint8_t *data, size_t len, otf_arena_t *arena,
                           otf_pdata_error_t *err)
{
	otf__pbd_t d;
	int rc = otf__pbd_begin(&d, out, data, len, arena, NULL, err);
	if (rc)
		return rc;
	return otf__pbd_scope(&d, out, d.base, d.base + len);
}

int otf_pdata_decode_attributes(otf_attributes_t *out, const uint8_t *msg, size_t len,
                                uint32_t field, otf_arena_t *arena, otf_pdata_error_t *err)
{
	otf__pbd_t d;
	int rc = otf__pbd_begin(&d, out, msg, len, arena, NULL, err);
	if (rc)
		return rc;
	const uint8_t *p = d.base, *end = d.base + len;
	size_t n[3];
	memset(out, 0, sizeof *out);
	otf__pbd_count(p, end, field, 0, 0, n);
	if ((rc = otf__pbd_array(&d, (void **)&out->items, n[0], sizeof(otf_key_value_t), p,
	                         "attributes")))
		return rc;
	while (p < end) {
		const uint8_t *at = p;
		uint32_t f, wt;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(&d, rc, at, end, 0, 0);
		if (f == field)
			rc = otf__pbd_attr(&d, out, &p, end, wt, "attributes");
		else
			rc = otf__pbd_skip(&d, &p, end, at, f, wt);
		if (OTF_UNLIKELY(rc))
			return rc;
	}
	return 0;
}

int otf_pdata_decode_any(otf_any_value_t *out, const uint8_t *data, size_t len, otf_arena_t *arena,
                         otf_pdata_error_t *err)
{
	otf__pbd_t d;
	int rc = otf__pbd_begin(&d, out, data, len, arena, NULL, err);
	if (rc)
		return rc;
	memset(out, 0, sizeof *out);
	return otf__pbd_any(&d, out, d.base, d.base + len, 1);
}
