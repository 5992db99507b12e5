/* exporter `otlphttp` configuration: the Collector's otlphttpexporter keys
 * (endpoint, per-signal endpoints, encoding, compression, headers, timeout,
 * tls, retry_on_failure, sending_queue). */
#ifndef OTF_OTLPHTTP_CONFIG_H
#define OTF_OTLPHTTP_CONFIG_H

#include "../exporterhelper/exph_headers.h"
#include "../exporterhelper/exporterhelper.h"

typedef struct otlphttp_config {
	char *endpoint;
	char *signal_endpoint[OTF_SIGNAL_COUNT]; /* traces, metrics, logs */
	int encoding;                            /* 0 proto, 1 json */
	char *compression;
	otf_config_strmap_t headers;
	int64_t timeout_ns;
	otf_exph_tls_config_t tls;
	otf_exph_auth_config_t auth;
	otf_exph_retry_config_t retry;
	otf_exph_queue_config_t queue;
} otlphttp_config_t;

extern const otf_config_field_t otlphttp_schema[];
int otlphttp_validate(const void *config, char *err, size_t errlen);

/* URL for signal s: its own endpoint, or endpoint + "/v1/<signal>". Writes
 * at most cap bytes; OTF_E_CONFIG when neither is set or it is too long. */
int otlphttp_url(const otlphttp_config_t *c, otf_signal_t s, char *out, size_t cap);

#endif
