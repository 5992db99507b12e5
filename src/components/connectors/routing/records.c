/* Record routing of the routing connector on its node (records.h): the
 * split of otf__rr_split_run sent and joined by the content_router's
 * sender, failing conditions under ignore logged. */
#include "records.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <stdio.h>
#include <string.h>

struct otf__rr {
	otf__rr_split_t *x;
	otf__cr_t *cr;
	otf_node_t *node;
	size_t n; /* entries */
	int error_mode;
	const otf_msg_t *msg; /* the message being routed (header lookups) */
	uint64_t eval_errors_logged;
};

void otf__rr_destroy(otf__rr_t *r)
{
	if (!r)
		return;
	otf__cr_destroy(r->cr);
	otf__rr_split_destroy(r->x);
	otf_free(r);
}

int otf__rr_create(otf__rr_t **out, otf_node_t *node, const char *const *conds, const int *ctxs,
                   const char *const *names, size_t n, int error_mode, char *err, size_t errlen)
{
	*out = NULL;
	otf__rr_split_t *x;
	int rc = otf__rr_split_create(&x, conds, ctxs, names, n, error_mode, err, errlen);
	if (rc || !node) {
		otf__rr_split_destroy(rc ? NULL : x);
		return rc;
	}
	otf__rr_t *r = otf_calloc(1, sizeof *r);
	if (!r) {
		otf__rr_split_destroy(x);
		return OTF_E_NOMEM;
	}
	r->x = x;
	r->node = node;
	r->n = n;
	r->error_mode = error_mode;
	/* routes decided here: the router only sends, joins and drops */
	rc = otf__cr_create(&r->cr, node, NULL, names, n, OTF_CR_CTX_RESOURCE, error_mode, err,
	                    errlen);
	if (rc) {
		otf__rr_destroy(r);
		return rc;
	}
	*out = r;
	return 0;
}

void otf__rr_drop_unmatched(otf__rr_t *r, _Atomic uint64_t *drops)
{
	otf__cr_drop_unmatched(r->cr, drops);
}

void otf__rr_control(otf__rr_t *r, const otf_ctrl_t *c)
{
	otf__cr_control(r->cr, c);
}

/* Parts of entries with nothing wired for signal s go to default, as the
 * router's sender would send them (otf__cr_send_parts): joined into
 * default's part first, so default gets one request, as the Collector
 * groups what goes to one consumer. NULL out of memory (parts untouched). */
static bool merge_unwired(otf__rr_t *r, otf_signal_t s, otf_buf_t **parts, size_t n)
{
	if (!otf_node_port_has_output(r->node, 0, s))
		return true; /* nothing to join into: the sender nacks or drops */
	size_t len = 0, moved = 0;
	for (size_t i = 0; i <= n; i++) {
		bool into = parts[i] && (!i || !otf_node_port_has_output(r->node, (int)i, s));
		len += into ? parts[i]->len : 0;
		moved += into && i;
	}
	if (!moved)
		return true;
	otf_buf_t *b = otf_buf_create(len);
	if (!b)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (!parts[i] || (i && otf_node_port_has_output(r->node, (int)i, s)))
			continue;
		memcpy(b->data + b->len, parts[i]->data,
		       parts[i]->len); /* *Data: field 1 repeats */
		b->len += parts[i]->len;
		otf_buf_unref(parts[i]);
		parts[i] = NULL;
	}
	parts[0] = b;
	return true;
}

static const char *header_of(const void *user, const char *key)
{
	return otf_msg_header_get(((const otf__rr_t *)user)->msg, key);
}

void otf__rr_consume(otf__rr_t *r, otf_msg_t *m)
{
	r->msg = m;
	char why[200];
	int single;
	otf_buf_t *parts[OTF_CR_MAX_ROUTES + 1];
	int rc = otf__rr_split_run(r->x, otf_msg_signal(m), otf_msg_payload(m), header_of, r,
	                           &single, parts, why, sizeof why);
	r->msg = NULL;
	const char *last;
	uint64_t errors = otf__rr_split_errors(r->x, &last);
	/* ignore: logged, then at doubling counts (1, 2, 4, ...) */
	if (r->error_mode == OTF_OTTL_ERROR_IGNORE && errors > r->eval_errors_logged) {
		otf_node_log(r->node, OTF_LOG_WARN, "%s (%llu failures so far)", last,
		             (unsigned long long)errors);
		r->eval_errors_logged = errors * 2;
	}
	if (rc < 0) {
		char msg[240];
		if (why[0])
			snprintf(msg, sizeof msg, "routing: %.200s", why);
		else
			snprintf(msg, sizeof msg, "routing: malformed request: %s",
			         otf_strerror(rc));
		otf_msg_nack(m, rc, rc != OTF_E_NOMEM, msg);
	} else if (single == OTF_RR_SPLIT) {
		if (!merge_unwired(r, otf_msg_signal(m), parts, r->n)) {
			for (size_t i = 0; i <= r->n; i++)
				otf_buf_unref(parts[i]);
			otf_msg_nack(m, OTF_E_NOMEM, false, "routing: out of memory");
			return;
		}
		otf__cr_send_parts(r->cr, m, parts);
	} else {
		otf__cr_pass_on(r->cr, m, single);
	}
}
