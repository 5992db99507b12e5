/* htpasswd files as Apache's htpasswd writes them: one `user:hash` per
 * line, hash one of bcrypt ($2y$/$2b$/$2a$), SHA-crypt ($5$, $6$),
 * MD5-crypt ($1$) through libcrypt; Apache MD5 ($apr1$) and {SHA}
 * (base64 SHA-1) through OpenSSL's digests. Socket-free, thread-free. */
#ifndef OTF_HTPASSWD_H
#define OTF_HTPASSWD_H

#include <stdbool.h>
#include <stddef.h>

typedef struct otf_htpasswd_entry {
	char *user;
	char *hash;
} otf_htpasswd_entry_t;

typedef struct otf_htpasswd {
	otf_htpasswd_entry_t *e;
	size_t n;
} otf_htpasswd_t;

/* Parses text (len bytes; `#` comments and blank lines skipped). Returns
 * 0, -ENOMEM, or OTF_E_CONFIG with err naming the line (a line without
 * ':' or with an unsupported hash, such as crypt(3) DES or plain text). */
int otf__htpasswd_parse(otf_htpasswd_t *h, const char *text, size_t len, char *err, size_t errlen);
void otf__htpasswd_free(otf_htpasswd_t *h);
/* The entry of user, or NULL. */
const otf_htpasswd_entry_t *otf__htpasswd_find(const otf_htpasswd_t *h, const char *user,
                                               size_t ulen);
/* True when password (plen bytes) matches hash. */
bool otf__htpasswd_verify(const char *hash, const char *password, size_t plen);

#endif
