/*
 * produce.c: Produce (key 0). Each partition's records must be exactly one
 * magic-2 batch; it is checked whole (size, CRC, counts, attributes) with no
 * per-record work, except on compacted topics where every record needs a
 * key. Nothing of a rejected batch reaches the log.
 *
 * acks=0: no response at all. acks=1 and acks=all: answered once the batch
 * is durable (group commit) and so visible to consumers, unless the topic is
 * in relaxed flush mode, where both are answered once appended. (On one node
 * acks=1 and acks=all ask for the same replicas; waiting for the sync keeps
 * Kafka's promise that an acknowledged record is below the high watermark,
 * which here only moves once bytes are on disk.) A partition whose log failed answers
 * KAFKA_STORAGE_ERROR and never acknowledges.
 */
#include <string.h>

#include "base/clock.h"
#include "base/endian.h"
#include "base/err.h"
#include "base/logging.h"
#include "handlers/errors.h"
#include "handlers/handler.h"
#include "proto/batch.h"
#include "proto/gen/kmsg.h"
#include "repl/partition.h"

struct produce_wait {
	struct pwaiter w; /* first: the callback casts back */
	struct produce_park *park;
	struct produce_response_partition_produce_response *out;
	struct partition *part;
	int64_t target; /* durable offset that covers the batch */
};

struct produce_park {
	struct request *req;
	struct produce_response resp;
	struct produce_wait *waits;
	int nwaits;
	int pending;
};

static void produce_respond(struct produce_park *pk)
{
	struct request *req = pk->req;
	req->cancel = NULL;
	produce_response_encode(&req->w, req->api_version, &pk->resp);
	request_done(req);
}

static void produce_woken(struct pwaiter *w, int err)
{
	struct produce_wait *pw = (struct produce_wait *)w;
	if (err) {
		pw->out->error_code =
		    err == ERR_NOT_FOUND ? KERR_UNKNOWN_TOPIC_OR_PARTITION : kafka_error_from(err);
		pw->out->base_offset = -1;
	}
	if (--pw->park->pending == 0)
		produce_respond(pw->park);
}

static void produce_cancel(struct request *req)
{
	struct produce_park *pk = req->parked;
	for (int i = 0; i < pk->nwaits; i++)
		pwaiter_cancel(&pk->waits[i].w);
}

/* Compacted topics: every record needs a key (Kafka: INVALID_RECORD). */
static int check_keys(const uint8_t *batch, size_t len)
{
	struct batch_iter it;
	int err = batch_iter_init(&it, batch, len);
	if (err)
		return err;
	struct batch_record r;
	int rc;
	while ((rc = batch_iter_next(&it, &r)) == 1) {
		if (r.key_len < 0) {
			rc = ERR_INVALID_RECORD;
			break;
		}
	}
	batch_iter_release(&it);
	return rc < 0 ? rc : 0;
}

static int16_t validate(struct request *req, struct topic *t, struct krecords rec,
                        struct batch_header *h, const char **msg)
{
	if (rec.len <= 0 || !rec.ptr) {
		*msg = "Produce requests with version 3+ must have at least one record batch per "
		       "partition.";
		return KERR_INVALID_RECORD;
	}
	if (rec.len > t->cfg.max_message_bytes) {
		*msg = "The request included a message larger than the max message size the server "
		       "will accept.";
		return KERR_MESSAGE_TOO_LARGE;
	}
	int nb = batch_count(rec.ptr, (size_t)rec.len);
	if (nb < 0) {
		*msg = "The record batch is truncated or its length fields are inconsistent.";
		return KERR_CORRUPT_MESSAGE;
	}
	if (nb != 1) {
		*msg = "Produce requests with version 3+ must have exactly one record batch per "
		       "partition.";
		return KERR_INVALID_RECORD;
	}
	if (rec.len > BATCH_OFF_MAGIC && rec.ptr[BATCH_OFF_MAGIC] != 2) {
		*msg = "Produce requests with version 3+ must have record batches with magic 2.";
		return KERR_INVALID_RECORD;
	}
	int err = batch_validate(rec.ptr, (size_t)rec.len, h);
	if (err == ERR_UNSUPPORTED) {
		*msg = "Unknown compression codec.";
		return KERR_UNSUPPORTED_COMPRESSION_TYPE;
	}
	if (err) {
		*msg = "The record batch failed validation (CRC, sizes or counts).";
		return KERR_CORRUPT_MESSAGE;
	}
	if (h->attributes & BATCH_ATTR_CONTROL) {
		*msg = "Clients may not write control batches.";
		return KERR_INVALID_RECORD;
	}
	if ((h->attributes & BATCH_ATTR_COMPRESSION_MASK) == BATCH_ZSTD && req->api_version < 7) {
		*msg = "Produce requests below version 7 cannot use zstd.";
		return KERR_UNSUPPORTED_COMPRESSION_TYPE;
	}
	if (h->producer_id >= 0 && h->base_sequence < 0) {
		*msg = "An idempotent batch must have a base sequence.";
		return KERR_INVALID_RECORD;
	}
	if (!t->cfg.log.log_append_time && (h->attributes & BATCH_ATTR_LOG_APPEND_TIME)) {
		*msg = "Clients may not send LogAppendTime batches to a CreateTime topic.";
		return KERR_INVALID_TIMESTAMP;
	}
	if (!t->cfg.log.log_append_time) {
		int64_t now = clock_now_ms();
		int64_t before = t->cfg.message_timestamp_before_max_ms;
		int64_t after = t->cfg.message_timestamp_after_max_ms;
		int64_t lo =
		    h->base_timestamp < h->max_timestamp ? h->base_timestamp : h->max_timestamp;
		if ((before != INT64_MAX && lo < now - before) ||
		    (after != INT64_MAX && h->max_timestamp > now + after)) {
			*msg =
			    "Timestamp of the batch is out of range "
			    "(message.timestamp.before.max.ms / message.timestamp.after.max.ms).";
			return KERR_INVALID_TIMESTAMP;
		}
	}
	if (t->cfg.cleanup_compact) {
		err = check_keys(rec.ptr, (size_t)rec.len);
		if (err == ERR_INVALID_RECORD) {
			*msg = "Compacted topic cannot accept message without key.";
			return KERR_INVALID_RECORD;
		}
		if (err) {
			*msg = "The record batch could not be read.";
			return KERR_CORRUPT_MESSAGE;
		}
	}
	return KERR_NONE;
}

void handle_produce(struct request *req)
{
	struct broker *b = req->broker;
	struct produce_request in;
	produce_request_init(&in);
	if (produce_request_decode(&req->body, req->api_version, &in, &req->arena)) {
		request_close(req);
		return;
	}
	struct produce_park *pk = arena_alloc(&req->arena, sizeof(*pk));
	pk->req = req;
	struct produce_response *resp = &pk->resp;
	produce_response_init(resp);
	int32_t nt = in.n_topic_data > 0 ? in.n_topic_data : 0;
	int total_parts = 0;
	for (int32_t i = 0; i < nt; i++)
		total_parts +=
		    in.topic_data[i].n_partition_data > 0 ? in.topic_data[i].n_partition_data : 0;
	pk->waits =
	    arena_alloc(&req->arena, sizeof(*pk->waits) * (size_t)(total_parts ? total_parts : 1));
	resp->n_responses = nt;
	resp->responses =
	    arena_alloc(&req->arena, sizeof(*resp->responses) * (size_t)(nt ? nt : 1));
	bool acks_valid = in.acks == 0 || in.acks == 1 || in.acks == -1;
	bool wait_durable = in.acks != 0;
	int64_t now = clock_now_ms();

	for (int32_t i = 0; i < nt; i++) {
		struct produce_request_topic_produce_data *td = &in.topic_data[i];
		struct produce_response_topic_produce_response *tr = &resp->responses[i];
		produce_response_topic_produce_response_init(tr);
		tr->name = td->name;
		tr->topic_id = td->topic_id;
		struct topic *t = td->name.len > 0
		                      ? meta_topic_find(b->meta, td->name.ptr, (size_t)td->name.len)
		                      : NULL;
		int32_t np = td->n_partition_data > 0 ? td->n_partition_data : 0;
		tr->n_partition_responses = np;
		tr->partition_responses = arena_alloc(
		    &req->arena, sizeof(*tr->partition_responses) * (size_t)(np ? np : 1));
		for (int32_t k = 0; k < np; k++) {
			struct produce_request_partition_produce_data *pd = &td->partition_data[k];
			struct produce_response_partition_produce_response *pr =
			    &tr->partition_responses[k];
			produce_response_partition_produce_response_init(pr);
			pr->index = pd->index;
			pr->base_offset = -1;
			pr->log_append_time_ms = -1;
			pr->log_start_offset = -1;
			pr->n_record_errors = 0;
			pr->error_message = kstr_null();
			if (req->api_version < 3) {
				pr->error_code = KERR_UNSUPPORTED_VERSION;
				continue;
			}
			if (!acks_valid) {
				pr->error_code = KERR_INVALID_REQUIRED_ACKS;
				continue;
			}
			struct partition *p = partitions_get(t, pd->index);
			if (!p) {
				pr->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			const char *msg = NULL;
			struct batch_header h;
			int16_t code = validate(req, t, pd->records, &h, &msg);
			if (code) {
				pr->error_code = code;
				pr->error_message = kstr_c(msg);
				LOG_DEBUG("produce to %s-%d rejected: %s (%s)", t->name, pd->index,
				          kafka_error_name(code), msg);
				continue;
			}
			struct plog_append_result res;
			/* The batch is rewritten in place inside the request frame, which we own.
			 */
			int err = partition_append(p, (uint8_t *)pd->records.ptr,
			                           (size_t)pd->records.len, now, &res);
			if (err) {
				pr->error_code = kafka_error_from(err);
				continue;
			}
			pr->base_offset = res.base_offset;
			pr->log_append_time_ms = res.log_append_time;
			pr->log_start_offset = plog_start_offset(p->log);
			if (wait_durable && !partition_acked(p, res.last_offset + 1)) {
				struct produce_wait *pw = &pk->waits[pk->nwaits++];
				pw->park = pk;
				pw->out = pr;
				pw->part = p;
				pw->target = res.last_offset + 1;
				pw->w.cb = produce_woken;
				pw->w.prev = pw->w.next = NULL;
			}
		}
	}
	if (in.acks == 0) {
		request_done_no_response(req);
		return;
	}
	if (pk->nwaits == 0) {
		produce_respond(pk);
		return;
	}
	/*
	 * The batches are in the log now; only the topic names still point into
	 * the frame. Copy them and give the frame back while we wait.
	 */
	for (int32_t i = 0; i < nt; i++) {
		struct kstr *name = &resp->responses[i].name;
		if (name->len > 0)
			name->ptr = arena_strndup(&req->arena, name->ptr, (size_t)name->len);
	}
	request_release_frame(req);
	/* Park on every partition; pending starts at 1 so an instant wake cannot finish early. */
	req->parked = pk;
	req->cancel = produce_cancel;
	pk->pending = 1;
	for (int i = 0; i < pk->nwaits; i++) {
		struct produce_wait *pw = &pk->waits[i];
		pk->pending++;
		partition_wait_durable(pw->part, &pw->w, pw->target);
	}
	if (--pk->pending == 0)
		produce_respond(pk);
}
