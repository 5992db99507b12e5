/* YAML files into the configuration tree, with libyaml's event parser:
 * events give exact marks for every node, which a document-tree API would
 * make us recover afterwards. */
#include "config/config_int.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Nesting bound: recursion depth of this parser and of node paths. */
#define MAX_DEPTH 100
/* Aliases copy subtrees, so a "billion laughs" file could grow without
 * bound; no real configuration comes near this. */
#define MAX_TREE_BYTES (64u << 20)

typedef struct anchor {
	const char *name;
	const otf_config_node_t *node;
	struct anchor *next;
} anchor_t;

typedef struct ctx {
	yaml_parser_t parser;
	otf_arena_t *arena;
	const char *file;
	const otf_config_load_opts_t *opts;
	otf_config_error_t *err;
	anchor_t *anchors;
} ctx_t;

static uint32_t u32(size_t v)
{
	return v > UINT32_MAX - 1 ? UINT32_MAX : (uint32_t)v + 1;
}

static int syntax_error(ctx_t *c)
{
	const yaml_parser_t *p = &c->parser;
	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (p->context)
		return otf__config_error_set(c->err, c->file, u32(p->problem_mark.line),
		                             u32(p->problem_mark.column), NULL,
		                             "YAML syntax error: %s (%s at line %zu column %zu)",
		                             p->problem ? p->problem : "unknown", p->context,
		                             p->context_mark.line + 1, p->context_mark.column + 1);
	return otf__config_error_set(c->err, c->file, u32(p->problem_mark.line),
	                             u32(p->problem_mark.column), NULL, "YAML syntax error: %s",
	                             p->problem ? p->problem : "unknown");
}

static int next_event(ctx_t *c, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&c->parser, ev))
		return syntax_error(c);
	return 0;
}

static bool is_null_scalar(const yaml_event_t *ev)
{
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = (const char *)ev->data.scalar.value;
	return ev->data.scalar.length == 0 || !strcmp(v, "~") || !strcmp(v, "null") ||
	       !strcmp(v, "Null") || !strcmp(v, "NULL");
}

static int remember_anchor(ctx_t *c, const yaml_char_t *name, const otf_config_node_t *node)
{
	if (!name)
		return 0;
	anchor_t *a = otf_arena_calloc(c->arena, 1, sizeof(*a));
	const char *n = otf_arena_memdup(c->arena, name, strlen((const char *)name) + 1);
	if (!a || !n)
		return -ENOMEM;
	a->name = n;
	a->node = node;
	a->next = c->anchors; /* newest first: a redefined anchor shadows */
	c->anchors = a;
	return 0;
}

/* Where the node being parsed will hang: set before its children are
 * parsed so that errors inside them can already name the key path. */
typedef struct place {
	otf_config_node_t *parent;
	const char *key;
	size_t index;
} place_t;

static void attach(otf_config_node_t *n, const place_t *at)
{
	n->parent = at->parent;
	n->key = at->key;
	n->index = at->index;
}

static int parse_node(ctx_t *c, yaml_event_t *ev, const place_t *at, int depth,
                      otf_config_node_t **out);

static int parse_alias(ctx_t *c, yaml_event_t *ev, const place_t *at, otf_config_node_t **out)
{
	const char *name = (const char *)ev->data.alias.anchor;
	uint32_t line = u32(ev->start_mark.line), col = u32(ev->start_mark.column);
	for (const anchor_t *a = c->anchors; a; a = a->next) {
		if (strcmp(a->name, name) != 0)
			continue;
		otf_config_node_t *n = otf__config_node_copy(c->arena, a->node);
		if (!n)
			return -ENOMEM;
		attach(n, at);
		if (c->arena->bytes_allocated > MAX_TREE_BYTES)
			return otf__config_error_set(c->err, c->file, line, col, NULL,
			                             "aliases expand to more than %u MiB",
			                             MAX_TREE_BYTES >> 20);
		*out = n;
		return 0;
	}
	return otf__config_error_set(c->err, c->file, line, col, NULL, "unknown alias *%s", name);
}

static int parse_scalar(ctx_t *c, yaml_event_t *ev, const place_t *at, otf_config_node_t **out)
{
	uint32_t line = u32(ev->start_mark.line), col = u32(ev->start_mark.column);
	bool null = is_null_scalar(ev);
	otf_config_node_t *n = otf__config_node_new(
	    c->arena, null ? OTF_CONFIG_NULL : OTF_CONFIG_SCALAR, c->file, line, col);
	if (!n)
		return -ENOMEM;
	attach(n, at);
	if (!null) {
		n->str = (const char *)ev->data.scalar.value;
		n->len = ev->data.scalar.length;
		/* Copy first: expansion returns its input when there is no '$'. */
		n->str = otf_arena_memdup(c->arena, n->str, n->len + 1);
		if (!n->str)
			return -ENOMEM;
	}
	*out = n;
	return remember_anchor(c, ev->data.scalar.anchor, n);
}

static int parse_sequence(ctx_t *c, yaml_event_t *start, const place_t *at, int depth,
                          otf_config_node_t **out)
{
	otf_config_node_t *seq =
	    otf__config_node_new(c->arena, OTF_CONFIG_SEQUENCE, c->file,
	                         u32(start->start_mark.line), u32(start->start_mark.column));
	if (!seq)
		return -ENOMEM;
	attach(seq, at);
	for (;;) {
		yaml_event_t ev;
		int rc = next_event(c, &ev);
		if (rc < 0)
			return rc;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		otf_config_node_t *item = NULL;
		place_t here = {seq, NULL, seq->n};
		rc = parse_node(c, &ev, &here, depth + 1, &item);
		yaml_event_delete(&ev);
		if (rc == 0)
			rc = otf__config_seq_push(c->arena, seq, item);
		if (rc < 0)
			return rc;
	}
	*out = seq;
	return remember_anchor(c, start->data.sequence_start.anchor, seq);
}

static int parse_mapping(ctx_t *c, yaml_event_t *start, const place_t *at, int depth,
                         otf_config_node_t **out)
{
	otf_config_node_t *map =
	    otf__config_node_new(c->arena, OTF_CONFIG_MAPPING, c->file, u32(start->start_mark.line),
	                         u32(start->start_mark.column));
	if (!map)
		return -ENOMEM;
	attach(map, at);
	for (;;) {
		yaml_event_t kev;
		int rc = next_event(c, &kev);
		if (rc < 0)
			return rc;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			break;
		}
		uint32_t kl = u32(kev.start_mark.line), kc = u32(kev.start_mark.column);
		if (kev.type != YAML_SCALAR_EVENT) {
			yaml_event_delete(&kev);
			char path[256];
			otf_config_node_path(map, path, sizeof(path));
			return otf__config_error_set(c->err, c->file, kl, kc, path,
			                             "mapping keys must be scalars");
		}
		/* Keys are never env-expanded (the Collector expands values only). */
		const char *key =
		    otf_arena_memdup(c->arena, kev.data.scalar.value, kev.data.scalar.length + 1);
		yaml_event_delete(&kev);
		if (!key)
			return -ENOMEM;
		long dup = otf__config_map_find(map, key, strlen(key));
		if (dup >= 0) {
			char path[256];
			otf_config_node_path(map, path, sizeof(path));
			return otf__config_error_set(c->err, c->file, kl, kc, path,
			                             "key \"%s\" is already defined at line %u",
			                             key, map->pairs[dup].line);
		}
		yaml_event_t vev;
		rc = next_event(c, &vev);
		if (rc < 0)
			return rc;
		otf_config_node_t *value = NULL;
		place_t here = {map, key, 0};
		rc = parse_node(c, &vev, &here, depth + 1, &value);
		yaml_event_delete(&vev);
		if (rc == 0)
			rc = otf__config_map_push(c->arena, map, key, kl, kc, value);
		if (rc < 0)
			return rc;
	}
	*out = map;
	return remember_anchor(c, start->data.mapping_start.anchor, map);
}

/* Env expansion runs once the node hangs in the tree, so that errors and
 * warnings can name its key path. */
static int expand_tree(ctx_t *c, otf_config_node_t *n)
{
	if (n->kind == OTF_CONFIG_SCALAR)
		return otf__config_env_expand(c->arena, n->str, n->len, &n->str, &n->len, n,
		                              c->opts, c->err);
	for (size_t i = 0; i < n->n; i++) {
		int rc = expand_tree(c, n->kind == OTF_CONFIG_SEQUENCE ? n->items[i]
		                                                       : n->pairs[i].value);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int parse_node(ctx_t *c, yaml_event_t *ev, const place_t *at, int depth,
                      otf_config_node_t **out)
{
	if (depth > MAX_DEPTH)
		return otf__config_error_set(c->err, c->file, u32(ev->start_mark.line),
		                             u32(ev->start_mark.column), NULL,
		                             "nesting deeper than %d levels", MAX_DEPTH);
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return parse_scalar(c, ev, at, out);
	case YAML_SEQUENCE_START_EVENT:
		return parse_sequence(c, ev, at, depth, out);
	case YAML_MAPPING_START_EVENT:
		return parse_mapping(c, ev, at, depth, out);
	case YAML_ALIAS_EVENT:
		return parse_alias(c, ev, at, out);
	default:
		return otf__config_error_set(c->err, c->file, u32(ev->start_mark.line),
		                             u32(ev->start_mark.column), NULL,
		                             "unexpected YAML event %d", (int)ev->type);
	}
}

/* One YAML stream with at most one document whose root is a mapping (or
 * empty). */
static int parse_stream(ctx_t *c, otf_config_node_t **root)
{
	otf_config_node_t *doc = NULL;
	for (;;) {
		yaml_event_t ev;
		int rc = next_event(c, &ev);
		if (rc < 0)
			return rc;
		yaml_event_type_t t = ev.type;
		uint32_t line = u32(ev.start_mark.line), col = u32(ev.start_mark.column);
		if (t == YAML_DOCUMENT_START_EVENT && doc) {
			yaml_event_delete(&ev);
			return otf__config_error_set(c->err, c->file, line, col, NULL,
			                             "more than one YAML document in the file");
		}
		if (t == YAML_SCALAR_EVENT || t == YAML_SEQUENCE_START_EVENT ||
		    t == YAML_MAPPING_START_EVENT || t == YAML_ALIAS_EVENT) {
			place_t top = {0};
			rc = parse_node(c, &ev, &top, 0, &doc);
			yaml_event_delete(&ev);
			if (rc < 0)
				return rc;
			if (doc->kind != OTF_CONFIG_MAPPING && doc->kind != OTF_CONFIG_NULL)
				return otf__config_error_set(
				    c->err, c->file, doc->line, doc->column, NULL,
				    "the configuration root must be a mapping, got %s",
				    otf_config_kind_name(doc));
			continue;
		}
		yaml_event_delete(&ev);
		if (t == YAML_STREAM_END_EVENT)
			break;
	}
	if (!doc || doc->kind == OTF_CONFIG_NULL) {
		doc = otf__config_node_new(c->arena, OTF_CONFIG_MAPPING, c->file, 1, 1);
		if (!doc)
			return -ENOMEM;
	}
	int rc = expand_tree(c, doc);
	if (rc < 0)
		return rc;
	*root = doc;
	return 0;
}

static int parse_text(otf_config_t *cfg, const char *name, const char *text, size_t len,
                      const otf_config_load_opts_t *opts, otf_config_node_t **root,
                      otf_config_error_t *err)
{
	ctx_t c = {.arena = &cfg->arena, .opts = opts, .err = err};
	c.file = otf_arena_memdup(&cfg->arena, name, strlen(name) + 1);
	if (!c.file)
		return -ENOMEM;
	if (!yaml_parser_initialize(&c.parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&c.parser, (const unsigned char *)text, len);
	int rc = parse_stream(&c, root);
	yaml_parser_delete(&c.parser);
	return rc;
}

/* Reads at most OTF_CONFIG_MAX_FILE_BYTES + 1 bytes, so that a path such as
 * /dev/zero or a runaway generated file ends in an error naming the file
 * instead of growing the buffer until memory runs out. */
static int read_file(const char *path, char **out, size_t *out_len, otf_config_error_t *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		otf__config_error_set(err, path, 0, 0, NULL, "cannot open: %s", strerror(e));
		return -e;
	}
	size_t cap = 4096, n = 0;
	char *buf = otf_malloc(cap);
	int rc = buf ? 0 : -ENOMEM;
	while (rc == 0) {
		n += fread(buf + n, 1, cap - n, f);
		if (ferror(f)) {
			rc = OTF_E_IO;
			otf__config_error_set(err, path, 0, 0, NULL, "read error");
		} else if (n > OTF_CONFIG_MAX_FILE_BYTES) {
			rc = otf__config_error_set(err, path, 0, 0, NULL,
			                           "the file is larger than %u MiB, the limit of "
			                           "a configuration file",
			                           OTF_CONFIG_MAX_FILE_BYTES >> 20);
		} else if (n < cap) {
			break;
		} else {
			size_t ncap = cap * 2;
			if (ncap > (size_t)OTF_CONFIG_MAX_FILE_BYTES + 1)
				ncap = (size_t)OTF_CONFIG_MAX_FILE_BYTES + 1;
			char *nb = otf_realloc(buf, ncap);
			if (!nb)
				rc = -ENOMEM;
			else
				buf = nb;
			cap = ncap;
		}
	}
	fclose(f);
	if (rc < 0) {
		otf_free(buf);
		return rc;
	}
	*out = buf;
	*out_len = n;
	return 0;
}

static void clear_error(otf_config_error_t *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

static int oom(otf_config_error_t *err, int rc)
{
	if (rc == -ENOMEM)
		otf__config_error_set(err, NULL, 0, 0, NULL, "out of memory");
	return rc;
}

static otf_config_t *config_new(void)
{
	otf_config_t *cfg = otf_calloc(1, sizeof(*cfg));
	if (cfg)
		otf_arena_init(&cfg->arena, 16384);
	return cfg;
}

int otf_config_load_files_ex(const char *const *paths, size_t n, const otf_config_load_opts_t *opts,
                             otf_config_t **out, otf_config_error_t *err)
{
	*out = NULL;
	clear_error(err);
	otf_config_t *cfg = config_new();
	if (!cfg)
		return oom(err, -ENOMEM);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *text = NULL;
		size_t len = 0;
		otf_config_node_t *root = NULL;
		rc = read_file(paths[i], &text, &len, err);
		if (rc == 0)
			rc = parse_text(cfg, paths[i], text, len, opts, &root, err);
		otf_free(text);
		if (rc == 0 && !cfg->root)
			cfg->root = root;
		else if (rc == 0)
			rc = otf__config_merge(&cfg->arena, cfg->root, root);
	}
	if (rc == 0 && !cfg->root) {
		cfg->root = otf__config_node_new(&cfg->arena, OTF_CONFIG_MAPPING, "", 0, 0);
		if (!cfg->root)
			rc = -ENOMEM;
	}
	if (rc < 0) {
		otf_config_destroy(cfg);
		return oom(err, rc);
	}
	*out = cfg;
	return 0;
}

int otf_config_load_files(const char *const *paths, size_t n, otf_config_t **out,
                          otf_config_error_t *err)
{
	return otf_config_load_files_ex(paths, n, NULL, out, err);
}

int otf_config_load_string(const char *name, const char *text, size_t len,
                           const otf_config_load_opts_t *opts, otf_config_t **out,
                           otf_config_error_t *err)
{
	*out = NULL;
	clear_error(err);
	if (len > OTF_CONFIG_MAX_FILE_BYTES)
		return otf__config_error_set(err, name ? name : "<string>", 0, 0, NULL,
		                             "the text is larger than %u MiB, the limit of a "
		                             "configuration",
		                             OTF_CONFIG_MAX_FILE_BYTES >> 20);
	otf_config_t *cfg = config_new();
	if (!cfg)
		return oom(err, -ENOMEM);
	int rc = parse_text(cfg, name ? name : "<string>", text, len, opts, &cfg->root, err);
	if (rc < 0) {
		otf_config_destroy(cfg);
		return oom(err, rc);
	}
	*out = cfg;
	return 0;
}
