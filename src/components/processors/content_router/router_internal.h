/* Internal to the routing core (router.h): the router's state, shared by
 * its files: router.c (lifecycle, wiring, passing a message on),
 * router_fast.c (the fast path on encoded resources), router_eval.c (the
 * general path: decoded heads, the tree evaluator, the decision cache),
 * router_split.c (slicing a request per route, joining the outcomes). */
#ifndef OTF_CONTENT_ROUTER_ROUTER_INTERNAL_H
#define OTF_CONTENT_ROUTER_ROUTER_INTERNAL_H

#include "router.h"

#include "otflow/arena.h"
#include "otflow/pdata_view.h"

/* One routed unit: a whole Resource* group (its raw field in the request),
 * or, in the scope context, a group whose scopes go to several routes
 * (route MIXED: scope_routes[] holds each scope's route). */
#define ROUTE_DEFAULT (-1)
#define ROUTE_MIXED   (-2)

typedef struct unit {
	otf_bytes_t raw;     /* the resource_* field, tag to end */
	otf_bytes_t content; /* the Resource* message */
	int route;
	int *scope_routes; /* MIXED: per Scope* group, in order */
	size_t nscopes;
} unit_t;

typedef struct join {
	otf_msg_t *orig;
	uint32_t pending;
	uint32_t failures, permanent_failures;
	int error;
	char reason[160];
	uint64_t retry_after_ns; /* the longest throttle delay of a failed part */
	struct join *prev, *next;
} join_t;

/* The last resource's decision, reused while the next resource has the
 * same bytes and the headers its conditions read have the same values:
 * conditions are functions of those alone (no Now(): see cacheable), and
 * one client usually sends one resource over and over. */
#define CACHE_HEAD_MAX 1024
#define CACHE_URL_MAX  256
#define CACHE_KEYS     4

typedef struct decision_cache {
	bool valid, recording, overflow;
	int route;
	size_t head_len, url_len, nkeys;
	uint8_t head[CACHE_HEAD_MAX];
	uint8_t url[CACHE_URL_MAX];
	char key[CACHE_KEYS][64];
	char val[CACHE_KEYS][128];
	bool present[CACHE_KEYS];
} decision_cache_t;

/* The fast path's decision cache (router_fast.c): the last resource's
 * route, reused while the next resource has the same bytes and the
 * request the same values of the set's headers (a fast set reads nothing
 * else, so the route is the same). Same bytes: the leading bytes the
 * set's answer depended on (otf_ottl_fast_set_eval_used: its walk stops
 * once every key is found), or the whole resource when it read all. After FAST_CACHE_MISSES misses in a
 * row (many resources interleaved: each miss pays a copy) it is off for
 * FAST_CACHE_REST resources, then tried again. */
#define FAST_CACHE_MISSES 8
#define FAST_CACHE_REST   1024
#define FAST_CACHE_HDR    128 /* a header value longer than this: not kept */

typedef struct fast_cache {
	bool valid;
	int route;
	uint32_t misses, rest;
	bool whole; /* head is the whole resource, else its first head_len bytes */
	size_t head_len;
	uint8_t head[CACHE_HEAD_MAX];
	/* the set's header values the route was decided with (set slots) */
	bool hdr_present[CACHE_KEYS];
	char hdr_val[CACHE_KEYS][FAST_CACHE_HDR];
	/* The request it was decided in, when that was one Resource* group of
	 * a head and one Scope* group, the group ending the request (the usual
	 * request of one client): its length and its bytes up to the Scope*
	 * group's length. A request equal in both has that shape and that
	 * head, so it takes the route without being walked. */
	bool layout;
	size_t req_len, req_prefix;
	uint8_t req[CACHE_HEAD_MAX + 32];
} fast_cache_t;

struct otf__cr {
	otf_node_t *node;
	bool cacheable;       /* resource context, no condition reads the clock */
	const otf_msg_t *msg; /* the message being routed (header lookups) */
	decision_cache_t cache;
	otf_ottl_program_t *prog;
	/* Fast path: every route compiled to byte compares (otf_ottl_fast_t),
	 * joined in one set (one attribute walk per resource for all routes),
	 * its request[] values looked up once per request (hdr). */
	bool all_fast;
	otf_ottl_fast_t *fast[OTF_CR_MAX_ROUTES];
	otf_ottl_fast_set_t *set;
	const char *hdr[OTF_OTTL_FAST_SET_MAX_HEADERS];
	size_t nhdr; /* the set's header count */
	fast_cache_t fcache;
	/* Output port per signal and route + 1 (0: default), found on first
	 * use: a node's ports are wired once, before its first message.
	 * PORT_UNKNOWN until then; -1: neither the route nor default wired. */
	int8_t port[OTF_SIGNAL_COUNT][OTF_CR_MAX_ROUTES + 1];
	const char *const *names;
	size_t n;
	int ctx;
	int error_mode;
	otf_arena_t arena; /* per request: decoded heads, units */
	join_t *joins;     /* waiting for their splits' answers */
	uint64_t eval_errors, eval_errors_logged;
	_Atomic uint64_t *drops; /* non-NULL: unmatched data is dropped */
};

#define PORT_UNKNOWN (-2)

/* Output port of route (-1: default) for signal s: its own, or default
 * when the route has nothing wired for s; -1 when neither has. */
int otf__cr_port_of(otf__cr_t *r, int route, otf_signal_t s);
/* m nacked for the send that failed with rc (retryable). */
void otf__cr_nack_send(otf_msg_t *m, int rc);
/* Unmatched data of signal s dropped (otf__cr_drop_unmatched). */
void otf__cr_drop(otf__cr_t *r, otf_signal_t s, uint64_t items);
/* The general path (router_eval.c): routes m whatever its conditions and
 * bytes, and reports what it cannot route. */
void otf__cr_general_consume(otf__cr_t *r, otf_msg_t *m);
/* Sends one message per route that received units (router_split.c); the
 * original waits for their outcomes. */
void otf__cr_split(otf__cr_t *r, otf_msg_t *m, const unit_t *units, size_t nunits);

#endif
