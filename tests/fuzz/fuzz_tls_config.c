/* Fuzz target: arbitrary text as a `tls` block (otflow/tls.h): the input is
 * split at NUL bytes into cert_pem, key_pem, ca_pem, min_version,
 * max_version and comma-separated cipher_suites, and built into a server
 * and a client context. Each build either succeeds or fails with
 * OTF_E_CONFIG and a message naming a key under "tls."; nothing leaks. */
#include "fuzz_common.h"

#include "otflow/engine.h"
#include "otflow/tls.h"

#include <stdarg.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tls_config.c logs only on reload, which never happens here. */
void otf_log(otf_log_level_t level, const char *who, const char *fmt, ...)
{
	(void)level;
	(void)who;
	(void)fmt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	char *field[6] = {NULL};
	char *p = buf;
	for (int i = 0; i < 6 && p <= buf + size; i++) {
		field[i] = p;
		p += strlen(p) + 1;
	}
	char *suites[8];
	size_t n = 0;
	for (char *s = field[5] ? strtok(field[5], ",") : NULL; s && n < 8; s = strtok(NULL, ","))
		suites[n++] = s;
	otf_tls_config_t c;
	memset(&c, 0, sizeof c);
	c.cert_pem = field[0];
	c.key_pem = field[1];
	c.ca_pem = field[2];
	c.min_version = field[3];
	c.max_version = field[4];
	c.cipher_suites.items = suites;
	c.cipher_suites.n = n;
	for (int role = OTF_TLS_SERVER; role <= OTF_TLS_CLIENT; role++) {
		char err[512] = "";
		int rc = otf_tls_config_check(&c, (otf_tls_role_t)role, "tls", err, sizeof err);
		FUZZ_CHECK(rc == 0 || rc == OTF_E_CONFIG || rc == OTF_E_NOMEM);
		FUZZ_CHECK(rc != OTF_E_CONFIG || !strncmp(err, "tls.", 4));
	}
	free(buf);
	return 0;
}
