/*
 * group_membership.c: JoinGroup (key 11, v0-7), SyncGroup (14, v0-5),
 * Heartbeat (12, v0-4) and LeaveGroup (13, v0-4, batched from v3), plus the
 * one mapping of group coordinator errors to Kafka codes.
 *
 * Each handler decodes, calls the coordinator (src/group/group.h) and
 * encodes in the callback. Join and Sync may park until the rebalance moves
 * on; if the connection dies meanwhile, the request's cancel hook cancels
 * the coordinator operation so its callback never runs. Version quirks:
 * JoinGroup v0 has no rebalance timeout (the session timeout is used, as
 * Kafka does); from v4 a new member first gets MEMBER_ID_REQUIRED with its
 * id; before v4 the id comes in the (delayed) join response. The protocol
 * state machine itself lives in src/group/membership.c.
 */
#include <string.h>

#include "group/group.h"
#include "handlers/errors.h"
#include "handlers/handler.h"
#include "proto/gen/kmsg.h"

/* Kafka codes of the group APIs (org.apache.kafka.common.protocol.Errors). */
#define KERR_OFFSET_METADATA_TOO_LARGE    12
#define KERR_COORDINATOR_LOAD_IN_PROGRESS 14
#define KERR_COORDINATOR_NOT_AVAILABLE    15
#define KERR_NOT_COORDINATOR              16
#define KERR_ILLEGAL_GENERATION           22
#define KERR_INCONSISTENT_GROUP_PROTOCOL  23
#define KERR_INVALID_GROUP_ID             24
#define KERR_UNKNOWN_MEMBER_ID            25
#define KERR_INVALID_SESSION_TIMEOUT      26
#define KERR_REBALANCE_IN_PROGRESS        27
#define KERR_NON_EMPTY_GROUP              68
#define KERR_GROUP_ID_NOT_FOUND           69
#define KERR_MEMBER_ID_REQUIRED           79
#define KERR_GROUP_MAX_SIZE_REACHED       81
#define KERR_FENCED_INSTANCE_ID           82
#define KERR_GROUP_SUBSCRIBED_TO_TOPIC    86

int16_t group_kafka_error(int gc_err)
{
	switch (gc_err) {
	case GC_OK:
		return KERR_NONE;
	case GC_ERR_NOT_COORDINATOR:
		return KERR_NOT_COORDINATOR;
	case GC_ERR_LOADING:
		return KERR_COORDINATOR_LOAD_IN_PROGRESS;
	case GC_ERR_NOT_AVAILABLE:
		return KERR_COORDINATOR_NOT_AVAILABLE;
	case GC_ERR_INVALID_GROUP_ID:
		return KERR_INVALID_GROUP_ID;
	case GC_ERR_UNKNOWN_MEMBER:
		return KERR_UNKNOWN_MEMBER_ID;
	case GC_ERR_ILLEGAL_GENERATION:
		return KERR_ILLEGAL_GENERATION;
	case GC_ERR_REBALANCE_IN_PROGRESS:
		return KERR_REBALANCE_IN_PROGRESS;
	case GC_ERR_MEMBER_ID_REQUIRED:
		return KERR_MEMBER_ID_REQUIRED;
	case GC_ERR_INCONSISTENT_PROTOCOL:
		return KERR_INCONSISTENT_GROUP_PROTOCOL;
	case GC_ERR_INVALID_SESSION_TIMEOUT:
		return KERR_INVALID_SESSION_TIMEOUT;
	case GC_ERR_FENCED_INSTANCE_ID:
		return KERR_FENCED_INSTANCE_ID;
	case GC_ERR_GROUP_ID_NOT_FOUND:
		return KERR_GROUP_ID_NOT_FOUND;
	case GC_ERR_NON_EMPTY_GROUP:
		return KERR_NON_EMPTY_GROUP;
	case GC_ERR_GROUP_MAX_SIZE:
		return KERR_GROUP_MAX_SIZE_REACHED;
	case GC_ERR_INVALID_REQUEST:
		return KERR_INVALID_REQUEST;
	case GC_ERR_OFFSET_METADATA_TOO_LARGE:
		return KERR_OFFSET_METADATA_TOO_LARGE;
	case GC_ERR_SUBSCRIBED_TO_TOPIC:
		return KERR_GROUP_SUBSCRIBED_TO_TOPIC;
	case GC_ERR_UNKNOWN_TOPIC:
		return KERR_UNKNOWN_TOPIC_OR_PARTITION;
	/* Kafka turns a failed write to the offsets topic into a retriable coordinator error. */
	case GC_ERR_STORAGE:
		return KERR_COORDINATOR_NOT_AVAILABLE;
	default:
		return KERR_UNKNOWN_SERVER_ERROR;
	}
}

/* A request parked in the coordinator. */
struct group_park {
	struct request *req;
	struct gc_op *op;
};

static void group_park_cancel(struct request *req)
{
	struct group_park *pk = req->parked;
	gc_cancel(pk->op);
}

static struct group_park *park(struct request *req)
{
	struct group_park *pk = arena_alloc(&req->arena, sizeof(*pk));
	pk->req = req;
	req->parked = pk;
	req->cancel = group_park_cancel;
	return pk;
}

/* ---- JoinGroup ---- */

static void join_done(void *ctx, const struct gc_join_result *r)
{
	struct group_park *pk = ctx;
	struct request *req = pk->req;
	req->cancel = NULL;
	struct join_group_response resp;
	join_group_response_init(&resp);
	resp.error_code = group_kafka_error(r->err);
	resp.generation_id = r->generation_id;
	resp.protocol_type = r->protocol_type;
	resp.protocol_name = r->protocol_name;
	if (req->api_version < 7 && resp.protocol_name.len < 0)
		resp.protocol_name = kstr_c("");
	resp.leader = r->leader.len >= 0 ? r->leader : kstr_c("");
	resp.member_id = r->member_id.len >= 0 ? r->member_id : kstr_c("");
	resp.n_members = r->nmembers;
	resp.members = arena_alloc(&req->arena,
	                           sizeof(*resp.members) * (size_t)(r->nmembers ? r->nmembers : 1));
	for (int i = 0; i < r->nmembers; i++) {
		join_group_response_join_group_response_member_init(&resp.members[i]);
		resp.members[i].member_id = r->members[i].member_id;
		resp.members[i].group_instance_id = r->members[i].instance_id;
		resp.members[i].metadata = r->members[i].metadata;
	}
	join_group_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}

void handle_join_group(struct request *req)
{
	struct broker *b = req->broker;
	struct join_group_request in;
	join_group_request_init(&in);
	if (join_group_request_decode(&req->body, req->api_version, &in, &req->arena)) {
		request_close(req);
		return;
	}
	struct gc_join_args a;
	memset(&a, 0, sizeof(a));
	a.group_id = in.group_id;
	a.member_id = in.member_id;
	a.instance_id = in.group_instance_id;
	a.client_id = req->client_id.len >= 0 ? req->client_id : kstr_c("");
	a.client_host = req->client_host;
	a.protocol_type = in.protocol_type;
	a.session_timeout_ms = in.session_timeout_ms;
	a.rebalance_timeout_ms =
	    req->api_version >= 1 ? in.rebalance_timeout_ms : in.session_timeout_ms;
	if (a.rebalance_timeout_ms <= 0)
		a.rebalance_timeout_ms = in.session_timeout_ms;
	a.require_known_member_id = req->api_version >= 4;
	int32_t np = in.n_protocols > 0 ? in.n_protocols : 0;
	struct gc_protocol *p = arena_alloc(&req->arena, sizeof(*p) * (size_t)(np ? np : 1));
	for (int32_t i = 0; i < np; i++) {
		p[i].name = in.protocols[i].name;
		p[i].metadata = in.protocols[i].metadata;
	}
	a.nprotocols = np;
	a.protocols = p;
	struct group_park *pk = park(req);
	/* May answer before returning: req must not be touched afterwards. */
	gc_join(b->groups, &a, join_done, pk, &pk->op);
}

/* ---- SyncGroup ---- */

static void sync_done(void *ctx, const struct gc_sync_result *r)
{
	struct group_park *pk = ctx;
	struct request *req = pk->req;
	req->cancel = NULL;
	struct sync_group_response resp;
	sync_group_response_init(&resp);
	resp.error_code = group_kafka_error(r->err);
	resp.protocol_type = r->protocol_type;
	resp.protocol_name = r->protocol_name;
	resp.assignment = r->assignment;
	if (resp.assignment.len < 0 || !resp.assignment.ptr) {
		resp.assignment.ptr = (const uint8_t *)"";
		resp.assignment.len = 0;
	}
	sync_group_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}

void handle_sync_group(struct request *req)
{
	struct broker *b = req->broker;
	struct sync_group_request in;
	sync_group_request_init(&in);
	if (sync_group_request_decode(&req->body, req->api_version, &in, &req->arena)) {
		request_close(req);
		return;
	}
	struct gc_sync_args a;
	memset(&a, 0, sizeof(a));
	a.group_id = in.group_id;
	a.member_id = in.member_id;
	a.instance_id = in.group_instance_id;
	a.generation_id = in.generation_id;
	a.protocol_type = req->api_version >= 5 ? in.protocol_type : kstr_null();
	a.protocol_name = req->api_version >= 5 ? in.protocol_name : kstr_null();
	int32_t n = in.n_assignments > 0 ? in.n_assignments : 0;
	struct gc_assignment *as = arena_alloc(&req->arena, sizeof(*as) * (size_t)(n ? n : 1));
	for (int32_t i = 0; i < n; i++) {
		as[i].member_id = in.assignments[i].member_id;
		as[i].assignment = in.assignments[i].assignment;
	}
	a.nassignments = n;
	a.assignments = as;
	struct group_park *pk = park(req);
	gc_sync(b->groups, &a, sync_done, pk, &pk->op);
}

/* ---- Heartbeat ---- */

void handle_heartbeat(struct request *req)
{
	struct broker *b = req->broker;
	struct heartbeat_request in;
	heartbeat_request_init(&in);
	if (heartbeat_request_decode(&req->body, req->api_version, &in, &req->arena)) {
		request_close(req);
		return;
	}
	struct heartbeat_response resp;
	heartbeat_response_init(&resp);
	resp.error_code = group_kafka_error(gc_heartbeat(b->groups, in.group_id, in.generation_id,
	                                                 in.member_id, in.group_instance_id));
	heartbeat_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}

/* ---- LeaveGroup ---- */

void handle_leave_group(struct request *req)
{
	struct broker *b = req->broker;
	struct leave_group_request in;
	leave_group_request_init(&in);
	if (leave_group_request_decode(&req->body, req->api_version, &in, &req->arena)) {
		request_close(req);
		return;
	}
	struct leave_group_response resp;
	leave_group_response_init(&resp);
	if (req->api_version < 3) {
		resp.error_code =
		    group_kafka_error(gc_leave(b->groups, in.group_id, in.member_id, kstr_null()));
	} else {
		int32_t n = in.n_members > 0 ? in.n_members : 0;
		resp.n_members = n;
		resp.members =
		    arena_alloc(&req->arena, sizeof(*resp.members) * (size_t)(n ? n : 1));
		int st = gc_group_status(b->groups, in.group_id);
		if (in.group_id.len <= 0)
			st = GC_ERR_INVALID_GROUP_ID;
		if (st) {
			resp.error_code = group_kafka_error(st);
			resp.n_members = 0;
		}
		for (int32_t i = 0; i < n && !st; i++) {
			struct leave_group_request_member_identity *mi = &in.members[i];
			struct leave_group_response_member_response *mr = &resp.members[i];
			leave_group_response_member_response_init(mr);
			mr->member_id = mi->member_id;
			mr->group_instance_id = mi->group_instance_id;
			mr->error_code = group_kafka_error(
			    gc_leave(b->groups, in.group_id, mi->member_id, mi->group_instance_id));
		}
	}
	leave_group_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}
