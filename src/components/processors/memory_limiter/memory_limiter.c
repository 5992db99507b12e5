/* processor `memory_limiter`: refuses data while otflow's memory use is
 * above a soft limit, so overload turns into retryable refusals instead of
 * growth. Settings, defaults and validation are the Collector's
 * (processor/memorylimiterprocessor): limit_mib or limit_percentage (of the
 * cgroup's memory limit, else of MemTotal), spike_limit_* (default 20 % of
 * the limit), soft limit = limit - spike, checked every check_interval.
 *
 * What is measured: the bytes in use of otflow's counted allocator
 * (otflow/alloc.h), which every payload buffer, message, arena and queue
 * goes through: the counterpart of the Collector reading the Go heap
 * (runtime.MemStats) rather than RSS. RSS is not used because it does not
 * drop when data is freed (the C allocator keeps freed pages for reuse),
 * so a limiter driven by it would keep refusing after the data was gone;
 * the counted bytes drop at once and cost no system call to read.
 * Libraries' own allocations (libuv, libyaml, zlib state) are not counted;
 * they are small and do not grow with traffic.
 *
 * Above the soft limit: messages are nacked (OTF_E_NOMEM, retryable,
 * "memory limit exceeded"), a 0 budget is published upstream (REB) and
 * the process-wide admission flag is held (otf_admission_hold), so
 * receivers refuse requests before reading them
 * (HTTP 503 + Retry-After, gRPC RESOURCE_EXHAUSTED). Above the hard limit
 * a warning is logged as well (the Collector would force a GC; there is
 * nothing to collect here). Below the soft limit data flows again. */
#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define MIB (1024u * 1024u)

typedef struct ml_config {
	int64_t check_interval_ns;
	uint64_t limit_mib;
	uint64_t spike_limit_mib;
	uint64_t limit_percentage;
	uint64_t spike_limit_percentage;
} ml_config_t;

typedef struct memory_limiter {
	otf_node_t *node;
	uint64_t hard, soft; /* bytes */
	int64_t timer;
	bool refusing, above_hard, holding;
} memory_limiter_t;

static uint64_t read_u64_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char buf[64] = "";
	uint64_t v = 0;
	/* "max" (cgroup v2, no limit) does not parse and stays 0 */
	if (fgets(buf, sizeof buf, f))
		sscanf(buf, "%" SCNu64, &v);
	fclose(f);
	return v;
}

/* The memory the process may use: its cgroup's limit when there is one,
 * else the machine's MemTotal. 0 when unknown. */
static uint64_t total_memory(void)
{
	uint64_t mem_total = 0;
	FILE *f = fopen("/proc/meminfo", "r");
	if (f) {
		char line[128];
		while (fgets(line, sizeof line, f)) {
			uint64_t kib;
			if (sscanf(line, "MemTotal: %" SCNu64 " kB", &kib) == 1) {
				mem_total = kib * 1024u;
				break;
			}
		}
		fclose(f);
	}
	uint64_t cg = read_u64_file("/sys/fs/cgroup/memory.max");
	if (!cg)
		cg = read_u64_file("/sys/fs/cgroup/memory/memory.limit_in_bytes");
	/* cgroup v1 reports "no limit" as a huge number */
	if (cg && (!mem_total || cg < mem_total))
		return cg;
	return mem_total;
}

static void limits(const ml_config_t *c, uint64_t *hard, uint64_t *soft)
{
	uint64_t spike;
	if (c->limit_mib) {
		*hard = c->limit_mib * MIB;
		spike = c->spike_limit_mib ? c->spike_limit_mib * MIB : *hard / 5;
	} else {
		uint64_t total = total_memory();
		*hard = total / 100 * c->limit_percentage;
		spike =
		    c->spike_limit_percentage ? total / 100 * c->spike_limit_percentage : *hard / 5;
	}
	*soft = spike < *hard ? *hard - spike : 0;
}

static uint64_t in_use(void)
{
	otf_alloc_stats_t st;
	otf_alloc_stats(&st);
	return st.bytes_in_use;
}

static void check(memory_limiter_t *ml)
{
	uint64_t used = in_use();
	bool refuse = used >= ml->soft;
	bool hard = used >= ml->hard;
	if (refuse != ml->refusing) {
		ml->refusing = refuse;
		if (refuse) {
			/* REB 0 upstream (its receivers refuse before reading), and
			 * the process-wide flag for every other receiver: memory is
			 * the whole process's. */
			otf_budget_t zero = {0, 0, 0, 1000, 0};
			otf_node_publish_budget(ml->node, &zero);
			otf_admission_hold();
			ml->holding = true;
			otf_node_log(ml->node, OTF_LOG_WARN,
			             "memory use %" PRIu64 " MiB is above the soft limit %" PRIu64
			             " MiB: refusing data",
			             used / MIB, ml->soft / MIB);
		} else {
			otf_node_publish_budget(ml->node, NULL);
			otf_admission_release();
			ml->holding = false;
			otf_node_log(ml->node, OTF_LOG_INFO,
			             "memory use %" PRIu64 " MiB is below the soft limit %" PRIu64
			             " MiB again: accepting data",
			             used / MIB, ml->soft / MIB);
		}
	}
	if (hard && !ml->above_hard)
		otf_node_log(ml->node, OTF_LOG_WARN,
		             "memory use %" PRIu64 " MiB is above the hard limit %" PRIu64 " MiB",
		             used / MIB, ml->hard / MIB);
	ml->above_hard = hard;
}

static void consume(void *inst, otf_msg_t *m)
{
	memory_limiter_t *ml = inst;
	if (ml->refusing) {
		otf_msg_nack(m, OTF_E_NOMEM, false,
		             "memory limit exceeded: data refused by memory_limiter, retry later");
		return;
	}
	int rc = otf_node_send(ml->node, m);
	if (rc) {
		char reason[128];
		snprintf(reason, sizeof reason, "memory_limiter: cannot forward: %s",
		         otf_strerror(rc));
		otf_msg_nack(m, rc, false, reason);
	}
}

static void release(memory_limiter_t *ml)
{
	if (ml->holding) {
		otf_admission_release();
		ml->holding = false;
	}
}

static void control(void *inst, const otf_ctrl_t *c)
{
	memory_limiter_t *ml = inst;
	if (c->type == OTF_CTRL_TMR) {
		check(ml);
	} else if (c->type == OTF_CTRL_KIL) {
		/* Nothing is held here; stop refusing on behalf of a stopped
		 * pipeline and let what is in flight pass. */
		if (ml->timer > 0)
			otf_node_timer_stop(ml->node, ml->timer);
		ml->timer = 0;
		release(ml);
		otf_node_shutdown_done(ml->node);
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	const ml_config_t *cfg = ctx->config;
	memory_limiter_t *ml = otf_calloc(1, sizeof *ml);
	if (!ml)
		return OTF_E_NOMEM;
	ml->node = ctx->node;
	limits(cfg, &ml->hard, &ml->soft);
	if (!ml->hard) {
		otf_node_log(ml->node, OTF_LOG_ERROR,
		             "cannot determine total memory for limit_percentage");
		otf_free(ml);
		return OTF_E_CONFIG;
	}
	uint64_t ms = (uint64_t)(cfg->check_interval_ns / 1000000);
	ml->timer = otf_node_timer_start(ml->node, ms ? ms : 1, ms ? ms : 1, 1);
	if (ml->timer < 0) {
		int rc = (int)ml->timer;
		otf_free(ml);
		return rc;
	}
	check(ml);
	*inst = ml;
	return 0;
}

static void destroy(void *inst)
{
	memory_limiter_t *ml = inst;
	release(ml);
	otf_free(ml);
}

static int validate(const void *config, char *err, size_t errlen)
{
	const ml_config_t *c = config;
	if (c->check_interval_ns <= 0) {
		snprintf(err, errlen, "check_interval must be greater than zero");
		return OTF_E_CONFIG;
	}
	if (!c->limit_mib && !c->limit_percentage) {
		snprintf(err, errlen, "set limit_mib or limit_percentage (greater than zero)");
		return OTF_E_CONFIG;
	}
	if (c->limit_mib && c->spike_limit_mib >= c->limit_mib) {
		snprintf(err, errlen, "spike_limit_mib must be smaller than limit_mib");
		return OTF_E_CONFIG;
	}
	if (!c->limit_mib &&
	    (c->limit_percentage > 100 || c->spike_limit_percentage >= c->limit_percentage)) {
		snprintf(err, errlen,
		         "limit_percentage must be at most 100 and spike_limit_percentage smaller "
		         "than it");
		return OTF_E_CONFIG;
	}
	return 0;
}

static const otf_config_field_t k_schema[] = {
    {.key = "check_interval",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(ml_config_t, check_interval_ns),
     .def = "0s",
     .desc = "How often memory use is measured; must be set (the Collector recommends 1s)."},
    {.key = "limit_mib",
     .type = OTF_CFG_UINT,
     .offset = offsetof(ml_config_t, limit_mib),
     .def = "0",
     .desc = "Hard limit in MiB of otflow's counted heap; takes precedence over "
             "limit_percentage."},
    {.key = "spike_limit_mib",
     .type = OTF_CFG_UINT,
     .offset = offsetof(ml_config_t, spike_limit_mib),
     .def = "0",
     .desc = "Headroom in MiB below the hard limit; data is refused above limit - spike "
             "(0 = 20 % of the limit)."},
    {.key = "limit_percentage",
     .type = OTF_CFG_UINT,
     .offset = offsetof(ml_config_t, limit_percentage),
     .def = "0",
     .desc = "Hard limit as a percentage of the cgroup memory limit, or of MemTotal when "
             "there is none (used when limit_mib is 0)."},
    {.key = "spike_limit_percentage",
     .type = OTF_CFG_UINT,
     .offset = offsetof(ml_config_t, spike_limit_percentage),
     .def = "0",
     .desc = "Headroom as a percentage of the same total (0 = 20 % of the limit)."},
    OTF_CONFIG_FIELD_END,
};

const otf_component_factory_t otf_processor_memory_limiter_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "memory_limiter",
    .description = "Refuses data while memory use is above a soft limit (retryable), and makes "
                   "receivers refuse before reading requests.",
    .stability = {OTF_STABILITY_BETA, OTF_STABILITY_BETA, OTF_STABILITY_BETA},
    .config_schema = k_schema,
    .config_size = sizeof(ml_config_t),
    .validate = validate,
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
};
