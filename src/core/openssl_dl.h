/* OpenSSL (libssl.so.3 and the libcrypto.so.3 it depends on), loaded at
 * first use instead of at process start: TLS (src/net/tls_*.c, the otlp
 * exporter's client, the otlphttp exporter's CA callback) and the hashing
 * functions (the redaction and attributes processors' hash actions, OTTL's
 * SHA256, basicauth).
 *
 * As DT_NEEDED entries of otflow, libcrypto and libssl were mapped and
 * relocated in every process, also in one whose config uses neither TLS nor
 * a hash: 1.7 MiB of RSS, 0.4 MiB of it private relocated pages
 * (docs/benchmarks.md, "memory"). Every file that calls OpenSSL includes
 * this header in place of the <openssl/...> headers (it includes those it
 * needs first, so a later include of them adds nothing): each function the
 * code calls becomes a call through a table filled by dlopen + dlsym the
 * first time any of them is used (core/lazylib.h). One table for both
 * libraries: dlsym on libssl's handle also finds what its dependency
 * libcrypto defines. Add a function here (and to the names in
 * openssl_dl.c) before calling it: otflow does not link OpenSSL, so a
 * function missing here is a link error, never a silent direct call.
 *
 * Errors: a TLS context (otf_tls_ctx_create) loads the library with
 * otf__openssl_try_load and fails as a configuration error naming the
 * library and the loader's reason; any other first call that cannot load
 * it ends the process with such a message (the Debian package depends on
 * libssl3: a missing one is a broken install). Thread-safe; the table
 * never changes once loaded. Generated list: the functions otflow calls
 * (nm -u of the objects, macros such as SSL_CTX_set_mode expanded). */
#ifndef OTF_CORE_OPENSSL_DL_H
#define OTF_CORE_OPENSSL_DL_H

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stddef.h>

/* The file dlopen'd; its dependency libcrypto comes with it. */
#define OTF_OPENSSL_SONAME "libssl.so.3"

typedef struct otf__openssl_fns {
	__typeof__(BIO_ctrl) *BIO_ctrl;
	__typeof__(BIO_ctrl_pending) *BIO_ctrl_pending;
	__typeof__(BIO_free) *BIO_free;
	__typeof__(BIO_new) *BIO_new;
	__typeof__(BIO_new_mem_buf) *BIO_new_mem_buf;
	__typeof__(BIO_read) *BIO_read;
	__typeof__(BIO_s_mem) *BIO_s_mem;
	__typeof__(BIO_write) *BIO_write;
	__typeof__(ERR_clear_error) *ERR_clear_error;
	__typeof__(ERR_peek_last_error) *ERR_peek_last_error;
	__typeof__(ERR_reason_error_string) *ERR_reason_error_string;
	__typeof__(EVP_DecodeBlock) *EVP_DecodeBlock;
	__typeof__(EVP_Digest) *EVP_Digest;
	__typeof__(EVP_DigestFinal_ex) *EVP_DigestFinal_ex;
	__typeof__(EVP_DigestInit_ex) *EVP_DigestInit_ex;
	__typeof__(EVP_DigestUpdate) *EVP_DigestUpdate;
	__typeof__(EVP_EncodeBlock) *EVP_EncodeBlock;
	__typeof__(EVP_MD_CTX_free) *EVP_MD_CTX_free;
	__typeof__(EVP_MD_CTX_new) *EVP_MD_CTX_new;
	__typeof__(EVP_PKEY_free) *EVP_PKEY_free;
	__typeof__(EVP_md5) *EVP_md5;
	__typeof__(EVP_sha1) *EVP_sha1;
	__typeof__(EVP_sha256) *EVP_sha256;
	__typeof__(EVP_sha3_256) *EVP_sha3_256;
	__typeof__(EVP_sha512) *EVP_sha512;
	__typeof__(HMAC) *HMAC;
	__typeof__(OPENSSL_sk_num) *OPENSSL_sk_num;
	__typeof__(OPENSSL_sk_value) *OPENSSL_sk_value;
	__typeof__(PEM_read_bio_PrivateKey) *PEM_read_bio_PrivateKey;
	__typeof__(PEM_read_bio_X509) *PEM_read_bio_X509;
	__typeof__(SSL_CIPHER_get_kx_nid) *SSL_CIPHER_get_kx_nid;
	__typeof__(SSL_CIPHER_get_name) *SSL_CIPHER_get_name;
	__typeof__(SSL_CIPHER_standard_name) *SSL_CIPHER_standard_name;
	__typeof__(SSL_CTX_check_private_key) *SSL_CTX_check_private_key;
	__typeof__(SSL_CTX_ctrl) *SSL_CTX_ctrl;
	__typeof__(SSL_CTX_free) *SSL_CTX_free;
	__typeof__(SSL_CTX_get_cert_store) *SSL_CTX_get_cert_store;
	__typeof__(SSL_CTX_new) *SSL_CTX_new;
	__typeof__(SSL_CTX_set_alpn_select_cb) *SSL_CTX_set_alpn_select_cb;
	__typeof__(SSL_CTX_set_cipher_list) *SSL_CTX_set_cipher_list;
	__typeof__(SSL_CTX_set_ciphersuites) *SSL_CTX_set_ciphersuites;
	__typeof__(SSL_CTX_set_default_verify_paths) *SSL_CTX_set_default_verify_paths;
	__typeof__(SSL_CTX_set_security_level) *SSL_CTX_set_security_level;
	__typeof__(SSL_CTX_set_session_id_context) *SSL_CTX_set_session_id_context;
	__typeof__(SSL_CTX_set_verify) *SSL_CTX_set_verify;
	__typeof__(SSL_CTX_use_PrivateKey) *SSL_CTX_use_PrivateKey;
	__typeof__(SSL_CTX_use_certificate) *SSL_CTX_use_certificate;
	__typeof__(SSL_ctrl) *SSL_ctrl;
	__typeof__(SSL_do_handshake) *SSL_do_handshake;
	__typeof__(SSL_free) *SSL_free;
	__typeof__(SSL_get0_alpn_selected) *SSL_get0_alpn_selected;
	__typeof__(SSL_get0_param) *SSL_get0_param;
	__typeof__(SSL_get0_peer_certificate) *SSL_get0_peer_certificate;
	__typeof__(SSL_get_ciphers) *SSL_get_ciphers;
	__typeof__(SSL_get_error) *SSL_get_error;
	__typeof__(SSL_get_verify_result) *SSL_get_verify_result;
	__typeof__(SSL_new) *SSL_new;
	__typeof__(SSL_pending) *SSL_pending;
	__typeof__(SSL_read) *SSL_read;
	__typeof__(SSL_set_accept_state) *SSL_set_accept_state;
	__typeof__(SSL_set_alpn_protos) *SSL_set_alpn_protos;
	__typeof__(SSL_set_bio) *SSL_set_bio;
	__typeof__(SSL_set_cipher_list) *SSL_set_cipher_list;
	__typeof__(SSL_set_connect_state) *SSL_set_connect_state;
	__typeof__(SSL_shutdown) *SSL_shutdown;
	__typeof__(SSL_write) *SSL_write;
	__typeof__(TLS_client_method) *TLS_client_method;
	__typeof__(TLS_server_method) *TLS_server_method;
	__typeof__(X509_NAME_print_ex) *X509_NAME_print_ex;
	__typeof__(X509_STORE_add_cert) *X509_STORE_add_cert;
	__typeof__(X509_VERIFY_PARAM_set1_host) *X509_VERIFY_PARAM_set1_host;
	__typeof__(X509_VERIFY_PARAM_set1_ip_asc) *X509_VERIFY_PARAM_set1_ip_asc;
	__typeof__(X509_free) *X509_free;
	__typeof__(X509_get_subject_name) *X509_get_subject_name;
	__typeof__(X509_verify_cert_error_string) *X509_verify_cert_error_string;
} otf__openssl_fns_t;

extern otf__openssl_fns_t otf__openssl_table;
extern _Atomic int otf__openssl_loaded;
/* Loads the library (once) and returns the table; ends the process naming
 * the library and the loader's reason when it cannot be loaded. */
const otf__openssl_fns_t *otf__openssl_load(void);
/* Loads the library (once): 0, or OTF_E_UNSUPPORTED with why
 * (NUL-terminated, cut to size) naming the library and the loader's
 * reason; a later call tries again. */
int otf__openssl_try_load(char *why, size_t size);

static inline const otf__openssl_fns_t *otf__openssl_fns(void)
{
	return __builtin_expect(otf__openssl_loaded, 1) ? &otf__openssl_table : otf__openssl_load();
}

#undef BIO_ctrl
#define BIO_ctrl (otf__openssl_fns()->BIO_ctrl)
#undef BIO_ctrl_pending
#define BIO_ctrl_pending (otf__openssl_fns()->BIO_ctrl_pending)
#undef BIO_free
#define BIO_free (otf__openssl_fns()->BIO_free)
#undef BIO_new
#define BIO_new (otf__openssl_fns()->BIO_new)
#undef BIO_new_mem_buf
#define BIO_new_mem_buf (otf__openssl_fns()->BIO_new_mem_buf)
#undef BIO_read
#define BIO_read (otf__openssl_fns()->BIO_read)
#undef BIO_s_mem
#define BIO_s_mem (otf__openssl_fns()->BIO_s_mem)
#undef BIO_write
#define BIO_write (otf__openssl_fns()->BIO_write)
#undef ERR_clear_error
#define ERR_clear_error (otf__openssl_fns()->ERR_clear_error)
#undef ERR_peek_last_error
#define ERR_peek_last_error (otf__openssl_fns()->ERR_peek_last_error)
#undef ERR_reason_error_string
#define ERR_reason_error_string (otf__openssl_fns()->ERR_reason_error_string)
#undef EVP_DecodeBlock
#define EVP_DecodeBlock (otf__openssl_fns()->EVP_DecodeBlock)
#undef EVP_Digest
#define EVP_Digest (otf__openssl_fns()->EVP_Digest)
#undef EVP_DigestFinal_ex
#define EVP_DigestFinal_ex (otf__openssl_fns()->EVP_DigestFinal_ex)
#undef EVP_DigestInit_ex
#define EVP_DigestInit_ex (otf__openssl_fns()->EVP_DigestInit_ex)
#undef EVP_DigestUpdate
#define EVP_DigestUpdate (otf__openssl_fns()->EVP_DigestUpdate)
#undef EVP_EncodeBlock
#define EVP_EncodeBlock (otf__openssl_fns()->EVP_EncodeBlock)
#undef EVP_MD_CTX_free
#define EVP_MD_CTX_free (otf__openssl_fns()->EVP_MD_CTX_free)
#undef EVP_MD_CTX_new
#define EVP_MD_CTX_new (otf__openssl_fns()->EVP_MD_CTX_new)
#undef EVP_PKEY_free
#define EVP_PKEY_free (otf__openssl_fns()->EVP_PKEY_free)
#undef EVP_md5
#define EVP_md5 (otf__openssl_fns()->EVP_md5)
#undef EVP_sha1
#define EVP_sha1 (otf__openssl_fns()->EVP_sha1)
#undef EVP_sha256
#define EVP_sha256 (otf__openssl_fns()->EVP_sha256)
#undef EVP_sha3_256
#define EVP_sha3_256 (otf__openssl_fns()->EVP_sha3_256)
#undef EVP_sha512
#define EVP_sha512 (otf__openssl_fns()->EVP_sha512)
#undef HMAC
#define HMAC (otf__openssl_fns()->HMAC)
#undef OPENSSL_sk_num
#define OPENSSL_sk_num (otf__openssl_fns()->OPENSSL_sk_num)
#undef OPENSSL_sk_value
#define OPENSSL_sk_value (otf__openssl_fns()->OPENSSL_sk_value)
#undef PEM_read_bio_PrivateKey
#define PEM_read_bio_PrivateKey (otf__openssl_fns()->PEM_read_bio_PrivateKey)
#undef PEM_read_bio_X509
#define PEM_read_bio_X509 (otf__openssl_fns()->PEM_read_bio_X509)
#undef SSL_CIPHER_get_kx_nid
#define SSL_CIPHER_get_kx_nid (otf__openssl_fns()->SSL_CIPHER_get_kx_nid)
#undef SSL_CIPHER_get_name
#define SSL_CIPHER_get_name (otf__openssl_fns()->SSL_CIPHER_get_name)
#undef SSL_CIPHER_standard_name
#define SSL_CIPHER_standard_name (otf__openssl_fns()->SSL_CIPHER_standard_name)
#undef SSL_CTX_check_private_key
#define SSL_CTX_check_private_key (otf__openssl_fns()->SSL_CTX_check_private_key)
#undef SSL_CTX_ctrl
#define SSL_CTX_ctrl (otf__openssl_fns()->SSL_CTX_ctrl)
#undef SSL_CTX_free
#define SSL_CTX_free (otf__openssl_fns()->SSL_CTX_free)
#undef SSL_CTX_get_cert_store
#define SSL_CTX_get_cert_store (otf__openssl_fns()->SSL_CTX_get_cert_store)
#undef SSL_CTX_new
#define SSL_CTX_new (otf__openssl_fns()->SSL_CTX_new)
#undef SSL_CTX_set_alpn_select_cb
#define SSL_CTX_set_alpn_select_cb (otf__openssl_fns()->SSL_CTX_set_alpn_select_cb)
#undef SSL_CTX_set_cipher_list
#define SSL_CTX_set_cipher_list (otf__openssl_fns()->SSL_CTX_set_cipher_list)
#undef SSL_CTX_set_ciphersuites
#define SSL_CTX_set_ciphersuites (otf__openssl_fns()->SSL_CTX_set_ciphersuites)
#undef SSL_CTX_set_default_verify_paths
#define SSL_CTX_set_default_verify_paths (otf__openssl_fns()->SSL_CTX_set_default_verify_paths)
#undef SSL_CTX_set_security_level
#define SSL_CTX_set_security_level (otf__openssl_fns()->SSL_CTX_set_security_level)
#undef SSL_CTX_set_session_id_context
#define SSL_CTX_set_session_id_context (otf__openssl_fns()->SSL_CTX_set_session_id_context)
#undef SSL_CTX_set_verify
#define SSL_CTX_set_verify (otf__openssl_fns()->SSL_CTX_set_verify)
#undef SSL_CTX_use_PrivateKey
#define SSL_CTX_use_PrivateKey (otf__openssl_fns()->SSL_CTX_use_PrivateKey)
#undef SSL_CTX_use_certificate
#define SSL_CTX_use_certificate (otf__openssl_fns()->SSL_CTX_use_certificate)
#undef SSL_ctrl
#define SSL_ctrl (otf__openssl_fns()->SSL_ctrl)
#undef SSL_do_handshake
#define SSL_do_handshake (otf__openssl_fns()->SSL_do_handshake)
#undef SSL_free
#define SSL_free (otf__openssl_fns()->SSL_free)
#undef SSL_get0_alpn_selected
#define SSL_get0_alpn_selected (otf__openssl_fns()->SSL_get0_alpn_selected)
#undef SSL_get0_param
#define SSL_get0_param (otf__openssl_fns()->SSL_get0_param)
#undef SSL_get0_peer_certificate
#define SSL_get0_peer_certificate (otf__openssl_fns()->SSL_get0_peer_certificate)
#undef SSL_get_ciphers
#define SSL_get_ciphers (otf__openssl_fns()->SSL_get_ciphers)
#undef SSL_get_error
#define SSL_get_error (otf__openssl_fns()->SSL_get_error)
#undef SSL_get_verify_result
#define SSL_get_verify_result (otf__openssl_fns()->SSL_get_verify_result)
#undef SSL_new
#define SSL_new (otf__openssl_fns()->SSL_new)
#undef SSL_pending
#define SSL_pending (otf__openssl_fns()->SSL_pending)
#undef SSL_read
#define SSL_read (otf__openssl_fns()->SSL_read)
#undef SSL_set_accept_state
#define SSL_set_accept_state (otf__openssl_fns()->SSL_set_accept_state)
#undef SSL_set_alpn_protos
#define SSL_set_alpn_protos (otf__openssl_fns()->SSL_set_alpn_protos)
#undef SSL_set_bio
#define SSL_set_bio (otf__openssl_fns()->SSL_set_bio)
#undef SSL_set_cipher_list
#define SSL_set_cipher_list (otf__openssl_fns()->SSL_set_cipher_list)
#undef SSL_set_connect_state
#define SSL_set_connect_state (otf__openssl_fns()->SSL_set_connect_state)
#undef SSL_shutdown
#define SSL_shutdown (otf__openssl_fns()->SSL_shutdown)
#undef SSL_write
#define SSL_write (otf__openssl_fns()->SSL_write)
#undef TLS_client_method
#define TLS_client_method (otf__openssl_fns()->TLS_client_method)
#undef TLS_server_method
#define TLS_server_method (otf__openssl_fns()->TLS_server_method)
#undef X509_NAME_print_ex
#define X509_NAME_print_ex (otf__openssl_fns()->X509_NAME_print_ex)
#undef X509_STORE_add_cert
#define X509_STORE_add_cert (otf__openssl_fns()->X509_STORE_add_cert)
#undef X509_VERIFY_PARAM_set1_host
#define X509_VERIFY_PARAM_set1_host (otf__openssl_fns()->X509_VERIFY_PARAM_set1_host)
#undef X509_VERIFY_PARAM_set1_ip_asc
#define X509_VERIFY_PARAM_set1_ip_asc (otf__openssl_fns()->X509_VERIFY_PARAM_set1_ip_asc)
#undef X509_free
#define X509_free (otf__openssl_fns()->X509_free)
#undef X509_get_subject_name
#define X509_get_subject_name (otf__openssl_fns()->X509_get_subject_name)
#undef X509_verify_cert_error_string
#define X509_verify_cert_error_string (otf__openssl_fns()->X509_verify_cert_error_string)

#endif
