/*
 * group.h: the classic consumer-group coordinator — membership (JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup), committed offsets, and the admin views
 * (list, describe, delete) — with its state kept in the internal compacted
 * topic __consumer_offsets.
 *
 * The API is callback style and knows nothing of requests or connections.
 * Calls that may wait (join, sync, commit, delete) take a callback and a
 * context; the callback runs exactly once, possibly before the call returns,
 * unless the caller cancels the operation first. Results passed to a callback
 * (strings, arrays) are valid only during the callback: encode them there.
 * A call that parks stores its handle in *handle (left untouched when the
 * callback already ran); gc_cancel(handle) then guarantees the callback will
 * not run (the connection died). Cancelling does not undo the operation: a
 * cancelled commit is still written, a cancelled join still counts as joined,
 * as in Kafka.
 *
 * Errors are GC_ERR_* below; the handlers map them to Kafka codes.
 *
 * Threads: the loop thread only.
 */
#ifndef FJORD_GROUP_GROUP_H
#define FJORD_GROUP_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "io/loop.h"
#include "meta/config.h"
#include "meta/meta.h"
#include "proto/wire.h"
#include "repl/partition.h"

#define GC_OFFSETS_TOPIC "__consumer_offsets"
/* Bounds on what one member may make the coordinator hold. */
#define GC_MAX_MEMBER_METADATA   (1 << 20) /* all protocols of one JoinGroup */
#define GC_MAX_MEMBER_ASSIGNMENT (1 << 20) /* one member's assignment */
#define GC_MAX_PROTOCOLS         64
#define GC_MAX_OFFSET_METADATA   4096 /* offset.metadata.max.bytes */
#define GC_MAX_PENDING_MEMBERS   1024 /* member ids handed out, not yet joined */

enum gc_err {
	GC_OK = 0,
	GC_ERR_NOT_COORDINATOR = 1,
	GC_ERR_LOADING,
	GC_ERR_NOT_AVAILABLE, /* the offsets topic cannot be created or written */
	GC_ERR_INVALID_GROUP_ID,
	GC_ERR_UNKNOWN_MEMBER,
	GC_ERR_ILLEGAL_GENERATION,
	GC_ERR_REBALANCE_IN_PROGRESS,
	GC_ERR_MEMBER_ID_REQUIRED,
	GC_ERR_INCONSISTENT_PROTOCOL,
	GC_ERR_INVALID_SESSION_TIMEOUT,
	GC_ERR_FENCED_INSTANCE_ID,
	GC_ERR_GROUP_ID_NOT_FOUND,
	GC_ERR_NON_EMPTY_GROUP,
	GC_ERR_GROUP_MAX_SIZE,
	GC_ERR_INVALID_REQUEST, /* over a size bound above */
	GC_ERR_OFFSET_METADATA_TOO_LARGE,
	GC_ERR_SUBSCRIBED_TO_TOPIC,
	GC_ERR_UNKNOWN_TOPIC,
	GC_ERR_STORAGE, /* the write to the offsets topic failed */
};

struct group_coordinator;
struct gc_op; /* a parked operation */

/*
 * Create the coordinator (nothing is read yet). cfg is borrowed and must
 * outlive it. Starts the offset-retention timer.
 */
int gc_new(struct loop *loop, struct meta *meta, struct partitions *parts,
           const struct broker_config *cfg, struct group_coordinator **out);
/*
 * Load every group and offset from __consumer_offsets (if it exists),
 * synchronously; until it returns, calls answer GC_ERR_LOADING. A record
 * that cannot be decoded is skipped with a warning.
 */
int gc_load(struct group_coordinator *gc);
/* Answer every parked operation's callback no more (cancel), stop timers, free all. */
void gc_free(struct group_coordinator *gc);

/*
 * Make sure __consumer_offsets exists (creating it with
 * offsets.topic.num.partitions partitions, cleanup.policy=compact).
 * Returns 0 or an error (then clients should retry: COORDINATOR_NOT_AVAILABLE).
 */
int gc_ensure_topic(struct group_coordinator *gc);
/* 0, or GC_ERR_LOADING / GC_ERR_NOT_COORDINATOR for this group id. */
int gc_group_status(struct group_coordinator *gc, struct kstr group_id);

/* Java's String.hashCode over the UTF-16 code units of a UTF-8 string. */
int32_t gc_java_string_hash(const char *s, size_t n);
/* abs(hash) % partitions, with Kafka's abs (Integer.MIN_VALUE -> 0). */
int32_t gc_partition_for(const char *group, size_t n, int32_t partitions);
/* "<prefix>-<uuid>" into out (NUL-terminated); returns its length. */
size_t gc_member_id_make(char *out, size_t cap, const char *prefix, size_t prefix_len);

/* ---- membership ---- */

struct gc_protocol {
	struct kstr name;
	struct kbytes metadata;
};

struct gc_join_args {
	struct kstr group_id;
	struct kstr member_id;   /* "" for a new member */
	struct kstr instance_id; /* len -1: dynamic member */
	struct kstr client_id;
	struct kstr client_host;
	struct kstr protocol_type;
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms;
	int nprotocols;
	const struct gc_protocol *protocols;
	bool require_known_member_id; /* JoinGroup v4+: MEMBER_ID_REQUIRED first */
};

struct gc_join_member {
	struct kstr member_id;
	struct kstr instance_id;
	struct kbytes metadata;
};

struct gc_join_result {
	int err;
	int32_t generation_id;
	struct kstr protocol_type;
	struct kstr protocol_name;
	struct kstr leader;
	struct kstr member_id;
	int nmembers; /* only for the leader */
	const struct gc_join_member *members;
};

typedef void (*gc_join_cb)(void *ctx, const struct gc_join_result *r);
void gc_join(struct group_coordinator *gc, const struct gc_join_args *a, gc_join_cb cb, void *ctx,
             struct gc_op **handle);

struct gc_assignment {
	struct kstr member_id;
	struct kbytes assignment;
};

struct gc_sync_args {
	struct kstr group_id;
	struct kstr member_id;
	struct kstr instance_id;
	struct kstr protocol_type; /* len -1 when not sent (v0-4) */
	struct kstr protocol_name;
	int32_t generation_id;
	int nassignments;
	const struct gc_assignment *assignments;
};

struct gc_sync_result {
	int err;
	struct kstr protocol_type;
	struct kstr protocol_name;
	struct kbytes assignment;
};

typedef void (*gc_sync_cb)(void *ctx, const struct gc_sync_result *r);
void gc_sync(struct group_coordinator *gc, const struct gc_sync_args *a, gc_sync_cb cb, void *ctx,
             struct gc_op **handle);

/* Heartbeat: returns a GC_ERR_* (REBALANCE_IN_PROGRESS tells the member to rejoin). */
int gc_heartbeat(struct group_coordinator *gc, struct kstr group_id, int32_t generation_id,
                 struct kstr member_id, struct kstr instance_id);

/*
 * LeaveGroup of one member (by member id, or by instance id when member_id
 * is empty). Returns GC_ERR_*. A group left empty goes to Empty at once.
 */
int gc_leave(struct group_coordinator *gc, struct kstr group_id, struct kstr member_id,
             struct kstr instance_id);

/* Cancel a parked operation: its callback will not run. NULL is fine. */
void gc_cancel(struct gc_op *op);

/* ---- offsets ---- */

struct gc_commit_part {
	struct kstr topic;
	int32_t partition;
	int64_t offset;
	int32_t leader_epoch;
	struct kstr metadata;
	int err; /* in: non-zero = rejected by the caller, not written */
};

struct gc_commit_args {
	struct kstr group_id;
	struct kstr member_id;
	struct kstr instance_id;
	int32_t generation_id; /* -1: a commit from outside group management */
	int64_t retention_ms;  /* -1: broker default */
	int nparts;
	struct gc_commit_part *parts; /* borrowed; read during the call only */
};

/*
 * Commit offsets; cb(ctx, err) once they are durable (err applies to every
 * part the caller did not reject). Parts with metadata over the bound get
 * err = GC_ERR_OFFSET_METADATA_TOO_LARGE during the call.
 */
typedef void (*gc_done_cb)(void *ctx, int err);
void gc_commit(struct group_coordinator *gc, const struct gc_commit_args *a, gc_done_cb cb,
               void *ctx, struct gc_op **handle);

struct gc_offset_info {
	struct kstr topic;
	int32_t partition;
	int64_t offset;
	int32_t leader_epoch;
	struct kstr metadata;
};

/* The committed offset of one partition: 0, or ERR_NOT_FOUND. */
int gc_offset_get(struct group_coordinator *gc, struct kstr group_id, struct kstr topic,
                  int32_t partition, struct gc_offset_info *out);
/*
 * Every committed offset of a group, sorted by topic then partition, in an
 * array from the arena (strings point into the coordinator: valid until the
 * next loop turn). Returns the count (0 for an unknown group).
 */
int gc_offsets_all(struct group_coordinator *gc, struct kstr group_id, struct arena *a,
                   struct gc_offset_info **out);

struct gc_offset_delete_part {
	struct kstr topic;
	int32_t partition;
	int err; /* out, set during the call: GC_ERR_SUBSCRIBED_TO_TOPIC or 0 */
};
/*
 * OffsetDelete: tombstones the offsets of the parts that may be deleted;
 * cb(ctx, err) once durable, or at once with a group-level error
 * (GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP for a non-consumer group in use).
 */
void gc_offset_delete(struct group_coordinator *gc, struct kstr group_id,
                      struct gc_offset_delete_part *parts, int nparts, gc_done_cb cb, void *ctx,
                      struct gc_op **handle);

/* ---- admin ---- */

struct gc_group_info {
	struct kstr group_id;
	struct kstr protocol_type;
	const char *state; /* Kafka's names: Empty, PreparingRebalance, ... */
};
/* Call fn for every group, in no particular order. */
void gc_groups_foreach(struct group_coordinator *gc,
                       void (*fn)(void *ctx, const struct gc_group_info *g), void *ctx);

struct gc_member_desc {
	struct kstr member_id;
	struct kstr instance_id;
	struct kstr client_id;
	struct kstr client_host;
	struct kbytes metadata;   /* for the selected protocol, in Stable only */
	struct kbytes assignment; /* in Stable only */
};
struct gc_group_desc {
	struct kstr group_id;
	const char *state;
	struct kstr protocol_type;
	struct kstr protocol; /* in Stable only, else "" */
	int nmembers;
	struct gc_member_desc *members; /* from the arena */
};
/* Describe a group; an unknown group is described as Dead with no members. */
int gc_describe(struct group_coordinator *gc, struct kstr group_id, struct arena *a,
                struct gc_group_desc *out);

/*
 * DeleteGroups of one group: cb(ctx, err) once the tombstones are durable,
 * or at once with GROUP_ID_NOT_FOUND / NON_EMPTY_GROUP / INVALID_GROUP_ID.
 */
void gc_delete_group(struct group_coordinator *gc, struct kstr group_id, gc_done_cb cb, void *ctx,
                     struct gc_op **handle);

/* Expire offsets now (what the retention timer runs); returns how many. */
int gc_expire_offsets(struct group_coordinator *gc, int64_t now_wall_ms);

struct gc_stats {
	int64_t groups;
	int64_t members;
	int64_t offsets;
	int64_t bytes; /* heap bytes the coordinator holds for groups, members, offsets */
};
void gc_stats(const struct group_coordinator *gc, struct gc_stats *out);

#endif
