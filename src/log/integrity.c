/*
 * integrity.c: keeping bad bytes away from consumers, and getting a failed
 * log back to work without a restart.
 *
 * Read verification. A fetch is a file range sent with sendfile, so nothing
 * looks at the bytes on the way out. Instead each segment keeps what part of
 * its file is known to hold valid batches in this process: a prefix
 * [0, ver_end) and one more interval [ver_lo, ver_hi) (a consumer that
 * started in the middle of a segment). Batches appended here were validated
 * by the produce handler and batches scanned by recovery were checked, so
 * both are verified by construction and a tailing consumer never pays.
 * Anything else (a segment trusted at a clean start, a cleaned segment) is
 * read once with pread before it is first served (from the page cache, which
 * sendfile then reuses) and each batch's sizes, magic, CRC-32C and offsets
 * are checked, moving the mark. A sequential reader thus checks each old
 * byte once per process lifetime.
 *
 * When a batch fails the check, an ERROR names the file and position, and
 * the log goes offline for reads at and above that batch's offset
 * (read_offline_from): a fetch gets the valid batches before it, then
 * ERR_STORAGE. Writes go on. Truncating acknowledged data at run time would
 * take back what consumers may already have read; recovery at the next
 * unclean start truncates a corrupt tail as usual, and a segment below the
 * recovery point stays offline until an operator acts (Kafka marks the log
 * directory offline in that case).
 *
 * Recovery after a storage error (plog_recover_after_error). A failed write
 * or fsync leaves the log failed: appends answer ERR_STORAGE at once and
 * reads below the high watermark keep working. Recovery, retried by the
 * owner, (1) checks that the disk takes writes again (a 64 KiB probe file,
 * removed at once: a full disk fails here and the log stays failed),
 * (2) cuts the log back to what was acknowledged: in the default mode its
 * durable offset, dropping every batch that no fsync covered (after a failed
 * fsync those pages may never reach the disk, and none of them was
 * acknowledged); with relaxed flushing its written offset, keeping what acks
 * promised on page-cache durability, which survives the process but, as
 * always in that mode, not a power cut (reads check CRCs, so bytes a power
 * cut left bad are never served),
 * (3) re-checks the last kept batch, and (4) clears the failed state.
 * Nothing acknowledged is cut, and the high watermark (at most the ack point)
 * never covered the dropped bytes. Failures that leave files and memory in
 * disagreement (a cleaner swap, a truncation) are sticky: only a reopen
 * repairs them.
 *
 * Threads: the owning loop thread, like the rest of a log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/logging.h"
#include "io/file.h"
#include "log/log_int.h"
#include "proto/batch.h"

#define PROBE_BYTES (64 * 1024)

/* ---- verified marks ---- */

void seg_mark_verified(struct segment *s, int64_t a, int64_t b)
{
	if (b <= a)
		return;
	if (a <= s->ver_end) {
		if (b > s->ver_end)
			s->ver_end = b;
	} else if (s->ver_hi > s->ver_lo && a <= s->ver_hi && b >= s->ver_lo) {
		if (a < s->ver_lo)
			s->ver_lo = a;
		if (b > s->ver_hi)
			s->ver_hi = b;
	} else {
		s->ver_lo = a;
		s->ver_hi = b;
	}
	/* The prefix reached the island: one range again. */
	if (s->ver_hi > s->ver_lo && s->ver_lo <= s->ver_end) {
		if (s->ver_hi > s->ver_end)
			s->ver_end = s->ver_hi;
		s->ver_lo = s->ver_hi = 0;
	}
}

/* First position in [a, b) not known valid (b if all are). a is a batch
 * start, and so is every mark, so the result is one too. */
static int64_t first_unverified(const struct segment *s, int64_t a, int64_t b)
{
	if (a < s->ver_end)
		a = s->ver_end;
	if (s->ver_hi > s->ver_lo && a >= s->ver_lo && a < s->ver_hi)
		a = s->ver_hi;
	return a < b ? a : b;
}

static void go_offline(struct plog *l, int i, int64_t pos, int64_t offset, const char *why)
{
	char path[PATH_MAX_LEN];
	seg_path(path, sizeof(path), l->dir, l->segs[i]->base, ".log");
	if (offset < l->read_offline_from) {
		LOG_ERROR("%s: %s at position %lld (offset %lld); reads from offset %lld on "
		          "answer a storage error, corrupt bytes are never served",
		          path, why, (long long)pos, (long long)offset, (long long)offset);
		l->read_offline_from = offset;
	}
}

int log__read_corrupt(struct plog *l, int i, int64_t pos, int64_t offset)
{
	if (i < 0)
		i = 0;
	go_offline(l, i, pos, offset, "no valid batch header");
	return ERR_STORAGE;
}

int log__verify_slice(struct plog *l, int i, struct plog_slice *out)
{
	struct segment *s = l->segs[i];
	int64_t a = out->ref.off, b = a + out->ref.len;
	int64_t from = first_unverified(s, a, b);
	if (from >= b)
		return 0;
	int64_t seg_end = plog_seg_end(l, i);
	int64_t prev = from == a ? out->first_offset - 1 : s->base - 1;
	int64_t good = from, bad_offset = from == a ? out->first_offset : -1;
	const char *why = "bad batch header";
	struct seg_scan sc;
	struct scan_batch bt;
	seg_scan_init(&sc, s->fd, from, b);
	while (seg_scan_next(&sc, &bt) == 1) {
		const uint8_t *p = seg_scan_bytes(&sc, &bt);
		if (!p) {
			why = "short batch";
			break;
		}
		if (log__batch_check(p, (size_t)bt.size) != 0) {
			why = "CRC or size check failed";
			bad_offset = prev + 1;
			break;
		}
		if (bt.base <= prev || bt.base < s->base || bt.last >= seg_end) {
			why = "batch offsets out of order";
			bad_offset = prev + 1;
			break;
		}
		good = bt.pos + bt.size;
		prev = bt.last;
	}
	int r = sc.err;
	seg_scan_release(&sc);
	if (r < 0)
		return r;
	seg_mark_verified(s, from, good);
	if (good >= b)
		return 0;
	if (bad_offset < 0)
		bad_offset = prev + 1;
	if (bad_offset < l->start_offset)
		bad_offset = l->start_offset;
	go_offline(l, i, good, bad_offset, why);
	if (good <= a) {
		out->ref.len = 0;
		return ERR_STORAGE;
	}
	/* Serve the valid batches before the bad one. */
	out->ref.len = (int32_t)(good - a);
	out->next_offset = prev + 1;
	return 0;
}

int64_t plog_read_offline_from(const struct plog *l)
{
	return l->read_offline_from;
}

/* ---- recovery after a storage error ---- */

/* Can the partition folder take a write again? A small file, then gone. */
static int probe_write(struct plog *l)
{
	char path[PATH_MAX_LEN];
	snprintf(path, sizeof(path), "%s/storage-probe.tmp", l->dir);
	int fd = file_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fd;
	uint8_t *buf = calloc(1, PROBE_BYTES);
	if (!buf)
		abort();
	int r = file_pwrite(fd, buf, PROBE_BYTES, 0);
	free(buf);
	file_close(fd);
	file_unlink(path);
	return r;
}

/* Check the last batch of the active segment again (it is durable data). */
static int check_last_batch(struct plog *l)
{
	struct segment *s = plog_active(l);
	if (s->size == 0 || s->ntab == 0)
		return 0;
	int64_t pos = s->tab[s->ntab - 1].pos, n = s->size - pos;
	if (n < BATCH_HEADER_SIZE || n > INT32_MAX)
		return ERR_CORRUPT;
	uint8_t *buf = malloc((size_t)n);
	if (!buf)
		abort();
	ssize_t got = file_pread(s->fd, buf, (size_t)n, pos);
	int r = got < 0 ? (int)got : got != n ? ERR_CORRUPT : log__batch_check(buf, (size_t)n);
	free(buf);
	return r;
}

int plog_recover_after_error(struct plog *l)
{
	if (!l->failed)
		return 0;
	if (l->fail_sticky)
		return ERR_STORAGE;
	if (l->sync_inflight || l->clean_job)
		return -EAGAIN;
	int r = probe_write(l);
	if (r < 0) {
		if (!l->recover_logged)
			LOG_WARN("%s: still cannot write (%s); retrying", l->dir, err_str(r));
		l->recover_logged = true;
		return r;
	}
	/* What acks covered stays: synced data, or with relaxed flushing what
	 * is in the files (see the file comment). */
	int64_t target = l->cfg.sync_before_ack ? l->durable : plog_written_offset(l);
	if (target < l->segs[0]->base)
		target = l->segs[0]->base;
	int64_t dropped = l->leo - target;
	l->failed = false;
	r = plog_truncate_to(l, target);
	if (r < 0) {
		/* A truncation that failed may be retried; it left no half state
		 * that a second attempt would not redo. */
		l->failed = true;
		l->fail_sticky = false;
		return r;
	}
	struct segment *act = plog_active(l);
	r = segment_open_fd(act, l->dir);
	int64_t fsize = 0;
	if (r == 0)
		r = file_size(act->fd, &fsize);
	if (r == 0 && fsize > act->size) {
		/* A cut-back after a failed write that itself failed. */
		r = file_truncate(act->fd, act->size);
		act->dirty = true;
		act->wgen++;
	}
	if (r == 0)
		r = check_last_batch(l);
	if (r < 0) {
		LOG_ERROR("%s: recovery failed: %s", l->dir, err_str(r));
		l->failed = true;
		if (r == ERR_CORRUPT)
			l->fail_sticky = true; /* durable data is bad: a reopen must scan */
		return r;
	}
	l->durable = l->leo;
	l->unflushed = 0;
	l->dir_dirty = true;
	l->recover_logged = false;
	LOG_INFO("%s: recovered from a storage error: log end offset %lld, %lld "
	         "unacknowledged offset(s) dropped; accepting writes again",
	         l->dir, (long long)l->leo, (long long)(dropped > 0 ? dropped : 0));
	return 0;
}
