/* Registers otflow's built-in components through the same factory
 * structure plugins use. */
#include "otflow/component.h"

extern const otf_component_factory_t otf_receiver_nop_factory;
extern const otf_component_factory_t otf_receiver_otlp_factory;
extern const otf_component_factory_t otf_exporter_nop_factory;
extern const otf_component_factory_t otf_exporter_debug_factory;
extern const otf_component_factory_t otf_exporter_file_factory;
extern const otf_component_factory_t otf_exporter_otlphttp_factory;
extern const otf_component_factory_t otf_exporter_otlp_factory;
extern const otf_component_factory_t otf_connector_forward_factory;
extern const otf_component_factory_t otf_processor_memory_limiter_factory;
extern const otf_component_factory_t otf_processor_admission_factory;
extern const otf_component_factory_t otf_processor_batch_factory;
extern const otf_component_factory_t otf_processor_type_router_factory;
extern const otf_component_factory_t otf_processor_ack_factory;
extern const otf_component_factory_t otf_processor_retry_factory;
extern const otf_component_factory_t otf_processor_failover_router_factory;
extern const otf_component_factory_t otf_processor_probabilistic_sampler_factory;
extern const otf_component_factory_t otf_processor_tail_sampling_factory;
extern const otf_component_factory_t otf_receiver_partial_factory;
extern const otf_component_factory_t otf_exporter_partial_factory;
extern const otf_component_factory_t otf_receiver_otlp_mmap_factory;
extern const otf_component_factory_t otf_receiver_push_factory;
extern const otf_component_factory_t otf_extension_bearertokenauth_factory;
extern const otf_component_factory_t otf_extension_basicauth_factory;
extern const otf_component_factory_t otf_extension_headers_setter_factory;
extern const otf_component_factory_t otf_processor_attributes_factory;
extern const otf_component_factory_t otf_processor_resource_factory;
extern const otf_component_factory_t otf_processor_filter_factory;
extern const otf_component_factory_t otf_processor_transform_factory;
extern const otf_component_factory_t otf_processor_redaction_factory;
extern const otf_component_factory_t otf_processor_resourcedetection_factory;
extern const otf_component_factory_t otf_connector_spanmetrics_factory;
extern const otf_component_factory_t otf_connector_count_factory;
extern const otf_component_factory_t otf_extension_file_storage_factory;
extern const otf_component_factory_t otf_exporter_kafka_factory;
extern const otf_component_factory_t otf_receiver_kafka_factory;
extern const otf_component_factory_t otf_processor_content_router_factory;
extern const otf_component_factory_t otf_connector_routing_factory;
extern const otf_component_factory_t otf_connector_failover_factory;
extern const otf_component_factory_t otf_processor_deadline_factory;
extern const otf_component_factory_t otf_processor_cumulativetodelta_factory;
extern const otf_component_factory_t otf_processor_deltatocumulative_factory;
extern const otf_component_factory_t otf_processor_interval_factory;
extern const otf_component_factory_t otf_processor_metricstransform_factory;

void otf_components_register_builtins(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	/* One entry per line, in `otflow components` order; kept out of
	 * clang-format so that adding a component is a one-line change. */
	/* clang-format off */
	const otf_component_factory_t *all[] = {
	    &otf_receiver_otlp_factory,
	    &otf_receiver_nop_factory,
	    &otf_receiver_otlp_mmap_factory,
	    &otf_receiver_push_factory,
	    &otf_exporter_debug_factory,
	    &otf_exporter_file_factory,
	    &otf_exporter_otlphttp_factory,
	    &otf_exporter_otlp_factory,
	    &otf_exporter_nop_factory,
	    &otf_connector_forward_factory,
	    &otf_processor_memory_limiter_factory,
	    &otf_processor_batch_factory,
	    &otf_processor_type_router_factory,
	    &otf_processor_ack_factory,
	    &otf_processor_retry_factory,
	    &otf_processor_failover_router_factory,
	    &otf_processor_probabilistic_sampler_factory,
	    &otf_processor_tail_sampling_factory,
	    &otf_receiver_partial_factory,
	    &otf_exporter_partial_factory,
	    &otf_extension_bearertokenauth_factory,
	    &otf_extension_basicauth_factory,
	    &otf_extension_headers_setter_factory,
	    &otf_processor_attributes_factory,
	    &otf_processor_resource_factory,
	    &otf_processor_filter_factory,
	    &otf_processor_transform_factory,
	    &otf_processor_redaction_factory,
	    &otf_processor_resourcedetection_factory,
	    &otf_connector_spanmetrics_factory,
	    &otf_connector_count_factory,
	    &otf_extension_file_storage_factory,
	    &otf_exporter_kafka_factory,
	    &otf_receiver_kafka_factory,
	    &otf_processor_content_router_factory,
	    &otf_connector_routing_factory,
	    &otf_connector_failover_factory,
	    &otf_processor_deadline_factory,
	    &otf_processor_admission_factory,
	    &otf_processor_cumulativetodelta_factory,
	    &otf_processor_deltatocumulative_factory,
	    &otf_processor_interval_factory,
	    &otf_processor_metricstransform_factory,
	};
	/* clang-format on */
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		otf_component_register(all[i]);
}
