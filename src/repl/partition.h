/*
 * partition.h: the broker's partitions — each one a log plus the state a
 * leader keeps around it: high watermark, leader epoch, producers waiting for
 * durability, and fetches waiting for data.
 *
 * The partition manager opens the logs of every topic in the metadata at
 * start, creates and deletes them as topics come and go, and runs group
 * commit: every partition appended to during a loop turn gets one sync job at
 * the end of that turn (loop before-sleep hook); while a sync runs, further
 * appends wait for the next one. When a sync completes, the high watermark
 * moves to the durable offset, parked acks=all produces whose offsets are now
 * durable are answered, and parked fetches are woken.
 *
 * Relaxed flush mode (flush.messages / flush.ms set) syncs on those
 * settings, and acks once the data is in the files. That is at once for
 * buffered appends; appends staged for direct writes get a write job (no
 * sync) at the end of the turn instead.
 *
 * High watermark: on a single node it is the ack point, the written offset
 * in relaxed flush mode and the durable offset in the default mode, so a
 * consumer never sees a record that a crash could take back. The
 * replication work generalises it to the minimum over the ISR.
 *
 * Threads: loop thread only (sync jobs run on workers and post back).
 */
#ifndef FJORD_REPL_PARTITION_H
#define FJORD_REPL_PARTITION_H

#include <stdbool.h>
#include <stdint.h>

#include "io/loop.h"
#include "io/worker.h"
#include "log/log.h"
#include "meta/meta.h"

struct partition;
struct partitions;

/*
 * Someone waiting on a partition: a produce waiting for durability of
 * target_offset, or a fetch waiting for the high watermark to move. The
 * owner embeds it and gets cb(w, err) once: err 0 when the condition holds,
 * or a negative error (ERR_STORAGE when the log failed, ERR_NOT_FOUND when the
 * partition was deleted). A woken fetch waiter is removed from the list; it
 * re-registers if it still wants to wait.
 */
struct pwaiter {
	struct pwaiter *prev, *next;
	struct partition *part;
	int64_t target_offset; /* produce: wait until acked up to this; fetch: unused */
	void (*cb)(struct pwaiter *w, int err);
};

struct partition {
	struct topic *topic;
	int32_t index;
	struct plog *log;
	int32_t leader_epoch;
	struct partitions *mgr;
	/* Group commit. */
	bool dirty; /* appended since the last sync was prepared */
	bool in_dirty_list;
	bool sync_running;
	struct partition *next_dirty;
	int64_t last_flush_ms;
	/* Waiters. */
	struct pwaiter produce_waiters; /* list head, ordered by target offset */
	struct pwaiter fetch_waiters;   /* list head */
	/* Statistics. */
	int64_t bytes_in, messages_in;
	int64_t bytes_out, messages_out; /* served to consumers by Fetch */
};

struct partitions_stats {
	int64_t syncs;
	int64_t sync_ns_total;
	int64_t sync_ns_max;
	int64_t writes; /* write jobs of staged appends (relaxed flushing) */
	int64_t write_ns_total;
};

int partitions_new(struct loop *loop, struct worker_pool *workers, struct logdir *logdir,
                   struct meta *meta, const struct broker_config *cfg, struct partitions **out);
/* Open every partition of every topic in the metadata (recovering logs). */
int partitions_open_all(struct partitions *pm);
/* Create the partitions of a new topic, or of added partitions (from..to). */
int partitions_create(struct partitions *pm, struct topic *t, int32_t from, int32_t to);
/* Delete a topic's partitions: wake their waiters with ERR_NOT_FOUND, remove the logs. */
void partitions_delete_topic(struct partitions *pm, struct topic *t);
/*
 * Final sync and close of everything (clean shutdown). Runs syncs inline;
 * only for shutdown.
 */
void partitions_free(struct partitions *pm, bool clean);

struct partition *partitions_get(struct topic *t, int32_t index);

/*
 * Offsets below this are visible to consumers. Kept by the log (which also
 * checkpoints it for the replication work); only this module moves it.
 */
static inline int64_t partition_high_watermark(const struct partition *p)
{
	return plog_high_watermark(p->log);
}

/*
 * Append one validated batch (in place modification, see plog_append).
 * Marks the partition dirty for group commit. In relaxed mode the high
 * watermark moves at once and fetch waiters are woken.
 */
int partition_append(struct partition *p, uint8_t *batch, size_t len, int64_t now_ms,
                     struct plog_append_result *res);
/*
 * Whether every offset below target may be acknowledged: synced in the
 * fsync-before-ack mode, in the files with relaxed flushing.
 */
bool partition_acked(const struct partition *p, int64_t target);
/* Park w until offsets below target may be acknowledged (or an error). */
void partition_wait_durable(struct partition *p, struct pwaiter *w, int64_t target);
/* Park w until the high watermark moves. */
void partition_wait_data(struct partition *p, struct pwaiter *w);
/* Remove a parked waiter (its owner went away). Safe if not parked. */
void pwaiter_cancel(struct pwaiter *w);
static inline bool pwaiter_parked(const struct pwaiter *w)
{
	return w->prev != NULL;
}

/* Retention pass over every partition (timer driven). */
void partitions_enforce_retention(struct partitions *pm, int64_t now_ms);
/* Apply a topic's changed config to its partitions. */
void partitions_config_changed(struct partitions *pm, struct topic *t);
const struct partitions_stats *partitions_stats(const struct partitions *pm);

#endif
