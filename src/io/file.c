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
#include <sys/stat.h>
#include <unistd.h>

struct fault_arm {
	int nth;     /* calls left until the fault fires; 0 = disarmed */
	int err;     /* errno to return */
	bool sticky; /* keep failing once fired */
	bool firing; /* sticky fault has fired */
};

struct tracked {
	dev_t dev;
	ino_t ino;
	int64_t durable; /* length durable at the last sync */
	bool created;    /* created while tracking */
	bool dir_synced; /* its directory was fsynced after the create */
	dev_t dir_dev;
	ino_t dir_ino;
	char *path; /* last known path */
};

static atomic_int fault_on;
static pthread_mutex_t fault_mu = PTHREAD_MUTEX_INITIALIZER;
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

/* Called with fault_mu held: count the call and return -err if it must fail. */
static int fault_fire_locked(enum file_op op)
{
	struct fault_arm *a = &arms[op];
	counts[op]++;
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

static int fault_fire(enum file_op op)
{
	pthread_mutex_lock(&fault_mu);
	int r = fault_fire_locked(op);
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

static void trk_sync(int fd)
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
	t->durable = (int64_t)st.st_size;
}

int file_open(const char *path, int flags, int mode)
{
	bool existed = true;
	if (faults_enabled() && (flags & O_CREAT)) {
		int r = fault_fire(FILE_OP_OPEN);
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
		int r = fault_fire(FILE_OP_READ);
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

static int pwrite_all(int fd, const void *buf, size_t n, int64_t off)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r =
		    pwrite(fd, (const char *)buf + done, n - done, (off_t)(off + (int64_t)done));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -ENOSPC;
		done += (size_t)r;
	}
	return 0;
}

int file_pwrite(int fd, const void *buf, size_t n, int64_t off)
{
	if (faults_enabled()) {
		pthread_mutex_lock(&fault_mu);
		int err = fault_fire_locked(FILE_OP_WRITE);
		trk_before_write(fd);
		pthread_mutex_unlock(&fault_mu);
		if (err < 0) {
			/* A disk that fails mid-write: half the bytes land. */
			if (n / 2 > 0 && pwrite_all(fd, buf, n / 2, off) < 0)
				return err;
			return err;
		}
	}
	return pwrite_all(fd, buf, n, off);
}

static int sync_common(int fd, bool data_only)
{
	if (faults_enabled()) {
		int r = fault_fire(FILE_OP_SYNC);
		if (r < 0)
			return r;
	}
	int r;
	do
		r = data_only ? fdatasync(fd) : fsync(fd);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (faults_enabled()) {
		pthread_mutex_lock(&fault_mu);
		trk_sync(fd);
		pthread_mutex_unlock(&fault_mu);
	}
	return 0;
}

int file_fdatasync(int fd)
{
	return sync_common(fd, true);
}
int file_fsync(int fd)
{
	return sync_common(fd, false);
}

int file_truncate(int fd, int64_t len)
{
	if (faults_enabled()) {
		pthread_mutex_lock(&fault_mu);
		int err = fault_fire_locked(FILE_OP_TRUNCATE);
		struct stat st;
		if (!err && tracking && fstat(fd, &st) == 0) {
			struct tracked *t = trk_find(st.st_dev, st.st_ino);
			if (!t)
				t = trk_add(fd, st.st_dev, st.st_ino,
				            len < (int64_t)st.st_size ? len : (int64_t)st.st_size);
			else if (t->durable > len)
				t->durable = len;
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

int file_rename(const char *from, const char *to)
{
	if (faults_enabled()) {
		int err = fault_fire(FILE_OP_RENAME);
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

int file_unlink(const char *path)
{
	return unlink(path) < 0 ? -errno : 0;
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

void file_fault_fail(enum file_op op, int nth, int err, bool sticky)
{
	pthread_mutex_lock(&fault_mu);
	arms[op].nth = nth;
	arms[op].err = err;
	arms[op].sticky = sticky;
	arms[op].firing = false;
	fault_update_flag();
	pthread_mutex_unlock(&fault_mu);
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
