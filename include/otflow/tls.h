/* TLS for the servers and clients in src/net/ and the exporters: the
 * Collector's configtls settings (config/configtls/README.md: same keys,
 * same defaults, same meanings) turned into an OpenSSL 3 context.
 *
 * Where TLS sits: each connection of otflow/http_server.h,
 * otflow/grpc_server.h and the `otlp` exporter's gRPC client runs its TLS
 * session on memory BIOs between the libuv stream and the HTTP/1.1,
 * HTTP/2 and gRPC code (src/net/tls_io.c), so that code never calls a
 * socket or TLS function: it reads and writes plaintext.
 *
 * Config shape (the `tls` block; YAML keys as in the Collector):
 *   ca_file / ca_pem        CAs that verify the peer (client: the server;
 *                           client default: the system pool)
 *   cert_file / cert_pem    our certificate chain (PEM, leaf first)
 *   key_file / key_pem      its private key (PEM)
 *   client_ca_file          server: require a client certificate signed
 *                           by these CAs (mTLS)
 *   min_version             "1.0", "1.1", "1.2" (default), "1.3"
 *   max_version             "" (default: the highest OpenSSL has) or one of those
 *   cipher_suites           IANA names ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
 *                           "TLS_AES_128_GCM_SHA256"); empty = OpenSSL's defaults
 *   include_system_ca_certs_pool  add the system pool to ca_file/ca_pem
 *                           (and to client_ca_file)
 *   reload_interval         0 = never; else certificate files are re-read
 *                           at the first handshake after each interval: new
 *                           handshakes use what was read, open connections
 *                           keep their session
 *   insecure                client: plaintext (h2c for gRPC)
 *   insecure_skip_verify    client: TLS without verifying the server
 *   server_name_override    client: SNI and the name verified (default:
 *                           the endpoint's host)
 *
 * Ownership: the config is the component's (schema-filled, released with
 * otf_config_schema_free). A context copies what it needs.
 *
 * Thread rules: a context may be used from every worker loop at once
 * (its OpenSSL context sits behind a mutex, swapped on reload); the
 * failure counter is atomic.
 *
 * Errors: OTF_E_CONFIG with a message naming the key, e.g.
 *   "protocols.grpc.tls.key_file: does not match cert_file (key values mismatch)"
 *   "tls.ca_file: cannot read \"ca.pem\": No such file or directory"
 * OTF_E_NOMEM when out of memory. */
#ifndef OTFLOW_TLS_H
#define OTFLOW_TLS_H

#include "otflow/config_schema.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otf_tls_config {
	char *ca_file, *ca_pem;
	char *cert_file, *cert_pem;
	char *key_file, *key_pem;
	char *client_ca_file; /* server only */
	char *min_version;    /* "1.2" by default */
	char *max_version;    /* NULL or "" = highest */
	otf_config_strlist_t cipher_suites;
	bool include_system_ca_certs_pool;
	int64_t reload_interval_ns; /* 0 = never */
	bool insecure;              /* client only */
	bool insecure_skip_verify;  /* client only */
	char *server_name_override; /* client only */
} otf_tls_config_t;

/* The `tls` block of a server (receivers: configtls.ServerConfig) and of
 * a client (exporters: configtls.ClientConfig). Both are built from one
 * list of common fields (tls_config.c). */
extern const otf_config_field_t otf_tls_server_schema[];
extern const otf_config_field_t otf_tls_client_schema[];

typedef struct otf_tls_ctx otf_tls_ctx_t;

typedef enum otf_tls_role {
	OTF_TLS_SERVER = 1,
	OTF_TLS_CLIENT,
} otf_tls_role_t;

/* Builds a context: loads every certificate and key now (so that a bad
 * file is a startup error), checks that the key matches the certificate,
 * and sets the versions and suites. alpn is the protocols offered
 * (client) or selected when the peer offers one (server), comma-separated,
 * most preferred first, at most 31 characters: "h2", "http/1.1" or
 * "h2,http/1.1" (the OTLP/HTTP port; the server picks the first of its
 * list the client offers); NULL = no ALPN. where prefixes error messages and log lines
 * ("protocols.grpc.tls"); label (may be NULL) names the component: the
 * failure counter's point and log lines say "<label> <where>"
 * ("receiver:otlp protocols.grpc.tls"). A server needs a certificate and key; a
 * client config with insecure set is refused here (the caller uses no
 * context). Returns 0 or OTF_E_CONFIG with err, OTF_E_NOMEM. */
int otf_tls_ctx_create(const otf_tls_config_t *cfg, otf_tls_role_t role, const char *alpn,
                       const char *where, const char *label, otf_tls_ctx_t **out, char *err,
                       size_t errlen);

/* The same context for every caller passing the same key (a config
 * object shared by a component's per-worker instances): the first call
 * creates it, later ones take a reference. Release each with
 * otf_tls_ctx_release; the last one destroys it. */
int otf_tls_ctx_acquire(const void *key, const otf_tls_config_t *cfg, otf_tls_role_t role,
                        const char *alpn, const char *where, const char *label, otf_tls_ctx_t **out,
                        char *err, size_t errlen);
void otf_tls_ctx_release(otf_tls_ctx_t *ctx);

/* Frees a context from otf_tls_ctx_create; sessions still open keep
 * their own reference to the OpenSSL context. NULL is a no-op. */
void otf_tls_ctx_destroy(otf_tls_ctx_t *ctx);

/* A startup check (component validate): create and destroy. */
int otf_tls_config_check(const otf_tls_config_t *cfg, otf_tls_role_t role, const char *where,
                         char *err, size_t errlen);

/* cipher_suites (IANA names) as OpenSSL spells them: the TLS 1.2 list
 * (cipher list syntax, "A:B") into v12 and the TLS 1.3 one into v13, each
 * "" when the config names none of that family. For libcurl's
 * CURLOPT_SSL_CIPHER_LIST / CURLOPT_TLS13_CIPHERS. 0 or OTF_E_CONFIG
 * naming the unknown suite (where prefixes it), OTF_E_NOMEM. */
int otf_tls_cipher_names(const otf_config_strlist_t *suites, const char *where, char *v12,
                         size_t n12, char *v13, size_t n13, char *err, size_t errlen);

/* Handshakes that failed (untrusted, expired or missing peer
 * certificate, plaintext on the TLS port, protocol errors), since
 * creation. Also exported as otelcol_tls_handshake_failures. */
uint64_t otf_tls_ctx_failures(const otf_tls_ctx_t *ctx);
/* Certificate reloads that took effect (reload_interval). */
uint64_t otf_tls_ctx_reloads(const otf_tls_ctx_t *ctx);

#ifdef __cplusplus
}
#endif
#endif
