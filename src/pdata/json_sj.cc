// The C interface of json_sj.h over simdjson's On-Demand API (Debian's
// libsimdjson-dev). The only C++ in otflow: the decoders stay in C and call
// these functions, which hand each value to a C callback while simdjson's
// iterator sits on it, so no tree of the document is ever built.
//
// Behaviour kept from the former json-c decoder, where simdjson differs:
// - a lone surrogate escape becomes U+FFFD (json-c's rendering: a high
//   surrogate not followed by a low one is replaced alone, the next escape
//   is read on its own); simdjson refuses such strings, so documents that
//   hold one (found by the caller) unescape through unescape_fallback();
// - keys are C strings: an escaped NUL ends the key;
// - numbers are handed over as text, the caller converts them.
// On-Demand does not check what it skips, so every value the decoders do
// not read is walked here anyway (skip()): the input is validated whole.
#define SIMDJSON_EXCEPTIONS 0
#include <simdjson.h>

#include "json_sj.h"

#include "otflow/err.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <new>

using namespace simdjson;

struct otf__jsj {
	ondemand::parser parser;
	ondemand::document doc;
	std::unique_ptr<char[]> buf; // the input, padded for simdjson
	size_t cap = 0;
	std::unique_ptr<char[]> scratch; // fallback unescaping, >= len bytes
	size_t scratch_cap = 0;
	const char *base = nullptr;
	size_t len = 0;
	size_t depth = 0, max_depth = 0;
	bool surrogates = false;
	otf__jsj_error_t err{};
};

// initial-exec: the module is loaded with dlopen, and its one pointer of TLS
// then goes into glibc's static TLS surplus instead of a block allocated by
// __tls_get_addr on each thread's first use (LeakSanitizer of clang 14
// faults walking such blocks at exit).
static thread_local std::unique_ptr<otf__jsj> t_parser __attribute__((tls_model("initial-exec")));

extern "C" otf__jsj *otf__jsj_get(void)
{
	if (!t_parser)
		t_parser.reset(new (std::nothrow) otf__jsj());
	return t_parser.get();
}

extern "C" void otf__jsj_release(void)
{
	t_parser.reset();
}

extern "C" void otf__jsj_trim(void)
{
	// simdjson's index and string buffer plus the padded copy: ~7 bytes per
	// input byte, kept for the next request up to this input size.
	if (t_parser && t_parser->cap > OTF__JSJ_KEEP_BYTES + SIMDJSON_PADDING)
		t_parser.reset();
}

extern "C" const otf__jsj_error_t *otf__jsj_error(const otf__jsj *p)
{
	return &p->err;
}

static size_t where(otf__jsj *p)
{
	const char *loc = nullptr;
	if (p->doc.current_location().get(loc) || !loc || loc < p->base)
		return p->len;
	size_t off = (size_t)(loc - p->base);
	return off < p->len ? off : p->len;
}

static int fail_at(otf__jsj *p, int code, size_t off, const char *detail)
{
	p->err.code = code;
	p->err.offset = off;
	snprintf(p->err.detail, sizeof p->err.detail, "%s", detail);
	return OTF__JSJ_SYNTAX;
}

static int fail(otf__jsj *p, error_code ec)
{
	// json-c read to the end before it could tell
	if (ec == INCOMPLETE_ARRAY_OR_OBJECT || ec == UNCLOSED_STRING)
		return fail_at(p, OTF_E_JSON, p->len, "unexpected end of input");
	return fail_at(p, ec == DEPTH_ERROR ? OTF_E_DEPTH : OTF_E_JSON, where(p),
	               error_message(ec));
}

// Offset of the first byte that is not part of valid UTF-8 (strict: no
// overlong forms, surrogates or code points past U+10FFFF).
extern "C" size_t otf__jsj_first_bad_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t k;
		unsigned lo = 0x80, hi = 0xbf;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			if (c == 0xe0)
				lo = 0xa0;
			if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			if (c == 0xf0)
				lo = 0x90;
			if (c == 0xf4)
				hi = 0x8f;
		} else {
			return i;
		}
		if (n - i <= k)
			return i;
		for (size_t j = 1; j <= k; j++) {
			unsigned b = s[i + j];
			if (b < (j == 1 ? lo : 0x80) || b > (j == 1 ? hi : 0xbf))
				return i;
		}
		i += k + 1;
	}
	return n;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool hex4(const char *s, const char *end, unsigned *out)
{
	if (end - s < 4)
		return false;
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval((unsigned char)s[i]);
		if (h < 0)
			return false;
		v = v << 4 | (unsigned)h;
	}
	*out = v;
	return true;
}

static char *put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | cp >> 12);
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | cp >> 18);
		*o++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return o;
}

// Unescapes the string whose content starts at s (after the opening quote)
// into p->scratch, json-c's way (see the top of this file). Returns false
// on an invalid escape or a missing closing quote.
static bool unescape_fallback(otf__jsj *p, const char *s, const char **outp, size_t *outn,
                              bool *replaced)
{
	const char *end = p->base + p->len;
	char *o = p->scratch.get(), *o0 = o;
	*replaced = false;
	while (s < end && *s != '"') {
		if (*s != '\\') {
			*o++ = *s++;
			continue;
		}
		if (end - s < 2)
			return false;
		char e = s[1];
		s += 2;
		switch (e) {
		case '"':
		case '\\':
		case '/':
			*o++ = e;
			continue;
		case 'b':
			*o++ = '\b';
			continue;
		case 'f':
			*o++ = '\f';
			continue;
		case 'n':
			*o++ = '\n';
			continue;
		case 'r':
			*o++ = '\r';
			continue;
		case 't':
			*o++ = '\t';
			continue;
		case 'u':
			break;
		default:
			return false;
		}
		unsigned cp, lo;
		if (!hex4(s, end, &cp))
			return false;
		s += 4;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (end - s >= 6 && s[0] == '\\' && s[1] == 'u' && hex4(s + 2, end, &lo) &&
			    lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				s += 6;
			} else {
				cp = 0xfffd;
				*replaced = true;
			}
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			cp = 0xfffd;
			*replaced = true;
		}
		o = put_utf8(o, cp);
	}
	if (s >= end)
		return false;
	*outp = o0;
	*outn = (size_t)(o - o0);
	return true;
}

// The number grammar of RFC 8259; *is_int unless a fraction or exponent.
static bool number_text(const char *s, size_t n, bool *is_int)
{
	size_t i = 0;
	*is_int = true;
	if (i < n && s[i] == '-')
		i++;
	if (i >= n)
		return false;
	if (s[i] == '0') {
		i++;
	} else if (s[i] >= '1' && s[i] <= '9') {
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	} else {
		return false;
	}
	if (i < n && s[i] == '.') {
		*is_int = false;
		i++;
		size_t d = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		*is_int = false;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t d = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return false;
	}
	return i == n;
}

static std::string_view trim_ws(std::string_view t)
{
	size_t n = t.size();
	while (n && (t[n - 1] == ' ' || t[n - 1] == '\t' || t[n - 1] == '\n' || t[n - 1] == '\r'))
		n--;
	return t.substr(0, n);
}

// Reads the value the iterator is on into *out (scalars consumed).
template <typename V> static int read_value(otf__jsj *p, V &val, otf__jval *out)
{
	std::memset(out, 0, sizeof *out);
	out->p = p;
	ondemand::json_type t;
	error_code ec = val.type().get(t);
	if (ec)
		return fail(p, ec);
	switch (t) {
	case ondemand::json_type::object:
		out->type = OTF__JT_OBJECT;
		out->impl = &val;
		return 0;
	case ondemand::json_type::array:
		out->type = OTF__JT_ARRAY;
		out->impl = &val;
		return 0;
	case ondemand::json_type::string: {
		out->type = OTF__JT_STRING;
		std::string_view s;
		out->off = (size_t)(val.raw_json_token().data() - p->base);
		if (p->surrogates) {
			std::string_view raw = val.raw_json_token();
			if (std::memchr(raw.data(), '\\', raw.size())) {
				size_t off = (size_t)(raw.data() - p->base);
				if (!unescape_fallback(p, raw.data() + 1, &out->s, &out->n,
				                       &out->surrogate))
					return fail_at(p, OTF_E_JSON, off, "invalid string escape");
				// consumed as a raw string: no unescaping by simdjson
				ondemand::raw_json_string r;
				if ((ec = val.get_raw_json_string().get(r)))
					return fail(p, ec);
				return 0;
			}
		}
		if ((ec = val.get_string().get(s)))
			return fail(p, ec);
		out->s = s.data();
		out->n = s.size();
		return 0;
	}
	case ondemand::json_type::number: {
		std::string_view raw = trim_ws(val.raw_json_token());
		bool is_int;
		if (!number_text(raw.data(), raw.size(), &is_int))
			return fail_at(p, OTF_E_JSON, (size_t)(raw.data() - p->base),
			               "invalid number");
		out->type = is_int ? OTF__JT_INT : OTF__JT_DOUBLE;
		out->s = raw.data();
		out->n = raw.size();
		// simdjson's conversion is correctly rounded, as strtod's is, and
		// much faster; it refuses what overflows, which the caller then
		// converts from the text (to an infinity, an error there).
		if (!is_int)
			out->has_d = val.get_double().get(out->d) == SUCCESS;
		return 0;
	}
	case ondemand::json_type::boolean:
		out->type = OTF__JT_BOOL;
		if ((ec = val.get_bool().get(out->b)))
			return fail(p, ec);
		return 0;
	case ondemand::json_type::null: {
		bool is_null = false;
		if ((ec = val.is_null().get(is_null)) || !is_null)
			return fail(p, ec ? ec : N_ATOM_ERROR);
		out->type = OTF__JT_NULL;
		return 0;
	}
	}
	return fail(p, TAPE_ERROR);
}

static int skip_field(void *, const char *, otf__jval *)
{
	return 0;
}

static int skip_elem(void *, size_t, otf__jval *)
{
	return 0;
}

// Walks a container the decoder left unread, so that it is validated.
static int skip(otf__jval *v)
{
	if (v->walked)
		return 0;
	if (v->type == OTF__JT_OBJECT)
		return otf__jsj_object(v, skip_field, nullptr);
	if (v->type == OTF__JT_ARRAY)
		return otf__jsj_array(v, nullptr, skip_elem, nullptr);
	return 0;
}

static int enter(otf__jsj *p)
{
	if (++p->depth > p->max_depth)
		return fail_at(p, OTF_E_DEPTH, where(p), "nesting too deep");
	return 0;
}

// A key as a C string: cut at an escaped NUL; over-long keys (no OTLP
// field name is near 64 bytes) become "", which matches no field.
static void key_cstr(char *kb, size_t size, const char *s, size_t n)
{
	const char *z = (const char *)std::memchr(s, '\0', n);
	if (z)
		n = (size_t)(z - s);
	if (n >= size)
		n = 0;
	std::memcpy(kb, s, n);
	kb[n] = '\0';
}

// simdjson refuses a root object whose input does not end with its '}'
// before reading it; json-c read the object, then refused what follows it
// (or reached the end of the input inside it). Tells which, for the offset.
static int root_incomplete(otf__jsj *p)
{
	const char *s = p->base, *end = s + p->len;
	size_t depth = 0;
	bool in_str = false;
	for (const char *q = s; q < end; q++) {
		if (in_str) {
			if (*q == '\\')
				q++;
			else if (*q == '"')
				in_str = false;
		} else if (*q == '"') {
			in_str = true;
		} else if (*q == '{' || *q == '[') {
			depth++;
		} else if ((*q == '}' || *q == ']') && depth && --depth == 0) {
			for (q++; q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r');)
				q++;
			return fail_at(p, OTF_E_JSON, (size_t)(q - s),
			               "data after the top-level value");
		}
	}
	return fail_at(p, OTF_E_JSON, p->len, "unexpected end of input");
}

extern "C" int otf__jsj_object(otf__jval *v, otf__jsj_field_cb cb, void *ctx)
{
	otf__jsj *p = v->p;
	v->walked = true;
	int rc = enter(p);
	if (rc)
		return rc;
	ondemand::object obj;
	bool root = v->impl == &p->doc;
	error_code ec = root ? p->doc.get_object().get(obj)
	                     : static_cast<ondemand::value *>(v->impl)->get_object().get(obj);
	if (ec == INCOMPLETE_ARRAY_OR_OBJECT && root)
		return root_incomplete(p);
	if (ec)
		return fail(p, ec);
	for (auto fr : obj) {
		ondemand::field f;
		if ((ec = std::move(fr).get(f)))
			return fail(p, ec);
		char kb[64];
		ondemand::raw_json_string rk = f.key();
		const char *k0 = rk.raw();
		const char *q = k0;
		const char *end = p->base + p->len;
		bool us = false; // a '_': the caller normalises the key
		while (q < end && *q != '"' && *q != '\\')
			us |= *q++ == '_';
		if (q < end && *q == '"') {
			key_cstr(kb, sizeof kb, k0, (size_t)(q - k0));
		} else if (p->surrogates) {
			const char *ks;
			size_t kn;
			bool rep;
			if (!unescape_fallback(p, k0, &ks, &kn, &rep))
				return fail_at(p, OTF_E_JSON, (size_t)(k0 - p->base),
				               "invalid string escape");
			key_cstr(kb, sizeof kb, ks, kn);
			us = std::strchr(kb, '_') != nullptr;
		} else {
			std::string_view ks;
			if ((ec = f.unescaped_key().get(ks)))
				return fail(p, ec);
			key_cstr(kb, sizeof kb, ks.data(), ks.size());
			us = std::strchr(kb, '_') != nullptr;
		}
		ondemand::value &val = f.value();
		otf__jval cv;
		if ((rc = read_value(p, val, &cv)))
			return rc;
		cv.key_underscore = us;
		if ((rc = cb(ctx, kb, &cv)))
			return rc;
		if ((rc = skip(&cv)))
			return rc;
	}
	p->depth--;
	return 0;
}

extern "C" int otf__jsj_array(otf__jval *v, otf__jsj_begin_cb begin, otf__jsj_elem_cb elem,
                              void *ctx)
{
	otf__jsj *p = v->p;
	v->walked = true;
	int rc = enter(p);
	if (rc)
		return rc;
	ondemand::array arr;
	error_code ec = static_cast<ondemand::value *>(v->impl)->get_array().get(arr);
	if (ec)
		return fail(p, ec);
	size_t n = SIZE_MAX;
	if (begin) {
		if ((ec = arr.count_elements().get(n)))
			return fail(p, ec);
		if ((rc = begin(ctx, n)))
			return rc;
	}
	size_t i = 0;
	for (auto er : arr) {
		ondemand::value val;
		if ((ec = std::move(er).get(val)))
			return fail(p, ec);
		if (i >= n)
			return fail_at(p, OTF_E_JSON, where(p), "malformed array");
		otf__jval cv;
		if ((rc = read_value(p, val, &cv)))
			return rc;
		if ((rc = elem(ctx, i, &cv)))
			return rc;
		if ((rc = skip(&cv)))
			return rc;
		i++;
	}
	if (begin && i != n)
		return fail_at(p, OTF_E_JSON, where(p), "malformed array");
	p->depth--;
	return 0;
}

extern "C" int otf__jsj_parse(otf__jsj *p, const char *json, size_t len, size_t max_depth,
                              bool surrogates, otf__jval *root)
{
	size_t need = len + SIMDJSON_PADDING;
	if (p->cap < need) {
		p->buf.reset(new (std::nothrow) char[need]);
		p->cap = p->buf ? need : 0;
		if (!p->cap)
			return OTF_E_NOMEM;
	}
	// the fallback unescaping's output, only for inputs that need it
	if (surrogates && p->scratch_cap < need) {
		p->scratch.reset(new (std::nothrow) char[need]);
		p->scratch_cap = p->scratch ? need : 0;
		if (!p->scratch_cap)
			return OTF_E_NOMEM;
	}
	std::memcpy(p->buf.get(), json, len);
	std::memset(p->buf.get() + len, 0, SIMDJSON_PADDING);
	p->base = p->buf.get();
	p->len = len;
	p->depth = 0;
	p->max_depth = max_depth;
	p->surrogates = surrogates;
	p->err = otf__jsj_error_t{};
	if (p->parser.capacity() < len) {
		if (p->parser.allocate(len))
			return OTF_E_NOMEM;
	}
	error_code ec = p->parser.iterate(p->buf.get(), len, p->cap).get(p->doc);
	if (ec == UTF8_ERROR)
		return fail_at(p, OTF_E_UTF8,
		               otf__jsj_first_bad_utf8((const unsigned char *)json, len),
		               "invalid UTF-8 bytes");
	if (ec == EMPTY || ec == INCOMPLETE_ARRAY_OR_OBJECT || ec == UNCLOSED_STRING)
		return fail_at(p, OTF_E_JSON, len, "unexpected end of input");
	if (ec)
		return fail_at(p, OTF_E_JSON, 0, error_message(ec));
	std::memset(root, 0, sizeof *root);
	root->p = p;
	ondemand::json_type t;
	if ((ec = p->doc.type().get(t)))
		return fail(p, ec);
	switch (t) {
	case ondemand::json_type::object:
		root->type = OTF__JT_OBJECT;
		root->impl = &p->doc;
		return 0;
	case ondemand::json_type::array:
		root->type = OTF__JT_ARRAY;
		return 0;
	case ondemand::json_type::string:
		root->type = OTF__JT_STRING;
		return 0;
	case ondemand::json_type::boolean:
		root->type = OTF__JT_BOOL;
		return 0;
	case ondemand::json_type::null:
		root->type = OTF__JT_NULL;
		return 0;
	case ondemand::json_type::number: {
		std::string_view raw;
		if ((ec = p->doc.raw_json_token().get(raw)))
			return fail(p, ec);
		raw = trim_ws(raw);
		bool is_int;
		if (!number_text(raw.data(), raw.size(), &is_int))
			return fail_at(p, OTF_E_JSON, 0, "invalid number");
		root->type = is_int ? OTF__JT_INT : OTF__JT_DOUBLE;
		return 0;
	}
	}
	return fail(p, TAPE_ERROR);
}

extern "C" int otf__jsj_finish(otf__jsj *p)
{
	// Past the last token, the iterator has no location.
	const char *loc = nullptr;
	if (p->doc.current_location().get(loc) == OUT_OF_BOUNDS)
		return 0;
	size_t off = loc && loc >= p->base ? (size_t)(loc - p->base) : p->len;
	return fail_at(p, OTF_E_JSON, off, "data after the top-level value");
}

extern "C" int otf__jsj_validate(otf__jsj *p, const char *json, size_t len, size_t max_depth,
                                 bool surrogates)
{
	otf__jval root;
	int rc = otf__jsj_parse(p, json, len, max_depth, surrogates, &root);
	if (rc)
		return rc;
	if (root.type == OTF__JT_OBJECT && (rc = skip(&root)))
		return rc;
	return root.type == OTF__JT_OBJECT ? otf__jsj_finish(p) : 0;
}
