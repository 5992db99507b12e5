/* processor `resourcedetection` internals shared with its unit test: the
 * config struct, the env and system detectors and the merge into a
 * request's resources (detect.c). Source of behaviour: the
 * resourcedetectionprocessor README of opentelemetry-collector-contrib and
 * its env and system detectors. */
#ifndef OTF_RESOURCEDETECTION_H
#define OTF_RESOURCEDETECTION_H

#include "otflow/arena.h"
#include "otflow/config.h"
#include "otflow/config_schema.h"
#include "otflow/pdata.h"
#include "otflow/pdata_edit.h"

#include <stdbool.h>
#include <stdint.h>

/* Detectors, in the order written (the first to set an attribute wins). */
enum { OTF_RD_ENV = 1, OTF_RD_SYSTEM = 2, OTF_RD_UNIMPLEMENTED = 3 };
#define OTF_RD_MAX_DETECTORS 16

typedef struct otf_rd_detectors {
	int kind[OTF_RD_MAX_DETECTORS];
	char name[OTF_RD_MAX_DETECTORS][32];
	size_t n;
} otf_rd_detectors_t;

/* system.resource_attributes: which attributes the system detector sets;
 * each 0 (not configured: the default, on for host.name and os.type), 1
 * enabled, -1 disabled. */
typedef struct otf_rd_system_attrs {
	int8_t host_name, os_type, host_id, host_arch;
} otf_rd_system_attrs_t;

static inline bool otf__rd_on(int8_t v, bool def)
{
	return v ? v > 0 : def;
}

typedef struct otf_rd_config {
	otf_rd_detectors_t detectors;
	bool override;
	int64_t timeout_ns;
	int64_t refresh_interval_ns;
	bool fail_on_missing_metadata;
	struct {
		otf_config_strlist_t hostname_sources; /* dns, os, cname, lookup */
		otf_rd_system_attrs_t attrs;
	} system;
} otf_rd_config_t;

/* The factory's schema (resourcedetection_config.c). */
extern const otf_config_field_t otf__rd_schema[];

/* OTF_CFG_CUSTOM parsers: `detectors` (known Collector detectors that
 * otflow does not implement are accepted and warned about at start;
 * unknown names are refused) and `system.resource_attributes` (a mapping
 * attribute -> {enabled: bool}; enabling one otflow cannot detect is
 * refused). */
int otf__rd_parse_detectors(const otf_config_node_t *v, void *slot, otf_config_error_t *err);
int otf__rd_parse_system_attrs(const otf_config_node_t *v, void *slot, otf_config_error_t *err);
/* hostname_sources values. */
int otf__rd_validate(const void *config, char *err, size_t errlen);

/* The env detector: OTEL_RESOURCE_ATTRIBUTES text ("k=v,k2=v2", values
 * percent-decoded as Go's url.QueryUnescape) appended to out (strings in
 * arena). 0, or OTF_E_INVAL with why naming the bad pair. */
int otf__rd_parse_env(const char *text, otf_arena_t *arena, otf_attributes_t *out, char *why,
                      size_t whylen);
/* The system detector: host.name (first of hostname_sources that
 * answers), os.type, host.id (machine-id), host.arch as enabled; appended
 * to out where not already set. 0 or a negative code with why. */
int otf__rd_detect_system(const otf_rd_config_t *c, otf_arena_t *arena, otf_attributes_t *out,
                          char *why, size_t whylen);
/* Every detector of c in order into out (first wins). */
int otf__rd_detect(const otf_rd_config_t *c, otf_arena_t *arena, otf_attributes_t *out, char *why,
                   size_t whylen);
/* Merges detected into res: with override detected values replace
 * existing ones, otherwise only missing keys are added. Returns 1 when res
 * changed, 0 when not, OTF_E_NOMEM. New arrays in arena. */
int otf__rd_merge(otf_attributes_t *res, const otf_attributes_t *detected, bool override,
                  otf_arena_t *arena);

/* The same merge as in-place edits of the request bytes (otflow/
 * pdata_edit.h): one INSERT (override false) or UPSERT (true) per
 * detected attribute on the resources. 0, or OTF_E_INVAL when the editor
 * cannot take it (more than OTF_PDATA_EDIT_MAX_OPS attributes); then the
 * caller merges into the decoded tree. detected must outlive e. */
int otf__rd_edit_prepare(otf_pdata_edit_t *e, const otf_attributes_t *detected, bool override);

#endif
