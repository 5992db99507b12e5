/* The run-time core shared by processors `attributes` and `resource`:
 * the byte editor when every action allows it (otflow/pdata_edit.h),
 * otherwise decode, apply the actions to the tree, encode; then the relay
 * that sends the rewritten payload in a message of the node's own and
 * answers the consumed message with its outcome (so wait_for_result,
 * batch and retry upstream see what happened downstream). */
#ifndef OTF_ATTRPROC_H
#define OTF_ATTRPROC_H

#include "attraction.h"
#include "match.h"

#include "otflow/component.h"
#include "otflow/pdata_edit.h"

typedef struct attrproc_pending attrproc_pending_t;

typedef struct attrproc {
	otf_node_t *node;
	const otf_attr_actions_t *actions;
	const otf_attr_match_t *include, *exclude; /* never NULL (an unset match) */
	bool resource;                             /* act on resource attributes */
	bool in_place;                             /* the byte editor can do it all */
	otf_pdata_edit_t edit;
	attrproc_pending_t *list; /* messages waiting for their copy's outcome */
	uint64_t in_place_msgs, tree_msgs;
} attrproc_t;

/* Fills p (caller-owned, zeroed) for one node. 0 or a negative code. */
int otf__attrproc_init(attrproc_t *p, otf_node_t *node, const otf_attr_actions_t *acts,
                       const otf_attr_match_t *inc, const otf_attr_match_t *exc, bool resource);
void otf__attrproc_consume(attrproc_t *p, otf_msg_t *m);
void otf__attrproc_control(attrproc_t *p, const otf_ctrl_t *c);
void otf__attrproc_close(attrproc_t *p);

/* The tree path on a decoded request, without a node: for tests and the
 * byte editor's property checks. ctx may be NULL. 0 or OTF_E_NOMEM. */
int otf__attrproc_apply_tree(const attrproc_t *p, otf_signal_t s, void *tree, otf_arena_t *arena,
                             otf_attr_ctx_fn ctx, const void *ctx_user);

#endif
