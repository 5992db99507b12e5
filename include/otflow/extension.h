/* Extensions: the Collector's components outside the pipelines
 * (authenticators, storage), and the interfaces pipeline components use to
 * reach them.
 *
 * Source of behaviour: the Collector's extension model
 * (opentelemetry-collector extension/README.md, extension/auth,
 * extension/xextension/storage): an extension is defined under
 * `extensions:`, enabled by listing it in `service.extensions`, and
 * referenced by id from a component's config (`auth: {authenticator:
 * bearertokenauth}`, `sending_queue: {storage: file_storage/q}`).
 *
 * A factory of kind OTF_KIND_EXTENSION (otflow/component.h) supplies
 * config_schema/config_size/validate like any component, plus ext_create,
 * ext_start, ext_destroy and ext_ifaces. The service front-end
 * (otflow/service.h) creates one instance per enabled id into the DAG;
 * extensions defined but not enabled have their config checked and are not
 * created. A component config field that names an extension is marked with
 * otf_config_field_t.ext_ref, so that a reference to an unknown or
 * disabled extension, or to one without the needed interface, is a config
 * error naming file:line:key before anything starts.
 *
 * Lifetime and thread rules: instances live as long as the DAG
 * (otf_dag_destroy destroys them, after the engine joined). ext_start runs
 * once, on the thread calling otf_engine_start, before any worker creates
 * its nodes. Interface calls come from every worker thread at once: an
 * extension's vtable functions must be thread-safe (read-only state, or
 * its own locks/atomics).
 */
#ifndef OTFLOW_EXTENSION_H
#define OTFLOW_EXTENSION_H

#include "otflow/component.h"
#include "otflow/engine.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What ext_create receives. */
typedef struct otf_ext_create_ctx {
	const char *id;     /* "bearertokenauth/client": the id in service.extensions */
	const void *config; /* the parsed config struct (config_schema), borrowed */
	const char *origin; /* "file:line" of the extension's definition, for messages */
	char *err;          /* on failure: a message (no origin prefix needed) */
	size_t errlen;
} otf_ext_create_ctx_t;

/* The instance and interface vtable of the extension `id` of dag, when it
 * is enabled and provides iface; NULL otherwise (then *instance is NULL). */
const void *otf_dag_extension(const otf_dag_t *dag, const char *id, otf_ext_iface_t iface,
                              void **instance);

/* The same, from a node's create or start (the node's DAG). Returns the
 * vtable, NULL when absent (never the case for an id checked through
 * otf_config_field_t.ext_ref). */
const void *otf_node_extension(otf_node_t *node, const char *id, otf_ext_iface_t iface,
                               void **instance);

/* Creates the extension `id` of type `type` from its config cfg (NULL =
 * defaults) into dag. Errors: OTF_E_NOT_FOUND unknown type, OTF_E_CONFIG
 * bad config or a failing ext_create, -EEXIST the id twice; err receives a
 * message starting with origin. Front-ends call this; tests may too. */
int otf_dag_add_extension(otf_dag_t *dag, const char *id, const char *type,
                          const struct otf_config_node *cfg, const char *origin, char *err,
                          size_t errlen);

/* True when type is a registered extension type (or one of its aliases). */
bool otf_extension_type_known(const char *type);

#ifdef __cplusplus
}
#endif
#endif
