/* W3C trace and span ids without allocation or locks: a per-thread xorshift128+ generator
 * seeded from getrandom() on first use in each thread (initial-exec TLS, so even a dlopen'ed
 * libotmmap does not allocate a TLS block lazily). */
#include "otmm_internal.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

struct rng {
	uint64_t s0, s1;
};
static __thread struct rng tls_rng __attribute__((tls_model("initial-exec")));

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static void seed(struct rng *r)
{
	uint64_t s[2] = {0, 0};
	if (getrandom(s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s)) {
		/* no entropy yet: time, thread and address still differ between threads */
		uint64_t x = otmm_now() ^ ((uint64_t)gettid() << 32) ^ (uint64_t)(uintptr_t)r;
		s[0] = splitmix(&x);
		s[1] = splitmix(&x);
	}
	r->s0 = s[0] | 1; /* xorshift state must not be all zero */
	r->s1 = s[1];
}

static uint64_t next(void)
{
	struct rng *r = &tls_rng;
	if (__builtin_expect(r->s0 == 0, 0))
		seed(r);
	uint64_t a = r->s0, b = r->s1;
	r->s0 = b;
	a ^= a << 23;
	r->s1 = a ^ b ^ (a >> 17) ^ (b >> 26);
	return r->s1 + b;
}

void otmm_new_trace_id(uint8_t out[16])
{
	uint64_t a, b;
	do {
		a = next();
		b = next();
	} while ((a | b) == 0);
	memcpy(out, &a, 8);
	memcpy(out + 8, &b, 8);
}

void otmm_new_span_id(uint8_t out[8])
{
	uint64_t a;
	do {
		a = next();
	} while (a == 0);
	memcpy(out, &a, 8);
}

uint64_t otmm_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int otmm_span_context_is_valid(const otmm_span_context_t *c)
{
	static const uint8_t zero[16];
	return c && memcmp(c->trace_id, zero, 16) != 0 && memcmp(c->span_id, zero, 8) != 0;
}
