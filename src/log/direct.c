/*
 * direct.c: direct writes for busy logs.
 *
 * On this kind of VM the costly part of a buffered append is the copy into
 * page-cache pages the kernel has just allocated (first touches are slow),
 * plus their write-back. A log with cfg.direct_writes keeps its appends in a
 * stream of reused, block-aligned 1 MiB chunks instead, and a job on a
 * worker writes them with O_DIRECT: the sync job just before its fdatasync
 * (logs that sync before every ack), or a write job before the acks of a
 * log that only needs its data in the files (relaxed flushing: acked data
 * must survive kill -9, as the page cache would). The device copies from
 * memory that stays warm, and the page cache is left alone.
 *
 * The stream: appended bytes go to consecutive stream positions; a pending
 * extent maps file positions [from, to) of one segment to stream positions
 * [q, q + to - from). from sits on a block boundary, and q matches it modulo
 * the block size, so an extent is one aligned O_DIRECT pwritev over its
 * chunks. Its last, partial block is padded with zeros and written whole,
 * so the file may run up to a block past its data (segment.padded); the
 * next extent of the segment starts at that block again and rewrites it.
 * Appends that land in the padding while a job writes it put bytes past the
 * data, which nothing reads. The padding goes when the segment is sealed
 * (cut by the next sync, before its fdatasync; until then the recovery
 * point stays inside the segment), at a clean close, and by recovery after
 * a crash, which cuts whatever follows the last valid batch.
 *
 * Visibility: data that is only in the stream is not in the file, so reads
 * stop at the written offset while extents are pending (the high watermark
 * never passes it anyway). A log with pending extents appends to
 * the stream until they are written; when its config turns direct writes
 * off, the next append with no sync in flight writes them first, on the
 * log's thread. Buffered and direct writes never share a block at once.
 *
 * Threads: everything here runs on the log's thread, except direct_write(),
 * which the sync or write job runs on a worker. The job reads stream bytes
 * up to the end of the block holding the stream end at prepare time;
 * appends only write at or above that end (so at most into the padding),
 * and chunks are released only when the job completes.
 *
 * Left to others: when to sync or write (partition.c), the jobs, the
 * fdatasync and error handling (plog.c), reads (plog.c clamps them with
 * direct_readable_end).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "base/logging.h"
#include "base/memstream.h"
#include "io/file.h"
#include "log/log_int.h"

#define CHUNK ((int64_t)DIRECT_CHUNK_BYTES)
#define BLOCK ((int64_t)DIRECT_BLOCK)

/* ---- chunk pool (process-wide: every log directory shares it) ---- */

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *pool_free[DIRECT_POOL_KEEP];
static int pool_nfree;
static int64_t pool_used; /* chunks handed out */
static bool pool_unsupported_warned;

static uint8_t *chunk_get(void)
{
	pthread_mutex_lock(&pool_mu);
	uint8_t *c = pool_nfree > 0 ? pool_free[--pool_nfree] : NULL;
	pool_used++;
	pthread_mutex_unlock(&pool_mu);
	if (!c)
		c = aligned_alloc((size_t)BLOCK, (size_t)CHUNK);
	if (!c)
		abort();
	return c;
}

static void chunk_put(uint8_t *c)
{
	pthread_mutex_lock(&pool_mu);
	pool_used--;
	if (pool_nfree < DIRECT_POOL_KEEP) {
		pool_free[pool_nfree++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&pool_mu);
	free(c);
}

static bool pool_has_room(void)
{
	pthread_mutex_lock(&pool_mu);
	bool ok = pool_used < DIRECT_BUDGET_CHUNKS;
	pthread_mutex_unlock(&pool_mu);
	return ok;
}

int64_t plog_direct_chunks_in_use(void)
{
	pthread_mutex_lock(&pool_mu);
	int64_t n = pool_used;
	pthread_mutex_unlock(&pool_mu);
	return n;
}

/* ---- the stream ---- */

static uint8_t *stream_ptr(struct direct_log *dl, int64_t q)
{
	int64_t k = q / CHUNK - dl->c0;
	ASSERT(k >= 0 && k < dl->nchunks);
	return dl->chunks[k] + q % CHUNK;
}

static int64_t stream_end(const struct direct_log *dl)
{
	if (dl->next == 0)
		return dl->c0 * CHUNK;
	const struct direct_ext *e = &dl->ext[dl->next - 1];
	return e->q + (e->to - e->from);
}

/* Make the chunks cover stream positions below end. */
static void stream_reserve(struct direct_log *dl, int64_t end)
{
	while ((dl->c0 + dl->nchunks) * CHUNK < end) {
		if (dl->nchunks == dl->cap_chunks) {
			dl->cap_chunks = dl->cap_chunks ? dl->cap_chunks * 2 : 8;
			dl->chunks =
			    realloc(dl->chunks, (size_t)dl->cap_chunks * sizeof(*dl->chunks));
			if (!dl->chunks)
				abort();
		}
		dl->chunks[dl->nchunks++] = chunk_get();
	}
}

static void stream_copy_in(struct direct_log *dl, int64_t q, const uint8_t *src, int64_t n)
{
	stream_reserve(dl, q + n);
	while (n > 0) {
		int64_t room = CHUNK - q % CHUNK, k = n < room ? n : room;
		/* The device reads these bytes, the CPU does not: keep them out of
		 * the caches. */
		mem_copy_stream(stream_ptr(dl, q), src, (size_t)k);
		q += k;
		src += k;
		n -= k;
	}
}

/* Release the chunks wholly below stream position keep (all when keep < 0). */
static void stream_release_below(struct direct_log *dl, int64_t keep)
{
	int drop = dl->nchunks;
	if (keep >= 0 && keep / CHUNK - dl->c0 < drop)
		drop = (int)(keep / CHUNK - dl->c0);
	for (int i = 0; i < drop; i++)
		chunk_put(dl->chunks[i]);
	if (drop > 0 && dl->nchunks > drop)
		memmove(dl->chunks, dl->chunks + drop,
		        (size_t)(dl->nchunks - drop) * sizeof(*dl->chunks));
	dl->nchunks -= drop;
	dl->c0 += drop;
}

/* ---- extents ---- */

bool direct_pending(const struct plog *l)
{
	return l->dl.next > 0;
}

static void ext_remove_first(struct plog *l, int n)
{
	struct direct_log *dl = &l->dl;
	for (int i = 0; i < n; i++) {
		struct segment *s = dl->ext[i].seg;
		bool more = false;
		for (int k = n; k < dl->next && !more; k++)
			more = dl->ext[k].seg == s;
		if (!more && s->dfd >= 0) {
			file_close(s->dfd);
			s->dfd = -1;
		}
		segment_unref(s);
	}
	if (n > 0 && dl->next > n)
		memmove(dl->ext, dl->ext + n, (size_t)(dl->next - n) * sizeof(*dl->ext));
	dl->next -= n;
	stream_release_below(dl, dl->next > 0 ? dl->ext[0].q : -1);
	if (dl->next == 0)
		dl->c0 = 0;
}

/* A second, O_DIRECT descriptor of the file s->fd is open on (through
 * /proc, so a segment renamed by retention meanwhile is still found). */
static int open_direct_fd(struct segment *s)
{
	if (s->dfd >= 0)
		return 0;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s->fd);
	int fd = file_open(path, O_WRONLY | O_DIRECT, 0644);
	if (fd < 0)
		return fd;
	s->dfd = fd;
	return 0;
}

/* Start an extent for the active segment at its end; 0 or -errno. */
static int ext_start(struct plog *l, struct segment *act)
{
	struct direct_log *dl = &l->dl;
	int64_t pos = act->size, from = pos - pos % BLOCK;
	int r = segment_open_fd(act, l->dir);
	if (r < 0)
		return r;
	int64_t q;
	struct direct_ext *prev = dl->next > 0 ? &dl->ext[dl->next - 1] : NULL;
	if (prev && prev->seg == act && prev->to == pos) {
		/* Continue the stream: the block at from is already in it. */
		q = prev->q + (from - prev->from);
	} else {
		q = stream_end(dl);
		q += (BLOCK - q % BLOCK) % BLOCK;
		if (pos > from) {
			/* The partial block the file ends with, read back once. */
			uint8_t head[DIRECT_BLOCK];
			ssize_t n = file_pread(act->fd, head, (size_t)(pos - from), from);
			if (n < 0)
				return (int)n;
			if (n != pos - from)
				return ERR_CORRUPT;
			stream_copy_in(dl, q, head, pos - from);
		}
	}
	if (dl->next == dl->cap_ext) {
		dl->cap_ext = dl->cap_ext ? dl->cap_ext * 2 : 4;
		dl->ext = realloc(dl->ext, (size_t)dl->cap_ext * sizeof(*dl->ext));
		if (!dl->ext)
			abort();
	}
	segment_ref(act);
	dl->ext[dl->next++] =
	    (struct direct_ext){.seg = act, .from = from, .start = pos, .to = pos, .q = q};
	return 0;
}

/*
 * Whether an append of len bytes to act must (or may) go to the stream. A
 * log that syncs before its acks starts staging once a sync would have
 * cfg.direct_min_bytes to write; one whose acks wait only for the write
 * starts with an append that large (its syncs are rare, so what waits for
 * one says nothing about the rate). Below that a buffered write is as cheap,
 * and a partition written a few records at a time (thousands of them) takes
 * no chunk.
 */
static bool wants_direct(struct plog *l, struct segment *act, size_t len)
{
	if (direct_pending(l))
		return true;
	if (!l->cfg.direct_writes || l->direct_off)
		return false;
	int64_t waiting = (int64_t)len;
	if (l->cfg.sync_before_ack) {
		waiting += act->size;
		if (l->synced_seg == act->base)
			waiting -= l->synced_pos;
	}
	return waiting >= l->cfg.direct_min_bytes && pool_has_room();
}

int direct_append(struct plog *l, struct segment *act, const uint8_t *batch, size_t len)
{
	struct direct_log *dl = &l->dl;
	if (direct_pending(l) && !l->cfg.direct_writes && dl->njob == 0) {
		/* Switched to buffered appends: write what is pending first. */
		int r = direct_drain(l);
		if (r < 0)
			return r;
	}
	if (!wants_direct(l, act, len))
		return 0;
	struct direct_ext *e = dl->next > dl->njob ? &dl->ext[dl->next - 1] : NULL;
	if (!e || e->seg != act || e->to != act->size) {
		int r = ext_start(l, act);
		if (r < 0)
			return r;
		e = &dl->ext[dl->next - 1];
	}
	stream_copy_in(dl, e->q + (e->to - e->from), batch, (int64_t)len);
	e->to += (int64_t)len;
	return 1;
}

void direct_unappend(struct plog *l, size_t len)
{
	struct direct_ext *e = &l->dl.ext[l->dl.next - 1];
	e->to -= (int64_t)len;
}

int64_t direct_readable_end(const struct plog *l, const struct segment *s)
{
	for (int i = 0; i < l->dl.next; i++) {
		const struct direct_ext *e = &l->dl.ext[i];
		if (e->seg == s)
			return e->start;
	}
	return s->size;
}

bool direct_has_extents(const struct plog *l, const struct segment *s)
{
	for (int i = 0; i < l->dl.next; i++)
		if (l->dl.ext[i].seg == s)
			return true;
	return false;
}

/* ---- writing ---- */

/* One pwritev of [off, off + len) of file fd from the stream at q. */
static int add_piece(struct direct_io *io, struct direct_log *dl, int fd, int64_t off, int64_t q,
                     int64_t len)
{
	if (io->n == io->cap) {
		io->cap = io->cap ? io->cap * 2 : 8;
		io->pieces = realloc(io->pieces, (size_t)io->cap * sizeof(*io->pieces));
		if (!io->pieces)
			abort();
	}
	/* Consecutive pieces of one file share one duplicate. */
	const struct direct_piece *prev = io->n > 0 ? &io->pieces[io->n - 1] : NULL;
	int d = prev && prev->src == fd ? prev->fd : file_dup(fd);
	if (d < 0)
		return d;
	struct direct_piece *p = &io->pieces[io->n++];
	*p = (struct direct_piece){.fd = d, .src = fd, .off = off, .iov0 = io->niov};
	while (len > 0) {
		if (io->niov == io->cap_iov) {
			io->cap_iov = io->cap_iov ? io->cap_iov * 2 : 16;
			io->iov = realloc(io->iov, (size_t)io->cap_iov * sizeof(*io->iov));
			if (!io->iov)
				abort();
		}
		int64_t room = CHUNK - q % CHUNK, n = len < room ? len : room;
		io->iov[io->niov++] =
		    (struct iovec){.iov_base = stream_ptr(dl, q), .iov_len = (size_t)n};
		p->niov++;
		q += n;
		len -= n;
	}
	return 0;
}

void direct_io_release(struct direct_io *io)
{
	for (int i = 0; i < io->n; i++)
		if (i == 0 || io->pieces[i].fd != io->pieces[i - 1].fd)
			file_close(io->pieces[i].fd);
	free(io->pieces);
	free(io->iov);
	memset(io, 0, sizeof(*io));
}

/* Buffered fallback for a file system without O_DIRECT: exactly the data. */
static int add_buffered(struct direct_io *io, struct direct_log *dl, const struct direct_ext *e)
{
	int64_t q = e->q + (e->start - e->from);
	return add_piece(io, dl, e->seg->fd, e->start, q, e->to - e->start);
}

int direct_prepare(struct plog *l, struct direct_io *io)
{
	struct direct_log *dl = &l->dl;
	memset(io, 0, sizeof(*io));
	ASSERT(dl->njob == 0);
	int r = 0;
	for (int i = 0; i < dl->next && r == 0; i++) {
		const struct direct_ext *e = &dl->ext[i];
		if (!l->direct_off) {
			r = open_direct_fd(e->seg);
			if (r == -EINVAL) {
				/* No O_DIRECT here (tmpfs, some FUSE file systems):
				 * write through the page cache, and stop staging. */
				if (!pool_unsupported_warned)
					LOG_WARN(
					    "%s: the file system refuses O_DIRECT; appends are "
					    "buffered",
					    l->dir);
				pool_unsupported_warned = true;
				l->direct_off = true;
				r = 0;
			}
		}
		if (r < 0)
			break;
		if (l->direct_off || e->seg->dfd < 0) {
			r = add_buffered(io, dl, e);
			continue;
		}
		/*
		 * Whole blocks, the last one padded with zeros past the data: one
		 * aligned write, and no buffered tail for the next write to flush
		 * and evict first. The padding is cut off when the segment is
		 * sealed and synced, or closed.
		 */
		int64_t end = e->to + (BLOCK - e->to % BLOCK) % BLOCK;
		if (end > e->to) {
			memset(stream_ptr(dl, e->q + (e->to - e->from)), 0, (size_t)(end - e->to));
			e->seg->padded = true;
		}
		if (end > e->from)
			r = add_piece(io, dl, e->seg->dfd, e->from, e->q, end - e->from);
	}
	if (r < 0) {
		direct_io_release(io);
		return r;
	}
	dl->njob = dl->next;
	return 0;
}

int direct_write(const struct direct_io *io)
{
	for (int i = 0; i < io->n; i++) {
		const struct direct_piece *p = &io->pieces[i];
		int r = file_pwritev(p->fd, io->iov + p->iov0, p->niov, p->off);
		if (r < 0)
			return r;
	}
	return 0;
}

void direct_complete(struct plog *l)
{
	int n = l->dl.njob;
	l->dl.njob = 0;
	ext_remove_first(l, n);
}

int direct_drain(struct plog *l)
{
	if (!direct_pending(l))
		return 0;
	struct direct_io io;
	int r = direct_prepare(l, &io);
	if (r == 0)
		r = direct_write(&io);
	direct_io_release(&io);
	if (r < 0) {
		l->dl.njob = 0;
		return r;
	}
	direct_complete(l);
	return 0;
}

void direct_discard(struct plog *l)
{
	struct direct_log *dl = &l->dl;
	dl->njob = 0;
	ext_remove_first(l, dl->next);
	free(dl->chunks);
	free(dl->ext);
	memset(dl, 0, sizeof(*dl));
}
