/* libFuzzer target: arbitrary bytes as a Kafka message's OTLP request, run
 * through the kafka components' byte helpers (components/exporters/kafka/
 * kafka_otlp.c): resource groups, the resource attribute hash and lookup,
 * and the header_extraction rewrite with its own field walker. The
 * sanitizers catch out-of-bounds reads and writes past the estimated
 * output size; the split per trace id (partition_traces_by_id) runs too; when the input is a valid request of a signal, the rewrite
 * must be one too, with the same resource and record counts, and the
 * groups written back one by one must give the input again. */
#include "components/exporters/kafka/kafka_common.h"

#include "fuzz_common.h"

#include "otflow/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	otf_kafka_group_t g[64];
	int n = otf__kafka_groups(data, size, g, 64);
	if (n >= 0) {
		size_t total = 0, k = (size_t)n < 64 ? (size_t)n : 64;
		for (size_t i = 0; i < k; i++) {
			char hex[17];
			const uint8_t *v;
			size_t vl;
			FUZZ_CHECK(otf__kafka_group_hash(&g[i], hex) == 0);
			FUZZ_CHECK(strlen(hex) == 16);
			if (otf__kafka_group_attr(&g[i], "service.name", 12, &v, &vl) == 1)
				FUZZ_CHECK(v >= data && v + vl <= data + size);
			total += otf__kafka_group_wire_len(&g[i]);
		}
		if ((size_t)n <= 64) {
			otf_buf_t *b = otf_buf_create(total ? total : 1);
			for (size_t i = 0; i < k; i++)
				otf__kafka_group_write(b, &g[i]);
			FUZZ_CHECK(b->len == total);
			otf_buf_unref(b);
		}
	}
	const char *keys[] = {"kafka.header.a", "kafka.header.bb"};
	const char *vals[] = {"1", "a value of a header"};
	otf_buf_t *out = NULL;
	int rc = otf__kafka_add_resource_attrs(data, size, keys, vals, 2, &out);
	for (int s = OTF_SIGNAL_TRACES; s <= OTF_SIGNAL_LOGS; s++) {
		otf_view_counts_t in_c, out_c;
		if (otf_view_validate((otf_signal_t)s, data, size, NULL, &in_c, NULL))
			continue;
		FUZZ_CHECK(rc == 0);
		FUZZ_CHECK(otf_view_validate((otf_signal_t)s, out->data, out->len, NULL, &out_c,
		                             NULL) == 0);
		FUZZ_CHECK(out_c.resources == in_c.resources);
		FUZZ_CHECK(out_c.records == in_c.records);
		FUZZ_CHECK(out_c.attributes == in_c.attributes + 2 * in_c.resources);
	}
	if (!rc)
		FUZZ_CHECK(out->len <= out->cap);
	otf_buf_unref(out);

	/* partition_traces_by_id: the parts of a valid request are valid and
	 * hold its spans, each once. */
	otf_kafka_trace_part_t *parts = NULL;
	size_t np = 0;
	otf_view_counts_t tc;
	bool valid = !otf_view_validate(OTF_SIGNAL_TRACES, data, size, NULL, &tc, NULL);
	rc = otf__kafka_split_traces(data, size, &parts, &np);
	if (valid)
		FUZZ_CHECK(rc == 0);
	size_t spans = 0;
	for (size_t i = 0; i < np; i++) {
		otf_view_counts_t pc;
		FUZZ_CHECK(parts[i].buf->len <= parts[i].buf->cap);
		if (valid) {
			FUZZ_CHECK(otf_view_validate(OTF_SIGNAL_TRACES, parts[i].buf->data,
			                             parts[i].buf->len, NULL, &pc, NULL) == 0);
			spans += pc.records;
		}
		otf_buf_unref(parts[i].buf);
	}
	otf_free(parts);
	if (valid)
		FUZZ_CHECK(spans == tc.records);
	return 0;
}
