/*
 * test_log_direct.c: direct writes (fjord.log.direct.writes, direct.c).
 * Appends are staged in memory until a sync writes them; reads never see
 * past the durable offset meanwhile; after the sync the file holds the
 * appended bytes (whole blocks by O_DIRECT, the last one padded), across
 * partial blocks, syncs that overlap new appends, chunk boundaries, rolls, a
 * switch back to buffered appends and an unclean close; the padding is cut
 * off when a segment is sealed and synced, at a clean close, and by recovery;
 * with relaxed flushing, write jobs put staged data in the files without a
 * sync.
 * The fault sweeps of test_log_faults.c also run with direct writes.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log/log_int.h"
#include "log_test_util.h"

/* Every byte appended, as stored (base offsets filled in by the log). */
static uint8_t *want;
static size_t nwant, capwant;

static void want_reset(void)
{
	free(want);
	want = NULL;
	nwant = capwant = 0;
}

/* Append nrec records of vlen bytes and remember the stored bytes. */
static void append(struct plog *l, int nrec, int vlen)
{
	struct tbatch t = tb_make_ts(nrec, NULL, 1000, vlen, (uint8_t)('a' + nwant % 26));
	struct plog_append_result res;
	CHECK_EQ_INT(plog_append(l, t.p, t.n, 0, 0, &res), 0);
	if (nwant + t.n > capwant) {
		capwant = (nwant + t.n) * 2;
		want = realloc(want, capwant);
	}
	memcpy(want + nwant, t.p, t.n);
	nwant += t.n;
	tb_free(&t);
}

static struct log_config direct_cfg(void)
{
	struct log_config c = test_cfg();
	c.direct_writes = true;
	c.direct_min_bytes = 0;
	return c;
}

/* The whole log read back through plog_read equals what was appended. */
static void check_log_bytes(struct plog *l)
{
	size_t off = 0;
	int64_t o = plog_start_offset(l);
	while (o < plog_end_offset(l)) {
		struct plog_slice s;
		CHECK_EQ_INT(plog_read(l, o, INT64_MAX, 1 << 22, &s), 0);
		CHECK(s.ref.len > 0);
		if (s.ref.len <= 0)
			return;
		uint8_t *b = tl_slice_bytes(&s);
		CHECK(off + (size_t)s.ref.len <= nwant);
		CHECK(memcmp(b, want + off, (size_t)s.ref.len) == 0);
		off += (size_t)s.ref.len;
		o = s.next_offset;
		free(b);
		s.ref.release(s.ref.ctx);
	}
	CHECK_EQ_INT(off, nwant);
}

/*
 * The file of segment base starts with bytes [from, from + n) of want, and
 * is exactly that long, or (exact false) runs on to the end of its last
 * block: the padding of a direct write.
 */
static void check_file_as(int64_t base, size_t from, size_t n, bool exact)
{
	char name[64];
	snprintf(name, sizeof(name), "%020lld.log", (long long)base);
	int64_t size = tl_file_size(name), padded = ((int64_t)n + 4095) / 4096 * 4096;
	if (exact || size == (int64_t)n)
		CHECK_EQ_INT(size, (int64_t)n);
	else
		CHECK_EQ_INT(size, padded);
	int fd = open(tl_path(name), O_RDONLY);
	CHECK(fd >= 0);
	uint8_t *b = malloc(n + 1);
	CHECK_EQ_INT(file_pread(fd, b, n, 0), (int64_t)n);
	CHECK(memcmp(b, want + from, n) == 0);
	free(b);
	close(fd);
}

static void check_file(int64_t base, size_t from, size_t n)
{
	check_file_as(base, from, n, false);
}

TEST(staged_until_synced_then_exact_bytes)
{
	struct log_config cfg = direct_cfg();
	tl_open(&cfg);
	want_reset();
	/* Odd sizes: every sync ends inside a block. */
	for (int round = 0; round < 6; round++) {
		for (int i = 0; i < 3; i++)
			append(tl_log, 1 + i, 97 + round * 131 + i * 17);
		/* Nothing staged is in the file or readable yet. */
		struct plog_slice s;
		int64_t durable = plog_durable_offset(tl_log);
		CHECK(plog_end_offset(tl_log) > durable);
		CHECK_EQ_INT(plog_read(tl_log, durable, INT64_MAX, 1 << 20, &s), 0);
		CHECK_EQ_INT(s.ref.len, 0);
		tl_sync(tl_log);
		CHECK_EQ_INT(plog_durable_offset(tl_log), plog_end_offset(tl_log));
		check_file(0, 0, nwant);
	}
	check_log_bytes(tl_log);
	tl_reopen(&cfg, true);
	check_log_bytes(tl_log);
	logdir_close(tl_dir, true);
	want_reset();
}

TEST(appends_during_a_sync_are_written_by_the_next)
{
	struct log_config cfg = direct_cfg();
	tl_open(&cfg);
	want_reset();
	append(tl_log, 3, 333);
	int64_t first_end = plog_end_offset(tl_log);
	size_t first_bytes = nwant;
	struct plog_sync s;
	CHECK_EQ_INT(plog_sync_prepare(tl_log, &s), 1);
	/* While the first sync is "running", more appends share its last block. */
	append(tl_log, 2, 500);
	append(tl_log, 1, 5000);
	plog_sync_run(&s);
	plog_sync_complete(&s);
	CHECK_EQ_INT(s.err, 0);
	CHECK_EQ_INT(plog_durable_offset(tl_log), first_end);
	check_file(0, 0, first_bytes);
	struct plog_slice sl;
	CHECK_EQ_INT(plog_read(tl_log, 0, INT64_MAX, 1 << 20, &sl), 0);
	CHECK_EQ_INT(sl.next_offset, first_end); /* the rest is not readable yet */
	sl.ref.release(sl.ref.ctx);
	tl_sync(tl_log);
	check_file(0, 0, nwant);
	check_log_bytes(tl_log);
	logdir_close(tl_dir, true);
	want_reset();
}

TEST(large_appends_cross_chunks_and_chunks_return)
{
	struct log_config cfg = direct_cfg();
	tl_open(&cfg);
	want_reset();
	int64_t before = plog_direct_chunks_in_use();
	for (int i = 0; i < 5; i++)
		append(tl_log, 300, 1500 + i); /* about 460 KB each */
	CHECK(plog_direct_chunks_in_use() >= before + 2);
	tl_sync(tl_log);
	CHECK_EQ_INT(plog_direct_chunks_in_use(), before);
	check_file(0, 0, nwant);
	check_log_bytes(tl_log);
	logdir_close(tl_dir, true);
	want_reset();
}

TEST(rolls_before_a_sync_write_every_segment)
{
	struct log_config cfg = direct_cfg();
	cfg.segment_bytes = 3000;
	tl_open(&cfg);
	want_reset();
	for (int i = 0; i < 20; i++)
		append(tl_log, 1 + i % 2, 700 + i * 11);
	CHECK(plog_segment_count(tl_log) > 4); /* more than one sync's worth of files */
	tl_sync(tl_log);
	CHECK_EQ_INT(plog_durable_offset(tl_log), plog_end_offset(tl_log));
	check_log_bytes(tl_log);
	tl_reopen(&cfg, true);
	check_log_bytes(tl_log);
	tl_reopen(&cfg, false); /* and after a full scan */
	check_log_bytes(tl_log);
	logdir_close(tl_dir, true);
	want_reset();
}

TEST(switching_to_buffered_writes_the_staged_data_first)
{
	struct log_config cfg = direct_cfg();
	tl_open(&cfg);
	want_reset();
	append(tl_log, 2, 900);
	CHECK_EQ_INT(tl_file_size("00000000000000000000.log"), 0);
	cfg.direct_writes = false;
	plog_set_config(tl_log, &cfg);
	append(tl_log, 1, 300); /* drains, then goes through the page cache */
	check_file(0, 0, nwant);
	tl_sync(tl_log);
	check_log_bytes(tl_log);
	/* And back: the stream starts again from the file's partial block. */
	cfg.direct_writes = true;
	plog_set_config(tl_log, &cfg);
	append(tl_log, 4, 123);
	append(tl_log, 1, 2000);
	tl_sync(tl_log);
	check_file(0, 0, nwant);
	check_log_bytes(tl_log);
	logdir_close(tl_dir, true);
	want_reset();
}

TEST(small_appends_stay_buffered_below_the_threshold)
{
	struct log_config cfg = direct_cfg();
	cfg.direct_min_bytes = 64 * 1024;
	tl_open(&cfg);
	want_reset();
	append(tl_log, 2, 500); /* small: written at once */
	CHECK_EQ_INT(tl_file_size("00000000000000000000.log"), (int64_t)nwant);
	CHECK(!plog_staged(tl_log));
	append(tl_log, 60, 1200); /* past 64 KiB unsynced: staged */
	CHECK(plog_staged(tl_log));
	CHECK(tl_file_size("00000000000000000000.log") < (int64_t)nwant);
	append(tl_log, 1, 10); /* joins the stream */
	tl_sync(tl_log);
	CHECK(!plog_staged(tl_log));
	check_file(0, 0, nwant);
	check_log_bytes(tl_log);
	logdir_close(tl_dir, true);
	want_reset();
}

TEST(no_o_direct_falls_back_to_the_page_cache)
{
	struct log_config cfg = direct_cfg();
	tl_open(&cfg);
	want_reset();
	/* A file system that refuses O_DIRECT (EINVAL on open). */
	file_fault_fail_path(FILE_OP_OPEN, 1, EINVAL, true, "/proc/self/fd/");
	append(tl_log, 40, 300);
	CHECK(plog_staged(tl_log));
	tl_sync(tl_log);
	CHECK(!plog_failed(tl_log));
	check_file(0, 0, nwant);
	append(tl_log, 40, 300); /* no longer staged */
	CHECK(!plog_staged(tl_log));
	check_file(0, 0, nwant);
	file_fault_reset();
	tl_sync(tl_log);
	check_log_bytes(tl_log);
	logdir_close(tl_dir, true);
	want_reset();
}

TEST(unclean_close_loses_only_what_no_sync_covered)
{
	struct log_config cfg = direct_cfg();
	tl_open(&cfg);
	want_reset();
	append(tl_log, 2, 800);
	tl_sync(tl_log);
	size_t synced = nwant;
	int64_t durable = plog_durable_offset(tl_log);
	append(tl_log, 2, 800); /* staged only */
	logdir_close(tl_dir, false);
	nwant = synced;
	tl_open(&cfg);
	CHECK_EQ_INT(plog_end_offset(tl_log), durable);
	check_log_bytes(tl_log);
	append(tl_log, 1, 50);
	tl_sync(tl_log);
	check_file(0, 0, nwant);
	logdir_close(tl_dir, true);
	want_reset();
}

TEST(padding_is_cut_when_sealed_at_a_clean_close_and_by_recovery)
{
	struct log_config cfg = direct_cfg();
	tl_open(&cfg);
	want_reset();
	append(tl_log, 3, 555);
	tl_sync(tl_log);
	/* The active segment ends with its last block, padded with zeros. */
	int64_t size = tl_file_size("00000000000000000000.log");
	CHECK(size > (int64_t)nwant && size % 4096 == 0);
	uint8_t pad[4096];
	int fd = open(tl_path("00000000000000000000.log"), O_RDONLY);
	CHECK_EQ_INT(file_pread(fd, pad, (size_t)(size - (int64_t)nwant), (int64_t)nwant),
	             size - (int64_t)nwant);
	close(fd);
	for (int64_t i = 0; i < size - (int64_t)nwant; i++)
		if (pad[i] != 0)
			CHECK(!"padding is zeros");
	/* Sealed by a roll: the recovery point stays inside the padded segment
	 * until a sync has cut the padding off durably. */
	size_t first = nwant;
	int64_t first_end = plog_end_offset(tl_log);
	CHECK_EQ_INT(plog_roll(tl_log, 0), 0);
	CHECK_EQ_INT(plog__recovery_point(tl_log), first_end - 1);
	append(tl_log, 2, 777);
	tl_sync(tl_log);
	check_file_as(0, 0, first, true);
	CHECK_EQ_INT(plog__recovery_point(tl_log), plog_durable_offset(tl_log));
	char second[64];
	snprintf(second, sizeof(second), "%020lld.log", (long long)first_end);
	CHECK(tl_file_size(second) % 4096 == 0);
	/* A clean close cuts the active segment's padding too. */
	tl_reopen(&cfg, true);
	check_file_as(first_end, first, nwant - first, true);
	check_log_bytes(tl_log);
	/* After a crash, recovery cuts it. */
	append(tl_log, 1, 3000);
	tl_sync(tl_log);
	CHECK(tl_file_size(second) % 4096 == 0);
	logdir_close(tl_dir, false);
	tl_open(&cfg);
	check_file_as(first_end, first, nwant - first, true);
	check_log_bytes(tl_log);
	logdir_close(tl_dir, true);
	want_reset();
}

/* Run one write job (relaxed flushing) to completion; 1 if there was one. */
static int write_job(struct plog *l)
{
	struct plog_sync s;
	int r = plog_write_prepare(l, &s);
	CHECK(r >= 0);
	if (r != 1)
		return r;
	CHECK(s.write_only);
	plog_sync_run(&s);
	plog_sync_complete(&s);
	CHECK_EQ_INT(s.err, 0);
	return 1;
}

TEST(relaxed_write_jobs_put_staged_data_in_the_files_without_a_sync)
{
	struct log_config cfg = direct_cfg();
	cfg.sync_before_ack = false;
	tl_open(&cfg);
	want_reset();
	append(tl_log, 2, 500);
	tl_sync(tl_log);
	int64_t durable = plog_durable_offset(tl_log);
	for (int round = 0; round < 4; round++) {
		int64_t before = plog_end_offset(tl_log);
		append(tl_log, 3, 700 + round * 911);
		CHECK(plog_staged(tl_log));
		CHECK_EQ_INT(plog_written_offset(tl_log), before);
		struct plog_slice sl;
		CHECK_EQ_INT(plog_read(tl_log, before, INT64_MAX, 1 << 20, &sl), 0);
		CHECK_EQ_INT(sl.ref.len, 0); /* not in the files yet */
		CHECK_EQ_INT(write_job(tl_log), 1);
		CHECK(!plog_staged(tl_log));
		CHECK_EQ_INT(plog_written_offset(tl_log), plog_end_offset(tl_log));
		CHECK_EQ_INT(plog_durable_offset(tl_log), durable); /* no sync */
		check_file(0, 0, nwant);
	}
	CHECK_EQ_INT(write_job(tl_log), 0); /* nothing staged */
	check_log_bytes(tl_log);
	/* A process crash keeps what the write jobs wrote (the page cache has
	 * the partial blocks, the device the rest). */
	logdir_close(tl_dir, false);
	tl_open(&cfg);
	check_log_bytes(tl_log);
	logdir_close(tl_dir, true);
	want_reset();
}

TEST(relaxed_appends_during_a_write_wait_for_the_next_job)
{
	struct log_config cfg = direct_cfg();
	cfg.sync_before_ack = false;
	tl_open(&cfg);
	want_reset();
	append(tl_log, 4, 900);
	int64_t first_end = plog_end_offset(tl_log);
	struct plog_sync s;
	CHECK_EQ_INT(plog_write_prepare(tl_log, &s), 1);
	struct plog_sync other;
	CHECK_EQ_INT(plog_sync_prepare(tl_log, &other), 0); /* one job at a time */
	append(tl_log, 2, 300);
	plog_sync_run(&s);
	plog_sync_complete(&s);
	CHECK_EQ_INT(plog_written_offset(tl_log), first_end);
	CHECK(plog_staged(tl_log));
	/* A sync writes the rest and makes it all durable. */
	tl_sync(tl_log);
	CHECK_EQ_INT(plog_durable_offset(tl_log), plog_end_offset(tl_log));
	CHECK_EQ_INT(plog_written_offset(tl_log), plog_end_offset(tl_log));
	check_file(0, 0, nwant);
	check_log_bytes(tl_log);
	logdir_close(tl_dir, true);
	want_reset();
}

TEST(relaxed_logs_stage_only_large_appends)
{
	struct log_config cfg = direct_cfg();
	cfg.sync_before_ack = false;
	cfg.direct_min_bytes = 16 * 1024;
	tl_open(&cfg);
	want_reset();
	/* Many small appends: far more than 16 KiB unsynced, all buffered. */
	for (int i = 0; i < 20; i++)
		append(tl_log, 2, 1000);
	CHECK(!plog_staged(tl_log));
	CHECK_EQ_INT(plog_written_offset(tl_log), plog_end_offset(tl_log));
	append(tl_log, 20, 1000); /* one append of 20 KB: staged */
	CHECK(plog_staged(tl_log));
	CHECK_EQ_INT(write_job(tl_log), 1);
	check_file(0, 0, nwant);
	check_log_bytes(tl_log);
	logdir_close(tl_dir, true);
	want_reset();
}

TEST(a_failed_write_job_leaves_its_appends_unwritten)
{
	struct log_config cfg = direct_cfg();
	cfg.sync_before_ack = false;
	tl_open(&cfg);
	want_reset();
	append(tl_log, 2, 400);
	CHECK_EQ_INT(write_job(tl_log), 1);
	int64_t written = plog_written_offset(tl_log);
	CHECK_EQ_INT(written, plog_end_offset(tl_log));
	append(tl_log, 3, 3000);
	file_fault_fail_path(FILE_OP_WRITE, 1, EIO, true, ".log");
	struct plog_sync s;
	CHECK_EQ_INT(plog_write_prepare(tl_log, &s), 1);
	plog_sync_run(&s);
	plog_sync_complete(&s);
	file_fault_reset();
	CHECK(s.err != 0);
	CHECK(plog_failed(tl_log));
	/* Neither acks nor reads may pass what reached the file. */
	CHECK_EQ_INT(plog_written_offset(tl_log), written);
	struct plog_slice sl;
	CHECK_EQ_INT(plog_read(tl_log, written, INT64_MAX, 1 << 20, &sl), 0);
	CHECK_EQ_INT(sl.ref.len, 0);
	logdir_close(tl_dir, false);
	want_reset();
}

/* Pages of [0, len) of the file resident in the page cache. */
static int64_t resident_bytes(const char *name, int64_t len)
{
	int fd = open(tl_path(name), O_RDONLY);
	CHECK(fd >= 0);
	void *m = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	long pg = sysconf(_SC_PAGESIZE);
	size_t n = (size_t)((len + pg - 1) / pg);
	unsigned char *vec = calloc(n, 1);
	CHECK_EQ_INT(mincore(m, (size_t)len, vec), 0);
	int64_t res = 0;
	for (size_t i = 0; i < n; i++)
		res += (vec[i] & 1) ? pg : 0;
	free(vec);
	munmap(m, (size_t)len);
	close(fd);
	return res;
}

TEST(reads_start_readahead_of_what_follows)
{
	struct log_config cfg = direct_cfg();
	tl_open(&cfg);
	want_reset();
	for (int i = 0; i < 16; i++)
		append(tl_log, 50, 1200); /* about 1 MB, written by O_DIRECT */
	tl_sync(tl_log);
	const char *name = "00000000000000000000.log";
	int64_t len = (int64_t)nwant - (int64_t)nwant % 4096;
	CHECK(resident_bytes(name, len) < len / 2); /* direct writes bypass the cache */
	/* A consumer reads the first batch: the rest of the segment is read ahead. */
	struct plog_slice sl;
	CHECK_EQ_INT(plog_read(tl_log, 0, INT64_MAX, 1000, &sl), 0);
	CHECK(sl.ref.len > 0);
	sl.ref.release(sl.ref.ctx);
	/*
	 * Nearly all of it: the kernel may reclaim a page that nobody has
	 * touched yet (DAMON reclaim runs on some machines), so one missing
	 * page is not a failure; without the readahead, under half is resident.
	 */
	int64_t res = 0, most = len - len / 10;
	for (int k = 0; k < 200 && (res = resident_bytes(name, len)) < most; k++)
		usleep(10000);
	CHECK(res >= most);
	check_log_bytes(tl_log);
	logdir_close(tl_dir, true);
	want_reset();
}

TEST(relaxed_staged_logs_still_sync_now_and_then)
{
	/* No ack waits for a sync, but the recovery point must not fall
	 * arbitrarily far behind: an early sync is due every 64 MiB or so. */
	struct log_config cfg = direct_cfg();
	cfg.sync_before_ack = false;
	cfg.cache_tail_bytes = 0;
	tl_open(&cfg);
	want_reset();
	tl_sync(tl_log);
	int64_t appended = 0;
	bool due = false;
	while (!due && appended < 80 * 1024 * 1024) {
		size_t before = nwant;
		append(tl_log, 500, 2000); /* about 1 MB, staged */
		appended += (int64_t)(nwant - before);
		CHECK(plog_staged(tl_log));
		due = plog_sync_frees_cache(tl_log);
		CHECK_EQ_INT(write_job(tl_log), 1);
		nwant = 0; /* the bytes are not checked here */
	}
	CHECK(due);
	CHECK(appended >= 60 * 1024 * 1024);
	tl_sync(tl_log);
	CHECK(!plog_sync_frees_cache(tl_log));
	logdir_close(tl_dir, true);
	want_reset();
}

int main(int argc, char **argv)
{
	return unit_main(argc, argv);
}
