/* Declarative config schema: a component describes its config struct once
 * (key, type, offset, default, description) and gets parsing, validation
 * and documentation from that one table (ARCHITECTURE.md, "Component
 * definition").
 *
 * A schema is an array of otf_config_field_t ending with an entry whose key
 * is NULL (OTF_CONFIG_FIELD_END). Example:
 *
 *   typedef struct { char *endpoint; int64_t timeout_ns; bool grpc_on; } my_cfg_t;
 *   static const otf_config_field_t my_schema[] = {
 *       {.key = "endpoint", .type = OTF_CFG_STRING, .hint = "host:port",
 *        .offset = offsetof(my_cfg_t, endpoint), .def = "0.0.0.0:4317",
 *        .desc = "Address to listen on."},
 *       {.key = "timeout", .type = OTF_CFG_DURATION,
 *        .offset = offsetof(my_cfg_t, timeout_ns), .def = "5s", .desc = "..."},
 *       OTF_CONFIG_FIELD_END,
 *   };
 *
 * Semantics follow the Collector's unmarshalling of component configs:
 * defaults first, then the keys present in the YAML; unknown keys are
 * errors; numeric values outside a field's min..max are errors; a key with a null value ("grpc:") keeps its default (and, with
 * present_at, records that the key was given, which is how "protocols:
 * grpc:" turns gRPC on with default settings).
 *
 * Ownership: strings, lists and maps in the struct are allocated with the
 * counted allocator (otflow/alloc.h) and released by
 * otf_config_schema_free(). The struct does not point into the config tree,
 * so it outlives otf_config_destroy().
 *
 * Thread rules: no global state; different structs may be filled from
 * different threads at once.
 */
#ifndef OTFLOW_CONFIG_SCHEMA_H
#define OTFLOW_CONFIG_SCHEMA_H

#include "otflow/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Field types and the C type stored at the field's offset. Defaults are
 * text, parsed by the same rules as YAML values (otflow/config.h). */
typedef enum otf_config_type {
	OTF_CFG_BOOL = 1,    /* bool */
	OTF_CFG_INT,         /* int64_t */
	OTF_CFG_UINT,        /* uint64_t */
	OTF_CFG_DOUBLE,      /* double */
	OTF_CFG_STRING,      /* char * (owned; NULL when unset and no default) */
	OTF_CFG_DURATION,    /* int64_t nanoseconds: "5s", "1m30s" */
	OTF_CFG_SIZE,        /* uint64_t bytes: "4MiB", "20MB", 1048576 */
	OTF_CFG_ENUM,        /* int: index into enum_values */
	OTF_CFG_STRING_LIST, /* otf_config_strlist_t; default "a,b,c" */
	OTF_CFG_OBJECT,      /* nested struct at offset, described by sub */
	OTF_CFG_STRING_MAP,  /* otf_config_strmap_t (headers); default "k=v,k2=v2" */
	OTF_CFG_OBJECT_LIST, /* otf_config_objlist_t: a sequence of mappings, each a
	                      * struct of elem_size bytes described by sub (the
	                      * attributes processor's `actions`); no default */
	OTF_CFG_CUSTOM,      /* the field's own parse/release (below); no default */
} otf_config_type_t;

typedef struct otf_config_strlist {
	char **items; /* n owned strings */
	size_t n;
} otf_config_strlist_t;

typedef struct otf_config_strmap {
	char **keys; /* n owned strings, in file order */
	char **values;
	size_t n;
} otf_config_strmap_t;

typedef struct otf_config_objlist {
	void *items; /* n structs of the field's elem_size bytes, owned */
	size_t n;
} otf_config_objlist_t;

/* Element i of an object list, as a pointer to its struct type. */
#define OTF_CONFIG_OBJLIST_AT(list, type, i) (&((type *)(list)->items)[i])

typedef struct otf_config_field {
	const char *key; /* NULL ends the array */
	otf_config_type_t type;
	size_t offset;                      /* offsetof(struct, member) */
	const char *def;                    /* default as text; NULL: zero / NULL / empty */
	const char *desc;                   /* one line for the docs table */
	bool required;                      /* key must appear (a null value counts) */
	const char *const *enum_values;     /* OTF_CFG_ENUM: NULL-terminated */
	const struct otf_config_field *sub; /* OTF_CFG_OBJECT: sub-schema */
	const char *hint;                   /* shape, e.g. "host:port": errors, docs */
	/* OTF_CONFIG_PRESENT(type, member): a bool set when the key appears.
	 * 0 means no presence flag. Stored as offset + 1 so that zero-filled
	 * entries mean "none". */
	size_t present_at;
	/* Inclusive bounds of numeric fields (int, uint, double, duration,
	 * size) as text in the field's own syntax ("1", "10ms", "4MiB"); NULL
	 * = unbounded. A value outside is an error naming the range and, when
	 * set, range_why (why the bound exists). Shown in the docs table. */
	const char *min;
	const char *max;
	const char *range_why;
	/* Accepted for compatibility but without effect here: why. When the
	 * key appears, otf_config_schema_apply_ex reports a warning naming
	 * file, line and key path ("accepted and ignored: <why>"). */
	const char *ignored;
	/* OTF_CFG_STRING fields that name an extension (`auth.authenticator`,
	 * `sending_queue.storage`): 1 + the otf_ext_iface_t the extension must
	 * provide; 0 = an ordinary string. The service front-end refuses a
	 * value that is not an extension enabled in service.extensions, or one
	 * without that interface, naming file:line and the key
	 * (otflow/extension.h). */
	uint8_t ext_ref;
	/* OTF_CFG_OBJECT_LIST: sizeof the element struct. */
	size_t elem_size;
	/* OTF_CFG_CUSTOM: for shapes the other types cannot say (the transform
	 * processor's statements: a list of strings or of mappings). parse
	 * fills the slot at offset from a non-null YAML value and reports a
	 * refusal with otf_config_errorf() at the node it refuses (so the error
	 * names file, line, column and key path); 0 or a negative code. release
	 * frees what parse put in the slot and zeroes it; it is also called on
	 * a zeroed slot. The slot is never reset by the schema (def is not
	 * used): the struct must start zeroed, as the engine's calloc'd config
	 * structs do. A value given
	 * twice is released before the second parse. The docs show hint as the
	 * type. */
	int (*parse)(const otf_config_node_t *value, void *slot, otf_config_error_t *err);
	void (*release)(void *slot);
} otf_config_field_t;

#define OTF_CONFIG_FIELD_END \
	{                    \
		0            \
	}
#define OTF_CONFIG_PRESENT(type, member) (offsetof(type, member) + 1)

/* Sets every field the schema describes to its default (recursively);
 * fields without a default get zero, NULL or an empty list/map. The struct
 * must hold no allocations from an earlier fill (they would leak). Returns
 * 0, -ENOMEM, or OTF_E_INVAL when a default does not parse (a schema bug);
 * on failure nothing stays allocated. */
int otf_config_schema_defaults(const otf_config_field_t *schema, void *out);

/* Defaults, then the values of node (a mapping; NULL or a null node means
 * "all defaults"). Returns 0, -ENOMEM, OTF_E_INVAL (bad default), or
 * OTF_E_CONFIG with *err (may be NULL) at the offending key, e.g.
 *   config.yaml:5:7: receivers.otlp.protocols: unknown key "htp" (valid keys: grpc, http)
 *   config.yaml:7:19: receivers.otlp.protocols.http.endpoint: expected a string "host:port", got a mapping
 * On failure the struct holds no allocations (as after _free). */
int otf_config_schema_apply(const otf_config_field_t *schema, const otf_config_node_t *node,
                            void *out, otf_config_error_t *err);

/* The same, reporting a warning through warn(user, w) (may be NULL) for
 * every key present whose field is marked ignored. */
int otf_config_schema_apply_ex(const otf_config_field_t *schema, const otf_config_node_t *node,
                               void *out, otf_config_error_t *err, otf_config_warn_fn warn,
                               void *warn_user);

/* Releases strings, lists and maps the schema filled in, and resets them
 * to NULL/empty; other fields are left alone. Safe to call twice. */
void otf_config_schema_free(const otf_config_field_t *schema, void *out);

/* Markdown table (| Key | Type | Default | Description |) of the schema;
 * nested objects appear as dotted keys ("protocols.grpc.endpoint").
 * Returns 0 or -errno from the stream. */
int otf_config_schema_doc(const otf_config_field_t *schema, FILE *f);

/* Value for key in a string map; NULL when absent. */
const char *otf_config_strmap_get(const otf_config_strmap_t *m, const char *key);

/* "bool", "duration", ... (for docs and messages). */
const char *otf_config_type_name(otf_config_type_t type);

#ifdef __cplusplus
}
#endif
#endif
