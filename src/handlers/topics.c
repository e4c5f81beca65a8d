/*
 * topics.c: CreateTopics (key 19), DeleteTopics (key 20) and topic
 * auto-creation. A topic exists once its metadata record is durable and its
 * partition logs are created; deletion removes the logs (renamed, then
 * removed in the background) and then the metadata.
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/logging.h"
#include "handlers/errors.h"
#include "handlers/handler.h"
#include "proto/gen/kmsg.h"
#include "repl/partition.h"

/*
 * Create (or with validate_only, check) one topic. Returns a Kafka error code
 * and a message for the client in msg.
 */
static int16_t create_topic(struct broker *b, const char *name, size_t len, int32_t partitions,
                            int16_t rf, const struct config_kv *kv, int nkv, bool validate_only,
                            struct topic **out, char *msg, size_t msglen)
{
	msg[0] = 0;
	char nm[256];
	if (len >= sizeof(nm)) {
		snprintf(msg, msglen,
		         "Topic name is illegal, it can't be longer than 249 characters.");
		return KERR_INVALID_TOPIC_EXCEPTION;
	}
	memcpy(nm, name, len);
	nm[len] = 0;
	struct topic *t = NULL;
	enum meta_fail fail = META_FAIL_NONE;
	int err = meta_topic_create_ex(b->meta, nm, partitions, rf, kv, nkv, validate_only, &t,
	                               &fail, msg, msglen);
	switch (fail) {
	case META_FAIL_NONE:
		break;
	case META_FAIL_NAME:
		return KERR_INVALID_TOPIC_EXCEPTION;
	case META_FAIL_EXISTS:
		snprintf(msg, msglen, "Topic '%s' already exists.", nm);
		return KERR_TOPIC_ALREADY_EXISTS;
	case META_FAIL_PARTITIONS:
		return KERR_INVALID_PARTITIONS;
	case META_FAIL_REPLICATION:
		return KERR_INVALID_REPLICATION_FACTOR;
	case META_FAIL_CONFIG:
		return KERR_INVALID_CONFIG;
	default:
		break;
	}
	if (err) {
		if (!msg[0])
			snprintf(msg, msglen, "Cannot create topic: %s", err_str(err));
		return err == ERR_STORAGE ? KERR_KAFKA_STORAGE_ERROR : kafka_error_from(err);
	}
	if (validate_only)
		return KERR_NONE;
	err = partitions_create(b->parts, t, 0, t->partitions);
	if (err) {
		snprintf(msg, msglen, "Cannot create the topic's logs: %s", err_str(err));
		partitions_delete_topic(b->parts, t);
		meta_topic_delete(b->meta, t);
		return KERR_KAFKA_STORAGE_ERROR;
	}
	LOG_INFO("created topic %s with %d partition(s)", t->name, t->partitions);
	*out = t;
	return KERR_NONE;
}

struct topic *broker_auto_create_topic(struct broker *b, const char *name, size_t len,
                                       int16_t *kafka_err)
{
	char msg[512];
	struct topic *t = NULL;
	*kafka_err = create_topic(b, name, len, -1, -1, NULL, 0, false, &t, msg, sizeof(msg));
	if (*kafka_err == KERR_TOPIC_ALREADY_EXISTS) {
		*kafka_err = KERR_NONE;
		return meta_topic_find(b->meta, name, len);
	}
	if (*kafka_err)
		LOG_WARN("auto-creating topic %.*s failed: %s", (int)len, name, msg);
	return t;
}

static bool seen_before(const struct create_topics_request *in, int32_t i)
{
	for (int32_t k = 0; k < i; k++)
		if (in->topics[k].name.len == in->topics[i].name.len &&
		    !memcmp(in->topics[k].name.ptr, in->topics[i].name.ptr,
		            (size_t)in->topics[i].name.len))
			return true;
	return false;
}

void handle_create_topics(struct request *req)
{
	struct broker *b = req->broker;
	struct create_topics_request in;
	create_topics_request_init(&in);
	if (create_topics_request_decode(&req->body, req->api_version, &in, &req->arena)) {
		request_close(req);
		return;
	}
	struct create_topics_response resp;
	create_topics_response_init(&resp);
	int32_t n = in.n_topics > 0 ? in.n_topics : 0;
	resp.n_topics = n;
	resp.topics = arena_alloc(&req->arena, sizeof(*resp.topics) * (size_t)(n ? n : 1));
	for (int32_t i = 0; i < n; i++) {
		struct create_topics_request_creatable_topic *ct = &in.topics[i];
		struct create_topics_response_creatable_topic_result *r = &resp.topics[i];
		create_topics_response_creatable_topic_result_init(r);
		r->name = ct->name;
		r->num_partitions = -1;
		r->replication_factor = -1;
		r->n_configs = -1;
		char *msg = arena_alloc(&req->arena, 512);
		int32_t partitions = ct->num_partitions;
		int16_t rf = ct->replication_factor;
		int16_t code = KERR_NONE;
		if (seen_before(&in, i)) {
			code = KERR_INVALID_REQUEST;
			snprintf(msg, 512,
			         "Create topics request from client contains a duplicate topic.");
		} else if (ct->n_assignments > 0) {
			/* Manual assignment: every replica must be this node, one per partition. */
			if (partitions != -1 || rf != -1) {
				code = KERR_INVALID_REQUEST;
				snprintf(msg, 512,
				         "Both numPartitions or replicationFactor and "
				         "replicasAssignments were set. Both cannot be used at the "
				         "same time.");
			}
			for (int32_t k = 0; !code && k < ct->n_assignments; k++) {
				const struct create_topics_request_creatable_replica_assignment
				    *as = &ct->assignments[k];
				if (as->partition_index != k || as->n_broker_ids != 1 ||
				    as->broker_ids[0] != b->cfg.node_id) {
					code = KERR_INVALID_REPLICA_ASSIGNMENT;
					snprintf(
					    msg, 512,
					    "Invalid replica assignment for partition %d: only "
					    "broker %d exists.",
					    as->partition_index, b->cfg.node_id);
				}
			}
			partitions = ct->n_assignments;
			rf = 1;
		}
		struct topic *t = NULL;
		if (!code) {
			int nkv = ct->n_configs > 0 ? ct->n_configs : 0;
			struct config_kv *kv =
			    arena_alloc(&req->arena, sizeof(*kv) * (size_t)(nkv ? nkv : 1));
			for (int k = 0; k < nkv; k++) {
				struct kstr name = ct->configs[k].name, val = ct->configs[k].value;
				kv[k].key = arena_strndup(&req->arena, name.ptr ? name.ptr : "",
				                          name.len > 0 ? (size_t)name.len : 0);
				kv[k].value = val.len < 0 ? NULL
				                          : arena_strndup(&req->arena, val.ptr,
				                                          (size_t)val.len);
			}
			code = create_topic(b, ct->name.ptr,
			                    ct->name.len > 0 ? (size_t)ct->name.len : 0, partitions,
			                    rf, kv, nkv, in.validate_only, &t, msg, 512);
		}
		r->error_code = code;
		r->error_message = code ? kstr_c(msg) : kstr_null();
		if (!code) {
			r->num_partitions =
			    t ? t->partitions
			      : (partitions == -1 ? b->cfg.num_partitions : partitions);
			r->replication_factor = 1;
			if (t)
				r->topic_id = t->id;
			r->n_configs = 0;
		}
	}
	create_topics_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}

void handle_delete_topics(struct request *req)
{
	struct broker *b = req->broker;
	struct delete_topics_request in;
	delete_topics_request_init(&in);
	if (delete_topics_request_decode(&req->body, req->api_version, &in, &req->arena)) {
		request_close(req);
		return;
	}
	struct delete_topics_response resp;
	delete_topics_response_init(&resp);
	int32_t n = in.n_topic_names > 0 ? in.n_topic_names : 0;
	resp.n_responses = n;
	resp.responses = arena_alloc(&req->arena, sizeof(*resp.responses) * (size_t)(n ? n : 1));
	for (int32_t i = 0; i < n; i++) {
		struct delete_topics_response_deletable_topic_result *r = &resp.responses[i];
		delete_topics_response_deletable_topic_result_init(r);
		struct kstr name = in.topic_names[i];
		r->name = name;
		r->error_message = kstr_null();
		struct topic *t =
		    name.len > 0 ? meta_topic_find(b->meta, name.ptr, (size_t)name.len) : NULL;
		if (!t) {
			r->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
			r->error_message =
			    kstr_c("This server does not host this topic-partition.");
			continue;
		}
		if (!b->cfg.delete_topic_enable) {
			r->error_code = 73; /* TOPIC_DELETION_DISABLED */
			continue;
		}
		char nm[256];
		snprintf(nm, sizeof(nm), "%s", t->name);
		partitions_delete_topic(b->parts, t);
		int err = meta_topic_delete(b->meta, t);
		if (err) {
			r->error_code = kafka_error_from(err);
			continue;
		}
		LOG_INFO("deleted topic %s", nm);
	}
	delete_topics_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}
