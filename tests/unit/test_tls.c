/* The tls block (otflow/tls.h): contexts from PEM made in the test, errors
 * that name the key, versions and cipher suites by their Collector names,
 * one shared context per key. Handshakes over real sockets are in
 * tests/e2e/e2e_tls.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/tls.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

static char *pem_of_key(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	char *p;
	long n = BIO_get_mem_data(b, &p);
	char *s = strndup(p, (size_t)n);
	BIO_free(b);
	return s;
}

/* A self-signed EC certificate for CN=localhost; its key in *key_pem. */
static char *make_cert(char **key_pem, EVP_PKEY **key_out)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	assert_non_null(k);
	X509 *x = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME *nm = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
	                           -1, 0);
	X509_set_issuer_name(x, nm);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	char *p;
	long n = BIO_get_mem_data(b, &p);
	char *s = strndup(p, (size_t)n);
	BIO_free(b);
	X509_free(x);
	*key_pem = pem_of_key(k);
	if (key_out)
		*key_out = k;
	else
		EVP_PKEY_free(k);
	return s;
}

static otf_tls_config_t base(void)
{
	otf_tls_config_t c;
	memset(&c, 0, sizeof c);
	c.min_version = (char *)"1.2";
	return c;
}

static void test_server_ok_and_mismatch(void **st)
{
	(void)st;
	char *key, *key2;
	char *cert = make_cert(&key, NULL);
	char *cert2 = make_cert(&key2, NULL);
	otf_tls_config_t c = base();
	c.cert_pem = cert;
	c.key_pem = key;
	char err[256] = "";
	otf_tls_ctx_t *t = NULL;
	assert_int_equal(otf_tls_ctx_create(&c, OTF_TLS_SERVER, "h2", "protocols.grpc.tls", NULL,
	                                    &t, err, sizeof err),
	                 0);
	assert_int_equal(otf_tls_ctx_failures(t), 0);
	otf_tls_ctx_destroy(t);
	/* A key of another certificate. */
	c.key_pem = key2;
	assert_int_equal(
	    otf_tls_config_check(&c, OTF_TLS_SERVER, "protocols.grpc.tls", err, sizeof err),
	    OTF_E_CONFIG);
	assert_non_null(strstr(err, "protocols.grpc.tls.key_pem: does not match cert_pem ("));
	/* A server needs a certificate. */
	c.cert_pem = NULL;
	c.key_pem = NULL;
	assert_int_equal(
	    otf_tls_config_check(&c, OTF_TLS_SERVER, "protocols.http.tls", err, sizeof err),
	    OTF_E_CONFIG);
	assert_string_equal(
	    err, "protocols.http.tls.cert_file: a TLS server needs cert_file or cert_pem");
	/* Not PEM at all. */
	c.cert_pem = (char *)"hello";
	c.key_pem = key;
	assert_int_equal(otf_tls_config_check(&c, OTF_TLS_SERVER, "tls", err, sizeof err),
	                 OTF_E_CONFIG);
	assert_string_equal(err, "tls.cert_pem: no PEM certificate in the text");
	free(cert);
	free(key);
	free(cert2);
	free(key2);
}

static void test_versions(void **st)
{
	(void)st;
	otf_tls_config_t c = base();
	char err[256];
	c.min_version = (char *)"1.4";
	assert_int_equal(otf_tls_config_check(&c, OTF_TLS_CLIENT, "tls", err, sizeof err),
	                 OTF_E_CONFIG);
	assert_string_equal(err, "tls.min_version: \"1.4\" is not one of 1.0, 1.1, 1.2, 1.3");
	c.min_version = (char *)"1.3";
	c.max_version = (char *)"1.2";
	assert_int_equal(otf_tls_config_check(&c, OTF_TLS_CLIENT, "tls", err, sizeof err),
	                 OTF_E_CONFIG);
	assert_string_equal(err, "tls.max_version: 1.2 is below min_version 1.3");
	c.max_version = (char *)"1.3";
	assert_int_equal(otf_tls_config_check(&c, OTF_TLS_CLIENT, "tls", err, sizeof err), 0);
	/* A client without CA uses the system pool; insecure has no context. */
	c.insecure = true;
	assert_int_equal(otf_tls_config_check(&c, OTF_TLS_CLIENT, "tls", err, sizeof err),
	                 OTF_E_CONFIG);
}

static void test_cipher_names(void **st)
{
	(void)st;
	char *items[] = {(char *)"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	                 (char *)"TLS_AES_256_GCM_SHA384",
	                 (char *)"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"};
	otf_config_strlist_t l = {items, 3};
	char v12[512], v13[256], err[256];
	assert_int_equal(
	    otf_tls_cipher_names(&l, "tls", v12, sizeof v12, v13, sizeof v13, err, sizeof err), 0);
	assert_string_equal(v12, "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305");
	assert_string_equal(v13, "TLS_AES_256_GCM_SHA384");
	char *bad[] = {(char *)"TLS_RSA_WITH_RC4_128_MD5_NOPE"};
	otf_config_strlist_t lb = {bad, 1};
	assert_int_equal(
	    otf_tls_cipher_names(&lb, "tls", v12, sizeof v12, v13, sizeof v13, err, sizeof err),
	    OTF_E_CONFIG);
	assert_non_null(
	    strstr(err, "tls.cipher_suites: unknown suite \"TLS_RSA_WITH_RC4_128_MD5_NOPE\""));
	/* The same names configure a context. */
	otf_tls_config_t c = base();
	c.cipher_suites = l;
	assert_int_equal(otf_tls_config_check(&c, OTF_TLS_CLIENT, "tls", err, sizeof err), 0);
}

static void test_files(void **st)
{
	(void)st;
	otf_tls_config_t c = base();
	char err[256];
	c.cert_file = (char *)"/nonexistent/cert.pem";
	c.key_file = (char *)"/nonexistent/key.pem";
	assert_int_equal(
	    otf_tls_config_check(&c, OTF_TLS_SERVER, "protocols.grpc.tls", err, sizeof err),
	    OTF_E_CONFIG);
	assert_string_equal(err, "protocols.grpc.tls.cert_file: cannot read "
	                         "\"/nonexistent/cert.pem\": No such file or directory");
	c = base();
	c.cert_pem = (char *)"x";
	assert_int_equal(otf_tls_config_check(&c, OTF_TLS_CLIENT, "tls", err, sizeof err),
	                 OTF_E_CONFIG);
	assert_string_equal(err, "tls.key_file: cert_file/cert_pem needs key_file or key_pem");
}

/* One context per key: the workers of a component share its counter. */
static void test_acquire_shares(void **st)
{
	(void)st;
	char *key;
	char *cert = make_cert(&key, NULL);
	otf_tls_config_t c = base();
	c.cert_pem = cert;
	c.key_pem = key;
	char err[256];
	static int k;
	otf_tls_ctx_t *a, *b;
	assert_int_equal(otf_tls_ctx_acquire(&k, &c, OTF_TLS_SERVER, "h2", "tls", "receiver:otlp",
	                                     &a, err, sizeof err),
	                 0);
	assert_int_equal(otf_tls_ctx_acquire(&k, &c, OTF_TLS_SERVER, "h2", "tls", "receiver:otlp",
	                                     &b, err, sizeof err),
	                 0);
	assert_ptr_equal(a, b);
	otf_tls_ctx_release(a);
	otf_tls_ctx_release(b);
	free(cert);
	free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_server_ok_and_mismatch), cmocka_unit_test(test_versions),
	    cmocka_unit_test(test_cipher_names),           cmocka_unit_test(test_files),
	    cmocka_unit_test(test_acquire_shares),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
