/*
 * admin_cluster.c: the cluster admin APIs of a single node — DescribeCluster
 * (key 60), DescribeLogDirs (35), ElectLeaders (43),
 * AlterPartitionReassignments (45) and ListPartitionReassignments (46).
 *
 * Every partition has one replica, this node, which is always the preferred
 * and the current leader: an election is never needed (ELECTION_NOT_NEEDED);
 * a reassignment to [this node] completes at once, any other replica list is
 * INVALID_REPLICA_ASSIGNMENT, and none is ever in progress (cancelling is
 * NO_REASSIGNMENT_IN_PROGRESS, the list is empty).
 *
 * DescribeCluster lists this node (advertised host and port, rack) and names
 * it the controller, with the cluster id of meta.properties. Only the
 * broker endpoint type (1) is served: a request for controllers (2) is
 * MISMATCHED_ENDPOINT_TYPE, as a Kafka broker answers, anything else
 * UNSUPPORTED_ENDPOINT_TYPE. Without an authorizer every cluster operation
 * is allowed, so asked-for authorized operations list them all.
 *
 * DescribeLogDirs reports the one served log directory (the first of
 * log.dirs; Fjord keeps every partition there) with each partition's size
 * on disk and an offset lag of 0 (no future replicas), and from v4 the
 * file system's total and usable bytes.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "handlers/errors.h"
#include "handlers/handler.h"
#include "proto/gen/kmsg.h"
#include "repl/partition.h"

/* AclOperation codes allowed on the CLUSTER resource (Kafka's Acl ops). */
enum {
	OP_CREATE = 4,
	OP_CLUSTER_ACTION = 7,
	OP_DESCRIBE = 8,
	OP_ALTER = 9,
	OP_DESCRIBE_CONFIGS = 10,
	OP_ALTER_CONFIGS = 11,
	OP_IDEMPOTENT_WRITE = 12,
};

#define MSG_MAX 512

#define ENDPOINT_BROKERS     1
#define ENDPOINT_CONTROLLERS 2

void handle_describe_cluster(struct request *req)
{
	struct broker *b = req->broker;
	struct describe_cluster_request in;
	describe_cluster_request_init(&in);
	if (describe_cluster_request_decode(&req->body, req->api_version, &in, &req->arena)) {
		request_close(req);
		return;
	}
	struct describe_cluster_response resp;
	describe_cluster_response_init(&resp);
	resp.error_message = kstr_null();
	resp.endpoint_type = ENDPOINT_BROKERS;
	resp.cluster_id = kstr_c(b->cluster_id);
	resp.cluster_authorized_operations = INT32_MIN; /* "not requested" */
	int8_t ep = req->api_version >= 1 ? in.endpoint_type : ENDPOINT_BROKERS;
	if (ep != ENDPOINT_BROKERS) {
		resp.endpoint_type = ep;
		resp.error_code = ep == ENDPOINT_CONTROLLERS ? KERR_MISMATCHED_ENDPOINT_TYPE
		                                             : KERR_UNSUPPORTED_ENDPOINT_TYPE;
		resp.error_message =
		    kstr_c(ep == ENDPOINT_CONTROLLERS
		               ? "The request was sent to an endpoint of type BROKER, but we "
		                 "wanted an endpoint of type CONTROLLER"
		               : "Unsupported endpoint type");
		resp.controller_id = -1;
		resp.n_brokers = 0;
		describe_cluster_response_encode(&req->w, req->api_version, &resp);
		request_done(req);
		return;
	}
	resp.controller_id = b->cfg.node_id;
	resp.n_brokers = 1;
	resp.brokers = arena_alloc(&req->arena, sizeof(*resp.brokers));
	struct describe_cluster_response_describe_cluster_broker *br = &resp.brokers[0];
	describe_cluster_response_describe_cluster_broker_init(br);
	br->broker_id = b->cfg.node_id;
	br->host = kstr_c(b->cfg.advertised_host);
	br->port = b->cfg.advertised_port;
	br->rack = b->cfg.broker_rack[0] ? kstr_c(b->cfg.broker_rack) : kstr_null();
	if (in.include_cluster_authorized_operations) {
		static const int ops[] = {OP_CREATE,          OP_CLUSTER_ACTION,   OP_DESCRIBE,
		                          OP_ALTER,           OP_DESCRIBE_CONFIGS, OP_ALTER_CONFIGS,
		                          OP_IDEMPOTENT_WRITE};
		int32_t bits = 0;
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
			bits |= (int32_t)1 << ops[i];
		resp.cluster_authorized_operations = bits;
	}
	describe_cluster_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}

/* ---- DescribeLogDirs ------------------------------------------------------ */

typedef struct describe_log_dirs_response_describe_log_dirs_topic dld_topic_t;
typedef struct describe_log_dirs_response_describe_log_dirs_partition dld_part_t;

/* Fill out with the partitions of t in the requested list (all: every one). */
static bool describe_topic_dir(struct request *req, struct topic *t, bool all, const int32_t *want,
                               int32_t nwant, dld_topic_t *out)
{
	describe_log_dirs_response_describe_log_dirs_topic_init(out);
	out->name = kstr_c(t->name);
	int32_t cap = all ? t->partitions : nwant;
	out->partitions =
	    arena_alloc(&req->arena, sizeof(*out->partitions) * (size_t)(cap ? cap : 1));
	out->n_partitions = 0;
	for (int32_t k = 0; k < cap; k++) {
		int32_t idx = all ? k : want[k];
		struct partition *p = partitions_get(t, idx);
		if (!p)
			continue;
		dld_part_t *dp = &out->partitions[out->n_partitions++];
		describe_log_dirs_response_describe_log_dirs_partition_init(dp);
		dp->partition_index = idx;
		dp->partition_size = plog_size_bytes(p->log);
		dp->offset_lag = 0;
		dp->is_future_key = false;
	}
	return out->n_partitions > 0;
}

/* The served log directory: the first entry of log.dirs, made absolute. */
static char *served_dir(struct request *req)
{
	const char *dirs = req->broker->cfg.log_dirs;
	const char *comma = strchr(dirs, ',');
	size_t n = comma ? (size_t)(comma - dirs) : strlen(dirs);
	char *first = arena_strndup(&req->arena, dirs, n);
	char *abs = realpath(first, NULL);
	if (!abs)
		return first;
	char *out = arena_strndup(&req->arena, abs, strlen(abs));
	free(abs);
	return out;
}

void handle_describe_log_dirs(struct request *req)
{
	struct broker *b = req->broker;
	struct describe_log_dirs_request in;
	describe_log_dirs_request_init(&in);
	if (describe_log_dirs_request_decode(&req->body, req->api_version, &in, &req->arena)) {
		request_close(req);
		return;
	}
	struct describe_log_dirs_response resp;
	describe_log_dirs_response_init(&resp);
	resp.error_code = KERR_NONE;
	resp.n_results = 1;
	resp.results = arena_alloc(&req->arena, sizeof(*resp.results));
	struct describe_log_dirs_response_describe_log_dirs_result *r = &resp.results[0];
	describe_log_dirs_response_describe_log_dirs_result_init(r);
	r->error_code = KERR_NONE;
	char *dir = served_dir(req);
	r->log_dir = kstr_c(dir);
	r->total_bytes = -1;
	r->usable_bytes = -1;
	struct statvfs vfs;
	if (statvfs(dir, &vfs) == 0) {
		r->total_bytes = (int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize;
		r->usable_bytes = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
	}
	int32_t cap = in.n_topics >= 0 ? in.n_topics : meta_topic_count(b->meta);
	r->topics = arena_alloc(&req->arena, sizeof(*r->topics) * (size_t)(cap ? cap : 1));
	r->n_topics = 0;
	if (in.n_topics < 0) {
		for (int32_t i = 0; i < cap; i++)
			if (describe_topic_dir(req, meta_topic_at(b->meta, i), true, NULL, 0,
			                       &r->topics[r->n_topics]))
				r->n_topics++;
	} else {
		for (int32_t i = 0; i < cap; i++) {
			const struct describe_log_dirs_request_describable_log_dir_topic *it =
			    &in.topics[i];
			struct topic *t =
			    it->topic.len > 0
			        ? meta_topic_find(b->meta, it->topic.ptr, (size_t)it->topic.len)
			        : NULL;
			if (t && describe_topic_dir(req, t, false, it->partitions,
			                            it->n_partitions > 0 ? it->n_partitions : 0,
			                            &r->topics[r->n_topics]))
				r->n_topics++;
		}
	}
	describe_log_dirs_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}

static struct topic *find_topic(struct broker *b, struct kstr name)
{
	return name.len > 0 ? meta_topic_find(b->meta, name.ptr, (size_t)name.len) : NULL;
}

static char *msgbuf(struct request *req)
{
	return arena_alloc(&req->arena, MSG_MAX);
}

/* ---- ElectLeaders --------------------------------------------------------- */

void handle_elect_leaders(struct request *req)
{
	struct broker *b = req->broker;
	struct elect_leaders_request in;
	elect_leaders_request_init(&in);
	if (elect_leaders_request_decode(&req->body, req->api_version, &in, &req->arena)) {
		request_close(req);
		return;
	}
	struct elect_leaders_response resp;
	elect_leaders_response_init(&resp);
	resp.error_code = KERR_NONE;
	/*
	 * A null list means every partition: only partitions that needed an
	 * election are reported, and on one node none does.
	 */
	int32_t nt = in.n_topic_partitions > 0 ? in.n_topic_partitions : 0;
	resp.n_replica_election_results = nt;
	resp.replica_election_results = arena_alloc(
	    &req->arena, sizeof(*resp.replica_election_results) * (size_t)(nt ? nt : 1));
	bool known_type = req->api_version == 0 || in.election_type == 0 || in.election_type == 1;
	for (int32_t i = 0; i < nt; i++) {
		const struct elect_leaders_request_topic_partitions *it = &in.topic_partitions[i];
		struct elect_leaders_response_replica_election_result *ot =
		    &resp.replica_election_results[i];
		elect_leaders_response_replica_election_result_init(ot);
		ot->topic = it->topic;
		struct topic *t = find_topic(b, it->topic);
		int32_t np = it->n_partitions > 0 ? it->n_partitions : 0;
		ot->n_partition_result = np;
		ot->partition_result =
		    arena_alloc(&req->arena, sizeof(*ot->partition_result) * (size_t)(np ? np : 1));
		for (int32_t k = 0; k < np; k++) {
			struct elect_leaders_response_partition_result *op =
			    &ot->partition_result[k];
			elect_leaders_response_partition_result_init(op);
			op->partition_id = it->partitions[k];
			if (!known_type) {
				op->error_code = KERR_INVALID_REQUEST;
				op->error_message = kstr_c("Unknown election type.");
			} else if (!partitions_get(t, op->partition_id)) {
				op->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
				op->error_message = kstr_c("The partition does not exist.");
			} else {
				op->error_code = KERR_ELECTION_NOT_NEEDED;
				op->error_message =
				    kstr_c("Leader election not needed for topic partition.");
			}
		}
	}
	elect_leaders_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}

/* ---- Partition reassignments ---------------------------------------------- */

static int16_t
reassign_one(struct broker *b, struct topic *t,
             const struct alter_partition_reassignments_request_reassignable_partition *in,
             char *msg)
{
	if (!partitions_get(t, in->partition_index)) {
		snprintf(msg, MSG_MAX, "The partition does not exist.");
		return KERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	if (in->n_replicas < 0) {
		snprintf(msg, MSG_MAX, "No ongoing reassignment for partition %s-%d.", t->name,
		         in->partition_index);
		return KERR_NO_REASSIGNMENT_IN_PROGRESS;
	}
	if (in->n_replicas == 0) {
		snprintf(msg, MSG_MAX,
		         "The manual partition assignment includes an empty replica list.");
		return KERR_INVALID_REPLICA_ASSIGNMENT;
	}
	for (int32_t r = 0; r < in->n_replicas; r++)
		if (in->replicas[r] != b->cfg.node_id) {
			snprintf(msg, MSG_MAX,
			         "The manual partition assignment includes broker %d, but no such "
			         "broker is registered.",
			         in->replicas[r]);
			return KERR_INVALID_REPLICA_ASSIGNMENT;
		}
	if (in->n_replicas > 1) {
		snprintf(msg, MSG_MAX,
		         "The manual partition assignment includes broker %d more than "
		         "once.",
		         b->cfg.node_id);
		return KERR_INVALID_REPLICA_ASSIGNMENT;
	}
	return KERR_NONE; /* already assigned exactly so: done */
}

void handle_alter_partition_reassignments(struct request *req)
{
	struct broker *b = req->broker;
	struct alter_partition_reassignments_request in;
	alter_partition_reassignments_request_init(&in);
	if (alter_partition_reassignments_request_decode(&req->body, req->api_version, &in,
	                                                 &req->arena)) {
		request_close(req);
		return;
	}
	struct alter_partition_reassignments_response resp;
	alter_partition_reassignments_response_init(&resp);
	resp.error_code = KERR_NONE;
	resp.error_message = kstr_null();
	int32_t nt = in.n_topics > 0 ? in.n_topics : 0;
	resp.n_responses = nt;
	resp.responses = arena_alloc(&req->arena, sizeof(*resp.responses) * (size_t)(nt ? nt : 1));
	for (int32_t i = 0; i < nt; i++) {
		const struct alter_partition_reassignments_request_reassignable_topic *it =
		    &in.topics[i];
		struct alter_partition_reassignments_response_reassignable_topic_response *ot =
		    &resp.responses[i];
		alter_partition_reassignments_response_reassignable_topic_response_init(ot);
		ot->name = it->name;
		struct topic *t = find_topic(b, it->name);
		int32_t np = it->n_partitions > 0 ? it->n_partitions : 0;
		ot->n_partitions = np;
		ot->partitions =
		    arena_alloc(&req->arena, sizeof(*ot->partitions) * (size_t)(np ? np : 1));
		for (int32_t k = 0; k < np; k++) {
			struct
			    alter_partition_reassignments_response_reassignable_partition_response
			        *op = &ot->partitions[k];
			alter_partition_reassignments_response_reassignable_partition_response_init(
			    op);
			op->partition_index = it->partitions[k].partition_index;
			char *msg = msgbuf(req);
			op->error_code = reassign_one(b, t, &it->partitions[k], msg);
			op->error_message = op->error_code ? kstr_c(msg) : kstr_null();
		}
	}
	alter_partition_reassignments_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}

void handle_list_partition_reassignments(struct request *req)
{
	struct list_partition_reassignments_request in;
	list_partition_reassignments_request_init(&in);
	if (list_partition_reassignments_request_decode(&req->body, req->api_version, &in,
	                                                &req->arena)) {
		request_close(req);
		return;
	}
	struct list_partition_reassignments_response resp;
	list_partition_reassignments_response_init(&resp);
	resp.error_code = KERR_NONE;
	resp.error_message = kstr_null();
	resp.n_topics = 0; /* nothing is ever being reassigned on one node */
	list_partition_reassignments_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}
