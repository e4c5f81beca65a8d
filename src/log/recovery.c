/*
 * recovery.c: opening a partition log — listing its folder, recovering the
 * tail after an unclean shutdown, and the leader-epoch cache.
 *
 * What is read at open:
 *   - the folder listing and the size of each .log (stat): always;
 *   - leader-epoch-checkpoint: always (a few bytes);
 *   - after a clean shutdown, with the partition in the recovery-point
 *     checkpoint: nothing else. The log end offset is the recovery point (a
 *     clean close syncs everything and checkpoints the end), and indexes are
 *     loaded lazily and checked when first used;
 *   - otherwise the segments from the one holding the recovery point (all of
 *     them when the partition has no recovery point) are scanned batch by
 *     batch: sizes, magic, CRC-32C (batch_validate), offsets increasing. The
 *     first bad or torn batch and everything after it is truncated (later
 *     segments are removed), and the scanned segments' indexes are rebuilt.
 *
 * Leftovers removed at open: "*.deleted" (retention that had not finished),
 * "*.tmp", and index files without a .log; before that, a cleaning that a
 * crash interrupted is completed or discarded (log__cleaner_recover).
 *
 * leader-epoch-checkpoint (Kafka's text format):
 *     0                  version
 *     <count>
 *     <epoch> <startOffset>   count lines, epochs and offsets increasing
 * It is rewritten (temp file + rename, no fsync) when an append brings a new
 * epoch or a truncation drops entries; logdir_checkpoint() does not touch it.
 * After an unclean shutdown the scan re-derives entries from the batches'
 * partitionLeaderEpoch, so a lost update is repaired.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/err.h"
#include "base/logging.h"
#include "io/file.h"
#include "log/log_int.h"
#include "proto/batch.h"

atomic_llong plog__scanned_bytes;

int64_t plog_recovery_scanned_bytes(void)
{
	return (int64_t)atomic_load(&plog__scanned_bytes);
}

/* ---- leader epochs ---- */

void epochs_on_batch(struct plog *l, int32_t epoch, int64_t base)
{
	if (epoch < 0 || (l->nepochs > 0 && epoch <= l->epochs[l->nepochs - 1].epoch))
		return;
	if (l->nepochs == l->cap_epochs) {
		l->cap_epochs = l->cap_epochs ? l->cap_epochs * 2 : 4;
		l->epochs = realloc(l->epochs, (size_t)l->cap_epochs * sizeof(*l->epochs));
		if (!l->epochs)
			abort();
	}
	l->epochs[l->nepochs].epoch = epoch;
	l->epochs[l->nepochs].start = base;
	l->nepochs++;
}

void epochs_truncate(struct plog *l, int64_t end)
{
	while (l->nepochs > 0 && l->epochs[l->nepochs - 1].start >= end)
		l->nepochs--;
}

int epochs_write(struct plog *l, bool sync)
{
	size_t cap = 32 + (size_t)l->nepochs * 34;
	char *buf = malloc(cap);
	if (!buf)
		abort();
	size_t n = (size_t)snprintf(buf, cap, "0\n%d\n", l->nepochs);
	for (int i = 0; i < l->nepochs; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%" PRId32 " %" PRId64 "\n",
		                      l->epochs[i].epoch, l->epochs[i].start);
	char path[PATH_MAX_LEN];
	snprintf(path, sizeof(path), "%s/leader-epoch-checkpoint", l->dir);
	int r = file_write_atomic(path, buf, n, sync);
	free(buf);
	return r;
}

/* Parse a decimal integer (optional '-') at *p, skipping blanks before it. */
bool log__parse_i64(const char **p, int64_t *out)
{
	const char *s = *p;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	bool neg = *s == '-';
	if (neg)
		s++;
	if (*s < '0' || *s > '9')
		return false;
	int64_t v = 0;
	while (*s >= '0' && *s <= '9') {
		if (v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (*s - '0');
		s++;
	}
	*out = neg ? -v : v;
	*p = s;
	return true;
}

static void epochs_load(struct plog *l)
{
	char path[PATH_MAX_LEN], *data;
	snprintf(path, sizeof(path), "%s/leader-epoch-checkpoint", l->dir);
	if (file_read_all(path, 1 << 24, &data) < 0)
		return;
	const char *p = data;
	int64_t ver, count, e, off;
	if (log__parse_i64(&p, &ver) && ver == 0 && log__parse_i64(&p, &count) && count >= 0) {
		for (int64_t i = 0; i < count; i++) {
			if (!log__parse_i64(&p, &e) || !log__parse_i64(&p, &off) || e < 0 ||
			    e > INT32_MAX)
				break;
			epochs_on_batch(l, (int32_t)e, off);
		}
	} else {
		LOG_WARN("%s: unreadable, ignored", path);
	}
	free(data);
}

/* ---- segment scan ---- */

int segment_recover(struct plog *l, struct segment *s, int64_t check_from, int64_t *prev_last)
{
	bool validate = check_from != SCAN_CHECK_NONE;
	int64_t checked_from = -1; /* position of the first CRC-checked batch */
	int r = segment_open_fd(s, l->dir);
	if (r < 0)
		return r;
	int64_t fsize;
	r = file_size(s->fd, &fsize);
	if (r < 0)
		return r;
	s->nidx = s->ntidx = 0;
	s->bytes_since_idx = 0;
	s->max_ts = s->max_ts_off = -1;
	s->ntab = 0;
	s->first_ms = -1;

	struct seg_scan sc;
	struct scan_batch b;
	int64_t valid_end = 0;
	seg_scan_init(&sc, s->fd, 0, fsize);
	while (seg_scan_next(&sc, &b) == 1) {
		if (validate && b.last >= check_from) {
			const uint8_t *p = seg_scan_bytes(&sc, &b);
			/* Cleaned batches may have offset gaps (cleaner.c). */
			if (!p || log__batch_check(p, (size_t)b.size) != 0)
				break;
			if (checked_from < 0)
				checked_from = b.pos;
		}
		if (b.base <= *prev_last || b.base < s->base || b.last - s->base > INT32_MAX ||
		    b.pos + b.size > UINT32_MAX)
			break;
		index_on_batch(s, b.last, b.pos, b.size, b.max_ts, &l->cfg);
		segment_tab_push(s, b.base, b.last, b.pos);
		epochs_on_batch(l, b.epoch, b.base);
		if (s->first_ms < 0 && b.max_ts >= 0)
			s->first_ms = b.max_ts;
		*prev_last = b.last;
		valid_end = b.pos + b.size;
	}
	r = sc.err;
	seg_scan_release(&sc);
	atomic_fetch_add(&plog__scanned_bytes, (long long)valid_end);
	if (r < 0)
		return r;
	s->size = valid_end;
	if (validate && checked_from == 0) {
		s->ver_end = valid_end; /* checked batch by batch just now */
		s->ver_lo = s->ver_hi = 0;
	} else if (validate) {
		/* Headers walked, not checked, up to checked_from: read checks them. */
		s->ver_end = 0;
		s->ver_lo = checked_from < 0 ? 0 : checked_from;
		s->ver_hi = checked_from < 0 ? 0 : valid_end;
	} else {
		if (s->ver_end > valid_end)
			s->ver_end = valid_end;
		if (s->ver_hi > valid_end)
			s->ver_hi = valid_end;
		if (s->ver_lo >= s->ver_hi)
			s->ver_lo = s->ver_hi = 0;
	}
	s->end_offset = s->ntab > 0 || valid_end > 0 ? *prev_last + 1 : s->base;
	s->idx_loaded = true;
	s->max_ts_known = true;
	if (valid_end < fsize) {
		if (fsize % DIRECT_BLOCK == 0 && fsize - valid_end < DIRECT_BLOCK)
			LOG_INFO("%s/%020lld.log: cutting %lld bytes after the last batch "
			         "(the padded last block of a direct write)",
			         l->dir, (long long)s->base, (long long)(fsize - valid_end));
		else
			LOG_WARN("%s/%020lld.log: truncating %lld bytes of torn or corrupt data "
			         "at %lld",
			         l->dir, (long long)s->base, (long long)(fsize - valid_end),
			         (long long)valid_end);
		r = file_truncate(s->fd, valid_end);
		if (r < 0)
			return r;
		s->dirty = true;
		s->wgen++;
		return 1;
	}
	return 0;
}

/* ---- open ---- */

static bool parse_base(const char *name, const char *ext, int64_t *base)
{
	size_t n = strlen(name), e = strlen(ext);
	if (n != 20 + e || strcmp(name + 20, ext) != 0)
		return false;
	int64_t v = 0;
	for (int i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9' || v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (name[i] - '0');
	}
	*base = v;
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct segment *x = *(struct segment *const *)a, *y = *(struct segment *const *)b;
	return x->base < y->base ? -1 : x->base > y->base;
}

static void push_seg(struct plog *l, struct segment *s)
{
	if (l->nsegs == l->cap_segs) {
		l->cap_segs = l->cap_segs ? l->cap_segs * 2 : 4;
		l->segs = realloc(l->segs, (size_t)l->cap_segs * sizeof(*l->segs));
		if (!l->segs)
			abort();
	}
	l->segs[l->nsegs++] = s;
}

static char *str_dup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (!p)
		abort();
	memcpy(p, s, n);
	return p;
}

/* List the folder: segments into l->segs, leftovers removed. */
static int list_folder(struct plog *l)
{
	DIR *dir = opendir(l->dir);
	if (!dir)
		return -errno;
	char path[PATH_MAX_LEN];
	char **orphans = NULL;
	int norphans = 0;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		int64_t base;
		const char *name = e->d_name;
		if (ends_with(name, ".deleted") || ends_with(name, ".tmp")) {
			snprintf(path, sizeof(path), "%s/%s", l->dir, name);
			file_unlink(path);
		} else if (parse_base(name, ".log", &base)) {
			push_seg(l, segment_new(base));
		} else if (parse_base(name, ".index", &base) ||
		           parse_base(name, ".timeindex", &base)) {
			orphans = realloc(orphans, (size_t)(norphans + 1) * sizeof(*orphans));
			if (!orphans)
				abort();
			orphans[norphans++] = str_dup(name);
		}
	}
	closedir(dir);
	if (l->nsegs > 1)
		qsort(l->segs, (size_t)l->nsegs, sizeof(*l->segs), cmp_seg);
	for (int i = 0; i < norphans; i++) {
		int64_t base = -1;
		if (!parse_base(orphans[i], ".index", &base))
			parse_base(orphans[i], ".timeindex", &base);
		bool found = false;
		for (int j = 0; j < l->nsegs && !found; j++)
			found = l->segs[j]->base == base;
		if (!found) {
			snprintf(path, sizeof(path), "%s/%s", l->dir, orphans[i]);
			file_unlink(path);
		}
		free(orphans[i]);
	}
	free(orphans);
	for (int i = 0; i < l->nsegs; i++) {
		seg_path(path, sizeof(path), l->dir, l->segs[i]->base, ".log");
		int r = file_stat_size(path, &l->segs[i]->size);
		if (r < 0)
			return r;
		l->size_bytes += l->segs[i]->size;
		if (i > 0)
			l->segs[i - 1]->end_offset = l->segs[i]->base;
	}
	return 0;
}

static void remove_segment_files(struct plog *l, struct segment *s)
{
	static const char *const exts[] = {".log", ".index", ".timeindex"};
	char path[PATH_MAX_LEN];
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		seg_path(path, sizeof(path), l->dir, s->base, exts[i]);
		file_unlink(path);
	}
}

/* Which segment recovery starts at (nsegs = none). */
static int first_to_scan(const struct plog *l, bool clean, int64_t rp)
{
	if (rp < 0)
		return 0;
	const struct segment *last = l->segs[l->nsegs - 1];
	if (clean && ((last->size == 0 && rp == last->base) || (last->size > 0 && rp > last->base)))
		return l->nsegs;
	int i = plog_find_segment(l, rp);
	return i < 0 ? 0 : i;
}

/*
 * Scan from segment first on. Batches wholly before the recovery point rp
 * were synced before it was checkpointed: their headers are walked (indexes
 * and offsets rebuilt) but their data is not read, so the work after a crash
 * follows what was written since the last checkpoint, not the segment size.
 */
static int recover(struct plog *l, int first, int64_t rp)
{
	int64_t prev_last = l->segs[first]->base - 1;
	for (int i = first; i < l->nsegs; i++) {
		struct segment *s = l->segs[i];
		int r = segment_recover(l, s, rp >= 0 ? rp : SCAN_CHECK_ALL, &prev_last);
		if (r < 0)
			return r;
		s->dirty = true; /* bytes may sit in the page cache only */
		s->wgen++;
		/* Bytes cut after a sealed segment's last batch (the padding of a
		 * direct write) lose nothing when the next segment starts right
		 * after it; a gap means data was lost, and what follows goes. */
		if (r == 1 && i + 1 < l->nsegs && prev_last + 1 != l->segs[i + 1]->base) {
			for (int j = i + 1; j < l->nsegs; j++) {
				LOG_WARN("%s: removing segment %lld after corruption", l->dir,
				         (long long)l->segs[j]->base);
				remove_segment_files(l, l->segs[j]);
				segment_unref(l->segs[j]);
			}
			l->nsegs = i + 1;
		}
	}
	for (int i = first; i < l->nsegs; i++) {
		struct segment *s = l->segs[i];
		bool sealed = i + 1 < l->nsegs;
		if (sealed) {
			index_seal(s);
			if (i + 2 < l->nsegs)
				segment_drop_table(s);
		}
		/* Sealed segments' rebuilt indexes are synced with their data. */
		int r = index_write_files(s, l->dir, sealed);
		if (r < 0)
			return r;
		s->idx_dirty = sealed;
	}
	l->size_bytes = 0;
	for (int i = 0; i < l->nsegs; i++)
		l->size_bytes += l->segs[i]->size;
	return 0;
}

int plog_open_dir(struct logdir *d, const char *topic, int32_t partition,
                  const struct log_config *cfg, bool create, struct plog **out)
{
	char dir[PATH_MAX_LEN];
	*out = NULL;
	snprintf(dir, sizeof(dir), "%s/%s-%d", d->path, topic, (int)partition);
	struct stat st;
	bool fresh = false;
	if (stat(dir, &st) < 0) {
		if (!create)
			return ERR_NOT_FOUND;
		int r = file_mkdir(dir, 0755);
		if (r < 0)
			return r;
		fresh = true;
	}
	struct plog *l = calloc(1, sizeof(*l));
	if (!l)
		abort();
	l->d = d;
	l->topic = str_dup(topic);
	l->partition = partition;
	l->dir = str_dup(dir);
	l->cfg = *cfg;
	l->parent_dirty = fresh;
	l->read_offline_from = INT64_MAX;
	l->synced_seg = l->synced_pos = l->ck_seg = l->ck_pos = -1;

	/* A cleaning interrupted by a crash is completed or discarded first. */
	int r = fresh ? 0 : log__cleaner_recover(l->dir);
	if (r == 0)
		r = list_folder(l);
	if (r < 0)
		goto fail;
	int64_t rp = fresh ? -1 : ckpt_get(&d->recovery, topic, partition);
	int64_t start_ck = fresh ? -1 : ckpt_get(&d->start, topic, partition);
	int64_t hw_ck = fresh ? -1 : ckpt_get(&d->hw, topic, partition);
	epochs_load(l);
	int nep = l->nepochs;

	bool created = l->nsegs == 0;
	if (created) {
		struct segment *s = segment_new(start_ck > 0 ? start_ck : 0);
		push_seg(l, s);
		r = segment_create(s, l->dir);
		if (r < 0)
			goto fail;
		l->dir_dirty = true;
		rp = s->base;
	}
	/* A log created just now has nothing to recover. */
	int first = created ? l->nsegs : first_to_scan(l, d->was_clean, rp);
	if (first < l->nsegs) {
		LOG_INFO("%s: recovering from segment %lld (recovery point %lld)", l->dir,
		         (long long)l->segs[first]->base, (long long)rp);
		r = recover(l, first, rp);
		if (r < 0)
			goto fail;
		l->leo = l->segs[l->nsegs - 1]->end_offset;
		/*
		 * What recovery kept may sit only in the page cache (the process
		 * died, not the machine): sync it once, then it is durable and
		 * may be served. If the sync fails, only the recovery point is.
		 */
		l->durable = rp >= 0 ? rp : l->segs[0]->base;
		bool synced = true;
		for (int i = first; i < l->nsegs; i++) {
			struct segment *s = l->segs[i];
			if (s->fd >= 0 && file_fdatasync(s->fd) < 0)
				synced = false;
		}
		if (synced)
			l->durable = l->leo;
		if (l->durable > l->leo)
			l->durable = l->leo;
	} else {
		l->leo = rp;
		l->durable = rp;
	}
	l->segs[l->nsegs - 1]->end_offset = l->leo;
	l->start_offset = l->segs[0]->base;
	if (start_ck > l->start_offset)
		l->start_offset = start_ck;
	if (l->start_offset > l->leo)
		l->start_offset = l->leo;
	l->hw = hw_ck >= l->start_offset ? (hw_ck < l->leo ? hw_ck : l->leo) : l->start_offset;
	epochs_truncate(l, l->leo);
	if (l->nepochs != nep || first < l->nsegs)
		epochs_write(l, false);
	*out = l;
	return 0;
fail:
	LOG_ERROR("%s: cannot open log: %s", dir, err_str(r));
	plog_free(l);
	return r;
}

void plog_free(struct plog *l)
{
	if (!l)
		return;
	direct_discard(l);
	for (int i = 0; i < l->nsegs; i++)
		segment_unref(l->segs[i]);
	for (int i = 0; i < l->ndels; i++)
		free(l->dels[i].path);
	free(l->dels);
	free(l->segs);
	free(l->epochs);
	free(l->topic);
	free(l->dir);
	free(l);
}
