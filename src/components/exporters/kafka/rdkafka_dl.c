/* The table of librdkafka.so.1's functions (see rdkafka_dl.h). */
#include "rdkafka_dl.h"

#include "core/lazylib.h"

otf__rdkafka_fns_t otf__rdkafka_table;
_Atomic int otf__rdkafka_loaded;

static const char *const k_names[] = {
    "rd_kafka_assign",
    "rd_kafka_commit",
    "rd_kafka_conf_destroy",
    "rd_kafka_conf_new",
    "rd_kafka_conf_set",
    "rd_kafka_conf_set_dr_msg_cb",
    "rd_kafka_conf_set_error_cb",
    "rd_kafka_conf_set_log_cb",
    "rd_kafka_conf_set_offset_commit_cb",
    "rd_kafka_conf_set_opaque",
    "rd_kafka_conf_set_rebalance_cb",
    "rd_kafka_consumer_close_queue",
    "rd_kafka_consumer_closed",
    "rd_kafka_consumer_poll",
    "rd_kafka_destroy",
    "rd_kafka_destroy_flags",
    "rd_kafka_err2name",
    "rd_kafka_err2str",
    "rd_kafka_error_destroy",
    "rd_kafka_error_string",
    "rd_kafka_flush",
    "rd_kafka_get_watermark_offsets",
    "rd_kafka_header_get_all",
    "rd_kafka_header_get_last",
    "rd_kafka_incremental_assign",
    "rd_kafka_incremental_unassign",
    "rd_kafka_message_destroy",
    "rd_kafka_message_errstr",
    "rd_kafka_message_headers",
    "rd_kafka_new",
    "rd_kafka_offsets_store",
    "rd_kafka_opaque",
    "rd_kafka_pause_partitions",
    "rd_kafka_poll",
    "rd_kafka_poll_set_consumer",
    "rd_kafka_producev",
    "rd_kafka_purge",
    "rd_kafka_queue_destroy",
    "rd_kafka_queue_get_consumer",
    "rd_kafka_queue_get_main",
    "rd_kafka_queue_io_event_enable",
    "rd_kafka_queue_poll_callback",
    "rd_kafka_resume_partitions",
    "rd_kafka_seek",
    "rd_kafka_set_log_queue",
    "rd_kafka_subscribe",
    "rd_kafka_topic_name",
    "rd_kafka_topic_partition_list_add",
    "rd_kafka_topic_partition_list_destroy",
    "rd_kafka_topic_partition_list_find",
    "rd_kafka_topic_partition_list_new",
};

const otf__rdkafka_fns_t *otf__rdkafka_load(void)
{
	_Static_assert(sizeof k_names / sizeof k_names[0] * sizeof(void (*)(void)) ==
	                   sizeof(otf__rdkafka_fns_t),
	               "one name per table entry");
	otf__lazylib_load("librdkafka.so.1", "the kafka receiver and exporter", k_names,
	                  sizeof k_names / sizeof k_names[0],
	                  (void (**)(void))(void *)&otf__rdkafka_table, &otf__rdkafka_loaded);
	return &otf__rdkafka_table;
}
