/* extension file_storage: durable storage for sending queues, with the
 * keys of the Collector's extension/storage/filestorage README. Each queue
 * (one per exporter and signal, named as the Collector names its storage
 * clients: "exporter_otlp_backend_logs") is a write-ahead log
 * (otflow/storage.h) in its own subdirectory of `directory`.
 *
 * Differences from the Collector, on purpose: `fsync` defaults to true
 * (otflow acknowledges a request upstream only once it is durable; group
 * commit makes that one fdatasync, on the queue's sync thread, for many requests);
 * compaction keys are accepted and have no effect (warned at startup): the
 * WAL deletes each segment once its records are consumed, so there is
 * nothing to compact. otflow adds max_bytes (the disk budget per queue)
 * and segment_size.
 *
 * Thread rules: the queue table is under a mutex (workers open their
 * queues at create, concurrently); each WAL has its own lock. */
#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/config_schema.h"
#include "otflow/engine.h"
#include "otflow/err.h"
#include "otflow/extension.h"
#include "otflow/selfmetric.h"
#include "otflow/storage.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct compaction_cfg {
	char *directory;
	bool on_start, on_rebound, cleanup_on_start;
	uint64_t max_transaction_size;
	uint64_t rebound_needed_threshold_mib, rebound_trigger_threshold_mib;
	int64_t check_interval_ns;
} compaction_cfg_t;

typedef struct fs_cfg {
	char *directory;
	int64_t timeout_ns;
	bool fsync;
	bool create_directory;
	char *directory_permissions;
	uint64_t max_bytes;
	uint64_t segment_size;
	compaction_cfg_t compaction;
} fs_cfg_t;

#define NO_EFFECT "the write-ahead log deletes each segment once it is consumed; nothing to compact"

static const otf_config_field_t k_compaction_schema[] = {
    {.key = "directory",
     .type = OTF_CFG_STRING,
     .offset = offsetof(compaction_cfg_t, directory),
     .ignored = NO_EFFECT,
     .desc = "Collector key (bbolt compaction's temporary directory); no effect."},
    {.key = "on_start",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(compaction_cfg_t, on_start),
     .def = "false",
     .ignored = NO_EFFECT,
     .desc = "Collector key; no effect: consumed segments are deleted at start and while "
             "running."},
    {.key = "on_rebound",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(compaction_cfg_t, on_rebound),
     .def = "false",
     .ignored = NO_EFFECT,
     .desc = "Collector key; no effect (see on_start)."},
    {.key = "cleanup_on_start",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(compaction_cfg_t, cleanup_on_start),
     .def = "false",
     .ignored = NO_EFFECT,
     .desc = "Collector key; no effect (there are no temporary compaction files)."},
    {.key = "max_transaction_size",
     .type = OTF_CFG_UINT,
     .offset = offsetof(compaction_cfg_t, max_transaction_size),
     .def = "65536",
     .ignored = NO_EFFECT,
     .desc = "Collector key; no effect."},
    {.key = "rebound_needed_threshold_mib",
     .type = OTF_CFG_UINT,
     .offset = offsetof(compaction_cfg_t, rebound_needed_threshold_mib),
     .def = "100",
     .ignored = NO_EFFECT,
     .desc = "Collector key; no effect."},
    {.key = "rebound_trigger_threshold_mib",
     .type = OTF_CFG_UINT,
     .offset = offsetof(compaction_cfg_t, rebound_trigger_threshold_mib),
     .def = "10",
     .ignored = NO_EFFECT,
     .desc = "Collector key; no effect."},
    {.key = "check_interval",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(compaction_cfg_t, check_interval_ns),
     .def = "5s",
     .ignored = NO_EFFECT,
     .desc = "Collector key; no effect."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t k_schema[] = {
    {.key = "directory",
     .type = OTF_CFG_STRING,
     .offset = offsetof(fs_cfg_t, directory),
     .def = "/var/lib/otflow/file_storage",
     .desc = "Directory holding one subdirectory (a write-ahead log) per queue: "
             "exporter_<type>_<name>_<signal>."},
    {.key = "timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(fs_cfg_t, timeout_ns),
     .def = "1s",
     .desc = "How long opening a queue waits for its lock when another process holds it; "
             "then the queue fails to open (its requests are refused, retryable)."},
    {.key = "fsync",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(fs_cfg_t, fsync),
     .def = "true",
     .desc = "fdatasync before a request is acknowledged upstream (one, on the queue's sync "
             "thread, for every request appended before it: group commit). otflow's default; "
             "the Collector's "
             "is false. false: data survives the process being killed, not a power loss."},
    {.key = "create_directory",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(fs_cfg_t, create_directory),
     .def = "false",
     .desc = "Create directory (and its parents) when missing; otherwise a missing directory "
             "is a startup error."},
    {.key = "directory_permissions",
     .type = OTF_CFG_STRING,
     .offset = offsetof(fs_cfg_t, directory_permissions),
     .def = "0750",
     .desc = "Octal mode of the directories created (directory with create_directory, and "
             "each queue's subdirectory)."},
    {.key = "max_bytes",
     .type = OTF_CFG_SIZE,
     .offset = offsetof(fs_cfg_t, max_bytes),
     .def = "1GiB",
     .desc = "otflow key: disk budget per queue (bytes of its segment files); a request that "
             "does not fit is refused upstream as retryable (503 / UNAVAILABLE), never "
             "dropped. 0 = no limit."},
    {.key = "segment_size",
     .type = OTF_CFG_SIZE,
     .offset = offsetof(fs_cfg_t, segment_size),
     .def = "8MiB",
     .desc = "otflow key: a queue starts a new segment file past this size; a segment is "
             "deleted once every request in it is consumed."},
    {.key = "compaction",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(fs_cfg_t, compaction),
     .sub = k_compaction_schema,
     .desc = "Collector keys (bbolt compaction), accepted with no effect."},
    OTF_CONFIG_FIELD_END,
};

typedef struct queue {
	struct queue *next;
	char *name;
	otf_wal_t *wal;
	int refs;
	/* What recovery at open found damaged (otf_wal_scan_stats_t), as
	 * self-metrics: a line in the log is easy to miss, a counter can be
	 * alerted on. */
	otf_selfcounter_t torn, torn_bytes, corrupt, corrupt_bytes;
} queue_t;

static void damage_counter(otf_selfcounter_t *c, const char *name, const char *desc,
                           const char *unit, const char *queue, uint64_t value)
{
	*c = (otf_selfcounter_t){.name = name, .desc = desc, .unit = unit, .label_key = "queue"};
	snprintf(c->label, sizeof c->label, "%s", queue);
	c->value = value;
	otf_selfcounter_register(c);
}

static void damage_counters_open(queue_t *q, const otf_wal_scan_stats_t *sc)
{
	damage_counter(&q->torn, "otelcol_file_storage_torn_tails",
	               "Segment ends holding no valid record (a write torn by a crash), "
	               "truncated when the queue was opened.",
	               "{segments}", q->name, sc->torn_tails);
	damage_counter(&q->torn_bytes, "otelcol_file_storage_torn_bytes",
	               "Bytes truncated with torn tails.", "By", q->name, sc->torn_bytes);
	damage_counter(&q->corrupt, "otelcol_file_storage_corrupt_records",
	               "Runs of invalid bytes between valid records (CRC, magic or length "
	               "wrong) skipped when the queue was opened; their requests are lost.",
	               "{records}", q->name, sc->corrupt_records);
	damage_counter(&q->corrupt_bytes, "otelcol_file_storage_corrupt_bytes",
	               "Bytes skipped with corrupted records.", "By", q->name, sc->corrupt_bytes);
}

static void damage_counters_close(queue_t *q)
{
	otf_selfcounter_unregister(&q->torn);
	otf_selfcounter_unregister(&q->torn_bytes);
	otf_selfcounter_unregister(&q->corrupt);
	otf_selfcounter_unregister(&q->corrupt_bytes);
}

typedef struct fs {
	char id[128];
	char *directory;
	otf_wal_options_t opt;
	int64_t timeout_ns;
	pthread_mutex_t mu;
	queue_t *queues;
} fs_t;

static int parse_mode(const char *s, uint32_t *mode)
{
	if (!s || !*s)
		return OTF_E_CONFIG;
	char *end;
	unsigned long v = strtoul(s, &end, 8);
	if (*end || v > 07777)
		return OTF_E_CONFIG;
	*mode = (uint32_t)v;
	return 0;
}

static int validate(const void *config, char *err, size_t errlen)
{
	const fs_cfg_t *c = config;
	uint32_t mode;
	if (!c->directory || !*c->directory) {
		snprintf(err, errlen, "directory: must not be empty");
		return OTF_E_CONFIG;
	}
	if (parse_mode(c->directory_permissions, &mode)) {
		snprintf(err, errlen,
		         "directory_permissions: '%s' is not an octal mode (e.g. 0750)",
		         c->directory_permissions ? c->directory_permissions : "");
		return OTF_E_CONFIG;
	}
	if (c->segment_size < 4096) {
		snprintf(err, errlen, "segment_size: must be at least 4KiB");
		return OTF_E_CONFIG;
	}
	if (c->timeout_ns < 0) {
		snprintf(err, errlen, "timeout: must not be negative");
		return OTF_E_CONFIG;
	}
	return 0;
}

static int fs_create(const otf_ext_create_ctx_t *ctx, void **instance)
{
	const fs_cfg_t *c = ctx->config;
	fs_t *f = otf_calloc(1, sizeof *f);
	if (!f)
		return OTF_E_NOMEM;
	snprintf(f->id, sizeof f->id, "%s", ctx->id);
	f->directory = otf_strndup(c->directory, strlen(c->directory));
	if (!f->directory) {
		otf_free(f);
		return OTF_E_NOMEM;
	}
	(void)parse_mode(c->directory_permissions, &f->opt.dir_mode);
	f->opt.fsync = c->fsync;
	f->opt.max_bytes = c->max_bytes;
	f->opt.segment_bytes = c->segment_size;
	f->opt.create_directory = true; /* the queue's own subdirectory */
	f->timeout_ns = c->timeout_ns;
	/* create_directory is applied here: `otflow validate` also builds,
	 * but a directory that cannot exist is a configuration error. */
	struct stat sb;
	int e = stat(f->directory, &sb) ? errno : S_ISDIR(sb.st_mode) ? 0 : ENOTDIR;
	if (e) {
		if (!c->create_directory) {
			snprintf(ctx->err, ctx->errlen,
			         "directory %s: %s (set create_directory: true to create it)",
			         f->directory, strerror(e));
			otf_free(f->directory);
			otf_free(f);
			return OTF_E_CONFIG;
		}
	}
	pthread_mutex_init(&f->mu, NULL);
	*instance = f;
	return 0;
}

static int fs_start(void *instance)
{
	fs_t *f = instance;
	/* Creating directories is a side effect for run time, not validate. */
	char buf[4096];
	size_t n = strlen(f->directory);
	if (n >= sizeof buf)
		return -ENAMETOOLONG;
	memcpy(buf, f->directory, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char ch = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, f->opt.dir_mode ? f->opt.dir_mode : 0750) && errno != EEXIST) {
			int e = -errno;
			otf_log(OTF_LOG_ERROR, f->id, "cannot create directory %s: %s", buf,
			        strerror(errno));
			return e;
		}
		buf[i] = ch;
	}
	return 0;
}

static int queue_path(const fs_t *f, const char *name, char *buf, size_t cap)
{
	int k = snprintf(buf, cap, "%s/%s", f->directory, name);
	return k > 0 && (size_t)k < cap ? 0 : -ENAMETOOLONG;
}

static int fs_queue_open(void *instance, const char *name, otf_wal_t **wal, char *err,
                         size_t errlen)
{
	fs_t *f = instance;
	char path[4096];
	int rc = queue_path(f, name, path, sizeof path);
	if (rc) {
		snprintf(err, errlen, "%s: queue path too long", f->id);
		return rc;
	}
	pthread_mutex_lock(&f->mu);
	for (queue_t *q = f->queues; q; q = q->next) {
		if (!strcmp(q->name, name)) {
			q->refs++;
			*wal = q->wal;
			pthread_mutex_unlock(&f->mu);
			return 0;
		}
	}
	queue_t *q = otf_calloc(1, sizeof *q);
	if (!q || !(q->name = otf_strndup(name, strlen(name)))) {
		otf_free(q);
		pthread_mutex_unlock(&f->mu);
		return OTF_E_NOMEM;
	}
	/* Another process (an old otflow still stopping) may hold the lock
	 * for a while: wait up to timeout. */
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		rc = otf_wal_open(path, &f->opt, &q->wal, err, errlen);
		if (rc != -EBUSY)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t el =
		    (int64_t)(now.tv_sec - t0.tv_sec) * 1000000000 + (now.tv_nsec - t0.tv_nsec);
		if (el >= f->timeout_ns)
			break;
		struct timespec d = {0, 20 * 1000000};
		nanosleep(&d, NULL);
	}
	if (rc) {
		otf_free(q->name);
		otf_free(q);
		pthread_mutex_unlock(&f->mu);
		return rc;
	}
	otf_wal_stats_t st;
	otf_wal_stats(q->wal, &st);
	if (st.recovered || st.scan.torn_tails || st.scan.corrupt_records)
		otf_log(st.scan.corrupt_records ? OTF_LOG_WARN : OTF_LOG_INFO, f->id,
		        "queue %s: %llu requests to resend; torn tail truncated: %llu (%llu "
		        "bytes); corrupted records skipped: %llu (%llu bytes)",
		        name, (unsigned long long)st.recovered,
		        (unsigned long long)st.scan.torn_tails,
		        (unsigned long long)st.scan.torn_bytes,
		        (unsigned long long)st.scan.corrupt_records,
		        (unsigned long long)st.scan.corrupt_bytes);
	damage_counters_open(q, &st.scan);
	q->refs = 1;
	q->next = f->queues;
	f->queues = q;
	*wal = q->wal;
	pthread_mutex_unlock(&f->mu);
	return 0;
}

static void fs_queue_release(void *instance, otf_wal_t *wal)
{
	fs_t *f = instance;
	pthread_mutex_lock(&f->mu);
	for (queue_t **pp = &f->queues; *pp; pp = &(*pp)->next) {
		queue_t *q = *pp;
		if (q->wal != wal)
			continue;
		if (--q->refs == 0) {
			*pp = q->next;
			damage_counters_close(q);
			otf_wal_close(q->wal);
			otf_free(q->name);
			otf_free(q);
		}
		break;
	}
	pthread_mutex_unlock(&f->mu);
}

static bool fs_queue_exists(void *instance, const char *name)
{
	fs_t *f = instance;
	char path[4096];
	struct stat sb;
	return !queue_path(f, name, path, sizeof path) && !stat(path, &sb) && S_ISDIR(sb.st_mode);
}

static void fs_destroy(void *instance)
{
	fs_t *f = instance;
	while (f->queues) {
		queue_t *q = f->queues;
		f->queues = q->next;
		damage_counters_close(q);
		otf_wal_close(q->wal);
		otf_free(q->name);
		otf_free(q);
	}
	pthread_mutex_destroy(&f->mu);
	otf_free(f->directory);
	otf_free(f);
}

static const otf_storage_iface_t k_storage = {
    .queue_open = fs_queue_open,
    .queue_release = fs_queue_release,
    .queue_exists = fs_queue_exists,
};

const otf_component_factory_t otf_extension_file_storage_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXTENSION,
    .type = "file_storage",
    /* Extensions have no signals; the listing shows one level for all. */
    .stability = {OTF_STABILITY_ALPHA, OTF_STABILITY_ALPHA, OTF_STABILITY_ALPHA},
    .description = "Durable storage for exporters' sending queues: a write-ahead log per queue "
                   "(sending_queue.storage).",
    .config_schema = k_schema,
    .config_size = sizeof(fs_cfg_t),
    .validate = validate,
    .ext_create = fs_create,
    .ext_start = fs_start,
    .ext_destroy = fs_destroy,
    .ext_ifaces = {[OTF_EXT_STORAGE] = &k_storage},
};
