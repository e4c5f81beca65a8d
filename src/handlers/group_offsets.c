/*
 * group_offsets.c: OffsetCommit (key 8, v1-8), OffsetFetch (key 9, v1-8,
 * several groups per request from v8) and OffsetDelete (key 47, v0).
 *
 * A commit answers only once its records are durable in __consumer_offsets
 * (the coordinator parks it on the partition's group commit). Partitions of
 * topics that do not exist get UNKNOWN_TOPIC_OR_PARTITION and are not
 * written, as Kafka 2.x did. OffsetFetch answers from memory: a partition
 * without a commit gets offset -1 and empty metadata; a null topic list
 * (v2+) means every committed offset of the group.
 *
 * The validation rules (generation, member, state) live in src/group/.
 */
#include <string.h>

#include "group/group.h"
#include "handlers/errors.h"
#include "handlers/handler.h"
#include "proto/gen/kmsg.h"

static bool partition_exists(struct broker *b, struct kstr topic, int32_t partition)
{
	if (topic.len <= 0)
		return false;
	struct topic *t = meta_topic_find(b->meta, topic.ptr, (size_t)topic.len);
	return t && partition >= 0 && partition < t->partitions;
}

/* ---- OffsetCommit ---- */

struct commit_park {
	struct request *req;
	struct gc_op *op;
	struct offset_commit_request in;
	struct gc_commit_part *parts;
};

static void commit_cancel(struct request *req)
{
	struct commit_park *pk = req->parked;
	gc_cancel(pk->op);
}

static void commit_done(void *ctx, int err)
{
	struct commit_park *pk = ctx;
	struct request *req = pk->req;
	req->cancel = NULL;
	struct offset_commit_response resp;
	offset_commit_response_init(&resp);
	int32_t nt = pk->in.n_topics > 0 ? pk->in.n_topics : 0;
	resp.n_topics = nt;
	resp.topics = arena_alloc(&req->arena, sizeof(*resp.topics) * (size_t)(nt ? nt : 1));
	int k = 0;
	for (int32_t i = 0; i < nt; i++) {
		struct offset_commit_request_offset_commit_request_topic *it = &pk->in.topics[i];
		struct offset_commit_response_offset_commit_response_topic *ot = &resp.topics[i];
		offset_commit_response_offset_commit_response_topic_init(ot);
		ot->name = it->name;
		int32_t np = it->n_partitions > 0 ? it->n_partitions : 0;
		ot->n_partitions = np;
		ot->partitions =
		    arena_alloc(&req->arena, sizeof(*ot->partitions) * (size_t)(np ? np : 1));
		for (int32_t j = 0; j < np; j++, k++) {
			struct gc_commit_part *p = &pk->parts[k];
			ot->partitions[j].partition_index = p->partition;
			ot->partitions[j].error_code = group_kafka_error(p->err ? p->err : err);
		}
	}
	offset_commit_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}

void handle_offset_commit(struct request *req)
{
	struct broker *b = req->broker;
	struct commit_park *pk = arena_alloc(&req->arena, sizeof(*pk));
	pk->req = req;
	offset_commit_request_init(&pk->in);
	if (offset_commit_request_decode(&req->body, req->api_version, &pk->in, &req->arena)) {
		request_close(req);
		return;
	}
	struct offset_commit_request *in = &pk->in;
	int total = 0;
	int32_t nt = in->n_topics > 0 ? in->n_topics : 0;
	for (int32_t i = 0; i < nt; i++)
		total += in->topics[i].n_partitions > 0 ? in->topics[i].n_partitions : 0;
	pk->parts = arena_alloc(&req->arena, sizeof(*pk->parts) * (size_t)(total ? total : 1));
	int k = 0;
	for (int32_t i = 0; i < nt; i++) {
		struct offset_commit_request_offset_commit_request_topic *t = &in->topics[i];
		int32_t np = t->n_partitions > 0 ? t->n_partitions : 0;
		for (int32_t j = 0; j < np; j++, k++) {
			struct offset_commit_request_offset_commit_request_partition *p =
			    &t->partitions[j];
			struct gc_commit_part *cp = &pk->parts[k];
			cp->topic = t->name;
			cp->partition = p->partition_index;
			cp->offset = p->committed_offset;
			cp->leader_epoch = req->api_version >= 6 ? p->committed_leader_epoch : -1;
			cp->metadata = p->committed_metadata;
			cp->err = partition_exists(b, t->name, p->partition_index)
			              ? 0
			              : GC_ERR_UNKNOWN_TOPIC;
		}
	}
	struct gc_commit_args a;
	memset(&a, 0, sizeof(a));
	a.group_id = in->group_id;
	a.member_id = in->member_id;
	a.instance_id = in->group_instance_id;
	a.generation_id = in->generation_id_or_member_epoch;
	a.retention_ms =
	    req->api_version >= 2 && req->api_version <= 4 ? in->retention_time_ms : -1;
	a.nparts = total;
	a.parts = pk->parts;
	req->parked = pk;
	req->cancel = commit_cancel;
	gc_commit(b->groups, &a, commit_done, pk, &pk->op);
}

/* ---- OffsetFetch ---- */

/* The offsets of one group, in the v8+ response shape (converted for v1-7 below). */
static void fetch_group(struct request *req, struct kstr group, int32_t ntopics,
                        const struct offset_fetch_request_offset_fetch_request_topics *topics,
                        struct offset_fetch_response_offset_fetch_response_group *out)
{
	struct broker *b = req->broker;
	struct arena *ar = &req->arena;
	offset_fetch_response_offset_fetch_response_group_init(out);
	out->group_id = group;
	int st = group.len <= 0 ? GC_ERR_INVALID_GROUP_ID : gc_group_status(b->groups, group);
	if (st) {
		out->error_code = group_kafka_error(st);
		return;
	}
	if (ntopics < 0) {
		struct gc_offset_info *all;
		int n = gc_offsets_all(b->groups, group, ar, &all);
		int nt = 0;
		for (int i = 0; i < n; i++)
			if (i == 0 || !(all[i].topic.len == all[i - 1].topic.len &&
			                !memcmp(all[i].topic.ptr, all[i - 1].topic.ptr,
			                        (size_t)all[i].topic.len)))
				nt++;
		out->n_topics = nt;
		out->topics = arena_alloc(ar, sizeof(*out->topics) * (size_t)(nt ? nt : 1));
		int t = -1;
		for (int i = 0; i < n; i++) {
			if (t < 0 || !(all[i].topic.len == out->topics[t].name.len &&
			               !memcmp(all[i].topic.ptr, out->topics[t].name.ptr,
			                       (size_t)all[i].topic.len))) {
				t++;
				offset_fetch_response_offset_fetch_response_topics_init(
				    &out->topics[t]);
				out->topics[t].name = all[i].topic;
				int cnt = 0;
				for (int j = i; j < n && all[j].topic.len == all[i].topic.len &&
				                !memcmp(all[j].topic.ptr, all[i].topic.ptr,
				                        (size_t)all[i].topic.len);
				     j++)
					cnt++;
				out->topics[t].partitions = arena_alloc(
				    ar, sizeof(*out->topics[t].partitions) * (size_t)cnt);
			}
			struct offset_fetch_response_offset_fetch_response_partitions *p =
			    &out->topics[t].partitions[out->topics[t].n_partitions++];
			offset_fetch_response_offset_fetch_response_partitions_init(p);
			p->partition_index = all[i].partition;
			p->committed_offset = all[i].offset;
			p->committed_leader_epoch = all[i].leader_epoch;
			p->metadata = all[i].metadata;
		}
		return;
	}
	out->n_topics = ntopics;
	out->topics = arena_alloc(ar, sizeof(*out->topics) * (size_t)(ntopics ? ntopics : 1));
	for (int32_t i = 0; i < ntopics; i++) {
		struct offset_fetch_response_offset_fetch_response_topics *ot = &out->topics[i];
		offset_fetch_response_offset_fetch_response_topics_init(ot);
		ot->name = topics[i].name;
		int32_t np = topics[i].n_partition_indexes > 0 ? topics[i].n_partition_indexes : 0;
		ot->n_partitions = np;
		ot->partitions = arena_alloc(ar, sizeof(*ot->partitions) * (size_t)(np ? np : 1));
		for (int32_t j = 0; j < np; j++) {
			struct offset_fetch_response_offset_fetch_response_partitions *p =
			    &ot->partitions[j];
			offset_fetch_response_offset_fetch_response_partitions_init(p);
			p->partition_index = topics[i].partition_indexes[j];
			struct gc_offset_info info;
			if (gc_offset_get(b->groups, group, ot->name, p->partition_index, &info) ==
			    0) {
				p->committed_offset = info.offset;
				p->committed_leader_epoch = info.leader_epoch;
				p->metadata = info.metadata;
			} else {
				p->committed_offset = -1;
				p->committed_leader_epoch = -1;
				p->metadata = kstr_c("");
			}
		}
	}
}

void handle_offset_fetch(struct request *req)
{
	struct offset_fetch_request in;
	offset_fetch_request_init(&in);
	if (offset_fetch_request_decode(&req->body, req->api_version, &in, &req->arena)) {
		request_close(req);
		return;
	}
	struct arena *ar = &req->arena;
	struct offset_fetch_response resp;
	offset_fetch_response_init(&resp);
	if (req->api_version >= 8) {
		int32_t ng = in.n_groups > 0 ? in.n_groups : 0;
		resp.n_groups = ng;
		resp.groups = arena_alloc(ar, sizeof(*resp.groups) * (size_t)(ng ? ng : 1));
		for (int32_t i = 0; i < ng; i++)
			fetch_group(req, in.groups[i].group_id, in.groups[i].n_topics,
			            in.groups[i].topics, &resp.groups[i]);
	} else {
		/* Reuse the v8 path, then convert to the single-group layout. */
		int32_t nt = in.n_topics;
		if (req->api_version < 2 && nt < 0)
			nt = 0;
		struct offset_fetch_request_offset_fetch_request_topics *tv =
		    arena_alloc(ar, sizeof(*tv) * (size_t)(nt > 0 ? nt : 1));
		for (int32_t i = 0; i < nt; i++) {
			tv[i].name = in.topics[i].name;
			tv[i].n_partition_indexes = in.topics[i].n_partition_indexes;
			tv[i].partition_indexes = in.topics[i].partition_indexes;
		}
		struct offset_fetch_response_offset_fetch_response_group g;
		fetch_group(req, in.group_id, nt, tv, &g);
		resp.error_code = g.error_code;
		resp.n_topics = g.n_topics > 0 ? g.n_topics : 0;
		if (g.error_code && req->api_version < 2) {
			/* v0-1 have no top-level error: it goes on every requested partition. */
			resp.n_topics = nt > 0 ? nt : 0;
		}
		resp.topics = arena_alloc(ar, sizeof(*resp.topics) *
		                                  (size_t)(resp.n_topics ? resp.n_topics : 1));
		for (int32_t i = 0; i < resp.n_topics; i++) {
			struct offset_fetch_response_offset_fetch_response_topic *ot =
			    &resp.topics[i];
			offset_fetch_response_offset_fetch_response_topic_init(ot);
			bool from_req = g.error_code != 0;
			ot->name = from_req ? in.topics[i].name : g.topics[i].name;
			int32_t np = from_req ? (in.topics[i].n_partition_indexes > 0
			                             ? in.topics[i].n_partition_indexes
			                             : 0)
			                      : g.topics[i].n_partitions;
			ot->n_partitions = np;
			ot->partitions =
			    arena_alloc(ar, sizeof(*ot->partitions) * (size_t)(np ? np : 1));
			for (int32_t j = 0; j < np; j++) {
				struct offset_fetch_response_offset_fetch_response_partition *p =
				    &ot->partitions[j];
				offset_fetch_response_offset_fetch_response_partition_init(p);
				if (from_req) {
					p->partition_index = in.topics[i].partition_indexes[j];
					p->committed_offset = -1;
					p->committed_leader_epoch = -1;
					p->metadata = kstr_c("");
					p->error_code = g.error_code;
				} else {
					struct
					    offset_fetch_response_offset_fetch_response_partitions
					        *s = &g.topics[i].partitions[j];
					p->partition_index = s->partition_index;
					p->committed_offset = s->committed_offset;
					p->committed_leader_epoch = s->committed_leader_epoch;
					p->metadata = s->metadata;
				}
			}
		}
	}
	offset_fetch_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}

/* ---- OffsetDelete ---- */

struct odel_park {
	struct request *req;
	struct gc_op *op;
	struct offset_delete_request in;
	struct gc_offset_delete_part *parts;
	int16_t *preset; /* per partition: UNKNOWN_TOPIC_OR_PARTITION, else 0 */
	int nparts;
};

static void odel_cancel(struct request *req)
{
	struct odel_park *pk = req->parked;
	gc_cancel(pk->op);
}

static void odel_done(void *ctx, int err)
{
	struct odel_park *pk = ctx;
	struct request *req = pk->req;
	req->cancel = NULL;
	struct offset_delete_response resp;
	offset_delete_response_init(&resp);
	bool group_level = err && err != GC_ERR_STORAGE;
	resp.error_code = group_level ? group_kafka_error(err) : KERR_NONE;
	int32_t nt = pk->in.n_topics > 0 ? pk->in.n_topics : 0;
	if (!group_level) {
		resp.n_topics = nt;
		resp.topics =
		    arena_alloc(&req->arena, sizeof(*resp.topics) * (size_t)(nt ? nt : 1));
	}
	int k = 0, v = 0;
	for (int32_t i = 0; i < nt && !group_level; i++) {
		struct offset_delete_request_offset_delete_request_topic *it = &pk->in.topics[i];
		struct offset_delete_response_offset_delete_response_topic *ot = &resp.topics[i];
		offset_delete_response_offset_delete_response_topic_init(ot);
		ot->name = it->name;
		int32_t np = it->n_partitions > 0 ? it->n_partitions : 0;
		ot->n_partitions = np;
		ot->partitions =
		    arena_alloc(&req->arena, sizeof(*ot->partitions) * (size_t)(np ? np : 1));
		for (int32_t j = 0; j < np; j++, k++) {
			ot->partitions[j].partition_index = it->partitions[j].partition_index;
			if (pk->preset[k])
				ot->partitions[j].error_code = pk->preset[k];
			else {
				int e = pk->parts[v++].err;
				ot->partitions[j].error_code = group_kafka_error(e ? e : err);
			}
		}
	}
	offset_delete_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}

void handle_offset_delete(struct request *req)
{
	struct broker *b = req->broker;
	struct odel_park *pk = arena_alloc(&req->arena, sizeof(*pk));
	pk->req = req;
	offset_delete_request_init(&pk->in);
	if (offset_delete_request_decode(&req->body, req->api_version, &pk->in, &req->arena)) {
		request_close(req);
		return;
	}
	int total = 0;
	int32_t nt = pk->in.n_topics > 0 ? pk->in.n_topics : 0;
	for (int32_t i = 0; i < nt; i++)
		total += pk->in.topics[i].n_partitions > 0 ? pk->in.topics[i].n_partitions : 0;
	pk->parts = arena_alloc(&req->arena, sizeof(*pk->parts) * (size_t)(total ? total : 1));
	pk->preset = arena_alloc(&req->arena, sizeof(*pk->preset) * (size_t)(total ? total : 1));
	int k = 0;
	for (int32_t i = 0; i < nt; i++) {
		struct offset_delete_request_offset_delete_request_topic *t = &pk->in.topics[i];
		int32_t np = t->n_partitions > 0 ? t->n_partitions : 0;
		for (int32_t j = 0; j < np; j++, k++) {
			int32_t part = t->partitions[j].partition_index;
			if (!partition_exists(b, t->name, part)) {
				pk->preset[k] = KERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			pk->parts[pk->nparts].topic = t->name;
			pk->parts[pk->nparts].partition = part;
			pk->nparts++;
		}
	}
	req->parked = pk;
	req->cancel = odel_cancel;
	gc_offset_delete(b->groups, pk->in.group_id, pk->parts, pk->nparts, odel_done, pk, &pk->op);
}
