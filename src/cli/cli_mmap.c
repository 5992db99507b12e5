/* otflow mmap dump FILE [--format text|json]: the post-mortem view of an
 * otlp-mmap file (a black box): header, epoch, each ring's indices and
 * unread records, open spans, dictionary size and the reader's skip
 * counters. The file is not modified: nothing is committed. */
#include "cli/cli.h"
#include "components/receivers/otlp_mmap/mmap_drain.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static uint64_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void hex(FILE *o, otf_bytes_t b)
{
	for (size_t i = 0; i < b.len; i++)
		fprintf(o, "%02x", b.ptr[i]);
	if (!b.len)
		fputc('-', o);
}

static void any_text(FILE *o, const otf_any_value_t *v)
{
	switch (v->type) {
	case OTF_ANY_STRING:
		fprintf(o, "\"%.*s\"", (int)v->u.string_value.len,
		        (const char *)v->u.string_value.ptr);
		break;
	case OTF_ANY_BOOL:
		fputs(v->u.bool_value ? "true" : "false", o);
		break;
	case OTF_ANY_INT:
		fprintf(o, "%" PRId64, v->u.int_value);
		break;
	case OTF_ANY_DOUBLE:
		fprintf(o, "%g", v->u.double_value);
		break;
	case OTF_ANY_ARRAY:
		fprintf(o, "[%zu values]", v->u.array_value.values_len);
		break;
	case OTF_ANY_KVLIST:
		fprintf(o, "{%zu keys}", v->u.kvlist_value.values_len);
		break;
	case OTF_ANY_BYTES:
		fprintf(o, "<%zu bytes>", v->u.bytes_value.len);
		break;
	default:
		fputs("null", o);
	}
}

static void attrs_text(FILE *o, const otf_attributes_t *a)
{
	for (size_t i = 0; i < a->len; i++) {
		fprintf(o, " %.*s=", (int)a->items[i].key.len, (const char *)a->items[i].key.ptr);
		any_text(o, &a->items[i].value);
	}
}

static void req_text(FILE *o, const otf__mmd_req_t *q, const char *what)
{
	otf_arena_t a;
	otf_arena_init(&a, 0);
	const uint8_t *p = q->payload->data;
	size_t n = q->payload->len;
	if (q->signal == OTF_SIGNAL_TRACES) {
		otf_traces_t t;
		if (otf_pdata_decode_traces(&t, p, n, &a, NULL, NULL) == 0)
			for (size_t i = 0; i < t.resource_spans_len; i++)
				for (size_t j = 0; j < t.resource_spans[i].scope_spans_len; j++) {
					otf_scope_spans_t *ss = &t.resource_spans[i].scope_spans[j];
					for (size_t k = 0; k < ss->spans_len; k++) {
						otf_span_t *s = &ss->spans[k];
						fprintf(o, "  %s ", what);
						hex(o, s->trace_id);
						fputc('/', o);
						hex(o, s->span_id);
						fprintf(o, " parent=");
						hex(o, s->parent_span_id);
						fprintf(o,
						        " name=\"%.*s\" kind=%d start=%" PRIu64
						        " end=%" PRIu64 " status=%d scope=\"%.*s\"",
						        (int)s->name.len, (const char *)s->name.ptr,
						        s->kind, s->start_time_unix_nano,
						        s->end_time_unix_nano, s->status.code,
						        (int)ss->scope.name.len,
						        (const char *)ss->scope.name.ptr);
						attrs_text(o, &s->attributes);
						fputc('\n', o);
					}
				}
	} else if (q->signal == OTF_SIGNAL_LOGS) {
		otf_logs_t t;
		if (otf_pdata_decode_logs(&t, p, n, &a, NULL, NULL) == 0)
			for (size_t i = 0; i < t.resource_logs_len; i++)
				for (size_t j = 0; j < t.resource_logs[i].scope_logs_len; j++) {
					otf_scope_logs_t *sl = &t.resource_logs[i].scope_logs[j];
					for (size_t k = 0; k < sl->log_records_len; k++) {
						otf_log_record_t *l = &sl->log_records[k];
						fprintf(o,
						        "  log time=%" PRIu64 " severity=%d body=",
						        l->time_unix_nano, l->severity_number);
						any_text(o, &l->body);
						fprintf(o, " event=\"%.*s\" span=",
						        (int)l->event_name.len,
						        (const char *)l->event_name.ptr);
						hex(o, l->span_id);
						attrs_text(o, &l->attributes);
						fputc('\n', o);
					}
				}
	} else {
		otf_metrics_t t;
		if (otf_pdata_decode_metrics(&t, p, n, &a, NULL, NULL) == 0)
			for (size_t i = 0; i < t.resource_metrics_len; i++)
				for (size_t j = 0; j < t.resource_metrics[i].scope_metrics_len;
				     j++) {
					otf_scope_metrics_t *sm =
					    &t.resource_metrics[i].scope_metrics[j];
					for (size_t k = 0; k < sm->metrics_len; k++)
						fprintf(o, "  metric %.*s type=%d points=%zu\n",
						        (int)sm->metrics[k].name.len,
						        (const char *)sm->metrics[k].name.ptr,
						        (int)sm->metrics[k].type,
						        sm->metrics[k].data_points_len);
				}
	}
	otf_arena_close(&a);
}

static void req_json(FILE *o, const otf__mmd_req_t *q, bool *first)
{
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_buf_t *j = NULL;
	const uint8_t *p = q->payload->data;
	size_t n = q->payload->len;
	int rc;
	if (q->signal == OTF_SIGNAL_TRACES) {
		otf_traces_t t;
		rc = otf_pdata_decode_traces(&t, p, n, &a, NULL, NULL);
		if (!rc)
			rc = otf_pdata_json_encode_traces(&t, &j);
	} else if (q->signal == OTF_SIGNAL_LOGS) {
		otf_logs_t t;
		rc = otf_pdata_decode_logs(&t, p, n, &a, NULL, NULL);
		if (!rc)
			rc = otf_pdata_json_encode_logs(&t, &j);
	} else {
		otf_metrics_t t;
		rc = otf_pdata_decode_metrics(&t, p, n, &a, NULL, NULL);
		if (!rc)
			rc = otf_pdata_json_encode_metrics(&t, &j);
	}
	if (!rc) {
		fprintf(o, "%s%.*s", *first ? "" : ",", (int)j->len, (const char *)j->data);
		*first = false;
	}
	otf_buf_unref(j);
	otf_arena_close(&a);
}

typedef struct reqs {
	otf__mmd_req_t *q;
	size_t n;
	size_t open_from; /* index of the first request of open spans */
} reqs_t;

static void collect(otf__mmd_t *d, reqs_t *r)
{
	otf__mmd_req_t q;
	while (otf__mmd_take(d, &q)) {
		otf__mmd_req_t *p = otf_realloc(r->q, (r->n + 1) * sizeof *p);
		if (!p) {
			otf_buf_unref(q.payload);
			continue;
		}
		r->q = p;
		r->q[r->n++] = q;
	}
}

int otf_cli_mmap(int argc, char **argv)
{
	if (argc < 3 || strcmp(argv[1], "dump")) {
		fprintf(stderr, "usage: otflow mmap dump FILE [--format text|json]\n");
		return 2;
	}
	const char *path = NULL, *format = "text";
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--format") && i + 1 < argc)
			format = argv[++i];
		else if (!strncmp(argv[i], "--format=", 9))
			format = argv[i] + 9;
		else if (!path)
			path = argv[i];
		else
			path = "";
	}
	bool json = !strcmp(format, "json");
	if (!path || !path[0] || (!json && strcmp(format, "text"))) {
		fprintf(stderr, "usage: otflow mmap dump FILE [--format text|json]\n");
		return 2;
	}
	otf__mmd_opts_t o;
	otf__mmd_opts_default(&o);
	o.hole_timeout_ns = 0; /* post-mortem: nobody will publish a hole */
	o.span_ttl_ns = 0;
	o.max_open_spans = (size_t)1 << 24;
	otf__mmd_t d;
	otf__mmd_init(&d, &o);
	int rc = otf__mmd_open(&d, path);
	if (rc) {
		fprintf(stderr, "otflow mmap dump: %s: %s\n", path, otf_strerror(rc));
		otf__mmd_close(&d);
		return 1;
	}
	int64_t ri[OTF_MMR_RINGS], wi[OTF_MMR_RINGS];
	long n = otf__mmd_poll(&d, mono_now(), 0, 0);
	for (int i = 0; i < OTF_MMR_RINGS; i++) {
		ri[i] = otf__mmr_reader_index(&d.r, i);
		wi[i] = otf__mmr_writer_index(&d.r, i);
	}
	reqs_t r = {0};
	if (n >= 0) {
		/* drain everything unread, holes included (two empty rounds) */
		int empty = 0;
		while (empty < 2) {
			long k = otf__mmd_poll(&d, mono_now(), 0, 1 << 16);
			empty = k > 0 ? 0 : empty + 1;
			otf__mmd_cut(&d);
			collect(&d, &r);
		}
		r.open_from = r.n;
		otf__mmd_expire(&d, 0, 0, true);
		otf__mmd_cut(&d);
		collect(&d, &r);
		otf__mmd_collect(&d, 0);
		collect(&d, &r);
	}
	FILE *out = stdout;
	const otf__mmr_t *m = &d.r;
	if (json) {
		fprintf(out, "{\"file\":\"%s\",\"version\":%" PRId64 ",\"ready\":%s", path,
		        m->version, m->ready ? "true" : "false");
		if (!m->ready)
			fprintf(out, ",\"why\":\"%s\"", m->why);
		fprintf(out, ",\"epoch\":\"%" PRIu64 "\",\"rings\":{", m->epoch);
		for (int i = 0; m->ready && i < OTF_MMR_RINGS; i++)
			fprintf(out,
			        "%s\"%s\":{\"offset\":%" PRIu64 ",\"num_buffers\":%" PRIu64
			        ",\"buffer_size\":%" PRIu64 ",\"reader_index\":%" PRId64
			        ",\"writer_index\":%" PRId64 ",\"unread_records\":%" PRIu64
			        ",\"holes\":%" PRIu64 ",\"undecodable\":%" PRIu64 "}",
			        i ? "," : "", otf__mmr_ring_name(i), m->ring[i].off, m->ring[i].n,
			        m->ring[i].b, ri[i], wi[i], d.st.records[i], m->ring[i].holes,
			        m->ring[i].undecodable);
		fprintf(out,
		        "},\"dictionary\":{\"offset\":%" PRIu64 ",\"end\":%" PRId64
		        ",\"entries\":%" PRId64 "},\"producer_drops\":{\"events\":%" PRIu64
		        ",\"spans\":%" PRIu64 ",\"measurements\":%" PRIu64
		        ",\"dictionary_refused\":%" PRIu64 "},\"open_spans\":%" PRIu64
		        ",\"bad_records\":%" PRIu64 ",\"unknown_span_records\":%" PRIu64,
		        m->dict_off, otf__mmr_dict_end(m), otf__mmr_dict_entries(m),
		        otf__mmr_drops(m, 0), otf__mmr_drops(m, 1), otf__mmr_drops(m, 2),
		        otf__mmr_drops(m, 3), d.st.incomplete, d.st.bad_records, d.st.unknown_span);
		static const char *const names[] = {"traces", "metrics", "logs"};
		for (int s = 0; s < 3; s++) {
			fprintf(out, ",\"%s\":[", names[s]);
			bool first = true;
			for (size_t i = 0; i < r.n; i++)
				if ((int)r.q[i].signal == s)
					req_json(out, &r.q[i], &first);
			fputc(']', out);
		}
		fputs("}\n", out);
	} else {
		fprintf(out, "file: %s\nversion: %" PRId64 "\n", path, m->version);
		if (!m->ready)
			fprintf(out, "state: not readable (%s)\n", m->why);
		time_t secs = (time_t)(m->epoch / 1000000000ull);
		struct tm tm;
		char ts[64] = "";
		if (gmtime_r(&secs, &tm))
			strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(out, "epoch: %" PRIu64 " (%s)\n", m->epoch, ts);
		for (int i = 0; m->ready && i < OTF_MMR_RINGS; i++)
			fprintf(out,
			        "ring %s @%" PRIu64 ": num_buffers=%" PRIu64 " buffer_size=%" PRIu64
			        " reader_index=%" PRId64 " writer_index=%" PRId64
			        " unread_records=%" PRIu64 " holes=%" PRIu64 " undecodable=%" PRIu64
			        "\n",
			        otf__mmr_ring_name(i), m->ring[i].off, m->ring[i].n, m->ring[i].b,
			        ri[i], wi[i], d.st.records[i], m->ring[i].holes,
			        m->ring[i].undecodable);
		if (m->ready)
			fprintf(out,
			        "dictionary @%" PRIu64 ": end=%" PRId64 " (%" PRId64
			        " bytes) entries=%" PRId64 "\n",
			        m->dict_off, otf__mmr_dict_end(m),
			        otf__mmr_dict_end(m) - (int64_t)m->dict_off,
			        otf__mmr_dict_entries(m));
		if (m->ready)
			fprintf(out,
			        "producer drops: events=%" PRIu64 " spans=%" PRIu64
			        " measurements=%" PRIu64 " dictionary_refused=%" PRIu64 "\n",
			        otf__mmr_drops(m, 0), otf__mmr_drops(m, 1), otf__mmr_drops(m, 2),
			        otf__mmr_drops(m, 3));
		fprintf(out,
		        "unread: spans=%" PRIu64 " (open %" PRIu64 ") logs=%" PRIu64
		        " bad_records=%" PRIu64 " unknown_span_records=%" PRIu64 "\n",
		        d.st.spans - d.st.incomplete, d.st.incomplete, d.st.logs, d.st.bad_records,
		        d.st.unknown_span);
		for (size_t i = 0; i < r.n; i++)
			req_text(out, &r.q[i], i >= r.open_from ? "open-span" : "span");
	}
	int ret = m->ready ? 0 : 1;
	for (size_t i = 0; i < r.n; i++)
		otf_buf_unref(r.q[i].payload);
	otf_free(r.q);
	otf__mmd_close(&d);
	return ret;
}
