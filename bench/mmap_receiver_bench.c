/* otlp_mmap receiver benchmark: drain rate of the reader (records per
 * second of one core) from an otlp-mmap v1 file the benchmark fills itself,
 * through the same code otflow runs (mmap_drain: copy out of the slot,
 * decode, span assembly, log records, metric aggregation, OTLP encoding).
 *
 * usage: mmap_receiver_bench DIR            drain-rate table (markdown)
 *        mmap_receiver_bench --quiet FILE   writes a small file nobody adds to
 *                                           (for the idle-CPU measurement)
 */
#include "components/receivers/otlp_mmap/mmap_drain.h"

#include "otflow/err.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define N     65536u /* slots per ring */
#define B     256u   /* slot size */
#define RING  (32u + 4u * N + N * B)
#define DICT  4096u
#define FSIZE (64u + 3u * RING + 64u + DICT)

typedef struct wb {
	uint8_t b[512];
	size_t n;
} wb_t;

static void put_varint(wb_t *w, uint64_t v)
{
	while (v >= 0x80) {
		w->b[w->n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	w->b[w->n++] = (uint8_t)v;
}

static void put_tag(wb_t *w, uint32_t f, uint32_t wt)
{
	put_varint(w, (uint64_t)f << 3 | wt);
}

static void put_bytes(wb_t *w, uint32_t f, const void *p, size_t n)
{
	put_tag(w, f, 2);
	put_varint(w, n);
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void put_fixed64(wb_t *w, uint32_t f, uint64_t v)
{
	put_tag(w, f, 1);
	memcpy(w->b + w->n, &v, 8);
	w->n += 8;
}

static void put_msg(wb_t *w, uint32_t f, const wb_t *m)
{
	put_bytes(w, f, m->b, m->n);
}

typedef struct file {
	uint8_t *m;
	uint64_t dict_end;
	uint64_t off[3];
} file_t;

static int64_t dict_add(file_t *f, const void *p, size_t n)
{
	int64_t ref = (int64_t)f->dict_end;
	wb_t w = {.n = 0};
	put_varint(&w, n);
	memcpy(f->m + f->dict_end, w.b, w.n);
	memcpy(f->m + f->dict_end + w.n, p, n);
	f->dict_end += w.n + n;
	return ref;
}

static void publish(file_t *f, int ring, uint64_t seq, const wb_t *msg)
{
	uint8_t *r = f->m + f->off[ring];
	uint64_t slot = seq & (N - 1);
	wb_t w = {.n = 0};
	put_varint(&w, msg->n);
	memcpy(r + 32 + 4 * N + slot * B, w.b, w.n);
	memcpy(r + 32 + 4 * N + slot * B + w.n, msg->b, msg->n);
	__atomic_store_n((int32_t *)(void *)(r + 32 + 4 * slot), (int32_t)(seq >> 16),
	                 __ATOMIC_RELEASE);
	__atomic_store_n((int64_t *)(void *)(r + 24), (int64_t)seq, __ATOMIC_RELEASE);
}

static void kv(wb_t *w, uint32_t f, int64_t key, int64_t ival, const char *sval)
{
	wb_t v = {.n = 0}, e = {.n = 0};
	if (sval)
		put_bytes(&v, 1, sval, strlen(sval));
	else {
		put_tag(&v, 3, 0);
		put_varint(&v, (uint64_t)ival);
	}
	put_tag(&e, 1, 0);
	put_varint(&e, (uint64_t)key);
	put_msg(&e, 2, &v);
	put_msg(w, f, &e);
}

/* Creates the file with its layout, dictionary and (fill) full rings. */
static int make_file(const char *path, bool fill, uint64_t epoch)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, FSIZE))
		return -1;
	file_t f = {mmap(NULL, FSIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), 0, {0}};
	if (f.m == MAP_FAILED)
		return -1;
	uint64_t dict = 64 + 3 * (uint64_t)RING;
	for (int i = 0; i < 3; i++) {
		f.off[i] = 64 + (uint64_t)i * RING;
		int64_t h[4] = {N, B, -1, -1};
		memcpy(f.m + f.off[i], h, sizeof h);
		memset(f.m + f.off[i] + 32, 0xff, 4 * N);
	}
	f.dict_end = dict + 64;
	int64_t keys[4], k_name = dict_add(&f, "service.name", 12);
	const char *names[4] = {"http.method", "http.route", "http.status_code", "net.peer"};
	for (int i = 0; i < 4; i++)
		keys[i] = dict_add(&f, names[i], strlen(names[i]));
	wb_t res = {.n = 0}, sc = {.n = 0}, mr = {.n = 0}, sum = {.n = 0};
	kv(&res, 1, k_name, 0, "bench");
	int64_t res_ref = dict_add(&f, res.b, res.n);
	int64_t sname = dict_add(&f, "bench.scope", 11);
	put_tag(&sc, 1, 0);
	put_varint(&sc, (uint64_t)sname);
	put_tag(&sc, 5, 0);
	put_varint(&sc, (uint64_t)res_ref);
	int64_t scope = dict_add(&f, sc.b, sc.n);
	put_bytes(&mr, 1, "requests", 8);
	put_tag(&mr, 4, 0);
	put_varint(&mr, (uint64_t)scope);
	put_tag(&sum, 2, 0);
	put_varint(&sum, 1);
	put_tag(&sum, 3, 0);
	put_varint(&sum, 1);
	put_msg(&mr, 6, &sum);
	int64_t metric = dict_add(&f, mr.b, mr.n);
	int64_t dh[2] = {(int64_t)f.dict_end, 10};
	memcpy(f.m + dict, dh, sizeof dh);
	uint64_t t0 = 1700000000000000000ull;
	for (uint64_t s = 0; fill && s < N - 1; s++) {
		/* spans: start (4 attributes) and end alternate */
		uint8_t tid[16] = {1}, sid[8] = {2};
		uint64_t id = s / 2 + 1;
		memcpy(tid + 8, &id, 8);
		memcpy(sid, &id, 8);
		wb_t ev = {.n = 0}, body = {.n = 0};
		put_bytes(&ev, 1, tid, 16);
		put_bytes(&ev, 2, sid, 8);
		if (s % 2 == 0) {
			put_bytes(&body, 5, "GET /items", 10);
			put_tag(&body, 6, 0);
			put_varint(&body, 2);
			put_fixed64(&body, 7, t0 + s);
			kv(&body, 9, keys[0], 0, "GET");
			kv(&body, 9, keys[1], 0, "/items/{id}");
			kv(&body, 9, keys[2], 200, NULL);
			kv(&body, 9, keys[3], 0, "10.0.0.1");
			put_msg(&ev, 11, &body);
		} else {
			put_fixed64(&body, 8, t0 + s + 1000);
			put_msg(&ev, 12, &body);
		}
		put_tag(&ev, 20, 0);
		put_varint(&ev, (uint64_t)scope);
		publish(&f, 1, s, &ev);
		/* events: a log record with a body, 2 attributes, a span context */
		wb_t lg = {.n = 0}, any = {.n = 0}, ctx = {.n = 0};
		put_tag(&lg, 1, 0);
		put_varint(&lg, (uint64_t)scope);
		put_fixed64(&lg, 2, t0 + s);
		put_tag(&lg, 3, 0);
		put_varint(&lg, 9);
		put_bytes(&any, 1, "request handled", 15);
		put_msg(&lg, 5, &any);
		put_bytes(&ctx, 1, sid, 8);
		put_bytes(&ctx, 2, tid, 16);
		put_msg(&lg, 7, &ctx);
		kv(&lg, 8, keys[0], 0, "GET");
		kv(&lg, 8, keys[2], 200, NULL);
		publish(&f, 0, s, &lg);
		/* measurements: counter +1 with one attribute of 8 values */
		wb_t me = {.n = 0};
		put_tag(&me, 1, 0);
		put_varint(&me, (uint64_t)metric);
		kv(&me, 2, keys[2], (int64_t)(200 + s % 8), NULL);
		put_fixed64(&me, 3, t0 + s);
		put_tag(&me, 4, 0);
		put_varint(&me, 1);
		publish(&f, 2, s, &me);
	}
	int64_t hdr[6] = {0,
	                  (int64_t)f.off[0],
	                  (int64_t)f.off[1],
	                  (int64_t)f.off[2],
	                  (int64_t)dict,
	                  (int64_t)epoch};
	memcpy(f.m, hdr, sizeof hdr);
	__atomic_store_n((int64_t *)(void *)f.m, 1, __ATOMIC_RELEASE);
	munmap(f.m, FSIZE);
	close(fd);
	return 0;
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Drains the file; returns CPU seconds, *records read. via_tree: the
 * reference path (pdata tree per request); warm: the reader's mapping is
 * faulted in before the clock starts, as it is for a receiver past its
 * first lap of the rings (the producer and the reader share the pages). */
static double drain(const char *path, int delivery_rings, bool via_tree, bool warm,
                    uint64_t *records, uint64_t *bytes)
{
	otf__mmd_opts_t o;
	otf__mmd_opts_default(&o);
	o.via_tree = via_tree;
	otf__mmd_t d;
	otf__mmd_init(&d, &o);
	if (otf__mmd_open(&d, path)) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(1);
	}
	otf__mmd_poll(&d, 1, 1, 0); /* attach outside the timing */
	if (warm) {
		volatile uint8_t sink = 0;
		for (size_t i = 0; i < d.r.map_len; i += 4096)
			sink ^= d.r.map[i];
		(void)sink;
	}
	double t = cpu_now();
	uint64_t n = 0, by = 0;
	for (;;) {
		long k = otf__mmd_poll(&d, 2, 2, 4096);
		if (k <= 0)
			break;
		n += (uint64_t)k;
		otf__mmd_cut(&d);
		if (delivery_rings)
			otf__mmd_commit(&d, d.cut);
		otf__mmd_req_t q;
		while (otf__mmd_take(&d, &q)) {
			by += q.payload->len;
			otf_buf_unref(q.payload);
		}
	}
	otf__mmd_collect(&d, 3);
	otf__mmd_req_t q;
	while (otf__mmd_take(&d, &q)) {
		by += q.payload->len;
		otf_buf_unref(q.payload);
	}
	t = cpu_now() - t;
	if (d.st.spans != (N - 1) / 2 || d.st.logs != N - 1) {
		fprintf(stderr, "drained %llu spans, %llu logs: expected %u, %u\n",
		        (unsigned long long)d.st.spans, (unsigned long long)d.st.logs, (N - 1) / 2,
		        N - 1);
		exit(1);
	}
	otf__mmd_close(&d);
	*records = n;
	*bytes = by;
	return t;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--quiet"))
		return make_file(argv[2], false, 1) ? 1 : 0;
	if (argc != 2) {
		fprintf(stderr, "usage: mmap_receiver_bench DIR | --quiet FILE\n");
		return 2;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/otflow-mmap-bench-%d", argv[1], (int)getpid());
	/* Both paths, cold and warm mapping, interleaved round by round so
	 * that the machine's load hits them alike; best of 5 each. */
	static const char *names[2] = {"direct (default)", "pdata tree (reference)"};
	double best[2][2] = {{1e9, 1e9}, {1e9, 1e9}};
	uint64_t recs = 0, bytes[2] = {0, 0};
	for (int round = 0; round < 5; round++) {
		for (int path_kind = 0; path_kind < 2; path_kind++) {
			for (int warm = 0; warm < 2; warm++) {
				if (make_file(path, true,
				              100 + (uint64_t)(round * 4 + path_kind * 2 + warm))) {
					perror(path);
					return 1;
				}
				double t = drain(path, 1, path_kind == 1, warm == 1, &recs,
				                 &bytes[path_kind]);
				if (t < best[path_kind][warm])
					best[path_kind][warm] = t;
			}
		}
	}
	unlink(path);
	printf(
	    "| path | records per round | CPU s, warm mapping | records/s per core, warm | ns per "
	    "record, warm | CPU s, first lap | records/s per core, first lap | OTLP bytes out |\n");
	printf("|---|---|---|---|---|---|---|---|\n");
	for (int k = 0; k < 2; k++)
		printf("| %s | %llu | %.4f | %.2fM | %.0f | %.4f | %.2fM | %.1f MB |\n", names[k],
		       (unsigned long long)recs, best[k][1], (double)recs / best[k][1] / 1e6,
		       best[k][1] * 1e9 / (double)recs, best[k][0], (double)recs / best[k][0] / 1e6,
		       (double)bytes[k] / 1e6);
	printf("\nrecords per round: %u spans (start + end, 4 attributes), %u log records, %u "
	       "measurements (1 series x 8); direct vs tree, warm: %.2fx, first lap: %.2fx\n",
	       (N - 1) / 2, N - 1, N - 1, best[1][1] / best[0][1], best[1][0] / best[0][0]);
	return 0;
}
