/*
 * test_log_cache.c: the page cache a log keeps (fjord.log.cache.tail.bytes).
 * After a sync, pages behind the cached tail and before the checkpointed
 * recovery point are dropped. Also: recovery checks data only after the
 * recovery point. Residency is read with mincore(2) on a mapping of the
 * segment.
 */
#include <errno.h>
#include <sys/mman.h>

#include "log_test_util.h"

#define MiB (1024 * 1024)

/* Bytes of the file at path that are in the page cache. */
static int64_t resident_bytes(const char *path)
{
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	size_t len = (size_t)st.st_size;
	long page = sysconf(_SC_PAGESIZE);
	void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	size_t npages = (len + (size_t)page - 1) / (size_t)page;
	unsigned char *vec = malloc(npages);
	CHECK(mincore(m, len, vec) == 0);
	int64_t n = 0;
	for (size_t i = 0; i < npages; i++)
		n += vec[i] & 1;
	free(vec);
	munmap(m, len);
	close(fd);
	return n * page;
}

/* Append about mib MiB in batches of 64 records of 1000 bytes. */
static void append_mib(struct plog *l, int mib)
{
	int64_t target = plog_size_bytes(l) + (int64_t)mib * MiB;
	while (plog_size_bytes(l) < target)
		CHECK_EQ_INT(tb_append(l, 64, 1000, 1000, 0, NULL), 0);
}

static const char *segment0(void)
{
	return tl_path("00000000000000000000.log");
}

/* Append, sync, checkpoint the recovery point, then one more sync drops. */
static void sync_checkpoint_sync(void)
{
	tl_sync(tl_log);
	CHECK_EQ_INT(logdir_checkpoint_changed(tl_dir), 0);
	CHECK_EQ_INT(tb_append(tl_log, 1, 1000, 10, 0, NULL), 0);
	tl_sync(tl_log);
}

TEST(sync_drops_cache_behind_the_tail)
{
	struct log_config cfg = test_cfg();
	cfg.cache_tail_bytes = 4 * MiB;
	tl_open(&cfg);
	append_mib(tl_log, 24);
	sync_checkpoint_sync();
	CHECK_EQ_INT(plog_durable_offset(tl_log), plog_end_offset(tl_log));
	int64_t res = resident_bytes(segment0());
	/* The tail, plus at most the alignment of the drop point. */
	CHECK(res <= 4 * MiB + 2 * MiB + 64 * 1024);
	CHECK(res >= 2 * MiB);
	/* Dropped data is still there: read the first batch back. */
	struct plog_slice s;
	CHECK_EQ_INT(plog_read(tl_log, 0, INT64_MAX, 4096, &s), 0);
	CHECK_EQ_INT(s.first_offset, 0);
	uint8_t *b = tl_slice_bytes(&s);
	struct batch_header h;
	CHECK_EQ_INT(batch_validate(b, (size_t)batch_total_size(b), &h), 0);
	free(b);
	s.ref.release(s.ref.ctx);
	logdir_close(tl_dir, true);
}

/* What a crash recovery would check (after the checkpointed recovery point) stays cached. */
TEST(nothing_dropped_past_the_checkpointed_recovery_point)
{
	struct log_config cfg = test_cfg();
	cfg.cache_tail_bytes = 4 * MiB;
	tl_open(&cfg);
	CHECK_EQ_INT(logdir_checkpoint_changed(tl_dir), 0);
	append_mib(tl_log, 24);
	tl_sync(tl_log);
	CHECK_EQ_INT(tb_append(tl_log, 1, 1000, 10, 0, NULL), 0);
	tl_sync(tl_log);
	/* Synced twice, but the checkpoint on disk still says offset 0. */
	CHECK(resident_bytes(segment0()) >= 20 * MiB);
	sync_checkpoint_sync();
	CHECK(resident_bytes(segment0()) <= 4 * MiB + 2 * MiB + 64 * 1024);
	logdir_close(tl_dir, true);
}

TEST(minus_one_keeps_the_whole_log_cached)
{
	struct log_config cfg = test_cfg();
	cfg.cache_tail_bytes = -1;
	tl_open(&cfg);
	append_mib(tl_log, 24);
	sync_checkpoint_sync();
	CHECK(resident_bytes(segment0()) >= 20 * MiB);
	logdir_close(tl_dir, true);
}

TEST(early_sync_wanted_once_megabytes_lie_behind_the_tail)
{
	struct log_config cfg = test_cfg();
	cfg.cache_tail_bytes = 4 * MiB;
	tl_open(&cfg);
	append_mib(tl_log, 6);
	CHECK(!plog_sync_frees_cache(tl_log));
	append_mib(tl_log, 8);
	CHECK(plog_sync_frees_cache(tl_log));
	tl_sync(tl_log);
	CHECK(!plog_sync_frees_cache(tl_log));
	append_mib(tl_log, 9); /* 5 MiB behind the tail */
	CHECK(!plog_sync_frees_cache(tl_log));
	append_mib(tl_log, 4);
	CHECK(plog_sync_frees_cache(tl_log));
	cfg.cache_tail_bytes = -1;
	plog_set_config(tl_log, &cfg);
	CHECK(!plog_sync_frees_cache(tl_log));
	logdir_close(tl_dir, true);
}

/*
 * After a crash, batches before the checkpointed recovery point were synced:
 * recovery walks their headers without reading them (a flipped byte there is
 * found by the check on read instead), while batches after it are checked
 * and a bad one is cut off.
 */
TEST(recovery_checks_only_after_the_recovery_point)
{
	struct log_config cfg = test_cfg();
	tl_open(&cfg);
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(tb_append(tl_log, 2, 1000, 100, 0, NULL), 0);
	int64_t first_size = plog_size_bytes(tl_log) / 4;
	tl_sync(tl_log);
	CHECK_EQ_INT(logdir_checkpoint_changed(tl_dir), 0); /* recovery point 8 */
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(tb_append(tl_log, 2, 1000, 100, 0, NULL), 0);
	tl_sync(tl_log);
	logdir_close(tl_dir, false);
	/* Flip a value byte in batch 1 (before the point) and in batch 6 (after). */
	int fd = open(segment0(), O_RDWR);
	off_t at[] = {(off_t)(first_size + 80), (off_t)(6 * first_size + 80)};
	for (int i = 0; i < 2; i++) {
		uint8_t c;
		CHECK(pread(fd, &c, 1, at[i]) == 1);
		c ^= 0x40;
		CHECK(pwrite(fd, &c, 1, at[i]) == 1);
	}
	close(fd);
	int64_t scanned = plog_recovery_scanned_bytes();
	tl_open(&cfg);
	/* Cut at batch 6: offsets 0..11 stay. */
	CHECK_EQ_INT(plog_end_offset(tl_log), 12);
	CHECK(plog_recovery_scanned_bytes() > scanned);
	/* Batch 0 reads fine; batch 1 is caught by the read check. */
	struct plog_slice s;
	CHECK_EQ_INT(plog_read(tl_log, 0, INT64_MAX, (int32_t)first_size, &s), 0);
	s.ref.release(s.ref.ctx);
	CHECK(plog_read(tl_log, 2, INT64_MAX, (int32_t)first_size, &s) < 0);
	logdir_close(tl_dir, false);
}

int main(int argc, char **argv)
{
	return unit_main(argc, argv);
}
