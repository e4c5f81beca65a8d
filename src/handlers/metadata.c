/*
 * metadata.c: Metadata (key 3). One broker — this node, which is also the
 * controller — and the requested topics (v0: empty list means all; v1+: null
 * means all). Unknown topics are created when both the request (v4+
 * allow_auto_topic_creation) and auto.create.topics.enable allow it.
 */
#include <string.h>

#include "handlers/errors.h"
#include "handlers/handler.h"
#include "proto/gen/kmsg.h"
#include "repl/partition.h"

static int32_t *one_node(struct request *req)
{
	int32_t *n = arena_alloc(&req->arena, sizeof(*n));
	*n = req->broker->cfg.node_id;
	return n;
}

static void fill_topic(struct request *req, struct topic *t,
                       struct metadata_response_metadata_response_topic *out)
{
	out->error_code = KERR_NONE;
	out->name.ptr = t->name;
	out->name.len = (int32_t)strlen(t->name);
	out->topic_id = t->id;
	out->is_internal = t->internal;
	out->n_partitions = t->partitions;
	out->partitions =
	    arena_alloc(&req->arena, sizeof(*out->partitions) * (size_t)t->partitions);
	int32_t *node = one_node(req);
	for (int32_t i = 0; i < t->partitions; i++) {
		struct metadata_response_metadata_response_partition *p = &out->partitions[i];
		metadata_response_metadata_response_partition_init(p);
		struct partition *part = partitions_get(t, i);
		p->partition_index = i;
		p->leader_id = req->broker->cfg.node_id;
		p->leader_epoch = part ? part->leader_epoch : 0;
		p->n_replica_nodes = 1;
		p->replica_nodes = node;
		p->n_isr_nodes = 1;
		p->isr_nodes = node;
		p->n_offline_replicas = 0;
		if (!part) /* its log could not be opened */
			p->error_code = KERR_KAFKA_STORAGE_ERROR;
	}
}

void handle_metadata(struct request *req)
{
	struct broker *b = req->broker;
	struct metadata_request in;
	metadata_request_init(&in);
	if (metadata_request_decode(&req->body, req->api_version, &in, &req->arena)) {
		request_close(req);
		return;
	}
	struct metadata_response resp;
	metadata_response_init(&resp);
	resp.n_brokers = 1;
	resp.brokers = arena_alloc(&req->arena, sizeof(*resp.brokers));
	metadata_response_metadata_response_broker_init(&resp.brokers[0]);
	resp.brokers[0].node_id = b->cfg.node_id;
	resp.brokers[0].host = kstr_c(b->cfg.advertised_host);
	resp.brokers[0].port = b->cfg.advertised_port;
	resp.brokers[0].rack = kstr_null();
	resp.cluster_id = kstr_c(b->cluster_id);
	resp.controller_id = b->cfg.node_id;

	bool all = in.n_topics < 0 || (req->api_version == 0 && in.n_topics == 0);
	if (all) {
		int n = meta_topic_count(b->meta);
		resp.n_topics = n;
		resp.topics = arena_alloc(&req->arena, sizeof(*resp.topics) * (size_t)(n ? n : 1));
		for (int i = 0; i < n; i++) {
			metadata_response_metadata_response_topic_init(&resp.topics[i]);
			fill_topic(req, meta_topic_at(b->meta, i), &resp.topics[i]);
		}
	} else {
		bool may_create = b->cfg.auto_create_topics_enable &&
		                  (req->api_version < 4 || in.allow_auto_topic_creation);
		resp.n_topics = in.n_topics;
		resp.topics = arena_alloc(&req->arena, sizeof(*resp.topics) *
		                                           (size_t)(in.n_topics ? in.n_topics : 1));
		for (int32_t i = 0; i < in.n_topics; i++) {
			struct metadata_request_metadata_request_topic *rt = &in.topics[i];
			struct metadata_response_metadata_response_topic *out = &resp.topics[i];
			metadata_response_metadata_response_topic_init(out);
			out->name = rt->name;
			out->topic_id = rt->topic_id;
			out->n_partitions = 0;
			struct topic *t = NULL;
			if (rt->name.len >= 0)
				t = meta_topic_find(b->meta, rt->name.ptr, (size_t)rt->name.len);
			else
				t = meta_topic_find_id(b->meta, rt->topic_id);
			if (t) {
				fill_topic(req, t, out);
				continue;
			}
			if (rt->name.len < 0) {
				out->error_code = KERR_UNKNOWN_TOPIC_ID;
				continue;
			}
			char msg[256];
			if (meta_topic_name_valid(rt->name.ptr, (size_t)rt->name.len, msg,
			                          sizeof(msg))) {
				out->error_code = KERR_INVALID_TOPIC_EXCEPTION;
				continue;
			}
			if (!may_create) {
				out->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			int16_t kerr = KERR_NONE;
			t = broker_auto_create_topic(b, rt->name.ptr, (size_t)rt->name.len, &kerr);
			if (t)
				fill_topic(req, t, out);
			else
				out->error_code = kerr;
		}
	}
	metadata_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}
