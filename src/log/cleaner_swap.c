/*
 * cleaner_swap.c: the loop-thread end of a cleaning — swapping cleaned
 * segments into a log, crash-safely — plus the recovery of a cleaning that a
 * crash interrupted, and the cleaner-offset-checkpoint file.
 *
 * On-disk protocol of one swap (a group of old segments with bases
 * b = b1 < b2 < ... < bn, replaced by one cleaned segment named b). The
 * worker has written and fsynced "b.log.cleaned", "b.index.cleaned",
 * "b.timeindex.cleaned" and fsynced the folder. Then, on the loop:
 *
 *   0. Trailing members that had nothing left are deleted whole (their files
 *      renamed "*.deleted"): deleting a segment whose every record is
 *      superseded is correct on its own, at any time. So the cleaned segment
 *      always ends inside its last remaining member: its offsets cover
 *      exactly the members it replaces.
 *   1. rename b.index.cleaned -> b.index.swap, b.timeindex.cleaned ->
 *      b.timeindex.swap, then b.log.cleaned -> b.log.swap. The .log rename
 *      is the commit point: from here the swap is completed, never undone.
 *   2. rename each old member's .log, .index, .timeindex -> "*.deleted"
 *      (unlinked after file.delete.delay.ms; readers holding the segment keep
 *      their descriptor).
 *   3. rename b.index.swap -> b.index, b.timeindex.swap -> b.timeindex, then
 *      b.log.swap -> b.log; replace the members by the new segment in the
 *      log's list; mark the folder for the next group-commit fsync.
 *
 * Recovery at open (log__cleaner_recover, before the folder is listed):
 *   - every "*.cleaned" file is removed: that cleaning is discarded (its
 *     input segments are all still there);
 *   - for each "b.log.swap": its batches are read to find the offset after
 *     its last batch, N; every segment ".log" with a base in (b, N) and its
 *     indexes are removed, then the .swap files are renamed as in step 3 (a
 *     missing index .swap was already renamed). Old members with bases >= N
 *     cannot exist (step 0);
 *   - any other "*.swap" (an index renamed in step 1 before the crash) is
 *     removed;
 *   - "*.deleted" are removed by the normal listing (recovery.c).
 * A failure in steps 2-3 puts the log in the storage-error state; reopening
 * completes the swap. A failure before the commit point discards the
 * cleaning. No step leaves two segments holding the same offsets, and no
 * step removes a record that is not superseded.
 *
 * cleaner-offset-checkpoint (Kafka's name and text format, in the log
 * directory): "0\n<count>\n" then "<topic> <partition> <offset>\n" lines,
 * the first offset not yet cleaned. Rewritten (temp file + rename, no fsync)
 * after each cleaning; losing an update only means cleaning again.
 *
 * Threads: the loop thread, except log__cleaner_discard(inline) which the
 * worker calls, and log__cleaner_recover (open).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/logging.h"
#include "io/file.h"
#include "log/log_int.h"
#include "proto/batch.h"

#define CKPT_CLEANER "cleaner-offset-checkpoint"

static const char *const seg_exts[] = {".index", ".timeindex", ".log"};

static char *str_dup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (!p)
		abort();
	memcpy(p, s, n);
	return p;
}

/* "<dir>/<base><ext><sfx>" */
static void sfx_path(char *out, size_t n, const char *dir, int64_t base, const char *ext,
                     const char *sfx)
{
	char p[PATH_MAX_LEN];
	seg_path(p, sizeof(p), dir, base, ext);
	snprintf(out, n, "%s%s", p, sfx);
}

static int rename_sfx(const char *dir, int64_t base, const char *ext, const char *from_sfx,
                      const char *to_sfx)
{
	char from[PATH_MAX_LEN + 16], to[PATH_MAX_LEN + 16];
	sfx_path(from, sizeof(from), dir, base, ext, from_sfx);
	sfx_path(to, sizeof(to), dir, base, ext, to_sfx);
	return file_rename(from, to);
}

/* ---- job lifetime ---- */

void log__cleaner_job_free(struct plog_clean_job *j)
{
	for (int i = 0; i < j->nsegs; i++)
		segment_unref(j->segs[i].seg);
	for (int i = 0; i < j->ngroups; i++)
		segment_unref(j->groups[i].out);
	free(j->segs);
	free(j->groups);
	free(j->dir);
	free(j);
}

static void discard_group(struct plog_clean_job *j, struct clean_group *g, bool on_loop)
{
	char path[PATH_MAX_LEN + 16];
	if (!g->out)
		return;
	for (size_t e = 0; e < ARRAY_SIZE(seg_exts); e++) {
		sfx_path(path, sizeof(path), j->dir, g->out->base, seg_exts[e], ".cleaned");
		if (on_loop)
			logdir__remove_path(j->d, str_dup(path));
		else
			file_unlink(path);
	}
	segment_unref(g->out);
	g->out = NULL;
}

void log__cleaner_discard(struct plog_clean_job *j, int from, bool on_loop)
{
	for (int i = from; i < j->ngroups; i++)
		discard_group(j, &j->groups[i], on_loop);
}

void plog_clean_abandon(struct plog_clean_job *j)
{
	if (j)
		log__cleaner_job_free(j);
}

/* ---- the swap ---- */

static void fail_log(struct plog *l, int err, const char *what)
{
	if (!l->failed)
		LOG_ERROR("%s: cleaner %s failed: %s; the partition refuses writes until reopened",
		          l->dir, what, err_str(err));
	l->failed = true;
	l->fail_sticky = true; /* files and segments may disagree: reopen */
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

/*
 * Rename the files of segment s to "*.deleted" and queue their removal. The
 * .log goes first: once it is renamed the segment is gone, and a leftover
 * index is an orphan the next open removes. Returns 0, or the error of the
 * .log rename (nothing was changed then).
 */
static int retire_files(struct plog *l, struct segment *s, int64_t now_ms)
{
	static const char *const order[] = {".log", ".index", ".timeindex"};
	char path[PATH_MAX_LEN + 16];
	for (size_t e = 0; e < ARRAY_SIZE(order); e++) {
		int r = rename_sfx(l->dir, s->base, order[e], "", ".deleted");
		if (r < 0) {
			if (e == 0)
				return r;
			if (r != -ENOENT)
				LOG_WARN("%s: cannot rename %020lld%s: %s", l->dir,
				         (long long)s->base, order[e], err_str(r));
			continue;
		}
		sfx_path(path, sizeof(path), l->dir, s->base, order[e], ".deleted");
		queue_delete(l, path, now_ms + l->cfg.file_delete_delay_ms);
	}
	return 0;
}

/* Remove segs[i] from the list (its files are handled by the caller). */
static void list_remove(struct plog *l, int i)
{
	l->size_bytes -= l->segs[i]->size;
	segment_unref(l->segs[i]);
	memmove(l->segs + i, l->segs + i + 1, (size_t)(l->nsegs - i - 1) * sizeof(*l->segs));
	l->nsegs--;
}

/* Where the members of g sit in l->segs now, or -1 if they changed. */
static int find_group(struct plog *l, struct plog_clean_job *j, struct clean_group *g)
{
	struct segment *first = j->segs[g->first].seg;
	int at = -1;
	for (int i = 0; i < l->nsegs - 1 && at < 0; i++)
		if (l->segs[i] == first)
			at = i;
	if (at < 0 || at + g->n > l->nsegs - 1)
		return -1;
	for (int k = 0; k < g->n; k++)
		if (l->segs[at + k] != j->segs[g->first + k].seg)
			return -1;
	return at;
}

/* Swap one group; 1 swapped, 0 skipped, or a storage error (log failed). */
static int swap_group(struct plog *l, struct plog_clean_job *j, struct clean_group *g,
                      int64_t now_ms)
{
	int at = find_group(l, j, g);
	if (at < 0)
		return 0; /* retention took some of it meanwhile: the result is stale */

	/* Step 0: members with nothing left go whole, last first. */
	for (int k = g->n - 1; k >= g->nswap; k--) {
		int r = retire_files(l, l->segs[at + k], now_ms);
		if (r < 0) {
			LOG_WARN("%s: cleaner cannot delete segment %lld: %s", l->dir,
			         (long long)l->segs[at + k]->base, err_str(r));
			return 0;
		}
		list_remove(l, at + k);
	}
	if (g->nswap == 0 || !g->out)
		return 1;

	/* Step 1: .cleaned -> .swap, the .log last (the commit point). */
	struct segment *ns = g->out;
	int64_t b = ns->base;
	for (size_t e = 0; e < ARRAY_SIZE(seg_exts); e++) {
		int r = rename_sfx(l->dir, b, seg_exts[e], ".cleaned", ".swap");
		if (r < 0) {
			LOG_WARN(
			    "%s: cleaner cannot rename %020lld%s.cleaned: %s; cleaning discarded",
			    l->dir, (long long)b, seg_exts[e], err_str(r));
			for (size_t u = 0; u < e; u++) {
				char p[PATH_MAX_LEN + 16];
				sfx_path(p, sizeof(p), l->dir, b, seg_exts[u], ".swap");
				file_unlink(p);
			}
			return 0;
		}
	}
	/* Step 2: the old members become "*.deleted". */
	for (int k = 0; k < g->nswap; k++) {
		int r = retire_files(l, l->segs[at + k], now_ms);
		if (r < 0) {
			fail_log(l, r, "swap (retire)");
			return ERR_STORAGE;
		}
	}
	/* Step 3: .swap -> final names, the .log last. */
	for (size_t e = 0; e < ARRAY_SIZE(seg_exts); e++) {
		int r = rename_sfx(l->dir, b, seg_exts[e], ".swap", "");
		if (r < 0) {
			fail_log(l, r, "swap (rename)");
			return ERR_STORAGE;
		}
	}
	for (int k = g->nswap - 1; k >= 1; k--)
		list_remove(l, at + k);
	l->size_bytes -= l->segs[at]->size;
	segment_unref(l->segs[at]);
	l->segs[at] = ns;
	l->size_bytes += ns->size;
	g->out = NULL; /* the list owns it now */
	l->dir_dirty = true;
	return 1;
}

int log__cleaner_swap(struct plog_clean_job *j)
{
	struct plog *l = j->log;
	int64_t now_ms = clock_now_ms();
	int replaced = 0;
	for (int i = 0; i < j->ngroups; i++) {
		struct clean_group *g = &j->groups[i];
		int r = swap_group(l, j, g, now_ms);
		if (r < 0) {
			log__cleaner_discard(j, i + 1, true);
			return r;
		}
		if (r == 0) {
			/* Not swapped: this group stays dirty for the next pass. */
			discard_group(j, g, true);
			if (j->segs[g->first].base < j->clean_end)
				j->clean_end = j->segs[g->first].base;
		} else
			replaced += g->n;
	}
	if (l->cfg.file_delete_delay_ms <= 0)
		plog_run_pending_deletes(l, now_ms, false);
	return replaced;
}

static bool job_log_alive(struct plog_clean_job *j)
{
	for (int i = 0; i < j->d->nlogs; i++)
		if (j->d->logs[i] == j->log)
			return j->log->clean_job == j;
	return false;
}

int plog_clean_complete(struct plog_clean_job *j)
{
	if (!job_log_alive(j)) {
		log__cleaner_discard(j, 0, true);
		log__cleaner_job_free(j);
		return 0;
	}
	struct plog *l = j->log;
	l->clean_job = NULL;
	int r = j->err;
	if (r < 0) {
		LOG_WARN("%s: cleaning failed: %s", l->dir, err_str(r));
	} else if (l->failed || l->trunc_gen != j->trunc_gen) {
		log__cleaner_discard(j, 0, true);
	} else {
		r = log__cleaner_swap(j);
		if (r >= 0) {
			if (j->clean_end > l->clean_point)
				l->clean_point = j->clean_end;
			l->clean_horizon = j->horizon_min;
			int w = log__cleaner_ckpt_write(l->d);
			if (w < 0)
				LOG_WARN("%s: cannot write %s: %s", l->d->path, CKPT_CLEANER,
				         err_str(w));
			LOG_INFO("%s: cleaned %d segment(s) up to offset %lld: %lld -> %lld bytes, "
			         "%lld -> %lld records",
			         l->dir, r, (long long)j->clean_end, (long long)j->bytes_in,
			         (long long)j->bytes_out, (long long)j->records_in,
			         (long long)j->records_out);
		}
	}
	log__cleaner_job_free(j);
	return r;
}

/* ---- recovery of an interrupted cleaning ---- */

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* "<20 digits><ext>" -> base */
static bool parse_name(const char *name, const char *ext, int64_t *base)
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

struct name_list {
	int64_t *v;
	int n, cap;
};

static void nl_push(struct name_list *l, int64_t v)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = realloc(l->v, (size_t)l->cap * sizeof(*l->v));
		if (!l->v)
			abort();
	}
	l->v[l->n++] = v;
}

/* The offset after the last valid batch of a .swap log (truncating a torn
 * tail, which an fsynced file should not have), or its base if empty. */
static int swap_next_offset(const char *dir, int64_t base, int64_t *next)
{
	char path[PATH_MAX_LEN + 16];
	sfx_path(path, sizeof(path), dir, base, ".log", ".swap");
	int fd = file_open(path, O_RDWR, 0);
	if (fd < 0)
		return fd;
	int64_t size = 0, valid = 0, last = base - 1;
	int r = file_size(fd, &size);
	if (r == 0) {
		struct seg_scan sc;
		struct scan_batch b;
		seg_scan_init(&sc, fd, 0, size);
		while (seg_scan_next(&sc, &b) == 1) {
			const uint8_t *p = seg_scan_bytes(&sc, &b);
			if (!p || log__batch_check(p, (size_t)b.size) != 0 || b.base <= last)
				break;
			last = b.last;
			valid = b.pos + b.size;
		}
		r = sc.err;
		seg_scan_release(&sc);
	}
	if (r == 0 && valid < size) {
		LOG_WARN("%s: cut %lld bytes of bad data at %lld", path, (long long)(size - valid),
		         (long long)valid);
		r = file_truncate(fd, valid);
		if (r == 0)
			r = file_fdatasync(fd);
	}
	file_close(fd);
	*next = last + 1;
	return r;
}

int log__cleaner_recover(const char *dir)
{
	DIR *dh = opendir(dir);
	if (!dh)
		return errno == ENOENT ? 0 : -errno;
	struct name_list swaps = {0}, logs = {0};
	char path[PATH_MAX_LEN + 16];
	struct dirent *e;
	bool any = false;
	while ((e = readdir(dh)) != NULL) {
		int64_t base;
		if (ends_with(e->d_name, ".cleaned")) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			file_unlink(path);
			any = true;
		} else if (parse_name(e->d_name, ".log.swap", &base)) {
			nl_push(&swaps, base);
		} else if (parse_name(e->d_name, ".log", &base)) {
			nl_push(&logs, base);
		}
	}
	closedir(dh);
	int r = 0;
	for (int i = 0; i < swaps.n && r == 0; i++) {
		int64_t b = swaps.v[i], next;
		r = swap_next_offset(dir, b, &next);
		if (r < 0)
			break;
		LOG_WARN("%s: completing the swap of cleaned segment %lld (offsets below %lld)",
		         dir, (long long)b, (long long)next);
		for (int k = 0; k < logs.n; k++) {
			if (logs.v[k] <= b || logs.v[k] >= next)
				continue;
			for (size_t x = 0; x < ARRAY_SIZE(seg_exts); x++) {
				sfx_path(path, sizeof(path), dir, logs.v[k], seg_exts[x], "");
				file_unlink(path);
			}
		}
		for (size_t x = 0; x < ARRAY_SIZE(seg_exts) && r == 0; x++) {
			r = rename_sfx(dir, b, seg_exts[x], ".swap", "");
			if (r == -ENOENT && x < 2)
				r = 0; /* that index was renamed before the crash */
		}
		any = true;
	}
	/* Index .swap files without a .log.swap: step 1 was interrupted. */
	if (r == 0 && (dh = opendir(dir)) != NULL) {
		while ((e = readdir(dh)) != NULL) {
			if (!ends_with(e->d_name, ".swap"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			file_unlink(path);
			any = true;
		}
		closedir(dh);
	}
	free(swaps.v);
	free(logs.v);
	if (r == 0 && any)
		r = file_sync_dir(dir);
	if (r < 0)
		LOG_ERROR("%s: cannot recover an interrupted cleaning: %s", dir, err_str(r));
	return r;
}

/* ---- cleaner-offset-checkpoint ---- */

struct cl_entry {
	char *topic;
	int32_t partition;
	int64_t offset;
};

struct cl_list {
	struct cl_entry *e;
	int n, cap;
};

static void cl_set(struct cl_list *c, const char *topic, size_t tlen, int32_t partition,
                   int64_t offset)
{
	for (int i = 0; i < c->n; i++) {
		if (c->e[i].partition == partition && strlen(c->e[i].topic) == tlen &&
		    memcmp(c->e[i].topic, topic, tlen) == 0) {
			c->e[i].offset = offset;
			return;
		}
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->e = realloc(c->e, (size_t)c->cap * sizeof(*c->e));
		if (!c->e)
			abort();
	}
	char *t = malloc(tlen + 1);
	if (!t)
		abort();
	memcpy(t, topic, tlen);
	t[tlen] = 0;
	c->e[c->n].topic = t;
	c->e[c->n].partition = partition;
	c->e[c->n].offset = offset;
	c->n++;
}

static void cl_release(struct cl_list *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->e[i].topic);
	free(c->e);
	c->e = NULL;
	c->n = c->cap = 0;
}

static void cl_read(struct logdir *d, struct cl_list *c)
{
	char path[PATH_MAX_LEN], *data;
	snprintf(path, sizeof(path), "%s/%s", d->path, CKPT_CLEANER);
	if (file_read_all(path, 1 << 26, &data) < 0)
		return;
	const char *p = data;
	int64_t ver, count;
	if (!log__parse_i64(&p, &ver) || ver != 0 || !log__parse_i64(&p, &count)) {
		LOG_WARN("%s: unreadable, ignored", path);
		free(data);
		return;
	}
	for (int64_t i = 0; i < count; i++) {
		while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
			p++;
		const char *t = p;
		while (*p && *p != ' ' && *p != '\n')
			p++;
		size_t tlen = (size_t)(p - t);
		int64_t part, off;
		if (tlen == 0 || !log__parse_i64(&p, &part) || !log__parse_i64(&p, &off) ||
		    part < 0 || part > INT32_MAX)
			break;
		cl_set(c, t, tlen, (int32_t)part, off);
	}
	free(data);
}

int64_t log__cleaner_ckpt_get(struct logdir *d, const char *topic, int32_t partition)
{
	struct cl_list c = {0};
	cl_read(d, &c);
	int64_t off = -1;
	for (int i = 0; i < c.n; i++)
		if (c.e[i].partition == partition && strcmp(c.e[i].topic, topic) == 0)
			off = c.e[i].offset;
	cl_release(&c);
	return off;
}

int log__cleaner_ckpt_write(struct logdir *d)
{
	struct cl_list c = {0};
	cl_read(d, &c);
	for (int i = 0; i < d->nlogs; i++) {
		struct plog *l = d->logs[i];
		if (l->clean_point_loaded)
			cl_set(&c, l->topic, strlen(l->topic), l->partition, l->clean_point);
	}
	size_t cap = 32;
	for (int i = 0; i < c.n; i++)
		cap += strlen(c.e[i].topic) + 48;
	char *buf = malloc(cap);
	if (!buf)
		abort();
	size_t n = (size_t)snprintf(buf, cap, "0\n%d\n", c.n);
	for (int i = 0; i < c.n; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s %" PRId32 " %" PRId64 "\n",
		                      c.e[i].topic, c.e[i].partition, c.e[i].offset);
	char path[PATH_MAX_LEN];
	snprintf(path, sizeof(path), "%s/%s", d->path, CKPT_CLEANER);
	int r = file_write_atomic(path, buf, n, false);
	free(buf);
	cl_release(&c);
	return r;
}
