/* libFuzzer target: the W3C tracestate / OpenTelemetry `ot=` parser of the
 * probabilistic sampler (src/components/processors/probabilistic_sampler/
 * ps_sampling.c). Whatever parses must format, reparse to the same fields,
 * and take a threshold update without breaking either property. */
#include "components/processors/probabilistic_sampler/ps_sampling.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                              \
	do {                                                                                  \
		if (!(c)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                              \
		}                                                                             \
	} while (0)

static void same(const otf__ps_tracestate_t *a, const otf__ps_tracestate_t *b)
{
	CHECK(a->has_rv == b->has_rv && a->has_th == b->has_th);
	CHECK(!a->has_rv || a->rv == b->rv);
	CHECK(!a->has_th || a->th == b->th);
	CHECK(a->n_members == b->n_members && a->n_ot_extra == b->n_ot_extra);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	otf__ps_tracestate_t ts, again;
	static char out[2048];
	if (otf__ps_tracestate_parse((const char *)data, size, &ts))
		return 0;
	int n = otf__ps_tracestate_format(&ts, out, sizeof out);
	CHECK(n >= 0 && (size_t)n <= size + 32);
	CHECK(otf__ps_tracestate_parse(out, (size_t)n, &again) == 0);
	same(&ts, &again);
	uint64_t th = size ? ((uint64_t)data[0] << 48) : 0;
	if (otf__ps_tracestate_set_th(&ts, th) == 0) {
		static char out2[2048];
		n = otf__ps_tracestate_format(&ts, out2, sizeof out2);
		/* Formatting can grow past the 256-byte ot limit: then it no
		 * longer parses, as in the Collector; otherwise it must. */
		if (n >= 0 && otf__ps_tracestate_parse(out2, (size_t)n, &again) == 0)
			CHECK(again.has_th && again.th == ts.th);
	}
	return 0;
}
