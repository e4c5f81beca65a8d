/*
 * retention.c: removing data from a partition log — time and size
 * retention, DeleteRecords (advance_start_offset) and follower truncation.
 *
 * Deleting a segment: it leaves segs[] at once; its three files are renamed
 * with a ".deleted" suffix (so a restart finishes the job: recovery.c removes
 * "*.deleted") and unlinked after file_delete_delay_ms, or right away when the
 * delay is 0. Unlinking runs on the log directory's worker pool when one is
 * set (logdir_set_worker), inline otherwise. A read slice that still holds
 * the segment keeps its descriptor, so an in-flight fetch is never cut short.
 *
 * The log is never left without an active segment: when retention must take
 * the active segment, a new empty one is rolled first.
 *
 * Left to others: scheduling (the owner calls plog_enforce_retention on a
 * timer), offsets of records inside batches (query.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/logging.h"
#include "io/file.h"
#include "log/log_int.h"

static char *str_dup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (!p)
		abort();
	memcpy(p, s, n);
	return p;
}

static void queue_delete(struct plog *l, const char *path, int64_t due_ms)
{
	if (l->ndels == l->cap_dels) {
		l->cap_dels = l->cap_dels ? l->cap_dels * 2 : 8;
		l->dels = realloc(l->dels, (size_t)l->cap_dels * sizeof(*l->dels));
		if (!l->dels)
			abort();
	}
	l->dels[l->ndels].path = str_dup(path);
	l->dels[l->ndels].due_ms = due_ms;
	l->ndels++;
}

void plog_run_pending_deletes(struct plog *l, int64_t now_ms, bool all)
{
	int k = 0;
	for (int i = 0; i < l->ndels; i++) {
		if (all || l->dels[i].due_ms <= now_ms)
			logdir__remove_path(l->d, l->dels[i].path);
		else
			l->dels[k++] = l->dels[i];
	}
	l->ndels = k;
}

void plog_delete_segments(struct plog *l, int first, int n, int64_t now_ms)
{
	static const char *const exts[] = {".log", ".index", ".timeindex"};
	char from[PATH_MAX_LEN], to[PATH_MAX_LEN + 16];
	for (int i = first; i < first + n; i++) {
		struct segment *s = l->segs[i];
		/* Readers of this segment keep working through the open fd. */
		for (size_t e = 0; e < sizeof(exts) / sizeof(exts[0]); e++) {
			seg_path(from, sizeof(from), l->dir, s->base, exts[e]);
			snprintf(to, sizeof(to), "%s.deleted", from);
			int r = file_rename(from, to);
			if (r < 0) {
				if (r != -ENOENT)
					LOG_WARN("cannot rename %s: %s", from, err_str(r));
				continue;
			}
			queue_delete(l, to, now_ms + l->cfg.file_delete_delay_ms);
		}
		l->size_bytes -= s->size;
		segment_unref(s);
	}
	memmove(l->segs + first, l->segs + first + n,
	        (size_t)(l->nsegs - first - n) * sizeof(*l->segs));
	l->nsegs -= n;
	if (l->cfg.file_delete_delay_ms <= 0)
		plog_run_pending_deletes(l, now_ms, false);
}

/* Delete the n oldest segments, rolling first if that includes the active one. */
static int delete_oldest(struct plog *l, int n, int64_t now_ms)
{
	if (n <= 0)
		return 0;
	if (n >= l->nsegs) {
		if (plog_active(l)->size == 0) {
			n = l->nsegs - 1; /* an empty active segment holds nothing to delete */
		} else {
			int r = plog_roll(l, now_ms);
			if (r < 0)
				return r;
		}
	}
	if (n <= 0)
		return 0;
	int64_t new_start = l->segs[n]->base;
	plog_delete_segments(l, 0, n, now_ms);
	if (new_start > l->start_offset)
		l->start_offset = new_start;
	if (l->hw < l->start_offset)
		l->hw = l->start_offset;
	return n;
}

/* Largest timestamp of a segment for time retention: the max record
 * timestamp, or the file's modification time when no record had one. */
static int64_t seg_largest_ts(struct plog *l, struct segment *s)
{
	if (segment_load_max_ts(s, l->dir, &l->cfg) == 0 && s->max_ts >= 0)
		return s->max_ts;
	char path[PATH_MAX_LEN];
	struct stat st;
	seg_path(path, sizeof(path), l->dir, s->base, ".log");
	if (stat(path, &st) == 0)
		return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
	return -1;
}

int plog_enforce_retention(struct plog *l, int64_t now_ms)
{
	int deleted = 0;
	plog_run_pending_deletes(l, now_ms, false);
	if (l->failed)
		return 0;
	struct segment *act = plog_active(l);
	if (act->size > 0 && act->first_ms >= 0 && now_ms - act->first_ms >= l->cfg.segment_ms) {
		int r = plog_roll(l, now_ms);
		if (r < 0)
			return r;
	}
	if (l->cfg.retention_ms >= 0) {
		int n = 0;
		while (n < l->nsegs && l->segs[n]->size > 0) {
			int64_t ts = seg_largest_ts(l, l->segs[n]);
			if (ts < 0 || now_ms - ts <= l->cfg.retention_ms)
				break;
			n++;
		}
		int r = delete_oldest(l, n, now_ms);
		if (r < 0)
			return r;
		deleted += r;
	}
	if (l->cfg.retention_bytes >= 0) {
		int64_t diff = l->size_bytes - l->cfg.retention_bytes;
		int n = 0;
		while (n < l->nsegs && diff > 0 && diff - l->segs[n]->size >= 0) {
			diff -= l->segs[n]->size;
			n++;
		}
		int r = delete_oldest(l, n, now_ms);
		if (r < 0)
			return r;
		deleted += r;
	}
	if (deleted > 0)
		LOG_INFO("%s: retention deleted %d segment(s), log start offset now %lld", l->dir,
		         deleted, (long long)l->start_offset);
	return deleted;
}

int plog_advance_start_offset(struct plog *l, int64_t offset)
{
	if (offset > l->leo)
		return ERR_OUT_OF_RANGE;
	if (offset <= l->start_offset)
		return 0;
	l->start_offset = offset;
	if (l->hw < offset)
		l->hw = offset;
	int n = 0;
	while (n + 1 < l->nsegs && l->segs[n + 1]->base <= offset)
		n++;
	if (n > 0)
		plog_delete_segments(l, 0, n, clock_now_ms());
	return 0;
}

int plog_truncate_to(struct plog *l, int64_t offset)
{
	if (l->failed)
		return ERR_STORAGE;
	if (offset >= l->leo)
		return 0;
	if (offset < 0)
		return ERR_INVALID;
	if (direct_pending(l)) {
		/* Staged appends lie above the written offset: keep what the cut
		 * keeps by writing them first, else forget them. */
		if (offset > l->written && direct_drain(l) < 0) {
			l->failed = true;
			return ERR_STORAGE;
		}
		direct_discard(l);
	}
	int64_t now = clock_now_ms();
	l->trunc_gen++;
	l->synced_seg = l->ck_seg = -1; /* positions past the cut mean nothing now */
	int i = plog_find_segment(l, offset);
	if (i < 0) {
		/* Below every segment: start over empty at offset. */
		struct segment *s = segment_new(offset);
		int r = segment_create(s, l->dir);
		if (r < 0) {
			segment_unref(s);
			l->failed = true;
			return ERR_STORAGE;
		}
		plog_delete_segments(l, 0, l->nsegs, now);
		l->segs[0] = s;
		l->nsegs = 1;
		l->leo = l->start_offset = l->durable = l->hw = offset;
		l->synced_seg = l->ck_seg = -1;
		l->dir_dirty = true;
		epochs_truncate(l, offset);
		epochs_write(l, false);
		return 0;
	}
	if (i + 1 < l->nsegs)
		plog_delete_segments(l, i + 1, l->nsegs - i - 1, now);

	/* Cut the remaining segment at the batch that holds offset. */
	struct segment *s = l->segs[i];
	int r = segment_open_fd(s, l->dir);
	if (r < 0)
		goto fail;
	int64_t cut = s->size;
	{
		struct seg_scan sc;
		struct scan_batch b;
		r = index_load(s, l->dir, &l->cfg);
		if (r < 0)
			goto fail;
		seg_scan_init(&sc, s->fd, index_lookup(s, offset), s->size);
		bool found = false;
		while (!found && seg_scan_next(&sc, &b) == 1) {
			if (b.last >= offset) {
				cut = b.pos;
				found = true;
			}
		}
		/* The file ends, or turns to bytes that are no batch, before the
		 * batch holding offset (a write that failed half-way, staged
		 * appends never written): cut where the valid batches stop. */
		if (!found && sc.torn)
			cut = sc.pos;
		r = sc.err;
		seg_scan_release(&sc);
		if (r < 0)
			goto fail;
	}
	r = file_truncate(s->fd, cut);
	if (r < 0)
		goto fail;
	l->size_bytes -= s->size - cut;
	s->size = cut;
	s->dirty = true;
	s->wgen++;
	/* Rebuild indexes, table and max timestamp of the shortened segment. */
	int64_t prev_last = s->base - 1;
	segment_close_index_fds(s);
	r = segment_recover(l, s, SCAN_CHECK_NONE, &prev_last);
	if (r < 0)
		goto fail;
	r = index_write_files(s, l->dir, false);
	if (r < 0)
		goto fail;
	s->idx_dirty = false;
	r = segment_activate(s, l->dir, &l->cfg);
	if (r < 0)
		goto fail;
	l->leo = s->end_offset;
	if (l->durable > l->leo)
		l->durable = l->leo;
	if (l->hw > l->leo)
		l->hw = l->leo;
	if (l->start_offset > l->leo)
		l->start_offset = l->leo;
	epochs_truncate(l, l->leo);
	epochs_write(l, false);
	return 0;
fail:
	LOG_ERROR("%s: truncation failed: %s", l->dir, err_str(r));
	l->failed = true;
	l->fail_sticky = true;
	return ERR_STORAGE;
}
