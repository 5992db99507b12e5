/* Merge of several config files, as the Collector's confmap merges
 * multiple --config sources: mappings merge key by key, anything else in
 * the later file replaces the earlier value (sequences are not appended). */
#include "config/config_int.h"

#include <errno.h>
#include <string.h>

int otf__config_merge(otf_arena_t *a, otf_config_node_t *dst, otf_config_node_t *src)
{
	for (size_t i = 0; i < src->n; i++) {
		otf__config_pair_t *sp = &src->pairs[i];
		long j = otf__config_map_find(dst, sp->key, strlen(sp->key));
		otf__config_pair_t *dp = j < 0 ? NULL : &dst->pairs[j];
		if (!dp) {
			int rc =
			    otf__config_map_push(a, dst, sp->key, sp->line, sp->column, sp->value);
			if (rc < 0)
				return rc;
			continue;
		}
		if (dp->value->kind == OTF_CONFIG_MAPPING &&
		    sp->value->kind == OTF_CONFIG_MAPPING) {
			int rc = otf__config_merge(a, dp->value, sp->value);
			if (rc < 0)
				return rc;
			continue;
		}
		/* Key and value positions both move to the later file, so
		 * that errors about either point at the text that won. */
		dp->line = sp->line;
		dp->column = sp->column;
		dp->value = sp->value;
		sp->value->parent = dst;
		sp->value->key = dp->key;
	}
	return 0;
}
