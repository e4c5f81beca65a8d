/*
 * dispatch.c: the one table of served APIs — key, advertised version range,
 * handler. ApiVersions answers from it, the server dispatches through it.
 *
 * Ranges follow shared/kafka-protocol/client-api-versions.md. Produce is
 * advertised from v0 although only v3+ (magic 2) is served: librdkafka
 * before 2.11.1 enables gzip/snappy/lz4 only when Produce v0 is in range
 * (Kafka 4.x does the same, KAFKA-18659); v0-2 requests get
 * UNSUPPORTED_VERSION per partition.
 */
#include "handlers/handler.h"

const struct api_handler api_handlers[] = {
    {0, 0, 9, 3, handle_produce},
    {1, 4, 12, 4, handle_fetch},
    {2, 1, 7, 1, handle_list_offsets},
    {3, 0, 12, 0, handle_metadata},
    {8, 1, 8, 1, handle_offset_commit},
    {9, 1, 8, 1, handle_offset_fetch},
    {10, 0, 4, 0, handle_find_coordinator},
    {11, 0, 7, 0, handle_join_group},
    {12, 0, 4, 0, handle_heartbeat},
    {13, 0, 4, 0, handle_leave_group},
    {14, 0, 5, 0, handle_sync_group},
    {15, 0, 5, 0, handle_describe_groups},
    {16, 0, 4, 0, handle_list_groups},
    {18, 0, 4, 0, handle_api_versions},
    {19, 0, 5, 0, handle_create_topics},
    {20, 0, 4, 0, handle_delete_topics},
    {21, 0, 2, 0, handle_delete_records},
    {32, 0, 4, 0, handle_describe_configs},
    {33, 0, 2, 0, handle_alter_configs},
    {35, 0, 4, 0, handle_describe_log_dirs},
    {37, 0, 3, 0, handle_create_partitions},
    {42, 0, 2, 0, handle_delete_groups},
    {43, 0, 2, 0, handle_elect_leaders},
    {44, 0, 1, 0, handle_incremental_alter_configs},
    {45, 0, 0, 0, handle_alter_partition_reassignments},
    {46, 0, 0, 0, handle_list_partition_reassignments},
    {47, 0, 0, 0, handle_offset_delete},
    {60, 0, 1, 0, handle_describe_cluster},
};
const int api_handlers_count = sizeof(api_handlers) / sizeof(api_handlers[0]);

const struct api_handler *api_handler_find(int16_t api_key)
{
	for (int i = 0; i < api_handlers_count; i++)
		if (api_handlers[i].api_key == api_key)
			return &api_handlers[i];
	return 0;
}
