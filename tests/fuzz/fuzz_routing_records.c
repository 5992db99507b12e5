/* Fuzz target: the routing connector's record routing (records_split.c:
 * classify every record by a table of every context, slice the request's
 * bytes into one request per route).
 *
 * Input: byte 0 picks the signal (bits 0-1: traces, metrics, logs, logs),
 * the table (bit 2: with a datapoint entry, so metrics split by data
 * point) and the client metadata (bit 3: X-Tenant: acme); the rest is the
 * protobuf request. Checked: nothing crashes or reads out of bounds
 * (ASan, UBSan), whatever the bytes; a request the decoder accepts is
 * routed, and when split, every part decodes and the parts hold exactly
 * the request's records between them; metrics the decoder refuses are an
 * error (logs and traces are read lazily, so their bytes may pass). */
#include "fuzz_common.h"

#include "components/connectors/routing/records.h"

#include "otflow/alloc.h"
#include "otflow/arena.h"
#include "otflow/buf.h"

static const char *const k_names[] = {"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7"};

static const char *const k_conds[2][8] = {
    {"request[\"X-Tenant\"] == \"acme\" and false", "name == \"GET\"",
     "attributes[\"region\"] == \"east\"", "attributes[\"tenant\"] == \"b\"",
     "IsMatch(body, \"^x\")", "name == \"cpu\"", "severity_number >= SEVERITY_NUMBER_ERROR",
     "request[\"X-Tenant\"] == \"acme\" and resource.attributes[\"k\"] != nil"},
    {"attributes[\"core\"] == \"1\"", "name == \"cpu\"", "attributes[\"tenant\"] == \"b\"",
     "kind == SPAN_KIND_SERVER", "Len(body) > 3", "value_int > 5 or value_double > 5.0",
     "unit == \"By\"", "request[\"X-Tenant\"] == \"acme\""},
};
static const int k_ctxs[2][8] = {
    {OTF_RR_REQUEST, OTF_RR_SPAN, OTF_RR_LOG, OTF_RR_RESOURCE, OTF_RR_LOG, OTF_RR_METRIC,
     OTF_RR_LOG, OTF_RR_SPAN},
    {OTF_RR_DATAPOINT, OTF_RR_METRIC, OTF_RR_RESOURCE, OTF_RR_SPAN, OTF_RR_LOG, OTF_RR_DATAPOINT,
     OTF_RR_METRIC, OTF_RR_REQUEST},
};

static otf__rr_split_t *g_split[2];

static const char *header(const void *user, const char *key)
{
	return user && !strcasecmp(key, "X-Tenant") ? "acme" : NULL;
}

static size_t records(otf_signal_t s, const uint8_t *d, size_t n)
{
	otf_arena_t a;
	otf_arena_init(&a, 4096);
	tree_t t;
	int rc = pb_decode(&t, s, d, n, &a);
	FUZZ_CHECK(rc == 0);
	otf_view_counts_t c;
	tree_counts(&t, &c);
	otf_arena_close(&a);
	return c.records;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	otf_signal_t s = (data[0] & 3) == 0   ? OTF_SIGNAL_TRACES
	                 : (data[0] & 3) == 1 ? OTF_SIGNAL_METRICS
	                                      : OTF_SIGNAL_LOGS;
	int table = (data[0] >> 2) & 1;
	if (!g_split[table]) {
		char err[300];
		int rc = otf__rr_split_create(&g_split[table], k_conds[table], k_ctxs[table],
		                              k_names, 8, OTF_OTTL_ERROR_IGNORE, err, sizeof err);
		if (rc) {
			fprintf(stderr, "table %d: %s\n", table, err);
			abort();
		}
	}
	otf_buf_t *b = otf_buf_create_copy(data + 1, size - 1);
	FUZZ_CHECK(b != NULL);
	int single;
	otf_buf_t *parts[OTF_CR_MAX_ROUTES + 1];
	char why[200];
	int rc = otf__rr_split_run(g_split[table], s, b, header, (data[0] & 8) ? b : NULL, &single,
	                           parts, why, sizeof why);
	otf_arena_t a;
	otf_arena_init(&a, 4096);
	tree_t t;
	bool decodes = pb_decode(&t, s, b->data, b->len, &a) == 0;
	otf_arena_close(&a);
	/* logs and traces are read lazily: bytes the decoder refuses may be
	 * routed too (as the content_router's resources), never the reverse */
	FUZZ_CHECK(!decodes || rc == 0 || rc == OTF_E_NOMEM);
	FUZZ_CHECK(decodes || rc != 0 || s != OTF_SIGNAL_METRICS);
	if (!rc && single == OTF_RR_SPLIT && decodes) {
		size_t sum = 0;
		for (int i = 0; i <= 8; i++) {
			if (!parts[i])
				continue;
			sum += records(s, parts[i]->data, parts[i]->len);
			otf_buf_unref(parts[i]);
		}
		FUZZ_CHECK(sum == records(s, b->data, b->len));
	} else if (!rc && single == OTF_RR_SPLIT) {
		for (int i = 0; i <= 8; i++)
			otf_buf_unref(parts[i]);
	} else if (!rc) {
		FUZZ_CHECK(single >= -1 && single < 8);
	}
	otf_buf_unref(b);
	return 0;
}
