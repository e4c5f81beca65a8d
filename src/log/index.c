/*
 * index.c: the two sparse indexes of a segment, in Kafka's file formats.
 *
 * <base>.index: 8-byte entries, big-endian
 *     relativeOffset u32 (an offset minus the segment base; here the last
 *                         offset of a batch, as Kafka writes it)
 *     position       u32 (byte position of that batch in the .log)
 *   One entry each time more than index.interval.bytes of batches were
 *   appended since the previous entry. Offsets and positions increase.
 *
 * <base>.timeindex: 12-byte entries, big-endian
 *     timestamp      i64 (largest batch max timestamp so far in the segment)
 *     relativeOffset u32 (last offset of the batch that first reached it)
 *   Written next to an offset-index entry when the max timestamp grew, plus
 *   one final entry when the segment is sealed (rolled or closed), so the
 *   last entry always holds the segment's largest timestamp.
 *
 * While a segment is active its entries are kept in memory only; the files
 * are written whole (no preallocation) when it is sealed or closed cleanly,
 * so a file's size is a whole number of entries unless a crash cut one. Sealed segments load their
 * indexes lazily on first lookup and keep them in memory. A loaded index is checked (size multiple
 * of the entry size, increasing, within the log); a bad one is rebuilt by scanning the segment's
 * batch headers.
 *
 * Left to others: when entries are added (plog.c append, recovery.c scans).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/endian.h"
#include "base/err.h"
#include "base/logging.h"
#include "io/file.h"
#include "log/log_int.h"
#include "proto/batch.h"

static void idx_push(struct segment *s, uint32_t rel, uint32_t pos)
{
	if (s->nidx == s->cap_idx) {
		s->cap_idx = s->cap_idx ? s->cap_idx * 2 : 8;
		s->idx = realloc(s->idx, (size_t)s->cap_idx * sizeof(*s->idx));
		if (!s->idx)
			abort();
	}
	s->idx[s->nidx].rel = rel;
	s->idx[s->nidx].pos = pos;
	s->nidx++;
}

static void tidx_push(struct segment *s, int64_t ts, uint32_t rel)
{
	if (s->ntidx == s->cap_tidx) {
		s->cap_tidx = s->cap_tidx ? s->cap_tidx * 2 : 8;
		s->tidx = realloc(s->tidx, (size_t)s->cap_tidx * sizeof(*s->tidx));
		if (!s->tidx)
			abort();
	}
	s->tidx[s->ntidx].ts = ts;
	s->tidx[s->ntidx].rel = rel;
	s->ntidx++;
}

static void index_reset_mem(struct segment *s)
{
	s->nidx = s->ntidx = 0;
	s->bytes_since_idx = 0;
	s->max_ts = -1;
	s->max_ts_off = -1;
}

static int write_tidx_entry(struct segment *s, int i)
{
	if (s->tidx_fd < 0)
		return 0;
	uint8_t e[TIDX_ENTRY_SIZE];
	be64_store(e, (uint64_t)s->tidx[i].ts);
	be32_store(e + 8, s->tidx[i].rel);
	return file_pwrite(s->tidx_fd, e, sizeof(e), (int64_t)i * TIDX_ENTRY_SIZE);
}

int index_on_batch(struct segment *s, int64_t last, int64_t pos, int64_t size, int64_t max_ts,
                   const struct log_config *cfg)
{
	if (max_ts > s->max_ts) {
		s->max_ts = max_ts;
		s->max_ts_off = last;
	}
	int r = 0;
	if (s->bytes_since_idx > cfg->index_interval_bytes) {
		idx_push(s, (uint32_t)(last - s->base), (uint32_t)pos);
		if (s->idx_fd >= 0) {
			uint8_t e[IDX_ENTRY_SIZE];
			be32_store(e, (uint32_t)(last - s->base));
			be32_store(e + 4, (uint32_t)pos);
			r = file_pwrite(s->idx_fd, e, sizeof(e),
			                (int64_t)(s->nidx - 1) * IDX_ENTRY_SIZE);
		}
		if (r == 0 && s->max_ts >= 0 &&
		    (s->ntidx == 0 || s->max_ts > s->tidx[s->ntidx - 1].ts)) {
			tidx_push(s, s->max_ts, (uint32_t)(s->max_ts_off - s->base));
			r = write_tidx_entry(s, s->ntidx - 1);
		}
		s->bytes_since_idx = 0;
	}
	s->bytes_since_idx += size;
	return r;
}

int index_seal(struct segment *s)
{
	if (s->max_ts < 0 || (s->ntidx > 0 && s->tidx[s->ntidx - 1].ts >= s->max_ts))
		return 0;
	tidx_push(s, s->max_ts, (uint32_t)(s->max_ts_off - s->base));
	return write_tidx_entry(s, s->ntidx - 1);
}

bool index_full(const struct segment *s, const struct log_config *cfg)
{
	int64_t max_idx = cfg->segment_index_bytes / IDX_ENTRY_SIZE;
	int64_t max_tidx = cfg->segment_index_bytes / TIDX_ENTRY_SIZE;
	return s->nidx >= max_idx || s->ntidx >= max_tidx;
}

/* Replace the content of *fdp's file (opened from path if *fdp < 0). */
static int write_whole(int *fdp, const char *path, const uint8_t *p, size_t n, bool keep_open)
{
	int r;
	if (*fdp < 0) {
		int fd = file_open(path, O_RDWR | O_CREAT, 0644);
		if (fd < 0)
			return fd;
		*fdp = fd;
	}
	r = file_truncate(*fdp, 0);
	if (r == 0 && n > 0)
		r = file_pwrite(*fdp, p, n, 0);
	if (!keep_open) {
		file_close(*fdp);
		*fdp = -1;
	}
	return r;
}

int index_write_files(struct segment *s, const char *dir, bool keep_open)
{
	char path[PATH_MAX_LEN];
	size_t n = (size_t)s->nidx * IDX_ENTRY_SIZE;
	size_t m = (size_t)s->ntidx * TIDX_ENTRY_SIZE;
	uint8_t *buf = malloc((n > m ? n : m) + 1);
	if (!buf)
		abort();
	for (int i = 0; i < s->nidx; i++) {
		be32_store(buf + (size_t)i * IDX_ENTRY_SIZE, s->idx[i].rel);
		be32_store(buf + (size_t)i * IDX_ENTRY_SIZE + 4, s->idx[i].pos);
	}
	seg_path(path, sizeof(path), dir, s->base, ".index");
	int r = write_whole(&s->idx_fd, path, buf, n, keep_open);
	if (r == 0) {
		for (int i = 0; i < s->ntidx; i++) {
			be64_store(buf + (size_t)i * TIDX_ENTRY_SIZE, (uint64_t)s->tidx[i].ts);
			be32_store(buf + (size_t)i * TIDX_ENTRY_SIZE + 8, s->tidx[i].rel);
		}
		seg_path(path, sizeof(path), dir, s->base, ".timeindex");
		r = write_whole(&s->tidx_fd, path, buf, m, keep_open);
	}
	free(buf);
	return r;
}

/* Rebuild both indexes (and the max timestamp) by scanning batch headers. */
static int index_rebuild(struct segment *s, const char *dir, const struct log_config *cfg)
{
	int r = segment_open_fd(s, dir);
	if (r < 0)
		return r;
	LOG_WARN("rebuilding index of %s/%020lld.log", dir, (long long)s->base);
	index_reset_mem(s);
	struct seg_scan sc;
	struct scan_batch b;
	seg_scan_init(&sc, s->fd, 0, s->size);
	while (seg_scan_next(&sc, &b) == 1)
		index_on_batch(s, b.last, b.pos, b.size, b.max_ts, cfg);
	r = sc.err;
	seg_scan_release(&sc);
	if (r < 0)
		return r;
	if (!s->active)
		index_seal(s);
	s->idx_loaded = true;
	s->max_ts_known = true;
	return index_write_files(s, dir, s->idx_fd >= 0);
}

/* Read and check the offset index; 1 if it is sane. */
static int load_idx(struct segment *s, const char *dir)
{
	char path[PATH_MAX_LEN];
	char *data;
	seg_path(path, sizeof(path), dir, s->base, ".index");
	ssize_t n = file_read_all(path, (size_t)1 << 31, &data);
	if (n == -ENOENT)
		return s->size == 0;
	if (n < 0)
		return (int)n;
	int ok = n % IDX_ENTRY_SIZE == 0;
	s->nidx = 0;
	for (ssize_t off = 0; ok && off < n; off += IDX_ENTRY_SIZE) {
		uint32_t rel = be32_load(data + off), pos = be32_load(data + off + 4);
		if (pos >= s->size ||
		    (s->nidx > 0 &&
		     (rel <= s->idx[s->nidx - 1].rel || pos <= s->idx[s->nidx - 1].pos)) ||
		    (s->end_offset >= 0 && s->base + rel >= s->end_offset))
			ok = 0;
		else
			idx_push(s, rel, pos);
	}
	free(data);
	return ok;
}

static int load_tidx(struct segment *s, const char *dir)
{
	char path[PATH_MAX_LEN];
	char *data;
	seg_path(path, sizeof(path), dir, s->base, ".timeindex");
	ssize_t n = file_read_all(path, (size_t)1 << 31, &data);
	if (n == -ENOENT)
		return s->size == 0;
	if (n < 0)
		return (int)n;
	int ok = n % TIDX_ENTRY_SIZE == 0;
	s->ntidx = 0;
	for (ssize_t off = 0; ok && off < n; off += TIDX_ENTRY_SIZE) {
		int64_t ts = (int64_t)be64_load(data + off);
		uint32_t rel = be32_load(data + off + 8);
		if ((s->ntidx > 0 &&
		     (ts <= s->tidx[s->ntidx - 1].ts || rel < s->tidx[s->ntidx - 1].rel)) ||
		    (s->end_offset >= 0 && s->base + rel >= s->end_offset) ||
		    (int64_t)rel > INT32_MAX)
			ok = 0;
		else
			tidx_push(s, ts, rel);
	}
	free(data);
	return ok;
}

int index_load(struct segment *s, const char *dir, const struct log_config *cfg)
{
	if (s->idx_loaded)
		return 0;
	int a = load_idx(s, dir);
	int b = a == 1 ? load_tidx(s, dir) : 0;
	if (a < 0)
		return a;
	if (b < 0)
		return b;
	if (a != 1 || b != 1)
		return index_rebuild(s, dir, cfg);
	s->idx_loaded = true;
	if (!s->max_ts_known && s->ntidx > 0) {
		s->max_ts = s->tidx[s->ntidx - 1].ts;
		s->max_ts_off = s->base + s->tidx[s->ntidx - 1].rel;
		s->max_ts_known = true;
	}
	return 0;
}

int64_t index_lookup(const struct segment *s, int64_t offset)
{
	int lo = 0, hi = s->nidx - 1, found = -1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		if (s->base + s->idx[mid].rel <= offset) {
			found = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return found < 0 ? 0 : s->idx[found].pos;
}

int64_t index_lookup_time(const struct segment *s, int64_t ts)
{
	int lo = 0, hi = s->ntidx - 1, found = -1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		if (s->tidx[mid].ts <= ts) {
			found = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return found < 0 ? s->base : s->base + s->tidx[found].rel;
}

int segment_load_max_ts(struct segment *s, const char *dir, const struct log_config *cfg)
{
	if (s->max_ts_known)
		return 0;
	if (s->size == 0) {
		s->max_ts = s->max_ts_off = -1;
		s->max_ts_known = true;
		return 0;
	}
	if (s->idx_loaded && s->ntidx > 0) {
		s->max_ts = s->tidx[s->ntidx - 1].ts;
		s->max_ts_off = s->base + s->tidx[s->ntidx - 1].rel;
		s->max_ts_known = true;
		return 0;
	}
	/* The final entry of the time index holds the maximum: read just it. */
	char path[PATH_MAX_LEN];
	seg_path(path, sizeof(path), dir, s->base, ".timeindex");
	int fd = file_open(path, O_RDONLY, 0);
	if (fd >= 0) {
		int64_t sz = 0;
		uint8_t e[TIDX_ENTRY_SIZE];
		if (file_size(fd, &sz) == 0 && sz >= TIDX_ENTRY_SIZE && sz % TIDX_ENTRY_SIZE == 0 &&
		    file_pread(fd, e, sizeof(e), sz - TIDX_ENTRY_SIZE) == (ssize_t)sizeof(e)) {
			int64_t ts = (int64_t)be64_load(e);
			uint32_t rel = be32_load(e + 8);
			if (s->end_offset < 0 || s->base + rel < s->end_offset) {
				s->max_ts = ts;
				s->max_ts_off = s->base + rel;
				s->max_ts_known = true;
			}
		}
		file_close(fd);
		if (s->max_ts_known)
			return 0;
	}
	/* No usable time index: load (and if needed rebuild) the indexes. */
	int r = index_load(s, dir, cfg);
	if (r < 0)
		return r;
	if (!s->max_ts_known) {
		/* Indexes are sane but no timestamps: every batch had -1. */
		s->max_ts = -1;
		s->max_ts_off = -1;
		s->max_ts_known = true;
	}
	return 0;
}
