/* OTTL internals shared by the lexer, parser, checker and evaluator.
 *
 * Pipeline: text -> tokens (ottl_lex.c) -> AST in the program's arena
 * (ottl_parse.c) -> checked AST: paths resolved to field ids, calls bound
 * to function descriptors, regexes compiled (ottl_check.c) -> evaluated per
 * record (ottl_eval.c, ottl_paths.c, otf__ottl_funcs_*.c).
 *
 * Runtime values are otf_any_value_t: OTF_ANY_EMPTY is OTTL's nil, a map is
 * a kvlist, a list an array; OTTL_VAL_TIME (not a pdata type) is a time in
 * ns since the epoch held in u.int_value. Values read from a path alias the
 * tree; anything stored into the tree is copied into the record's arena.
 */
#ifndef OTF_OTTL_INTERNAL_H
#define OTF_OTTL_INTERNAL_H

#include "otflow/ottl.h"

#include <stdarg.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define OTTL_VAL_TIME ((otf_any_type_t)100)

/* Nesting limit for expressions: bounds parser recursion on any input. */
#define OTTL_MAX_DEPTH 64

/* ---- tokens ---- */

typedef enum otf__ottl_tok_kind {
	T_EOF = 0,
	T_IDENT,
	T_STRING, /* text = decoded bytes (escapes resolved) */
	T_INT,
	T_FLOAT,
	T_BYTES, /* text = decoded bytes */
	T_LPAREN,
	T_RPAREN,
	T_LBRACK,
	T_RBRACK,
	T_LBRACE,
	T_RBRACE,
	T_COMMA,
	T_COLON,
	T_DOT,
	T_ASSIGN, /* = */
	T_EQ,
	T_NE,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_PLUS,
	T_MINUS,
	T_STAR,
	T_SLASH,
} otf__ottl_tok_kind_t;

typedef struct otf__ottl_tok {
	otf__ottl_tok_kind_t kind;
	size_t pos; /* byte offset of the token's first byte */
	const char *text;
	size_t len;
	int64_t i;
	double d;
} otf__ottl_tok_t;

typedef struct otf__ottl_err {
	size_t column;
	char msg[200];
} otf__ottl_err_t;

int otf__ottl_errorf(otf__ottl_err_t *e, size_t column, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Whether n bytes are valid UTF-8 (no overlongs, no surrogates). */
bool otf__ottl_utf8_valid(const uint8_t *s, size_t n);

/* Tokenizes src into an arena array; OTF_E_INVAL with e set on a lexical
 * error, OTF_E_NOMEM. The last token is T_EOF. */
int otf__ottl_lex(const char *src, size_t len, otf_arena_t *a, otf__ottl_tok_t **toks,
                  size_t *ntoks, otf__ottl_err_t *e);

/* ---- AST ---- */

typedef enum otf__ottl_node_kind {
	N_LIT,  /* literal value in lit */
	N_PATH, /* path: segs, keys */
	N_CALL, /* editor or converter: name, args, keys (converter index) */
	N_LIST,
	N_MAP, /* keys as string literals in map_keys, values in args */
	N_ENUM,
	N_NOT,
	N_AND,
	N_OR,
	N_CMP,  /* op in op, operands args[0], args[1] */
	N_MATH, /* op +,-,*,/ */
	N_NEG,  /* unary minus */
} otf__ottl_node_kind_t;

typedef struct otf__ottl_node otf__ottl_node_t;
typedef struct otf__ottl_func otf__ottl_func_t;

struct otf__ottl_node {
	otf__ottl_node_kind_t kind;
	size_t pos;
	otf_any_value_t lit; /* N_LIT; N_ENUM: int */
	/* N_PATH: dotted segments; N_CALL: segs[0] is the name */
	otf_bytes_t *segs;
	size_t nsegs;
	otf__ottl_node_t **keys; /* index expressions: [ "k" ], [ 0 ] */
	size_t nkeys;
	otf__ottl_node_t **args;
	otf_bytes_t *arg_names; /* N_CALL: named arguments (len 0 = positional) */
	size_t *name_pos;       /* N_CALL: column of each argument's name */
	size_t nargs;
	otf__ottl_tok_kind_t op;
	/* filled by the checker */
	int field;                    /* N_PATH: otf__ottl_field_t */
	const otf__ottl_func_t *func; /* N_CALL */
	otf__ottl_node_t **bound;     /* N_CALL: arguments by parameter slot (NULL = absent) */
	pcre2_code *re;               /* N_CALL: compiled regex of the pattern parameter */
};

/* Parses one statement (editor call + optional where) or one condition. */
int otf__ottl_parse_statement(const otf__ottl_tok_t *toks, size_t n, otf_arena_t *a,
                              otf__ottl_node_t **call, otf__ottl_node_t **where,
                              otf__ottl_err_t *e);
int otf__ottl_parse_condition(const otf__ottl_tok_t *toks, size_t n, otf_arena_t *a,
                              otf__ottl_node_t **cond, otf__ottl_err_t *e);

/* ---- paths (ottl_paths.c) ---- */

typedef enum otf__ottl_vtype {
	VT_ANY = 0,
	VT_STRING,
	VT_INT,
	VT_DOUBLE,
	VT_BOOL,
	VT_BYTES,
	VT_MAP,
	VT_LIST,
	VT_TIME,
} otf__ottl_vtype_t;

typedef struct otf__ottl_field_desc {
	otf_ottl_context_t ctx;
	const char *name; /* "name", "status.code", "trace_id.string" */
	otf__ottl_vtype_t type;
	bool settable;
	bool indexable; /* takes ["key"] / [i] */
} otf__ottl_field_desc_t;

/* Resolves segs for a program of context ctx; -1 (e set) when unknown. */
int otf__ottl_field_resolve(otf_ottl_context_t ctx, const otf_bytes_t *segs, size_t nsegs,
                            size_t pos, otf__ottl_err_t *e);
const otf__ottl_field_desc_t *otf__ottl_field_desc(int field);

typedef struct otf__ottl_run {
	otf_ottl_record_t *rec;
	otf__ottl_err_t *e;
} otf__ottl_run_t;

/* Reads field (with keys evaluated into kv, nk of them) into *out. */
int otf__ottl_path_get(otf__ottl_run_t *r, const otf__ottl_node_t *path, otf_any_value_t *out);
/* Indexes v by keys (a converter's result): nil for a missing key. */
int otf__ottl_index(otf__ottl_run_t *r, otf__ottl_node_t *const *keys, size_t nkeys,
                    otf_any_value_t v, otf_any_value_t *out);
/* Writes v (copied into the record's arena) to the path. */
int otf__ottl_path_set(otf__ottl_run_t *r, const otf__ottl_node_t *path, const otf_any_value_t *v);
/* A live map the path designates (attributes, or a kvlist inside one):
 * *items and *len point at the tree's storage so editors can rewrite it. */
int otf__ottl_path_map(otf__ottl_run_t *r, const otf__ottl_node_t *path, otf_key_value_t ***items,
                       size_t **len);

/* ---- functions (otf__ottl_funcs_*.c) ---- */

typedef enum otf__ottl_ptype {
	P_ANY = 0,    /* any value */
	P_STRING,     /* string getter */
	P_INT,        /* int getter */
	P_SETTER,     /* a settable path */
	P_MAP_TARGET, /* a path designating a map (edited in place) */
	P_MAP,        /* a map getter */
	P_LIST,       /* a list getter */
	P_STR_LIST,   /* list literal of strings */
	P_PATTERN,    /* string literal: a regex compiled at check time */
	P_LITERAL_STR /* string literal: glob, mode, strategy */
} otf__ottl_ptype_t;

typedef struct otf__ottl_param {
	const char *name;
	otf__ottl_ptype_t type;
	bool optional;
	const char *const *choices; /* P_LITERAL_STR: allowed values, NULL-terminated */
} otf__ottl_param_t;

#define OTTL_MAX_PARAMS 6

struct otf__ottl_func {
	const char *name;
	bool editor;
	otf__ottl_vtype_t returns; /* converters */
	size_t nparams;
	otf__ottl_param_t params[OTTL_MAX_PARAMS];
	/* Editors: out unused. Converters: result in *out. */
	int (*call)(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out);
};

/* ParseJSON (ottl_funcs_json.c). */
int otf__ottl_parse_json(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_any_value_t *out);
const otf__ottl_func_t *otf__ottl_func_lookup(const char *name, size_t len);
extern const otf__ottl_func_t otf__ottl_editors[];
extern const size_t otf__ottl_editors_len;
extern const otf__ottl_func_t otf__ottl_converters[];
extern const size_t otf__ottl_converters_len;

/* Regexes (ottl_regex.c). compile: OTF_E_INVAL with PCRE2's error code
 * and the offset in the pattern. match: 1 when re matches anywhere in s
 * (Go's MatchString), 0 when not, negative on a match-time failure (the
 * match limit). replace: every match replaced by repl (Go's
 * ReplaceAllString; $1, ${1}, $name expand groups) into the record's
 * arena; returns the number of substitutions (0: *out is s itself). */
int otf__ottl_re_compile(const otf_bytes_t pattern, pcre2_code **out, int *code, size_t *off);
int otf__ottl_re_replace(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_bytes_t s,
                         otf_bytes_t repl, otf_any_value_t *out);
int otf__ottl_re_match(otf__ottl_run_t *r, const otf__ottl_node_t *call, otf_bytes_t s);

/* ---- evaluator (ottl_eval.c) ---- */

int otf__ottl_eval(otf__ottl_run_t *r, const otf__ottl_node_t *n, otf_any_value_t *out);
/* 1 true, 0 false, negative on error. */
int otf__ottl_eval_bool(otf__ottl_run_t *r, const otf__ottl_node_t *n);
/* Argument slot i of a call, evaluated; absent optional -> nil. */
int otf__ottl_arg(otf__ottl_run_t *r, const otf__ottl_node_t *call, size_t i, otf_any_value_t *out);

/* ---- values (ottl_value.c) ---- */

/* Deep copy into a (strings, bytes, maps, lists). */
int otf__ottl_value_copy(otf_arena_t *a, const otf_any_value_t *in, otf_any_value_t *out);
/* OTTL equality and ordering; op is T_EQ..T_GE. */
bool otf__ottl_compare(const otf_any_value_t *l, const otf_any_value_t *r, otf__ottl_tok_kind_t op);
/* "a string", "an int", "nil", ...: ready for "got %s" messages. */
const char *otf__ottl_type_name(otf_any_type_t t);
/* Arena string of n bytes copied from p. */
int otf__ottl_string(otf_arena_t *a, const void *p, size_t n, otf_any_value_t *out);
/* Hex of bytes (lowercase) as a string value in a. */
int otf__ottl_hex(otf_arena_t *a, otf_bytes_t b, otf_any_value_t *out);
/* String() conversion per OTTL rules into a. */
int otf__ottl_to_string(otf_arena_t *a, const otf_any_value_t *in, otf_any_value_t *out);

/* Map helpers on live storage. */
otf_key_value_t *otf__ottl_map_find(otf_key_value_t *items, size_t len, otf_bytes_t key);
int otf__ottl_map_put(otf_arena_t *a, otf_key_value_t **items, size_t *len, otf_bytes_t key,
                      const otf_any_value_t *v);
void otf__ottl_map_remove_at(otf_key_value_t *items, size_t *len, size_t i);

static inline bool otf__ottl_bytes_eq(otf_bytes_t a, otf_bytes_t b)
{
	return a.len == b.len && (a.len == 0 || __builtin_memcmp(a.ptr, b.ptr, a.len) == 0);
}

static inline bool otf__ottl_bytes_is(otf_bytes_t a, const char *s)
{
	size_t n = __builtin_strlen(s);
	return a.len == n && (n == 0 || __builtin_memcmp(a.ptr, s, n) == 0);
}

/* Whether p was compiled from conditions (ottl_eval.c). */
bool otf__ottl_program_is_conditions(const otf_ottl_program_t *p);
/* The checked tree of condition i (NULL when p holds statements or i is
 * out of range) and p's context: for ottl_fast.c. */
const otf__ottl_node_t *otf__ottl_program_condition(const otf_ottl_program_t *p, size_t i);
otf_ottl_context_t otf__ottl_program_context(const otf_ottl_program_t *p);

/* ---- checker (ottl_check.c) ---- */

/* Binds paths and calls of a parsed tree for ctx; e set on error. */
int otf__ottl_check_statement(otf_ottl_context_t ctx, otf_arena_t *a, otf__ottl_node_t *call,
                              otf__ottl_node_t *where, otf__ottl_err_t *e);
int otf__ottl_check_condition(otf_ottl_context_t ctx, otf_arena_t *a, otf__ottl_node_t *cond,
                              otf__ottl_err_t *e);
/* Frees compiled regexes under n. */
void otf__ottl_release(otf__ottl_node_t *n);

#endif
