/* receiver `otlp`, protocol grpc: the three OTLP Export services over the
 * gRPC server (otflow/grpc_server.h). Used by otlp_receiver.c, which owns
 * the node and dispatches ACK/NACK: those whose calldata has
 * OTLP_GRPC_CALLDATA_TAG set belong to a gRPC call. */
#ifndef OTF_OTLP_GRPC_H
#define OTF_OTLP_GRPC_H

#include "otlp_receiver_config.h"

#include "otflow/component.h"

#define OTLP_GRPC_CALLDATA_TAG 1u
/* With OTLP_GRPC_CALLDATA_TAG: the outcome of a request handed over from
 * another worker (otlp_grpc.c, "hand-off"). */
#define OTLP_GRPC_HAND_TAG 2u

typedef struct otlp_grpc_rx otlp_grpc_rx_t;

/* Listens on cfg->protocols.grpc.endpoint on the node's loop. closed(arg)
 * runs once the server has closed (after otf__otlp_grpc_close or
 * otf__otlp_grpc_destroy, never inside either). The state stays valid for
 * late outcomes until otf__otlp_grpc_destroy. */
int otf__otlp_grpc_start(otf_node_t *node, const otlp_config_t *cfg, void (*closed)(void *),
                         void *arg, otlp_grpc_rx_t **out);

/* An ACK/NACK for a call waiting with wait_for_result. */
void otf__otlp_grpc_outcome(otlp_grpc_rx_t *g, const otf_ctrl_t *c);

/* KIL: stop accepting; calls already with the pipeline are answered as
 * their outcome arrives, then the server closes. */
void otf__otlp_grpc_close(otlp_grpc_rx_t *g);

/* Shutdown deadline: calls still waiting are answered UNAVAILABLE (the
 * client retries elsewhere); frees g now or, if the server is still open,
 * once it closed (closed(arg) still runs then). */
void otf__otlp_grpc_destroy(otlp_grpc_rx_t *g);

/* otlp_receiver.c: the gRPC state of a receiver instance (NULL when it
 * has none or it was destroyed), for requests handed between workers. */
otlp_grpc_rx_t *otf__otlp_receiver_grpc(void *instance);
/* REB: the budget is back, connections held for it read again. */
void otf__otlp_grpc_resume(otlp_grpc_rx_t *g);

#endif
