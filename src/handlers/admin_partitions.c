/*
 * admin_partitions.c: CreatePartitions (key 37) and DeleteRecords (21) on a
 * single node.
 *
 * On one node every partition has one replica, this node, so partitions can
 * only be added, with assignments (if given) naming this node once each.
 * The new count is journalled before the logs are created; a restart
 * creates any log that a crash left missing. DeleteRecords moves the log start offset forward
 * (never back) up to the high watermark; whole segments below it go through the log's deletion.
 *
 * Messages follow Kafka's wording where clients or tools show them, e.g.
 * "Topic currently has 3 partitions, which is higher than the requested 2."
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/logging.h"
#include "handlers/errors.h"
#include "handlers/handler.h"
#include "proto/gen/kmsg.h"
#include "repl/partition.h"

#define MSG_MAX 512

static struct topic *find_topic(struct broker *b, struct kstr name)
{
	return name.len > 0 ? meta_topic_find(b->meta, name.ptr, (size_t)name.len) : NULL;
}

static char *msgbuf(struct request *req)
{
	return arena_alloc(&req->arena, MSG_MAX);
}

/* ---- CreatePartitions ----------------------------------------------------- */

typedef struct create_partitions_request_create_partitions_topic cp_topic_t;

static int16_t check_assignments(struct broker *b, const cp_topic_t *ct, int32_t current, char *msg)
{
	if (ct->n_assignments < 0)
		return KERR_NONE;
	int32_t adding = ct->count - current;
	if (ct->n_assignments != adding) {
		snprintf(msg, MSG_MAX,
		         "Increasing the number of partitions by %d but %d assignments provided.",
		         adding, ct->n_assignments);
		return KERR_INVALID_REPLICA_ASSIGNMENT;
	}
	for (int32_t k = 0; k < ct->n_assignments; k++) {
		const struct create_partitions_request_create_partitions_assignment *as =
		    &ct->assignments[k];
		if (as->n_broker_ids <= 0) {
			snprintf(msg, MSG_MAX,
			         "The manual partition assignment includes an empty replica list.");
			return KERR_INVALID_REPLICA_ASSIGNMENT;
		}
		for (int32_t r = 0; r < as->n_broker_ids; r++)
			if (as->broker_ids[r] != b->cfg.node_id) {
				snprintf(msg, MSG_MAX,
				         "The manual partition assignment includes broker %d, but "
				         "no such broker is registered.",
				         as->broker_ids[r]);
				return KERR_INVALID_REPLICA_ASSIGNMENT;
			}
		if (as->n_broker_ids != 1) {
			snprintf(msg, MSG_MAX,
			         "The manual partition assignment includes a partition with %d "
			         "replica(s), but this is not consistent with previous partitions, "
			         "which have 1 replica(s).",
			         as->n_broker_ids);
			return KERR_INVALID_REPLICA_ASSIGNMENT;
		}
	}
	return KERR_NONE;
}

static int16_t create_partitions_one(struct broker *b, const cp_topic_t *ct, bool validate_only,
                                     char *msg)
{
	struct topic *t = find_topic(b, ct->name);
	if (!t) {
		snprintf(msg, MSG_MAX, "The topic '%.*s' does not exist.", (int)ct->name.len,
		         ct->name.ptr ? ct->name.ptr : "");
		return KERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	int32_t current = t->partitions;
	if (ct->count < current) {
		snprintf(msg, MSG_MAX,
		         "Topic currently has %d partitions, which is higher than the requested "
		         "%d.",
		         current, ct->count);
		return KERR_INVALID_PARTITIONS;
	}
	if (ct->count == current) {
		snprintf(msg, MSG_MAX, "Topic already has %d partitions.", current);
		return KERR_INVALID_PARTITIONS;
	}
	if (ct->count > META_MAX_PARTITIONS) {
		snprintf(msg, MSG_MAX, "Number of partitions %d is larger than the maximum of %d.",
		         ct->count, META_MAX_PARTITIONS);
		return KERR_INVALID_PARTITIONS;
	}
	int16_t code = check_assignments(b, ct, current, msg);
	if (code || validate_only)
		return code;
	int err = meta_topic_set_partitions(b->meta, t, ct->count);
	if (err) {
		snprintf(msg, MSG_MAX, "Cannot record the new partition count: %s", err_str(err));
		return err == ERR_STORAGE ? KERR_KAFKA_STORAGE_ERROR : kafka_error_from(err);
	}
	err = partitions_create(b->parts, t, current, ct->count);
	if (err) {
		snprintf(msg, MSG_MAX, "Cannot create the new partitions' logs: %s", err_str(err));
		return KERR_KAFKA_STORAGE_ERROR;
	}
	LOG_INFO("topic %s: partitions increased from %d to %d", t->name, current, ct->count);
	return KERR_NONE;
}

void handle_create_partitions(struct request *req)
{
	struct broker *b = req->broker;
	struct create_partitions_request in;
	create_partitions_request_init(&in);
	if (create_partitions_request_decode(&req->body, req->api_version, &in, &req->arena)) {
		request_close(req);
		return;
	}
	struct create_partitions_response resp;
	create_partitions_response_init(&resp);
	int32_t n = in.n_topics > 0 ? in.n_topics : 0;
	resp.n_results = n;
	resp.results = arena_alloc(&req->arena, sizeof(*resp.results) * (size_t)(n ? n : 1));
	for (int32_t i = 0; i < n; i++) {
		const cp_topic_t *ct = &in.topics[i];
		struct create_partitions_response_create_partitions_topic_result *r =
		    &resp.results[i];
		create_partitions_response_create_partitions_topic_result_init(r);
		r->name = ct->name;
		char *msg = msgbuf(req);
		int16_t code = KERR_NONE;
		for (int32_t k = 0; k < n && !code; k++)
			if (k != i && in.topics[k].name.len == ct->name.len &&
			    (ct->name.len <= 0 ||
			     !memcmp(in.topics[k].name.ptr, ct->name.ptr, (size_t)ct->name.len))) {
				code = KERR_INVALID_REQUEST;
				snprintf(msg, MSG_MAX, "Duplicate topic in request.");
			}
		if (!code)
			code = create_partitions_one(b, ct, in.validate_only, msg);
		r->error_code = code;
		r->error_message = code ? kstr_c(msg) : kstr_null();
	}
	create_partitions_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}

/* ---- DeleteRecords -------------------------------------------------------- */

static int16_t delete_records_one(struct topic *t, int32_t index, int64_t offset, int64_t *low)
{
	*low = -1;
	struct partition *p = partitions_get(t, index);
	if (!p)
		return KERR_UNKNOWN_TOPIC_OR_PARTITION;
	if (t->cfg.cleanup_compact && !t->cfg.cleanup_delete)
		return KERR_POLICY_VIOLATION; /* Kafka: not for compact-only topics */
	int64_t hw = partition_high_watermark(p);
	if (offset == -1)
		offset = hw;
	if (offset < 0 || offset > hw)
		return KERR_OFFSET_OUT_OF_RANGE;
	if (offset > plog_start_offset(p->log)) {
		int err = plog_advance_start_offset(p->log, offset);
		if (err)
			return kafka_error_from(err);
		LOG_INFO("%s-%d: log start offset moved to %lld (DeleteRecords)", t->name, index,
		         (long long)offset);
	}
	*low = plog_start_offset(p->log);
	return KERR_NONE;
}

void handle_delete_records(struct request *req)
{
	struct broker *b = req->broker;
	struct delete_records_request in;
	delete_records_request_init(&in);
	if (delete_records_request_decode(&req->body, req->api_version, &in, &req->arena)) {
		request_close(req);
		return;
	}
	struct delete_records_response resp;
	delete_records_response_init(&resp);
	int32_t nt = in.n_topics > 0 ? in.n_topics : 0;
	resp.n_topics = nt;
	resp.topics = arena_alloc(&req->arena, sizeof(*resp.topics) * (size_t)(nt ? nt : 1));
	for (int32_t i = 0; i < nt; i++) {
		const struct delete_records_request_delete_records_topic *it = &in.topics[i];
		struct delete_records_response_delete_records_topic_result *ot = &resp.topics[i];
		delete_records_response_delete_records_topic_result_init(ot);
		ot->name = it->name;
		struct topic *t = find_topic(b, it->name);
		int32_t np = it->n_partitions > 0 ? it->n_partitions : 0;
		ot->n_partitions = np;
		ot->partitions =
		    arena_alloc(&req->arena, sizeof(*ot->partitions) * (size_t)(np ? np : 1));
		for (int32_t k = 0; k < np; k++) {
			struct delete_records_response_delete_records_partition_result *op =
			    &ot->partitions[k];
			delete_records_response_delete_records_partition_result_init(op);
			op->partition_index = it->partitions[k].partition_index;
			op->error_code = delete_records_one(
			    t, op->partition_index, it->partitions[k].offset, &op->low_watermark);
		}
	}
	delete_records_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}
