/* Fuzz target: arbitrary text as an htpasswd file (basicauth's
 * htpasswd.inline / htpasswd.file). A parse either fails with a message or
 * yields entries whose user is found again by name; each entry's hash is
 * then verified against a password taken from the input: the $apr1$ and
 * {SHA} code of our own must never crash or match an empty hash. libcrypt
 * hashes are not run: bcrypt's cost factor comes from the hash itself and
 * would only measure libcrypt. */
#include "fuzz_common.h"

#include "components/extensions/basicauth/htpasswd.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	otf_htpasswd_t h;
	char err[200] = "";
	int rc = otf__htpasswd_parse(&h, (const char *)data, size, err, sizeof err);
	if (rc) {
		FUZZ_CHECK(rc == OTF_E_CONFIG || rc == -12 /* ENOMEM */);
		FUZZ_CHECK(rc != OTF_E_CONFIG || err[0]);
		return 0;
	}
	size_t plen = size < 16 ? size : 16;
	for (size_t i = 0; i < h.n; i++) {
		const otf_htpasswd_entry_t *e = &h.e[i];
		FUZZ_CHECK(otf__htpasswd_find(&h, e->user, strlen(e->user)) != NULL);
		if (!strncmp(e->hash, "$apr1$", 6) || !strncmp(e->hash, "{SHA}", 5))
			(void)otf__htpasswd_verify(e->hash, (const char *)data, plen);
	}
	otf__htpasswd_free(&h);
	return 0;
}
