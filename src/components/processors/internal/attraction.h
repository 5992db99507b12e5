/* Attribute actions of the Collector's attributes and resource processors
 * (opentelemetry-collector-contrib internal/coreinternal/attraction):
 * insert, update, upsert, delete, hash, extract, convert, applied in the
 * order configured to one attribute list.
 *
 * Shared by processor `attributes` (span, log record and data point
 * attributes) and processor `resource` (resource attributes).
 *
 * Semantics (the Collector's, with the choices a byte-level wire format
 * forces said explicitly):
 * - a lookup (update, from_attribute, hash, extract, convert) finds the
 *   first attribute with the key; delete removes every attribute with the
 *   key (a wire list may repeat one), so the key is gone afterwards;
 * - insert appends at the end of the list;
 * - hash: SHA-256 of the value (string bytes; int and double as 8 bytes
 *   little endian; bool as one byte 1/0), lowercase hex; other types become
 *   "" (as the Collector's hasher); an attribute named by key and also
 *   matched by pattern is hashed once (the Collector hashes it twice);
 * - extract: PCRE2 with named groups only; each group's text is upserted as
 *   a string (an unset group gives ""); a non-string source is left alone;
 * - convert: int (from double truncating, bool 1/0, decimal string),
 *   double (int, bool, strtod string), string (the OTTL String() form);
 *   a value that does not convert is left as it was.
 * - value: YAML scalars are typed as YAML 1.2 core (true/false, integers,
 *   floats, else string); sequences and mappings become arrays and maps.
 *   The config tree keeps no quoting, so `value: "2245"` is an int here
 *   (a string in the Collector).
 * - from_context: `metadata.<key>` (and a bare key, as the Collector's
 *   fallback) read the message's client metadata (otf_msg_header_get,
 *   the first value); `auth.<key>` reads the identity the receiver's
 *   authenticator put into the envelope (`auth.username`, `auth.subject`);
 *   `client.address` is refused at config load: the peer address does not
 *   reach processors yet.
 *
 * Ownership: everything parsed lives in the list's own arena, released by
 * otf__attr_actions_release(). Thread rules: a parsed list is read-only and
 * may be applied from every worker at once (PCRE2 match data is per call).
 */
#ifndef OTF_ATTRACTION_H
#define OTF_ATTRACTION_H

#include "otflow/arena.h"
#include "otflow/config.h"
#include "otflow/pdata.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum otf_attr_kind {
	OTF_ATTR_INSERT = 0,
	OTF_ATTR_UPDATE,
	OTF_ATTR_UPSERT,
	OTF_ATTR_DELETE,
	OTF_ATTR_HASH,
	OTF_ATTR_EXTRACT,
	OTF_ATTR_CONVERT,
} otf_attr_kind_t;

typedef enum otf_attr_conv { OTF_CONV_INT = 1, OTF_CONV_DOUBLE, OTF_CONV_STRING } otf_attr_conv_t;

typedef struct otf_attr_action {
	otf_attr_kind_t kind;
	otf_bytes_t key; /* may be empty for delete/hash with a pattern */
	bool has_value;
	otf_any_value_t value; /* literal `value` */
	otf_bytes_t from_attribute;
	const char *from_context; /* header name (without "metadata."), NUL-terminated */
	bool has_default;
	otf_any_value_t default_value;
	void *re;            /* pcre2_code *: `pattern` (delete, hash, extract) */
	otf_bytes_t *groups; /* extract: name of capture group i (1..ngroups) */
	uint32_t ngroups;
	otf_attr_conv_t conv;
} otf_attr_action_t;

typedef struct otf_attr_actions {
	otf_attr_action_t *items;
	size_t n;
	otf_arena_t arena; /* owns items and their strings */
	bool parsed;
} otf_attr_actions_t;

/* OTF_CFG_CUSTOM parser of `actions` (a sequence of mappings) into an
 * otf_attr_actions_t slot; refusals name the offending node (file, line,
 * key path) and say what the Collector requires. */
int otf__attr_actions_parse(const otf_config_node_t *v, void *slot, otf_config_error_t *err);
void otf__attr_actions_release(void *slot);
/* A YAML value typed as `value` is (for include/exclude values too). */
int otf__attr_actions_yaml_value(otf_arena_t *a, const otf_config_node_t *v, otf_any_value_t *out,
                                 otf_config_error_t *err);

/* Client metadata lookup for from_context: the value or NULL. */
typedef const char *(*otf_attr_ctx_fn)(const void *user, const char *key);

/* Applies every action in order to *attrs; new arrays and strings come
 * from arena (the tree's). Returns 0 or OTF_E_NOMEM. */
int otf__attr_actions_apply(const otf_attr_actions_t *acts, otf_attributes_t *attrs,
                            otf_arena_t *arena, otf_attr_ctx_fn ctx, const void *ctx_user);

/* True when every action is one the byte editor (otflow/pdata_edit.h)
 * does itself: insert/update/upsert of a scalar literal or from_attribute,
 * delete by key without pattern. */
bool otf__attr_actions_in_place(const otf_attr_actions_t *acts);

struct otf_pdata_edit_op;
/* Fills ops[0..n) (n = acts->n) for the byte editor; only when
 * otf__attr_actions_in_place(). */
void otf__attr_actions_edit_ops(const otf_attr_actions_t *acts, struct otf_pdata_edit_op *ops);

#endif
