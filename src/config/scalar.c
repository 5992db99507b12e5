/* Typed readers for scalar text: bool, integers, doubles, Go durations and
 * byte sizes. The same parsers serve node values and schema defaults, so a
 * default can be written exactly as a user would write the value. */
#include "config/config_int.h"

#include "otflow/err.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int otf_config_parse_bool(const char *s, bool *out)
{
	static const char *const t[] = {"true", "True", "TRUE"};
	static const char *const f[] = {"false", "False", "FALSE"};
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(s, t[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, f[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return OTF_E_CONFIG;
}

/* Magnitude of an unsigned literal: decimal, 0x hex, 0o octal. strtoull
 * alone would accept leading spaces, a sign and "0" octal, which YAML does
 * not mean. */
static int parse_magnitude(const char *s, uint64_t *out)
{
	/* Digits may be grouped with '_' (100_000), as the Collector's YAML
	 * decoder (go-yaml v3) reads integers: the README examples do. */
	char plain[72];
	if (strchr(s, '_') && isdigit((unsigned char)s[0])) {
		size_t n = 0;
		for (; *s && n + 1 < sizeof plain; s++)
			if (*s != '_')
				plain[n++] = *s;
		if (*s)
			return OTF_E_CONFIG;
		plain[n] = 0;
		s = plain;
	}
	int base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && s[1] == 'o') {
		base = 8;
		s += 2;
	}
	if (!isxdigit((unsigned char)s[0]))
		return OTF_E_CONFIG;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, base);
	if (*end != '\0')
		return OTF_E_CONFIG;
	if (errno == ERANGE)
		return OTF_E_RANGE;
	*out = v;
	return 0;
}

int otf_config_parse_uint64(const char *s, uint64_t *out)
{
	if (*s == '+')
		s++;
	int rc = parse_magnitude(s, out);
	return rc == OTF_E_RANGE ? OTF_E_CONFIG : rc;
}

int otf_config_parse_int64(const char *s, int64_t *out)
{
	bool neg = false;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	uint64_t m;
	if (parse_magnitude(s, &m) < 0)
		return OTF_E_CONFIG;
	if (neg ? m > (uint64_t)INT64_MAX + 1 : m > (uint64_t)INT64_MAX)
		return OTF_E_CONFIG;
	*out = neg ? (int64_t)(0 - m) : (int64_t)m;
	return 0;
}

int otf_config_parse_double(const char *s, double *out)
{
	const char *p = s;
	double sign = 1;
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF")) {
		*out = sign * INFINITY;
		return 0;
	}
	if (p == s && (!strcmp(p, ".nan") || !strcmp(p, ".NaN") || !strcmp(p, ".NAN"))) {
		*out = NAN;
		return 0;
	}
	if (!*s || isspace((unsigned char)*s))
		return OTF_E_CONFIG;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (*end != '\0' || errno == ERANGE)
		return OTF_E_CONFIG;
	*out = v;
	return 0;
}

static bool all_digits(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Go's time.ParseDuration, same grammar and overflow rules. */
int otf_config_parse_duration(const char *s, int64_t *out_ns)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {
	    {"ns", 1},
	    {"us", 1000},
	    {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
	    {"\xce\xbcs", 1000}, /* U+03BC Greek mu */
	    {"ms", 1000000},
	    {"s", 1000000000ULL},
	    {"m", 60ULL * 1000000000ULL},
	    {"h", 3600ULL * 1000000000ULL},
	};
	if (all_digits(s))
		return otf_config_parse_int64(s, out_ns);
	bool neg = false;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (!*s)
		return OTF_E_CONFIG;
	uint64_t total = 0;
	while (*s) {
		uint64_t v = 0, f = 0;
		double scale = 1;
		bool digits = false, post_overflow = false;
		while (isdigit((unsigned char)*s)) {
			if (v > (UINT64_MAX - 9) / 10)
				return OTF_E_CONFIG;
			v = v * 10 + (uint64_t)(*s++ - '0');
			digits = true;
		}
		if (*s == '.') {
			s++;
			while (isdigit((unsigned char)*s)) {
				digits = true;
				/* Like Go: extra fraction digits past precision are dropped. */
				if (!post_overflow && f <= (UINT64_MAX - 9) / 10) {
					f = f * 10 + (uint64_t)(*s - '0');
					scale *= 10;
				} else {
					post_overflow = true;
				}
				s++;
			}
		}
		if (!digits)
			return OTF_E_CONFIG;
		size_t ulen = 0;
		while (s[ulen] && s[ulen] != '.' && !isdigit((unsigned char)s[ulen]))
			ulen++;
		uint64_t unit = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strlen(units[i].name) == ulen && !strncmp(s, units[i].name, ulen))
				unit = units[i].ns;
		if (!unit)
			return OTF_E_CONFIG; /* missing or unknown unit */
		s += ulen;
		if (v > (1ULL << 63) / unit)
			return OTF_E_CONFIG;
		v *= unit;
		if (f)
			v += (uint64_t)((double)f * ((double)unit / scale));
		total += v;
		if (v > 1ULL << 63 || total > 1ULL << 63)
			return OTF_E_CONFIG;
	}
	if (!neg && total > (uint64_t)INT64_MAX)
		return OTF_E_CONFIG;
	*out_ns = neg ? (int64_t)(0 - total) : (int64_t)total;
	return 0;
}

int otf_config_parse_size(const char *s, uint64_t *out_bytes)
{
	static const struct {
		const char *name;
		uint64_t mul;
	} units[] = {
	    {"", 1},
	    {"b", 1},
	    {"k", 1000ULL},
	    {"kb", 1000ULL},
	    {"ki", 1ULL << 10},
	    {"kib", 1ULL << 10},
	    {"m", 1000000ULL},
	    {"mb", 1000000ULL},
	    {"mi", 1ULL << 20},
	    {"mib", 1ULL << 20},
	    {"g", 1000000000ULL},
	    {"gb", 1000000000ULL},
	    {"gi", 1ULL << 30},
	    {"gib", 1ULL << 30},
	    {"t", 1000000000000ULL},
	    {"tb", 1000000000000ULL},
	    {"ti", 1ULL << 40},
	    {"tib", 1ULL << 40},
	};
	if (*s == '+')
		s++;
	const char *p = s;
	while (isdigit((unsigned char)*p))
		p++;
	const char *int_end = p;
	const char *frac = NULL;
	if (*p == '.') {
		frac = ++p;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (int_end == s && (!frac || p == frac))
		return OTF_E_CONFIG;
	const char *num_end = p;
	while (*p == ' ')
		p++;
	char unit[4];
	size_t ulen = strlen(p);
	if (ulen >= sizeof(unit))
		return OTF_E_CONFIG;
	for (size_t i = 0; i <= ulen; i++)
		unit[i] = (char)tolower((unsigned char)p[i]);
	uint64_t mul = 0;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(unit, units[i].name))
			mul = units[i].mul;
	if (!mul)
		return OTF_E_CONFIG;

	uint64_t whole = 0;
	for (const char *q = s; q < int_end; q++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return OTF_E_CONFIG;
		whole = whole * 10 + (uint64_t)(*q - '0');
	}
	if (whole > UINT64_MAX / mul)
		return OTF_E_CONFIG;
	uint64_t v = whole * mul;
	if (frac && num_end > frac) {
		/* Fractions ("1.5GiB") are rounded down to whole bytes. */
		double f = strtod(frac - 1, NULL) * (double)mul;
		if ((double)(UINT64_MAX - v) < f)
			return OTF_E_CONFIG;
		v += (uint64_t)f;
	}
	*out_bytes = v;
	return 0;
}

static int scalar_or_error(const otf_config_node_t *node, const char *what, const char **s,
                           otf_config_error_t *err)
{
	*s = otf_config_scalar(node, NULL);
	if (*s)
		return 0;
	return otf_config_errorf(err, node, "expected %s, got %s", what,
	                         otf_config_kind_name(node));
}

#define READER(fn, parse, type, what)                                                            \
	int fn(const otf_config_node_t *node, type *out, otf_config_error_t *err)                \
	{                                                                                        \
		const char *s;                                                                   \
		int rc = scalar_or_error(node, what, &s, err);                                   \
		if (rc < 0)                                                                      \
			return rc;                                                               \
		if (parse(s, out) < 0)                                                           \
			return otf_config_errorf(err, node, "expected %s, got \"%s\"", what, s); \
		return 0;                                                                        \
	}

READER(otf_config_read_bool, otf_config_parse_bool, bool, "a boolean (true or false)")
READER(otf_config_read_int64, otf_config_parse_int64, int64_t, "an integer")
READER(otf_config_read_uint64, otf_config_parse_uint64, uint64_t, "a non-negative integer")
READER(otf_config_read_double, otf_config_parse_double, double, "a number")
READER(otf_config_read_duration, otf_config_parse_duration, int64_t,
       "a duration like \"5s\", \"250ms\" or \"1m30s\"")
READER(otf_config_read_size, otf_config_parse_size, uint64_t,
       "a size in bytes like \"4MiB\", \"20MB\" or 1048576")
