/* OTTL lexer: bytes of one statement to tokens. Strings take Go's escapes
 * and must be valid UTF-8 after unescaping (pdata strings are); numbers are
 * int64 or double; 0x.. is a bytes literal. Every token keeps its byte
 * offset so later errors can name the column. */
#include "ottl_internal.h"

#include "otflow/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int otf__ottl_errorf(otf__ottl_err_t *e, size_t column, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		e->column = column;
		vsnprintf(e->msg, sizeof e->msg, fmt, ap);
		va_end(ap);
	}
	return OTF_E_INVAL;
}

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* pdata strings are valid UTF-8 (the decoders check); literals keep it so. */
bool otf__ottl_utf8_valid(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp, min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

/* A double-quoted string with Go's escapes (\" \\ \n \r \t \xHH \uHHHH
 * \UHHHHHHHH ...); *end receives the offset after the closing quote. */
static int lex_string(const char *s, size_t len, size_t start, otf_arena_t *a, otf__ottl_tok_t *t,
                      size_t *end, otf__ottl_err_t *e)
{
	char *o = otf_arena_alloc(a, len - start + 1);
	size_t n = 0, i = start + 1;
	if (!o)
		return OTF_E_NOMEM;
	for (;;) {
		if (i >= len)
			return otf__ottl_errorf(e, start, "unterminated string");
		char c = s[i];
		if (c == '"')
			break;
		if (c != '\\') {
			o[n++] = c;
			i++;
			continue;
		}
		if (i + 1 >= len)
			return otf__ottl_errorf(e, start, "unterminated string");
		char x = s[i + 1];
		int digits = 0;
		switch (x) {
		case '"':
			o[n++] = '"';
			break;
		case '\\':
			o[n++] = '\\';
			break;
		case '\'':
			o[n++] = '\'';
			break;
		case 'n':
			o[n++] = '\n';
			break;
		case 'r':
			o[n++] = '\r';
			break;
		case 't':
			o[n++] = '\t';
			break;
		case 'a':
			o[n++] = '\a';
			break;
		case 'b':
			o[n++] = '\b';
			break;
		case 'f':
			o[n++] = '\f';
			break;
		case 'v':
			o[n++] = '\v';
			break;
		case 'x':
			digits = 2;
			break;
		case 'u':
			digits = 4;
			break;
		case 'U':
			digits = 8;
			break;
		default:
			return otf__ottl_errorf(e, i, "unknown escape \\%c in string", x);
		}
		i += 2;
		if (digits) {
			uint32_t cp = 0;
			for (int k = 0; k < digits; k++) {
				int h = i + (size_t)k < len ? hexval(s[i + (size_t)k]) : -1;
				if (h < 0)
					return otf__ottl_errorf(
					    e, i - 2, "escape needs %d hex digits", digits);
				cp = cp * 16 + (uint32_t)h;
			}
			i += (size_t)digits;
			if (digits == 2)
				o[n++] = (char)cp;
			else if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
				return otf__ottl_errorf(e, i - (size_t)digits - 2,
				                        "invalid code point in escape");
			else
				n += put_utf8(o + n, cp);
		}
	}
	if (!otf__ottl_utf8_valid((const uint8_t *)o, n))
		return otf__ottl_errorf(e, start, "string is not valid UTF-8");
	t->kind = T_STRING;
	t->text = o;
	t->len = n;
	*end = i + 1;
	return 0;
}

static int lex_number(const char *s, size_t len, size_t i, otf_arena_t *a, otf__ottl_tok_t *t,
                      size_t *end, otf__ottl_err_t *e)
{
	size_t j = i;
	if (s[i] == '0' && i + 1 < len && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		j = i + 2;
		while (j < len && hexval(s[j]) >= 0)
			j++;
		size_t nd = j - i - 2;
		if (nd == 0 || nd % 2)
			return otf__ottl_errorf(
			    e, i, "bytes literal needs an even, non-zero number of hex digits");
		uint8_t *b = otf_arena_alloc(a, nd / 2 + 1);
		if (!b)
			return OTF_E_NOMEM;
		for (size_t k = 0; k < nd / 2; k++)
			b[k] = (uint8_t)(hexval(s[i + 2 + 2 * k]) * 16 + hexval(s[i + 3 + 2 * k]));
		t->kind = T_BYTES;
		t->text = (const char *)b;
		t->len = nd / 2;
		*end = j;
		return 0;
	}
	while (j < len && is_digit(s[j]))
		j++;
	bool is_float = false;
	if (j < len && s[j] == '.') {
		is_float = true;
		j++;
		if (j >= len || !is_digit(s[j]))
			return otf__ottl_errorf(e, i, "malformed number");
		while (j < len && is_digit(s[j]))
			j++;
	}
	if (j < len && (s[j] == 'e' || s[j] == 'E')) {
		is_float = true;
		j++;
		if (j < len && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j >= len || !is_digit(s[j]))
			return otf__ottl_errorf(e, i, "malformed number");
		while (j < len && is_digit(s[j]))
			j++;
	}
	if (j < len && (is_ident_start(s[j]) || s[j] == '.'))
		return otf__ottl_errorf(e, i, "malformed number");
	char buf[64];
	if (j - i >= sizeof buf)
		return otf__ottl_errorf(e, i, "number too long");
	memcpy(buf, s + i, j - i);
	buf[j - i] = 0;
	if (is_float) {
		t->kind = T_FLOAT;
		t->d = strtod(buf, NULL);
	} else {
		uint64_t v = 0;
		for (size_t k = 0; buf[k]; k++) {
			uint64_t d = (uint64_t)(buf[k] - '0');
			if (v > (UINT64_C(9223372036854775808) - d) / 10)
				return otf__ottl_errorf(e, i, "integer out of range");
			v = v * 10 + d;
		}
		t->kind = T_INT;
		/* 2^63 itself is only valid after a unary minus; the parser checks */
		t->i = (int64_t)(v - (v == UINT64_C(9223372036854775808)));
		t->d = (double)v;
		if (v == UINT64_C(9223372036854775808))
			t->len = 1; /* marks "needs negation" */
	}
	*end = j;
	return 0;
}

int otf__ottl_lex(const char *s, size_t len, otf_arena_t *a, otf__ottl_tok_t **toks, size_t *ntoks,
                  otf__ottl_err_t *e)
{
	size_t cap = 16, n = 0;
	otf__ottl_tok_t *v = otf_arena_alloc(a, cap * sizeof *v);
	if (!v)
		return OTF_E_NOMEM;
	size_t i = 0;
	for (;;) {
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
			i++;
		if (n == cap) {
			otf__ottl_tok_t *nv = otf_arena_alloc(a, 2 * cap * sizeof *v);
			if (!nv)
				return OTF_E_NOMEM;
			memcpy(nv, v, n * sizeof *v);
			v = nv;
			cap *= 2;
		}
		otf__ottl_tok_t *t = &v[n++];
		memset(t, 0, sizeof *t);
		t->pos = i;
		if (i >= len) {
			t->kind = T_EOF;
			break;
		}
		char c = s[i];
		char c2 = i + 1 < len ? s[i + 1] : 0;
		size_t end = i + 1;
		int rc = 0;
		if (is_ident_start(c)) {
			end = i;
			while (end < len && (is_ident_start(s[end]) || is_digit(s[end])))
				end++;
			t->kind = T_IDENT;
			t->text = s + i;
			t->len = end - i;
		} else if (is_digit(c)) {
			rc = lex_number(s, len, i, a, t, &end, e);
		} else if (c == '"') {
			rc = lex_string(s, len, i, a, t, &end, e);
		} else {
			switch (c) {
			case '(':
				t->kind = T_LPAREN;
				break;
			case ')':
				t->kind = T_RPAREN;
				break;
			case '[':
				t->kind = T_LBRACK;
				break;
			case ']':
				t->kind = T_RBRACK;
				break;
			case '{':
				t->kind = T_LBRACE;
				break;
			case '}':
				t->kind = T_RBRACE;
				break;
			case ',':
				t->kind = T_COMMA;
				break;
			case ':':
				t->kind = T_COLON;
				break;
			case '.':
				t->kind = T_DOT;
				break;
			case '+':
				t->kind = T_PLUS;
				break;
			case '-':
				t->kind = T_MINUS;
				break;
			case '*':
				t->kind = T_STAR;
				break;
			case '/':
				t->kind = T_SLASH;
				break;
			case '=':
				t->kind = c2 == '=' ? T_EQ : T_ASSIGN;
				end += c2 == '=';
				break;
			case '!':
				if (c2 != '=')
					return otf__ottl_errorf(
					    e, i, "unexpected '!' (use 'not' or '!=')");
				t->kind = T_NE;
				end++;
				break;
			case '<':
				t->kind = c2 == '=' ? T_LE : T_LT;
				end += c2 == '=';
				break;
			case '>':
				t->kind = c2 == '=' ? T_GE : T_GT;
				end += c2 == '=';
				break;
			default:
				if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
					return otf__ottl_errorf(e, i, "unexpected byte 0x%02x",
					                        (unsigned)(unsigned char)c);
				return otf__ottl_errorf(e, i, "unexpected character '%c'", c);
			}
		}
		if (rc)
			return rc;
		i = end;
	}
	*toks = v;
	*ntoks = n;
	return 0;
}
