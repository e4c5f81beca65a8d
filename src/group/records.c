/*
 * records.c: encoders and decoders of the __consumer_offsets record formats
 * (see records.h for the layouts and versions), and the batch builder.
 *
 * The decoders use the bounded reader of proto/wire.h: a truncated or
 * inconsistent record sets the sticky error and gives ERR_INVALID, never a
 * read past the end. Bytes after the last known field are tolerated (a newer
 * writer may add ignorable fields), as Kafka's readers do.
 */
#include "group/records.h"

#include <string.h>

#include "base/crc32c.h"
#include "base/endian.h"
#include "base/err.h"
#include "proto/batch.h"

void gcrec_offset_key_encode(struct wr *w, struct kstr group, struct kstr topic, int32_t partition)
{
	wr_i16(w, GCREC_OFFSET_KEY_V1);
	wr_str(w, group, false);
	wr_str(w, topic, false);
	wr_i32(w, partition);
}

void gcrec_group_key_encode(struct wr *w, struct kstr group)
{
	wr_i16(w, GCREC_GROUP_KEY);
	wr_str(w, group, false);
}

void gcrec_offset_value_encode(struct wr *w, const struct gcrec_offset *v)
{
	struct kstr md = v->metadata.len < 0 ? kstr_c("") : v->metadata;
	if (v->expire_ts >= 0) {
		wr_i16(w, 1);
		wr_i64(w, v->offset);
		wr_str(w, md, false);
		wr_i64(w, v->commit_ts);
		wr_i64(w, v->expire_ts);
		return;
	}
	wr_i16(w, 3);
	wr_i64(w, v->offset);
	wr_i32(w, v->leader_epoch);
	wr_str(w, md, false);
	wr_i64(w, v->commit_ts);
}

void gcrec_group_value_encode(struct wr *w, const struct gcrec_group *v)
{
	wr_i16(w, 3);
	wr_str(w, v->protocol_type.len < 0 ? kstr_c("") : v->protocol_type, false);
	wr_i32(w, v->generation);
	wr_str(w, v->protocol, false);
	wr_str(w, v->leader, false);
	wr_i64(w, v->state_ts);
	wr_array_len(w, v->nmembers, false);
	for (int32_t i = 0; i < v->nmembers; i++) {
		const struct gcrec_member *m = &v->members[i];
		wr_str(w, m->member_id, false);
		wr_str(w, m->instance_id, false);
		wr_str(w, m->client_id, false);
		wr_str(w, m->client_host, false);
		wr_i32(w, m->rebalance_timeout_ms);
		wr_i32(w, m->session_timeout_ms);
		struct kbytes sub = m->subscription, asg = m->assignment;
		if (sub.len < 0)
			sub.len = 0;
		if (asg.len < 0)
			asg.len = 0;
		wr_bytes(w, sub, false);
		wr_bytes(w, asg, false);
	}
}

int gcrec_key_decode(const uint8_t *p, size_t n, struct gcrec_key *out)
{
	struct rd r;
	rd_init(&r, p, n);
	memset(out, 0, sizeof(*out));
	out->version = rd_i16(&r);
	if (r.err)
		return ERR_INVALID;
	switch (out->version) {
	case GCREC_OFFSET_KEY_V0:
	case GCREC_OFFSET_KEY_V1:
		out->group = rd_str(&r, false);
		out->topic = rd_str(&r, false);
		out->partition = rd_i32(&r);
		break;
	case GCREC_GROUP_KEY:
		out->group = rd_str(&r, false);
		break;
	default:
		return ERR_UNSUPPORTED;
	}
	if (r.err || out->group.len < 0 || (out->version != GCREC_GROUP_KEY && out->topic.len < 0))
		return ERR_INVALID;
	return 0;
}

int gcrec_offset_value_decode(const uint8_t *p, size_t n, struct gcrec_offset *out)
{
	struct rd r;
	rd_init(&r, p, n);
	memset(out, 0, sizeof(*out));
	out->leader_epoch = -1;
	out->expire_ts = -1;
	out->version = rd_i16(&r);
	if (r.err)
		return ERR_INVALID;
	if (out->version < 0 || out->version > 4)
		return ERR_UNSUPPORTED;
	bool flex = out->version >= 4;
	out->offset = rd_i64(&r);
	if (out->version >= 3)
		out->leader_epoch = rd_i32(&r);
	out->metadata = rd_str(&r, flex);
	out->commit_ts = rd_i64(&r);
	if (out->version == 1)
		out->expire_ts = rd_i64(&r);
	if (flex)
		rd_skip_tags(&r);
	return r.err ? ERR_INVALID : 0;
}

int gcrec_group_value_decode(const uint8_t *p, size_t n, struct gcrec_group *out, struct arena *a)
{
	struct rd r;
	rd_init(&r, p, n);
	memset(out, 0, sizeof(*out));
	out->state_ts = -1;
	out->version = rd_i16(&r);
	if (r.err)
		return ERR_INVALID;
	if (out->version < 0 || out->version > 4)
		return ERR_UNSUPPORTED;
	int16_t v = out->version;
	bool flex = v >= 4;
	out->protocol_type = rd_str(&r, flex);
	out->generation = rd_i32(&r);
	out->protocol = rd_str(&r, flex);
	out->leader = rd_str(&r, flex);
	if (v >= 2)
		out->state_ts = rd_i64(&r);
	/* Smallest member: four empty strings, a timeout and two empty byte strings. */
	int32_t nm = rd_array_len(&r, flex, flex ? 8 : 20);
	if (r.err || nm < 0)
		return ERR_INVALID;
	out->nmembers = nm;
	out->members = arena_alloc(a, sizeof(*out->members) * (size_t)(nm ? nm : 1));
	if (!out->members)
		return ERR_INVALID;
	for (int32_t i = 0; i < nm && !r.err; i++) {
		struct gcrec_member *m = &out->members[i];
		m->member_id = rd_str(&r, flex);
		m->instance_id = v >= 3 ? rd_str(&r, flex) : kstr_null();
		m->client_id = rd_str(&r, flex);
		m->client_host = rd_str(&r, flex);
		m->rebalance_timeout_ms = v >= 1 ? rd_i32(&r) : -1;
		m->session_timeout_ms = rd_i32(&r);
		if (v == 0)
			m->rebalance_timeout_ms = m->session_timeout_ms;
		m->subscription = rd_bytes(&r, flex);
		m->assignment = rd_bytes(&r, flex);
		if (flex)
			rd_skip_tags(&r);
		if (m->member_id.len < 0)
			rd_fail(&r);
	}
	if (flex)
		rd_skip_tags(&r);
	return r.err ? ERR_INVALID : 0;
}

/* ---- batches ---- */

void gcrec_batch_init(struct gcrec_batch *b)
{
	buf_init(&b->records);
	buf_init(&b->out);
	b->count = 0;
}

void gcrec_batch_release(struct gcrec_batch *b)
{
	buf_release(&b->records);
	buf_release(&b->out);
}

/*
 * One record (RECORDS.md): length varint, attributes int8, timestamp delta
 * varlong, offset delta varint, key (varint length + bytes), value (varint
 * length, -1 = null), header count varint. The body is built first so the
 * length prefix can be written in front of it.
 */
void gcrec_batch_add(struct gcrec_batch *b, const uint8_t *key, size_t key_len,
                     const uint8_t *value, int32_t value_len)
{
	struct buf body = BUF_INIT;
	struct wr w;
	wr_init(&w, &body);
	wr_i8(&w, 0);
	wr_varlong(&w, 0);
	wr_varint(&w, b->count);
	wr_varint(&w, (int32_t)key_len);
	buf_append(&body, key, key_len);
	wr_varint(&w, value_len < 0 ? -1 : value_len);
	if (value_len > 0)
		buf_append(&body, value, (size_t)value_len);
	wr_varint(&w, 0);
	wr_release(&w);

	struct wr wl;
	wr_init(&wl, &b->records);
	wr_varint(&wl, (int32_t)body.len);
	wr_release(&wl);
	buf_append(&b->records, body.data, body.len);
	buf_release(&body);
	b->count++;
}

void gcrec_batch_finish(struct gcrec_batch *b, int64_t now_ms)
{
	size_t total = BATCH_HEADER_SIZE + b->records.len;
	buf_reset(&b->out);
	uint8_t *p = buf_reserve(&b->out, total);
	memset(p, 0, BATCH_HEADER_SIZE);
	be64_store(p + BATCH_OFF_BASE_OFFSET, 0);
	be32_store(p + BATCH_OFF_LENGTH, (uint32_t)(total - BATCH_LOG_OVERHEAD));
	be32_store(p + BATCH_OFF_LEADER_EPOCH, (uint32_t)-1);
	p[BATCH_OFF_MAGIC] = 2;
	be16_store(p + BATCH_OFF_ATTRIBUTES, 0);
	be32_store(p + BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(b->count - 1));
	be64_store(p + BATCH_OFF_BASE_TIMESTAMP, (uint64_t)now_ms);
	be64_store(p + BATCH_OFF_MAX_TIMESTAMP, (uint64_t)now_ms);
	be64_store(p + BATCH_OFF_PRODUCER_ID, (uint64_t)-1);
	be16_store(p + BATCH_OFF_PRODUCER_EPOCH, (uint16_t)-1);
	be32_store(p + BATCH_OFF_BASE_SEQUENCE, (uint32_t)-1);
	be32_store(p + BATCH_OFF_RECORD_COUNT, (uint32_t)b->count);
	memcpy(p + BATCH_HEADER_SIZE, b->records.data, b->records.len);
	be32_store(p + BATCH_OFF_CRC,
	           crc32c(0, p + BATCH_OFF_ATTRIBUTES, total - BATCH_OFF_ATTRIBUTES));
	buf_advance(&b->out, total);
}
