/*
 * file.c: the storage file interface (see file.h) and its fault injection.
 *
 * The plain path is a thin loop around the system call that retries EINTR
 * and short transfers. Everything test-related hides behind one relaxed
 * atomic load of fault_on; when it is set, the slow path takes fault_mu,
 * counts the call, fires armed faults and maintains the power-cut table.
 *
 * Power-cut table: one entry per inode touched while tracking, holding the
 * length durable at its last file sync, whether it was created while
 * tracking, and if so whether its directory was fsynced since. See file.h
 * for what apply() undoes and what it leaves alone.
 */
#include "io/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

struct fault_arm {
	int nth;     /* calls left until the fault fires; 0 = disarmed */
	int err;     /* errno to return */
	bool sticky; /* keep failing once fired */
	bool firing; /* sticky fault has fired */
	char *match; /* NULL, or only calls on paths containing this count */
};

struct tracked {
	dev_t dev;
	ino_t ino;
	int64_t durable; /* length durable at the last sync */
	int64_t poison;  /* -1, or: a sync failed, nothing above this is ever durable */
	bool created;    /* created while tracking */
	bool dir_synced; /* its directory was fsynced after the create */
	dev_t dir_dev;
	ino_t dir_ino;
	char *path; /* last known path */
};

static atomic_int fault_on;
static pthread_mutex_t fault_mu = PTHREAD_MUTEX_INITIALIZER;
/*
 * Power-cut guard (FJORD_POWERCUT only): every call that changes a file holds
 * it shared, the power-cut thread takes it exclusively and never lets go, so
 * the cut sees no call half done and nothing runs after it.
 */
static atomic_int cut_guard;
static pthread_rwlock_t cut_lock;
static struct fault_arm arms[FILE_OP__COUNT];
static int64_t counts[FILE_OP__COUNT];
static bool counting, tracking;
static struct tracked *trk;
static int ntrk, cap_trk;

static inline bool faults_enabled(void)
{
	return __builtin_expect(atomic_load_explicit(&fault_on, memory_order_relaxed) != 0, 0);
}

static void fault_update_flag(void)
{
	bool any = counting || tracking;
	for (int i = 0; i < FILE_OP__COUNT; i++)
		if (arms[i].nth > 0 || arms[i].firing)
			any = true;
	atomic_store(&fault_on, any ? 1 : 0);
}

static char *fd_path(int fd);

/* Whether the call (on fd, or on path when fd < 0) is one the arm counts. */
static bool arm_matches(const struct fault_arm *a, int fd, const char *path)
{
	if (!a->match || (a->nth == 0 && !a->firing))
		return true;
	if (fd >= 0) {
		char *p = fd_path(fd);
		bool m = p && strstr(p, a->match) != NULL;
		free(p);
		return m;
	}
	return path && strstr(path, a->match) != NULL;
}

/* Called with fault_mu held: count the call and return -err if it must fail. */
static int fault_fire_locked(enum file_op op, int fd, const char *path)
{
	struct fault_arm *a = &arms[op];
	counts[op]++;
	if (!arm_matches(a, fd, path))
		return 0;
	if (a->firing)
		return -a->err;
	if (a->nth > 0 && --a->nth == 0) {
		if (a->sticky)
			a->firing = true;
		int err = -a->err;
		fault_update_flag();
		return err;
	}
	return 0;
}

static int fault_fire(enum file_op op, int fd, const char *path)
{
	pthread_mutex_lock(&fault_mu);
	int r = fault_fire_locked(op, fd, path);
	pthread_mutex_unlock(&fault_mu);
	return r;
}

static struct tracked *trk_find(dev_t dev, ino_t ino)
{
	for (int i = 0; i < ntrk; i++)
		if (trk[i].dev == dev && trk[i].ino == ino)
			return &trk[i];
	return NULL;
}

/* The path of an open descriptor (Linux /proc), malloc'd, or NULL. */
static char *fd_path(int fd)
{
	char link[64], buf[4096];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	char *p = malloc((size_t)n + 1);
	if (!p)
		abort();
	memcpy(p, buf, (size_t)n + 1);
	return p;
}

static struct tracked *trk_add(int fd, dev_t dev, ino_t ino, int64_t durable)
{
	if (ntrk == cap_trk) {
		cap_trk = cap_trk ? cap_trk * 2 : 64;
		trk = realloc(trk, (size_t)cap_trk * sizeof(*trk));
		if (!trk)
			abort();
	}
	struct tracked *t = &trk[ntrk++];
	memset(t, 0, sizeof(*t));
	t->dev = dev;
	t->ino = ino;
	t->durable = durable;
	t->poison = -1;
	t->path = fd >= 0 ? fd_path(fd) : NULL;
	return t;
}

/* Parent directory of path, as a dev/ino pair. */
static int parent_ident(const char *path, dev_t *dev, ino_t *ino)
{
	char buf[4096];
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(buf, sizeof(buf), ".");
	else if (slash == path)
		snprintf(buf, sizeof(buf), "/");
	else
		snprintf(buf, sizeof(buf), "%.*s", (int)(slash - path), path);
	struct stat st;
	if (stat(buf, &st) < 0)
		return -errno;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (!p)
		abort();
	memcpy(p, s, n);
	return p;
}

/* Track a file about to be written (fd): first sight records its size as durable. */
static void trk_before_write(int fd)
{
	struct stat st;
	if (!tracking || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	if (!trk_find(st.st_dev, st.st_ino))
		trk_add(fd, st.st_dev, st.st_ino, (int64_t)st.st_size);
}

/*
 * A sync made durable what the file held when it started (pre_size, taken
 * before the call): bytes another thread wrote during the sync are not.
 */
static void trk_sync(int fd, int64_t pre_size)
{
	struct stat st;
	if (!tracking || fstat(fd, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		for (int i = 0; i < ntrk; i++)
			if (trk[i].created && trk[i].dir_dev == st.st_dev &&
			    trk[i].dir_ino == st.st_ino)
				trk[i].dir_synced = true;
		return;
	}
	struct tracked *t = trk_find(st.st_dev, st.st_ino);
	if (!t)
		t = trk_add(fd, st.st_dev, st.st_ino, 0);
	t->durable = pre_size < (int64_t)st.st_size ? pre_size : (int64_t)st.st_size;
	if (t->poison >= 0 && t->durable > t->poison)
		t->durable = t->poison;
}

/*
 * A failed sync (Linux, "fsyncgate"): the kernel may drop the dirty pages and
 * report success to the next sync, so bytes written before the failure above
 * the durable length are never trusted again, until the file is cut below.
 */
static void trk_sync_failed(int fd)
{
	struct stat st;
	if (!tracking || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	struct tracked *t = trk_find(st.st_dev, st.st_ino);
	if (!t)
		t = trk_add(fd, st.st_dev, st.st_ino, (int64_t)st.st_size);
	if (t->poison < 0)
		t->poison = t->durable;
}

static bool path_matches(const char *path, const struct tracked *t);

/* What a tracked file held when a file-system sync began. */
struct fs_note {
	dev_t dev;
	ino_t ino;
	int64_t len;
};

/* A file-system sync begins on dev: note what each tracked file there holds. */
static struct fs_note *trk_syncfs_begin(dev_t dev, int *n)
{
	struct fs_note *v = malloc((size_t)(ntrk ? ntrk : 1) * sizeof(*v));
	if (!v)
		abort();
	*n = 0;
	for (int i = 0; i < ntrk; i++) {
		struct tracked *t = &trk[i];
		struct stat st;
		if (t->dev == dev && path_matches(t->path, t) && stat(t->path, &st) == 0)
			v[(*n)++] = (struct fs_note){t->dev, t->ino, (int64_t)st.st_size};
	}
	return v;
}

/* It succeeded: each file noted is durable up to that length, its name too. */
static void trk_syncfs_done(const struct fs_note *v, int n)
{
	for (int i = 0; i < n; i++) {
		struct tracked *t = trk_find(v[i].dev, v[i].ino);
		struct stat st;
		if (!t)
			continue;
		int64_t now = path_matches(t->path, t) && stat(t->path, &st) == 0
		                  ? (int64_t)st.st_size
		                  : v[i].len;
		t->durable = v[i].len < now ? v[i].len : now;
		if (t->poison >= 0 && t->durable > t->poison)
			t->durable = t->poison;
		if (t->created)
			t->dir_synced = true;
	}
}

/*
 * It failed: as for a failed file sync, for every file on dev that held
 * bytes no sync had covered (those are the pages the kernel may drop).
 */
static void trk_syncfs_failed(dev_t dev)
{
	for (int i = 0; i < ntrk; i++) {
		struct tracked *t = &trk[i];
		struct stat st;
		if (t->dev == dev && t->poison < 0 && path_matches(t->path, t) &&
		    stat(t->path, &st) == 0 && (int64_t)st.st_size > t->durable)
			t->poison = t->durable;
	}
}

/* Power-cut guard around a call that changes a file (see cut_lock). */
static inline bool guard_enter(void)
{
	if (__builtin_expect(atomic_load_explicit(&cut_guard, memory_order_relaxed) == 0, 1))
		return false;
	pthread_rwlock_rdlock(&cut_lock);
	return true;
}

static inline void guard_exit(bool held)
{
	if (held)
		pthread_rwlock_unlock(&cut_lock);
}

static int open_guarded(const char *path, int flags, int mode)
{
	bool existed = true;
	if (faults_enabled() && (flags & (O_CREAT | O_DIRECT))) {
		int r = fault_fire(FILE_OP_OPEN, -1, path);
		if (r < 0)
			return r;
		struct stat st;
		existed = stat(path, &st) == 0;
	}
	int fd;
	do
		fd = open(path, flags | O_CLOEXEC, mode);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -errno;
	if (!existed && faults_enabled()) {
		pthread_mutex_lock(&fault_mu);
		struct stat st;
		if (tracking && fstat(fd, &st) == 0) {
			struct tracked *t = trk_find(st.st_dev, st.st_ino);
			if (!t)
				t = trk_add(-1, st.st_dev, st.st_ino, 0);
			t->created = true;
			t->durable = 0;
			free(t->path);
			t->path = dup_str(path);
			if (parent_ident(path, &t->dir_dev, &t->dir_ino) < 0)
				t->created = false;
		}
		pthread_mutex_unlock(&fault_mu);
	}
	return fd;
}

int file_open(const char *path, int flags, int mode)
{
	bool g = (flags & (O_CREAT | O_TRUNC)) ? guard_enter() : false;
	int fd = open_guarded(path, flags, mode);
	guard_exit(g);
	return fd;
}

int file_open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int file_close(int fd)
{
	if (fd < 0)
		return 0;
	/* Linux closes the descriptor even when close reports EINTR: no retry. */
	return close(fd) < 0 && errno != EINTR ? -errno : 0;
}

int file_dup(int fd)
{
	int r = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	return r < 0 ? -errno : r;
}

ssize_t file_pread(int fd, void *buf, size_t n, int64_t off)
{
	if (faults_enabled()) {
		int r = fault_fire(FILE_OP_READ, fd, NULL);
		if (r < 0)
			return r;
	}
	size_t done = 0;
	while (done < n) {
		ssize_t r = pread(fd, (char *)buf + done, n - done, (off_t)(off + (int64_t)done));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

/* pwritev(2) until every piece is written; a short write resumes mid-piece. */
static int pwritev_all(int fd, const struct iovec *iov, int n, int64_t off)
{
	struct iovec cur[16];
	while (n > 0) {
		int k = n < 16 ? n : 16;
		memcpy(cur, iov, (size_t)k * sizeof(*cur));
		struct iovec *v = cur;
		int left = k;
		for (;;) {
			while (left > 0 && v->iov_len == 0) {
				v++;
				left--;
			}
			if (left == 0)
				break;
			ssize_t r = pwritev(fd, v, left, (off_t)off);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			if (r == 0)
				return -ENOSPC;
			off += r;
			while (left > 0 && (size_t)r >= v->iov_len) {
				r -= (ssize_t)v->iov_len;
				v++;
				left--;
			}
			if (left > 0) {
				v->iov_base = (char *)v->iov_base + r;
				v->iov_len -= (size_t)r;
			}
		}
		iov += k;
		n -= k;
	}
	return 0;
}

/* An armed write fault fires (the file is tracked for power cuts): 0 or -errno. */
static int write_fault(int fd)
{
	if (!faults_enabled())
		return 0;
	pthread_mutex_lock(&fault_mu);
	int err = fault_fire_locked(FILE_OP_WRITE, fd, NULL);
	trk_before_write(fd);
	pthread_mutex_unlock(&fault_mu);
	return err;
}

int file_pwritev(int fd, const struct iovec *iov, int n, int64_t off)
{
	bool g = guard_enter();
	int r = write_fault(fd);
	if (r < 0 && n > 0 && iov[0].iov_len / 2 > 0) {
		/* A disk that fails mid-write: half of the first piece lands. */
		struct iovec half = {.iov_base = iov[0].iov_base, .iov_len = iov[0].iov_len / 2};
		(void)pwritev_all(fd, &half, 1, off);
	}
	if (r == 0)
		r = pwritev_all(fd, iov, n, off);
	guard_exit(g);
	return r;
}

int file_pwrite(int fd, const void *buf, size_t n, int64_t off)
{
	struct iovec one = {.iov_base = (void *)buf, .iov_len = n};
	return file_pwritev(fd, &one, 1, off);
}

static int sync_faulty(int fd, bool data_only)
{
	int64_t pre = INT64_MAX;
	if (faults_enabled()) {
		int r = fault_fire(FILE_OP_SYNC, fd, NULL);
		if (r < 0) {
			pthread_mutex_lock(&fault_mu);
			trk_sync_failed(fd);
			pthread_mutex_unlock(&fault_mu);
			return r;
		}
		struct stat st;
		if (fstat(fd, &st) == 0)
			pre = (int64_t)st.st_size;
	}
	int r;
	do
		r = data_only ? fdatasync(fd) : fsync(fd);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (faults_enabled()) {
		pthread_mutex_lock(&fault_mu);
		trk_sync(fd, pre);
		pthread_mutex_unlock(&fault_mu);
	}
	return 0;
}

static int sync_common(int fd, bool data_only)
{
	bool g = guard_enter();
	int r = sync_faulty(fd, data_only);
	guard_exit(g);
	return r;
}

void file_drop_cache(int fd, int64_t off, int64_t len)
{
	if (len > 0)
		(void)posix_fadvise(fd, off, len, POSIX_FADV_DONTNEED);
}

void file_read_ahead(int fd, int64_t off, int64_t len)
{
	if (len > 0)
		(void)posix_fadvise(fd, off, len, POSIX_FADV_WILLNEED);
}

int file_fdatasync(int fd)
{
	return sync_common(fd, true);
}

static int syncfs_faulty(int fd)
{
	struct stat st;
	struct fs_note *notes = NULL;
	int nnotes = 0;
	if (faults_enabled() && fstat(fd, &st) == 0) {
		int r = fault_fire(FILE_OP_SYNC, fd, NULL);
		pthread_mutex_lock(&fault_mu);
		if (r < 0 && tracking)
			trk_syncfs_failed(st.st_dev);
		else if (tracking)
			notes = trk_syncfs_begin(st.st_dev, &nnotes);
		pthread_mutex_unlock(&fault_mu);
		if (r < 0)
			return r;
	}
	int r;
	do
		r = syncfs(fd);
	while (r < 0 && errno == EINTR);
	r = r < 0 ? -errno : 0;
	if (r == 0 && notes) {
		pthread_mutex_lock(&fault_mu);
		if (tracking)
			trk_syncfs_done(notes, nnotes);
		pthread_mutex_unlock(&fault_mu);
	}
	free(notes);
	return r;
}

int file_check_written(int fd)
{
	if (faults_enabled()) {
		int r = fault_fire(FILE_OP_SYNC, fd, NULL);
		if (r < 0) {
			pthread_mutex_lock(&fault_mu);
			trk_sync_failed(fd);
			pthread_mutex_unlock(&fault_mu);
			return r;
		}
	}
	int r;
	do
		r = sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WAIT_AFTER);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

bool file_syncfs_reports_errors(void)
{
	struct utsname u;
	int major = 0, minor = 0;
	if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 5 || (major == 5 && minor >= 8);
}

int file_syncfs(int fd)
{
	bool g = guard_enter();
	int r = syncfs_faulty(fd);
	guard_exit(g);
	return r;
}
int file_fsync(int fd)
{
	return sync_common(fd, false);
}

static int truncate_faulty(int fd, int64_t len)
{
	if (faults_enabled()) {
		pthread_mutex_lock(&fault_mu);
		int err = fault_fire_locked(FILE_OP_TRUNCATE, fd, NULL);
		struct stat st;
		if (!err && tracking && fstat(fd, &st) == 0) {
			struct tracked *t = trk_find(st.st_dev, st.st_ino);
			if (!t)
				t = trk_add(fd, st.st_dev, st.st_ino,
				            len < (int64_t)st.st_size ? len : (int64_t)st.st_size);
			else if (t->durable > len)
				t->durable = len;
			if (t && t->poison >= len)
				t->poison = -1;
		}
		pthread_mutex_unlock(&fault_mu);
		if (err < 0)
			return err;
	}
	int r;
	do
		r = ftruncate(fd, (off_t)len);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

int file_truncate(int fd, int64_t len)
{
	bool g = guard_enter();
	int r = truncate_faulty(fd, len);
	guard_exit(g);
	return r;
}

int file_size(int fd, int64_t *size)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	*size = (int64_t)st.st_size;
	return 0;
}

int file_allocate(int fd, int64_t off, int64_t len)
{
	int r = fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
	if (r < 0 && (errno == EOPNOTSUPP || errno == ENOSYS))
		return 0;
	return r < 0 ? -errno : 0;
}

static int rename_faulty(const char *from, const char *to)
{
	if (faults_enabled()) {
		int err = fault_fire(FILE_OP_RENAME, -1, from);
		if (err < 0)
			return err;
	}
	if (rename(from, to) < 0)
		return -errno;
	if (faults_enabled()) {
		pthread_mutex_lock(&fault_mu);
		struct stat st;
		if (tracking && stat(to, &st) == 0) {
			struct tracked *t = trk_find(st.st_dev, st.st_ino);
			if (t) {
				free(t->path);
				t->path = dup_str(to);
				if (t->created)
					parent_ident(to, &t->dir_dev, &t->dir_ino);
			}
		}
		pthread_mutex_unlock(&fault_mu);
	}
	return 0;
}

int file_rename(const char *from, const char *to)
{
	bool g = guard_enter();
	int r = rename_faulty(from, to);
	guard_exit(g);
	return r;
}

/* Forget a tracked file that is gone: its inode number may be reused by a
 * file created later, which must not inherit its durable length. */
static void trk_forget(dev_t dev, ino_t ino)
{
	struct tracked *t = trk_find(dev, ino);
	if (!t)
		return;
	free(t->path);
	*t = trk[--ntrk];
}

int file_unlink(const char *path)
{
	bool g = guard_enter();
	struct stat st;
	bool known = faults_enabled() && lstat(path, &st) == 0 && st.st_nlink == 1;
	int r = unlink(path) < 0 ? -errno : 0;
	if (r == 0 && known) {
		pthread_mutex_lock(&fault_mu);
		if (tracking)
			trk_forget(st.st_dev, st.st_ino);
		pthread_mutex_unlock(&fault_mu);
	}
	guard_exit(g);
	return r;
}

int file_mkdir(const char *path, int mode)
{
	if (mkdir(path, (mode_t)mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int file_rmdir(const char *path)
{
	return rmdir(path) < 0 ? -errno : 0;
}

int file_sync_dir(const char *path)
{
	int fd = file_open_dir(path);
	if (fd < 0)
		return fd;
	int r = file_fsync(fd);
	file_close(fd);
	return r;
}

int file_remove_tree(const char *path)
{
	DIR *dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *e;
	char buf[4096];
	int ret = 0;
	while ((e = readdir(dir)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(buf, sizeof(buf), "%s/%s", path, e->d_name);
		struct stat st;
		if (lstat(buf, &st) == 0 && S_ISDIR(st.st_mode)) {
			int r = file_remove_tree(buf);
			if (r < 0)
				ret = r;
		} else if (unlink(buf) < 0 && errno != ENOENT) {
			ret = -errno;
		}
	}
	closedir(dir);
	if (rmdir(path) < 0 && errno != ENOENT)
		ret = -errno;
	return ret;
}

int file_stat_size(const char *path, int64_t *size)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	*size = (int64_t)st.st_size;
	return 0;
}

int file_write_atomic(const char *path, const void *data, size_t n, bool sync)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = file_open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fd;
	int r = file_pwrite(fd, data, n, 0);
	if (r == 0 && sync)
		r = file_fsync(fd);
	file_close(fd);
	if (r == 0)
		r = file_rename(tmp, path);
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	if (sync) {
		char dir[4096];
		const char *slash = strrchr(path, '/');
		if (!slash)
			snprintf(dir, sizeof(dir), ".");
		else
			snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
		r = file_sync_dir(dir[0] ? dir : "/");
	}
	return r;
}

ssize_t file_read_all(const char *path, size_t max, char **out)
{
	*out = NULL;
	int fd = file_open(path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	int64_t size;
	int r = file_size(fd, &size);
	if (r < 0) {
		file_close(fd);
		return r;
	}
	if ((uint64_t)size > max) {
		file_close(fd);
		return -EFBIG;
	}
	char *p = malloc((size_t)size + 1);
	if (!p)
		abort();
	ssize_t got = file_pread(fd, p, (size_t)size, 0);
	file_close(fd);
	if (got < 0) {
		free(p);
		return got;
	}
	p[got] = 0;
	*out = p;
	return got;
}

/* ---- fault control ---- */

void file_fault_fail_path(enum file_op op, int nth, int err, bool sticky, const char *match)
{
	pthread_mutex_lock(&fault_mu);
	free(arms[op].match);
	arms[op].match = match && match[0] ? dup_str(match) : NULL;
	arms[op].nth = nth;
	arms[op].err = err;
	arms[op].sticky = sticky;
	arms[op].firing = false;
	fault_update_flag();
	pthread_mutex_unlock(&fault_mu);
}

void file_fault_fail(enum file_op op, int nth, int err, bool sticky)
{
	file_fault_fail_path(op, nth, err, sticky, NULL);
}

int64_t file_fault_count(enum file_op op)
{
	pthread_mutex_lock(&fault_mu);
	int64_t c = counts[op];
	pthread_mutex_unlock(&fault_mu);
	return c;
}

void file_fault_count_enable(void)
{
	pthread_mutex_lock(&fault_mu);
	counting = true;
	fault_update_flag();
	pthread_mutex_unlock(&fault_mu);
}

static void trk_clear(void)
{
	for (int i = 0; i < ntrk; i++)
		free(trk[i].path);
	free(trk);
	trk = NULL;
	ntrk = cap_trk = 0;
}

void file_fault_reset(void)
{
	pthread_mutex_lock(&fault_mu);
	for (int i = 0; i < FILE_OP__COUNT; i++)
		free(arms[i].match);
	memset(arms, 0, sizeof(arms));
	memset(counts, 0, sizeof(counts));
	counting = tracking = false;
	trk_clear();
	fault_update_flag();
	pthread_mutex_unlock(&fault_mu);
}

void file_fault_powercut_begin(void)
{
	pthread_mutex_lock(&fault_mu);
	trk_clear();
	tracking = true;
	fault_update_flag();
	pthread_mutex_unlock(&fault_mu);
}

/* Find the current path of an inode: the recorded one if it still matches. */
static bool path_matches(const char *path, const struct tracked *t)
{
	struct stat st;
	return path && stat(path, &st) == 0 && st.st_dev == t->dev && st.st_ino == t->ino;
}

int file_fault_powercut_apply(void)
{
	pthread_mutex_lock(&fault_mu);
	int n = 0;
	for (int i = 0; i < ntrk; i++) {
		struct tracked *t = &trk[i];
		if (t->created && !t->dir_synced) {
			if (path_matches(t->path, t) && unlink(t->path) == 0)
				n++;
			continue;
		}
		/* A file renamed over or unlinked since is gone: nothing to cut. */
		if (!path_matches(t->path, t))
			continue;
		struct stat st;
		if (stat(t->path, &st) == 0 && (int64_t)st.st_size > t->durable) {
			if (truncate(t->path, (off_t)t->durable) == 0)
				n++;
		}
	}
	tracking = false;
	trk_clear();
	fault_update_flag();
	pthread_mutex_unlock(&fault_mu);
	return n;
}

/* ---- test hooks from the environment ---- */

static const struct {
	const char *name;
	enum file_op op;
} op_names[] = {
    {"write", FILE_OP_WRITE},   {"fsync", FILE_OP_SYNC},        {"sync", FILE_OP_SYNC},
    {"rename", FILE_OP_RENAME}, {"truncate", FILE_OP_TRUNCATE}, {"open", FILE_OP_OPEN},
    {"read", FILE_OP_READ},
};

static const struct {
	const char *name;
	int err;
} errno_names[] = {
    {"EIO", EIO},     {"ENOSPC", ENOSPC}, {"EDQUOT", EDQUOT},
    {"EROFS", EROFS}, {"EMFILE", EMFILE}, {"ENOMEM", ENOMEM},
};

static bool parse_int(const char *s, size_t n, int *out)
{
	long v = 0;
	if (n == 0 || n > 9)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = (int)v;
	return true;
}

/* One "op:N:ERR[:sticky][:path=SUBSTR]" item (n bytes at s); false if malformed. */
static bool parse_fault_item(const char *s, size_t n)
{
	const char *f[5];
	size_t fl[5];
	int nf = 0;
	const char *p = s, *end = s + n;
	while (nf < 5) {
		const char *c = memchr(p, ':', (size_t)(end - p));
		if (!c || nf == 4)
			c = end;
		f[nf] = p;
		fl[nf] = (size_t)(c - p);
		nf++;
		if (c == end)
			break;
		p = c + 1;
	}
	if (nf < 3)
		return false;
	int op = -1, nth = 0, err = 0;
	for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (strlen(op_names[i].name) == fl[0] && !memcmp(op_names[i].name, f[0], fl[0]))
			op = (int)op_names[i].op;
	if (op < 0 || !parse_int(f[1], fl[1], &nth) || nth < 1)
		return false;
	for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (strlen(errno_names[i].name) == fl[2] &&
		    !memcmp(errno_names[i].name, f[2], fl[2]))
			err = errno_names[i].err;
	if (!err && (!parse_int(f[2], fl[2], &err) || err < 1))
		return false;
	bool sticky = false;
	char match[256] = "";
	for (int i = 3; i < nf; i++) {
		if (fl[i] == 6 && !memcmp(f[i], "sticky", 6))
			sticky = true;
		else if (fl[i] > 5 && fl[i] - 5 < sizeof(match) && !memcmp(f[i], "path=", 5))
			snprintf(match, sizeof(match), "%.*s", (int)(fl[i] - 5), f[i] + 5);
		else
			return false;
	}
	file_fault_fail_path((enum file_op)op, nth, err, sticky, match);
	return true;
}

int file_fault_parse(const char *spec)
{
	const char *p = spec;
	while (*p) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		if (n > 0 && !parse_fault_item(p, n))
			return -EINVAL;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/*
 * The power-cut thread: waits for SIGUSR2 (blocked in every thread, so only
 * sigwait here receives it), stops every file change by taking the guard for
 * good, cuts, and exits like a killed process. Nothing of this runs in a
 * signal handler.
 */
static void *powercut_thread(void *arg)
{
	sigset_t *set = arg;
	int sig = 0;
	while (sigwait(set, &sig) != 0 || sig != SIGUSR2)
		;
	pthread_rwlock_wrlock(&cut_lock);
	int n = file_fault_powercut_apply();
	char msg[128];
	int len =
	    snprintf(msg, sizeof(msg), "fjord: TEST HOOK: power cut applied (%d files cut)\n", n);
	if (len > 0 && write(2, msg, (size_t)len) < 0)
		len = 0;
	_exit(137);
	return NULL;
}

static int start_powercut_hook(void)
{
	static sigset_t set;
	pthread_rwlockattr_t attr;
	pthread_rwlockattr_init(&attr);
	/* A waiting cut must not starve behind a stream of writes. */
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&cut_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	/* Threads created later inherit the mask of this (the main) thread. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_t th;
	if (pthread_create(&th, NULL, powercut_thread, &set) != 0)
		return -EAGAIN;
	pthread_detach(th);
	atomic_store(&cut_guard, 1);
	file_fault_powercut_begin();
	return 0;
}

int file_fault_from_env(void)
{
	static bool done;
	if (done)
		return 0;
	done = true;
	const char *faults = getenv("FJORD_FAULTS");
	const char *cut = getenv("FJORD_POWERCUT");
	int r = 0;
	if (faults && faults[0]) {
		r = file_fault_parse(faults);
		if (r < 0) {
			fprintf(stderr, "fjord: FJORD_FAULTS: cannot parse \"%s\"\n", faults);
			return r;
		}
		fprintf(stderr, "fjord: TEST HOOK: fault injection armed: %s\n", faults);
	}
	if (cut && cut[0] && strcmp(cut, "0") != 0) {
		r = start_powercut_hook();
		if (r < 0)
			return r;
		fprintf(stderr,
		        "fjord: TEST HOOK: power-cut tracking on; SIGUSR2 cuts and exits 137\n");
	}
	return 0;
}

/* Read once at load time, before main(): no call from main.c is needed. */
__attribute__((constructor)) static void file_fault_env_init(void)
{
	if (file_fault_from_env() < 0)
		_exit(2);
}
