/*
 * records.h: the records the group coordinator keeps in __consumer_offsets,
 * in Kafka's own formats, so a log written by Fjord reads like Kafka's and
 * the other way round. Every key and value starts with an int16 version.
 *
 *   key v0/v1 OffsetCommitKey:    group string, topic string, partition int32
 *   key v2    GroupMetadataKey:   group string
 *   OffsetCommitValue v0:  offset int64, metadata string, commitTimestamp int64
 *                     v1:  offset, metadata, commitTimestamp, expireTimestamp int64
 *                     v2:  as v0
 *                     v3:  offset, leaderEpoch int32, metadata, commitTimestamp
 *                     v4:  as v3, flexible (compact string, tagged fields)
 *   GroupMetadataValue v0: protocolType string, generation int32, protocol
 *                      nullable string, leader nullable string, members
 *                      [memberId, clientId, clientHost, sessionTimeout int32,
 *                      subscription bytes, assignment bytes]
 *                      v1: + member rebalanceTimeout (before sessionTimeout)
 *                      v2: + currentStateTimestamp int64 (before members)
 *                      v3: + member groupInstanceId nullable string (after memberId)
 *                      v4: as v3, flexible
 * A null value (tombstone) deletes the offset or the group.
 *
 * Fjord writes key v1 + OffsetCommitValue v3 (v1 when the commit carries an
 * explicit retention, as Kafka does) and key v2 + GroupMetadataValue v3; it
 * reads every version above. Also here: building an uncompressed magic-2
 * batch of such records for partition_append.
 *
 * Decoded strings and bytes point into the record; arrays come from the
 * arena. Pure functions, any thread.
 */
#ifndef FJORD_GROUP_RECORDS_H
#define FJORD_GROUP_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "proto/wire.h"

enum { GCREC_OFFSET_KEY_V0 = 0, GCREC_OFFSET_KEY_V1 = 1, GCREC_GROUP_KEY = 2 };

struct gcrec_key {
	int16_t version; /* 0/1: offset commit, 2: group metadata */
	struct kstr group;
	struct kstr topic; /* offset keys only */
	int32_t partition; /* offset keys only */
};

struct gcrec_offset {
	int16_t version;
	int64_t offset;
	int32_t leader_epoch; /* -1 when absent */
	struct kstr metadata;
	int64_t commit_ts;
	int64_t expire_ts; /* -1 when absent (only v1 has it) */
};

struct gcrec_member {
	struct kstr member_id;
	struct kstr instance_id; /* len -1: none */
	struct kstr client_id;
	struct kstr client_host;
	int32_t rebalance_timeout_ms;
	int32_t session_timeout_ms;
	struct kbytes subscription;
	struct kbytes assignment;
};

struct gcrec_group {
	int16_t version;
	struct kstr protocol_type;
	int32_t generation;
	struct kstr protocol; /* nullable */
	struct kstr leader;   /* nullable */
	int64_t state_ts;     /* -1 when absent */
	int32_t nmembers;
	struct gcrec_member *members;
};

/* Encoders append to out (a struct wr over the caller's buffer). */
void gcrec_offset_key_encode(struct wr *w, struct kstr group, struct kstr topic, int32_t partition);
void gcrec_group_key_encode(struct wr *w, struct kstr group);
/* version 3, or 1 when expire_ts >= 0. */
void gcrec_offset_value_encode(struct wr *w, const struct gcrec_offset *v);
/* Always version 3. */
void gcrec_group_value_encode(struct wr *w, const struct gcrec_group *v);

/* Decoders: 0, ERR_INVALID (malformed) or ERR_UNSUPPORTED (unknown version). */
int gcrec_key_decode(const uint8_t *p, size_t n, struct gcrec_key *out);
int gcrec_offset_value_decode(const uint8_t *p, size_t n, struct gcrec_offset *out);
int gcrec_group_value_decode(const uint8_t *p, size_t n, struct gcrec_group *out, struct arena *a);

/*
 * A batch under construction: records are appended (key bytes, value bytes
 * or value_len -1 for a tombstone), then finish() writes the 61-byte header
 * (base offset 0, no producer, CreateTime now_ms, CRC-32C) in front.
 */
struct gcrec_batch {
	struct buf records; /* encoded records */
	int32_t count;
	struct buf out; /* the finished batch */
};
void gcrec_batch_init(struct gcrec_batch *b);
void gcrec_batch_release(struct gcrec_batch *b);
void gcrec_batch_add(struct gcrec_batch *b, const uint8_t *key, size_t key_len,
                     const uint8_t *value, int32_t value_len);
/* The finished batch is b->out.data, b->out.len (count must be >= 1). */
void gcrec_batch_finish(struct gcrec_batch *b, int64_t now_ms);

#endif
