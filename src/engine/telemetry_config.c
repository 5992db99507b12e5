/* service.telemetry: the Collector's schema (opentelemetry-collector
 * service/telemetry; readers follow the OpenTelemetry configuration
 * schema's MeterProvider readers, as the Collector does):
 *
 *   telemetry:
 *     logs: {level: info}
 *     metrics:
 *       level: normal                  # none | basic | normal | detailed
 *       address: localhost:8888        # legacy: one Prometheus pull reader
 *       readers:
 *         - pull: {exporter: {prometheus: {host: localhost, port: 9464}}}
 *         - periodic:
 *             interval: 60000          # ms
 *             timeout: 30000           # ms
 *             exporter:
 *               otlp: {protocol: http/protobuf, endpoint: http://host:4318}
 *               (https:// and gRPC TLS: tls {ca_file, cert_file, key_file, insecure};
 *               read_tls says when TLS is on)
 *     resource: {service.name: my-otflow}
 *
 * Keys the Collector accepts that have no effect here are warned about at
 * startup, naming file and line; unknown keys are errors. */
#include "engine/engine_internal.h"

#include "otflow/err.h"
#include "otflow/service.h"
#include "otflow/tls.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool in_list(const char *k, const char *const *list)
{
	for (; list && *list; list++)
		if (!strcmp(k, *list))
			return true;
	return false;
}

static void join(const char *const *a, const char *const *b, char *buf, size_t cap)
{
	size_t at = 0;
	buf[0] = '\0';
	for (int pass = 0; pass < 2; pass++)
		for (const char *const *p = pass ? b : a; p && *p && at < cap; p++)
			at += (size_t)snprintf(buf + at, cap - at, "%s%s", at ? ", " : "", *p);
}

/* Every key of m must be handled (the caller reads it) or ignored (warned
 * here: accepted for compatibility, no effect); others are errors. */
static int check_keys(const otf_config_node_t *m, const char *const *handled,
                      const char *const *ignored, const char *why, otf_config_error_t *err)
{
	if (otf_config_node_kind(m) == OTF_CONFIG_NULL)
		return 0;
	if (otf_config_node_kind(m) != OTF_CONFIG_MAPPING)
		return otf_config_errorf(err, m, "expected a mapping, got %s",
		                         otf_config_kind_name(m));
	for (size_t i = 0; i < otf_config_len(m); i++) {
		const otf_config_node_t *v;
		const char *k = otf_config_map_at(m, i, &v);
		if (in_list(k, handled))
			continue;
		if (in_list(k, ignored)) {
			char path[256];
			otf_config_node_path(v, path, sizeof path);
			otf_log(OTF_LOG_WARN, "config", "%s:%u: %s: accepted and ignored (%s)",
			        otf_config_node_file(v), otf_config_node_line(v), path, why);
			continue;
		}
		char valid[400];
		join(handled, ignored, valid, sizeof valid);
		return otf_config_errorf(err, v, "unknown key '%s' (valid: %s)", k, valid);
	}
	return 0;
}

static int read_str(const otf_config_node_t *v, char *out, size_t cap, const char *what,
                    otf_config_error_t *err)
{
	size_t len;
	const char *s = otf_config_scalar(v, &len);
	if (!s)
		return otf_config_errorf(err, v, "expected %s, got %s", what,
		                         otf_config_kind_name(v));
	if (len >= cap)
		return otf_config_errorf(err, v, "longer than %zu bytes", cap - 1);
	memcpy(out, s, len + 1);
	return 0;
}

/* Milliseconds as the configuration schema has them (an integer), or a
 * Go duration ("10s") for convenience. */
static int read_ms(const otf_config_node_t *v, uint64_t *out, otf_config_error_t *err)
{
	const char *s = otf_config_scalar(v, NULL);
	uint64_t u;
	int64_t ns;
	if (s && !otf_config_parse_uint64(s, &u))
		*out = u;
	else if (s && !otf_config_parse_duration(s, &ns) && ns >= 0)
		*out = (uint64_t)(ns / 1000000);
	else
		return otf_config_errorf(err, v,
		                         "expected milliseconds (an integer) or a duration");
	if (*out == 0 || *out > 86400000u)
		return otf_config_errorf(err, v, "expected 1..86400000 ms");
	return 0;
}

static void origin(const otf_config_node_t *n, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s:%u", otf_config_node_file(n) ? otf_config_node_file(n) : "",
	         otf_config_node_line(n));
}

static int read_prometheus(const otf_config_node_t *p, otf_telemetry_reader_t *r,
                           otf_config_error_t *err)
{
	static const char *const handled[] = {"host", "port", NULL};
	static const char *const ignored[] = {"without_units",
	                                      "without_type_suffix",
	                                      "without_scope_info",
	                                      "without_target_info",
	                                      "with_resource_constant_labels",
	                                      "translation_strategy",
	                                      NULL};
	int rc = check_keys(p, handled, ignored,
	                    "otflow's Prometheus text has fixed names: no type suffixes, units, "
	                    "scope or target info",
	                    err);
	if (rc)
		return rc;
	snprintf(r->host, sizeof r->host, "localhost");
	r->port = 9464;
	const otf_config_node_t *h = otf_config_map_get(p, "host");
	if (h && (rc = read_str(h, r->host, sizeof r->host, "a host name or address", err)))
		return rc;
	const otf_config_node_t *pt = otf_config_map_get(p, "port");
	if (pt) {
		uint64_t u;
		if ((rc = otf_config_read_uint64(pt, &u, err)))
			return rc;
		if (u < 1 || u > 65535)
			return otf_config_errorf(err, pt, "expected a port 1..65535");
		r->port = (uint16_t)u;
	}
	return 0;
}

static int read_headers(const otf_config_node_t *h, otf_telemetry_reader_t *r,
                        otf_config_error_t *err)
{
	/* A mapping (older Collector releases) or the schema's list of
	 * {name, value}. */
	bool map = otf_config_node_kind(h) == OTF_CONFIG_MAPPING;
	if (!map && otf_config_node_kind(h) != OTF_CONFIG_SEQUENCE)
		return otf_config_errorf(err, h, "expected a list of {name, value} or a mapping");
	for (size_t i = 0; i < otf_config_len(h); i++) {
		if (r->headers_len == OTF_TELEMETRY_MAX_HEADERS)
			return otf_config_errorf(err, h, "at most %d headers",
			                         OTF_TELEMETRY_MAX_HEADERS);
		char *name = r->header_names[r->headers_len];
		char *value = r->header_values[r->headers_len];
		const otf_config_node_t *v;
		int rc;
		if (map) {
			const char *k = otf_config_map_at(h, i, &v);
			snprintf(name, sizeof r->header_names[0], "%s", k);
			rc = read_str(v, value, sizeof r->header_values[0], "a string", err);
		} else {
			const otf_config_node_t *it = otf_config_seq_at(h, i);
			static const char *const keys[] = {"name", "value", NULL};
			rc = check_keys(it, keys, NULL, "", err);
			if (!rc)
				rc = read_str(otf_config_map_get(it, "name"), name,
				              sizeof r->header_names[0], "a header name", err);
			if (!rc)
				rc = read_str(otf_config_map_get(it, "value"), value,
				              sizeof r->header_values[0], "a header value", err);
		}
		if (rc)
			return rc;
		r->headers_len++;
	}
	return 0;
}

/* The push's TLS, in each form the configuration schema has had: the
 * older otlp's certificate / client_certificate / client_key, otlp_http's
 * and otlp_grpc's *_file keys, and the tls block {ca_file, cert_file,
 * key_file, insecure}. TLS for https://; for gRPC without a scheme when
 * insecure is false or a certificate is given (plaintext otherwise, as
 * otflow always did there). Files are read now: a bad one is a config
 * error at its line. */
static int read_tls(const otf_config_node_t *o, const otf_config_node_t *ep,
                    otf_telemetry_reader_t *r, otf_config_error_t *err)
{
	static const struct {
		const char *key;
		size_t off;
	} flat[] = {
	    {"certificate", offsetof(otf_telemetry_reader_t, ca_file)},
	    {"certificate_file", offsetof(otf_telemetry_reader_t, ca_file)},
	    {"client_certificate", offsetof(otf_telemetry_reader_t, cert_file)},
	    {"client_certificate_file", offsetof(otf_telemetry_reader_t, cert_file)},
	    {"client_key", offsetof(otf_telemetry_reader_t, key_file)},
	    {"client_key_file", offsetof(otf_telemetry_reader_t, key_file)},
	};
	const otf_config_node_t *at = NULL; /* a TLS key, for errors */
	int rc;
	for (size_t i = 0; i < sizeof flat / sizeof flat[0]; i++) {
		const otf_config_node_t *v = otf_config_map_get(o, flat[i].key);
		if (v && (rc = read_str(v, (char *)r + flat[i].off, 512, "a file path", err)))
			return rc;
		at = v ? v : at;
	}
	int insecure = -1; /* not set */
	const otf_config_node_t *inn = otf_config_map_get(o, "insecure");
	const otf_config_node_t *t = otf_config_map_get(o, "tls");
	if (t) {
		static const char *const keys[] = {"ca_file", "cert_file", "key_file", "insecure",
		                                   NULL};
		if ((rc = check_keys(t, keys, NULL, "", err)))
			return rc;
		static const struct {
			const char *key;
			size_t off;
		} blk[] = {
		    {"ca_file", offsetof(otf_telemetry_reader_t, ca_file)},
		    {"cert_file", offsetof(otf_telemetry_reader_t, cert_file)},
		    {"key_file", offsetof(otf_telemetry_reader_t, key_file)},
		};
		for (size_t i = 0; i < 3; i++) {
			const otf_config_node_t *v = otf_config_map_get(t, blk[i].key);
			if (v &&
			    (rc = read_str(v, (char *)r + blk[i].off, 512, "a file path", err)))
				return rc;
			at = v ? v : at;
		}
		if (otf_config_map_get(t, "insecure"))
			inn = otf_config_map_get(t, "insecure");
	}
	if (inn) {
		bool b;
		if ((rc = otf_config_read_bool(inn, &b, err)))
			return rc;
		insecure = b;
	}
	bool https = !strncasecmp(r->endpoint, "https://", 8);
	bool http = !strncasecmp(r->endpoint, "http://", 7);
	bool certs = r->ca_file[0] || r->cert_file[0] || r->key_file[0];
	if (r->protocol != OTF_OTLP_GRPC) {
		if (inn && !https)
			return otf_config_errorf(err, inn,
			                         "insecure is for otlp_grpc; an http:// endpoint "
			                         "is plaintext, https:// is TLS");
		r->tls = https;
	} else if (insecure == 1) {
		if (https)
			return otf_config_errorf(err, inn,
			                         "insecure: true with an https:// endpoint");
		r->tls = false;
	} else {
		r->tls = https || (!http && (insecure == 0 || certs));
	}
	if (certs && !r->tls)
		return otf_config_errorf(err, at,
		                         "a certificate for a plaintext endpoint: use https:// (or "
		                         "leave insecure unset or false for otlp_grpc)");
	if (!r->tls)
		return 0;
	if (!!r->cert_file[0] != !!r->key_file[0])
		return otf_config_errorf(err, at,
		                         "a client certificate needs its key, and a key "
		                         "its certificate");
	otf_tls_config_t tc = {.ca_file = r->ca_file[0] ? r->ca_file : NULL,
	                       .cert_file = r->cert_file[0] ? r->cert_file : NULL,
	                       .key_file = r->key_file[0] ? r->key_file : NULL};
	char msg[400];
	if (otf_tls_config_check(&tc, OTF_TLS_CLIENT, "tls", msg, sizeof msg))
		return otf_config_errorf(err, at ? at : ep, "%s", msg);
	return 0;
}

/* exporter: otlp: {protocol, ...} or the schema's newer otlp_http / otlp_grpc. */
static int read_otlp(const otf_config_node_t *o, const char *which, otf_telemetry_reader_t *r,
                     otf_config_error_t *err)
{
	static const char *const handled[] = {"protocol",
	                                      "endpoint",
	                                      "headers",
	                                      "compression",
	                                      "timeout",
	                                      "insecure",
	                                      "encoding",
	                                      "tls",
	                                      "certificate",
	                                      "client_certificate",
	                                      "client_key",
	                                      "certificate_file",
	                                      "client_certificate_file",
	                                      "client_key_file",
	                                      NULL};
	static const char *const ignored[] = {
	    "temporality_preference", "default_histogram_aggregation", "headers_list", NULL};
	int rc =
	    check_keys(o, handled, ignored,
	               "otflow pushes cumulative sums and gauges only; it has no histograms", err);
	if (rc)
		return rc;
	r->protocol = !strcmp(which, "otlp_grpc") ? OTF_OTLP_GRPC : OTF_OTLP_HTTP_PROTOBUF;
	const otf_config_node_t *p = otf_config_map_get(o, "protocol");
	if (p) {
		const char *s = otf_config_scalar(p, NULL);
		if (!s || strcmp(which, "otlp"))
			return otf_config_errorf(
			    err, p, "protocol is set by the exporter name here (%s)", which);
		if (!strcmp(s, "http/protobuf"))
			r->protocol = OTF_OTLP_HTTP_PROTOBUF;
		else if (!strcmp(s, "http/json"))
			r->protocol = OTF_OTLP_HTTP_JSON;
		else if (!strcmp(s, "grpc"))
			r->protocol = OTF_OTLP_GRPC;
		else
			return otf_config_errorf(
			    err, p, "expected http/protobuf, http/json or grpc, got '%s'", s);
	}
	/* otlp_http (the newer schema): encoding protobuf | json. */
	const otf_config_node_t *enc = otf_config_map_get(o, "encoding");
	if (enc) {
		const char *s = otf_config_scalar(enc, NULL);
		if (strcmp(which, "otlp_http"))
			return otf_config_errorf(err, enc, "encoding is a key of otlp_http only");
		if (s && !strcmp(s, "json"))
			r->protocol = OTF_OTLP_HTTP_JSON;
		else if (!s || strcmp(s, "protobuf"))
			return otf_config_errorf(err, enc, "expected protobuf or json");
	}
	const otf_config_node_t *e = otf_config_map_get(o, "endpoint");
	if (!e)
		return otf_config_errorf(err, o, "missing required key 'endpoint'");
	if ((rc = read_str(e, r->endpoint, sizeof r->endpoint, "a URL", err)))
		return rc;
	const otf_config_node_t *h = otf_config_map_get(o, "headers");
	if (h && (rc = read_headers(h, r, err)))
		return rc;
	const otf_config_node_t *c = otf_config_map_get(o, "compression");
	if (c) {
		const char *s = otf_config_scalar(c, NULL);
		if (!s || (strcmp(s, "gzip") && strcmp(s, "none") && *s))
			return otf_config_errorf(err, c, "expected gzip or none");
		r->gzip = !strcmp(s, "gzip");
	}
	const otf_config_node_t *t = otf_config_map_get(o, "timeout");
	if (t && (rc = read_ms(t, &r->timeout_ms, err)))
		return rc;
	return read_tls(o, e, r, err);
}

static int read_exporter(const otf_config_node_t *ex, bool pull, otf_telemetry_reader_t *r,
                         otf_config_error_t *err)
{
	if (otf_config_node_kind(ex) != OTF_CONFIG_MAPPING || otf_config_len(ex) != 1)
		return otf_config_errorf(err, ex, "expected a mapping with one exporter (%s)",
		                         pull ? "prometheus" : "otlp, otlp_http or otlp_grpc");
	const otf_config_node_t *v;
	const char *name = otf_config_map_at(ex, 0, &v);
	if (pull) {
		if (strcmp(name, "prometheus"))
			return otf_config_errorf(err, v,
			                         "unsupported pull exporter '%s' (supported: "
			                         "prometheus)",
			                         name);
		return read_prometheus(v, r, err);
	}
	if (strcmp(name, "otlp") && strcmp(name, "otlp_http") && strcmp(name, "otlp_grpc"))
		return otf_config_errorf(err, v,
		                         "unsupported periodic exporter '%s' (supported: otlp, "
		                         "otlp_http, otlp_grpc)",
		                         name);
	return read_otlp(v, name, r, err);
}

static int read_reader(const otf_config_node_t *it, otf_telemetry_reader_t *r,
                       otf_config_error_t *err)
{
	memset(r, 0, sizeof *r);
	origin(it, r->origin, sizeof r->origin);
	static const char *const kinds[] = {"pull", "periodic", NULL};
	int rc = check_keys(it, kinds, NULL, "", err);
	if (rc)
		return rc;
	if (otf_config_len(it) != 1)
		return otf_config_errorf(err, it, "expected one of pull or periodic");
	const otf_config_node_t *v;
	const char *kind = otf_config_map_at(it, 0, &v);
	bool pull = !strcmp(kind, "pull");
	static const char *const pull_keys[] = {"exporter", NULL};
	static const char *const periodic_keys[] = {"exporter", "interval", "timeout", NULL};
	static const char *const ignored[] = {"producers", "cardinality_limits", NULL};
	rc = check_keys(v, pull ? pull_keys : periodic_keys, ignored,
	                "otflow's metrics have a fixed set of producers and attributes", err);
	if (rc)
		return rc;
	const otf_config_node_t *ex = otf_config_map_get(v, "exporter");
	if (!ex)
		return otf_config_errorf(err, v, "missing required key 'exporter'");
	r->kind = pull ? OTF_READER_PULL_PROMETHEUS : OTF_READER_PERIODIC_OTLP;
	r->interval_ms = 60000;
	r->timeout_ms = 30000;
	if (!pull) {
		const otf_config_node_t *iv = otf_config_map_get(v, "interval");
		if (iv && (rc = read_ms(iv, &r->interval_ms, err)))
			return rc;
		const otf_config_node_t *to = otf_config_map_get(v, "timeout");
		if (to && (rc = read_ms(to, &r->timeout_ms, err)))
			return rc;
	}
	return read_exporter(ex, pull, r, err);
}

/* "host:port" of the legacy `address`. */
static int read_address(const otf_config_node_t *a, otf_telemetry_reader_t *r,
                        otf_config_error_t *err)
{
	memset(r, 0, sizeof *r);
	origin(a, r->origin, sizeof r->origin);
	r->kind = OTF_READER_PULL_PROMETHEUS;
	char buf[160];
	int rc = read_str(a, buf, sizeof buf, "a string \"host:port\"", err);
	if (rc)
		return rc;
	char *colon = strrchr(buf, ':');
	char *end = NULL;
	unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
	if (!colon || !end || *end || port < 1 || port > 65535)
		return otf_config_errorf(err, a, "expected \"host:port\", got '%s'", buf);
	*colon = '\0';
	char *host = buf;
	if (host[0] == '[' && colon > host + 1 && colon[-1] == ']') {
		colon[-1] = '\0';
		host++;
	}
	if (strlen(host) >= sizeof r->host)
		return otf_config_errorf(err, a, "host longer than %zu bytes", sizeof r->host - 1);
	memcpy(r->host, host, strlen(host) + 1);
	r->port = (uint16_t)port;
	return 0;
}

static int read_metrics(const otf_config_node_t *m, otf_telemetry_settings_t *t,
                        otf_config_error_t *err)
{
	static const char *const handled[] = {"level", "address", "readers", NULL};
	static const char *const ignored[] = {"views", NULL};
	int rc = check_keys(m, handled, ignored, "otflow's metrics have fixed names and attributes",
	                    err);
	if (rc)
		return rc;
	const otf_config_node_t *lvl = otf_config_map_get(m, "level");
	if (lvl) {
		static const char *const names[] = {"none", "basic", "normal", "detailed"};
		const char *s = otf_config_scalar(lvl, NULL);
		int found = -1;
		for (int i = 0; s && i < 4; i++)
			if (!strcasecmp(s, names[i]))
				found = i;
		if (found < 0)
			return otf_config_errorf(err, lvl,
			                         "expected none, basic, normal or detailed");
		t->level = (otf_metrics_level_t)found;
	}
	const otf_config_node_t *addr = otf_config_map_get(m, "address");
	const otf_config_node_t *readers = otf_config_map_get(m, "readers");
	if (addr && readers)
		return otf_config_errorf(err, addr,
		                         "address and readers are both set: address is the legacy "
		                         "form of one pull reader, use readers only");
	if (addr) {
		if ((rc = read_address(addr, &t->readers[0], err)))
			return rc;
		t->readers_len = 1;
	}
	if (readers) {
		if (otf_config_node_kind(readers) != OTF_CONFIG_SEQUENCE &&
		    otf_config_node_kind(readers) != OTF_CONFIG_NULL)
			return otf_config_errorf(err, readers, "expected a list of readers, got %s",
			                         otf_config_kind_name(readers));
		if (otf_config_len(readers) > OTF_TELEMETRY_MAX_READERS)
			return otf_config_errorf(err, readers, "at most %d readers",
			                         OTF_TELEMETRY_MAX_READERS);
		t->readers_len = 0;
		for (size_t i = 0; i < otf_config_len(readers); i++) {
			rc = read_reader(otf_config_seq_at(readers, i), &t->readers[i], err);
			if (rc)
				return rc;
			t->readers_len++;
		}
	}
	if (t->level == OTF_METRICS_LEVEL_NONE) {
		if (readers && otf_config_len(readers))
			otf_log(OTF_LOG_WARN, "config",
			        "%s:%u: service.telemetry.metrics.readers: unused with level none",
			        otf_config_node_file(readers), otf_config_node_line(readers));
		t->readers_len = 0;
	}
	/* Two pull readers on one port would fail at bind; say it now. */
	for (size_t i = 0; i < t->readers_len; i++)
		for (size_t j = i + 1; j < t->readers_len; j++)
			if (t->readers[i].kind == OTF_READER_PULL_PROMETHEUS &&
			    t->readers[j].kind == OTF_READER_PULL_PROMETHEUS &&
			    t->readers[i].port == t->readers[j].port)
				return otf_config_errorf(err, otf_config_seq_at(readers, j),
				                         "a pull reader on port %u already exists",
				                         t->readers[i].port);
	return 0;
}

static int read_resource(const otf_config_node_t *r, otf_telemetry_settings_t *t,
                         otf_config_error_t *err)
{
	if (otf_config_node_kind(r) == OTF_CONFIG_NULL)
		return 0;
	if (otf_config_node_kind(r) != OTF_CONFIG_MAPPING)
		return otf_config_errorf(err, r, "expected a mapping of attributes, got %s",
		                         otf_config_kind_name(r));
	if (otf_config_len(r) > OTF_TELEMETRY_MAX_RESOURCE)
		return otf_config_errorf(err, r, "at most %d attributes",
		                         OTF_TELEMETRY_MAX_RESOURCE);
	for (size_t i = 0; i < otf_config_len(r); i++) {
		const otf_config_node_t *v;
		const char *k = otf_config_map_at(r, i, &v);
		if (strlen(k) >= sizeof t->resource_keys[0])
			return otf_config_errorf(err, v, "attribute name longer than %zu bytes",
			                         sizeof t->resource_keys[0] - 1);
		snprintf(t->resource_keys[i], sizeof t->resource_keys[0], "%s", k);
		t->resource_null[i] = otf_config_node_kind(v) == OTF_CONFIG_NULL;
		if (!t->resource_null[i]) {
			int rc = read_str(v, t->resource_values[i], sizeof t->resource_values[0],
			                  "a string", err);
			if (rc)
				return rc;
		}
		t->resource_len++;
	}
	return 0;
}

int otf__read_telemetry(const otf_config_node_t *root, otf_service_settings_t *s,
                        otf_config_error_t *err)
{
	otf_telemetry_settings_t *t = &s->telemetry;
	memset(t, 0, sizeof *t);
	t->level = OTF_METRICS_LEVEL_NORMAL;
	t->readers_len = 1;
	t->readers[0].kind = OTF_READER_PULL_PROMETHEUS;
	snprintf(t->readers[0].host, sizeof t->readers[0].host, "localhost");
	t->readers[0].port = 8888;
	s->log_level = OTF_LOG_INFO;
	const otf_config_node_t *tel = otf_config_get(root, "service.telemetry");
	static const char *const top[] = {"logs", "metrics", "resource", NULL};
	static const char *const top_ignored[] = {"traces", NULL};
	int rc = check_keys(tel, top, top_ignored, "otflow does not trace itself", err);
	if (rc)
		return rc;
	const otf_config_node_t *logs = otf_config_map_get(tel, "logs");
	static const char *const logs_keys[] = {"level", NULL};
	static const char *const logs_ignored[] = {"development",    "encoding",
	                                           "disable_caller", "disable_stacktrace",
	                                           "sampling",       "output_paths",
	                                           "initial_fields", "error_output_paths",
	                                           "processors",     NULL};
	rc = check_keys(logs, logs_keys, logs_ignored,
	                "otflow logs plain text lines to stderr, unsampled", err);
	if (rc)
		return rc;
	const otf_config_node_t *lvl = otf_config_map_get(logs, "level");
	if (lvl) {
		const char *v = otf_config_scalar(lvl, NULL);
		static const char *const names[] = {"debug", "info", "warn", "error"};
		int found = -1;
		for (int i = 0; v && i < 4; i++)
			if (!strcasecmp(v, names[i]))
				found = i;
		if (found < 0)
			return otf_config_errorf(err, lvl, "expected debug, info, warn or error");
		s->log_level = (otf_log_level_t)found;
	}
	const otf_config_node_t *m = otf_config_map_get(tel, "metrics");
	if (m && (rc = read_metrics(m, t, err)))
		return rc;
	const otf_config_node_t *res = otf_config_map_get(tel, "resource");
	if (res && (rc = read_resource(res, t, err)))
		return rc;
	return 0;
}
