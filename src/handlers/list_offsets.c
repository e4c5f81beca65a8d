/*
 * list_offsets.c: ListOffsets (key 2): earliest (-2), latest (-1, the high
 * watermark, which is also the last stable offset while there are no
 * transactions), max timestamp (-3, v7+), earliest local (-4, same as
 * earliest here), or the first offset whose timestamp is >= the one asked.
 */
#include "base/err.h"
#include "handlers/errors.h"
#include "handlers/handler.h"
#include "proto/gen/kmsg.h"
#include "repl/partition.h"

#define TS_LATEST         (-1)
#define TS_EARLIEST       (-2)
#define TS_MAX_TIMESTAMP  (-3)
#define TS_EARLIEST_LOCAL (-4)

static void lookup(struct partition *p, int16_t version,
                   const struct list_offsets_request_list_offsets_partition *in,
                   struct list_offsets_response_list_offsets_partition_response *out)
{
	out->timestamp = -1;
	out->offset = -1;
	out->leader_epoch = p->leader_epoch;
	if (in->current_leader_epoch >= 0 && in->current_leader_epoch != p->leader_epoch) {
		out->error_code = in->current_leader_epoch > p->leader_epoch
		                      ? KERR_UNKNOWN_LEADER_EPOCH
		                      : KERR_FENCED_LEADER_EPOCH;
		return;
	}
	int64_t ts = in->timestamp;
	if (ts == TS_EARLIEST || ts == TS_EARLIEST_LOCAL) {
		out->offset = plog_start_offset(p->log);
		return;
	}
	if (ts == TS_LATEST) {
		out->offset = partition_high_watermark(p);
		return;
	}
	if (ts == TS_MAX_TIMESTAMP) {
		int64_t off, t;
		if (plog_max_timestamp(p->log, &off, &t) == 0 &&
		    off < partition_high_watermark(p)) {
			out->offset = off;
			out->timestamp = t;
		}
		return;
	}
	if (ts < 0) {
		out->error_code = version >= 7 ? KERR_UNSUPPORTED_VERSION : KERR_INVALID_REQUEST;
		return;
	}
	int64_t off, found;
	int err = plog_offset_for_timestamp(p->log, ts, &off, &found);
	if (err == 0 && off < partition_high_watermark(p)) {
		out->offset = off;
		out->timestamp = found;
	} else if (err && err != ERR_NOT_FOUND) {
		out->error_code = kafka_error_from(err);
	}
}

void handle_list_offsets(struct request *req)
{
	struct broker *b = req->broker;
	struct list_offsets_request in;
	list_offsets_request_init(&in);
	if (list_offsets_request_decode(&req->body, req->api_version, &in, &req->arena)) {
		request_close(req);
		return;
	}
	struct list_offsets_response resp;
	list_offsets_response_init(&resp);
	int32_t nt = in.n_topics > 0 ? in.n_topics : 0;
	resp.n_topics = nt;
	resp.topics = arena_alloc(&req->arena, sizeof(*resp.topics) * (size_t)(nt ? nt : 1));
	for (int32_t i = 0; i < nt; i++) {
		struct list_offsets_request_list_offsets_topic *it = &in.topics[i];
		struct list_offsets_response_list_offsets_topic_response *ot = &resp.topics[i];
		list_offsets_response_list_offsets_topic_response_init(ot);
		ot->name = it->name;
		struct topic *t = it->name.len > 0
		                      ? meta_topic_find(b->meta, it->name.ptr, (size_t)it->name.len)
		                      : NULL;
		int32_t np = it->n_partitions > 0 ? it->n_partitions : 0;
		ot->n_partitions = np;
		ot->partitions =
		    arena_alloc(&req->arena, sizeof(*ot->partitions) * (size_t)(np ? np : 1));
		for (int32_t k = 0; k < np; k++) {
			struct list_offsets_response_list_offsets_partition_response *op =
			    &ot->partitions[k];
			list_offsets_response_list_offsets_partition_response_init(op);
			op->partition_index = it->partitions[k].partition_index;
			op->timestamp = -1;
			op->offset = -1;
			struct partition *p = partitions_get(t, it->partitions[k].partition_index);
			if (!p) {
				op->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			lookup(p, req->api_version, &it->partitions[k], op);
		}
	}
	list_offsets_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}
