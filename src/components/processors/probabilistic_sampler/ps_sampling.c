/* Consistent probability sampling arithmetic and the W3C tracestate `ot`
 * member: see ps_sampling.h. Follows opentelemetry-collector-contrib
 * pkg/sampling (threshold.go, probability.go, randomness.go,
 * w3ctracestate.go, oteltracestate.go) and the probabilistic sampler's
 * fnvhasher.go and sampler_mode.go. */
#include "ps_sampling.h"

#include <errno.h>
#include <math.h>
#include <string.h>

uint32_t otf__ps_fnv(const uint8_t *b, size_t n, uint32_t seed)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 4; i++) {
		h ^= (seed >> (8 * i)) & 0xff;
		h *= 16777619u;
	}
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h;
}

uint64_t otf__ps_rnd_from_bytes(const uint8_t *b, size_t n, uint32_t seed)
{
	uint32_t h32 = otf__ps_fnv(b, n, seed);
	uint64_t hashed = h32 & (OTF__PS_BUCKETS - 1);
	uint64_t rprime14 = OTF__PS_BUCKETS - 1 - hashed;
	/* The 18 bits the 14-bit bucket does not use fill the middle, so the
	 * r-value written into the tracestate looks random throughout. */
	uint64_t unused18 = h32 >> 14;
	uint64_t mixed28 = unused18 ^ (unused18 << 10);
	return (rprime14 << 42) | (mixed28 << 14) | hashed;
}

uint64_t otf__ps_hash_threshold(float pct)
{
	if (pct > 100.0f)
		pct = 100.0f;
	/* float32 product truncated, as the original Go code did: changing
	 * the rounding would change which traces are kept. */
	uint32_t scaled = (uint32_t)(pct * (float)(OTF__PS_BUCKETS / 100.0));
	if (!scaled)
		return OTF__PS_NEVER;
	return (uint64_t)(OTF__PS_BUCKETS - scaled) << 42;
}

uint64_t otf__ps_rnd_from_trace_id(const uint8_t id[16])
{
	uint64_t v = 0;
	for (int i = 9; i < 16; i++)
		v = (v << 8) | id[i];
	return v;
}

int otf__ps_prob_to_threshold(double p, int prec, uint64_t *th)
{
	if (!(p >= 1.0 / (double)OTF__PS_MAX_ADJ && p <= 1))
		return -ERANGE;
	uint64_t scaled = (uint64_t)round(p * (double)OTF__PS_MAX_ADJ);
	if (prec == 0) {
		*th = OTF__PS_MAX_ADJ - scaled;
		return 0;
	}
	if (p == 1) {
		*th = 0;
		return 0;
	}
	/* Leading hex zeros of the rejection probability are obligatory
	 * digits: precision counts the significant ones after them. */
	for (double reject = 1 - p; reject * 16 < 1;) {
		reject *= 16;
		prec++;
	}
	if (prec > OTF__PS_HEX)
		return -ERANGE;
	uint64_t r = OTF__PS_MAX_ADJ - scaled;
	unsigned shift = 4u * (unsigned)(OTF__PS_HEX - prec);
	if (shift) {
		r += 1ull << (shift - 1);
		r >>= shift;
		r <<= shift;
	}
	*th = r;
	return 0;
}

double otf__ps_threshold_prob(uint64_t th)
{
	return (double)(OTF__PS_MAX_ADJ - th) / (double)OTF__PS_MAX_ADJ;
}

static const char k_hex[] = "0123456789abcdef";

void otf__ps_rvalue(uint64_t rnd, char *out)
{
	for (int i = OTF__PS_HEX - 1; i >= 0; i--) {
		out[i] = k_hex[rnd & 15];
		rnd >>= 4;
	}
	out[OTF__PS_HEX] = 0;
}

size_t otf__ps_tvalue(uint64_t th, char *out)
{
	if (th == 0) {
		memcpy(out, "0", 2);
		return 1;
	}
	if (th >= OTF__PS_MAX_ADJ) {
		out[0] = 0;
		return 0;
	}
	otf__ps_rvalue(th, out);
	size_t n = OTF__PS_HEX;
	while (n > 0 && out[n - 1] == '0')
		n--;
	out[n] = 0;
	return n;
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

static int parse_hex(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		int d = hexval(s[i]);
		if (d < 0)
			return -EINVAL;
		x = (x << 4) | (uint64_t)d;
	}
	*v = x;
	return 0;
}

int otf__ps_tvalue_parse(const char *s, size_t n, uint64_t *th)
{
	uint64_t v;
	if (n == 0 || n > OTF__PS_HEX || parse_hex(s, n, &v))
		return -EINVAL;
	*th = v << (4 * (OTF__PS_HEX - n));
	return 0;
}

int otf__ps_rvalue_parse(const char *s, size_t n, uint64_t *rnd)
{
	if (n != OTF__PS_HEX)
		return -EINVAL;
	return parse_hex(s, n, rnd);
}

/* ---- tracestate ---- */

static bool lc_alpha(char c)
{
	return c >= 'a' && c <= 'z';
}
static bool lc_alnum(char c)
{
	return lc_alpha(c) || (c >= '0' && c <= '9');
}
static bool key_char(char c)
{
	return lc_alnum(c) || c == '_' || c == '-' || c == '*' || c == '/';
}
static bool nonblank(unsigned char c)
{
	return (c >= 0x21 && c <= 0x2b) || (c >= 0x2d && c <= 0x3c) || (c >= 0x3e && c <= 0x7e);
}

static bool valid_key(const char *k, size_t n)
{
	if (!n || n > 256)
		return false;
	const char *at = memchr(k, '@', n);
	if (at) {
		size_t tn = (size_t)(at - k), sn = n - tn - 1;
		if (!tn || !sn || tn > 241 || sn > 14 || !lc_alnum(k[0]) || !lc_alpha(at[1]))
			return false;
		for (size_t i = 1; i < tn; i++)
			if (!key_char(k[i]))
				return false;
		for (size_t i = 2; i < sn + 1; i++)
			if (!key_char(at[i]))
				return false;
		return true;
	}
	if (!lc_alpha(k[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!key_char(k[i]))
			return false;
	return true;
}

static bool valid_value(const char *v, size_t n)
{
	if (!n || n > 256 || !nonblank((unsigned char)v[n - 1]))
		return false;
	for (size_t i = 0; i + 1 < n; i++)
		if (v[i] != ' ' && !nonblank((unsigned char)v[i]))
			return false;
	return true;
}

static bool ot_value_char(char c)
{
	return lc_alnum(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' || c == '-';
}

/* The `ot` member's value: key:value fields separated by ';'. */
static int parse_ot(const char *s, size_t n, otf__ps_tracestate_t *ts)
{
	if (n > 256)
		return -EINVAL;
	ts->has_rv = ts->has_th = false;
	ts->n_ot_extra = 0;
	size_t i = 0;
	for (;;) {
		size_t k0 = i;
		if (i >= n || !lc_alpha(s[i]))
			return -EINVAL;
		while (i < n && lc_alnum(s[i]))
			i++;
		size_t kn = i - k0;
		if (i >= n || s[i] != ':')
			return -EINVAL;
		i++;
		size_t v0 = i;
		while (i < n && ot_value_char(s[i]))
			i++;
		size_t vn = i - v0;
		if (kn == 2 && !memcmp(s + k0, "rv", 2)) {
			if (otf__ps_rvalue_parse(s + v0, vn, &ts->rv))
				return -EINVAL;
			ts->has_rv = true;
			ts->rv_text = (otf__ps_slice_t){s + v0, vn};
		} else if (kn == 2 && !memcmp(s + k0, "th", 2)) {
			if (otf__ps_tvalue_parse(s + v0, vn, &ts->th))
				return -EINVAL;
			ts->has_th = true;
			ts->th_text = (otf__ps_slice_t){s + v0, vn};
		} else {
			if (ts->n_ot_extra == OTF__PS_MAX_OTEL)
				return -EINVAL;
			ts->ot_extra[ts->n_ot_extra++] = (otf__ps_slice_t){s + k0, i - k0};
		}
		if (i == n)
			return 0;
		if (s[i] != ';')
			return -EINVAL;
		i++;
	}
}

int otf__ps_tracestate_parse(const char *s, size_t n, otf__ps_tracestate_t *ts)
{
	memset(ts, 0, sizeof *ts);
	if (n == 0)
		return 0;
	if (n > 1024)
		return -EINVAL;
	size_t pos = 0, items = 0;
	while (pos <= n) {
		const char *comma = memchr(s + pos, ',', n - pos);
		size_t end = comma ? (size_t)(comma - s) : n;
		size_t a = pos, b = end;
		while (a < b && (s[a] == ' ' || s[a] == '\t'))
			a++;
		while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
			b--;
		if (b > a) {
			const char *eq = memchr(s + a, '=', b - a);
			if (!eq || eq == s + a)
				return -EINVAL;
			size_t kn = (size_t)(eq - (s + a));
			const char *v = eq + 1;
			size_t vn = b - a - kn - 1;
			if (!valid_key(s + a, kn) || !valid_value(v, vn))
				return -EINVAL;
			if (++items > OTF__PS_MAX_W3C)
				return -EINVAL;
			if (kn == 2 && !memcmp(s + a, "ot", 2)) {
				if (parse_ot(v, vn, ts))
					return -EINVAL;
			} else {
				ts->members[ts->n_members++] = (otf__ps_slice_t){s + a, b - a};
			}
		}
		if (!comma)
			break;
		pos = end + 1;
	}
	return 0;
}

void otf__ps_tracestate_set_rv(otf__ps_tracestate_t *ts, uint64_t rnd)
{
	otf__ps_rvalue(rnd, ts->rv_buf);
	ts->rv = rnd;
	ts->has_rv = true;
	ts->rv_text = (otf__ps_slice_t){ts->rv_buf, OTF__PS_HEX};
}

int otf__ps_tracestate_set_th(otf__ps_tracestate_t *ts, uint64_t th)
{
	if (ts->has_th && ts->th > th)
		return -EINVAL;
	size_t n = otf__ps_tvalue(th, ts->th_buf);
	ts->th = th;
	ts->has_th = n > 0;
	ts->th_text = (otf__ps_slice_t){ts->th_buf, n};
	return 0;
}

typedef struct out {
	char *p;
	size_t n, cap;
	bool over;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
	if (o->n + n > o->cap) {
		o->over = true;
		return;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

int otf__ps_tracestate_format(const otf__ps_tracestate_t *ts, char *out, size_t cap)
{
	out_t o = {out, 0, cap, false};
	size_t members = 0;
	if (ts->has_rv || ts->has_th || ts->n_ot_extra) {
		put(&o, "ot=", 3);
		size_t f = 0;
		if (ts->has_rv) {
			put(&o, "rv:", 3);
			put(&o, ts->rv_text.p, ts->rv_text.n);
			f++;
		}
		if (ts->has_th) {
			if (f++)
				put(&o, ";", 1);
			put(&o, "th:", 3);
			put(&o, ts->th_text.p, ts->th_text.n);
		}
		for (size_t i = 0; i < ts->n_ot_extra; i++) {
			if (f++)
				put(&o, ";", 1);
			put(&o, ts->ot_extra[i].p, ts->ot_extra[i].n);
		}
		members++;
	}
	for (size_t i = 0; i < ts->n_members; i++) {
		if (members++)
			put(&o, ",", 1);
		put(&o, ts->members[i].p, ts->members[i].n);
	}
	return o.over ? -ENOSPC : (int)o.n;
}
