/*
 * segment.c: one segment of a partition log — its files, its reference
 * count, its in-memory position table, and a chunked reader of batch headers.
 *
 * Files of a segment, all named by the 20-digit zero-padded base offset:
 *   <base>.log        record batches exactly as stored (RECORDS.md section 5)
 *   <base>.index      sparse offset index (index.c)
 *   <base>.timeindex  time index (index.c)
 *
 * Lifetime: segment_new() returns one reference, owned by the log's segment
 * array. Read slices and syncs take more. Descriptors are opened lazily (an
 * idle partition after a clean start costs no descriptor) and closed when the
 * last reference goes, so a slice stays readable after retention renamed or
 * unlinked the file.
 *
 * Index files of the active segment are not written as entries are added:
 * the entries live in memory and the files are written whole when the
 * segment is sealed (roll) or closed cleanly. After a crash the active
 * segment is always rescanned, so its index files are never trusted; this
 * keeps one descriptor per idle partition (the .log) and no index pwrites on
 * the append path.
 *
 * Position table: for the active segment (and the last sealed one) the log
 * keeps (last offset, position) of every batch appended in this process, so
 * a tail read is a binary search with no I/O. Older data goes through the
 * sparse index and a scan of batch headers with 64 KiB reads (seg_scan).
 *
 * Left to others: deciding when to roll or delete (plog.c), validation and
 * truncation at open (recovery.c), index formats (index.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/endian.h"
#include "base/err.h"
#include "io/file.h"
#include "log/log_int.h"
#include "proto/batch.h"

void seg_path(char *out, size_t n, const char *dir, int64_t base, const char *ext)
{
	snprintf(out, n, "%s/%020lld%s", dir, (long long)base, ext);
}

struct segment *segment_new(int64_t base)
{
	struct segment *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	atomic_init(&s->refs, 1);
	s->base = base;
	s->end_offset = -1;
	s->fd = s->dfd = s->idx_fd = s->tidx_fd = -1;
	s->max_ts = -1;
	s->max_ts_off = -1;
	s->first_ms = -1;
	s->tab_base = base;
	return s;
}

void segment_ref(struct segment *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void segment_unref(struct segment *s)
{
	if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	file_close(s->fd);
	file_close(s->dfd);
	file_close(s->idx_fd);
	file_close(s->tidx_fd);
	free(s->idx);
	free(s->tidx);
	free(s->tab);
	free(s);
}

int segment_open_fd(struct segment *s, const char *dir)
{
	if (s->fd >= 0)
		return 0;
	char p[PATH_MAX_LEN];
	seg_path(p, sizeof(p), dir, s->base, ".log");
	int fd = file_open(p, O_RDWR, 0);
	if (fd < 0)
		return fd;
	s->fd = fd;
	return 0;
}

int segment_create(struct segment *s, const char *dir)
{
	char p[PATH_MAX_LEN];
	seg_path(p, sizeof(p), dir, s->base, ".log");
	int fd = file_open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fd;
	s->fd = fd;
	s->size = 0;
	s->end_offset = s->base;
	s->idx_loaded = true;
	s->max_ts_known = true;
	s->active = true;
	s->tab_base = s->base;
	return 0;
}

int segment_activate(struct segment *s, const char *dir, const struct log_config *cfg)
{
	if (s->active)
		return 0;
	int r = segment_open_fd(s, dir);
	if (r == 0)
		r = index_load(s, dir, cfg);
	if (r == 0)
		r = segment_load_max_ts(s, dir, cfg);
	if (r < 0)
		return r;
	/* Kafka-compatible start of the segment_ms clock after a restart: the
	 * first batch's timestamp (the append time of that batch is lost). */
	if (s->first_ms < 0) {
		s->first_ms = clock_now_ms();
		if (s->size >= BATCH_HEADER_SIZE) {
			uint8_t h[BATCH_HEADER_SIZE];
			if (file_pread(s->fd, h, sizeof(h), 0) == (ssize_t)sizeof(h)) {
				int64_t ts = (int64_t)be64_load(h + BATCH_OFF_MAX_TIMESTAMP);
				if (ts >= 0)
					s->first_ms = ts;
			}
		}
	}
	s->bytes_since_idx = s->nidx ? s->size - s->idx[s->nidx - 1].pos : s->size;
	s->active = true;
	return 0;
}

void segment_close_index_fds(struct segment *s)
{
	file_close(s->idx_fd);
	file_close(s->tidx_fd);
	s->idx_fd = s->tidx_fd = -1;
	s->active = false;
}

void segment_drop_table(struct segment *s)
{
	free(s->tab);
	s->tab = NULL;
	s->ntab = s->cap_tab = 0;
}

void segment_tab_push(struct segment *s, int64_t base, int64_t last, int64_t pos)
{
	if (s->ntab > 0) {
		int64_t expect = s->base + s->tab[s->ntab - 1].rel_last + 1;
		if (base != expect)
			s->ntab = 0; /* a gap: the table covers the contiguous tail only */
	}
	if (s->ntab == 0)
		s->tab_base = base;
	if (s->ntab == s->cap_tab) {
		s->cap_tab = s->cap_tab ? s->cap_tab * 2 : 16;
		s->tab = realloc(s->tab, (size_t)s->cap_tab * sizeof(*s->tab));
		if (!s->tab)
			abort();
	}
	s->tab[s->ntab].rel_last = (uint32_t)(last - s->base);
	s->tab[s->ntab].pos = (uint32_t)pos;
	s->ntab++;
}

/* ---- chunked header scanner ---- */

void seg_scan_init(struct seg_scan *sc, int fd, int64_t pos, int64_t end)
{
	memset(sc, 0, sizeof(*sc));
	sc->fd = fd;
	sc->pos = pos;
	sc->end = end;
}

void seg_scan_release(struct seg_scan *sc)
{
	free(sc->buf);
	sc->buf = NULL;
	sc->cap = 0;
}

/* Make [pos, pos + need) available in the buffer; reads at least a chunk. */
static int scan_fill(struct seg_scan *sc, int64_t pos, size_t need)
{
	if (sc->buf && pos >= sc->buf_off &&
	    pos + (int64_t)need <= sc->buf_off + (int64_t)sc->buf_len)
		return 0;
	size_t want = need > SEG_SCAN_CHUNK ? need : SEG_SCAN_CHUNK;
	if ((int64_t)want > sc->end - pos)
		want = (size_t)(sc->end - pos);
	if (want < need)
		return ERR_CORRUPT;
	if (sc->cap < want) {
		size_t cap = want > SEG_SCAN_CHUNK ? want : SEG_SCAN_CHUNK;
		free(sc->buf);
		sc->buf = malloc(cap);
		if (!sc->buf)
			abort();
		sc->cap = cap;
	}
	ssize_t got = file_pread(sc->fd, sc->buf, want, pos);
	if (got < 0) {
		sc->buf_len = 0;
		sc->err = (int)got;
		return (int)got;
	}
	sc->buf_off = pos;
	sc->buf_len = (size_t)got;
	return (size_t)got >= need ? 0 : ERR_CORRUPT;
}

int seg_scan_next(struct seg_scan *sc, struct scan_batch *b)
{
	int64_t left = sc->end - sc->pos;
	if (left <= 0)
		return 0;
	if (left < BATCH_HEADER_SIZE) {
		sc->torn = true;
		return 0;
	}
	int r = scan_fill(sc, sc->pos, BATCH_HEADER_SIZE);
	if (r < 0) {
		if (!sc->err)
			sc->torn = true; /* file shorter than we were told */
		return 0;
	}
	const uint8_t *p = sc->buf + (sc->pos - sc->buf_off);
	int32_t len = (int32_t)be32_load(p + BATCH_OFF_LENGTH);
	if (len < BATCH_HEADER_SIZE - BATCH_LOG_OVERHEAD ||
	    (int64_t)len + BATCH_LOG_OVERHEAD > left || p[BATCH_OFF_MAGIC] != 2) {
		sc->torn = true;
		return 0;
	}
	b->pos = sc->pos;
	b->size = (int64_t)len + BATCH_LOG_OVERHEAD;
	b->base = (int64_t)be64_load(p + BATCH_OFF_BASE_OFFSET);
	b->last = b->base + (int32_t)be32_load(p + BATCH_OFF_LAST_OFFSET_DELTA);
	b->max_ts = (int64_t)be64_load(p + BATCH_OFF_MAX_TIMESTAMP);
	b->epoch = (int32_t)be32_load(p + BATCH_OFF_LEADER_EPOCH);
	b->count = (int32_t)be32_load(p + BATCH_OFF_RECORD_COUNT);
	b->attrs = (int16_t)be16_load(p + BATCH_OFF_ATTRIBUTES);
	if (b->last < b->base) {
		sc->torn = true;
		return 0;
	}
	sc->pos += b->size;
	return 1;
}

const uint8_t *seg_scan_bytes(struct seg_scan *sc, const struct scan_batch *b)
{
	if (scan_fill(sc, b->pos, (size_t)b->size) < 0)
		return NULL;
	return sc->buf + (b->pos - sc->buf_off);
}
