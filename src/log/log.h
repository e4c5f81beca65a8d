/*
 * log.h: the partition log — segmented, indexed, durable storage of record
 * batches exactly as producers sent them (Kafka's on-disk format).
 *
 * A log directory (struct logdir) holds one folder per partition,
 * "<topic>-<partition>/", with segments "<20-digit base offset>.log", a sparse
 * offset index ".index" and a time index ".timeindex", plus
 * "leader-epoch-checkpoint". The log directory itself keeps Kafka's checkpoint
 * files (recovery-point-offset-checkpoint, log-start-offset-checkpoint,
 * replication-offset-checkpoint) and a ".kafka_cleanshutdown" marker.
 *
 * Threads: everything here runs on the owning event-loop thread, except
 * plog_sync_run(), which runs on a worker and touches only its struct
 * plog_sync. No function here calls fsync on the caller's thread except
 * logdir_close() and logdir_checkpoint() (shutdown / background timer work).
 *
 * Durability: plog_append() writes with pwrite (page cache) and never syncs.
 * The owner groups syncs: plog_sync_prepare() on the loop, plog_sync_run() on
 * a worker, plog_sync_complete() back on the loop, which advances the durable
 * offset. A failed write or sync puts the log in a storage-error state: every
 * later append returns ERR_STORAGE until plog_recover_after_error() succeeds
 * or the log is closed and reopened (either truncates whatever was not
 * durable and valid). Reads keep working meanwhile.
 *
 * Recovery: at open, segments above the recovery point (all of them after an
 * unclean shutdown, only the tail otherwise) are scanned batch by batch
 * (sizes, magic, CRC-32C); the first invalid or torn batch and everything
 * after it is truncated, and the indexes of scanned segments are rebuilt.
 * Segments below the recovery point are trusted and not read, so opening is
 * bounded by data written since the last checkpoint, not by data stored.
 */
#ifndef FJORD_LOG_LOG_H
#define FJORD_LOG_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/wire.h"

/* fjord.log.cache.tail.bytes's default: 32 MiB per partition. */
#define LOG_CACHE_TAIL_BYTES_DEFAULT (32LL * 1024 * 1024)

struct log_config {
	int64_t segment_bytes;        /* segment.bytes (log.segment.bytes), 1 GiB */
	int64_t segment_ms;           /* segment.ms (log.roll.ms), 7 days */
	int64_t retention_ms;         /* retention.ms, 7 days; -1 = forever */
	int64_t retention_bytes;      /* retention.bytes, -1 = unlimited */
	int32_t index_interval_bytes; /* index.interval.bytes, 4096 */
	int32_t segment_index_bytes;  /* segment.index.bytes, 10 MiB: roll when an index is full */
	int64_t file_delete_delay_ms; /* file.delete.delay.ms, 60000 */
	bool log_append_time;         /* message.timestamp.type=LogAppendTime */
	/*
	 * fjord.log.cache.tail.bytes: after a sync, the page cache of what is
	 * durable and older than this many bytes from the end of the log is
	 * dropped, so new appends reuse those pages instead of growing the cache
	 * into fresh memory. Only data before the checkpointed recovery point is
	 * dropped, so what a crash recovery must check is still cached. -1 keeps
	 * everything (Kafka's behaviour).
	 */
	int64_t cache_tail_bytes;
	/*
	 * fjord.log.direct.writes: appends are staged in reused memory and
	 * written with O_DIRECT by a job on a worker, so the page cache takes no
	 * copy (direct.c). Off in log_config_default.
	 */
	bool direct_writes;
	/*
	 * Acks wait for a sync (Kafka's flush settings unset). Such a log starts
	 * staging once direct_min_bytes wait for their sync; a log whose acks
	 * wait only for the write starts with an append of that size.
	 */
	bool sync_before_ack;
	int64_t direct_min_bytes; /* 64 KiB */
};

/* Fill cfg with Kafka's defaults. */
void log_config_default(struct log_config *cfg);

struct logdir;
struct plog;

/*
 * Open a log directory (created if missing): reads the checkpoint files and
 * whether the last shutdown was clean, then removes the clean marker so a
 * crash from now on is seen as unclean.
 */
int logdir_open(const char *path, struct logdir **out);
/* Call cb for each partition folder found on disk (not the -delete ones). */
void logdir_scan(struct logdir *d, void (*cb)(void *arg, const char *topic, int32_t partition),
                 void *arg);
/*
 * Open (recovering as needed) or, with create, create the log of a partition.
 * The logdir keeps track of it for checkpoints; cfg is copied.
 */
int logdir_open_log(struct logdir *d, const char *topic, int32_t partition,
                    const struct log_config *cfg, bool create, struct plog **out);
/*
 * Remove a partition: closes l, renames its folder to
 * "<topic>-<partition>.<random>-delete" and removes the files in the
 * background (and at the next open, if the broker stopped first).
 */
int logdir_delete_log(struct logdir *d, struct plog *l);
/* Write the checkpoint files atomically (temp file, fsync, rename, fsync dir). */
int logdir_checkpoint(struct logdir *d);
/* The same, skipping files whose content would not change (cheap when idle). */
int logdir_checkpoint_changed(struct logdir *d);
/*
 * Close every log. With clean, after a final sync of every log, write the
 * checkpoints and the clean-shutdown marker, so the next open scans nothing.
 */
void logdir_close(struct logdir *d, bool clean);

/* Apply a changed config to an open log (retention, segment size...). */
void plog_set_config(struct plog *l, const struct log_config *cfg);

const char *plog_topic(const struct plog *l);
int32_t plog_partition(const struct plog *l);
int64_t plog_start_offset(const struct plog *l);   /* log start offset */
int64_t plog_end_offset(const struct plog *l);     /* next offset to assign (LEO) */
int64_t plog_durable_offset(const struct plog *l); /* every offset below is fsynced */
int64_t plog_size_bytes(const struct plog *l);     /* bytes in all segments */
int plog_segment_count(const struct plog *l);
bool plog_failed(const struct plog *l); /* in storage-error state */
/* Messages appended since the last completed sync (for flush.messages). */
int64_t plog_unflushed_messages(const struct plog *l);
/*
 * Appends are staged for direct writes: a sync, or a write (plog_write_prepare),
 * must run before reads see them and before they survive the process.
 */
bool plog_staged(const struct plog *l);
/* Every offset below is in the files (the end offset unless appends are staged). */
int64_t plog_written_offset(const struct plog *l);
/* Memory chunks holding staged appends, process-wide (direct.c). */
int64_t plog_direct_chunks_in_use(void);

struct plog_append_result {
	int64_t base_offset;
	int64_t last_offset;
	int64_t log_append_time; /* broker time written to the batch, or -1 (CreateTime) */
};

/*
 * Append one record batch (magic 2, already validated by the caller with
 * proto/batch.h: sizes, CRC, counts). The batch is modified in place: base
 * offset and partition leader epoch are set, and for log_append_time the
 * timestamp type bit, max timestamp and CRC are rewritten. One pwrite; a
 * segment roll happens first if the batch would not fit, or segment_ms has
 * passed, or an index is full. Never syncs.
 * Errors: ERR_STORAGE (write failed, or the log had already failed).
 */
int plog_append(struct plog *l, uint8_t *batch, size_t len, int32_t leader_epoch, int64_t now_ms,
                struct plog_append_result *res);

/*
 * A byte range of whole batches in one segment file. ref.release must be
 * called exactly once when the bytes have been sent (it drops a reference on
 * the segment, which keeps the fd open even if retention deletes it).
 */
struct plog_slice {
	struct wire_fileref ref; /* ref.len == 0 when there is nothing to read */
	int64_t first_offset;    /* base offset of the first batch in the range */
	int64_t next_offset;     /* offset after the last batch in the range */
};

/*
 * Read from the batch that contains offset: whole batches whose base offset is
 * below upto (exclusive; the high watermark), at most max_bytes in total but
 * always at least one whole batch when one is available (KIP-74). The range
 * never crosses a segment. Cheap: no per-record work, and for recent data no
 * I/O (an in-memory position table), so a tailing consumer costs O(log n).
 * Errors: ERR_OUT_OF_RANGE if offset < log start or offset > log end.
 */
int plog_read(struct plog *l, int64_t offset, int64_t upto, int32_t max_bytes,
              struct plog_slice *out);

/*
 * ListOffsets by timestamp: the first offset whose record timestamp is >= ts
 * (looks inside the batch, decompressing if needed, via proto/batch.h), and
 * that record's timestamp. ERR_NOT_FOUND if no record is that late.
 */
int plog_offset_for_timestamp(struct plog *l, int64_t ts, int64_t *offset, int64_t *found_ts);
/* ListOffsets MAX_TIMESTAMP: the offset and timestamp of the record with the
 * largest timestamp (the first such record). ERR_NOT_FOUND on an empty log. */
int plog_max_timestamp(struct plog *l, int64_t *offset, int64_t *ts);

/* Drop every batch at or above offset (a follower that diverged). */
int plog_truncate_to(struct plog *l, int64_t offset);
/*
 * Move the log start offset forward (DeleteRecords, retention); whole segments
 * that end at or below it are deleted. offset may not exceed the log end.
 */
int plog_advance_start_offset(struct plog *l, int64_t offset);
/*
 * Time and size retention: delete the oldest segments whose largest timestamp
 * is older than retention_ms, then while the log exceeds retention_bytes by a
 * whole segment. The active segment is rolled first if it must go. Also rolls
 * the active segment when segment_ms has passed. Returns the number of
 * segments deleted, or a negative error.
 */
int plog_enforce_retention(struct plog *l, int64_t now_ms);

/* Leader epochs (for OffsetForLeaderEpoch): the end offset of epoch, i.e. the
 * start offset of the next larger epoch, or the log end for the latest one. */
int plog_end_offset_for_epoch(struct plog *l, int32_t epoch, int32_t *found_epoch,
                              int64_t *end_offset);

/*
 * Group commit. prepare() captures what must be synced to make everything
 * appended so far durable (files written since the last sync, the directory
 * if a segment was created) and takes references so run() is safe on another
 * thread; it returns 1 if there is work, 0 if already durable. Only one sync
 * per log may be in flight; prepare returns 0 while one is.
 */
struct direct_io;
struct plog_sync {
	struct plog *log;
	struct direct_io *direct; /* staged appends to write first, or NULL */
	bool write_only;          /* plog_write_prepare: no sync, the written offset moves */
	int64_t target_offset;    /* durable (written) offset once this completes */
	int nfds;
	int fds[4];                       /* dup'ed descriptors to fdatasync, closed by complete */
	int64_t drop_off[4], drop_len[4]; /* page cache of fds[i] to drop after the sync */
	int64_t trim_to[4];             /* -1, or cut fds[i] back to this length before its sync */
	int64_t target_seg, target_pos; /* where target_offset sits: segment base, byte */
	int dir_fd;                     /* -1, or a directory to fsync */
	int parent_dir_fd;  /* -1, or the log directory (a partition folder was created) */
	int err;            /* set by run */
	int64_t latency_ns; /* measured by run */
};
int plog_sync_prepare(struct plog *l, struct plog_sync *s);
/*
 * For logs whose acks wait only for the write: a job that writes the staged
 * appends into the files and syncs nothing. Same protocol and return values;
 * it shares the one-job-in-flight rule with syncs.
 */
int plog_write_prepare(struct plog *l, struct plog_sync *s);
void plog_sync_run(struct plog_sync *s); /* any thread */
/*
 * Any thread: n prepared syncs (not write-only) at once. Each does its writes,
 * then one syncfs per file system they touch stands in for every fdatasync and
 * directory fsync: one journal commit and one cache flush instead of n.
 */
void plog_sync_run_group(struct plog_sync *const *v, int n);
/* Loop thread: advance the durable (or written) offset, or enter the
 * storage-error state. */
void plog_sync_complete(struct plog_sync *s);
/*
 * For logs whose acks do not wait for a sync: whether an early sync would let
 * the page cache be dropped (several MiB lie behind the cached tail and are
 * not synced yet), so appends keep reusing memory instead of fresh pages, and
 * the recovery point stays recent (for staged logs, every 64 MiB or so).
 */
bool plog_sync_frees_cache(const struct plog *l);

/* ---- Additions (log module owner) ---- */

struct worker_pool;

/* Whether the previous shutdown of this log directory was clean. */
bool logdir_was_clean(const struct logdir *d);
/*
 * Blocking file removal (deleted partition folders, expired ".deleted"
 * segment files) goes to this pool when set; without one it runs inline.
 */
void logdir_set_worker(struct logdir *d, struct worker_pool *w);
/* Remove leftover "-delete" partition folders now (any thread, blocking). */
int logdir_purge_deleted(struct logdir *d);

/* High watermark, kept for replication-offset-checkpoint (read at open). */
int64_t plog_high_watermark(const struct plog *l);
void plog_set_high_watermark(struct plog *l, int64_t hw);

/* Bytes of .log data read by recovery scans in this process (for tests and
 * metrics: a clean reopen must add nothing). */
int64_t plog_recovery_scanned_bytes(void);

/*
 * Storage-error recovery without a reopen (integrity.c), for the owner to
 * retry (the broker: once a second) while plog_failed(l). Checks that the
 * disk takes writes (a small probe file), cuts the log back to its durable
 * offset (dropping every batch no completed fsync covered: none was
 * acknowledged), re-checks the last durable batch and clears the failed
 * state. Returns 0 (recovered, or was not failed), -EAGAIN (a sync or a
 * cleaning is in flight: retry later), or an error (still failing: the log
 * stays failed; ERR_STORAGE for a failure only a reopen repairs).
 * The durable offset never moves backwards; the log end may.
 */
int plog_recover_after_error(struct plog *l);
/*
 * Offset from which reads answer ERR_STORAGE because corrupt bytes were
 * found there (INT64_MAX: none). Reads check, once per process, every batch
 * they are about to serve that was neither appended nor scanned by recovery
 * in this process (sizes, magic, CRC-32C, offsets); see integrity.c.
 */
int64_t plog_read_offline_from(const struct plog *l);

/* ---- Log compaction (cleaner.c, cleaner_swap.c) ---- */

/*
 * The cleaner keeps the latest record per key in the sealed, durable part of
 * a compacted log (cleanup.policy=compact), with Kafka's semantics: offsets
 * are preserved (gaps appear), tombstones survive delete_retention_ms after
 * the batch holding them was first cleaned (the batch's delete horizon,
 * attribute bit 6), control batches are kept as they are, the active
 * segment is never touched. One cleaning per log at a time.
 *
 * Shape: plog_clean_prepare() on the loop picks the range and takes segment
 * references; plog_clean_run() does all the reading, rewriting and fsyncing
 * on a worker (it touches only its job); plog_clean_complete() back on the
 * loop swaps the cleaned segments in (crash-safe renames, see
 * cleaner_swap.c) and records the clean point in
 * "<logdir>/cleaner-offset-checkpoint".
 */
struct plog_clean_params {
	int64_t delete_retention_ms;   /* delete.retention.ms, 1 day */
	int64_t min_compaction_lag_ms; /* min.compaction.lag.ms, 0 */
	int64_t max_compaction_lag_ms; /* max.compaction.lag.ms, INT64_MAX */
	double min_cleanable_ratio;    /* min.cleanable.dirty.ratio, 0.5 */
	int64_t max_map_entries;       /* key map size (log.cleaner.dedupe.buffer.size / 24) */
	bool force;                    /* clean whatever is cleanable, ignoring the ratio */
};
void plog_clean_params_default(struct plog_clean_params *p);

/* What the cleaner sees in a log now (loop thread; may read a few headers). */
struct plog_clean_info {
	int64_t clean_point;   /* first offset not yet cleaned */
	int64_t cleanable_end; /* first offset the cleaner may not touch */
	int64_t clean_bytes, dirty_bytes;
	double dirty_ratio; /* dirty / (clean + dirty) of the cleanable range */
	bool must_clean;    /* max compaction lag or a delete horizon is due */
	bool cleanable;     /* a cleaning would be started now */
};
int plog_clean_check(struct plog *l, int64_t now_ms, const struct plog_clean_params *p,
                     struct plog_clean_info *info);

struct plog_clean_job;
/*
 * Loop thread. Returns 1 and *out (a job) when l should be cleaned now, 0
 * when not (nothing cleanable, ratio too low, a cleaning already in flight,
 * failed log). The job holds references to the segments it reads.
 */
int plog_clean_prepare(struct plog *l, int64_t now_ms, const struct plog_clean_params *p,
                       struct plog_clean_job **out);
/* Any thread (a worker): build the key map, write and fsync cleaned files. */
void plog_clean_run(struct plog_clean_job *j);
/*
 * Loop thread: swap the cleaned segments in and free j. Returns the number of
 * input segments replaced, or a negative error (the job failed; or the swap
 * failed, and then the log is in the storage-error state until reopened).
 * A job whose log was deleted or truncated meanwhile is discarded (0).
 */
int plog_clean_complete(struct plog_clean_job *j);
/* Free a job whose log and log directory may be gone (shutdown); leaves its
 * files to the next open, which discards them. */
void plog_clean_abandon(struct plog_clean_job *j);
/* prepare + run + complete on the caller's thread (tests, tools). Returns
 * what complete returns, or 0 if there was nothing to clean. */
int plog_clean_now(struct plog *l, int64_t now_ms, const struct plog_clean_params *p);
/* First offset not yet cleaned (the cleaner-offset-checkpoint value). */
int64_t plog_clean_point(struct plog *l);

#endif
