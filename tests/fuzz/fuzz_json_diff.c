/* Fuzz target: the OTLP/JSON decoders (simdjson On-Demand) against the
 * former json-c decoder (tests/support/jsonc_ref): on every input, for
 * each signal, the same tree or the same error, with only the differences
 * json_diff.h lists (where json-c accepted what is not JSON). */
#include "json_diff.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const otf_signal_t sigs[] = {OTF_SIGNAL_TRACES, OTF_SIGNAL_METRICS, OTF_SIGNAL_LOGS};
	char why[1200];
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		if (!otf_json_diff(sigs[i], (const char *)data, size, why, sizeof why)) {
			fprintf(stderr, "fuzz_json_diff: signal %d: %s\n", (int)sigs[i], why);
			abort();
		}
	}
	return 0;
}
