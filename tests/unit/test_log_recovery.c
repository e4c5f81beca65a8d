/*
 * test_log_recovery.c: partition log — reopen after clean and unclean
 * shutdowns, torn and corrupt tails, bad indexes, injected write and fsync
 * failures, simulated power cuts, the group-commit protocol, and the cost of
 * opening many partitions.
 */
#include <errno.h>
#include <malloc.h>
#include <time.h>

#include <sys/resource.h>

#include "base/clock.h"
#include "io/worker.h"
#include "log_test_util.h"

static int64_t append_n(struct plog *l, int n, int nrec, int vlen)
{
	for (int i = 0; i < n; i++)
		CHECK_EQ_INT(tb_append(l, nrec, 1000 + i, vlen, 0, NULL), 0);
	return plog_end_offset(l);
}

static void check_readable(struct plog *l, int nrec)
{
	int64_t o = plog_start_offset(l);
	while (o < plog_end_offset(l)) {
		struct plog_slice s;
		CHECK_EQ_INT(plog_read(l, o, INT64_MAX, 1, &s), 0);
		CHECK_EQ_INT(s.first_offset, o);
		CHECK_EQ_INT(s.next_offset, o + nrec);
		uint8_t *b = tl_slice_bytes(&s);
		struct batch_header h;
		CHECK_EQ_INT(batch_validate(b, (size_t)s.ref.len, &h), 0);
		CHECK_EQ_INT(h.base_offset, o);
		free(b);
		s.ref.release(s.ref.ctx);
		o = s.next_offset;
	}
}

TEST(clean_reopen_scans_nothing)
{
	struct log_config cfg = test_cfg();
	cfg.segment_bytes = 4000;
	cfg.index_interval_bytes = 500;
	tl_open(&cfg);
	int64_t leo = append_n(tl_log, 100, 2, 100);
	CHECK(plog_segment_count(tl_log) > 3);
	logdir_close(tl_dir, true);
	int64_t scanned = plog_recovery_scanned_bytes();
	file_fault_count_enable();
	tl_open(&cfg);
	/* reads: the three checkpoints and leader-epoch-checkpoint, nothing else */
	CHECK(file_fault_count(FILE_OP_READ) <= 4);
	CHECK_EQ_INT(plog_recovery_scanned_bytes(), scanned);
	CHECK_EQ_INT(plog_end_offset(tl_log), leo);
	CHECK_EQ_INT(plog_durable_offset(tl_log), leo);
	check_readable(tl_log, 2);
	append_n(tl_log, 10, 2, 100);
	check_readable(tl_log, 2);
	file_fault_reset();
	logdir_close(tl_dir, true);
}

TEST(unclean_reopen_scans_since_checkpoint)
{
	struct log_config cfg = test_cfg();
	cfg.segment_bytes = 4000;
	tl_open(&cfg);
	append_n(tl_log, 100, 2, 100);
	tl_sync(tl_log);
	CHECK_EQ_INT(logdir_checkpoint(tl_dir), 0);
	int64_t leo = append_n(tl_log, 20, 2, 100);
	int64_t total = plog_size_bytes(tl_log);
	logdir_close(tl_dir, false);
	int64_t before = plog_recovery_scanned_bytes();
	tl_open(&cfg);
	int64_t scanned = plog_recovery_scanned_bytes() - before;
	CHECK(scanned > 0);
	CHECK(scanned < total / 2);
	CHECK_EQ_INT(plog_end_offset(tl_log), leo);
	check_readable(tl_log, 2);
	/* without any checkpoint every segment is scanned */
	logdir_close(tl_dir, false);
	char path[4096];
	snprintf(path, sizeof(path), "%s/recovery-point-offset-checkpoint", unit_tmpdir());
	CHECK_EQ_INT(unlink(path), 0);
	before = plog_recovery_scanned_bytes();
	tl_open(&cfg);
	CHECK_EQ_INT(plog_recovery_scanned_bytes() - before, total);
	CHECK_EQ_INT(plog_end_offset(tl_log), leo);
	logdir_close(tl_dir, true);
}

static void append_raw(const char *name, const void *p, size_t n)
{
	int fd = open(tl_path(name), O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	CHECK(write(fd, p, n) == (ssize_t)n);
	close(fd);
}

/* The recovery point recorded for t-0 in the checkpoint file, or -1. */
static int64_t recovery_point_on_disk(void)
{
	char path[4096], *txt = NULL;
	snprintf(path, sizeof(path), "%s/recovery-point-offset-checkpoint", unit_tmpdir());
	if (file_read_all(path, 1 << 20, &txt) <= 0)
		return -1;
	const char *line = strstr(txt, "\nt 0 ");
	int64_t v = line ? strtoll(line + 5, NULL, 10) : -1;
	free(txt);
	return v;
}

/* One checkpoint handed to a worker pool, and the pool drained (the write is done). */
static void checkpoint_on_worker(void)
{
	struct worker_pool *w;
	CHECK_EQ_INT(worker_pool_new(NULL, 1, &w), 0);
	logdir_set_worker(tl_dir, w);
	CHECK_EQ_INT(logdir_checkpoint_changed(tl_dir), 0);
	worker_pool_free(w); /* runs what is queued */
	logdir_set_worker(tl_dir, NULL);
}

TEST(checkpoint_written_on_the_worker)
{
	struct log_config cfg = test_cfg();
	tl_open(&cfg);
	append_n(tl_log, 10, 1, 100);
	tl_sync(tl_log);
	checkpoint_on_worker();
	CHECK_EQ_INT(recovery_point_on_disk(), 10);
	logdir_close(tl_dir, true);
}

TEST(failed_checkpoint_write_is_redone)
{
	struct log_config cfg = test_cfg();
	tl_open(&cfg);
	append_n(tl_log, 10, 1, 100);
	tl_sync(tl_log);
	checkpoint_on_worker();
	append_n(tl_log, 5, 1, 100);
	tl_sync(tl_log);
	file_fault_fail_path(FILE_OP_RENAME, 1, EIO, false, "recovery-point");
	checkpoint_on_worker();
	file_fault_reset();
	CHECK_EQ_INT(recovery_point_on_disk(), 10); /* the failed write left the old file */
	/* Nothing changed since, yet the next checkpoint writes again. */
	checkpoint_on_worker();
	CHECK_EQ_INT(recovery_point_on_disk(), 15);
	logdir_close(tl_dir, true);
}

TEST(torn_tail_garbage_and_partial_batch)
{
	struct log_config cfg = test_cfg();
	tl_open(&cfg);
	int64_t leo = append_n(tl_log, 5, 3, 50);
	int64_t size = plog_size_bytes(tl_log);
	logdir_close(tl_dir, false);
	/* half a batch */
	struct tbatch t = tb_make(3, 0, 50);
	append_raw("00000000000000000000.log", t.p, t.n / 2);
	tl_open(&cfg);
	CHECK_EQ_INT(plog_end_offset(tl_log), leo);
	CHECK_EQ_INT(tl_file_size("00000000000000000000.log"), size);
	check_readable(tl_log, 3);
	logdir_close(tl_dir, false);
	/* garbage */
	append_raw("00000000000000000000.log", "\x01\x02garbage-garbage-garbage", 24);
	tl_open(&cfg);
	CHECK_EQ_INT(plog_end_offset(tl_log), leo);
	CHECK_EQ_INT(tl_file_size("00000000000000000000.log"), size);
	/* a whole valid batch with a stale offset (non-monotonic) goes too */
	logdir_close(tl_dir, false);
	append_raw("00000000000000000000.log", t.p, t.n); /* base offset 0 again */
	tl_open(&cfg);
	CHECK_EQ_INT(plog_end_offset(tl_log), leo);
	CHECK_EQ_INT(tl_file_size("00000000000000000000.log"), size);
	struct plog_append_result res;
	CHECK_EQ_INT(tb_append(tl_log, 3, 0, 50, 0, &res), 0);
	CHECK_EQ_INT(res.base_offset, leo);
	check_readable(tl_log, 3);
	tb_free(&t);
	logdir_close(tl_dir, true);
}

TEST(flipped_byte_truncates_at_that_batch)
{
	struct log_config cfg = test_cfg();
	cfg.segment_bytes = 1200;
	tl_open(&cfg);
	struct tbatch t = tb_make(2, 0, 100);
	size_t bsz = t.n;
	tb_free(&t);
	append_n(tl_log, 12, 2, 100);
	int nseg = plog_segment_count(tl_log);
	CHECK(nseg >= 3);
	logdir_close(tl_dir, false);
	/* corrupt the value of the 2nd batch of the first segment */
	int fd = open(tl_path("00000000000000000000.log"), O_RDWR);
	uint8_t c;
	CHECK(pread(fd, &c, 1, (off_t)(bsz + 80)) == 1);
	c ^= 0x40;
	CHECK(pwrite(fd, &c, 1, (off_t)(bsz + 80)) == 1);
	close(fd);
	tl_open(&cfg);
	CHECK_EQ_INT(plog_end_offset(tl_log), 2);
	CHECK_EQ_INT(plog_segment_count(tl_log), 1);
	CHECK_EQ_INT(tl_file_size("00000000000000000000.log"), bsz);
	CHECK_EQ_INT(tl_file_size("00000000000000000010.log"), -1);
	check_readable(tl_log, 2);
	append_n(tl_log, 3, 2, 100);
	check_readable(tl_log, 2);
	logdir_close(tl_dir, true);
}

#include <dirent.h>
static int64_t second_segment_base(void)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/t-0", unit_tmpdir());
	DIR *d = opendir(dir);
	struct dirent *e;
	int64_t b1 = INT64_MAX, b2 = INT64_MAX;
	while ((e = readdir(d)) != NULL) {
		if (strlen(e->d_name) != 24 || strcmp(e->d_name + 20, ".log") != 0)
			continue;
		int64_t b = strtoll(e->d_name, NULL, 10);
		if (b < b1) {
			b2 = b1;
			b1 = b;
		} else if (b < b2) {
			b2 = b;
		}
	}
	closedir(d);
	CHECK(b2 != INT64_MAX);
	return b2;
}

TEST(bad_index_rebuilt)
{
	struct log_config cfg = test_cfg();
	cfg.segment_bytes = 4000;
	cfg.index_interval_bytes = 300;
	tl_open(&cfg);
	append_n(tl_log, 60, 2, 100);
	logdir_close(tl_dir, true);
	/* a torn entry, and an entry pointing past the log */
	append_raw("00000000000000000000.index", "\x00\x00\x00", 3);
	uint8_t e[8];
	be32_store(e, 1000);
	be32_store(e + 4, 1u << 30);
	char name[64], tname[64];
	int64_t base2 = second_segment_base();
	snprintf(name, sizeof(name), "%020lld.index", (long long)base2);
	snprintf(tname, sizeof(tname), "%020lld.timeindex", (long long)base2);
	append_raw(name, e, 8);
	append_raw(tname, "zzzzzzzzzzzz", 12);
	tl_open(&cfg);
	check_readable(tl_log, 2);
	CHECK_EQ_INT(tl_file_size("00000000000000000000.index") % 8, 0);
	int64_t off, ts;
	CHECK_EQ_INT(plog_max_timestamp(tl_log, &off, &ts), 0);
	CHECK_EQ_INT(ts, 1060);
	logdir_close(tl_dir, true);
}

TEST(clean_start_with_stale_end_is_repaired)
{
	struct log_config cfg = test_cfg();
	tl_open(&cfg);
	int64_t leo = append_n(tl_log, 4, 2, 50);
	logdir_close(tl_dir, true);
	/* bytes the checkpoint does not know about: a valid batch at leo */
	struct tbatch t = tb_make(2, 0, 50);
	be64_store(t.p, (uint64_t)leo);
	append_raw("00000000000000000000.log", t.p, t.n);
	tb_free(&t);
	tl_open(&cfg);
	CHECK_EQ_INT(plog_end_offset(tl_log), leo); /* trusted, nothing read */
	struct plog_append_result res;
	CHECK_EQ_INT(tb_append(tl_log, 2, 0, 50, 0, &res), 0);
	CHECK_EQ_INT(res.base_offset, leo + 2); /* the tail was checked first */
	check_readable(tl_log, 2);
	logdir_close(tl_dir, true);
}

TEST(fault_write_fails_log_failed)
{
	struct log_config cfg = test_cfg();
	tl_open(&cfg);
	int64_t leo = append_n(tl_log, 5, 2, 500);
	int64_t size = tl_file_size("00000000000000000000.log");
	file_fault_fail(FILE_OP_WRITE, 1, EIO, false);
	CHECK_EQ_INT(tb_append(tl_log, 2, 0, 500, 0, NULL), ERR_STORAGE);
	CHECK(plog_failed(tl_log));
	CHECK_EQ_INT(tl_file_size("00000000000000000000.log"), size); /* half write cut back */
	CHECK_EQ_INT(plog_end_offset(tl_log), leo);
	CHECK_EQ_INT(tb_append(tl_log, 2, 0, 500, 0, NULL), ERR_STORAGE);
	check_readable(tl_log, 2);
	struct plog_sync s;
	CHECK_EQ_INT(plog_sync_prepare(tl_log, &s), 0);
	logdir_close(tl_dir, true); /* a failed log makes the shutdown unclean */
	tl_open(&cfg);
	CHECK(!logdir_was_clean(tl_dir));
	CHECK(!plog_failed(tl_log));
	CHECK_EQ_INT(plog_end_offset(tl_log), leo);
	CHECK_EQ_INT(tb_append(tl_log, 2, 0, 500, 0, NULL), 0);
	check_readable(tl_log, 2);
	logdir_close(tl_dir, true);
}

TEST(fault_enospc_on_roll)
{
	struct log_config cfg = test_cfg();
	cfg.segment_bytes = 1000;
	tl_open(&cfg);
	append_n(tl_log, 2, 1, 300);
	file_fault_fail(FILE_OP_OPEN, 1, ENOSPC, false);
	/* the third batch needs a new segment, whose file cannot be created */
	CHECK_EQ_INT(tb_append(tl_log, 1, 0, 300, 0, NULL), ERR_STORAGE);
	CHECK(plog_failed(tl_log));
	CHECK_EQ_INT(plog_end_offset(tl_log), 2);
	logdir_close(tl_dir, false);
	file_fault_reset();
	tl_open(&cfg);
	CHECK_EQ_INT(plog_end_offset(tl_log), 2);
	check_readable(tl_log, 1);
	logdir_close(tl_dir, true);
}

TEST(fault_fsync_fails)
{
	struct log_config cfg = test_cfg();
	tl_open(&cfg);
	tl_sync(tl_log);
	int64_t leo = append_n(tl_log, 3, 2, 50);
	struct plog_sync s;
	CHECK_EQ_INT(plog_sync_prepare(tl_log, &s), 1);
	file_fault_fail(FILE_OP_SYNC, 1, EIO, false);
	plog_sync_run(&s);
	CHECK_EQ_INT(s.err, -EIO);
	plog_sync_complete(&s);
	CHECK(plog_failed(tl_log));
	CHECK_EQ_INT(plog_durable_offset(tl_log), 0);
	CHECK_EQ_INT(plog_end_offset(tl_log), leo);
	CHECK_EQ_INT(tb_append(tl_log, 2, 0, 50, 0, NULL), ERR_STORAGE);
	CHECK_EQ_INT(plog_sync_prepare(tl_log, &s), 0);
	logdir_close(tl_dir, false);
}

TEST(power_cut_keeps_only_synced)
{
	struct log_config cfg = test_cfg();
	cfg.segment_bytes = 1000;
	tl_open(&cfg);
	tl_sync(tl_log);
	file_fault_powercut_begin();
	append_n(tl_log, 2, 1, 300);
	tl_sync(tl_log);
	int64_t synced = plog_durable_offset(tl_log);
	CHECK_EQ_INT(synced, 2);
	/* more, including a roll into a new segment file, never synced */
	append_n(tl_log, 5, 1, 300);
	CHECK(plog_segment_count(tl_log) >= 2);
	logdir_close(tl_dir, false);
	CHECK(file_fault_powercut_apply() > 0);
	CHECK_EQ_INT(tl_file_size("00000000000000000003.log"), -1);
	tl_open(&cfg);
	CHECK_EQ_INT(plog_end_offset(tl_log), synced);
	check_readable(tl_log, 1);
	logdir_close(tl_dir, true);
}

TEST(power_cut_after_synced_roll)
{
	struct log_config cfg = test_cfg();
	cfg.segment_bytes = 1000;
	tl_open(&cfg);
	tl_sync(tl_log);
	file_fault_powercut_begin();
	int64_t leo = append_n(tl_log, 8, 1, 300);
	tl_sync(tl_log);
	CHECK_EQ_INT(plog_durable_offset(tl_log), leo);
	append_n(tl_log, 1, 1, 300);
	logdir_close(tl_dir, false);
	file_fault_powercut_apply();
	tl_open(&cfg);
	CHECK_EQ_INT(plog_end_offset(tl_log), leo);
	check_readable(tl_log, 1);
	logdir_close(tl_dir, true);
}

TEST(sync_group_commit)
{
	struct log_config cfg = test_cfg();
	cfg.segment_bytes = 1000;
	tl_open(&cfg);
	struct plog_sync s, s2;
	/* a fresh log: its folder and first segment need directory syncs */
	CHECK_EQ_INT(plog_sync_prepare(tl_log, &s), 1);
	CHECK(s.dir_fd >= 0);
	CHECK(s.parent_dir_fd >= 0);
	plog_sync_run(&s);
	plog_sync_complete(&s);
	CHECK_EQ_INT(plog_sync_prepare(tl_log, &s), 0);

	append_n(tl_log, 2, 3, 50);
	CHECK_EQ_INT(plog_unflushed_messages(tl_log), 6);
	CHECK_EQ_INT(plog_sync_prepare(tl_log, &s), 1);
	CHECK_EQ_INT(s.nfds, 1);
	CHECK_EQ_INT(s.dir_fd, -1);
	CHECK_EQ_INT(s.target_offset, 6);
	CHECK_EQ_INT(plog_sync_prepare(tl_log, &s2), 0); /* one in flight */
	append_n(tl_log, 1, 3, 50);                      /* appended meanwhile */
	plog_sync_run(&s);
	CHECK_EQ_INT(s.err, 0);
	CHECK(s.latency_ns > 0);
	plog_sync_complete(&s);
	CHECK_EQ_INT(plog_durable_offset(tl_log), 6);
	CHECK_EQ_INT(plog_unflushed_messages(tl_log), 3);
	CHECK_EQ_INT(plog_sync_prepare(tl_log, &s), 1);
	CHECK_EQ_INT(s.target_offset, 9);
	plog_sync_run(&s);
	plog_sync_complete(&s);
	CHECK_EQ_INT(plog_durable_offset(tl_log), 9);
	CHECK_EQ_INT(plog_unflushed_messages(tl_log), 0);
	CHECK_EQ_INT(plog_sync_prepare(tl_log, &s), 0);

	/* a roll: old .log + its two indexes + new .log + the directory */
	append_n(tl_log, 3, 3, 50);
	CHECK_EQ_INT(plog_segment_count(tl_log), 2);
	CHECK_EQ_INT(plog_sync_prepare(tl_log, &s), 1);
	CHECK_EQ_INT(s.nfds, 4);
	CHECK(s.dir_fd >= 0);
	CHECK_EQ_INT(s.target_offset, plog_end_offset(tl_log));
	plog_sync_run(&s);
	plog_sync_complete(&s);
	CHECK_EQ_INT(plog_durable_offset(tl_log), plog_end_offset(tl_log));

	/* several rolls between syncs: covered in steps */
	append_n(tl_log, 16, 3, 50);
	CHECK(plog_segment_count(tl_log) >= 5);
	int rounds = 0;
	int64_t last = plog_durable_offset(tl_log);
	while (plog_sync_prepare(tl_log, &s) == 1) {
		CHECK(s.target_offset > last);
		plog_sync_run(&s);
		plog_sync_complete(&s);
		CHECK_EQ_INT(plog_durable_offset(tl_log), s.target_offset);
		last = s.target_offset;
		rounds++;
	}
	CHECK(rounds >= 2);
	CHECK_EQ_INT(plog_durable_offset(tl_log), plog_end_offset(tl_log));
	logdir_close(tl_dir, true);
}

TEST(sync_with_truncate_in_flight)
{
	struct log_config cfg = test_cfg();
	tl_open(&cfg);
	tl_sync(tl_log);
	append_n(tl_log, 5, 2, 50);
	struct plog_sync s;
	CHECK_EQ_INT(plog_sync_prepare(tl_log, &s), 1);
	CHECK_EQ_INT(plog_truncate_to(tl_log, 4), 0);
	append_n(tl_log, 5, 2, 50);
	plog_sync_run(&s);
	plog_sync_complete(&s);
	CHECK(plog_durable_offset(tl_log) <= 4);
	tl_sync(tl_log);
	CHECK_EQ_INT(plog_durable_offset(tl_log), 14);
	logdir_close(tl_dir, true);
}

TEST(delete_log_with_sync_in_flight)
{
	struct log_config cfg = test_cfg();
	tl_open(&cfg);
	append_n(tl_log, 3, 1, 50);
	struct plog_sync s;
	CHECK_EQ_INT(plog_sync_prepare(tl_log, &s), 1);
	CHECK_EQ_INT(logdir_delete_log(tl_dir, tl_log), 0);
	plog_sync_run(&s);
	plog_sync_complete(&s); /* frees the log */
	logdir_close(tl_dir, true);
}

static struct logdir *many_dir;
static int many_opened;
static void many_cb(void *arg, const char *topic, int32_t partition)
{
	struct log_config *cfg = arg;
	struct plog *l;
	CHECK_EQ_INT(logdir_open_log(many_dir, topic, partition, cfg, false, &l), 0);
	many_opened++;
}

TEST(many_partitions_open_fast_and_small)
{
	logging_level = LOG_LEVEL_ERROR;
	struct log_config cfg = test_cfg();
	const int n = 10000;
	CHECK_EQ_INT(logdir_open(unit_tmpdir(), &many_dir), 0);
	for (int i = 0; i < n; i++) {
		struct plog *l;
		CHECK_EQ_INT(logdir_open_log(many_dir, "many", i, &cfg, true, &l), 0);
		CHECK_EQ_INT(tb_append(l, 2, 0, 20, 0, NULL), 0);
	}
	logdir_close(many_dir, true);
	int64_t scanned = plog_recovery_scanned_bytes();
	struct mallinfo2 m0 = mallinfo2();
	int64_t t0 = clock_mono_ms();
	CHECK_EQ_INT(logdir_open(unit_tmpdir(), &many_dir), 0);
	logdir_scan(many_dir, many_cb, &cfg);
	int64_t ms = clock_mono_ms() - t0;
	struct mallinfo2 m1 = mallinfo2();
	CHECK_EQ_INT(many_opened, n);
	CHECK_EQ_INT(plog_recovery_scanned_bytes(), scanned);
	size_t per = (m1.uordblks - m0.uordblks) / (size_t)n;
	fprintf(stderr, "  opened %d partitions in %lld ms, %zu bytes each\n", n, (long long)ms,
	        per);
	CHECK(ms < 10000);
	CHECK(per < 2048);
	logdir_close(many_dir, true);
}

int main(int argc, char **argv)
{
	return unit_main(argc, argv);
}
