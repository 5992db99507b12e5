/* The persistent half of the sending queue (exporterhelper.h): with
 * `sending_queue.storage`, every request the in-memory FIFO holds also has
 * a record in a write-ahead log of the storage extension (otflow/storage.h),
 * one log per signal, named as the Collector names its storage clients.
 * The FIFO, the budget and the consumers are the same as without storage:
 * this file only adds "put before queueing, settle when done, replay at
 * create".
 *
 * Record payload: u8 version (1), u8 signal, u64 items (little endian),
 * then the request's protobuf bytes. */
#include "exporterhelper.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/extension.h"

#include <stdio.h>
#include <string.h>

#define REC_VERSION 1
#define REC_HDR     10

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
	if (len < REC_HDR || data[0] != REC_VERSION || data[1] != (uint8_t)r->sig) {
		r->bad++;
		r->cb(r->ctx, r->sig, id, 0, NULL); /* settled at once */
		return;
	}
	uint64_t items = 0;
	for (int k = 0; k < 8; k++)
		items |= (uint64_t)data[2 + k] << (8 * k);
	otf_buf_t *b = otf_buf_create_copy(data + REC_HDR, len - REC_HDR);
	r->cb(r->ctx, r->sig, id, items, b);
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
                        const otf_buf_t *payload, uint64_t *id, uint64_t *token, char *why,
                        size_t cap)
{
	int rc = open_signal(s, node, sig, why, cap);
	if (rc)
		return rc;
	uint8_t hdr[REC_HDR] = {REC_VERSION, (uint8_t)sig};
	for (int k = 0; k < 8; k++)
		hdr[2 + k] = (uint8_t)(items >> (8 * k));
	otf_wal_part_t parts[2] = {{hdr, sizeof hdr}, {payload->data, payload->len}};
	uint64_t tok = 0;
	rc = otf_wal_append(s->wal[sig], parts, 2, id, &tok);
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
