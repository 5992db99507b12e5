/* Internal shape of the configuration tree (src/config only). */
#ifndef OTF_CONFIG_INT_H
#define OTF_CONFIG_INT_H

#include "otflow/arena.h"
#include "otflow/config.h"

typedef struct otf__config_pair {
	const char *key;
	uint32_t line, column; /* of the key, in value->file */
	otf_config_node_t *value;
} otf__config_pair_t;

struct otf_config_node {
	otf_config_kind_t kind;
	const char *file;
	uint32_t line, column;
	/* Parent and place in it, so that errors can name the key path
	 * without every caller threading a path string through. */
	otf_config_node_t *parent;
	const char *key; /* key in a parent mapping, NULL otherwise */
	size_t index;    /* index in a parent sequence */
	const char *str; /* scalar text, NUL-terminated */
	size_t len;
	size_t n, cap;
	otf_config_node_t **items; /* sequence */
	otf__config_pair_t *pairs; /* mapping */
	/* Mappings past a few keys: open-addressing hash index of pairs
	 * (slot = pair index + 1, 0 = empty; hcap a power of two, at least
	 * twice n), so that lookups and duplicate checks stay O(1) and a
	 * 50k-key mapping loads in linear time. */
	uint32_t *hidx;
	size_t hcap;
};

struct otf_config {
	otf_arena_t arena; /* every node, string and file name */
	otf_config_node_t *root;
};

otf_config_node_t *otf__config_node_new(otf_arena_t *a, otf_config_kind_t kind, const char *file,
                                        uint32_t line, uint32_t column);
/* Appends to a sequence / mapping; grows in the arena. 0 or -ENOMEM. */
int otf__config_seq_push(otf_arena_t *a, otf_config_node_t *seq, otf_config_node_t *item);
int otf__config_map_push(otf_arena_t *a, otf_config_node_t *map, const char *key, uint32_t line,
                         uint32_t column, otf_config_node_t *value);
/* Index of key[0..len) in a mapping, or -1 (also for other kinds). */
long otf__config_map_find(const otf_config_node_t *map, const char *key, size_t len);
/* Deep copy (for YAML aliases); NULL on OOM. */
otf_config_node_t *otf__config_node_copy(otf_arena_t *a, const otf_config_node_t *src);

/* Fills err (may be NULL) from explicit parts; returns OTF_E_CONFIG. */
int otf__config_error_set(otf_config_error_t *err, const char *file, uint32_t line, uint32_t column,
                          const char *path, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Expands env references in in[0..len) into a new arena string. Returns 0,
 * -ENOMEM, or OTF_E_CONFIG with err filled at the node's position. Warnings
 * go to opts->warn. */
int otf__config_env_expand(otf_arena_t *a, const char *in, size_t len, const char **out,
                           size_t *out_len, const otf_config_node_t *at,
                           const otf_config_load_opts_t *opts, otf_config_error_t *err);

/* Merges src into dst (both mappings) in the dst arena: see config.h. */
int otf__config_merge(otf_arena_t *a, otf_config_node_t *dst, otf_config_node_t *src);

#endif
