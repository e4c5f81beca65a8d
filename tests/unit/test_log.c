/*
 * test_log.c: partition log — append, read, roll, indexes, timestamps,
 * retention, truncation, epochs. Recovery and faults: test_log_recovery.c.
 */
#include "log_test_util.h"

TEST(append_read_roundtrip)
{
	struct log_config cfg = test_cfg();
	tl_open(&cfg);
	uint8_t *all = malloc(1 << 20);
	size_t total = 0;
	for (int i = 0; i < 20; i++) {
		struct tbatch t = tb_make(1 + i % 4, 1000 + i, 10 + i * 7);
		struct plog_append_result res;
		CHECK_EQ_INT(plog_append(tl_log, t.p, t.n, 3, 5000, &res), 0);
		memcpy(all + total, t.p, t.n); /* as modified in place */
		total += t.n;
		CHECK_EQ_INT(res.log_append_time, -1);
		tb_free(&t);
	}
	struct plog_slice s;
	CHECK_EQ_INT(plog_read(tl_log, 0, INT64_MAX, 1 << 20, &s), 0);
	CHECK_EQ_INT(s.ref.len, total);
	CHECK_EQ_INT(s.first_offset, 0);
	CHECK_EQ_INT(s.next_offset, plog_end_offset(tl_log));
	uint8_t *got = tl_slice_bytes(&s);
	CHECK(memcmp(got, all, total) == 0);
	s.ref.release(s.ref.ctx);
	/* every stored batch validates and carries offset and epoch */
	size_t pos = 0;
	int64_t expect = 0;
	while (pos < total) {
		struct batch_header h;
		int64_t n = batch_total_size(all + pos);
		CHECK_EQ_INT(batch_validate(all + pos, (size_t)n, &h), 0);
		CHECK_EQ_INT(h.base_offset, expect);
		CHECK_EQ_INT(h.leader_epoch, 3);
		expect += h.record_count;
		pos += (size_t)n;
	}
	CHECK_EQ_INT(plog_size_bytes(tl_log), total);
	free(got);
	free(all);
	logdir_close(tl_dir, true);
}

TEST(offsets_assigned)
{
	struct log_config cfg = test_cfg();
	tl_open(&cfg);
	struct plog_append_result res;
	for (int i = 0; i < 5; i++) {
		CHECK_EQ_INT(tb_append(tl_log, 3, 100, 5, 0, &res), 0);
		CHECK_EQ_INT(res.base_offset, i * 3);
		CHECK_EQ_INT(res.last_offset, i * 3 + 2);
	}
	CHECK_EQ_INT(plog_end_offset(tl_log), 15);
	CHECK_EQ_INT(plog_start_offset(tl_log), 0);
	CHECK_EQ_INT(plog_unflushed_messages(tl_log), 15);
	logdir_close(tl_dir, true);
}

TEST(read_mid_batch_limits_and_ranges)
{
	struct log_config cfg = test_cfg();
	tl_open(&cfg);
	struct tbatch t = tb_make(3, 100, 20);
	size_t bsz = t.n;
	tb_free(&t);
	for (int i = 0; i < 10; i++)
		CHECK_EQ_INT(tb_append(tl_log, 3, 100, 20, 0, NULL), 0);
	struct plog_slice s;
	/* middle of a batch: the containing batch */
	CHECK_EQ_INT(plog_read(tl_log, 4, INT64_MAX, 1, &s), 0);
	CHECK_EQ_INT(s.first_offset, 3);
	CHECK_EQ_INT(s.next_offset, 6);
	CHECK_EQ_INT(s.ref.len, bsz); /* KIP-74: one whole batch over max_bytes */
	CHECK_EQ_INT(s.ref.off, bsz);
	s.ref.release(s.ref.ctx);
	/* max_bytes: two and a half batches -> two */
	CHECK_EQ_INT(plog_read(tl_log, 0, INT64_MAX, (int32_t)(bsz * 5 / 2), &s), 0);
	CHECK_EQ_INT(s.ref.len, 2 * bsz);
	CHECK_EQ_INT(s.next_offset, 6);
	s.ref.release(s.ref.ctx);
	/* upto: batches with base offset below 7 only (0, 3, 6) */
	CHECK_EQ_INT(plog_read(tl_log, 0, 7, 1 << 20, &s), 0);
	CHECK_EQ_INT(s.next_offset, 9);
	CHECK_EQ_INT(s.ref.len, 3 * bsz);
	s.ref.release(s.ref.ctx);
	CHECK_EQ_INT(plog_read(tl_log, 9, 9, 1 << 20, &s), 0);
	CHECK_EQ_INT(s.ref.len, 0);
	s.ref.release(s.ref.ctx);
	/* at the end: empty, not an error; beyond: out of range */
	CHECK_EQ_INT(plog_read(tl_log, 30, INT64_MAX, 1 << 20, &s), 0);
	CHECK_EQ_INT(s.ref.len, 0);
	CHECK_EQ_INT(s.next_offset, 30);
	s.ref.release(s.ref.ctx);
	CHECK_EQ_INT(plog_read(tl_log, 31, INT64_MAX, 1 << 20, &s), ERR_OUT_OF_RANGE);
	CHECK_EQ_INT(plog_read(tl_log, -1, INT64_MAX, 1 << 20, &s), ERR_OUT_OF_RANGE);
	logdir_close(tl_dir, true);
}

TEST(roll_by_size_and_oversize_batch)
{
	struct log_config cfg = test_cfg();
	cfg.segment_bytes = 1000;
	tl_open(&cfg);
	struct tbatch t = tb_make(1, 0, 200);
	size_t bsz = t.n; /* ~270 bytes: 3 per segment */
	tb_free(&t);
	for (int i = 0; i < 9; i++)
		CHECK_EQ_INT(tb_append(tl_log, 1, 0, 200, 0, NULL), 0);
	CHECK_EQ_INT(plog_segment_count(tl_log), (int)((9 + (1000 / bsz) - 1) / (1000 / bsz)));
	CHECK(tl_file_size("00000000000000000000.log") > 0);
	CHECK(tl_file_size("00000000000000000003.log") > 0);
	CHECK(tl_file_size("00000000000000000003.index") >= 0);
	CHECK(tl_file_size("00000000000000000003.timeindex") >= 0);
	/* a batch larger than a segment goes alone into a fresh segment */
	int before = plog_segment_count(tl_log);
	struct plog_append_result res;
	CHECK_EQ_INT(tb_append(tl_log, 2, 0, 1500, 0, &res), 0);
	CHECK_EQ_INT(plog_segment_count(tl_log), before + 1);
	CHECK_EQ_INT(tb_append(tl_log, 1, 0, 10, 0, NULL), 0);
	CHECK_EQ_INT(plog_segment_count(tl_log), before + 2);
	struct plog_slice s;
	CHECK_EQ_INT(plog_read(tl_log, res.base_offset + 1, INT64_MAX, 100, &s), 0);
	CHECK_EQ_INT(s.first_offset, res.base_offset);
	CHECK(s.ref.len > 1500);
	CHECK_EQ_INT(s.ref.off, 0);
	s.ref.release(s.ref.ctx);
	/* reads never cross a segment */
	CHECK_EQ_INT(plog_read(tl_log, 0, INT64_MAX, 1 << 20, &s), 0);
	CHECK_EQ_INT(s.next_offset, 1000 / bsz);
	s.ref.release(s.ref.ctx);
	logdir_close(tl_dir, true);
}

TEST(roll_by_time)
{
	struct log_config cfg = test_cfg();
	cfg.segment_ms = 100;
	tl_open(&cfg);
	CHECK_EQ_INT(tb_append(tl_log, 1, 1000, 10, 1000, NULL), 0);
	CHECK_EQ_INT(tb_append(tl_log, 1, 1050, 10, 1050, NULL), 0);
	CHECK_EQ_INT(plog_segment_count(tl_log), 1);
	CHECK_EQ_INT(tb_append(tl_log, 1, 1100, 10, 1100, NULL), 0);
	CHECK_EQ_INT(plog_segment_count(tl_log), 2);
	/* retention also rolls an expired active segment */
	CHECK_EQ_INT(plog_enforce_retention(tl_log, 1300), 0);
	CHECK_EQ_INT(plog_segment_count(tl_log), 3);
	logdir_close(tl_dir, true);
}

/* Check every offset of a multi-segment log reads its containing batch. */
static void check_all_offsets(struct plog *l, int64_t leo, int nrec)
{
	for (int64_t o = 0; o < leo; o++) {
		struct plog_slice s;
		CHECK_EQ_INT(plog_read(l, o, INT64_MAX, 1, &s), 0);
		CHECK_EQ_INT(s.first_offset, o - o % nrec);
		CHECK_EQ_INT(s.next_offset, o - o % nrec + nrec);
		uint8_t *b = tl_slice_bytes(&s);
		CHECK_EQ_INT((int64_t)be64_load(b), s.first_offset);
		struct batch_header h;
		CHECK_EQ_INT(batch_validate(b, (size_t)s.ref.len, &h), 0);
		free(b);
		s.ref.release(s.ref.ctx);
	}
}

TEST(index_lookups_many_segments)
{
	struct log_config cfg = test_cfg();
	cfg.segment_bytes = 8192;
	cfg.index_interval_bytes = 300;
	tl_open(&cfg);
	for (int i = 0; i < 400; i++)
		CHECK_EQ_INT(tb_append(tl_log, 2, i, 40 + i % 50, 0, NULL), 0);
	int64_t leo = plog_end_offset(tl_log);
	CHECK_EQ_INT(leo, 800);
	CHECK(plog_segment_count(tl_log) > 8);
	CHECK(tl_file_size("00000000000000000000.index") > 0);
	CHECK_EQ_INT(tl_file_size("00000000000000000000.index") % 8, 0);
	CHECK_EQ_INT(tl_file_size("00000000000000000000.timeindex") % 12, 0);
	check_all_offsets(tl_log, leo, 2);
	/* after a clean reopen nothing is in memory: index + scan path */
	tl_reopen(&cfg, true);
	CHECK_EQ_INT(plog_end_offset(tl_log), leo);
	check_all_offsets(tl_log, leo, 2);
	/* and keeps appending correctly */
	struct plog_append_result res;
	CHECK_EQ_INT(tb_append(tl_log, 2, 5000, 10, 0, &res), 0);
	CHECK_EQ_INT(res.base_offset, leo);
	check_all_offsets(tl_log, leo + 2, 2);
	logdir_close(tl_dir, true);
}

TEST(offset_for_timestamp_and_max)
{
	struct log_config cfg = test_cfg();
	cfg.segment_bytes = 2000;
	cfg.index_interval_bytes = 200;
	tl_open(&cfg);
	/* batch i holds 3 records at 1000*i + {5, 1, 9}, except a peak batch */
	for (int i = 0; i < 60; i++) {
		int64_t ts[3] = {1000 * i + 5, 1000 * i + 1, 1000 * i + 9};
		if (i == 37) {
			ts[0] = 900000;
			ts[1] = 999999;
			ts[2] = 999999;
		}
		struct tbatch t = tb_make_ts(3, ts, 0, 30, 'x');
		struct plog_append_result res;
		CHECK_EQ_INT(plog_append(tl_log, t.p, t.n, 0, 0, &res), 0);
		tb_free(&t);
	}
	CHECK(plog_segment_count(tl_log) > 3);
	for (int pass = 0; pass < 2; pass++) {
		int64_t off, ts;
		CHECK_EQ_INT(plog_offset_for_timestamp(tl_log, 0, &off, &ts), 0);
		CHECK_EQ_INT(off, 0);
		CHECK_EQ_INT(ts, 5);
		CHECK_EQ_INT(plog_offset_for_timestamp(tl_log, 12006, &off, &ts), 0);
		CHECK_EQ_INT(off, 12 * 3 + 2);
		CHECK_EQ_INT(ts, 12009);
		CHECK_EQ_INT(plog_offset_for_timestamp(tl_log, 20002, &off, &ts), 0);
		CHECK_EQ_INT(off, 20 * 3);
		CHECK_EQ_INT(ts, 20005);
		/* later than batch 36 but before 37's first record: 37's first record */
		CHECK_EQ_INT(plog_offset_for_timestamp(tl_log, 36010, &off, &ts), 0);
		CHECK_EQ_INT(off, 37 * 3);
		CHECK_EQ_INT(ts, 900000);
		CHECK_EQ_INT(plog_offset_for_timestamp(tl_log, 999999, &off, &ts), 0);
		CHECK_EQ_INT(off, 37 * 3 + 1);
		CHECK_EQ_INT(plog_offset_for_timestamp(tl_log, 1000000, &off, &ts), ERR_NOT_FOUND);
		CHECK_EQ_INT(plog_max_timestamp(tl_log, &off, &ts), 0);
		CHECK_EQ_INT(off, 37 * 3 + 1);
		CHECK_EQ_INT(ts, 999999);
		tl_reopen(&cfg, pass == 0);
	}
	logdir_close(tl_dir, true);
}

TEST(max_timestamp_empty_and_log_append_time)
{
	struct log_config cfg = test_cfg();
	cfg.log_append_time = true;
	tl_open(&cfg);
	int64_t off, ts;
	CHECK_EQ_INT(plog_max_timestamp(tl_log, &off, &ts), ERR_NOT_FOUND);
	struct plog_append_result res;
	CHECK_EQ_INT(tb_append(tl_log, 2, 5, 10, 7777, &res), 0);
	CHECK_EQ_INT(res.log_append_time, 7777);
	CHECK_EQ_INT(tb_append(tl_log, 2, 5, 10, 8888, &res), 0);
	struct plog_slice s;
	CHECK_EQ_INT(plog_read(tl_log, 0, INT64_MAX, 1, &s), 0);
	uint8_t *b = tl_slice_bytes(&s);
	struct batch_header h;
	CHECK_EQ_INT(batch_validate(b, (size_t)s.ref.len, &h), 0); /* CRC rewritten */
	CHECK(h.attributes & BATCH_ATTR_LOG_APPEND_TIME);
	CHECK_EQ_INT(h.max_timestamp, 7777);
	free(b);
	s.ref.release(s.ref.ctx);
	CHECK_EQ_INT(plog_max_timestamp(tl_log, &off, &ts), 0);
	CHECK_EQ_INT(off, 2);
	CHECK_EQ_INT(ts, 8888);
	CHECK_EQ_INT(plog_offset_for_timestamp(tl_log, 7778, &off, &ts), 0);
	CHECK_EQ_INT(off, 2);
	logdir_close(tl_dir, true);
}

TEST(retention_by_time)
{
	struct log_config cfg = test_cfg();
	cfg.segment_bytes = 600;
	cfg.retention_ms = 10000;
	tl_open(&cfg);
	for (int i = 0; i < 20; i++)
		CHECK_EQ_INT(tb_append(tl_log, 1, 1000 * i, 150, 1000 * i, NULL), 0);
	int nseg = plog_segment_count(tl_log);
	CHECK(nseg >= 5);
	/* now = 25000: segments whose largest timestamp < 15000 go */
	int del = plog_enforce_retention(tl_log, 25000);
	CHECK(del > 0);
	CHECK_EQ_INT(plog_segment_count(tl_log), nseg - del);
	int64_t start = plog_start_offset(tl_log);
	CHECK(start > 0 && start <= 15);
	struct plog_slice s;
	CHECK_EQ_INT(plog_read(tl_log, start - 1, INT64_MAX, 1, &s), ERR_OUT_OF_RANGE);
	CHECK_EQ_INT(plog_read(tl_log, start, INT64_MAX, 1, &s), 0);
	CHECK_EQ_INT(s.first_offset, start);
	s.ref.release(s.ref.ctx);
	CHECK_EQ_INT(tl_file_size("00000000000000000000.log"), -1);
	/* everything expired: the active segment is rolled first, never none */
	del = plog_enforce_retention(tl_log, 1000000);
	CHECK(del > 0);
	CHECK_EQ_INT(plog_segment_count(tl_log), 1);
	CHECK_EQ_INT(plog_start_offset(tl_log), 20);
	CHECK_EQ_INT(plog_end_offset(tl_log), 20);
	CHECK_EQ_INT(plog_size_bytes(tl_log), 0);
	CHECK_EQ_INT(tb_append(tl_log, 1, 1000000, 10, 1000000, NULL), 0);
	CHECK_EQ_INT(plog_end_offset(tl_log), 21);
	tl_reopen(&cfg, true);
	CHECK_EQ_INT(plog_start_offset(tl_log), 20);
	CHECK_EQ_INT(plog_end_offset(tl_log), 21);
	logdir_close(tl_dir, true);
}

TEST(retention_by_size_with_delay)
{
	struct log_config cfg = test_cfg();
	cfg.segment_bytes = 1000;
	cfg.retention_bytes = 2500;
	cfg.file_delete_delay_ms = 500;
	tl_open(&cfg);
	for (int i = 0; i < 30; i++)
		CHECK_EQ_INT(tb_append(tl_log, 1, 1, 200, 100, NULL), 0);
	int64_t size = plog_size_bytes(tl_log);
	int del = plog_enforce_retention(tl_log, 100);
	CHECK(del > 0);
	CHECK(plog_size_bytes(tl_log) <= size);
	CHECK(plog_size_bytes(tl_log) >= 2500 - 1000);
	CHECK(plog_size_bytes(tl_log) - 1000 < 2500);
	CHECK(plog_start_offset(tl_log) > 0);
	/* files renamed .deleted, unlinked after the delay */
	CHECK_EQ_INT(tl_file_size("00000000000000000000.log"), -1);
	CHECK(tl_file_size("00000000000000000000.log.deleted") > 0);
	CHECK_EQ_INT(plog_enforce_retention(tl_log, 400), 0);
	CHECK(tl_file_size("00000000000000000000.log.deleted") > 0);
	CHECK_EQ_INT(plog_enforce_retention(tl_log, 700), 0);
	CHECK_EQ_INT(tl_file_size("00000000000000000000.log.deleted"), -1);
	logdir_close(tl_dir, true);
}

TEST(orphan_deleted_files_removed_at_open)
{
	struct log_config cfg = test_cfg();
	cfg.segment_bytes = 1000;
	cfg.retention_bytes = 1000;
	cfg.file_delete_delay_ms = 100000;
	tl_open(&cfg);
	for (int i = 0; i < 20; i++)
		CHECK_EQ_INT(tb_append(tl_log, 1, 1, 200, 100, NULL), 0);
	CHECK(plog_enforce_retention(tl_log, 100) > 0);
	CHECK(tl_file_size("00000000000000000000.log.deleted") > 0);
	tl_reopen(&cfg, false);
	CHECK_EQ_INT(tl_file_size("00000000000000000000.log.deleted"), -1);
	logdir_close(tl_dir, true);
}

TEST(truncate_to)
{
	struct log_config cfg = test_cfg();
	cfg.segment_bytes = 1000;
	cfg.index_interval_bytes = 100;
	tl_open(&cfg);
	for (int i = 0; i < 30; i++)
		CHECK_EQ_INT(tb_append(tl_log, 2, i, 100, 0, NULL), 0);
	int nseg = plog_segment_count(tl_log);
	CHECK(nseg > 3);
	/* mid-batch: the whole batch holding 25 goes (Kafka semantics) */
	CHECK_EQ_INT(plog_truncate_to(tl_log, 25), 0);
	CHECK_EQ_INT(plog_end_offset(tl_log), 24);
	CHECK(plog_segment_count(tl_log) < nseg);
	struct plog_slice s;
	CHECK_EQ_INT(plog_read(tl_log, 24, INT64_MAX, 1 << 20, &s), 0);
	CHECK_EQ_INT(s.ref.len, 0);
	CHECK_EQ_INT(plog_read(tl_log, 22, INT64_MAX, 1 << 20, &s), 0);
	CHECK_EQ_INT(s.first_offset, 22);
	CHECK_EQ_INT(s.next_offset, 24);
	s.ref.release(s.ref.ctx);
	int64_t off, ts;
	CHECK_EQ_INT(plog_max_timestamp(tl_log, &off, &ts), 0);
	CHECK_EQ_INT(ts, 12);
	struct plog_append_result res;
	CHECK_EQ_INT(tb_append(tl_log, 2, 99, 100, 0, &res), 0);
	CHECK_EQ_INT(res.base_offset, 24);
	check_all_offsets(tl_log, 26, 2);
	/* at a segment boundary, then to zero */
	tl_reopen(&cfg, false);
	check_all_offsets(tl_log, 26, 2);
	CHECK_EQ_INT(plog_truncate_to(tl_log, 0), 0);
	CHECK_EQ_INT(plog_end_offset(tl_log), 0);
	CHECK_EQ_INT(plog_segment_count(tl_log), 1);
	CHECK_EQ_INT(tb_append(tl_log, 2, 99, 100, 0, &res), 0);
	CHECK_EQ_INT(res.base_offset, 0);
	tl_reopen(&cfg, true);
	CHECK_EQ_INT(plog_end_offset(tl_log), 2);
	logdir_close(tl_dir, true);
}

TEST(advance_start_offset)
{
	struct log_config cfg = test_cfg();
	cfg.segment_bytes = 1000;
	tl_open(&cfg);
	for (int i = 0; i < 30; i++)
		CHECK_EQ_INT(tb_append(tl_log, 1, i, 200, 0, NULL), 0);
	int nseg = plog_segment_count(tl_log);
	CHECK_EQ_INT(plog_advance_start_offset(tl_log, 31), ERR_OUT_OF_RANGE);
	CHECK_EQ_INT(plog_advance_start_offset(tl_log, 10), 0);
	CHECK_EQ_INT(plog_start_offset(tl_log), 10);
	CHECK(plog_segment_count(tl_log) < nseg);
	struct plog_slice s;
	CHECK_EQ_INT(plog_read(tl_log, 9, INT64_MAX, 1, &s), ERR_OUT_OF_RANGE);
	CHECK_EQ_INT(plog_read(tl_log, 10, INT64_MAX, 1, &s), 0);
	CHECK_EQ_INT(s.first_offset, 10);
	s.ref.release(s.ref.ctx);
	/* the start offset survives a reopen through the checkpoint */
	tl_reopen(&cfg, true);
	CHECK_EQ_INT(plog_start_offset(tl_log), 10);
	tl_reopen(&cfg, false);
	CHECK_EQ_INT(plog_start_offset(tl_log), 10);
	CHECK_EQ_INT(plog_advance_start_offset(tl_log, 30), 0);
	CHECK_EQ_INT(plog_start_offset(tl_log), 30);
	CHECK_EQ_INT(plog_read(tl_log, 30, INT64_MAX, 1, &s), 0);
	CHECK_EQ_INT(s.ref.len, 0);
	logdir_close(tl_dir, true);
}

TEST(leader_epochs)
{
	struct log_config cfg = test_cfg();
	tl_open(&cfg);
	int32_t epochs[] = {1, 1, 2, 2, 5};
	for (int i = 0; i < 5; i++) {
		struct tbatch t = tb_make(2, 0, 10);
		CHECK_EQ_INT(plog_append(tl_log, t.p, t.n, epochs[i], 0, NULL), 0);
		tb_free(&t);
	}
	for (int pass = 0; pass < 3; pass++) {
		int32_t fe;
		int64_t end;
		CHECK_EQ_INT(plog_end_offset_for_epoch(tl_log, 1, &fe, &end), 0);
		CHECK_EQ_INT(fe, 1);
		CHECK_EQ_INT(end, 4);
		CHECK_EQ_INT(plog_end_offset_for_epoch(tl_log, 3, &fe, &end), 0);
		CHECK_EQ_INT(fe, 2);
		CHECK_EQ_INT(end, 8);
		CHECK_EQ_INT(plog_end_offset_for_epoch(tl_log, 5, &fe, &end), 0);
		CHECK_EQ_INT(fe, 5);
		CHECK_EQ_INT(end, 10);
		CHECK_EQ_INT(plog_end_offset_for_epoch(tl_log, 0, &fe, &end), 0);
		CHECK_EQ_INT(fe, -1);
		CHECK_EQ_INT(end, -1);
		tl_reopen(&cfg, pass == 0);
	}
	char *txt;
	CHECK(file_read_all(tl_path("leader-epoch-checkpoint"), 1000, &txt) > 0);
	CHECK(strcmp(txt, "0\n3\n1 0\n2 4\n5 8\n") == 0);
	free(txt);
	/* truncation drops later epochs */
	CHECK_EQ_INT(plog_truncate_to(tl_log, 6), 0);
	int32_t fe;
	int64_t end;
	CHECK_EQ_INT(plog_end_offset_for_epoch(tl_log, 2, &fe, &end), 0);
	CHECK_EQ_INT(fe, 2);
	CHECK_EQ_INT(end, 6);
	logdir_close(tl_dir, true);
}

TEST(checkpoint_files_format)
{
	struct log_config cfg = test_cfg();
	tl_open(&cfg);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(tb_append(tl_log, 2, 0, 10, 0, NULL), 0);
	plog_set_high_watermark(tl_log, 4);
	struct plog *l2;
	CHECK_EQ_INT(logdir_open_log(tl_dir, "other.topic", 7, &cfg, true, &l2), 0);
	CHECK_EQ_INT(logdir_open_log(tl_dir, "other.topic", 7, &cfg, true, &l2), ERR_EXISTS);
	logdir_close(tl_dir, true);
	char path[4096], *txt;
	snprintf(path, sizeof(path), "%s/recovery-point-offset-checkpoint", unit_tmpdir());
	CHECK(file_read_all(path, 1000, &txt) > 0);
	CHECK(strstr(txt, "0\n2\n") == txt);
	CHECK(strstr(txt, "t 0 6\n") != NULL);
	CHECK(strstr(txt, "other.topic 7 0\n") != NULL);
	free(txt);
	snprintf(path, sizeof(path), "%s/replication-offset-checkpoint", unit_tmpdir());
	CHECK(file_read_all(path, 1000, &txt) > 0);
	CHECK(strstr(txt, "t 0 4\n") != NULL);
	free(txt);
	snprintf(path, sizeof(path), "%s/.kafka_cleanshutdown", unit_tmpdir());
	CHECK(access(path, F_OK) == 0);
	tl_open(&cfg);
	CHECK(logdir_was_clean(tl_dir));
	CHECK(access(path, F_OK) != 0);
	CHECK_EQ_INT(plog_high_watermark(tl_log), 4);
	logdir_close(tl_dir, false);
	tl_open(&cfg);
	CHECK(!logdir_was_clean(tl_dir));
	logdir_close(tl_dir, true);
}

static void scan_cb(void *arg, const char *topic, int32_t partition)
{
	int *n = arg;
	CHECK(strcmp(topic, "a-b") == 0 || strcmp(topic, "t") == 0);
	CHECK(partition == 3 || partition == 0);
	(*n)++;
}

TEST(scan_and_delete_log)
{
	struct log_config cfg = test_cfg();
	tl_open(&cfg);
	struct plog *l2;
	CHECK_EQ_INT(logdir_open_log(tl_dir, "a-b", 3, &cfg, true, &l2), 0);
	CHECK_EQ_INT(tb_append(l2, 2, 0, 10, 0, NULL), 0);
	struct plog *l3;
	CHECK_EQ_INT(logdir_open_log(tl_dir, "missing", 0, &cfg, false, &l3), ERR_NOT_FOUND);
	int n = 0;
	logdir_scan(tl_dir, scan_cb, &n);
	CHECK_EQ_INT(n, 2);
	/* a slice taken before the deletion stays readable */
	struct plog_slice s;
	CHECK_EQ_INT(plog_read(l2, 0, INT64_MAX, 1000, &s), 0);
	CHECK_EQ_INT(logdir_delete_log(tl_dir, l2), 0);
	uint8_t *b = tl_slice_bytes(&s);
	CHECK_EQ_INT(batch_validate(b, (size_t)s.ref.len, &(struct batch_header){0}), 0);
	free(b);
	s.ref.release(s.ref.ctx);
	char path[4096];
	snprintf(path, sizeof(path), "%s/a-b-3", unit_tmpdir());
	CHECK(access(path, F_OK) != 0);
	n = 0;
	logdir_scan(tl_dir, scan_cb, &n);
	CHECK_EQ_INT(n, 1);
	/* a leftover -delete folder is removed at open */
	snprintf(path, sizeof(path), "%s/x-1.abc-delete", unit_tmpdir());
	CHECK_EQ_INT(mkdir(path, 0755), 0);
	logdir_close(tl_dir, true);
	tl_open(&cfg);
	CHECK(access(path, F_OK) != 0);
	logdir_close(tl_dir, true);
}

TEST(read_while_retention_deletes)
{
	struct log_config cfg = test_cfg();
	cfg.segment_bytes = 1000;
	cfg.retention_bytes = 0;
	tl_open(&cfg);
	for (int i = 0; i < 10; i++)
		CHECK_EQ_INT(tb_append(tl_log, 1, 1, 200, 100, NULL), 0);
	struct plog_slice s;
	CHECK_EQ_INT(plog_read(tl_log, 0, INT64_MAX, 1 << 20, &s), 0);
	CHECK(s.ref.len > 0);
	CHECK(plog_enforce_retention(tl_log, 100) > 0);
	CHECK_EQ_INT(tl_file_size("00000000000000000000.log"), -1);
	CHECK_EQ_INT(tl_file_size("00000000000000000000.log.deleted"), -1);
	uint8_t *b = tl_slice_bytes(&s);
	CHECK_EQ_INT(be64_load(b), 0);
	CHECK_EQ_INT(batch_validate(b, (size_t)batch_total_size(b), &(struct batch_header){0}), 0);
	free(b);
	s.ref.release(s.ref.ctx);
	logdir_close(tl_dir, true);
}

TEST(compressed_batch_timestamps)
{
	struct log_config cfg = test_cfg();
	tl_open(&cfg);
	int64_t ts[4] = {100, 300, 200, 400};
	struct tbatch t = tb_make_ts(4, ts, 0, 50, 'z');
	struct buf out = BUF_INIT;
	CHECK_EQ_INT(
	    batch_compress(BATCH_GZIP, t.p + BATCH_HEADER_SIZE, t.n - BATCH_HEADER_SIZE, &out), 0);
	uint8_t *c = malloc(BATCH_HEADER_SIZE + out.len);
	memcpy(c, t.p, BATCH_HEADER_SIZE);
	memcpy(c + BATCH_HEADER_SIZE, out.data, out.len);
	size_t n = BATCH_HEADER_SIZE + out.len;
	be32_store(c + BATCH_OFF_LENGTH, (uint32_t)(n - BATCH_LOG_OVERHEAD));
	be16_store(c + BATCH_OFF_ATTRIBUTES, BATCH_GZIP);
	batch_update_crc(c, n);
	CHECK_EQ_INT(batch_validate(c, n, &(struct batch_header){0}), 0);
	CHECK_EQ_INT(tb_append(tl_log, 1, 50, 5, 0, NULL), 0);
	CHECK_EQ_INT(plog_append(tl_log, c, n, 0, 0, NULL), 0);
	int64_t off, fts;
	CHECK_EQ_INT(plog_offset_for_timestamp(tl_log, 250, &off, &fts), 0);
	CHECK_EQ_INT(off, 2);
	CHECK_EQ_INT(fts, 300);
	CHECK_EQ_INT(plog_max_timestamp(tl_log, &off, &fts), 0);
	CHECK_EQ_INT(off, 4);
	CHECK_EQ_INT(fts, 400);
	free(c);
	buf_release(&out);
	tb_free(&t);
	logdir_close(tl_dir, true);
}

int main(int argc, char **argv)
{
	return unit_main(argc, argv);
}
