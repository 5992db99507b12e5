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
