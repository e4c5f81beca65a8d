/*
 * metrics_render.c: walks the broker's state on the loop thread and writes
 * the Prometheus exposition. Every family is prefixed fjord_; label names
 * follow what Kafka users know from kafka_exporter (topic, partition, group).
 * What it leaves to others: the numbers themselves are kept by the server
 * (requests), the partitions (bytes, syncs) and the log (offsets, sizes).
 */
#include "server/metrics_render.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "group/group.h"
#include "metrics/metrics.h"
#include "proto/gen/kmsg.h"
#include "repl/partition.h"
#include "server/server.h"

static void render_requests(struct server *srv, struct buf *out)
{
	const struct server_stats *st = server_get_stats(srv);
	char labels[128];
	metrics_header(out, "fjord_requests_total", "counter", "Kafka requests answered, by API.");
	for (int k = 0; k < SERVER_MAX_API; k++) {
		const struct kmsg_api *api = kmsg_api_find((int16_t)k);
		if (!api || !st->api[k].requests)
			continue;
		snprintf(labels, sizeof(labels), "api=\"%s\"", api->name);
		metrics_sample_i(out, "fjord_requests_total", labels, (int64_t)st->api[k].requests);
	}
	metrics_header(
	    out, "fjord_request_errors_total", "counter",
	    "Requests so malformed or unsupported that the connection was closed, by API.");
	for (int k = 0; k < SERVER_MAX_API; k++) {
		const struct kmsg_api *api = kmsg_api_find((int16_t)k);
		if (!api || !st->api[k].closed)
			continue;
		snprintf(labels, sizeof(labels), "api=\"%s\"", api->name);
		metrics_sample_i(out, "fjord_request_errors_total", labels,
		                 (int64_t)st->api[k].closed);
	}
	metrics_header(out, "fjord_request_latency_seconds", "histogram",
	               "Time from a request's arrival to its response being queued, by API.");
	for (int k = 0; k < SERVER_MAX_API; k++) {
		const struct kmsg_api *api = kmsg_api_find((int16_t)k);
		if (!api || !st->api[k].latency.count)
			continue;
		snprintf(labels, sizeof(labels), "api=\"%s\"", api->name);
		metrics_histogram(out, "fjord_request_latency_seconds", labels,
		                  &st->api[k].latency);
	}
	metrics_header(out, "fjord_active_connections", "gauge", "Open client connections.");
	metrics_sample_i(out, "fjord_active_connections", "", server_connection_count(srv));
	metrics_header(out, "fjord_connections_accepted_total", "counter", "Connections accepted.");
	metrics_sample_i(out, "fjord_connections_accepted_total", "",
	                 (int64_t)st->connections_accepted);
	metrics_header(out, "fjord_connections_refused_total", "counter",
	               "Connections refused (max.connections, max.connections.per.ip, shutdown).");
	metrics_sample_i(out, "fjord_connections_refused_total", "",
	                 (int64_t)st->connections_refused);
	metrics_header(out, "fjord_network_received_bytes_total", "counter",
	               "Bytes read from clients.");
	metrics_sample_i(out, "fjord_network_received_bytes_total", "",
	                 (int64_t)st->bytes_received);
	metrics_header(out, "fjord_network_sent_bytes_total", "counter",
	               "Bytes written to clients.");
	metrics_sample_i(out, "fjord_network_sent_bytes_total", "", (int64_t)st->bytes_sent);
}

/* One family over every partition: value(p) for each. */
typedef int64_t (*part_value_fn)(const struct partition *p);

static int64_t v_size(const struct partition *p)
{
	return plog_size_bytes(p->log);
}
static int64_t v_start(const struct partition *p)
{
	return plog_start_offset(p->log);
}
static int64_t v_end(const struct partition *p)
{
	return plog_end_offset(p->log);
}
static int64_t v_hw(const struct partition *p)
{
	return partition_high_watermark(p);
}
static int64_t v_segments(const struct partition *p)
{
	return plog_segment_count(p->log);
}
static int64_t v_failed(const struct partition *p)
{
	return plog_failed(p->log) ? 1 : 0;
}

static void render_partition_family(struct broker *b, struct buf *out, const char *name,
                                    const char *type, const char *help, part_value_fn fn)
{
	metrics_header(out, name, type, help);
	char topic[600], labels[700];
	int n = meta_topic_count(b->meta);
	for (int i = 0; i < n; i++) {
		struct topic *t = meta_topic_at(b->meta, i);
		metrics_label_escape(topic, sizeof(topic), t->name, strlen(t->name));
		for (int32_t k = 0; k < t->partitions; k++) {
			struct partition *p = partitions_get(t, k);
			if (!p)
				continue;
			snprintf(labels, sizeof(labels), "topic=\"%s\",partition=\"%d\"", topic, k);
			metrics_sample_i(out, name, labels, fn(p));
		}
	}
}

typedef int64_t (*topic_value_fn)(const struct partition *p);
static int64_t v_bytes_in(const struct partition *p)
{
	return p->bytes_in;
}
static int64_t v_messages_in(const struct partition *p)
{
	return p->messages_in;
}
static int64_t v_bytes_out(const struct partition *p)
{
	return p->bytes_out;
}
static int64_t v_messages_out(const struct partition *p)
{
	return p->messages_out;
}

static void render_topic_family(struct broker *b, struct buf *out, const char *name,
                                const char *help, topic_value_fn fn)
{
	metrics_header(out, name, "counter", help);
	char topic[600], labels[700];
	int n = meta_topic_count(b->meta);
	for (int i = 0; i < n; i++) {
		struct topic *t = meta_topic_at(b->meta, i);
		int64_t sum = 0;
		for (int32_t k = 0; k < t->partitions; k++) {
			struct partition *p = partitions_get(t, k);
			if (p)
				sum += fn(p);
		}
		metrics_label_escape(topic, sizeof(topic), t->name, strlen(t->name));
		snprintf(labels, sizeof(labels), "topic=\"%s\"", topic);
		metrics_sample_i(out, name, labels, sum);
	}
}

static void render_storage(struct broker *b, struct buf *out)
{
	render_topic_family(b, out, "fjord_topic_bytes_in_total",
	                    "Bytes of record batches appended, by topic.", v_bytes_in);
	render_topic_family(b, out, "fjord_topic_messages_in_total", "Records appended, by topic.",
	                    v_messages_in);
	render_topic_family(b, out, "fjord_topic_bytes_out_total",
	                    "Bytes of record batches served by Fetch, by topic.", v_bytes_out);
	render_topic_family(b, out, "fjord_topic_messages_out_total",
	                    "Records served by Fetch (counted from the fetch offset), by topic.",
	                    v_messages_out);
	render_partition_family(b, out, "fjord_partition_size_bytes", "gauge",
	                        "Bytes in the partition's log.", v_size);
	render_partition_family(b, out, "fjord_partition_log_start_offset", "gauge",
	                        "First offset still in the log.", v_start);
	render_partition_family(b, out, "fjord_partition_log_end_offset", "gauge",
	                        "Offset the next record will get.", v_end);
	render_partition_family(b, out, "fjord_partition_high_watermark", "gauge",
	                        "Offsets below this are visible to consumers (acknowledged).",
	                        v_hw);
	render_partition_family(b, out, "fjord_partition_segments", "gauge",
	                        "Segment files in the log.", v_segments);
	render_partition_family(b, out, "fjord_partition_storage_failed", "gauge",
	                        "1 when the partition refuses writes after a storage error.",
	                        v_failed);
	const struct partitions_stats *ps = partitions_stats(b->parts);
	metrics_header(
	    out, "fjord_fsync_total", "counter",
	    "Group-commit syncs of partition logs (a syncfs covering many counts once).");
	metrics_sample_i(out, "fjord_fsync_total", "", ps->syncs);
	metrics_header(out, "fjord_fsync_seconds_total", "counter", "Time spent in those syncs.");
	metrics_sample(out, "fjord_fsync_seconds_total", "", (double)ps->sync_ns_total / 1e9);
	metrics_header(out, "fjord_fsync_max_seconds", "gauge", "Slowest sync so far.");
	metrics_sample(out, "fjord_fsync_max_seconds", "", (double)ps->sync_ns_max / 1e9);
	metrics_header(out, "fjord_log_direct_writes_total", "counter",
	               "Jobs that wrote staged appends for their acks, without a sync "
	               "(relaxed flushing).");
	metrics_sample_i(out, "fjord_log_direct_writes_total", "", ps->writes);
	metrics_header(out, "fjord_log_direct_writes_seconds_total", "counter",
	               "Time spent in those jobs.");
	metrics_sample(out, "fjord_log_direct_writes_seconds_total", "",
	               (double)ps->write_ns_total / 1e9);
	metrics_header(out, "fjord_log_direct_chunks", "gauge",
	               "1 MiB chunks holding appends staged for direct writes.");
	metrics_sample_i(out, "fjord_log_direct_chunks", "", plog_direct_chunks_in_use());
}

struct lag_ctx {
	struct broker *b;
	struct buf *out;
	struct arena arena;
};

/* Lag of one group: high watermark minus committed offset, per partition. */
static void render_group_lag(void *arg, const struct gc_group_info *g)
{
	struct lag_ctx *lc = arg;
	struct gc_offset_info *offs = NULL;
	int n = gc_offsets_all(lc->b->groups, g->group_id, &lc->arena, &offs);
	char group[600], topic[600], labels[1400];
	metrics_label_escape(group, sizeof(group), g->group_id.ptr, (size_t)g->group_id.len);
	for (int i = 0; i < n; i++) {
		struct topic *t =
		    meta_topic_find(lc->b->meta, offs[i].topic.ptr, (size_t)offs[i].topic.len);
		struct partition *p = partitions_get(t, offs[i].partition);
		if (!p || offs[i].offset < 0)
			continue;
		int64_t lag = partition_high_watermark(p) - offs[i].offset;
		metrics_label_escape(topic, sizeof(topic), offs[i].topic.ptr,
		                     (size_t)offs[i].topic.len);
		snprintf(labels, sizeof(labels), "group=\"%s\",topic=\"%s\",partition=\"%d\"",
		         group, topic, offs[i].partition);
		metrics_sample_i(lc->out, "fjord_consumergroup_lag", labels, lag < 0 ? 0 : lag);
	}
	arena_reset(&lc->arena);
}

static void render_groups(struct broker *b, struct buf *out)
{
	metrics_header(out, "fjord_consumergroup_lag", "gauge",
	               "High watermark minus committed offset, by group and partition.");
	if (!b->groups)
		return;
	struct lag_ctx lc = {.b = b, .out = out};
	arena_init(&lc.arena);
	gc_groups_foreach(b->groups, render_group_lag, &lc);
	arena_release(&lc.arena);
}

void metrics_render(struct broker *b, struct server *srv, struct buf *out)
{
	char labels[128];
	metrics_header(out, "fjord_build_info", "gauge", "Version of the running broker.");
	snprintf(labels, sizeof(labels), "version=\"%s\",node_id=\"%d\"", FJORD_VERSION,
	         b->cfg.node_id);
	metrics_sample_i(out, "fjord_build_info", labels, 1);
	render_requests(srv, out);
	render_storage(b, out);
	render_groups(b, out);
}

int health_render(struct broker *b, struct buf *out)
{
	int topics = meta_topic_count(b->meta), partitions = 0, failed = 0;
	for (int i = 0; i < topics; i++) {
		struct topic *t = meta_topic_at(b->meta, i);
		for (int32_t k = 0; k < t->partitions; k++) {
			struct partition *p = partitions_get(t, k);
			partitions++;
			if (!p || plog_failed(p->log))
				failed++;
		}
	}
	const char *status = b->shutting_down ? "shutting_down" : failed ? "degraded" : "ok";
	char text[512];
	int n = snprintf(text, sizeof(text),
	                 "{\"status\":\"%s\",\"node_id\":%d,\"cluster_id\":\"%s\",\"topics\":%d,"
	                 "\"partitions\":%d,\"failed_partitions\":%d}\n",
	                 status, b->cfg.node_id, b->cluster_id, topics, partitions, failed);
	buf_append(out, text, (size_t)(n < (int)sizeof(text) ? n : (int)sizeof(text) - 1));
	return b->shutting_down || failed ? 503 : 200;
}
