/* Shared helpers for the unit tests. */
#include "otf_test.h"

#include "otflow/alloc.h"

#include <stdio.h>
#include <stdlib.h>

const char *otf_test_source_dir(void)
{
	const char *d = getenv("OTF_SOURCE_DIR");
	return d ? d : ".";
}

uint8_t *otf_test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	while (buf) {
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (n < cap)
			break;
		cap *= 2;
		uint8_t *nb = realloc(buf, cap);
		if (!nb) {
			free(buf);
			buf = NULL;
		}
		buf = nb;
	}
	fclose(f);
	*len = n;
	return buf;
}
