/* The persistent half of the sending queue (exporterhelper.h): with
 * `sending_queue.storage`, every request the in-memory FIFO holds also has
 * a record in a write-ahead log of the storage extension (otflow/storage.h),
 * one log per signal, named as the Collector names its storage clients.
 * The FIFO, the budget and the consumers are the same as without storage:
 * this file only adds "put before queueing, settle when done, replay at
 * create".
 *
 * Record payload: a queued request record (otflow/storage.h,
 * otf_qrec_*): version 2 with the message's headers (the client metadata
 * headers_setter and authenticators read), then the request's protobuf
 * bytes; version 1 records (no metadata) of an older otflow are replayed
 * without metadata. */
#include "exporterhelper.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/extension.h"
#include "otflow/storage.h"

#include <stdio.h>
#include <string.h>

#define HEAD_STACK 512 /* heads of up to this many bytes are built on the stack */

int otf__exph_store_init(otf_exph_store_t *s, otf_node_t *node, const char *storage)
{
	memset(s, 0, sizeof *s);
	s->vt = otf_node_extension(node, storage, OTF_EXT_STORAGE, &s->inst);
	if (!s->vt)
		return OTF_E_NOT_FOUND;
	/* "exporter:otlp/backend" -> "exporter_otlp_backend_" ("otlp" ->
	 * "exporter_otlp__"), the Collector's client name before the signal;
	 * characters unsafe in a file name become '_'. */
	const char *full = otf_node_name(node);
	const char *id = strchr(full, ':');
	id = id ? id + 1 : full;
	const char *slash = strchr(id, '/');
	size_t tlen = slash ? (size_t)(slash - id) : strlen(id);
	snprintf(s->base, sizeof s->base, "exporter_%.*s_%s_", (int)tlen, id,
	         slash ? slash + 1 : "");
	for (char *p = s->base; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_'))
			*p = '_';
	return 0;
}

static int open_signal(otf_exph_store_t *s, otf_node_t *node, otf_signal_t sig, char *why,
                       size_t cap)
{
	if (s->wal[sig])
		return 0;
	if (s->failed[sig]) {
		snprintf(why, cap, "sending queue storage unavailable: %s", s->why[sig]);
		return s->failed[sig];
	}
	char name[200], err[512] = "";
	snprintf(name, sizeof name, "%s%s", s->base, otf_signal_name(sig));
	int rc = s->vt->queue_open(s->inst, name, &s->wal[sig], err, sizeof err);
	if (rc) {
		/* Logged once; each request for this signal is then refused
		 * (retryable) with the reason. */
		s->failed[sig] = rc;
		s->wal[sig] = NULL;
		snprintf(s->why[sig], sizeof s->why[sig], "%s", err[0] ? err : otf_strerror(rc));
		otf_node_log(node, OTF_LOG_ERROR, "sending queue storage for %s: %s", name, err);
		snprintf(why, cap, "sending queue storage unavailable: %s", err);
	}
	return rc;
}

typedef struct replay_ctx {
	otf_exph_replay_cb cb;
	void *ctx;
	otf_signal_t sig;
	uint64_t n, bad;
} replay_ctx_t;

static void on_recovered(void *ctx, uint64_t id, const uint8_t *data, size_t len)
{
	replay_ctx_t *r = ctx;
	otf_qrec_t q;
	if (otf_qrec_parse(data, len, &q) || q.signal != (uint8_t)r->sig) {
		r->bad++;
		r->cb(r->ctx, r->sig, id, 0, NULL, NULL); /* settled at once */
		return;
	}
	otf_buf_t *b = otf_buf_create_copy(q.body, q.body_len);
	otf_buf_t *meta = NULL;
	if (b && q.nmeta && !(meta = otf_buf_create_copy(data, (size_t)(q.body - data)))) {
		otf_buf_unref(b);
		b = NULL;
	}
	r->cb(r->ctx, r->sig, id, q.items, b, meta);
	r->n++;
}

void otf__exph_store_replay(otf_exph_store_t *s, otf_node_t *node, otf_exph_replay_cb cb, void *ctx)
{
	for (int sig = 0; sig < OTF_SIGNAL_COUNT; sig++) {
		char name[200], why[256];
		snprintf(name, sizeof name, "%s%s", s->base, otf_signal_name((otf_signal_t)sig));
		if (!s->vt->queue_exists(s->inst, name) ||
		    open_signal(s, node, (otf_signal_t)sig, why, sizeof why))
			continue;
		replay_ctx_t r = {cb, ctx, (otf_signal_t)sig, 0, 0};
		otf_wal_take_recovered(s->wal[sig], on_recovered, &r);
		if (r.n || r.bad)
			otf_node_log(node, OTF_LOG_INFO,
			             "sending queue %s: %llu requests from the previous run queued "
			             "again%s",
			             name, (unsigned long long)r.n,
			             r.bad ? " (records of an unknown shape dropped)" : "");
	}
}

int otf__exph_store_put(otf_exph_store_t *s, otf_node_t *node, otf_signal_t sig, uint64_t items,
                        const otf_buf_t *payload, const otf_msg_t *m, uint64_t *id, uint64_t *token,
                        char *why, size_t cap)
{
	int rc = open_signal(s, node, sig, why, cap);
	if (rc)
		return rc;
	/* The envelope's headers, as arrays for the record's head. */
	size_t n = m ? otf_msg_header_count(m) : 0;
	const char *kstack[16], *vstack[16];
	const char **keys = kstack, **values = vstack;
	if (n > 16) {
		keys = otf_malloc(n * sizeof *keys);
		values = otf_malloc(n * sizeof *values);
		if (!keys || !values) {
			otf_free(keys == kstack ? NULL : keys);
			otf_free(values == vstack ? NULL : values);
			snprintf(why, cap, "sending queue storage: out of memory");
			return OTF_E_NOMEM;
		}
	}
	for (size_t i = 0; i < n; i++)
		otf_msg_header_at(m, i, &keys[i], &values[i]);
	uint8_t hstack[HEAD_STACK], *head = hstack;
	size_t hlen = otf_qrec_head_size(keys, values, n), kept = 0;
	if (hlen > sizeof hstack && !(head = otf_malloc(hlen)))
		rc = OTF_E_NOMEM;
	else
		otf_qrec_encode_head(head, hlen, (uint8_t)sig, items, keys, values, n, &kept);
	if (keys != kstack) {
		otf_free(keys);
		otf_free(values);
	}
	if (rc) {
		snprintf(why, cap, "sending queue storage: out of memory");
		return rc;
	}
	if (kept < n && !s->warned_meta) {
		s->warned_meta = true;
		otf_node_log(node, OTF_LOG_WARN,
		             "sending queue storage: %zu of %zu client metadata entries not stored "
		             "(over %u bytes per request); a replayed request goes without them",
		             n - kept, n, OTF_QREC_MAX_META);
	}
	otf_wal_part_t parts[2] = {{head, hlen}, {payload->data, payload->len}};
	uint64_t tok = 0;
	rc = otf_wal_append(s->wal[sig], parts, 2, id, &tok);
	if (head != hstack)
		otf_free(head);
	if (rc == OTF_E_NOSPACE)
		snprintf(why, cap, "sending queue storage is full (file_storage max_bytes)");
	else if (rc)
		snprintf(why, cap, "sending queue storage: write failed: %s", otf_strerror(rc));
	else if (tok > s->token[sig])
		s->token[sig] = tok;
	if (!rc)
		*token = tok;
	return rc;
}

void otf__exph_store_sync(otf_exph_store_t *s, bool wait)
{
	for (int sig = 0; sig < OTF_SIGNAL_COUNT; sig++) {
		if (!s->wal[sig])
			continue;
		/* Waiting covers the syncs already handed to the thread too. */
		if (wait)
			(void)otf_wal_sync(s->wal[sig], UINT64_MAX);
		else if (s->token[sig])
			otf_wal_sync_request(s->wal[sig], s->token[sig]);
		s->token[sig] = 0;
	}
}

bool otf__exph_store_synced(otf_exph_store_t *s, otf_signal_t sig, uint64_t token, int *rc)
{
	*rc = 0;
	return !s->wal[sig] || otf_wal_sync_poll(s->wal[sig], token, rc);
}

int otf__exph_store_open(otf_exph_store_t *s, otf_node_t *node, otf_signal_t sig)
{
	char why[256];
	return open_signal(s, node, sig, why, sizeof why);
}

void otf__exph_store_settle(otf_exph_store_t *s, otf_signal_t sig, uint64_t id)
{
	if (s->wal[sig])
		(void)otf_wal_ack(s->wal[sig], id);
}

void otf__exph_store_close(otf_exph_store_t *s)
{
	for (int sig = 0; sig < OTF_SIGNAL_COUNT; sig++) {
		if (s->wal[sig])
			s->vt->queue_release(s->inst, s->wal[sig]);
		s->wal[sig] = NULL;
	}
}
