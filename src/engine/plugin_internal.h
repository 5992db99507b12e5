/* Between plugin.c (loading, the host table) and plugin_guard.c (the
 * wrapper around every plugin node). */
#ifndef OTF_PLUGIN_INTERNAL_H
#define OTF_PLUGIN_INTERNAL_H

#include "otflow/component.h"

/* The plugin's own factory behind the host copy hf that was registered. */
const otf_component_factory_t *otf__plugin_original(const otf_component_factory_t *hf);
/* Points hf's callbacks at the guard's trampolines. */
void otf__plugin_guard_factory(otf_component_factory_t *hf);

void otf__plugin_msg_ack(otf_msg_t *m);
void otf__plugin_msg_nack(otf_msg_t *m, int error, bool permanent, const char *reason);
void otf__plugin_msg_nack_throttled(otf_msg_t *m, int error, uint64_t retry_after_ns,
                                    const char *reason);
void otf__plugin_msg_drop(otf_msg_t *m);
int otf__plugin_node_send(otf_node_t *node, otf_msg_t *m);
int otf__plugin_node_send_port(otf_node_t *node, int port, otf_msg_t *m);

#endif
