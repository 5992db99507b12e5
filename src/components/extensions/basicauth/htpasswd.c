/* htpasswd parsing and verification (htpasswd.h). The Apache MD5 variant
 * is MD5-crypt with the magic "$apr1$" (Poul-Henning Kamp's algorithm, as
 * Apache's apr_md5_encode implements it); libcrypt has no $apr1$, so it is
 * computed here from OpenSSL's MD5. */
#include "htpasswd.h"
#include "crypt_dl.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "core/openssl_dl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

static bool supported(const char *hash)
{
	return prefix(hash, "$2y$") || prefix(hash, "$2b$") || prefix(hash, "$2a$") ||
	       prefix(hash, "$5$") || prefix(hash, "$6$") || prefix(hash, "$1$") ||
	       prefix(hash, "$apr1$") || prefix(hash, "{SHA}");
}

void otf__htpasswd_free(otf_htpasswd_t *h)
{
	for (size_t i = 0; i < h->n; i++) {
		otf_free(h->e[i].user);
		otf_free(h->e[i].hash);
	}
	otf_free(h->e);
	h->e = NULL;
	h->n = 0;
}

int otf__htpasswd_parse(otf_htpasswd_t *h, const char *text, size_t len, char *err, size_t errlen)
{
	memset(h, 0, sizeof *h);
	size_t cap = 0, lineno = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		lineno++;
		const char *ls = p;
		p = nl ? nl + 1 : end;
		while (le > ls && (le[-1] == '\r' || le[-1] == ' ' || le[-1] == '\t'))
			le--;
		while (ls < le && (*ls == ' ' || *ls == '\t'))
			ls++;
		if (ls == le || *ls == '#')
			continue;
		const char *colon = memchr(ls, ':', (size_t)(le - ls));
		if (!colon || colon == ls) {
			snprintf(err, errlen, "htpasswd line %zu: expected user:hash", lineno);
			otf__htpasswd_free(h);
			return OTF_E_CONFIG;
		}
		if (h->n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			otf_htpasswd_entry_t *ne = otf_realloc(h->e, ncap * sizeof *ne);
			if (!ne) {
				otf__htpasswd_free(h);
				return -ENOMEM;
			}
			h->e = ne;
			cap = ncap;
		}
		otf_htpasswd_entry_t *e = &h->e[h->n];
		e->user = otf_strndup(ls, (size_t)(colon - ls));
		e->hash = otf_strndup(colon + 1, (size_t)(le - colon - 1));
		if (!e->user || !e->hash) {
			otf_free(e->user);
			otf_free(e->hash);
			otf__htpasswd_free(h);
			return -ENOMEM;
		}
		h->n++;
		if (!supported(e->hash)) {
			snprintf(err, errlen,
			         "htpasswd line %zu (user '%.64s'): unsupported hash (use bcrypt "
			         "`htpasswd -B`, or SHA-crypt, MD5 $apr1$, {SHA})",
			         lineno, e->user);
			otf__htpasswd_free(h);
			return OTF_E_CONFIG;
		}
	}
	return 0;
}

const otf_htpasswd_entry_t *otf__htpasswd_find(const otf_htpasswd_t *h, const char *user,
                                               size_t ulen)
{
	for (size_t i = 0; i < h->n; i++)
		if (strlen(h->e[i].user) == ulen && !memcmp(h->e[i].user, user, ulen))
			return &h->e[i];
	return NULL;
}

static bool const_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;
	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return !d;
}

static const char k_itoa64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void to64(char **p, unsigned long v, int n)
{
	while (n-- > 0) {
		*(*p)++ = k_itoa64[v & 0x3f];
		v >>= 6;
	}
}

/* "$apr1$salt$digest" of pw under salt (at most 8 bytes). */
static void apr1(const char *pw, size_t pl, const char *salt, size_t sl, char *out, size_t cap)
{
	static const char magic[] = "$apr1$";
	unsigned char fin[16];
	EVP_MD_CTX *c = EVP_MD_CTX_new(), *c1 = EVP_MD_CTX_new();
	if (!c || !c1) {
		EVP_MD_CTX_free(c);
		EVP_MD_CTX_free(c1);
		snprintf(out, cap, "*");
		return;
	}
	EVP_DigestInit_ex(c, EVP_md5(), NULL);
	EVP_DigestUpdate(c, pw, pl);
	EVP_DigestUpdate(c, magic, 6);
	EVP_DigestUpdate(c, salt, sl);
	/* The alternate sum: pw salt pw. */
	EVP_DigestInit_ex(c1, EVP_md5(), NULL);
	EVP_DigestUpdate(c1, pw, pl);
	EVP_DigestUpdate(c1, salt, sl);
	EVP_DigestUpdate(c1, pw, pl);
	unsigned int l = 16;
	EVP_DigestFinal_ex(c1, fin, &l);
	for (size_t n = pl; n > 0; n -= n > 16 ? 16 : n)
		EVP_DigestUpdate(c, fin, n > 16 ? 16 : n);
	memset(fin, 0, sizeof fin);
	for (size_t i = pl; i; i >>= 1)
		EVP_DigestUpdate(c, (i & 1) ? (const void *)fin : (const void *)pw, 1);
	EVP_DigestFinal_ex(c, fin, &l);
	/* 1000 rounds to slow down guessing. */
	for (int i = 0; i < 1000; i++) {
		EVP_DigestInit_ex(c1, EVP_md5(), NULL);
		if (i & 1)
			EVP_DigestUpdate(c1, pw, pl);
		else
			EVP_DigestUpdate(c1, fin, 16);
		if (i % 3)
			EVP_DigestUpdate(c1, salt, sl);
		if (i % 7)
			EVP_DigestUpdate(c1, pw, pl);
		if (i & 1)
			EVP_DigestUpdate(c1, fin, 16);
		else
			EVP_DigestUpdate(c1, pw, pl);
		EVP_DigestFinal_ex(c1, fin, &l);
	}
	EVP_MD_CTX_free(c);
	EVP_MD_CTX_free(c1);
	char enc[32], *p = enc;
	to64(&p, ((unsigned long)fin[0] << 16) | ((unsigned long)fin[6] << 8) | fin[12], 4);
	to64(&p, ((unsigned long)fin[1] << 16) | ((unsigned long)fin[7] << 8) | fin[13], 4);
	to64(&p, ((unsigned long)fin[2] << 16) | ((unsigned long)fin[8] << 8) | fin[14], 4);
	to64(&p, ((unsigned long)fin[3] << 16) | ((unsigned long)fin[9] << 8) | fin[15], 4);
	to64(&p, ((unsigned long)fin[4] << 16) | ((unsigned long)fin[10] << 8) | fin[5], 4);
	to64(&p, fin[11], 2);
	*p = '\0';
	snprintf(out, cap, "%s%.*s$%s", magic, (int)sl, salt, enc);
}

bool otf__htpasswd_verify(const char *hash, const char *password, size_t plen)
{
	char pw[1024];
	if (plen >= sizeof pw || memchr(password, '\0', plen))
		return false;
	memcpy(pw, password, plen);
	pw[plen] = '\0';
	bool ok = false;
	if (prefix(hash, "$apr1$")) {
		const char *salt = hash + 6;
		const char *d = strchr(salt, '$');
		size_t sl = d ? (size_t)(d - salt) : strlen(salt);
		char out[128];
		apr1(pw, plen, salt, sl > 8 ? 8 : sl, out, sizeof out);
		ok = const_eq(out, hash);
	} else if (prefix(hash, "{SHA}")) {
		unsigned char dg[20];
		unsigned int l = sizeof dg;
		EVP_Digest(pw, plen, dg, &l, EVP_sha1(), NULL);
		char b64[64];
		EVP_EncodeBlock((unsigned char *)b64, dg, (int)sizeof dg);
		ok = const_eq(b64, hash + 5);
	} else {
		struct crypt_data *cd = otf_calloc(1, sizeof *cd);
		if (cd) {
			const char *r = crypt_r(pw, hash, cd);
			ok = r && r[0] != '*' && const_eq(r, hash);
			otf_free(cd);
		}
	}
	memset(pw, 0, sizeof pw);
	return ok;
}
