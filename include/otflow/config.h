/* Configuration tree: YAML files loaded into generic nodes with positions.
 *
 * otflow reads the OpenTelemetry Collector's configuration as-is (top-level
 * receivers, processors, exporters, connectors, extensions, service) and its
 * own native DAG format; both are YAML, so both load into the same tree and
 * the engine interprets the shape. Behaviour follows the Collector's confmap
 * (opentelemetry.io/docs/collector/configuration):
 *
 * - Env expansion applies to scalar values (never keys), after parsing:
 *   ${env:VAR}, ${VAR} and ${env:VAR:-default} (the default is used only
 *   when VAR is unset, as in the Collector; an empty VAR stays empty).
 *   "$$" is a literal "$". An unset VAR without default expands to "" and
 *   is reported through the optional warning callback. Other providers
 *   (${file:...}, ${http:...}) are rejected with OTF_E_CONFIG. The expanded
 *   text is not expanded again and is not re-parsed as YAML: a scalar stays
 *   a scalar, and the typed readers below convert it.
 * - Several files merge in order: mappings merge recursively, a later file
 *   wins for scalars, sequences and nulls, and a sequence is replaced as a
 *   whole (never appended).
 * - Duplicate keys in one mapping, non-scalar keys, more than one YAML
 *   document per file and a root that is not a mapping are errors. Anchors
 *   and aliases work (an alias is a copy); "<<" merge keys are plain keys.
 *
 * Limits: a file (or in-memory text) may hold at most
 * OTF_CONFIG_MAX_FILE_BYTES; a longer one, or a device that never ends
 * (/dev/zero), is refused with OTF_E_CONFIG naming the file, after reading
 * at most one byte more than the limit. Mappings of any size look up keys
 * and detect duplicates in constant time (a hash index per mapping), so
 * loading is linear in the file size.
 *
 * Positions: every node keeps the file it came from and its 1-based line
 * and column, so errors point at the source. After a merge a node keeps the
 * position of the file that supplied it.
 *
 * Ownership: the tree, its strings and file names belong to the
 * otf_config_t and live until otf_config_destroy(). Nodes are read-only.
 *
 * Thread rules: loading touches the process environment (getenv) and is
 * meant for the main thread. A loaded tree may be read from any number of
 * threads at once.
 */
#ifndef OTFLOW_CONFIG_H
#define OTFLOW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest configuration file or text accepted: real configurations are a
 * few KiB, generated ones rarely reach 1 MiB. */
#define OTF_CONFIG_MAX_FILE_BYTES (16u << 20)

typedef struct otf_config otf_config_t;
typedef struct otf_config_node otf_config_node_t;

typedef enum otf_config_kind {
	OTF_CONFIG_NULL = 0,   /* "key:" with no value, "~", "null" */
	OTF_CONFIG_SCALAR = 1, /* any other scalar, kept as its text */
	OTF_CONFIG_SEQUENCE = 2,
	OTF_CONFIG_MAPPING = 3, /* keys in file order, unique */
} otf_config_kind_t;

/* Where an error happened and what it is. Fixed-size buffers, so filling
 * one never allocates and the caller never frees; long values are cut. */
typedef struct otf_config_error {
	char file[256];    /* "" when not tied to a file */
	uint32_t line;     /* 1-based; 0 when unknown */
	uint32_t column;   /* 1-based; 0 when unknown */
	char path[256];    /* key path "receivers.otlp.protocols" or "" */
	char message[512]; /* what is wrong, without position or path */
	/* "file:line:col: path: message", the parts that are known. */
	char text[1200];
} otf_config_error_t;

/* Warning from loading (today: an unset env var without default). file,
 * line and column locate the scalar; message names the variable. */
typedef void (*otf_config_warn_fn)(void *user, const otf_config_error_t *warning);

typedef struct otf_config_load_opts {
	otf_config_warn_fn warn; /* NULL: warnings are dropped */
	void *warn_user;
	/* Called synchronously from inside the load call, once per warning:
	 * a diagnostic hook, not a registration. */
} otf_config_load_opts_t;

/* Loads and merges paths[0..n) in order into *out. n may be 0 (an empty
 * mapping). Returns 0, or a negative code with *err filled (err may be
 * NULL): OTF_E_CONFIG for YAML syntax and structure errors (with the
 * libyaml position), bad env references; OTF_E_IO or -errno when a file
 * cannot be read; -ENOMEM. On failure *out is NULL. */
int otf_config_load_files(const char *const *paths, size_t n, otf_config_t **out,
                          otf_config_error_t *err);
int otf_config_load_files_ex(const char *const *paths, size_t n, const otf_config_load_opts_t *opts,
                             otf_config_t **out, otf_config_error_t *err);

/* Same rules for one in-memory YAML text; name is used in positions. */
int otf_config_load_string(const char *name, const char *text, size_t len,
                           const otf_config_load_opts_t *opts, otf_config_t **out,
                           otf_config_error_t *err);

/* NULL is a no-op. Invalidates every node of the tree. */
void otf_config_destroy(otf_config_t *cfg);

/* The root mapping; never NULL for a loaded config. */
const otf_config_node_t *otf_config_root(const otf_config_t *cfg);

/* Node at a dotted key path below node: "service.pipelines.traces/foo".
 * A numeric segment indexes a sequence ("service.extensions.0"). Keys that
 * contain '.' cannot be addressed this way; use otf_config_map_get. NULL
 * when any step is missing or node is NULL; "" returns node itself. */
const otf_config_node_t *otf_config_get(const otf_config_node_t *node, const char *path);

/* --- node accessors (all accept NULL and then return 0/NULL) --- */
otf_config_kind_t otf_config_node_kind(const otf_config_node_t *node);
const char *otf_config_node_file(const otf_config_node_t *node);
uint32_t otf_config_node_line(const otf_config_node_t *node);   /* 1-based */
uint32_t otf_config_node_column(const otf_config_node_t *node); /* 1-based */

/* Dotted key path from the root, sequence items as "[i]":
 * "service.pipelines.traces.receivers[1]". Writes at most cap bytes
 * including the NUL; returns the length it needed (snprintf style). */
size_t otf_config_node_path(const otf_config_node_t *node, char *buf, size_t cap);

/* Scalar text (NUL-terminated, env-expanded) and its length in bytes;
 * NULL for other kinds. */
const char *otf_config_scalar(const otf_config_node_t *node, size_t *len);

/* Items of a sequence or pairs of a mapping; 0 for other kinds. */
size_t otf_config_len(const otf_config_node_t *node);
/* i-th item of a sequence; NULL when out of range or not a sequence. */
const otf_config_node_t *otf_config_seq_at(const otf_config_node_t *node, size_t i);
/* i-th pair of a mapping in file order: returns the key and sets *value.
 * NULL when out of range or not a mapping. */
const char *otf_config_map_at(const otf_config_node_t *node, size_t i,
                              const otf_config_node_t **value);
/* Position of the i-th key of a mapping (for "unknown key" errors). */
void otf_config_map_key_pos(const otf_config_node_t *node, size_t i, uint32_t *line,
                            uint32_t *column);
/* Value for an exact key (no path parsing); NULL when absent. */
const otf_config_node_t *otf_config_map_get(const otf_config_node_t *node, const char *key);

/* --- typed scalar readers ---
 * Each returns 0 and stores the value, or OTF_E_CONFIG with *err (may be
 * NULL) naming the node's position and path and what was expected. A null
 * node or a node of another kind is a type error. */

/* true/True/TRUE/false/False/FALSE (YAML 1.2 core schema). */
int otf_config_read_bool(const otf_config_node_t *node, bool *out, otf_config_error_t *err);
/* Decimal, 0x hex or 0o octal, optional sign; OTF_E_CONFIG on overflow. */
int otf_config_read_int64(const otf_config_node_t *node, int64_t *out, otf_config_error_t *err);
int otf_config_read_uint64(const otf_config_node_t *node, uint64_t *out, otf_config_error_t *err);
/* Any strtod number plus .inf, -.inf, .nan. */
int otf_config_read_double(const otf_config_node_t *node, double *out, otf_config_error_t *err);
/* Go time.ParseDuration syntax ("5s", "100ms", "1m30s", "1.5h", units ns,
 * us, µs, ms, s, m, h) to nanoseconds. A bare integer is nanoseconds, as a
 * YAML integer decoded into a Go time.Duration is in the Collector. */
int otf_config_read_duration(const otf_config_node_t *node, int64_t *out_ns,
                             otf_config_error_t *err);
/* Bytes: a plain integer, or a number with a unit: B, KB/MB/GB/TB (powers
 * of 1000), KiB/MiB/GiB/TiB (powers of 1024); case-insensitive, optional
 * space ("4MiB", "20 MB", "1.5GiB"). */
int otf_config_read_size(const otf_config_node_t *node, uint64_t *out_bytes,
                         otf_config_error_t *err);

/* The same parsers on plain text (used for schema defaults). Return 0 or
 * OTF_E_CONFIG; they never fill an error. */
int otf_config_parse_bool(const char *s, bool *out);
int otf_config_parse_int64(const char *s, int64_t *out);
int otf_config_parse_uint64(const char *s, uint64_t *out);
int otf_config_parse_double(const char *s, double *out);
int otf_config_parse_duration(const char *s, int64_t *out_ns);
int otf_config_parse_size(const char *s, uint64_t *out_bytes);

/* Fills *err with node's position and path and a printf-style message, and
 * returns OTF_E_CONFIG, so that engine code reports errors in the same
 * shape: return otf_config_errorf(err, node, "expected a pipeline id"). err
 * may be NULL; node may be NULL (no position). */
int otf_config_errorf(otf_config_error_t *err, const otf_config_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "a string", "a mapping", ... for messages: "got a mapping". */
const char *otf_config_kind_name(const otf_config_node_t *node);

#ifdef __cplusplus
}
#endif
#endif
