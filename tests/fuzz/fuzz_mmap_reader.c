/* libFuzzer target: arbitrary bytes as the content of an otlp-mmap file,
 * read by the otlp_mmap receiver's reader (the file is untrusted input).
 * Header, rings, dictionary, span assembly, logs, metric aggregation,
 * request encoding, the checkpoint snapshot and the checkpoint parser
 * (the input doubles as a checkpoint) all run; the sanitizers
 * catch out-of-bounds reads, and every poll must terminate. A produced
 * request must decode with otflow's own decoder. */
#include "components/receivers/otlp_mmap/mmap_ckpt.h"
#include "components/receivers/otlp_mmap/mmap_drain.h"

#include "fuzz_common.h"

#include <sys/mman.h>
#include <unistd.h>

static void check_req(const otf__mmd_req_t *q)
{
	otf_arena_t a;
	otf_arena_init(&a, 0);
	int rc;
	if (q->signal == OTF_SIGNAL_TRACES) {
		otf_traces_t t;
		rc = otf_pdata_decode_traces(&t, q->payload->data, q->payload->len, &a, NULL, NULL);
	} else if (q->signal == OTF_SIGNAL_LOGS) {
		otf_logs_t t;
		rc = otf_pdata_decode_logs(&t, q->payload->data, q->payload->len, &a, NULL, NULL);
	} else {
		otf_metrics_t t;
		rc =
		    otf_pdata_decode_metrics(&t, q->payload->data, q->payload->len, &a, NULL, NULL);
	}
	FUZZ_CHECK(rc == 0);
	otf_arena_close(&a);
}

static void drain_out(otf__mmd_t *d)
{
	otf__mmd_req_t q;
	while (otf__mmd_take(d, &q)) {
		check_req(&q);
		otf_buf_unref(q.payload);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-mmap", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	otf__mmd_opts_t o;
	otf__mmd_opts_default(&o);
	o.hole_timeout_ns = 0;
	o.max_open_spans = 64;
	o.max_series = 64;
	o.max_batch = 64;
	o.span_ttl_ns = 1000;
	otf__mmd_t d;
	otf__mmd_init(&d, &o);
	otf__mmd_open_fd(&d, fd);
	/* A bounded number of polls: each reads at most 256 records per ring
	 * and must return (a bad slot is skipped, never re-read forever). */
	for (uint64_t i = 0; i < 8; i++) {
		long n = otf__mmd_poll(&d, 1000 * (i + 1), 1000 * (i + 1), 256);
		if (n < 0)
			break;
		if (i == 3) {
			int64_t pos[OTF_MMR_RINGS] = {-1, -1, -1};
			otf_buf_t *snap = NULL;
			if (otf__mmck_snapshot(&d, pos, &snap) == 0)
				otf_buf_unref(snap);
			/* The input is also a checkpoint (untrusted like the file):
			 * accepted positions lie in [-1, writer_index]. */
			int64_t cp[OTF_MMR_RINGS] = {-1, -1, -1};
			char why[160];
			if (otf__mmck_parse(&d, data, size, cp, 5000, why, sizeof why) == 0)
				for (int k = 0; k < OTF_MMR_RINGS; k++)
					FUZZ_CHECK(cp[k] >= -1 &&
					           cp[k] <= otf__mmr_writer_index(&d.r, k));
		}
		otf__mmd_cut(&d);
		drain_out(&d);
	}
	otf__mmd_expire(&d, 1u << 30, 5, true);
	otf__mmd_cut(&d);
	otf__mmd_collect(&d, 7);
	drain_out(&d);
	otf__mmd_close(&d);
	return 0;
}
