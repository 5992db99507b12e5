/* Visibility of the otlp_mmap receiver's black-box loss (issue "Hardening
 * and packaging", item 7): what is lost before any pipeline sees it
 * becomes self-metrics (otflow/selfmetric.h; names in docs/mmap-protocol.md
 * section 9, "Self-metrics") and rate-limited warnings, one line per file
 * and interval summing what happened since the last line.
 *
 * Thread rules: the receiver's reading thread (worker 0), except the
 * registered counters, which the telemetry readers load. */
#ifndef OTF_OTLP_MMAP_OBS_H
#define OTF_OTLP_MMAP_OBS_H

#include "mmap_drain.h"

#include "otflow/component.h"
#include "otflow/selfmetric.h"

enum {
	OTF_MMO_PRODUCER_DROPS = 0, /* records the producer could not write (libotmmap) */
	OTF_MMO_HOLES,              /* claimed slots never published, skipped */
	OTF_MMO_UNDECODABLE,        /* slots or messages that cannot be decoded, skipped */
	OTF_MMO_EPOCHS,             /* a new producer re-initialised a file */
	OTF_MMO_INCOMPLETE,         /* spans emitted without their end */
	OTF_MMO_CORRUPT,            /* files that shrank under the reader */
	OTF_MMO_CKPT_REFUSED,       /* checkpoints that did not match their file */
	OTF_MMO_N
};

/* Warnings of one file come at most this often (the first at once). */
#define OTF_MMO_WARN_INTERVAL_NS (10ull * 1000000000ull)

typedef struct otf__mmo {
	otf_selfcounter_t c[OTF_MMO_N];
	bool registered;
} otf__mmo_t;

typedef struct otf__mmo_file {
	uint64_t seen[OTF_MMO_N];    /* drain figures already counted */
	uint64_t pending[OTF_MMO_N]; /* counted, not yet in a warning */
	uint64_t drops[4];           /* the file's producer drop counters, this epoch */
	uint64_t epoch;
	uint64_t last_warn_ns;
} otf__mmo_file_t;

/* Registers the counters with attribute receiver=component_id. */
void otf__mmo_init(otf__mmo_t *o, const char *component_id);
void otf__mmo_close(otf__mmo_t *o);
/* Counts n events of kind k for file f. */
void otf__mmo_add(otf__mmo_t *o, otf__mmo_file_t *f, int k, uint64_t n);
/* Counts what the drain's figures grew by since the last call. */
void otf__mmo_sample(otf__mmo_t *o, otf__mmo_file_t *f, const otf__mmd_t *d);
/* Logs one warning for what is pending when the interval passed (or now). */
void otf__mmo_warn(otf__mmo_file_t *f, otf_node_t *node, const char *path, uint64_t mono_ns,
                   bool now);

#endif
