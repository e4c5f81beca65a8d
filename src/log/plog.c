/*
 * plog.c: the hot paths of a partition log — append, read, roll, and the
 * group-commit sync protocol.
 *
 * Invariants:
 *   - segs[] is sorted by base offset and never empty; the last segment is
 *     the active one, and only it is appended to.
 *   - leo is the offset after the last batch; start_offset <= durable <= leo
 *     is not guaranteed for durable (it may lag below start after retention),
 *     but durable <= leo always holds.
 *   - A failed log (failed == true) accepts no appends; reads keep working
 *     on what was written successfully (a failed write is cut back).
 *
 * States of a segment for syncing: dirty (its .log changed since the last
 * completed sync) and idx_dirty (sealed, index files not yet synced). A sync
 * covers dirty segments oldest first, at most four descriptors (the .log of
 * the active segment, or .log + .index + .timeindex of a sealed one); if more
 * are pending, the sync's target stops at the first segment left out and the
 * next prepare() continues.
 *
 * Left to others: opening and recovery (recovery.c), retention and
 * truncation (retention.c), timestamps and epochs (query.c), checkpoints
 * (logdir.c). Validation of incoming batches belongs to the caller.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/endian.h"
#include "base/err.h"
#include "base/logging.h"
#include "io/file.h"
#include "log/log_int.h"
#include "proto/batch.h"

void log_config_default(struct log_config *cfg)
{
	cfg->segment_bytes = 1024LL * 1024 * 1024;
	cfg->segment_ms = 7LL * 24 * 3600 * 1000;
	cfg->retention_ms = 7LL * 24 * 3600 * 1000;
	cfg->retention_bytes = -1;
	cfg->index_interval_bytes = 4096;
	cfg->segment_index_bytes = 10 * 1024 * 1024;
	cfg->file_delete_delay_ms = 60000;
	cfg->log_append_time = false;
	cfg->cache_tail_bytes = LOG_CACHE_TAIL_BYTES_DEFAULT;
	cfg->direct_writes = false;
	cfg->sync_before_ack = true;
	cfg->direct_min_bytes = 64 * 1024;
}

void plog_set_config(struct plog *l, const struct log_config *cfg)
{
	l->cfg = *cfg;
}

const char *plog_topic(const struct plog *l)
{
	return l->topic;
}
int32_t plog_partition(const struct plog *l)
{
	return l->partition;
}
int64_t plog_start_offset(const struct plog *l)
{
	return l->start_offset;
}
int64_t plog_end_offset(const struct plog *l)
{
	return l->leo;
}
int64_t plog_durable_offset(const struct plog *l)
{
	return l->durable;
}

int64_t plog__recovery_point(const struct plog *l)
{
	/*
	 * A sealed segment whose padding is not cut off durably yet must be
	 * scanned after a crash (a clean start trusts the sizes of the files):
	 * keep the recovery point inside it.
	 */
	for (int i = 0; i + 1 < l->nsegs; i++) {
		const struct segment *g = l->segs[i];
		if (g->padded && g->end_offset > g->base && g->end_offset - 1 < l->durable)
			return g->end_offset - 1;
	}
	return l->durable;
}

int plog__trim_active(struct plog *l)
{
	struct segment *act = plog_active(l);
	if (!act->padded || direct_pending(l) || l->sync_inflight)
		return 0;
	int r = segment_open_fd(act, l->dir);
	if (r == 0)
		r = file_truncate(act->fd, act->size);
	if (r == 0)
		r = file_fdatasync(act->fd);
	if (r == 0)
		act->padded = false;
	return r;
}
int64_t plog_size_bytes(const struct plog *l)
{
	return l->size_bytes;
}
int plog_segment_count(const struct plog *l)
{
	return l->nsegs;
}
bool plog_failed(const struct plog *l)
{
	return l->failed;
}
int64_t plog_unflushed_messages(const struct plog *l)
{
	return l->unflushed;
}
bool plog_staged(const struct plog *l)
{
	return direct_pending(l);
}
int64_t plog_written_offset(const struct plog *l)
{
	return direct_pending(l) ? l->written : l->leo;
}
int64_t plog_high_watermark(const struct plog *l)
{
	return l->hw;
}

void plog_set_high_watermark(struct plog *l, int64_t hw)
{
	if (hw > l->leo)
		hw = l->leo;
	l->hw = hw;
}

struct segment *plog_active(struct plog *l)
{
	return l->segs[l->nsegs - 1];
}

int plog_find_segment(const struct plog *l, int64_t offset)
{
	int lo = 0, hi = l->nsegs - 1, found = -1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		if (l->segs[mid]->base <= offset) {
			found = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return found;
}

int64_t plog_seg_end(const struct plog *l, int i)
{
	if (i == l->nsegs - 1)
		return l->leo;
	if (l->segs[i]->end_offset >= 0)
		return l->segs[i]->end_offset;
	return l->segs[i + 1]->base;
}

static int fail_log(struct plog *l, int err, const char *what)
{
	if (!l->failed)
		LOG_ERROR("%s: %s failed: %s; the partition refuses writes until it is recovered",
		          l->dir, what, err_str(err));
	l->failed = true;
	return ERR_STORAGE;
}

int plog_roll(struct plog *l, int64_t now_ms)
{
	(void)now_ms;
	struct segment *act = plog_active(l);
	if (act->size == 0)
		return 0;
	if (act->active) {
		/* Write the indexes whole; their fds stay open for the next sync. */
		index_seal(act);
		int r = index_write_files(act, l->dir, true);
		if (r < 0)
			return fail_log(l, r, "index write");
		act->idx_dirty = true;
		act->active = false;
	}
	act->end_offset = l->leo;
	if (l->nsegs >= 2)
		segment_drop_table(l->segs[l->nsegs - 2]);

	struct segment *s = segment_new(l->leo);
	int r = segment_create(s, l->dir);
	if (r < 0) {
		segment_unref(s);
		return fail_log(l, r, "segment create");
	}
	if (l->nsegs == l->cap_segs) {
		l->cap_segs = l->cap_segs ? l->cap_segs * 2 : 4;
		l->segs = realloc(l->segs, (size_t)l->cap_segs * sizeof(*l->segs));
		if (!l->segs)
			abort();
	}
	l->segs[l->nsegs++] = s;
	l->dir_dirty = true;
	return 0;
}

/*
 * Before the first append to a segment that recovery did not scan (a clean
 * start trusts the checkpointed end offset), check that the file really ends
 * with a batch ending at the log end: read from the last index entry to the
 * end (one chunk, usually). On a mismatch, scan and repair the segment rather
 * than append after bytes nobody accounted for.
 */
static int check_tail(struct plog *l, struct segment *s)
{
	if (s->ntab > 0)
		return 0;
	if (s->size == 0) {
		l->leo = s->end_offset = s->base;
		return 0;
	}
	struct seg_scan sc;
	struct scan_batch b;
	int64_t last = -1, end = 0;
	seg_scan_init(&sc, s->fd, index_lookup(s, INT64_MAX), s->size);
	while (seg_scan_next(&sc, &b) == 1) {
		last = b.last;
		end = b.pos + b.size;
	}
	int r = sc.err;
	seg_scan_release(&sc);
	if (r < 0)
		return r;
	if (last + 1 == l->leo && end == s->size)
		return 0;
	LOG_WARN("%s: segment %lld does not end at the checkpointed offset %lld; rescanning",
	         l->dir, (long long)s->base, (long long)l->leo);
	int64_t prev_last = s->base - 1, old_size = s->size;
	r = segment_recover(l, s, SCAN_CHECK_ALL, &prev_last);
	if (r < 0)
		return r;
	l->size_bytes += s->size - old_size;
	l->leo = s->end_offset;
	if (l->durable > l->leo)
		l->durable = l->leo;
	if (l->hw > l->leo)
		l->hw = l->leo;
	return index_write_files(s, l->dir, false);
}

static bool must_roll(struct plog *l, struct segment *act, size_t len, int64_t last_delta,
                      int64_t now_ms)
{
	if (act->size == 0)
		return false;
	if (act->size + (int64_t)len > l->cfg.segment_bytes ||
	    act->size + (int64_t)len > UINT32_MAX)
		return true;
	if (act->first_ms >= 0 && now_ms - act->first_ms >= l->cfg.segment_ms)
		return true;
	if (l->leo + last_delta - act->base > INT32_MAX)
		return true;
	return index_full(act, &l->cfg);
}

int plog_append(struct plog *l, uint8_t *batch, size_t len, int32_t leader_epoch, int64_t now_ms,
                struct plog_append_result *res)
{
	if (l->failed)
		return ERR_STORAGE;
	if (len < BATCH_HEADER_SIZE || len > INT32_MAX)
		return ERR_INVALID;
	int64_t last_delta = (int32_t)be32_load(batch + BATCH_OFF_LAST_OFFSET_DELTA);
	int32_t count = (int32_t)be32_load(batch + BATCH_OFF_RECORD_COUNT);
	if (last_delta < 0)
		return ERR_INVALID;

	struct segment *act = plog_active(l);
	int r = 0;
	if (!act->active) {
		r = segment_activate(act, l->dir, &l->cfg);
		if (r == 0)
			r = check_tail(l, act);
	}
	if (r < 0)
		return fail_log(l, r, "segment open");
	if (must_roll(l, act, len, last_delta, now_ms)) {
		if (plog_roll(l, now_ms) < 0)
			return ERR_STORAGE;
		act = plog_active(l);
	}

	int64_t base = l->leo, last = base + last_delta;
	be64_store(batch + BATCH_OFF_BASE_OFFSET, (uint64_t)base);
	be32_store(batch + BATCH_OFF_LEADER_EPOCH, (uint32_t)leader_epoch);
	int64_t append_time = -1;
	if (l->cfg.log_append_time) {
		uint16_t attrs = be16_load(batch + BATCH_OFF_ATTRIBUTES);
		be16_store(batch + BATCH_OFF_ATTRIBUTES, attrs | BATCH_ATTR_LOG_APPEND_TIME);
		be64_store(batch + BATCH_OFF_MAX_TIMESTAMP, (uint64_t)now_ms);
		batch_update_crc(batch, len);
		append_time = now_ms;
	}
	int64_t max_ts = (int64_t)be64_load(batch + BATCH_OFF_MAX_TIMESTAMP);

	int64_t pos = act->size;
	bool was_staging = direct_pending(l);
	int staged = direct_append(l, act, batch, len);
	r = staged > 0 ? 0 : staged < 0 ? staged : file_pwrite(act->fd, batch, len, pos);
	if (r == 0) {
		int64_t old_since = act->bytes_since_idx;
		int oldn = act->nidx, oldt = act->ntidx;
		r = index_on_batch(act, last, pos, (int64_t)len, max_ts, &l->cfg);
		if (r < 0) {
			act->nidx = oldn;
			act->ntidx = oldt;
			act->bytes_since_idx = old_since;
			if (staged > 0)
				direct_unappend(l, len);
		}
	}
	if (r < 0) {
		/* Never leave a partial batch that a reader or recovery could see
		 * as data: cut the file back, and stay failed either way. */
		if (staged == 0)
			file_truncate(act->fd, pos);
		act->dirty = true;
		return fail_log(l, r, "write");
	}
	act->size += (int64_t)len;
	act->dirty = true;
	act->wgen++;
	seg_mark_verified(act, pos, act->size); /* validated by the caller */
	if (act->first_ms < 0)
		act->first_ms = now_ms;
	segment_tab_push(act, base, last, pos);
	if (staged > 0 && !was_staging)
		l->written = base; /* everything before is in the files */
	l->leo = last + 1;
	act->end_offset = l->leo;
	l->size_bytes += (int64_t)len;
	l->unflushed += count > 0 ? count : 1;

	int nep = l->nepochs;
	epochs_on_batch(l, leader_epoch, base);
	if (l->nepochs != nep && epochs_write(l, false) < 0)
		LOG_WARN("%s: cannot write leader-epoch-checkpoint", l->dir);

	if (res) {
		res->base_offset = base;
		res->last_offset = last;
		res->log_append_time = append_time;
	}
	return 0;
}

/* ---- read ---- */

static void slice_noop(void *ctx)
{
	(void)ctx;
}
static void slice_release(void *ctx)
{
	segment_unref(ctx);
}

/* Collect from the position table; 1 if the segment answered. */
static int read_table(struct segment *s, int64_t offset, int64_t upto, int32_t max_bytes,
                      struct plog_slice *out)
{
	int lo = 0, hi = s->ntab - 1, j = -1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		if (s->base + s->tab[mid].rel_last >= offset) {
			j = mid;
			hi = mid - 1;
		} else {
			lo = mid + 1;
		}
	}
	if (j < 0)
		return 0;
	int64_t first = j == 0 ? s->tab_base : s->base + s->tab[j - 1].rel_last + 1;
	out->first_offset = out->next_offset = first;
	if (first >= upto)
		return 1;
	int64_t start = s->tab[j].pos, total = 0, next = first;
	for (int k = j; k < s->ntab; k++) {
		int64_t bbase = next;
		int64_t bsize = (k + 1 < s->ntab ? s->tab[k + 1].pos : s->size) - s->tab[k].pos;
		if (bbase >= upto)
			break;
		if (k > j && (total + bsize > max_bytes || total + bsize > INT32_MAX))
			break;
		total += bsize;
		next = s->base + s->tab[k].rel_last + 1;
	}
	out->ref.off = start;
	out->ref.len = (int32_t)total;
	out->next_offset = next;
	return 1;
}

/* Collect through the sparse index and a header scan; 1 if answered. */
static int read_scan(struct plog *l, struct segment *s, int64_t offset, int64_t upto,
                     int32_t max_bytes, struct plog_slice *out)
{
	int r = index_load(s, l->dir, &l->cfg);
	if (r < 0)
		return r;
	struct seg_scan sc;
	struct scan_batch b;
	seg_scan_init(&sc, s->fd, index_lookup(s, offset), direct_readable_end(l, s));
	int found = 0;
	int64_t total = 0, seen = offset;
	while (seg_scan_next(&sc, &b) == 1) {
		if (!found) {
			seen = b.last + 1;
			if (b.last < offset)
				continue;
			found = 1;
			out->first_offset = out->next_offset = b.base;
			if (b.base >= upto)
				break;
			out->ref.off = b.pos;
			total = b.size;
			out->next_offset = b.last + 1;
			continue;
		}
		if (b.base >= upto || total + b.size > max_bytes || total + b.size > INT32_MAX)
			break;
		total += b.size;
		out->next_offset = b.last + 1;
	}
	r = sc.err;
	bool torn = sc.torn;
	int64_t stop = sc.pos;
	seg_scan_release(&sc);
	if (r < 0)
		return r;
	/* Bytes that are no batch where the offset should be: never skip them
	 * silently to the next segment. */
	if (!found && torn)
		return log__read_corrupt(l, plog_find_segment(l, s->base), stop,
		                         seen < offset ? seen : offset);
	out->ref.len = (int32_t)total;
	return found;
}

/*
 * Consumers read on from where a read ends: start the kernel reading the
 * slice and what follows it, up to READ_AHEAD bytes, once the previous
 * readahead is half used. The sendfile that serves the slice runs on the
 * loop thread and would otherwise wait for the device page by page, and
 * direct writes leave freshly written data out of the page cache.
 */
#define READ_AHEAD (4 * 1024 * 1024)

static void read_ahead(struct segment *s, int64_t pos, int64_t readable_end)
{
	if (s->ra_end > readable_end)
		s->ra_end = 0; /* truncated since */
	if (pos + READ_AHEAD / 2 <= s->ra_end)
		return;
	int64_t from = pos > s->ra_end ? pos : s->ra_end;
	int64_t to = pos + READ_AHEAD < readable_end ? pos + READ_AHEAD : readable_end;
	if (to <= from)
		return;
	file_read_ahead(s->fd, from, to - from);
	s->ra_end = to;
}

int plog_read(struct plog *l, int64_t offset, int64_t upto, int32_t max_bytes,
              struct plog_slice *out)
{
	memset(out, 0, sizeof(*out));
	out->ref.fd = -1;
	out->ref.release = slice_noop;
	out->first_offset = out->next_offset = offset;
	if (offset < l->start_offset || offset > l->leo)
		return ERR_OUT_OF_RANGE;
	if (offset >= l->leo || offset >= upto)
		return 0;
	if (offset >= l->read_offline_from)
		return ERR_STORAGE;
	if (upto > l->read_offline_from)
		upto = l->read_offline_from;
	if (direct_pending(l) && upto > l->written) {
		/* Staged appends are not in the files yet. */
		upto = l->written;
		if (offset >= upto)
			return 0;
	}
	int i = plog_find_segment(l, offset);
	if (i < 0)
		i = 0;
	for (; i < l->nsegs; i++) {
		struct segment *s = l->segs[i];
		if (offset >= plog_seg_end(l, i) || s->size == 0)
			continue;
		int r = segment_open_fd(s, l->dir);
		if (r < 0)
			return r;
		if (s->ntab > 0 && offset >= s->tab_base)
			r = read_table(s, offset, upto, max_bytes, out);
		else
			r = read_scan(l, s, offset, upto, max_bytes, out);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		if (out->ref.len > 0 && (r = log__verify_slice(l, i, out)) < 0)
			return r;
		if (out->ref.len > 0) {
			read_ahead(s, out->ref.off, direct_readable_end(l, s));
			segment_ref(s);
			out->ref.fd = s->fd;
			out->ref.release = slice_release;
			out->ref.ctx = s;
		}
		return 0;
	}
	return 0;
}

/* ---- group commit ---- */

static int add_fd(struct plog_sync *s, int fd)
{
	int d = file_dup(fd);
	if (d < 0)
		return d;
	s->trim_to[s->nfds] = -1;
	s->fds[s->nfds++] = d;
	return 0;
}

/*
 * Where page-cache dropping must stop: segment index *seg and byte position
 * *pos within it. That is cfg.cache_tail_bytes before the end of the log, or
 * the position of the last checkpointed recovery point if that comes first
 * (a crash recovery checks what follows it, and should find it cached).
 * *seg = -1: drop nothing.
 */
static void cache_keep_start(const struct plog *l, int *seg, int64_t *pos)
{
	*seg = -1;
	*pos = 0;
	int64_t keep = l->cfg.cache_tail_bytes;
	if (keep < 0 || l->ck_seg < 0)
		return;
	int ck = plog_find_segment(l, l->ck_seg);
	if (ck < 0 || l->segs[ck]->base != l->ck_seg)
		return; /* its segment is gone or not found: wait for the next checkpoint */
	int i = l->nsegs - 1;
	for (; i >= 0; i--) {
		int64_t size = l->segs[i]->size;
		if (size >= keep)
			break;
		keep -= size;
	}
	int tail_seg = i < 0 ? 0 : i;
	int64_t tail_pos = i < 0 ? 0 : l->segs[i]->size - keep;
	if (ck < tail_seg || (ck == tail_seg && l->ck_pos < tail_pos)) {
		*seg = ck;
		*pos = l->ck_pos;
	} else {
		*seg = tail_seg;
		*pos = tail_pos;
	}
}

/*
 * The part of segment i's .log to drop from the page cache once this sync
 * made it durable: from what was dropped before up to where keeping starts.
 * Both ends sit on CACHE_DROP_ALIGN: the kernel keeps a large folio that a
 * range only partly covers, and the next range would start past it.
 */
#define CACHE_DROP_ALIGN (2 * 1024 * 1024)

static int64_t cache_drop_end(struct segment *g, int i, int keep_seg, int64_t keep_pos)
{
	if (g->cache_dropped > g->size)
		g->cache_dropped = g->size - g->size % CACHE_DROP_ALIGN; /* truncated since */
	if (keep_seg < 0 || i > keep_seg)
		return g->cache_dropped;
	int64_t end = i < keep_seg ? g->size : keep_pos;
	if (end < g->size)
		end -= end % CACHE_DROP_ALIGN;
	return end > g->cache_dropped ? end : g->cache_dropped;
}

static void plan_cache_drop(struct plog_sync *s, int slot, struct segment *g, int i, int keep_seg,
                            int64_t keep_pos)
{
	int64_t end = cache_drop_end(g, i, keep_seg, keep_pos);
	s->drop_off[slot] = g->cache_dropped;
	s->drop_len[slot] = end - g->cache_dropped;
	g->cache_dropped = end;
}

#define EARLY_SYNC_MIN        (8 * 1024 * 1024)
#define EARLY_SYNC_STAGED_MIN (64 * 1024 * 1024)

bool plog_sync_frees_cache(const struct plog *l)
{
	if (l->sync_inflight || l->failed || l->cfg.cache_tail_bytes < 0)
		return false;
	/*
	 * Staged appends bypass the page cache, so a log writing directly has
	 * little to drop; it still syncs now and then, so the recovery point a
	 * crash restarts from stays recent. Its acks wait for such a sync (it
	 * also writes what is staged), hence the larger step.
	 */
	int64_t min = direct_pending(l) ? EARLY_SYNC_STAGED_MIN : EARLY_SYNC_MIN;
	/* Bytes between the synced position and the start of the cached tail. */
	int64_t keep = l->cfg.cache_tail_bytes, behind = -keep;
	for (int i = l->nsegs - 1; i >= 0; i--) {
		const struct segment *g = l->segs[i];
		if (g->base == l->synced_seg) {
			behind += g->size - l->synced_pos;
			return behind >= min;
		}
		behind += g->size;
		if (behind >= min)
			return true;
	}
	return behind >= min;
}

/*
 * Give back what prepare took. written: the staged appends the job covered
 * are in the files now; otherwise they stay staged, so reads and acks keep
 * stopping before them (the log is failed, and recovery cuts them off).
 */
static void sync_release(struct plog_sync *s, bool written)
{
	struct plog *l = s->log;
	if (s->direct) {
		direct_io_release(s->direct);
		free(s->direct);
		s->direct = NULL;
		if (written)
			direct_complete(l);
		else
			l->dl.njob = 0;
	}
	for (int i = 0; i < s->nfds; i++)
		file_close(s->fds[i]);
	s->nfds = 0;
	file_close(s->dir_fd);
	file_close(s->parent_dir_fd);
	s->dir_fd = s->parent_dir_fd = -1;
	for (int i = 0; i < l->nsync_segs; i++)
		segment_unref(l->sync_segs[i]);
	l->nsync_segs = 0;
	l->sync_inflight = false;
}

/* The staged appends a job writes first (s->direct); 0 or -errno. */
static int prepare_direct(struct plog *l, struct plog_sync *s)
{
	s->direct = calloc(1, sizeof(*s->direct));
	if (!s->direct)
		abort();
	int r = direct_prepare(l, s->direct);
	if (r < 0) {
		free(s->direct);
		s->direct = NULL;
	}
	return r;
}

int plog_sync_prepare(struct plog *l, struct plog_sync *s)
{
	memset(s, 0, sizeof(*s));
	s->log = l;
	s->dir_fd = s->parent_dir_fd = -1;
	if (l->sync_inflight || l->failed)
		return 0;
	int64_t target = l->leo;
	s->target_seg = plog_active(l)->base;
	s->target_pos = plog_active(l)->size;
	int r = 0;
	int keep_seg;
	int64_t keep_pos;
	cache_keep_start(l, &keep_seg, &keep_pos);
	l->nsync_segs = 0;
	for (int i = 0; i < l->nsegs; i++) {
		struct segment *g = l->segs[i];
		bool idx = g->idx_dirty && !g->active;
		/* A sealed segment loses the padding of its last direct write here,
		 * before the sync that makes the cut durable. */
		bool trim = i + 1 < l->nsegs && (g->padded || direct_has_extents(l, g));
		bool data = g->dirty || trim;
		if (!data && !idx)
			continue;
		int need = (data ? 1 : 0) + (idx && g->idx_fd >= 0) + (idx && g->tidx_fd >= 0);
		if (s->nfds + need > (int)ARRAY_SIZE(s->fds)) {
			target = g->base;
			s->target_seg = g->base;
			s->target_pos = 0;
			break;
		}
		if (trim && g->fd < 0)
			r = segment_open_fd(g, l->dir);
		if (r == 0 && data && g->fd >= 0) {
			plan_cache_drop(s, s->nfds, g, i, keep_seg, keep_pos);
			r = add_fd(s, g->fd);
			if (r == 0 && trim)
				s->trim_to[s->nfds - 1] = g->size;
		}
		if (r == 0 && idx && g->idx_fd >= 0)
			r = add_fd(s, g->idx_fd);
		if (r == 0 && idx && g->tidx_fd >= 0)
			r = add_fd(s, g->tidx_fd);
		segment_ref(g);
		l->sync_segs[l->nsync_segs] = g;
		l->sync_gen[l->nsync_segs] = g->wgen;
		l->sync_trim[l->nsync_segs] = trim && r == 0;
		l->nsync_segs++;
		if (r < 0)
			break;
	}
	if (r == 0 && direct_pending(l))
		r = prepare_direct(l, s);
	if (r == 0 && l->dir_dirty) {
		r = s->dir_fd = file_open_dir(l->dir);
		if (r >= 0) {
			r = 0;
			l->dir_dirty = false;
		}
	}
	if (r == 0 && l->parent_dirty) {
		r = s->parent_dir_fd = file_open_dir(l->d->path);
		if (r >= 0) {
			r = 0;
			l->parent_dirty = false;
		}
	}
	if (r < 0) {
		s->dir_fd = s->dir_fd < 0 ? -1 : s->dir_fd;
		s->parent_dir_fd = s->parent_dir_fd < 0 ? -1 : s->parent_dir_fd;
		sync_release(s, false);
		fail_log(l, r, "sync prepare");
		return r;
	}
	if (s->nfds == 0 && s->dir_fd < 0 && s->parent_dir_fd < 0 && !s->direct) {
		sync_release(s, false);
		/* Nothing unsynced: everything written is already durable. */
		if (target == l->leo && l->durable < l->leo)
			l->durable = l->leo;
		if (target == l->leo)
			l->unflushed = 0;
		return 0;
	}
	l->sync_inflight = true;
	l->sync_trunc_gen = l->trunc_gen;
	l->sync_msgs = target == l->leo ? l->unflushed : 0;
	s->target_offset = target;
	return 1;
}

int plog_write_prepare(struct plog *l, struct plog_sync *s)
{
	memset(s, 0, sizeof(*s));
	s->log = l;
	s->dir_fd = s->parent_dir_fd = -1;
	s->write_only = true;
	if (l->sync_inflight || l->failed || !direct_pending(l))
		return 0;
	int r = prepare_direct(l, s);
	if (r < 0) {
		fail_log(l, r, "write prepare");
		return r;
	}
	l->nsync_segs = 0;
	l->sync_inflight = true;
	l->sync_trunc_gen = l->trunc_gen;
	s->target_offset = l->leo;
	return 1;
}

/* What a job does before the sync itself: staged writes, padding cut off. */
static int sync_run_writes(struct plog_sync *s)
{
	int err = s->direct ? direct_write(s->direct) : 0;
	for (int i = 0; i < s->nfds && !err; i++)
		if (s->trim_to[i] >= 0)
			err = file_truncate(s->fds[i], s->trim_to[i]);
	return err;
}

/* Durable now, so clean: the dropped pages go back to be reused. */
static void sync_run_drop(struct plog_sync *s)
{
	for (int i = 0; i < s->nfds; i++)
		file_drop_cache(s->fds[i], s->drop_off[i], s->drop_len[i]);
}

/* The sync itself, file by file: each file's data, then new names. */
static int sync_run_files(struct plog_sync *s)
{
	int err = 0;
	for (int i = 0; i < s->nfds && !err; i++)
		err = file_fdatasync(s->fds[i]);
	if (!err && s->dir_fd >= 0)
		err = file_fsync(s->dir_fd);
	if (!err && s->parent_dir_fd >= 0)
		err = file_fsync(s->parent_dir_fd);
	return err;
}

void plog_sync_run(struct plog_sync *s)
{
	int64_t t0 = clock_mono_ns();
	int err = sync_run_writes(s);
	if (!err)
		err = sync_run_files(s);
	if (!err)
		sync_run_drop(s);
	s->err = err;
	s->latency_ns = clock_mono_ns() - t0;
}

/* Any descriptor of the job, to name its file system; -1 if it has none. */
static int sync_any_fd(const struct plog_sync *s)
{
	if (s->nfds > 0)
		return s->fds[0];
	return s->dir_fd >= 0 ? s->dir_fd : s->parent_dir_fd;
}

#define SYNCFS_MAX_DEVS 8

static pthread_once_t syncfs_once = PTHREAD_ONCE_INIT;
static bool syncfs_safe; /* syncfs reports write-back errors (Linux 5.8 on) */

static void syncfs_check(void)
{
	syncfs_safe = file_syncfs_reports_errors();
	if (!syncfs_safe)
		LOG_WARN("this kernel's syncfs does not report write errors: partitions synced "
		         "together use an fdatasync each");
}

void plog_sync_run_group(struct plog_sync *const *v, int n)
{
	int64_t t0 = clock_mono_ns();
	struct {
		dev_t dev;
		int err;
	} fs[SYNCFS_MAX_DEVS];
	int nfs = 0;
	pthread_once(&syncfs_once, syncfs_check);
	for (int i = 0; i < n; i++)
		v[i]->err = sync_run_writes(v[i]);
	for (int i = 0; i < n; i++) {
		struct plog_sync *s = v[i];
		if (s->err)
			continue;
		int fd = sync_any_fd(s), k = nfs;
		struct stat st;
		if (fd >= 0 && syncfs_safe && fstat(fd, &st) == 0) {
			for (k = 0; k < nfs && fs[k].dev != st.st_dev; k++)
				;
			if (k == nfs && nfs < SYNCFS_MAX_DEVS) {
				fs[nfs].dev = st.st_dev;
				fs[nfs].err = file_syncfs(fd);
				nfs++;
			}
		}
		/* Covered by its file system's syncfs, or (none to share) synced alone. */
		s->err = k < nfs ? fs[k].err : sync_run_files(s);
		for (int f = 0; k < nfs && f < s->nfds && !s->err; f++)
			s->err = file_check_written(s->fds[f]);
		if (!s->err)
			sync_run_drop(s);
	}
	int64_t took = clock_mono_ns() - t0;
	for (int i = 0; i < n; i++)
		v[i]->latency_ns = took;
}

void plog_sync_complete(struct plog_sync *s)
{
	struct plog *l = s->log;
	if (!l->sync_inflight)
		return;
	if (s->err) {
		sync_release(s, false);
		fail_log(l, s->err, s->write_only ? "write" : "fsync");
	} else if (s->write_only) {
		sync_release(s, true);
		if (l->trunc_gen == l->sync_trunc_gen && s->target_offset > l->written)
			l->written = s->target_offset < l->leo ? s->target_offset : l->leo;
	} else {
		for (int i = 0; i < l->nsync_segs; i++) {
			struct segment *g = l->sync_segs[i];
			if (l->sync_trim[i] && l->trunc_gen == l->sync_trunc_gen)
				g->padded = false;
			if (g->wgen != l->sync_gen[i])
				continue;
			g->dirty = false;
			if (g->idx_dirty && !g->active) {
				g->idx_dirty = false;
				if (g != plog_active(l))
					segment_close_index_fds(g);
			}
		}
		sync_release(s, true);
		if (l->trunc_gen == l->sync_trunc_gen) {
			int64_t t = s->target_offset < l->leo ? s->target_offset : l->leo;
			if (t > l->durable)
				l->durable = t;
			if (t > l->written)
				l->written = t;
			l->synced_seg = s->target_seg;
			l->synced_pos = s->target_pos;
			l->unflushed -= l->sync_msgs;
			if (l->unflushed < 0)
				l->unflushed = 0;
		} else if (l->durable > l->leo) {
			l->durable = l->leo;
		}
	}
	if (l->free_after_sync)
		plog_free(l);
}

int plog_sync_now(struct plog *l)
{
	struct plog_sync s;
	int r;
	while ((r = plog_sync_prepare(l, &s)) == 1) {
		plog_sync_run(&s);
		int err = s.err;
		plog_sync_complete(&s);
		if (err)
			return err;
	}
	return r < 0 ? r : (l->failed ? ERR_STORAGE : 0);
}
