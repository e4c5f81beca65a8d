/*
 * fetch.c: Fetch (key 1) for consumers. Each partition's data is a range of
 * whole batches in one segment file, spliced into the response and sent with
 * sendfile — never copied or re-encoded. At least one whole batch is
 * returned even if it exceeds the byte limits (KIP-74), but only for the
 * first partition with data; later partitions stop at max_bytes.
 *
 * Long poll: when less than min_bytes is available and max_wait_ms > 0, the
 * request parks on every partition it reads and on a timer. An append that
 * moves a high watermark wakes it at once; it then reads again and answers
 * if it has min_bytes, else parks again until the timer fires.
 *
 * Fetch sessions (KIP-227) are declined: the response's session id is 0, so
 * clients keep sending full fetches. Transactions are not there yet, so the
 * last stable offset is the high watermark and no transaction was aborted.
 */
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "handlers/errors.h"
#include "handlers/handler.h"
#include "proto/gen/kmsg.h"
#include "repl/partition.h"

struct fetch_wait {
	struct pwaiter w; /* first: the callback casts back */
	struct fetch_park *park;
};

struct fetch_park {
	struct request *req;
	struct fetch_request in;
	struct fetch_response_fetchable_topic_response *out; /* reused by every try */
	struct fetch_wait *waits;                            /* one per distinct partition */
	int nwaits;
	struct loop_timer timer;
	bool timer_armed;
};

/* A file range in a response, and the offset after its last batch. */
struct served_range {
	struct wire_fileref ref; /* first: krecords.file points here */
	int64_t next_offset;
};

static void fetch_try(struct fetch_park *pk, bool final);

static void unpark(struct fetch_park *pk)
{
	for (int i = 0; i < pk->nwaits; i++)
		pwaiter_cancel(&pk->waits[i].w);
	if (pk->timer_armed) {
		loop_timer_stop(pk->req->broker->loop, &pk->timer);
		pk->timer_armed = false;
	}
}

static void fetch_woken(struct pwaiter *w, int err)
{
	struct fetch_park *pk = ((struct fetch_wait *)w)->park;
	(void)err; /* a deleted partition shows up as an error on the next read */
	unpark(pk);
	fetch_try(pk, false);
}

static void fetch_timeout(struct loop_timer *t)
{
	struct fetch_park *pk =
	    (struct fetch_park *)((char *)t - offsetof(struct fetch_park, timer));
	pk->timer_armed = false;
	unpark(pk);
	fetch_try(pk, true);
}

static void fetch_cancel(struct request *req)
{
	unpark(req->parked);
}

static int16_t check_partition(struct partition *p, const struct fetch_request_fetch_partition *fp)
{
	if (!p)
		return KERR_UNKNOWN_TOPIC_OR_PARTITION;
	if (fp->current_leader_epoch >= 0 && fp->current_leader_epoch != p->leader_epoch)
		return fp->current_leader_epoch > p->leader_epoch ? KERR_UNKNOWN_LEADER_EPOCH
		                                                  : KERR_FENCED_LEADER_EPOCH;
	if (fp->fetch_offset < plog_start_offset(p->log) ||
	    fp->fetch_offset > plog_end_offset(p->log))
		return KERR_OFFSET_OUT_OF_RANGE;
	return KERR_NONE;
}

static void release_slices(struct fetch_response *resp)
{
	for (int32_t i = 0; i < resp->n_responses; i++)
		for (int32_t k = 0; k < resp->responses[i].n_partitions; k++) {
			struct krecords *r = &resp->responses[i].partitions[k].records;
			if (r->file && r->file->release)
				r->file->release(r->file->ctx);
			r->file = NULL;
		}
}

/* Bytes and records served, per partition, for the metrics. */
static void count_out(struct broker *b, const struct fetch_request *in,
                      const struct fetch_response *resp)
{
	for (int32_t i = 0; i < resp->n_responses; i++) {
		const struct fetch_response_fetchable_topic_response *tr = &resp->responses[i];
		struct topic *t = NULL;
		for (int32_t k = 0; k < tr->n_partitions; k++) {
			const struct fetch_response_partition_data *pd = &tr->partitions[k];
			if (!pd->records.file)
				continue;
			if (!t)
				t = meta_topic_find(b->meta, in->topics[i].topic.ptr,
				                    (size_t)in->topics[i].topic.len);
			struct partition *p = partitions_get(t, pd->partition_index);
			if (!p)
				continue;
			p->bytes_out += pd->records.len;
			int64_t from = in->topics[i].partitions[k].fetch_offset;
			int64_t upto = ((const struct served_range *)pd->records.file)->next_offset;
			if (upto > from)
				p->messages_out += upto - from;
		}
	}
}

static void add_wait(struct fetch_park *pk, struct partition *p)
{
	for (int i = 0; i < pk->nwaits; i++)
		if (pk->waits[i].w.part == p)
			return;
	struct fetch_wait *fw = &pk->waits[pk->nwaits++];
	fw->park = pk;
	fw->w.cb = fetch_woken;
	fw->w.prev = fw->w.next = NULL;
	fw->w.part = p;
}

static void fetch_try(struct fetch_park *pk, bool final)
{
	struct request *req = pk->req;
	struct broker *b = req->broker;
	struct fetch_request *in = &pk->in;
	struct fetch_response resp;
	fetch_response_init(&resp);
	resp.session_id = 0;
	int64_t max_bytes = req->api_version >= 3 && in->max_bytes > 0 ? in->max_bytes : INT32_MAX;
	int64_t total = 0;
	bool any_error = false, read_committed = in->isolation_level == 1;
	int32_t nt = in->n_topics > 0 ? in->n_topics : 0;

	if (in->session_id != 0) {
		resp.error_code = KERR_FETCH_SESSION_ID_NOT_FOUND;
		nt = 0;
		any_error = true;
	}
	resp.n_responses = nt;
	resp.responses = pk->out;
	pk->nwaits = 0;
	for (int32_t i = 0; i < nt; i++) {
		struct fetch_request_fetch_topic *ft = &in->topics[i];
		struct fetch_response_fetchable_topic_response *tr = &resp.responses[i];
		struct fetch_response_partition_data *parts = tr->partitions;
		fetch_response_fetchable_topic_response_init(tr);
		tr->topic = ft->topic;
		tr->topic_id = ft->topic_id;
		struct topic *t = ft->topic.len > 0 ? meta_topic_find(b->meta, ft->topic.ptr,
		                                                      (size_t)ft->topic.len)
		                                    : NULL;
		int32_t np = ft->n_partitions > 0 ? ft->n_partitions : 0;
		tr->n_partitions = np;
		tr->partitions = parts;
		for (int32_t k = 0; k < np; k++) {
			struct fetch_request_fetch_partition *fp = &ft->partitions[k];
			struct fetch_response_partition_data *pd = &tr->partitions[k];
			fetch_response_partition_data_init(pd);
			pd->partition_index = fp->partition;
			pd->high_watermark = -1;
			pd->last_stable_offset = -1;
			pd->log_start_offset = -1;
			pd->preferred_read_replica = -1;
			pd->n_aborted_transactions = read_committed ? 0 : -1;
			pd->records.ptr = NULL;
			pd->records.len = 0;
			struct partition *p = partitions_get(t, fp->partition);
			int16_t code = check_partition(p, fp);
			if (p) {
				pd->high_watermark = partition_high_watermark(p);
				pd->last_stable_offset = partition_high_watermark(p);
				pd->log_start_offset = plog_start_offset(p->log);
			}
			if (code) {
				pd->error_code = code;
				any_error = true;
				continue;
			}
			add_wait(pk, p);
			if (fp->fetch_offset >= partition_high_watermark(p))
				continue;
			int64_t room = max_bytes - total;
			if (room <= 0)
				continue;
			int32_t limit = fp->partition_max_bytes;
			if (limit > room)
				limit = (int32_t)room;
			struct plog_slice sl;
			int err = plog_read(p->log, fp->fetch_offset, partition_high_watermark(p),
			                    limit > 0 ? limit : 1, &sl);
			if (err) {
				pd->error_code = kafka_error_from(err);
				any_error = true;
				continue;
			}
			if (sl.ref.len == 0)
				continue;
			if (total > 0 && sl.ref.len > room) {
				/* KIP-74: only the first partition may exceed the limit. */
				sl.ref.release(sl.ref.ctx);
				continue;
			}
			struct served_range *sr = arena_alloc(&req->arena, sizeof(*sr));
			sr->ref = sl.ref;
			sr->next_offset = sl.next_offset;
			struct wire_fileref *ref = &sr->ref;
			pd->records.file = ref;
			pd->records.len = ref->len;
			total += ref->len;
		}
	}
	bool enough = in->min_bytes <= 0 || total >= in->min_bytes;
	if (final || any_error || enough || in->max_wait_ms <= 0 || pk->nwaits == 0 ||
	    b->shutting_down) {
		count_out(b, in, &resp);
		req->cancel = NULL;
		fetch_response_encode(&req->w, req->api_version, &resp);
		request_done(req);
		return;
	}
	/* Not enough yet: let go of what was read and wait for more. */
	release_slices(&resp);
	req->parked = pk;
	req->cancel = fetch_cancel;
	for (int i = 0; i < pk->nwaits; i++)
		partition_wait_data(pk->waits[i].w.part, &pk->waits[i].w);
	if (!pk->timer_armed) {
		int64_t deadline_left =
		    in->max_wait_ms - (clock_mono_ns() - req->received_ns) / 1000000;
		loop_timer_init(&pk->timer, fetch_timeout);
		loop_timer_start(b->loop, &pk->timer, deadline_left);
		pk->timer_armed = true;
	}
}

void handle_fetch(struct request *req)
{
	struct fetch_park *pk = arena_alloc(&req->arena, sizeof(*pk));
	pk->req = req;
	fetch_request_init(&pk->in);
	if (fetch_request_decode(&req->body, req->api_version, &pk->in, &req->arena)) {
		request_close(req);
		return;
	}
	int total = 0;
	for (int32_t i = 0; i < pk->in.n_topics; i++) /* the decoder bounded these counts */
		total += pk->in.topics[i].n_partitions > 0 ? pk->in.topics[i].n_partitions : 0;
	pk->waits = arena_alloc(&req->arena, sizeof(*pk->waits) * (size_t)(total ? total : 1));
	int32_t nt = pk->in.n_topics > 0 ? pk->in.n_topics : 0;
	pk->out = arena_alloc(&req->arena, sizeof(*pk->out) * (size_t)(nt ? nt : 1));
	for (int32_t i = 0; i < nt; i++) {
		int32_t np = pk->in.topics[i].n_partitions > 0 ? pk->in.topics[i].n_partitions : 0;
		pk->out[i].partitions = arena_alloc(&req->arena, sizeof(*pk->out[i].partitions) *
		                                                     (size_t)(np ? np : 1));
	}
	fetch_try(pk, false);
}
