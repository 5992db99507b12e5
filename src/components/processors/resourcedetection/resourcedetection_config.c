/* Configuration of the resourcedetection processor (resourcedetection.h):
 * the schema, the detector list and the system detector's attribute
 * switches. */
#include "resourcedetection.h"

#include "otflow/err.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The Collector's detector names (config.go). */
static const char *const k_known[] = {"gcp",
                                      "ec2",
                                      "ecs",
                                      "elastic_beanstalk",
                                      "eks",
                                      "lambda",
                                      "azure",
                                      "aks",
                                      "azurecontainerapps",
                                      "heroku",
                                      "openshift",
                                      "dynatrace",
                                      "consul",
                                      "docker",
                                      "k8s_api",
                                      "k8snode",
                                      "kubeadm",
                                      "hetzner",
                                      "akamai",
                                      "scaleway",
                                      "vultr",
                                      "oraclecloud",
                                      "digitalocean",
                                      "nova",
                                      "upcloud",
                                      "alibaba_ecs",
                                      "tencent_cvm",
                                      "ibmcloud_vpc",
                                      "ibmcloud_classic",
                                      NULL};

int otf__rd_parse_detectors(const otf_config_node_t *v, void *slot, otf_config_error_t *err)
{
	otf_rd_detectors_t *d = slot;
	if (otf_config_node_kind(v) != OTF_CONFIG_SEQUENCE)
		return otf_config_errorf(err, v, "expected a list of detector names, got %s",
		                         otf_config_kind_name(v));
	for (size_t i = 0; i < otf_config_len(v); i++) {
		const otf_config_node_t *it = otf_config_seq_at(v, i);
		const char *s = otf_config_scalar(it, NULL);
		if (!s)
			return otf_config_errorf(err, it, "expected a detector name, got %s",
			                         otf_config_kind_name(it));
		int kind = !strcmp(s, "env")      ? OTF_RD_ENV
		           : !strcmp(s, "system") ? OTF_RD_SYSTEM
		                                  : 0;
		for (size_t k = 0; !kind && k_known[k]; k++)
			if (!strcmp(s, k_known[k]))
				kind = OTF_RD_UNIMPLEMENTED;
		if (!kind)
			return otf_config_errorf(
			    err, it,
			    "unknown detector \"%s\" (otflow detects with env and "
			    "system; the Collector's other detectors are accepted "
			    "and detect nothing)",
			    s);
		if (d->n == OTF_RD_MAX_DETECTORS)
			return otf_config_errorf(err, it, "at most %d detectors",
			                         OTF_RD_MAX_DETECTORS);
		d->kind[d->n] = kind;
		snprintf(d->name[d->n], sizeof d->name[0], "%s", s);
		d->n++;
	}
	return 0;
}

static void detectors_release(void *slot)
{
	memset(slot, 0, sizeof(otf_rd_detectors_t));
}

int otf__rd_parse_system_attrs(const otf_config_node_t *v, void *slot, otf_config_error_t *err)
{
	otf_rd_system_attrs_t *a = slot;
	/* The Collector's system detector attributes otflow does not detect:
	 * accepted while disabled. */
	static const char *const others[] = {"host.cpu.cache.l2.size",
	                                     "host.cpu.family",
	                                     "host.cpu.model.id",
	                                     "host.cpu.model.name",
	                                     "host.cpu.stepping",
	                                     "host.cpu.vendor.id",
	                                     "host.interface",
	                                     "host.ip",
	                                     "host.mac",
	                                     "os.description",
	                                     "os.version",
	                                     "os.build.id",
	                                     "os.name",
	                                     NULL};
	if (otf_config_node_kind(v) != OTF_CONFIG_MAPPING)
		return otf_config_errorf(err, v, "expected a mapping of attribute names, got %s",
		                         otf_config_kind_name(v));
	for (size_t i = 0; i < otf_config_len(v); i++) {
		const otf_config_node_t *val;
		const char *k = otf_config_map_at(v, i, &val);
		const otf_config_node_t *en = otf_config_map_get(val, "enabled");
		bool on = false;
		if (otf_config_node_kind(val) != OTF_CONFIG_MAPPING || !en ||
		    otf_config_len(val) != 1)
			return otf_config_errorf(err, val, "expected {enabled: true|false}");
		int rc = otf_config_read_bool(en, &on, err);
		if (rc)
			return rc;
		int8_t *slot_of = !strcmp(k, "host.name")   ? &a->host_name
		                  : !strcmp(k, "os.type")   ? &a->os_type
		                  : !strcmp(k, "host.id")   ? &a->host_id
		                  : !strcmp(k, "host.arch") ? &a->host_arch
		                                            : NULL;
		if (slot_of) {
			*slot_of = on ? 1 : -1;
			continue;
		}
		bool known = false;
		for (size_t o = 0; others[o] && !known; o++)
			known = !strcmp(k, others[o]);
		if (!known)
			return otf_config_errorf(err, val, "unknown system attribute \"%s\"", k);
		if (on)
			return otf_config_errorf(
			    err, en,
			    "%s is not detected by otflow (host.name, os.type, "
			    "host.id and host.arch are)",
			    k);
	}
	return 0;
}

static void attrs_release(void *slot)
{
	memset(slot, 0, sizeof(otf_rd_system_attrs_t));
}

static const otf_config_field_t k_system[] = {
    {.key = "hostname_sources",
     .type = OTF_CFG_STRING_LIST,
     .offset =
         offsetof(otf_rd_config_t, system.hostname_sources) - offsetof(otf_rd_config_t, system),
     .def = "dns,os",
     .desc = "Where host.name comes from, first that answers: dns (the FQDN: hosts file, "
             "then DNS), os (the kernel's hostname), cname, lookup (reverse lookup of the "
             "host's address)."},
    {.key = "resource_attributes",
     .type = OTF_CFG_CUSTOM,
     .offset = offsetof(otf_rd_config_t, system.attrs) - offsetof(otf_rd_config_t, system),
     .hint = "mapping: attribute -> {enabled}",
     .parse = otf__rd_parse_system_attrs,
     .release = attrs_release,
     .desc = "Which attributes the system detector sets: host.name and os.type are on, "
             "host.id (machine-id) and host.arch off by default."},
    OTF_CONFIG_FIELD_END,
};

const otf_config_field_t otf__rd_schema[] = {
    {.key = "detectors",
     .type = OTF_CFG_CUSTOM,
     .offset = offsetof(otf_rd_config_t, detectors),
     .hint = "list of detector names",
     .parse = otf__rd_parse_detectors,
     .release = detectors_release,
     .desc = "Detectors in order (the first to set an attribute wins): env "
             "(OTEL_RESOURCE_ATTRIBUTES), system. The Collector's other detectors are "
             "accepted with a warning at start and detect nothing."},
    {.key = "override",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(otf_rd_config_t, override),
     .def = "true",
     .desc = "Detected values replace the request's own resource attributes; false keeps "
             "the request's and only adds missing ones."},
    {.key = "timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(otf_rd_config_t, timeout_ns),
     .def = "5s",
     .ignored = "env and system detect locally, without a network call to time out"},
    {.key = "refresh_interval",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(otf_rd_config_t, refresh_interval_ns),
     .def = "0s",
     .ignored = "detection runs once at start"},
    {.key = "fail_on_missing_metadata",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(otf_rd_config_t, fail_on_missing_metadata),
     .def = "false",
     .ignored = "only network-based detectors have metadata to miss"},
    {.key = "system",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otf_rd_config_t, system),
     .sub = k_system,
     .desc = "Settings of the system detector."},
    OTF_CONFIG_FIELD_END,
};

int otf__rd_validate(const void *config, char *err, size_t errlen)
{
	const otf_rd_config_t *c = config;
	static const char *const ok[] = {"dns", "os", "cname", "lookup"};
	for (size_t i = 0; i < c->system.hostname_sources.n; i++) {
		const char *s = c->system.hostname_sources.items[i];
		bool good = false;
		for (size_t k = 0; k < 4 && !good; k++)
			good = !strcmp(s, ok[k]);
		if (!good) {
			snprintf(
			    err, errlen,
			    "system.hostname_sources: \"%s\" is not one of dns, os, cname, lookup",
			    s);
			return OTF_E_CONFIG;
		}
	}
	return 0;
}
