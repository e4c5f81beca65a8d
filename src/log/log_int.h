/*
 * log_int.h: private structures of the partition log, shared by the files of
 * src/log/ only (segment.c, index.c, plog.c, plog_query.c, recovery.c,
 * logdir.c). Nothing outside src/log/ may include it.
 *
 * Ownership: a struct plog owns its array of segments (one reference each).
 * A segment is refcounted: read slices and in-flight syncs take a reference,
 * so a segment removed by retention keeps its descriptor until the last
 * reference is dropped. References are atomic because slices may be released
 * on another loop thread; everything else in a segment is touched only by the
 * thread that owns the log.
 */
#ifndef FJORD_LOG_LOG_INT_H
#define FJORD_LOG_LOG_INT_H

#include <stdatomic.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "log/log.h"

#define SEG_SCAN_CHUNK  (64 * 1024)
#define IDX_ENTRY_SIZE  8
#define TIDX_ENTRY_SIZE 12
#define PATH_MAX_LEN    4096

/* One batch of the in-memory position table: last offset (relative to the
 * segment base) and file position. Batches in the table are contiguous:
 * batch i starts at last(i-1) + 1 (the first at tab_base). */
struct seg_batch {
	uint32_t rel_last;
	uint32_t pos;
};

/* .index entry: relative offset (a batch's last offset) and its position. */
struct idx_entry {
	uint32_t rel;
	uint32_t pos;
};

/* .timeindex entry: max timestamp so far and the (last) offset of the batch
 * that first reached it, relative to the segment base. */
struct tidx_entry {
	int64_t ts;
	uint32_t rel;
};

struct segment {
	atomic_int refs;
	int64_t base;       /* base offset; the file name */
	int64_t size;       /* bytes of whole batches in .log */
	int64_t end_offset; /* offset after the last batch; -1 if not known (not scanned) */
	int fd;             /* .log descriptor, -1 until first needed */
	int dfd;            /* .log opened O_DIRECT while direct.c has extents of it, else -1 */
	/* The file may run past size: a direct write padded its last block, and
	 * no sync has made a cut back to size durable since (direct.c). */
	bool padded;
	int idx_fd, tidx_fd; /* open only from sealing until the next sync */

	/* Indexes: loaded lazily. For the active segment the memory is ahead of
	 * the files, which are written whole when it is sealed or closed. */
	bool idx_loaded;
	struct idx_entry *idx;
	int nidx, cap_idx;
	struct tidx_entry *tidx;
	int ntidx, cap_tidx;
	int64_t bytes_since_idx;

	/* Largest timestamp in the segment and the offset of its batch. */
	bool max_ts_known;
	int64_t max_ts;
	int64_t max_ts_off;
	int64_t first_ms; /* time of the first batch (segment_ms rolls); -1 unknown */

	/* Position table (active and last sealed segment). */
	struct seg_batch *tab;
	int ntab, cap_tab;
	int64_t tab_base; /* base offset of tab[0]'s batch */

	/* Sync state. */
	bool dirty;            /* .log (or its length) changed since the last sync */
	bool idx_dirty;        /* sealed, index files not yet synced */
	uint64_t wgen;         /* bumped on every change */
	int64_t cache_dropped; /* page cache of .log before this was dropped (a hint) */
	int64_t ra_end;        /* readahead of .log was started up to here (a hint) */
	bool active;           /* opened for appending (indexes loaded, max ts known) */

	/* Read verification (integrity.c): [0, ver_end) and [ver_lo, ver_hi)
	 * hold whole batches known valid in this process (appended, scanned by
	 * recovery, or checked before a read). Both ends sit on batch bounds. */
	int64_t ver_end;
	int64_t ver_lo, ver_hi;
};

struct epoch_entry {
	int32_t epoch;
	int64_t start;
};

struct pending_del {
	char *path;
	int64_t due_ms;
};

/* direct.c: appends staged for O_DIRECT writes (see there). */
#define DIRECT_BLOCK         4096
#define DIRECT_CHUNK_BYTES   (1024 * 1024)
#define DIRECT_BUDGET_CHUNKS 256 /* no new log starts direct writes above this */
#define DIRECT_POOL_KEEP     32  /* free chunks kept for reuse */

struct direct_ext {
	struct segment *seg; /* a reference */
	int64_t from;        /* file position of the stream bytes at q: a block boundary */
	int64_t start;       /* where this extent's new data starts (from <= start <= to) */
	int64_t to;          /* file position after the last byte */
	int64_t q;           /* stream position of from */
};

struct direct_log {
	uint8_t **chunks; /* chunks[i] holds stream bytes [(c0 + i) * CHUNK, +CHUNK) */
	int nchunks, cap_chunks;
	int64_t c0;
	struct direct_ext *ext; /* pending, oldest first */
	int next, cap_ext;
	int njob; /* ext[0, njob) are being written by the sync in flight */
};

/* One write of a job: an extent's whole blocks, the last one padded, in one
 * O_DIRECT pwritev from the stream chunks io->iov[iov0, iov0 + niov). */
struct direct_piece {
	int fd;  /* a duplicate (consecutive pieces of a file share one), closed by
	          * direct_io_release */
	int src; /* the descriptor it duplicates */
	int64_t off;
	int iov0, niov;
};
struct direct_io {
	struct direct_piece *pieces;
	int n, cap;
	struct iovec *iov;
	int niov, cap_iov;
};

struct plog {
	struct logdir *d;
	char *topic;
	int32_t partition;
	char *dir; /* the partition folder */
	struct log_config cfg;

	struct segment **segs; /* by base offset; the last is the active one */
	int nsegs, cap_segs;

	int64_t start_offset;
	int64_t leo;
	int64_t durable;
	/* While appends are staged (direct.c): every offset below is in the
	 * files, so it survives the process. Meaningless otherwise (then all
	 * of leo is); read it through plog_written_offset(). */
	int64_t written;
	int64_t hw;
	int64_t size_bytes;
	bool failed;
	bool fail_sticky;    /* failed in a way only a reopen repairs (cleaner swap, truncation) */
	bool recover_logged; /* a failed recovery attempt was logged this episode */
	int64_t read_offline_from; /* reads at or above fail: corrupt data found there */
	int64_t unflushed;

	struct epoch_entry *epochs;
	int nepochs, cap_epochs;

	/* Group commit. */
	bool dir_dirty;    /* a segment file was created since the last sync */
	bool parent_dirty; /* the partition folder was created */
	bool sync_inflight;
	bool free_after_sync; /* deleted while a sync was in flight */
	uint64_t trunc_gen;   /* bumped by truncations */
	uint64_t sync_trunc_gen;
	int64_t sync_msgs;
	/* Positions (segment base, byte) known synced, and as of the last
	 * recovery-point checkpoint; -1 unknown. Page cache is dropped only
	 * before ck_*. */
	int64_t synced_seg, synced_pos;
	int64_t ck_seg, ck_pos;
	int nsync_segs;
	struct segment *sync_segs[4];
	uint64_t sync_gen[4];
	bool sync_trim[4]; /* the sync cuts sync_segs[i]'s padding off (direct.c) */
	bool sync_dir, sync_parent;

	struct pending_del *dels;
	int ndels, cap_dels;

	struct direct_log dl;
	bool direct_off; /* the file system refused O_DIRECT */

	/* Log cleaner (cleaner.c); plain values, nothing to free. */
	bool clean_point_loaded;
	int64_t clean_point;   /* first offset not yet cleaned */
	int64_t clean_horizon; /* earliest delete horizon of kept tombstones; 0 none */
	void *clean_job;       /* the cleaning in flight, or NULL */
};

struct ckpt_entry {
	char *topic;
	int32_t partition;
	int64_t offset;
};

struct ckpt {
	struct ckpt_entry *e;
	int n, cap;
};

struct logdir {
	char *path;
	bool was_clean;
	struct ckpt recovery, start, hw;
	bool ckpt_removed; /* an entry was removed since the files were written */
	struct plog **logs;
	int nlogs, cap_logs;
	struct worker_pool *worker;
	/* Checkpoint files being written on the worker (one write at a time). */
	pthread_mutex_t ck_mu;
	pthread_cond_t ck_cv;
	bool ck_busy;   /* a write is queued or running */
	bool ck_failed; /* the last write failed: the next one rewrites all */
};

/* ---- segment.c: files, references, position table, scanning ---- */

void seg_path(char *out, size_t n, const char *dir, int64_t base, const char *ext);
struct segment *segment_new(int64_t base);
void segment_ref(struct segment *s);
void segment_unref(struct segment *s);
/* Open the .log descriptor if needed. */
int segment_open_fd(struct segment *s, const char *dir);
/* Create the three files of a new, empty segment (opens them). */
int segment_create(struct segment *s, const char *dir);
/* Make s the active segment: open files, load and check indexes, max ts. */
int segment_activate(struct segment *s, const char *dir, const struct log_config *cfg);
/* Close index descriptors (sealed and synced); clears active. */
void segment_close_index_fds(struct segment *s);
/* Drop the in-memory position table (memory of sealed segments). */
void segment_drop_table(struct segment *s);
void segment_tab_push(struct segment *s, int64_t base, int64_t last, int64_t pos);

/* A chunked reader of batch headers in one segment file. */
struct seg_scan {
	int fd;
	int64_t pos, end; /* next batch position; stop position */
	uint8_t *buf;
	size_t cap;
	int64_t buf_off;
	size_t buf_len;
	bool torn; /* stopped at bytes that are not a whole batch */
	int err;   /* I/O error */
};
struct scan_batch {
	int64_t pos, size;
	int64_t base, last;
	int64_t max_ts;
	int32_t epoch;
	int32_t count;
	int16_t attrs;
};
void seg_scan_init(struct seg_scan *sc, int fd, int64_t pos, int64_t end);
void seg_scan_release(struct seg_scan *sc);
/* 1 and *b filled, or 0 at the end (sc->torn / sc->err tell why). */
int seg_scan_next(struct seg_scan *sc, struct scan_batch *b);
/* The whole bytes of batch b (just returned by next); NULL on error. */
const uint8_t *seg_scan_bytes(struct seg_scan *sc, const struct scan_batch *b);

/* ---- index.c: .index / .timeindex ---- */

/* Load (and check) both index files of a sealed or active segment; a bad
 * index is rebuilt from the log. */
int index_load(struct segment *s, const char *dir, const struct log_config *cfg);
/* Position to start scanning for offset (largest entry <= offset), or 0. */
int64_t index_lookup(const struct segment *s, int64_t offset);
/* Offset (absolute) to start from for timestamp ts, or the base. */
int64_t index_lookup_time(const struct segment *s, int64_t ts);
/* Per-batch index maintenance during append or rebuild; writes the files
 * when they are open. */
int index_on_batch(struct segment *s, int64_t last, int64_t pos, int64_t size, int64_t max_ts,
                   const struct log_config *cfg);
/* Append the final time-index entry (max timestamp) when sealing. */
int index_seal(struct segment *s);
/* Rewrite both index files from the in-memory entries; with keep_open the
 * descriptors stay in idx_fd/tidx_fd (to be synced). */
int index_write_files(struct segment *s, const char *dir, bool keep_open);
/* Whether another entry would overflow segment_index_bytes. */
bool index_full(const struct segment *s, const struct log_config *cfg);
/* Make sure max_ts of s is known (time index, else a scan). */
int segment_load_max_ts(struct segment *s, const char *dir, const struct log_config *cfg);

/* ---- recovery.c ---- */

/*
 * Scan s from position 0: rebuild indexes and table from the batch headers,
 * and validate (CRC-32C) every batch whose last offset is at or after
 * check_from (SCAN_CHECK_ALL, SCAN_CHECK_NONE, or a recovery point: what
 * lies before it was synced, so its headers are walked without reading the
 * data). Stops at the first bad or torn batch and truncates the file there.
 * *prev_last is the last offset before s (-1 if none); updated. Returns 0, or
 * 1 if the segment was truncated.
 */
#define SCAN_CHECK_ALL  INT64_MIN
#define SCAN_CHECK_NONE INT64_MAX
int segment_recover(struct plog *l, struct segment *s, int64_t check_from, int64_t *prev_last);
int plog_open_dir(struct logdir *d, const char *topic, int32_t partition,
                  const struct log_config *cfg, bool create, struct plog **out);
void plog_free(struct plog *l);
void epochs_on_batch(struct plog *l, int32_t epoch, int64_t base);
void epochs_truncate(struct plog *l, int64_t end);
int epochs_write(struct plog *l, bool sync);

/* ---- plog.c ---- */

struct segment *plog_active(struct plog *l);
int plog_roll(struct plog *l, int64_t now_ms);
/* Index of the segment that holds offset (largest base <= offset). */
int plog_find_segment(const struct plog *l, int64_t offset);
/* Offset after the last batch of segment i. */
int64_t plog_seg_end(const struct plog *l, int i);
/* Remove the first n segments (renamed ".deleted", unlinked later). */
void plog_delete_segments(struct plog *l, int first, int n, int64_t now_ms);
void plog_run_pending_deletes(struct plog *l, int64_t now_ms, bool all);
/* Sync every written file now (shutdown). */
int plog_sync_now(struct plog *l);

/* The offset a crash recovery may trust below: the durable offset, or less
 * while a sealed segment may still run past its data (direct.c padding). */
int64_t plog__recovery_point(const struct plog *l);
/* For a clean close: cut the active segment's padding off, durably. */
int plog__trim_active(struct plog *l);

/* ---- direct.c ---- */

/* Extents wait to be written (reads stop at the written offset). */
bool direct_pending(const struct plog *l);
/* Stage an append to act at act->size: 1 staged, 0 the caller writes it
 * buffered, or -errno. */
int direct_append(struct plog *l, struct segment *act, const uint8_t *batch, size_t len);
/* Take back the last direct_append (its index update failed). */
void direct_unappend(struct plog *l, size_t len);
/* Position in s up to which the file holds its data. */
int64_t direct_readable_end(const struct plog *l, const struct segment *s);
/* Whether appends to s are staged and not written yet (or being written). */
bool direct_has_extents(const struct plog *l, const struct segment *s);
/* Hand every pending extent to a sync: fills io. 0 or -errno. */
int direct_prepare(struct plog *l, struct direct_io *io);
/* Run the writes of io (any thread). 0 or -errno. */
int direct_write(const struct direct_io *io);
void direct_io_release(struct direct_io *io);
/* The sync that prepared ended (written, or failed: the log fails then). */
void direct_complete(struct plog *l);
/* Write every pending extent now, on this thread (no sync in flight). */
int direct_drain(struct plog *l);
/* Forget every pending extent (truncation, close); no sync in flight. */
void direct_discard(struct plog *l);

/* ---- integrity.c ---- */

/* Record [a, b) of s as verified (whole batches). */
void seg_mark_verified(struct segment *s, int64_t a, int64_t b);
/* Verify the batches of a read slice of segment i not verified yet; may
 * shorten the slice. ERR_STORAGE when its first batch is corrupt. */
int log__verify_slice(struct plog *l, int i, struct plog_slice *out);
/* A scan for a read stopped at bytes that are no batch at pos of segment i. */
int log__read_corrupt(struct plog *l, int i, int64_t pos, int64_t offset);

/* ---- logdir.c ---- */
void logdir__forget(struct logdir *d, struct plog *l);
int64_t ckpt_get(const struct ckpt *c, const char *topic, int32_t partition);
void logdir__remove_path(struct logdir *d, char *path_moved);

/* ---- cleaner.c, cleaner_swap.c ---- */

/* One input segment of a cleaning, snapshotted on the loop thread. */
struct clean_seg {
	struct segment *seg; /* a reference */
	int64_t base, end;   /* end: offset after the segment (next base) */
	int64_t size;
	int fd;     /* seg->fd, open for the job's lifetime */
	bool dirty; /* holds offsets at or above the clean point */
};

/* Input segments [first, first + n) rewritten into one cleaned segment. */
struct clean_group {
	int first, n;
	int nswap;           /* members covered by out; the rest had nothing left */
	struct segment *out; /* the cleaned segment (files "*.cleaned"), or NULL */
};

struct plog_clean_job {
	struct plog *log;
	struct logdir *d;
	char *dir;
	int64_t now_ms;
	struct plog_clean_params params;
	struct log_config cfg;
	uint64_t trunc_gen;
	int64_t clean_point; /* first dirty offset */
	int64_t end;         /* first offset not cleanable */
	struct clean_seg *segs;
	int nsegs;
	/* Results of run(). */
	int err;
	int64_t clean_end; /* the new clean point */
	struct clean_group *groups;
	int ngroups;
	int64_t horizon_min; /* earliest delete horizon kept; 0 none */
	int64_t records_in, records_out, bytes_in, bytes_out;
};

/* Stored-batch check (recovery, cleaner): batch_validate, except that a
 * cleaned batch may hold fewer records than lastOffsetDelta + 1. */
int log__batch_check(const uint8_t *p, size_t n);
/* Complete or discard a cleaning interrupted by a crash (plog_open_dir,
 * before the folder is listed). */
int log__cleaner_recover(const char *dir);
/* Swap the groups of a finished job in (cleaner_swap.c). */
int log__cleaner_swap(struct plog_clean_job *j);
/* Remove the "*.cleaned" files of groups from index from on (inline, or on
 * the log directory's worker when on_loop). */
void log__cleaner_discard(struct plog_clean_job *j, int from, bool on_loop);
void log__cleaner_job_free(struct plog_clean_job *j);
/* Load / write cleaner-offset-checkpoint. */
int64_t log__cleaner_ckpt_get(struct logdir *d, const char *topic, int32_t partition);
int log__cleaner_ckpt_write(struct logdir *d);

bool log__parse_i64(const char **p, int64_t *out);
extern atomic_llong plog__scanned_bytes;

#endif
