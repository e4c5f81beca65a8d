/*
 * file.h: the one small file interface under all storage I/O (the partition
 * log, checkpoints). Every call returns 0 (or a byte count / descriptor) on
 * success and -errno on failure, retrying EINTR and short transfers itself.
 *
 * Fault injection is built in, for tests (SQLite's test6.c idea): a test can
 * make the Nth write, sync, rename, truncate or open fail with a chosen errno,
 * and can simulate a power cut. When no fault is armed, the cost is one load
 * of a global flag per call.
 *
 * Power-cut model (file_fault_powercut_begin .. _apply): the interface tracks,
 * per inode written while tracking is on, the length that was durable at its
 * last fsync/fdatasync (a file first seen keeps its size at that moment as
 * durable; a file created while tracking starts at 0). apply() then:
 *   - truncates every tracked file back to its durable length (bytes written
 *     after the last sync of that file are lost; bytes overwritten in place
 *     below that length are kept, a simplification);
 *   - unlinks files created while tracking whose directory was not fsynced
 *     after the creation (the create is undone);
 *   - renames are treated as durable at once (not undone), as are unlinks;
 *   - after an injected sync failure on a file, nothing above its durable
 *     length at that moment becomes durable again (Linux may drop the dirty
 *     pages and let the next fsync succeed) until the file is truncated to
 *     that length or below;
 *   - a syncfs is a sync of every tracked file on its file system and of
 *     their directories; a failed one counts as a failed sync of each of
 *     those files that held bytes beyond its durable length.
 * The durable length a sync records is the file's size when the sync began.
 * Tracking stops after apply(). Files are identified by inode, so dup'ed
 * descriptors and renamed files are followed.
 *
 * Threads: every function may be called from any thread; the fault state is
 * guarded by a mutex taken only when faults are enabled.
 */
#ifndef FJORD_IO_FILE_H
#define FJORD_IO_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* open(2): returns a descriptor or -errno. O_CLOEXEC is always added. */
int file_open(const char *path, int flags, int mode);
/* Open a directory read-only (for file_fsync on it). */
int file_open_dir(const char *path);
int file_close(int fd);
/* Duplicate a descriptor (for syncing on another thread). */
int file_dup(int fd);

/*
 * Read up to n bytes at off, retrying EINTR and short reads until n bytes or
 * end of file. Returns the number of bytes read (< n only at end of file).
 */
ssize_t file_pread(int fd, void *buf, size_t n, int64_t off);
/* Write all n bytes at off, or fail: 0 or -errno (ENOSPC for no progress). */
int file_pwrite(int fd, const void *buf, size_t n, int64_t off);
/*
 * The same for n pieces laid end to end in the file from off (one system call
 * when it goes through whole; O_DIRECT needs each piece block-aligned). An
 * injected fault lands the first half of the first piece.
 */
struct iovec;
int file_pwritev(int fd, const struct iovec *iov, int n, int64_t off);

int file_fdatasync(int fd);
int file_fsync(int fd);
/*
 * Everything written to the file system that holds fd, and every name created
 * there, becomes durable (syncfs). Counted and failed as a sync (an armed
 * path matches fd's path); see the power-cut model above.
 */
int file_syncfs(int fd);
/*
 * After a syncfs: report (once, as fdatasync would) a write-back error on
 * this file since its last sync. syncfs reports an error on the file system
 * only to descriptors that have not seen it yet, so a file whose pages were
 * lost could otherwise pass as durable. Waits for nothing that is written.
 * Counted and failed as a sync.
 */
int file_check_written(int fd);
/* Whether this kernel's syncfs reports write-back errors (Linux 5.8 on);
 * before that it always succeeds, and must not stand in for fdatasync. */
bool file_syncfs_reports_errors(void);
int file_truncate(int fd, int64_t len);
/* Size of an open file. */
int file_size(int fd, int64_t *size);
/*
 * Advise the kernel to drop the cached pages of [off, off+len) (clean pages
 * only; dirty ones are left). Advisory: nothing is reported.
 */
void file_drop_cache(int fd, int64_t off, int64_t len);
/*
 * Start reading [off, off+len) into the page cache without waiting for it
 * (advisory, like file_drop_cache).
 */
void file_read_ahead(int fd, int64_t off, int64_t len);
/* Reserve space (fallocate, keep size); EOPNOTSUPP is reported as 0. */
int file_allocate(int fd, int64_t off, int64_t len);

int file_rename(const char *from, const char *to);
int file_unlink(const char *path);
/* mkdir; an existing directory is not an error. */
int file_mkdir(const char *path, int mode);
int file_rmdir(const char *path);
/* Open, fsync and close a directory (after creating/renaming inside it). */
int file_sync_dir(const char *path);
/* Remove a directory and the files in it (one level; sub-folders too). */
int file_remove_tree(const char *path);
/* Size of a file by path (stat), or -errno. */
int file_stat_size(const char *path, int64_t *size);

/*
 * Replace a whole small file atomically: write path.tmp, rename over path.
 * With sync, the temp file is fsynced before the rename and the parent
 * directory after it, so the new content is durable on return.
 */
int file_write_atomic(const char *path, const void *data, size_t n, bool sync);
/* Read a whole small file (at most max bytes) into a malloc'd NUL-terminated
 * buffer. Returns the length or -errno; *out is freed by the caller. */
ssize_t file_read_all(const char *path, size_t max, char **out);

/* ---- Fault injection (tests) ---- */

enum file_op {
	FILE_OP_WRITE, /* file_pwrite, file_pwritev */
	FILE_OP_SYNC,  /* file_fsync, file_fdatasync, file_syncfs, file_check_written, file_sync_dir
	                */
	FILE_OP_RENAME,   /* file_rename */
	FILE_OP_TRUNCATE, /* file_truncate */
	FILE_OP_OPEN,     /* file_open with O_CREAT or O_DIRECT */
	FILE_OP_READ,     /* file_pread (counted; can fail too) */
	FILE_OP__COUNT
};

/*
 * Make the nth call of op from now (1 = the next one) fail with -err (e.g.
 * EIO, ENOSPC). A failed write first writes half of its bytes, like a disk
 * that filled up mid-write. With sticky, that call and every later one fail
 * until file_fault_reset().
 */
void file_fault_fail(enum file_op op, int nth, int err, bool sticky);
/* Like file_fault_fail, but only calls on files whose path contains match
 * count towards nth and fail (NULL or "" = every call). */
void file_fault_fail_path(enum file_op op, int nth, int err, bool sticky, const char *match);
/* Calls of op seen since the last reset (counted only while faults are on:
 * any armed fault, power-cut tracking, or file_fault_count_enable). */
int64_t file_fault_count(enum file_op op);
void file_fault_count_enable(void);
/* Disarm everything, stop tracking, zero the counters. */
void file_fault_reset(void);

/* Start tracking durable lengths (see the model above). */
void file_fault_powercut_begin(void);
/* Apply the power cut to the tracked files and stop tracking. Close every
 * descriptor of the affected files before calling. Returns the number of
 * files truncated or removed. */
int file_fault_powercut_apply(void);

/*
 * Test-only hooks from the environment, read once when the program loads (a
 * constructor calls file_fault_from_env; calling it again does nothing).
 * Without these variables nothing changes.
 *
 *   FJORD_FAULTS="item[,item...]"   item = op:N:ERR[:sticky][:path=SUBSTR]
 *       op: write, fsync (or sync), rename, truncate, open, read; N >= 1 (the
 *       Nth such call from start, counting only calls on paths containing
 *       SUBSTR if given); ERR: EIO, ENOSPC, EDQUOT, EROFS, EMFILE, ENOMEM or a
 *       number. Same semantics as file_fault_fail_path.
 *   FJORD_POWERCUT=1
 *       Power-cut tracking from start (file_fault_powercut_begin). On SIGUSR2
 *       a dedicated thread (sigwait; SIGUSR2 is blocked in every thread) waits
 *       for in-flight file calls, blocks new ones, applies the power cut and
 *       calls _exit(137).
 * A malformed FJORD_FAULTS exits the program with status 2.
 */
int file_fault_from_env(void);
/* Parse and arm a FJORD_FAULTS spec; -EINVAL if malformed. */
int file_fault_parse(const char *spec);

#endif
