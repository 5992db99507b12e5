/* receiver `kafka`: a Kafka message's value to the OTLP protobuf request
 * the pipeline gets (kafka_receiver.h). */
#include "kafka_receiver.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_view.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int otf__krcv_convert(const krcv_config_t *c, otf_signal_t signal, int enc,
                      const rd_kafka_message_t *rkm, otf_buf_t **out, uint64_t *items, char *why,
                      size_t whylen)
{
	const uint8_t *data = rkm->payload;
	size_t len = rkm->len;
	otf_buf_t *b = NULL;
	int rc;
	otf_pdata_error_t perr;
	memset(&perr, 0, sizeof perr);
	if (enc == KRCV_ENC_JSON) {
		otf_arena_t a;
		otf_arena_init(&a, 0);
		if (signal == OTF_SIGNAL_TRACES) {
			otf_traces_t t;
			rc = otf_pdata_json_decode_traces(&t, (const char *)data, len, &a, NULL,
			                                  &perr);
			if (!rc)
				rc = otf_pdata_encode_traces(&t, &b);
		} else if (signal == OTF_SIGNAL_METRICS) {
			otf_metrics_t m;
			rc = otf_pdata_json_decode_metrics(&m, (const char *)data, len, &a, NULL,
			                                   &perr);
			if (!rc)
				rc = otf_pdata_encode_metrics(&m, &b);
		} else {
			otf_logs_t l;
			rc = otf_pdata_json_decode_logs(&l, (const char *)data, len, &a, NULL,
			                                &perr);
			if (!rc)
				rc = otf_pdata_encode_logs(&l, &b);
		}
		otf_arena_close(&a);
	} else {
		otf_view_limits_t lim = {.max_items = OTF_VIEW_DEFAULT_MAX_ITEMS,
		                         .max_attributes = OTF_VIEW_DEFAULT_MAX_ATTRIBUTES};
		otf_view_counts_t cnt;
		rc = otf_view_validate(signal, data, len, &lim, &cnt, &perr);
		if (!rc) {
			b = otf_buf_create_copy(data ? data : (const uint8_t *)"", len);
			if (!b)
				rc = OTF_E_NOMEM;
		}
	}
	if (!rc && c->header_extraction.extract_headers && c->header_extraction.headers.n) {
		const otf_config_strlist_t *hl = &c->header_extraction.headers;
		const char *keys[32], *vals[32];
		char kbuf[32][128], vbuf[32][256];
		size_t n = 0;
		rd_kafka_headers_t *hdrs = NULL;
		if (!rd_kafka_message_headers(rkm, &hdrs)) {
			for (size_t i = 0; i < hl->n && n < 32; i++) {
				const void *v;
				size_t vl;
				if (rd_kafka_header_get_last(hdrs, hl->items[i], &v, &vl))
					continue;
				snprintf(kbuf[n], sizeof kbuf[n], "kafka.header.%s", hl->items[i]);
				snprintf(vbuf[n], sizeof vbuf[n], "%.*s", (int)vl, (const char *)v);
				keys[n] = kbuf[n];
				vals[n] = vbuf[n];
				n++;
			}
		}
		if (n) {
			otf_buf_t *nb = NULL;
			rc = otf__kafka_add_resource_attrs(b->data, b->len, keys, vals, n, &nb);
			otf_buf_unref(b);
			b = rc ? NULL : nb;
		}
	}
	if (!rc) {
		otf_view_counts_t cnt;
		rc = otf_view_count(signal, b->data, b->len, &cnt);
		*items = cnt.records;
	}
	if (rc) {
		otf_buf_unref(b);
		char d[256];
		snprintf(why, whylen, "%s/%d offset %" PRId64 ": %s", rd_kafka_topic_name(rkm->rkt),
		         (int)rkm->partition, rkm->offset,
		         perr.code ? otf_pdata_error_format(&perr, d, sizeof d) : otf_strerror(rc));
		return rc;
	}
	*out = b;
	return 0;
}
