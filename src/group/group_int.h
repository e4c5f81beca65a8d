/*
 * group_int.h: the coordinator's private structures, shared by the files of
 * src/group/ only (coordinator.c: tables, persistence, loading, retention;
 * membership.c: the rebalance state machine; offsets.c: commits and the
 * admin views).
 *
 * Ownership: the coordinator owns every group; a group owns its members,
 * pending member ids and offsets. All strings are heap copies, NUL-terminated,
 * allocated with gc__alloc so the coordinator can report the bytes it holds.
 * A group with writes in flight (busy > 0) is never freed: deletion marks it
 * Dead and the last write completion frees it.
 */
#ifndef FJORD_GROUP_GROUP_INT_H
#define FJORD_GROUP_GROUP_INT_H

#include "base/buf.h"
#include "group/group.h"
#include "group/records.h"

enum gstate { GS_EMPTY, GS_PREPARING, GS_COMPLETING, GS_STABLE, GS_DEAD };

struct gc_kstr {
	char *p;
	int32_t len; /* -1: null */
};

struct gc_mproto {
	struct gc_kstr name;
	uint8_t *meta;
	int32_t meta_len;
};

enum gc_op_kind { OP_JOIN, OP_SYNC, OP_WRITE };

/*
 * A parked operation. Join and sync ops hang off their member; write ops
 * (commits, group records, deletes) wait for durability in the partition's
 * waiter list and are linked in gc->writes so gc_free can cancel them.
 */
struct gc_op {
	struct pwaiter w; /* first: the durability callback casts back */
	enum gc_op_kind kind;
	struct group_coordinator *gc;
	struct group *g;
	struct gc_member *m; /* join/sync: the member parked */
	bool cancelled;
	union {
		gc_join_cb join;
		gc_sync_cb sync;
		gc_done_cb done;
	} cb;
	void *ctx;
	/* Write ops: what to do once durable. */
	void (*on_durable)(struct gc_op *op, int err);
	struct gc_op *wprev, *wnext;
	int32_t generation; /* sync writes: the generation written */
	int nparts;         /* commits: entries to apply */
	struct gc_pending_offset *parts;
};

struct gc_pending_offset {
	struct gc_kstr topic;
	int32_t partition;
	int64_t offset;
	int32_t leader_epoch;
	struct gc_kstr metadata;
	int64_t commit_ts;
	int64_t expire_ts;
	bool tombstone;
};

struct gc_member {
	struct gc_member *next;
	struct group *g;
	struct gc_kstr id;
	struct gc_kstr instance_id;
	struct gc_kstr client_id;
	struct gc_kstr client_host;
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms;
	int nprotocols;
	struct gc_mproto *protocols;
	uint8_t *assignment;
	int32_t assignment_len;
	struct loop_timer session; /* heartbeat expiry */
	struct gc_op *join_op;     /* parked JoinGroup (awaiting join) */
	struct gc_op *sync_op;     /* parked SyncGroup */
	bool joined_this_round;    /* rejoined during the current PreparingRebalance */
	bool is_new;               /* added in this rebalance */
};

struct gc_pending {
	struct gc_pending *next;
	int64_t expire_mono_ms;
	struct gc_kstr id;
};

struct gc_offset {
	struct gc_offset *next; /* hash chain */
	int32_t partition;
	int64_t offset;
	int32_t leader_epoch;
	int64_t commit_ts;
	int64_t expire_ts; /* -1: retention from the group's empty time */
	struct gc_kstr metadata;
	struct gc_kstr topic;
};

struct group {
	struct group *hnext; /* coordinator hash chain */
	struct group_coordinator *gc;
	struct gc_kstr id;
	int32_t partition; /* of __consumer_offsets */
	enum gstate state;
	int32_t generation;
	struct gc_kstr protocol_type; /* null until the first member */
	struct gc_kstr protocol;      /* selected, null outside a generation */
	struct gc_kstr leader;        /* member id, null when none */
	int64_t state_ts;             /* wall ms of the last state change */
	struct gc_member *members;
	int nmembers;
	struct gc_pending *pending;
	int npending;
	/* Rebalance. */
	struct loop_timer join_timer;
	bool initial_delay; /* new-group delay (group.initial.rebalance.delay.ms) running */
	int64_t join_started_mono;
	int64_t join_deadline_mono;
	/* Offsets. */
	struct gc_offset **obuckets;
	int32_t nobuckets;
	int32_t noffsets;
	bool sync_writing; /* the leader's assignment is being written */
	int busy;          /* writes in flight that reference this group */
	bool removed;      /* out of the table, freed when busy drops to 0 */
};

struct group_coordinator {
	struct loop *loop;
	struct meta *meta;
	struct partitions *parts;
	const struct broker_config *cfg;
	bool loaded;
	struct group **buckets;
	int32_t nbuckets;
	int32_t ngroups;
	struct gc_op writes; /* list head of write ops in flight */
	struct loop_timer retention_timer;
	int64_t bytes; /* heap bytes held (malloc_usable_size) */
	int64_t nmembers_total;
	int64_t noffsets_total;
};

/* coordinator.c */
void *gc__alloc(struct group_coordinator *gc, size_t n); /* zeroed; aborts on failure */
void gc__free(struct group_coordinator *gc, void *p);
void gc__str_set(struct group_coordinator *gc, struct gc_kstr *dst, struct kstr src);
void gc__str_clear(struct group_coordinator *gc, struct gc_kstr *s);
static inline struct kstr gc__k(const struct gc_kstr *s)
{
	struct kstr k = {s->p, s->len};
	return k;
}
bool gc__str_eq(const struct gc_kstr *a, struct kstr b);
const char *gc__state_name(enum gstate s);
struct group *gc__group_find(struct group_coordinator *gc, struct kstr id);
struct group *gc__group_create(struct group_coordinator *gc, struct kstr id);
/* Take a group out of the table (state Dead); freed now or when busy is 0. */
void gc__group_remove(struct group_coordinator *gc, struct group *g);
void gc__group_unref(struct group *g); /* busy-- and free if removed */
struct partition *gc__partition(struct group_coordinator *gc, struct group *g);
/*
 * Append a finished batch to the group's partition and call
 * op->on_durable(op, err) once durable (possibly before returning). The op
 * is allocated by the caller with gc__op_new; it is freed after on_durable.
 */
void gc__write(struct group_coordinator *gc, struct group *g, struct gc_op *op,
               struct gcrec_batch *b);
struct gc_op *gc__op_new(struct group_coordinator *gc, enum gc_op_kind kind, struct group *g);
void gc__op_free(struct gc_op *op);
/* The group's metadata record (members with assignments) into a batch. */
void gc__group_record(struct group *g, struct gcrec_batch *b);
/* Write the group record without waiting (a state change that clients need not wait for). */
void gc__group_store_async(struct group *g);

/* membership.c */
/*
 * Kafka's protocol choice: among the protocols every member supports, the
 * one most members list first (each member votes for its most preferred
 * candidate); ties go to the first member's preference order. names[i] is
 * member i's list in preference order (counts[i] entries). Returns the
 * index in names[0], or -1 when no protocol is common to all.
 */
int gc__select_protocol(int nmembers, const struct kstr *const *names, const int *counts);
void gc__join_timer_expired(struct group *g);
void gc__member_free(struct group *g, struct gc_member *m);
struct gc_member *gc__member_find(struct group *g, struct kstr id);
/* Recreate a member from a loaded record (state Stable, session timer armed). */
struct gc_member *gc__member_load(struct group *g, const struct gcrec_member *rm,
                                  struct kstr protocol);
void gc__members_cancel_all(struct group *g);

/* offsets.c */
struct gc_offset *gc__offset_find(struct group *g, struct kstr topic, int32_t partition);
void gc__offset_put(struct group *g, const struct gc_pending_offset *po);
void gc__offset_delete(struct group *g, struct kstr topic, int32_t partition);
void gc__offsets_free(struct group *g);

#endif
