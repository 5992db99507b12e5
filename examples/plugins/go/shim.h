/* Declarations shared by shim.c and exporter.go (cgo preamble). */
#ifndef GOFILES_SHIM_H
#define GOFILES_SHIM_H
#include "otflow/plugin.h"

void gofiles_ack_async(otf_msg_t *m);
void gofiles_nack_async(otf_msg_t *m, const char *reason);
void gofiles_shutdown_done(otf_node_t *node);
void gofiles_log(otf_node_t *node, const char *line);
#endif
