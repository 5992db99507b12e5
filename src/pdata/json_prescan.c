/* OTLP/JSON pre-scan: counts items and attributes before json-c builds its
 * tree. See otf_pdata_json_prescan() in otflow/pdata_codec.h. */
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "pdata_err.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Deeper than json-c's depth limit for any max_depth the decoders accept
 * (24 + 4 * max_depth with the default 32 is 152): below it every level is
 * tracked; elements deeper down count as attributes (json-c refuses such
 * input anyway, after the scan). */
#define SCAN_DEPTH 256

/* Arrays whose elements are attributes (KeyValue, AnyValue), by the key
 * that names them, in both spellings the decoders accept. */
static bool attribute_key(const char *k, size_t n)
{
	static const char *const keys[] = {
	    "attributes", "values", "metadata", "filteredAttributes", "filtered_attributes", NULL};
	for (size_t i = 0; keys[i]; i++)
		if (strlen(keys[i]) == n && !memcmp(keys[i], k, n))
			return true;
	return false;
}

int otf_pdata_json_prescan(const char *json, size_t len, const otf_pdata_json_limits_t *lim,
                           otf_pdata_json_counts_t *out, otf_pdata_error_t *err)
{
	uint8_t kind[SCAN_DEPTH]; /* 0 object, 1 item array, 2 attribute array */
	size_t depth = 0;
	const char *p = json, *end = json ? json + len : json;
	const char *key = NULL; /* the last string: the key when a ':' follows */
	size_t key_len = 0;
	size_t max_items = lim && lim->max_items ? lim->max_items : SIZE_MAX;
	size_t max_attrs = lim && lim->max_attributes ? lim->max_attributes : SIZE_MAX;
	memset(out, 0, sizeof *out);
	while (p < end) {
		char c = *p++;
		if (c == '"') {
			/* strings hold no structure: skip to the closing quote */
			key = p;
			while (p < end && *p != '"')
				p += *p == '\\' && end - p > 1 ? 2 : 1;
			key_len = (size_t)(p - key);
			if (p < end)
				p++;
			continue;
		}
		if (c != '{' && c != '[') {
			if ((c == '}' || c == ']') && depth)
				depth--;
			continue;
		}
		uint8_t in = depth == 0 ? 0 : depth > SCAN_DEPTH ? 2 : kind[depth - 1];
		if (in == 1 && ++out->items > max_items)
			return otf__perr_set(err, OTF_E_TOO_LARGE, (size_t)(p - 1 - json),
			                     "more than %zu items in one request", max_items);
		if (in == 2 && ++out->attributes > max_attrs)
			return otf__perr_set(err, OTF_E_TOO_LARGE, (size_t)(p - 1 - json),
			                     "more than %zu attributes in one request", max_attrs);
		if (depth < SCAN_DEPTH)
			kind[depth] = c == '{' ? 0 : key && attribute_key(key, key_len) ? 2 : 1;
		depth++;
		key = NULL; /* an array inside an array has no key of its own */
	}
	return 0;
}
