/* Kafka connection keys, librdkafka configuration, the queue-to-loop pump
 * and OTLP byte helpers shared by the kafka exporter and receiver
 * (kafka_common.h). */
#include "kafka_common.h"

#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const otf_config_field_t k_sasl_schema[] = {
    {.key = "username",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otf_kafka_sasl_config_t, username),
     .desc = "SASL user (sasl.username)."},
    {.key = "password",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otf_kafka_sasl_config_t, password),
     .desc = "SASL password (sasl.password)."},
    {.key = "mechanism",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otf_kafka_sasl_config_t, mechanism),
     .desc = "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (sasl.mechanisms)."},
    {.key = "version",
     .type = OTF_CFG_INT,
     .offset = offsetof(otf_kafka_sasl_config_t, version),
     .def = "0",
     .min = "0",
     .max = "1",
     .ignored = "librdkafka chooses the SASL handshake version the broker supports",
     .desc = "Collector key; accepted, librdkafka negotiates it (a warning says so)."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t k_plain_schema[] = {
    {.key = "username",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otf_kafka_plain_config_t, username),
     .desc = "User; same as sasl with mechanism PLAIN."},
    {.key = "password",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otf_kafka_plain_config_t, password),
     .desc = "Password."},
    OTF_CONFIG_FIELD_END,
};

const otf_config_field_t otf__kafka_auth_schema[] = {
    {.key = "sasl",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otf_kafka_auth_config_t, sasl),
     .sub = k_sasl_schema,
     .desc = "SASL over the connection (SASL_PLAINTEXT, or SASL_SSL with tls)."},
    {.key = "plain_text",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otf_kafka_auth_config_t, plain_text),
     .sub = k_plain_schema,
     .desc = "Deprecated Collector form of sasl with mechanism PLAIN."},
    OTF_CONFIG_FIELD_END,
};

const otf_config_field_t otf__kafka_tls_schema[] = {
    {.key = "insecure",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(otf_kafka_tls_config_t, insecure),
     .def = "false",
     .desc = "Plaintext connection although tls is present."},
    {.key = "insecure_skip_verify",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(otf_kafka_tls_config_t, insecure_skip_verify),
     .def = "false",
     .desc = "Do not verify the broker's certificate "
             "(enable.ssl.certificate.verification false)."},
    {.key = "ca_file",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otf_kafka_tls_config_t, ca_file),
     .desc = "CA certificates to verify the broker (ssl.ca.location)."},
    {.key = "ca_pem",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otf_kafka_tls_config_t, ca_pem),
     .desc = "The same as PEM text (ssl.ca.pem)."},
    {.key = "cert_file",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otf_kafka_tls_config_t, cert_file),
     .desc = "Client certificate (ssl.certificate.location)."},
    {.key = "cert_pem",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otf_kafka_tls_config_t, cert_pem),
     .desc = "The same as PEM text (ssl.certificate.pem)."},
    {.key = "key_file",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otf_kafka_tls_config_t, key_file),
     .desc = "Client private key (ssl.key.location)."},
    {.key = "key_pem",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otf_kafka_tls_config_t, key_pem),
     .desc = "The same as PEM text (ssl.key.pem)."},
    OTF_CONFIG_FIELD_END,
};

static bool set(const char *s)
{
	return s && s[0];
}

static const char *sasl_mech(const otf_kafka_conn_config_t *c)
{
	if (set(c->auth.sasl.mechanism))
		return c->auth.sasl.mechanism;
	if (set(c->auth.plain_text.username))
		return "PLAIN";
	return NULL;
}

int otf__kafka_conn_validate(const otf_kafka_conn_config_t *c, char *err, size_t errlen)
{
	if (!c->brokers.n) {
		snprintf(err, errlen, "brokers: at least one broker is required");
		return OTF_E_CONFIG;
	}
	for (size_t i = 0; i < c->brokers.n; i++) {
		if (!set(c->brokers.items[i]) || strchr(c->brokers.items[i], ',')) {
			snprintf(err, errlen, "brokers[%zu]: expected \"host:port\", got \"%s\"", i,
			         c->brokers.items[i] ? c->brokers.items[i] : "");
			return OTF_E_CONFIG;
		}
	}
	const char *m = c->auth.sasl.mechanism;
	if (set(m) && strcmp(m, "PLAIN") && strcmp(m, "SCRAM-SHA-256") &&
	    strcmp(m, "SCRAM-SHA-512")) {
		snprintf(err, errlen,
		         "auth.sasl.mechanism: \"%s\" is not one of PLAIN, SCRAM-SHA-256, "
		         "SCRAM-SHA-512",
		         m);
		return OTF_E_CONFIG;
	}
	if (set(m) && (!set(c->auth.sasl.username) || !set(c->auth.sasl.password))) {
		snprintf(err, errlen, "auth.sasl: username and password are required");
		return OTF_E_CONFIG;
	}
	if (!set(m) && (set(c->auth.sasl.username) || set(c->auth.sasl.password))) {
		snprintf(err, errlen, "auth.sasl.mechanism: required with username/password");
		return OTF_E_CONFIG;
	}
	if (set(m) && set(c->auth.plain_text.username)) {
		snprintf(err, errlen, "auth: set either sasl or plain_text, not both");
		return OTF_E_CONFIG;
	}
	return 0;
}

int otf__kafka_conn_props(const otf_kafka_conn_config_t *c, const char **keys, const char **vals,
                          char *buf, size_t cap)
{
	int n = 0;
#define PUT(k, v)                             \
	do {                                  \
		if (n >= OTF_KAFKA_MAX_PROPS) \
			return OTF_E_NOSPACE; \
		keys[n] = (k);                \
		vals[n] = (v);                \
		n++;                          \
	} while (0)
	/* bootstrap.servers: the list joined with commas, in buf */
	size_t used = 0;
	for (size_t i = 0; i < c->brokers.n; i++) {
		int w = snprintf(buf + used, cap - used, "%s%s", i ? "," : "", c->brokers.items[i]);
		if (w < 0 || (size_t)w >= cap - used)
			return OTF_E_NOSPACE;
		used += (size_t)w;
	}
	PUT("bootstrap.servers", buf);
	if (set(c->client_id))
		PUT("client.id", c->client_id);
	if (c->resolve_canonical)
		PUT("client.dns.lookup", "resolve_canonical_bootstrap_servers_only");
	bool tls = c->tls_present && !c->tls.insecure;
	const char *mech = sasl_mech(c);
	PUT("security.protocol",
	    mech ? (tls ? "sasl_ssl" : "sasl_plaintext") : (tls ? "ssl" : "plaintext"));
	if (mech) {
		bool plain = !set(c->auth.sasl.mechanism);
		PUT("sasl.mechanisms", mech);
		PUT("sasl.username", plain ? c->auth.plain_text.username : c->auth.sasl.username);
		PUT("sasl.password", plain ? c->auth.plain_text.password : c->auth.sasl.password);
	}
	if (tls) {
		if (set(c->tls.ca_file))
			PUT("ssl.ca.location", c->tls.ca_file);
		if (set(c->tls.ca_pem))
			PUT("ssl.ca.pem", c->tls.ca_pem);
		if (set(c->tls.cert_file))
			PUT("ssl.certificate.location", c->tls.cert_file);
		if (set(c->tls.cert_pem))
			PUT("ssl.certificate.pem", c->tls.cert_pem);
		if (set(c->tls.key_file))
			PUT("ssl.key.location", c->tls.key_file);
		if (set(c->tls.key_pem))
			PUT("ssl.key.pem", c->tls.key_pem);
		if (c->tls.insecure_skip_verify)
			PUT("enable.ssl.certificate.verification", "false");
	}
#undef PUT
	return n;
}

rd_kafka_conf_t *otf__kafka_conf_new(const otf_kafka_conn_config_t *c, const char *const *keys,
                                     const char *const *vals, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (!conf) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	const char *k[OTF_KAFKA_MAX_PROPS], *v[OTF_KAFKA_MAX_PROPS];
	char buf[2048];
	int n = otf__kafka_conn_props(c, k, v, buf, sizeof buf);
	if (n < 0) {
		snprintf(err, errlen, "brokers: list too long");
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	char e[256];
	for (int i = 0; i < n; i++) {
		if (rd_kafka_conf_set(conf, k[i], v[i], e, sizeof e) != RD_KAFKA_CONF_OK) {
			snprintf(err, errlen, "%s: %s", k[i], e);
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	}
	if (rd_kafka_conf_set(conf, "log.queue", "true", e, sizeof e) != RD_KAFKA_CONF_OK) {
		snprintf(err, errlen, "log.queue: %s", e);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_log_cb(conf, otf__kafka_log_cb);
	for (size_t i = 0; keys && keys[i]; i++) {
		if (rd_kafka_conf_set(conf, keys[i], vals[i], e, sizeof e) != RD_KAFKA_CONF_OK) {
			snprintf(err, errlen, "%s: %s", keys[i], e);
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	}
	return conf;
}

void otf__kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	otf_node_t **node = rd_kafka_opaque(rk);
	if (!node || !*node)
		return;
	otf_log_level_t l = level <= 3   ? OTF_LOG_ERROR
	                    : level == 4 ? OTF_LOG_WARN
	                    : level <= 6 ? OTF_LOG_INFO
	                                 : OTF_LOG_DEBUG;
	otf_node_log(*node, l, "librdkafka %s: %s", fac, buf);
}

void otf__kafka_broker_error(char *dst, size_t cap, const char *reason)
{
	/* "sasl_ssl://host:9093/bootstrap: Failed to ... (after 0ms in state
	 * AUTH_REQ)": without the broker prefix and the state suffix. */
	const char *p = strstr(reason, "://");
	const char *colon = p ? strstr(p, ": ") : NULL;
	if (colon)
		reason = colon + 2;
	size_t n = strlen(reason);
	const char *after = strstr(reason, " (after ");
	if (after)
		n = (size_t)(after - reason);
	snprintf(dst, cap, "%.*s", (int)n, reason);
}

/* ---- pump ---- */

struct otf_kafka_pump {
	uv_poll_t poll;
	uv_timer_t timer;
	int fds[2];
	rd_kafka_queue_t *q;
	otf_kafka_pump_cb cb;
	void *ctx;
	int open_handles;
	bool stopped;
};

static void pump_closed(uv_handle_t *h)
{
	otf_kafka_pump_t *p = h->data;
	if (--p->open_handles == 0) {
		close(p->fds[0]);
		close(p->fds[1]);
		otf_free(p);
	}
}

static void pump_on_poll(uv_poll_t *h, int status, int events)
{
	otf_kafka_pump_t *p = h->data;
	(void)status;
	(void)events;
	char sink[256];
	while (read(p->fds[0], sink, sizeof sink) > 0) {
	}
	if (!p->stopped)
		p->cb(p->ctx);
}

static void pump_on_timer(uv_timer_t *t)
{
	otf_kafka_pump_t *p = t->data;
	if (!p->stopped)
		p->cb(p->ctx);
}

otf_kafka_pump_t *otf__kafka_pump_create(uv_loop_t *loop, rd_kafka_queue_t *q, uint64_t timer_ms,
                                         otf_kafka_pump_cb cb, void *ctx)
{
	otf_kafka_pump_t *p = otf_calloc(1, sizeof *p);
	if (!p)
		return NULL;
	if (pipe2(p->fds, O_NONBLOCK | O_CLOEXEC)) {
		otf_free(p);
		return NULL;
	}
	p->q = q;
	p->cb = cb;
	p->ctx = ctx;
	if (uv_poll_init(loop, &p->poll, p->fds[0])) {
		close(p->fds[0]);
		close(p->fds[1]);
		otf_free(p);
		return NULL;
	}
	uv_timer_init(loop, &p->timer);
	p->poll.data = p->timer.data = p;
	p->open_handles = 2;
	rd_kafka_queue_io_event_enable(q, p->fds[1], "1", 1);
	uv_poll_start(&p->poll, UV_READABLE, pump_on_poll);
	uv_timer_start(&p->timer, pump_on_timer, timer_ms, timer_ms);
	return p;
}

rd_kafka_queue_t *otf__kafka_pump_queue(otf_kafka_pump_t *p)
{
	return p->q;
}

void otf__kafka_pump_destroy(otf_kafka_pump_t *p)
{
	if (!p)
		return;
	p->stopped = true;
	if (p->q) {
		rd_kafka_queue_io_event_enable(p->q, -1, NULL, 0);
		rd_kafka_queue_destroy(p->q);
		p->q = NULL;
	}
	uv_close((uv_handle_t *)&p->poll, pump_closed);
	uv_close((uv_handle_t *)&p->timer, pump_closed);
}
