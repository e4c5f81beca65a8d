/*
 * logdir.c: a log directory — the set of partition logs under one path, its
 * checkpoint files, the clean-shutdown marker, and partition deletion.
 *
 * Files in the log directory (Kafka's names and text format):
 *   recovery-point-offset-checkpoint   offsets below which each log is
 *                                       durable and need not be scanned
 *   log-start-offset-checkpoint        each log's start offset
 *   replication-offset-checkpoint      each log's high watermark
 * each one:
 *     0                                 version
 *     <count>
 *     <topic> <partition> <offset>      count lines
 * written atomically (temp file, fsync, rename, fsync of the directory).
 *
 *   .kafka_cleanshutdown   present only between a clean close and the next
 *                          open; it tells the open to trust the checkpoints
 *                          (recovery point == log end) and scan nothing.
 *                          logdir_open removes it (and syncs the directory)
 *                          before any log is opened.
 *
 * Deleted partitions: the folder is renamed "<topic>-<partition>.<hex>-delete"
 * and removed on the worker pool (or inline without one); logdir_open removes
 * any such folder left by a previous run.
 *
 * Threads: the owning loop thread, except logdir_purge_deleted (any thread).
 * logdir_close and logdir_checkpoint fsync on the caller's thread;
 * logdir_checkpoint_changed hands the writing to the worker pool when one is
 * set (the files are formatted on the loop first).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/logging.h"
#include "io/file.h"
#include "io/worker.h"
#include "log/log_int.h"

#define CLEAN_MARKER  ".kafka_cleanshutdown"
#define CKPT_RECOVERY "recovery-point-offset-checkpoint"
#define CKPT_START    "log-start-offset-checkpoint"
#define CKPT_HW       "replication-offset-checkpoint"

static char *str_ndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (!p)
		abort();
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

/* ---- checkpoint maps ---- */

static void ckpt_release(struct ckpt *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->e[i].topic);
	free(c->e);
	memset(c, 0, sizeof(*c));
}

static struct ckpt_entry *ckpt_find(const struct ckpt *c, const char *topic, int32_t partition)
{
	for (int i = 0; i < c->n; i++)
		if (c->e[i].partition == partition && strcmp(c->e[i].topic, topic) == 0)
			return &c->e[i];
	return NULL;
}

int64_t ckpt_get(const struct ckpt *c, const char *topic, int32_t partition)
{
	const struct ckpt_entry *e = ckpt_find(c, topic, partition);
	return e ? e->offset : -1;
}

static void ckpt_set(struct ckpt *c, const char *topic, int32_t partition, int64_t offset)
{
	struct ckpt_entry *e = ckpt_find(c, topic, partition);
	if (e) {
		e->offset = offset;
		return;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->e = realloc(c->e, (size_t)c->cap * sizeof(*c->e));
		if (!c->e)
			abort();
	}
	c->e[c->n].topic = str_ndup(topic, strlen(topic));
	c->e[c->n].partition = partition;
	c->e[c->n].offset = offset;
	c->n++;
}

static void ckpt_remove(struct ckpt *c, const char *topic, int32_t partition)
{
	struct ckpt_entry *e = ckpt_find(c, topic, partition);
	if (!e)
		return;
	free(e->topic);
	*e = c->e[--c->n];
}

static void ckpt_read(struct logdir *d, const char *name, struct ckpt *c)
{
	char path[PATH_MAX_LEN], *data;
	snprintf(path, sizeof(path), "%s/%s", d->path, name);
	if (file_read_all(path, 1 << 28, &data) < 0)
		return;
	const char *p = data;
	int64_t ver, count;
	if (!log__parse_i64(&p, &ver) || ver != 0 || !log__parse_i64(&p, &count) || count < 0) {
		LOG_WARN("%s: unreadable checkpoint, ignored", path);
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
		    part < 0 || part > INT32_MAX) {
			LOG_WARN("%s: bad line %" PRId64 ", rest ignored", path, i + 3);
			break;
		}
		char *topic = str_ndup(t, tlen);
		ckpt_set(c, topic, (int32_t)part, off);
		free(topic);
	}
	free(data);
}

/* The text of one checkpoint file (malloc'd, *n bytes). */
static char *ckpt_format(const struct ckpt *c, size_t *n)
{
	size_t cap = 64;
	for (int i = 0; i < c->n; i++)
		cap += strlen(c->e[i].topic) + 40;
	char *buf = malloc(cap);
	if (!buf)
		abort();
	size_t len = (size_t)snprintf(buf, cap, "0\n%d\n", c->n);
	for (int i = 0; i < c->n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s %" PRId32 " %" PRId64 "\n",
		                        c->e[i].topic, c->e[i].partition, c->e[i].offset);
	*n = len;
	return buf;
}

static int ckpt_write(struct logdir *d, const char *name, const struct ckpt *c)
{
	size_t n;
	char *buf = ckpt_format(c, &n);
	char path[PATH_MAX_LEN];
	snprintf(path, sizeof(path), "%s/%s", d->path, name);
	int r = file_write_atomic(path, buf, n, true);
	free(buf);
	return r;
}

/* ---- removal of files and folders ---- */

static void unlink_job(void *arg)
{
	file_unlink(arg);
	free(arg);
}

static void remove_tree_job(void *arg)
{
	int r = file_remove_tree(arg);
	if (r < 0)
		LOG_WARN("cannot remove %s: %s", (char *)arg, err_str(r));
	free(arg);
}

void logdir__remove_path(struct logdir *d, char *path_moved)
{
	if (d && d->worker)
		worker_submit(d->worker, unlink_job, NULL, path_moved);
	else
		unlink_job(path_moved);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int logdir_purge_deleted(struct logdir *d)
{
	DIR *dir = opendir(d->path);
	if (!dir)
		return -errno;
	char path[PATH_MAX_LEN];
	struct dirent *e;
	int n = 0;
	while ((e = readdir(dir)) != NULL) {
		if (!ends_with(e->d_name, "-delete"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", d->path, e->d_name);
		if (file_remove_tree(path) == 0)
			n++;
	}
	closedir(dir);
	return n;
}

/* ---- open / scan / close ---- */

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX_LEN];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		int r = file_mkdir(buf, 0755);
		*p = '/';
		if (r < 0)
			return r;
	}
	return file_mkdir(buf, 0755);
}

int logdir_open(const char *path, struct logdir **out)
{
	*out = NULL;
	int r = mkdir_p(path);
	if (r < 0)
		return r;
	struct logdir *d = calloc(1, sizeof(*d));
	if (!d)
		abort();
	d->path = str_ndup(path, strlen(path));
	pthread_mutex_init(&d->ck_mu, NULL);
	pthread_cond_init(&d->ck_cv, NULL);
	ckpt_read(d, CKPT_RECOVERY, &d->recovery);
	ckpt_read(d, CKPT_START, &d->start);
	ckpt_read(d, CKPT_HW, &d->hw);
	char marker[PATH_MAX_LEN];
	snprintf(marker, sizeof(marker), "%s/%s", path, CLEAN_MARKER);
	struct stat st;
	d->was_clean = stat(marker, &st) == 0;
	if (d->was_clean) {
		/* From here on a crash must look unclean: the removal must be
		 * durable before any log is written. */
		r = file_unlink(marker);
		if (r == 0)
			r = file_sync_dir(path);
		if (r < 0) {
			LOG_ERROR("%s: cannot remove the clean-shutdown marker: %s", path,
			          err_str(r));
			logdir_close(d, false);
			return r;
		}
	}
	logdir_purge_deleted(d);
	LOG_INFO("log directory %s opened (%s)", path,
	         d->was_clean ? "clean shutdown before"
	                      : "no clean-shutdown marker: the tail of each log is checked");
	*out = d;
	return 0;
}

bool logdir_was_clean(const struct logdir *d)
{
	return d->was_clean;
}

void logdir_set_worker(struct logdir *d, struct worker_pool *w)
{
	d->worker = w;
}

/* "<topic>-<partition>" -> topic length and partition, or false. */
static bool parse_folder(const char *name, size_t *tlen, int32_t *partition)
{
	const char *dash = strrchr(name, '-');
	if (!dash || dash == name || !dash[1])
		return false;
	int64_t v = 0;
	for (const char *p = dash + 1; *p; p++) {
		if (*p < '0' || *p > '9' || v > INT32_MAX / 10)
			return false;
		v = v * 10 + (*p - '0');
	}
	if (v > INT32_MAX)
		return false;
	*tlen = (size_t)(dash - name);
	*partition = (int32_t)v;
	return true;
}

void logdir_scan(struct logdir *d, void (*cb)(void *arg, const char *topic, int32_t partition),
                 void *arg)
{
	DIR *dir = opendir(d->path);
	if (!dir)
		return;
	struct dirent *e;
	char path[PATH_MAX_LEN];
	while ((e = readdir(dir)) != NULL) {
		size_t tlen;
		int32_t part;
		if (e->d_name[0] == '.' || !parse_folder(e->d_name, &tlen, &part))
			continue;
		snprintf(path, sizeof(path), "%s/%s", d->path, e->d_name);
		struct stat st;
		if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		char *topic = str_ndup(e->d_name, tlen);
		cb(arg, topic, part);
		free(topic);
	}
	closedir(dir);
}

int logdir_open_log(struct logdir *d, const char *topic, int32_t partition,
                    const struct log_config *cfg, bool create, struct plog **out)
{
	*out = NULL;
	if (!topic[0] || strchr(topic, '/') || strchr(topic, ' ') || partition < 0)
		return ERR_INVALID;
	for (int i = 0; i < d->nlogs; i++)
		if (d->logs[i]->partition == partition && strcmp(d->logs[i]->topic, topic) == 0)
			return ERR_EXISTS;
	struct plog *l;
	int r = plog_open_dir(d, topic, partition, cfg, create, &l);
	if (r < 0)
		return r;
	if (d->nlogs == d->cap_logs) {
		d->cap_logs = d->cap_logs ? d->cap_logs * 2 : 16;
		d->logs = realloc(d->logs, (size_t)d->cap_logs * sizeof(*d->logs));
		if (!d->logs)
			abort();
	}
	d->logs[d->nlogs++] = l;
	*out = l;
	return 0;
}

void logdir__forget(struct logdir *d, struct plog *l)
{
	for (int i = 0; i < d->nlogs; i++) {
		if (d->logs[i] == l) {
			d->logs[i] = d->logs[--d->nlogs];
			return;
		}
	}
}

/* Close one log (no syncing); freed later if a sync is in flight. */
static void close_log(struct plog *l)
{
	if (l->sync_inflight)
		l->free_after_sync = true;
	else
		plog_free(l);
}

int logdir_delete_log(struct logdir *d, struct plog *l)
{
	char from[PATH_MAX_LEN], to[PATH_MAX_LEN + 64];
	uint8_t rnd[16];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		int64_t t = clock_mono_ns();
		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] = (uint8_t)(t >> ((i % 8) * 8)) ^ (uint8_t)i;
	}
	char hex[33];
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	snprintf(from, sizeof(from), "%s", l->dir);
	snprintf(to, sizeof(to), "%s/%s-%d.%s-delete", d->path, l->topic, (int)l->partition, hex);
	logdir__forget(d, l);
	ckpt_remove(&d->recovery, l->topic, l->partition);
	ckpt_remove(&d->start, l->topic, l->partition);
	ckpt_remove(&d->hw, l->topic, l->partition);
	d->ckpt_removed = true;
	/* Pending ".deleted" files move with the folder and go with it. */
	for (int i = 0; i < l->ndels; i++)
		free(l->dels[i].path);
	l->ndels = 0;
	close_log(l);
	int r = file_rename(from, to);
	if (r < 0) {
		LOG_ERROR("cannot rename %s for deletion: %s", from, err_str(r));
		return r;
	}
	char *p = str_ndup(to, strlen(to));
	if (d->worker)
		worker_submit(d->worker, remove_tree_job, NULL, p);
	else
		remove_tree_job(p);
	return 0;
}

static int ckpt_cmp(const void *a, const void *b)
{
	const struct ckpt_entry *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);
	return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

enum { CK_RECOVERY, CK_START, CK_HW };

/*
 * Put every open log's value into c (sorted first, then a binary search per
 * log: n log n for 10,000 partitions). Returns whether anything changed.
 */
static bool ckpt_update(struct ckpt *c, const struct logdir *d, int which)
{
	if (c->n > 1)
		qsort(c->e, (size_t)c->n, sizeof(*c->e), ckpt_cmp);
	int sorted = c->n;
	bool changed = false;
	for (int i = 0; i < d->nlogs; i++) {
		const struct plog *l = d->logs[i];
		int64_t v = which == CK_RECOVERY ? plog__recovery_point(l)
		            : which == CK_START  ? l->start_offset
		                                 : l->hw;
		struct ckpt_entry key = {.topic = l->topic, .partition = l->partition};
		struct ckpt_entry *e =
		    sorted ? bsearch(&key, c->e, (size_t)sorted, sizeof(*c->e), ckpt_cmp) : NULL;
		if (e && e->offset == v)
			continue;
		changed = true;
		if (e)
			e->offset = v;
		else
			ckpt_set(c, l->topic, l->partition, v);
	}
	return changed;
}

/* Checkpoint files formatted on the loop, written on the worker. */
struct ckpt_job {
	struct logdir *d;
	int n;
	char *path[3];
	char *text[3];
	size_t len[3];
};

static void ckpt_job_run(void *arg)
{
	struct ckpt_job *j = arg;
	struct logdir *d = j->d;
	int err = 0;
	for (int i = 0; i < j->n; i++) {
		int r = file_write_atomic(j->path[i], j->text[i], j->len[i], true);
		if (r < 0 && !err) {
			err = r;
			LOG_ERROR("cannot write %s: %s", j->path[i], err_str(r));
		}
		free(j->path[i]);
		free(j->text[i]);
	}
	free(j);
	pthread_mutex_lock(&d->ck_mu);
	if (err)
		d->ck_failed = true;
	d->ck_busy = false;
	pthread_cond_broadcast(&d->ck_cv);
	pthread_mutex_unlock(&d->ck_mu);
}

static void ckpt_job_add(struct ckpt_job *j, struct logdir *d, const char *name,
                         const struct ckpt *c)
{
	char path[PATH_MAX_LEN];
	snprintf(path, sizeof(path), "%s/%s", d->path, name);
	j->path[j->n] = str_ndup(path, strlen(path));
	j->text[j->n] = ckpt_format(c, &j->len[j->n]);
	j->n++;
}

/* Each log may drop page cache up to its last synced position (see cache_keep_start). */
static void ckpt_mark_written(struct logdir *d)
{
	for (int i = 0; i < d->nlogs; i++) {
		struct plog *l = d->logs[i];
		l->ck_seg = l->synced_seg;
		l->ck_pos = l->synced_pos;
	}
}

/*
 * Write the checkpoint files: all of them with force, else those whose
 * content changed. With a worker pool and no force, the files are formatted
 * here and written (fsync, rename, fsync of the directory) on a worker, so
 * the loop never waits for the disk; while one write is in flight a later
 * call does nothing and the next one catches up. A failed write makes the
 * next one rewrite every file. The logs count the new recovery points as
 * written at once: if the write fails, the only cost is that page cache
 * past the on-disk recovery point may already be dropped, which makes a
 * crash recovery read from disk.
 */
static int checkpoint(struct logdir *d, bool force)
{
	bool sync = force || !d->worker;
	pthread_mutex_lock(&d->ck_mu);
	if (sync)
		while (d->ck_busy)
			pthread_cond_wait(&d->ck_cv, &d->ck_mu);
	bool busy = d->ck_busy, failed = d->ck_failed;
	if (!busy)
		d->ck_failed = false;
	pthread_mutex_unlock(&d->ck_mu);
	if (busy)
		return 0;
	bool all = force || failed || d->ckpt_removed;
	bool ch_rec = ckpt_update(&d->recovery, d, CK_RECOVERY) || all;
	bool ch_start = ckpt_update(&d->start, d, CK_START) || all;
	bool ch_hw = ckpt_update(&d->hw, d, CK_HW) || all;
	if (!sync) {
		if (!ch_rec && !ch_start && !ch_hw) {
			ckpt_mark_written(d);
			return 0;
		}
		struct ckpt_job *j = calloc(1, sizeof(*j));
		if (!j)
			abort();
		j->d = d;
		if (ch_rec)
			ckpt_job_add(j, d, CKPT_RECOVERY, &d->recovery);
		if (ch_start)
			ckpt_job_add(j, d, CKPT_START, &d->start);
		if (ch_hw)
			ckpt_job_add(j, d, CKPT_HW, &d->hw);
		d->ckpt_removed = false;
		ckpt_mark_written(d);
		pthread_mutex_lock(&d->ck_mu);
		d->ck_busy = true;
		pthread_mutex_unlock(&d->ck_mu);
		worker_submit(d->worker, ckpt_job_run, NULL, j);
		return 0;
	}
	int r = ch_rec ? ckpt_write(d, CKPT_RECOVERY, &d->recovery) : 0;
	int r2 = ch_start ? ckpt_write(d, CKPT_START, &d->start) : 0;
	int r3 = ch_hw ? ckpt_write(d, CKPT_HW, &d->hw) : 0;
	if (r == 0)
		ckpt_mark_written(d);
	if (r == 0 && r2 == 0 && r3 == 0)
		d->ckpt_removed = false;
	if (r < 0 || r2 < 0 || r3 < 0) {
		pthread_mutex_lock(&d->ck_mu);
		d->ck_failed = true;
		pthread_mutex_unlock(&d->ck_mu);
		LOG_ERROR("%s: cannot write checkpoints: %s", d->path,
		          err_str(r < 0    ? r
		                  : r2 < 0 ? r2
		                           : r3));
		return r < 0 ? r : r2 < 0 ? r2 : r3;
	}
	return 0;
}

int logdir_checkpoint(struct logdir *d)
{
	return checkpoint(d, true);
}

int logdir_checkpoint_changed(struct logdir *d)
{
	return checkpoint(d, false);
}

/* Final sync of one log for a clean close: data, then the active indexes. */
static int close_sync(struct plog *l)
{
	if (l->failed || l->sync_inflight)
		return ERR_STORAGE;
	struct segment *act = plog_active(l);
	int r = 0;
	if (act->idx_loaded && (act->active || act->dirty)) {
		index_seal(act);
		r = index_write_files(act, l->dir, true);
		if (r == 0)
			r = file_fdatasync(act->idx_fd);
		if (r == 0)
			r = file_fdatasync(act->tidx_fd);
		file_close(act->idx_fd);
		file_close(act->tidx_fd);
		act->idx_fd = act->tidx_fd = -1;
	}
	if (r == 0)
		r = plog_sync_now(l);
	if (r == 0)
		r = plog__trim_active(l);
	if (r == 0 && l->nepochs > 0)
		r = epochs_write(l, true);
	return r;
}

void logdir_close(struct logdir *d, bool clean)
{
	if (!d)
		return;
	bool ok = clean;
	if (clean) {
		for (int i = 0; i < d->nlogs; i++) {
			struct plog *l = d->logs[i];
			int r = close_sync(l);
			if (r < 0) {
				LOG_ERROR("%s: not closed cleanly: %s", l->dir, err_str(r));
				ok = false;
			}
		}
		/* After an unclean start, partitions not opened since were never
		 * recovered: drop their recovery points so the next start scans
		 * them instead of trusting a stale end. */
		if (!d->was_clean) {
			struct ckpt keep = {0};
			for (int i = 0; i < d->nlogs; i++)
				ckpt_set(&keep, d->logs[i]->topic, d->logs[i]->partition, 0);
			for (int i = 0; i < d->recovery.n;) {
				struct ckpt_entry *e = &d->recovery.e[i];
				if (!ckpt_find(&keep, e->topic, e->partition))
					ckpt_remove(&d->recovery, e->topic, e->partition);
				else
					i++;
			}
			ckpt_release(&keep);
		}
		if (logdir_checkpoint(d) < 0)
			ok = false;
	}
	for (int i = 0; i < d->nlogs; i++) {
		struct plog *l = d->logs[i];
		if (clean)
			plog_run_pending_deletes(l, 0, true);
		close_log(l);
	}
	if (ok) {
		char marker[PATH_MAX_LEN];
		snprintf(marker, sizeof(marker), "%s/%s", d->path, CLEAN_MARKER);
		int r = file_write_atomic(marker, "", 0, true);
		if (r < 0)
			LOG_ERROR("%s: cannot write the clean-shutdown marker: %s", d->path,
			          err_str(r));
	}
	ckpt_release(&d->recovery);
	ckpt_release(&d->start);
	ckpt_release(&d->hw);
	pthread_mutex_destroy(&d->ck_mu);
	pthread_cond_destroy(&d->ck_cv);
	free(d->logs);
	free(d->path);
	free(d);
}
