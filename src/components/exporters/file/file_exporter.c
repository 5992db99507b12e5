/* exporter `file`: writes each request to a file, as one OTLP/JSON object
 * per line (format json, the Collector's default) or as protobuf with a
 * 4-byte big-endian length prefix (format proto). The file is shared by
 * every worker through one process-wide sink per path (a mutex keeps each
 * record whole); buffered writes are flushed every flush_interval and at
 * shutdown; the file is rotated when it exceeds rotation.max_megabytes,
 * keeping rotation.max_backups old files.
 *
 * Durability: a request is acknowledged once it is in the process's buffer
 * (lost if the process dies before the next flush) unless `sync` is on,
 * which flushes and fsyncs every record before the acknowledgement.
 * `compression: zstd` writes every record as one zstd frame behind its
 * uint32 big-endian length (json and proto alike), as the Collector's
 * fileexporter does.
 *
 * Errors (ERR, otflow/component.h): a failed write (ENOSPC, the directory
 * removed, permissions: the request is nacked retryable), a failed
 * flush of buffered records (write_failed too: those records are lost)
 * and a failed rotation (rotation_failed: the record was written and is
 * acked; later writes open the file again) make the status a recoverable
 * error; a synchronous write or a flush that succeeds clears it. */
#include "file_sink.h"

#include "otflow/alloc.h"
#include "otflow/arena.h"
#include "otflow/component.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct file_rotation {
	int64_t max_megabytes;
	int64_t max_backups;
} file_rotation_t;

typedef struct file_config {
	char *path;
	int format; /* index into k_formats: 0 json, 1 proto */
	int64_t flush_interval_ns;
	bool append;
	bool sync;
	char *compression; /* "" or "zstd" */
	file_rotation_t rotation;
} file_config_t;

typedef struct file_exporter {
	otf_node_t *node;
	const char *path;
	bool sync;
	otf_file_sink_t *sink;
	bool json;
	otf_arena_t arena;
	int64_t timer;
} file_exporter_t;

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	const file_config_t *cfg = ctx->config;
	file_exporter_t *e = otf_calloc(1, sizeof *e);
	if (!e)
		return OTF_E_NOMEM;
	e->node = ctx->node;
	e->path = cfg->path;
	e->sync = cfg->sync;
	e->json = cfg->format == 0;
	otf_arena_init(&e->arena, 0);
	otf_file_sink_opts_t o = {
	    .append = cfg->append,
	    .max_bytes =
	        cfg->rotation.max_megabytes > 0 ? (uint64_t)cfg->rotation.max_megabytes << 20 : 0,
	    .max_backups = (int)cfg->rotation.max_backups,
	    .sync = cfg->sync,
	    .zstd = cfg->compression && !strcmp(cfg->compression, "zstd"),
	};
	int rc = otf_file_sink_open(cfg->path, &o, &e->sink);
	if (rc) {
		otf_node_log(e->node, OTF_LOG_ERROR, "cannot open %s: %s", cfg->path,
		             rc == OTF_E_CONFIG
		                 ? "another file exporter writes this path with other sync or "
		                   "compression settings"
		                 : otf_strerror(rc));
		otf_arena_close(&e->arena);
		otf_free(e);
		return rc;
	}
	uint64_t ms = (uint64_t)(cfg->flush_interval_ns / 1000000);
	if (ms) {
		e->timer = otf_node_timer_start(e->node, ms, ms, 1);
		if (e->timer < 0) {
			otf_file_sink_close(e->sink);
			otf_arena_close(&e->arena);
			otf_free(e);
			return (int)e->timer;
		}
	}
	*inst = e;
	return 0;
}

static int encode_json(file_exporter_t *e, otf_signal_t sig, const otf_buf_t *p, otf_buf_t **out,
                       otf_pdata_error_t *perr)
{
	int rc;
	if (sig == OTF_SIGNAL_TRACES) {
		otf_traces_t t;
		rc = otf_pdata_decode_traces(&t, p->data, p->len, &e->arena, NULL, perr);
		if (!rc)
			rc = otf_pdata_json_encode_traces(&t, out);
	} else if (sig == OTF_SIGNAL_METRICS) {
		otf_metrics_t m;
		rc = otf_pdata_decode_metrics(&m, p->data, p->len, &e->arena, NULL, perr);
		if (!rc)
			rc = otf_pdata_json_encode_metrics(&m, out);
	} else {
		otf_logs_t l;
		rc = otf_pdata_decode_logs(&l, p->data, p->len, &e->arena, NULL, perr);
		if (!rc)
			rc = otf_pdata_json_encode_logs(&l, out);
	}
	otf_arena_reset(&e->arena);
	return rc;
}

static void consume(void *inst, otf_msg_t *m)
{
	file_exporter_t *e = inst;
	otf_signal_t sig = otf_msg_signal(m);
	otf_buf_t *p = otf_msg_payload(m);
	int rc, rot = 0;
	if (e->json) {
		otf_buf_t *j = NULL;
		otf_pdata_error_t perr;
		memset(&perr, 0, sizeof perr);
		rc = encode_json(e, sig, p, &j, &perr);
		if (rc) {
			char buf[512];
			otf_node_log(e->node, OTF_LOG_ERROR, "cannot convert %s to JSON: %s",
			             otf_signal_name(sig),
			             otf_pdata_error_format(&perr, buf, sizeof buf));
			otf_node_count(e->node, OTF_COUNTER_SEND_FAILED, sig, otf_msg_items(m));
			otf_msg_nack(m, rc, true, "payload cannot be converted to OTLP/JSON");
			return;
		}
		rc = otf_file_sink_write(e->sink, j->data, j->len, OTF_FILE_RECORD_LINE, &rot);
		otf_buf_unref(j);
	} else {
		rc = otf_file_sink_write(e->sink, p->data, p->len, OTF_FILE_RECORD_LENGTH_PREFIX,
		                         &rot);
	}
	if (rc) {
		otf_node_error(e->node, OTF_ERR_RECOVERABLE, "write_failed", "cannot write %s: %s",
		               e->path, otf_strerror(rc));
		otf_node_count(e->node, OTF_COUNTER_SEND_FAILED, sig, otf_msg_items(m));
		otf_msg_nack(m, rc, false, "file write failed");
		return;
	}
	if (rot)
		otf_node_error(e->node, OTF_ERR_RECOVERABLE, "rotation_failed",
		               "cannot rotate %s (no file until it can be opened again): %s",
		               e->path, otf_strerror(rot));
	else if (e->sync)
		otf_node_recovered(e->node); /* on disk: the file works again */
	otf_node_count(e->node, OTF_COUNTER_SENT, sig, otf_msg_items(m));
	otf_msg_ack(m);
}

/* Buffered records written back: the outcome is the node's status. */
static void flush_sink(file_exporter_t *e)
{
	int rc = otf_file_sink_flush(e->sink);
	if (rc)
		otf_node_error(e->node, OTF_ERR_RECOVERABLE, "write_failed",
		               "cannot write buffered records to %s (lost): %s", e->path,
		               otf_strerror(rc));
	else
		otf_node_recovered(e->node);
}

static void control(void *inst, const otf_ctrl_t *c)
{
	file_exporter_t *e = inst;
	if (c->type == OTF_CTRL_TMR) {
		flush_sink(e);
	} else if (c->type == OTF_CTRL_KIL) {
		flush_sink(e);
		otf_node_shutdown_done(e->node);
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void destroy(void *inst)
{
	file_exporter_t *e = inst;
	otf_file_sink_close(e->sink);
	otf_arena_close(&e->arena);
	otf_free(e);
}

static const char *const k_formats[] = {"json", "proto", NULL};

static int validate(const void *config, char *err, size_t errlen)
{
	const file_config_t *c = config;
	if (!c->path || !c->path[0]) {
		snprintf(err, errlen, "path: must name a file");
		return OTF_E_CONFIG;
	}
	if (c->compression && c->compression[0] && strcmp(c->compression, "zstd")) {
		snprintf(err, errlen, "compression: unsupported algorithm \"%s\" (supported: zstd)",
		         c->compression);
		return OTF_E_CONFIG;
	}
	return 0;
}

static const otf_config_field_t k_rotation[] = {
    {.key = "max_megabytes",
     .type = OTF_CFG_INT,
     .offset = offsetof(file_rotation_t, max_megabytes),
     .def = "100",
     .desc = "Rotate when the file grows past this many MiB (0 = never)."},
    {.key = "max_backups",
     .type = OTF_CFG_INT,
     .offset = offsetof(file_rotation_t, max_backups),
     .def = "100",
     .desc = "Rotated files to keep, oldest removed first (0 = keep all)."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t k_schema[] = {
    {.key = "path",
     .type = OTF_CFG_STRING,
     .offset = offsetof(file_config_t, path),
     .required = true,
     .desc = "File to write to (created 0600)."},
    {.key = "format",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(file_config_t, format),
     .def = "json",
     .enum_values = k_formats,
     .desc = "json: one OTLP/JSON request per line; proto: protobuf requests, each preceded "
             "by its length as a 4-byte big-endian integer."},
    {.key = "flush_interval",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(file_config_t, flush_interval_ns),
     .def = "1s",
     .desc = "How often buffered data is flushed to the file (0 = only at shutdown)."},
    {.key = "append",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(file_config_t, append),
     .def = "false",
     .desc = "Append to an existing file instead of truncating it at start."},
    {.key = "sync",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(file_config_t, sync),
     .def = "false",
     .desc = "Flush and fsync every request before acknowledging it (data survives a crash "
             "of the process or the host once acknowledged). Off: acknowledged data can sit "
             "in the process's buffer up to flush_interval and in the page cache until the "
             "kernel writes it."},
    {.key = "compression",
     .type = OTF_CFG_STRING,
     .offset = offsetof(file_config_t, compression),
     .def = "",
     .desc = "zstd: each request is written as one zstd frame preceded by the frame's length "
             "(uint32 big-endian), in both formats. Unset: no compression."},
    {.key = "rotation",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(file_config_t, rotation),
     .sub = k_rotation,
     .desc = "Size-based rotation."},
    OTF_CONFIG_FIELD_END,
};

const otf_component_factory_t otf_exporter_file_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "file",
    .description = "Writes requests to a file as OTLP/JSON lines or length-prefixed protobuf.",
    .stability = {OTF_STABILITY_ALPHA, OTF_STABILITY_ALPHA, OTF_STABILITY_ALPHA},
    .config_schema = k_schema,
    .config_size = sizeof(file_config_t),
    .validate = validate,
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
};
