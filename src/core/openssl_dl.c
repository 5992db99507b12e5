/* The table of OpenSSL's functions (see openssl_dl.h). */
#include "core/openssl_dl.h"

#include "core/lazylib.h"
#include "otflow/err.h"

#include <stdatomic.h>
#include <stdio.h>

_Static_assert(OPENSSL_VERSION_MAJOR == 3, "OTF_OPENSSL_SONAME names OpenSSL 3's libssl");

otf__openssl_fns_t otf__openssl_table;
_Atomic int otf__openssl_loaded;

static const char *const k_names[] = {
    "BIO_ctrl",
    "BIO_ctrl_pending",
    "BIO_free",
    "BIO_new",
    "BIO_new_mem_buf",
    "BIO_read",
    "BIO_s_mem",
    "BIO_write",
    "ERR_clear_error",
    "ERR_peek_last_error",
    "ERR_reason_error_string",
    "EVP_DecodeBlock",
    "EVP_Digest",
    "EVP_DigestFinal_ex",
    "EVP_DigestInit_ex",
    "EVP_DigestUpdate",
    "EVP_EncodeBlock",
    "EVP_MD_CTX_free",
    "EVP_MD_CTX_new",
    "EVP_PKEY_free",
    "EVP_md5",
    "EVP_sha1",
    "EVP_sha256",
    "EVP_sha3_256",
    "EVP_sha512",
    "HMAC",
    "OPENSSL_sk_num",
    "OPENSSL_sk_value",
    "PEM_read_bio_PrivateKey",
    "PEM_read_bio_X509",
    "SSL_CIPHER_get_kx_nid",
    "SSL_CIPHER_get_name",
    "SSL_CIPHER_standard_name",
    "SSL_CTX_check_private_key",
    "SSL_CTX_ctrl",
    "SSL_CTX_free",
    "SSL_CTX_get_cert_store",
    "SSL_CTX_new",
    "SSL_CTX_set_alpn_select_cb",
    "SSL_CTX_set_cipher_list",
    "SSL_CTX_set_ciphersuites",
    "SSL_CTX_set_default_verify_paths",
    "SSL_CTX_set_security_level",
    "SSL_CTX_set_session_id_context",
    "SSL_CTX_set_verify",
    "SSL_CTX_use_PrivateKey",
    "SSL_CTX_use_certificate",
    "SSL_ctrl",
    "SSL_do_handshake",
    "SSL_free",
    "SSL_get0_alpn_selected",
    "SSL_get0_param",
    "SSL_get0_peer_certificate",
    "SSL_get_ciphers",
    "SSL_get_error",
    "SSL_get_verify_result",
    "SSL_new",
    "SSL_pending",
    "SSL_read",
    "SSL_set_accept_state",
    "SSL_set_alpn_protos",
    "SSL_set_bio",
    "SSL_set_cipher_list",
    "SSL_set_connect_state",
    "SSL_shutdown",
    "SSL_write",
    "TLS_client_method",
    "TLS_server_method",
    "X509_NAME_print_ex",
    "X509_STORE_add_cert",
    "X509_VERIFY_PARAM_set1_host",
    "X509_VERIFY_PARAM_set1_ip_asc",
    "X509_free",
    "X509_get_subject_name",
    "X509_verify_cert_error_string",
};

#define N_NAMES (sizeof k_names / sizeof k_names[0])
_Static_assert(N_NAMES * sizeof(void (*)(void)) == sizeof(otf__openssl_fns_t),
               "one name per table entry");

const otf__openssl_fns_t *otf__openssl_load(void)
{
	otf__lazylib_load(OTF_OPENSSL_SONAME, "TLS and the hash functions", k_names, N_NAMES,
	                  (void (**)(void))(void *)&otf__openssl_table, &otf__openssl_loaded);
	return &otf__openssl_table;
}

int otf__openssl_try_load(char *why, size_t size)
{
	const char *paths[] = {OTF_OPENSSL_SONAME};
	char reason[256];
	if (otf__lazylib_try_load(paths, 1, k_names, N_NAMES,
	                          (void (**)(void))(void *)&otf__openssl_table,
	                          &otf__openssl_loaded, reason, sizeof reason) == 0)
		return 0;
	snprintf(why, size, "cannot load %s (OpenSSL): %s", OTF_OPENSSL_SONAME,
	         reason[0] ? reason : "not found");
	return OTF_E_UNSUPPORTED;
}
