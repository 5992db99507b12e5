/* Configuration tree nodes: construction, lookup, paths and errors. */
#include "config/config_int.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

otf_config_node_t *otf__config_node_new(otf_arena_t *a, otf_config_kind_t kind, const char *file,
                                        uint32_t line, uint32_t column)
{
	otf_config_node_t *n = otf_arena_calloc(a, 1, sizeof(*n));
	if (!n)
		return NULL;
	n->kind = kind;
	n->file = file;
	n->line = line;
	n->column = column;
	return n;
}

/* Arena memory cannot be resized, so growth copies into a block twice the
 * size; the old block stays in the arena until destroy (at most 2x waste,
 * and configs are small). */
static void *grow(otf_arena_t *a, void *old, size_t n, size_t *cap, size_t elem)
{
	if (n < *cap)
		return old;
	size_t ncap = *cap ? *cap * 2 : 4;
	void *p = otf_arena_calloc(a, ncap, elem);
	if (!p)
		return NULL;
	if (n)
		memcpy(p, old, n * elem);
	*cap = ncap;
	return p;
}

int otf__config_seq_push(otf_arena_t *a, otf_config_node_t *seq, otf_config_node_t *item)
{
	otf_config_node_t **items = grow(a, seq->items, seq->n, &seq->cap, sizeof(*items));
	if (!items)
		return -ENOMEM;
	seq->items = items;
	item->parent = seq;
	item->key = NULL;
	item->index = seq->n;
	seq->items[seq->n++] = item;
	return 0;
}

/* Mappings up to this many keys are scanned: cheaper than hashing. */
#define HASH_FROM 16

static uint64_t key_hash(const char *k, size_t len)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)k[i];
		h *= 1099511628211ull;
	}
	return h;
}

static void index_put(otf_config_node_t *m, size_t pair)
{
	const char *k = m->pairs[pair].key;
	size_t mask = m->hcap - 1;
	size_t at = (size_t)key_hash(k, strlen(k)) & mask;
	while (m->hidx[at])
		at = (at + 1) & mask;
	m->hidx[at] = (uint32_t)pair + 1;
}

/* Old tables stay in the arena (geometric growth: at most 2x waste). */
static int index_grow(otf_arena_t *a, otf_config_node_t *m)
{
	size_t cap = 64;
	while (cap < m->n * 4)
		cap *= 2;
	uint32_t *t = otf_arena_calloc(a, cap, sizeof(*t));
	if (!t)
		return -ENOMEM;
	m->hidx = t;
	m->hcap = cap;
	for (size_t i = 0; i < m->n; i++)
		index_put(m, i);
	return 0;
}

long otf__config_map_find(const otf_config_node_t *m, const char *key, size_t len)
{
	if (!m || m->kind != OTF_CONFIG_MAPPING)
		return -1;
	if (!m->hidx) {
		for (size_t i = 0; i < m->n; i++) {
			const char *k = m->pairs[i].key;
			if (strncmp(k, key, len) == 0 && k[len] == '\0')
				return (long)i;
		}
		return -1;
	}
	size_t mask = m->hcap - 1;
	for (size_t at = (size_t)key_hash(key, len) & mask; m->hidx[at]; at = (at + 1) & mask) {
		size_t i = m->hidx[at] - 1;
		const char *k = m->pairs[i].key;
		if (strncmp(k, key, len) == 0 && k[len] == '\0')
			return (long)i;
	}
	return -1;
}

int otf__config_map_push(otf_arena_t *a, otf_config_node_t *map, const char *key, uint32_t line,
                         uint32_t column, otf_config_node_t *value)
{
	if (map->n >= UINT32_MAX - 1)
		return -ENOMEM;
	otf__config_pair_t *pairs = grow(a, map->pairs, map->n, &map->cap, sizeof(*pairs));
	if (!pairs)
		return -ENOMEM;
	map->pairs = pairs;
	value->parent = map;
	value->key = key;
	map->pairs[map->n++] = (otf__config_pair_t){key, line, column, value};
	if (map->n <= HASH_FROM)
		return 0;
	if (map->hcap < map->n * 2)
		return index_grow(a, map);
	index_put(map, map->n - 1);
	return 0;
}

otf_config_node_t *otf__config_node_copy(otf_arena_t *a, const otf_config_node_t *src)
{
	otf_config_node_t *n =
	    otf__config_node_new(a, src->kind, src->file, src->line, src->column);
	if (!n)
		return NULL;
	n->str = src->str;
	n->len = src->len;
	for (size_t i = 0; i < src->n; i++) {
		if (src->kind == OTF_CONFIG_SEQUENCE) {
			otf_config_node_t *c = otf__config_node_copy(a, src->items[i]);
			if (!c || otf__config_seq_push(a, n, c) < 0)
				return NULL;
		} else {
			const otf__config_pair_t *p = &src->pairs[i];
			otf_config_node_t *c = otf__config_node_copy(a, p->value);
			if (!c || otf__config_map_push(a, n, p->key, p->line, p->column, c) < 0)
				return NULL;
		}
	}
	return n;
}

void otf_config_destroy(otf_config_t *cfg)
{
	if (!cfg)
		return;
	otf_arena_close(&cfg->arena);
	otf_free(cfg);
}

const otf_config_node_t *otf_config_root(const otf_config_t *cfg)
{
	return cfg ? cfg->root : NULL;
}

otf_config_kind_t otf_config_node_kind(const otf_config_node_t *node)
{
	return node ? node->kind : OTF_CONFIG_NULL;
}

const char *otf_config_node_file(const otf_config_node_t *node)
{
	return node ? node->file : NULL;
}

uint32_t otf_config_node_line(const otf_config_node_t *node)
{
	return node ? node->line : 0;
}

uint32_t otf_config_node_column(const otf_config_node_t *node)
{
	return node ? node->column : 0;
}

const char *otf_config_scalar(const otf_config_node_t *node, size_t *len)
{
	if (!node || node->kind != OTF_CONFIG_SCALAR)
		return NULL;
	if (len)
		*len = node->len;
	return node->str;
}

size_t otf_config_len(const otf_config_node_t *node)
{
	if (!node || (node->kind != OTF_CONFIG_SEQUENCE && node->kind != OTF_CONFIG_MAPPING))
		return 0;
	return node->n;
}

const otf_config_node_t *otf_config_seq_at(const otf_config_node_t *node, size_t i)
{
	if (!node || node->kind != OTF_CONFIG_SEQUENCE || i >= node->n)
		return NULL;
	return node->items[i];
}

const char *otf_config_map_at(const otf_config_node_t *node, size_t i,
                              const otf_config_node_t **value)
{
	if (!node || node->kind != OTF_CONFIG_MAPPING || i >= node->n)
		return NULL;
	if (value)
		*value = node->pairs[i].value;
	return node->pairs[i].key;
}

void otf_config_map_key_pos(const otf_config_node_t *node, size_t i, uint32_t *line,
                            uint32_t *column)
{
	uint32_t l = 0, c = 0;
	if (node && node->kind == OTF_CONFIG_MAPPING && i < node->n) {
		l = node->pairs[i].line;
		c = node->pairs[i].column;
	}
	if (line)
		*line = l;
	if (column)
		*column = c;
}

static const otf_config_node_t *map_get_n(const otf_config_node_t *node, const char *key,
                                          size_t len)
{
	long i = otf__config_map_find(node, key, len);
	return i < 0 ? NULL : node->pairs[i].value;
}

const otf_config_node_t *otf_config_map_get(const otf_config_node_t *node, const char *key)
{
	return key ? map_get_n(node, key, strlen(key)) : NULL;
}

const otf_config_node_t *otf_config_get(const otf_config_node_t *node, const char *path)
{
	if (!node || !path)
		return NULL;
	const char *p = path;
	while (*p && node) {
		size_t len = strcspn(p, ".");
		if (node->kind == OTF_CONFIG_SEQUENCE) {
			char *end;
			unsigned long long i = strtoull(p, &end, 10);
			if (!isdigit((unsigned char)*p) || end != p + len || i >= node->n)
				return NULL;
			node = node->items[i];
		} else {
			node = map_get_n(node, p, len);
		}
		p += len;
		if (*p == '.')
			p++;
	}
	return node;
}

static size_t path_append(char *buf, size_t cap, size_t at, const char *s)
{
	size_t n = strlen(s);
	if (at < cap) {
		size_t room = cap - at - 1;
		memcpy(buf + at, s, n < room ? n : room);
		buf[at + (n < room ? n : room)] = '\0';
	}
	return at + n;
}

/* Parent first, so the path reads root-first. Depth is bounded by the
 * loader's nesting limit. */
static size_t path_rec(const otf_config_node_t *n, char *buf, size_t cap)
{
	if (!n || !n->parent)
		return 0;
	size_t at = path_rec(n->parent, buf, cap);
	if (n->key) {
		if (at)
			at = path_append(buf, cap, at, ".");
		return path_append(buf, cap, at, n->key);
	}
	char idx[32];
	snprintf(idx, sizeof(idx), "[%zu]", n->index);
	return path_append(buf, cap, at, idx);
}

size_t otf_config_node_path(const otf_config_node_t *node, char *buf, size_t cap)
{
	if (cap)
		buf[0] = '\0';
	return path_rec(node, buf, cap);
}

static void copy_cut(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

__attribute__((format(printf, 6, 0))) static int error_vset(otf_config_error_t *err,
                                                            const char *file, uint32_t line,
                                                            uint32_t column, const char *path,
                                                            const char *fmt, va_list ap)
{
	if (!err)
		return OTF_E_CONFIG;
	copy_cut(err->file, sizeof(err->file), file);
	err->line = line;
	err->column = column;
	copy_cut(err->path, sizeof(err->path), path);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);

	size_t at = 0, cap = sizeof(err->text);
	err->text[0] = '\0';
	if (err->file[0]) {
		if (line && column)
			at +=
			    (size_t)snprintf(err->text, cap, "%s:%u:%u: ", err->file, line, column);
		else if (line)
			at += (size_t)snprintf(err->text, cap, "%s:%u: ", err->file, line);
		else
			at += (size_t)snprintf(err->text, cap, "%s: ", err->file);
	}
	if (at < cap && err->path[0])
		at += (size_t)snprintf(err->text + at, cap - at, "%s: ", err->path);
	if (at < cap)
		snprintf(err->text + at, cap - at, "%s", err->message);
	return OTF_E_CONFIG;
}

int otf__config_error_set(otf_config_error_t *err, const char *file, uint32_t line, uint32_t column,
                          const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = error_vset(err, file, line, column, path, fmt, ap);
	va_end(ap);
	return rc;
}

int otf_config_errorf(otf_config_error_t *err, const otf_config_node_t *node, const char *fmt, ...)
{
	if (!err)
		return OTF_E_CONFIG;
	char path[256];
	otf_config_node_path(node, path, sizeof(path));
	va_list ap;
	va_start(ap, fmt);
	int rc = error_vset(err, node ? node->file : NULL, node ? node->line : 0,
	                    node ? node->column : 0, path, fmt, ap);
	va_end(ap);
	return rc;
}

const char *otf_config_kind_name(const otf_config_node_t *node)
{
	switch (otf_config_node_kind(node)) {
	case OTF_CONFIG_SCALAR:
		return "a scalar";
	case OTF_CONFIG_SEQUENCE:
		return "a sequence";
	case OTF_CONFIG_MAPPING:
		return "a mapping";
	case OTF_CONFIG_NULL:
	default:
		return node ? "null" : "nothing";
	}
}
