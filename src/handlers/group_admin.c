/*
 * group_admin.c: ListGroups (key 16, v0-4, states filter from v4),
 * DescribeGroups (key 15, v0-5) and DeleteGroups (key 42, v0-2).
 *
 * ListGroups and DescribeGroups answer from the coordinator's memory at
 * once. A group that does not exist is described as Dead with no error, as
 * Kafka does up to DescribeGroups v5. DeleteGroups removes only groups
 * without members (else NON_EMPTY_GROUP); it answers once the tombstones of
 * every deleted group are durable.
 */
#include <string.h>
#include <strings.h>

#include "group/group.h"
#include "handlers/errors.h"
#include "handlers/handler.h"
#include "proto/gen/kmsg.h"

/* ---- ListGroups ---- */

struct list_ctx {
	struct request *req;
	const struct list_groups_request *in;
	struct list_groups_response_listed_group *out;
	int32_t n, cap;
};

static bool state_wanted(const struct list_groups_request *in, const char *state)
{
	if (in->n_states_filter <= 0)
		return true;
	size_t sl = strlen(state);
	for (int32_t i = 0; i < in->n_states_filter; i++) {
		struct kstr f = in->states_filter[i];
		if (f.len >= 0 && (size_t)f.len == sl && strncasecmp(f.ptr, state, sl) == 0)
			return true;
	}
	return false;
}

static void list_one(void *ctx, const struct gc_group_info *g)
{
	struct list_ctx *lc = ctx;
	if (!state_wanted(lc->in, g->state))
		return;
	if (lc->n == lc->cap) {
		int32_t cap = lc->cap ? lc->cap * 2 : 16;
		struct list_groups_response_listed_group *v =
		    arena_alloc(&lc->req->arena, sizeof(*v) * (size_t)cap);
		if (lc->n)
			memcpy(v, lc->out, sizeof(*v) * (size_t)lc->n);
		lc->out = v;
		lc->cap = cap;
	}
	struct list_groups_response_listed_group *o = &lc->out[lc->n++];
	list_groups_response_listed_group_init(o);
	o->group_id = g->group_id;
	o->protocol_type = g->protocol_type;
	o->group_state = kstr_c(g->state);
	o->group_type = kstr_c("classic");
}

void handle_list_groups(struct request *req)
{
	struct broker *b = req->broker;
	struct list_groups_request in;
	list_groups_request_init(&in);
	if (list_groups_request_decode(&req->body, req->api_version, &in, &req->arena)) {
		request_close(req);
		return;
	}
	struct list_groups_response resp;
	list_groups_response_init(&resp);
	struct kstr none = {"", 0};
	int st = gc_group_status(b->groups, none);
	if (st) {
		resp.error_code = group_kafka_error(st);
	} else {
		struct list_ctx lc = {req, &in, NULL, 0, 0};
		gc_groups_foreach(b->groups, list_one, &lc);
		resp.n_groups = lc.n;
		resp.groups = lc.out;
	}
	list_groups_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}

/* ---- DescribeGroups ---- */

void handle_describe_groups(struct request *req)
{
	struct broker *b = req->broker;
	struct describe_groups_request in;
	describe_groups_request_init(&in);
	if (describe_groups_request_decode(&req->body, req->api_version, &in, &req->arena)) {
		request_close(req);
		return;
	}
	struct describe_groups_response resp;
	describe_groups_response_init(&resp);
	int32_t n = in.n_groups > 0 ? in.n_groups : 0;
	resp.n_groups = n;
	resp.groups = arena_alloc(&req->arena, sizeof(*resp.groups) * (size_t)(n ? n : 1));
	for (int32_t i = 0; i < n; i++) {
		struct describe_groups_response_described_group *o = &resp.groups[i];
		describe_groups_response_described_group_init(o);
		struct gc_group_desc d;
		int err = gc_describe(b->groups, in.groups[i], &req->arena, &d);
		o->error_code = group_kafka_error(err);
		o->group_id = in.groups[i];
		o->group_state = kstr_c(d.state);
		o->protocol_type = d.protocol_type;
		o->protocol_data = d.protocol;
		if (err)
			continue;
		o->n_members = d.nmembers;
		o->members = arena_alloc(&req->arena, sizeof(*o->members) *
		                                          (size_t)(d.nmembers ? d.nmembers : 1));
		for (int k = 0; k < d.nmembers; k++) {
			struct describe_groups_response_described_group_member *m = &o->members[k];
			describe_groups_response_described_group_member_init(m);
			m->member_id = d.members[k].member_id;
			m->group_instance_id = d.members[k].instance_id;
			m->client_id = d.members[k].client_id;
			m->client_host = d.members[k].client_host;
			m->member_metadata = d.members[k].metadata;
			m->member_assignment = d.members[k].assignment;
		}
	}
	describe_groups_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}

/* ---- DeleteGroups ---- */

struct delg_park;
struct delg_one {
	struct delg_park *pk;
	struct gc_op *op;
	int err;
};
struct delg_park {
	struct request *req;
	struct delete_groups_request in;
	struct delg_one *one;
	int32_t n;
	int pending;
};

static void delg_cancel(struct request *req)
{
	struct delg_park *pk = req->parked;
	for (int32_t i = 0; i < pk->n; i++)
		gc_cancel(pk->one[i].op);
}

static void delg_respond(struct delg_park *pk)
{
	struct request *req = pk->req;
	req->cancel = NULL;
	struct delete_groups_response resp;
	delete_groups_response_init(&resp);
	resp.n_results = pk->n;
	resp.results =
	    arena_alloc(&req->arena, sizeof(*resp.results) * (size_t)(pk->n ? pk->n : 1));
	for (int32_t i = 0; i < pk->n; i++) {
		delete_groups_response_deletable_group_result_init(&resp.results[i]);
		resp.results[i].group_id = pk->in.groups_names[i];
		resp.results[i].error_code = group_kafka_error(pk->one[i].err);
	}
	delete_groups_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}

static void delg_done(void *ctx, int err)
{
	struct delg_one *one = ctx;
	one->err = err;
	one->op = NULL;
	if (--one->pk->pending == 0)
		delg_respond(one->pk);
}

void handle_delete_groups(struct request *req)
{
	struct broker *b = req->broker;
	struct delg_park *pk = arena_alloc(&req->arena, sizeof(*pk));
	pk->req = req;
	delete_groups_request_init(&pk->in);
	if (delete_groups_request_decode(&req->body, req->api_version, &pk->in, &req->arena)) {
		request_close(req);
		return;
	}
	pk->n = pk->in.n_groups_names > 0 ? pk->in.n_groups_names : 0;
	pk->one = arena_alloc(&req->arena, sizeof(*pk->one) * (size_t)(pk->n ? pk->n : 1));
	req->parked = pk;
	req->cancel = delg_cancel;
	/* pending starts at 1 so a group answered at once cannot finish the request early. */
	pk->pending = 1;
	for (int32_t i = 0; i < pk->n; i++) {
		pk->one[i].pk = pk;
		bool dup = false;
		for (int32_t k = 0; k < i && !dup; k++)
			dup = pk->in.groups_names[i].len >= 0 &&
			      pk->in.groups_names[k].len == pk->in.groups_names[i].len &&
			      !memcmp(pk->in.groups_names[k].ptr, pk->in.groups_names[i].ptr,
			              (size_t)pk->in.groups_names[i].len);
		if (dup) {
			/* The first occurrence decides; a repeat finds the group gone. */
			pk->one[i].err = GC_ERR_GROUP_ID_NOT_FOUND;
			continue;
		}
		pk->pending++;
		gc_delete_group(b->groups, pk->in.groups_names[i], delg_done, &pk->one[i],
		                &pk->one[i].op);
	}
	if (--pk->pending == 0)
		delg_respond(pk);
}
