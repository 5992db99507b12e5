/* librdkafka.so.1, loaded at first use instead of at process start (the kafka receiver and exporter).
 *
 * otflow links many libraries that only some components use; as DT_NEEDED
 * entries the dynamic loader maps and relocates them, with their own
 * dependency trees and library constructors, in every process, also when
 * no pipeline uses them (docs/benchmarks.md, "memory"). This header is
 * included after <librdkafka/rdkafka.h>: each function the code calls becomes a call through
 * a table filled by dlopen + dlsym the first time any of them is used
 * (core/lazylib.h). Add a function here (and to the table in rdkafka_dl.c)
 * before calling it. Thread-safe; the table never changes once loaded. A
 * library that cannot be loaded is a fatal error naming it (the Debian
 * package depends on it). Generated list: the functions otflow calls. */
#ifndef OTF_RDKAFKA_DL_H
#define OTF_RDKAFKA_DL_H

#include <librdkafka/rdkafka.h>

typedef struct otf__rdkafka_fns {
	__typeof__(rd_kafka_assign) *rd_kafka_assign;
	__typeof__(rd_kafka_commit) *rd_kafka_commit;
	__typeof__(rd_kafka_conf_destroy) *rd_kafka_conf_destroy;
	__typeof__(rd_kafka_conf_new) *rd_kafka_conf_new;
	__typeof__(rd_kafka_conf_set) *rd_kafka_conf_set;
	__typeof__(rd_kafka_conf_set_dr_msg_cb) *rd_kafka_conf_set_dr_msg_cb;
	__typeof__(rd_kafka_conf_set_error_cb) *rd_kafka_conf_set_error_cb;
	__typeof__(rd_kafka_conf_set_log_cb) *rd_kafka_conf_set_log_cb;
	__typeof__(rd_kafka_conf_set_offset_commit_cb) *rd_kafka_conf_set_offset_commit_cb;
	__typeof__(rd_kafka_conf_set_opaque) *rd_kafka_conf_set_opaque;
	__typeof__(rd_kafka_conf_set_rebalance_cb) *rd_kafka_conf_set_rebalance_cb;
	__typeof__(rd_kafka_consumer_close_queue) *rd_kafka_consumer_close_queue;
	__typeof__(rd_kafka_consumer_closed) *rd_kafka_consumer_closed;
	__typeof__(rd_kafka_consumer_poll) *rd_kafka_consumer_poll;
	__typeof__(rd_kafka_destroy) *rd_kafka_destroy;
	__typeof__(rd_kafka_destroy_flags) *rd_kafka_destroy_flags;
	__typeof__(rd_kafka_err2name) *rd_kafka_err2name;
	__typeof__(rd_kafka_err2str) *rd_kafka_err2str;
	__typeof__(rd_kafka_error_destroy) *rd_kafka_error_destroy;
	__typeof__(rd_kafka_error_string) *rd_kafka_error_string;
	__typeof__(rd_kafka_flush) *rd_kafka_flush;
	__typeof__(rd_kafka_get_watermark_offsets) *rd_kafka_get_watermark_offsets;
	__typeof__(rd_kafka_header_get_all) *rd_kafka_header_get_all;
	__typeof__(rd_kafka_header_get_last) *rd_kafka_header_get_last;
	__typeof__(rd_kafka_incremental_assign) *rd_kafka_incremental_assign;
	__typeof__(rd_kafka_incremental_unassign) *rd_kafka_incremental_unassign;
	__typeof__(rd_kafka_message_destroy) *rd_kafka_message_destroy;
	__typeof__(rd_kafka_message_errstr) *rd_kafka_message_errstr;
	__typeof__(rd_kafka_message_headers) *rd_kafka_message_headers;
	__typeof__(rd_kafka_new) *rd_kafka_new;
	__typeof__(rd_kafka_offsets_store) *rd_kafka_offsets_store;
	__typeof__(rd_kafka_opaque) *rd_kafka_opaque;
	__typeof__(rd_kafka_pause_partitions) *rd_kafka_pause_partitions;
	__typeof__(rd_kafka_poll) *rd_kafka_poll;
	__typeof__(rd_kafka_poll_set_consumer) *rd_kafka_poll_set_consumer;
	__typeof__(rd_kafka_producev) *rd_kafka_producev;
	__typeof__(rd_kafka_purge) *rd_kafka_purge;
	__typeof__(rd_kafka_queue_destroy) *rd_kafka_queue_destroy;
	__typeof__(rd_kafka_queue_get_consumer) *rd_kafka_queue_get_consumer;
	__typeof__(rd_kafka_queue_get_main) *rd_kafka_queue_get_main;
	__typeof__(rd_kafka_queue_io_event_enable) *rd_kafka_queue_io_event_enable;
	__typeof__(rd_kafka_queue_poll_callback) *rd_kafka_queue_poll_callback;
	__typeof__(rd_kafka_resume_partitions) *rd_kafka_resume_partitions;
	__typeof__(rd_kafka_seek) *rd_kafka_seek;
	__typeof__(rd_kafka_set_log_queue) *rd_kafka_set_log_queue;
	__typeof__(rd_kafka_subscribe) *rd_kafka_subscribe;
	__typeof__(rd_kafka_topic_name) *rd_kafka_topic_name;
	__typeof__(rd_kafka_topic_partition_list_add) *rd_kafka_topic_partition_list_add;
	__typeof__(rd_kafka_topic_partition_list_destroy) *rd_kafka_topic_partition_list_destroy;
	__typeof__(rd_kafka_topic_partition_list_find) *rd_kafka_topic_partition_list_find;
	__typeof__(rd_kafka_topic_partition_list_new) *rd_kafka_topic_partition_list_new;
} otf__rdkafka_fns_t;

extern otf__rdkafka_fns_t otf__rdkafka_table;
extern _Atomic int otf__rdkafka_loaded;
/* Loads the library (once) and returns the table; exits naming the
 * library and the loader's reason when it cannot be loaded. */
const otf__rdkafka_fns_t *otf__rdkafka_load(void);

static inline const otf__rdkafka_fns_t *otf__rdkafka_fns(void)
{
	return __builtin_expect(otf__rdkafka_loaded, 1) ? &otf__rdkafka_table : otf__rdkafka_load();
}

#undef rd_kafka_assign
#define rd_kafka_assign (otf__rdkafka_fns()->rd_kafka_assign)
#undef rd_kafka_commit
#define rd_kafka_commit (otf__rdkafka_fns()->rd_kafka_commit)
#undef rd_kafka_conf_destroy
#define rd_kafka_conf_destroy (otf__rdkafka_fns()->rd_kafka_conf_destroy)
#undef rd_kafka_conf_new
#define rd_kafka_conf_new (otf__rdkafka_fns()->rd_kafka_conf_new)
#undef rd_kafka_conf_set
#define rd_kafka_conf_set (otf__rdkafka_fns()->rd_kafka_conf_set)
#undef rd_kafka_conf_set_dr_msg_cb
#define rd_kafka_conf_set_dr_msg_cb (otf__rdkafka_fns()->rd_kafka_conf_set_dr_msg_cb)
#undef rd_kafka_conf_set_error_cb
#define rd_kafka_conf_set_error_cb (otf__rdkafka_fns()->rd_kafka_conf_set_error_cb)
#undef rd_kafka_conf_set_log_cb
#define rd_kafka_conf_set_log_cb (otf__rdkafka_fns()->rd_kafka_conf_set_log_cb)
#undef rd_kafka_conf_set_offset_commit_cb
#define rd_kafka_conf_set_offset_commit_cb (otf__rdkafka_fns()->rd_kafka_conf_set_offset_commit_cb)
#undef rd_kafka_conf_set_opaque
#define rd_kafka_conf_set_opaque (otf__rdkafka_fns()->rd_kafka_conf_set_opaque)
#undef rd_kafka_conf_set_rebalance_cb
#define rd_kafka_conf_set_rebalance_cb (otf__rdkafka_fns()->rd_kafka_conf_set_rebalance_cb)
#undef rd_kafka_consumer_close_queue
#define rd_kafka_consumer_close_queue (otf__rdkafka_fns()->rd_kafka_consumer_close_queue)
#undef rd_kafka_consumer_closed
#define rd_kafka_consumer_closed (otf__rdkafka_fns()->rd_kafka_consumer_closed)
#undef rd_kafka_consumer_poll
#define rd_kafka_consumer_poll (otf__rdkafka_fns()->rd_kafka_consumer_poll)
#undef rd_kafka_destroy
#define rd_kafka_destroy (otf__rdkafka_fns()->rd_kafka_destroy)
#undef rd_kafka_destroy_flags
#define rd_kafka_destroy_flags (otf__rdkafka_fns()->rd_kafka_destroy_flags)
#undef rd_kafka_err2name
#define rd_kafka_err2name (otf__rdkafka_fns()->rd_kafka_err2name)
#undef rd_kafka_err2str
#define rd_kafka_err2str (otf__rdkafka_fns()->rd_kafka_err2str)
#undef rd_kafka_error_destroy
#define rd_kafka_error_destroy (otf__rdkafka_fns()->rd_kafka_error_destroy)
#undef rd_kafka_error_string
#define rd_kafka_error_string (otf__rdkafka_fns()->rd_kafka_error_string)
#undef rd_kafka_flush
#define rd_kafka_flush (otf__rdkafka_fns()->rd_kafka_flush)
#undef rd_kafka_get_watermark_offsets
#define rd_kafka_get_watermark_offsets (otf__rdkafka_fns()->rd_kafka_get_watermark_offsets)
#undef rd_kafka_header_get_all
#define rd_kafka_header_get_all (otf__rdkafka_fns()->rd_kafka_header_get_all)
#undef rd_kafka_header_get_last
#define rd_kafka_header_get_last (otf__rdkafka_fns()->rd_kafka_header_get_last)
#undef rd_kafka_incremental_assign
#define rd_kafka_incremental_assign (otf__rdkafka_fns()->rd_kafka_incremental_assign)
#undef rd_kafka_incremental_unassign
#define rd_kafka_incremental_unassign (otf__rdkafka_fns()->rd_kafka_incremental_unassign)
#undef rd_kafka_message_destroy
#define rd_kafka_message_destroy (otf__rdkafka_fns()->rd_kafka_message_destroy)
#undef rd_kafka_message_errstr
#define rd_kafka_message_errstr (otf__rdkafka_fns()->rd_kafka_message_errstr)
#undef rd_kafka_message_headers
#define rd_kafka_message_headers (otf__rdkafka_fns()->rd_kafka_message_headers)
#undef rd_kafka_new
#define rd_kafka_new (otf__rdkafka_fns()->rd_kafka_new)
#undef rd_kafka_offsets_store
#define rd_kafka_offsets_store (otf__rdkafka_fns()->rd_kafka_offsets_store)
#undef rd_kafka_opaque
#define rd_kafka_opaque (otf__rdkafka_fns()->rd_kafka_opaque)
#undef rd_kafka_pause_partitions
#define rd_kafka_pause_partitions (otf__rdkafka_fns()->rd_kafka_pause_partitions)
#undef rd_kafka_poll
#define rd_kafka_poll (otf__rdkafka_fns()->rd_kafka_poll)
#undef rd_kafka_poll_set_consumer
#define rd_kafka_poll_set_consumer (otf__rdkafka_fns()->rd_kafka_poll_set_consumer)
#undef rd_kafka_producev
#define rd_kafka_producev (otf__rdkafka_fns()->rd_kafka_producev)
#undef rd_kafka_purge
#define rd_kafka_purge (otf__rdkafka_fns()->rd_kafka_purge)
#undef rd_kafka_queue_destroy
#define rd_kafka_queue_destroy (otf__rdkafka_fns()->rd_kafka_queue_destroy)
#undef rd_kafka_queue_get_consumer
#define rd_kafka_queue_get_consumer (otf__rdkafka_fns()->rd_kafka_queue_get_consumer)
#undef rd_kafka_queue_get_main
#define rd_kafka_queue_get_main (otf__rdkafka_fns()->rd_kafka_queue_get_main)
#undef rd_kafka_queue_io_event_enable
#define rd_kafka_queue_io_event_enable (otf__rdkafka_fns()->rd_kafka_queue_io_event_enable)
#undef rd_kafka_queue_poll_callback
#define rd_kafka_queue_poll_callback (otf__rdkafka_fns()->rd_kafka_queue_poll_callback)
#undef rd_kafka_resume_partitions
#define rd_kafka_resume_partitions (otf__rdkafka_fns()->rd_kafka_resume_partitions)
#undef rd_kafka_seek
#define rd_kafka_seek (otf__rdkafka_fns()->rd_kafka_seek)
#undef rd_kafka_set_log_queue
#define rd_kafka_set_log_queue (otf__rdkafka_fns()->rd_kafka_set_log_queue)
#undef rd_kafka_subscribe
#define rd_kafka_subscribe (otf__rdkafka_fns()->rd_kafka_subscribe)
#undef rd_kafka_topic_name
#define rd_kafka_topic_name (otf__rdkafka_fns()->rd_kafka_topic_name)
#undef rd_kafka_topic_partition_list_add
#define rd_kafka_topic_partition_list_add (otf__rdkafka_fns()->rd_kafka_topic_partition_list_add)
#undef rd_kafka_topic_partition_list_destroy
#define rd_kafka_topic_partition_list_destroy \
	(otf__rdkafka_fns()->rd_kafka_topic_partition_list_destroy)
#undef rd_kafka_topic_partition_list_find
#define rd_kafka_topic_partition_list_find (otf__rdkafka_fns()->rd_kafka_topic_partition_list_find)
#undef rd_kafka_topic_partition_list_new
#define rd_kafka_topic_partition_list_new (otf__rdkafka_fns()->rd_kafka_topic_partition_list_new)

#endif
