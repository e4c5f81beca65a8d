/*
 * test_log_faults.c: the partition log under injected storage faults.
 *
 * Sweeps: a workload of appends, group-commit syncs and segment rolls (and,
 * separately, a compaction) is run once to count its writes, fsyncs, renames
 * and creates; then again for every N, failing the Nth such call, with and
 * without a simulated power cut (every byte not fsynced is lost), and with
 * and without plog_recover_after_error continuing the workload after the
 * fault. After a reopen: every batch a completed sync covered (what the
 * broker acknowledges) is there byte for byte, every batch served is one
 * that was appended (valid, at its offset, its exact bytes), the offsets are
 * dense, and the log takes appends again.
 *
 * The sweeps run once more with direct writes (appends staged in memory and
 * written by the sync, direct.c), with syncs run as a group (one syncfs in
 * place of every fdatasync), and with relaxed flushing, where write jobs ack
 * what they wrote and only a process crash is simulated.
 *
 * Also: recovery after ENOSPC and after a failed fsync without a reopen, and
 * read verification (a flipped byte or a cut in an old segment is found by
 * the CRC on read; its bytes are never returned).
 */
#include <errno.h>

#include "log_test_util.h"

#define MAXB 256

struct wl_batch {
	int64_t base, last;
	uint8_t *p;
	size_t n;
	bool acked;
};
static struct wl_batch wl[MAXB];
static int nwl;

static void wl_reset(void)
{
	for (int i = 0; i < nwl; i++)
		free(wl[i].p);
	nwl = 0;
}

static bool sweep_direct;  /* run the workload with fjord.log.direct.writes */
static bool sweep_relaxed; /* acks after write jobs, not syncs (relaxed flushing) */
static bool sweep_syncfs;  /* syncs run as a group: one syncfs, no fdatasync */

static struct log_config faults_cfg(void)
{
	struct log_config c = test_cfg();
	c.direct_writes = sweep_direct;
	c.sync_before_ack = !sweep_relaxed;
	c.direct_min_bytes = 0;
	c.segment_bytes = 1800;
	c.index_interval_bytes = 300;
	return c;
}

/* Every batch below the durable offset (the written one with relaxed
 * flushing) is what the broker has acknowledged. */
static void wl_mark_acked(struct plog *l)
{
	int64_t acked = sweep_relaxed ? plog_written_offset(l) : plog_durable_offset(l);
	for (int i = 0; i < nwl; i++)
		if (wl[i].last < acked)
			wl[i].acked = true;
}

/* Relaxed flushing: a write job for what is staged. */
static void wl_write(struct plog *l)
{
	struct plog_sync s;
	if (plog_write_prepare(l, &s) == 1) {
		plog_sync_run(&s);
		plog_sync_complete(&s);
	}
	wl_mark_acked(l);
}

/* One group-commit round (prepare, run, complete) until nothing is left. */
static void wl_sync(struct plog *l)
{
	struct plog_sync s;
	for (int k = 0; k < 8 && plog_sync_prepare(l, &s) == 1; k++) {
		struct plog_sync *one[1] = {&s};
		if (sweep_syncfs)
			plog_sync_run_group(one, 1);
		else
			plog_sync_run(&s);
		plog_sync_complete(&s);
		if (s.err)
			break;
		wl_mark_acked(l);
	}
}

/* Recovery drops what no sync covered: forget those batches (never acked). */
static void wl_after_recover(struct plog *l)
{
	int k = 0;
	for (int i = 0; i < nwl; i++) {
		if (wl[i].base >= plog_end_offset(l)) {
			CHECK(!wl[i].acked);
			free(wl[i].p);
			continue;
		}
		wl[k++] = wl[i];
	}
	nwl = k;
}

static void wl_run(struct plog *l, int nbatches, bool recover)
{
	for (int i = 0; i < nbatches && nwl < MAXB; i++) {
		struct tbatch t = tb_make_ts(1 + i % 3, NULL, 1000 + i * 10, 150 + (i % 5) * 37,
		                             (uint8_t)('a' + i % 26));
		struct plog_append_result res;
		if (plog_append(l, t.p, t.n, 0, 0, &res) == 0) {
			wl[nwl].base = res.base_offset;
			wl[nwl].last = res.last_offset;
			wl[nwl].p = t.p;
			wl[nwl].n = t.n;
			wl[nwl].acked = false;
			nwl++;
		} else {
			CHECK(plog_failed(l));
			tb_free(&t);
		}
		if (sweep_relaxed)
			wl_write(l);
		if (i % 3 == 2)
			wl_sync(l);
		for (int k = 0; recover && k < 3 && plog_failed(l); k++)
			if (plog_recover_after_error(l) == 0)
				wl_after_recover(l);
	}
	wl_sync(l);
}

static const struct wl_batch *wl_find(int64_t base)
{
	for (int i = 0; i < nwl; i++)
		if (wl[i].base == base)
			return &wl[i];
	return NULL;
}

/* The reopened log against the model (see the file comment). */
static void wl_check(struct plog *l)
{
	int64_t o = plog_start_offset(l);
	CHECK_EQ_INT(o, 0);
	while (o < plog_end_offset(l)) {
		struct plog_slice s;
		int r = plog_read(l, o, INT64_MAX, 1 << 20, &s);
		CHECK_EQ_INT(r, 0);
		if (r != 0 || s.ref.len == 0)
			break;
		CHECK_EQ_INT(s.first_offset, o);
		uint8_t *b = tl_slice_bytes(&s);
		size_t off = 0;
		while (off < (size_t)s.ref.len) {
			size_t n = (size_t)batch_total_size(b + off);
			struct batch_header h;
			CHECK_EQ_INT(batch_validate(b + off, n, &h), 0);
			CHECK_EQ_INT(h.base_offset, o);
			const struct wl_batch *w = wl_find(o);
			CHECK(w != NULL);
			if (w) {
				CHECK_EQ_INT(w->n, n);
				CHECK(w->n == n && memcmp(w->p, b + off, n) == 0);
			}
			o = h.base_offset + h.last_offset_delta + 1;
			off += n;
		}
		free(b);
		s.ref.release(s.ref.ctx);
		CHECK_EQ_INT(o, s.next_offset);
	}
	/* Every acknowledged batch is there (the walk compared the bytes). */
	for (int i = 0; i < nwl; i++)
		if (wl[i].acked)
			CHECK(wl[i].last < plog_end_offset(l));
	CHECK_EQ_INT(tb_append(l, 2, 5000, 40, 0, NULL), 0);
}

static void clear_dir(void)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s/* %s/.[!.]*", unit_tmpdir(), unit_tmpdir());
	CHECK_EQ_INT(system(cmd), 0);
}

#define WL_BATCHES 30

/* Calls of op the workload makes without faults. */
static int count_calls(enum file_op op)
{
	struct log_config cfg = faults_cfg();
	clear_dir();
	tl_open(&cfg);
	file_fault_count_enable();
	int64_t c0 = file_fault_count(op);
	wl_run(tl_log, WL_BATCHES, false);
	int n = (int)(file_fault_count(op) - c0);
	file_fault_reset();
	logdir_close(tl_dir, true);
	wl_reset();
	return n;
}

static void sweep(enum file_op op, int err, bool powercut, bool recover)
{
	int total = count_calls(op);
	CHECK(total > 0);
	int acked_runs = 0;
	for (int n = 1; n <= total; n++) {
		struct log_config cfg = faults_cfg();
		clear_dir();
		tl_open(&cfg);
		tl_sync(tl_log);
		if (powercut)
			file_fault_powercut_begin();
		file_fault_fail(op, n, err, false);
		wl_run(tl_log, WL_BATCHES, recover);
		file_fault_fail(op, 0, 0, false);
		logdir_close(tl_dir, false);
		if (powercut)
			file_fault_powercut_apply();
		file_fault_reset();
		tl_open(&cfg);
		wl_check(tl_log);
		for (int i = 0; i < nwl; i++)
			if (wl[i].acked) {
				acked_runs++;
				break;
			}
		logdir_close(tl_dir, true);
		wl_reset();
	}
	CHECK(acked_runs > 0);
}

TEST(sweep_write_crash)
{
	sweep(FILE_OP_WRITE, EIO, false, false);
}
TEST(sweep_write_enospc_powercut)
{
	sweep(FILE_OP_WRITE, ENOSPC, true, false);
}
TEST(sweep_write_recover_powercut)
{
	sweep(FILE_OP_WRITE, ENOSPC, true, true);
}
TEST(sweep_fsync_crash)
{
	sweep(FILE_OP_SYNC, EIO, false, false);
}
TEST(sweep_fsync_powercut)
{
	sweep(FILE_OP_SYNC, EIO, true, false);
}
TEST(sweep_fsync_recover_powercut)
{
	sweep(FILE_OP_SYNC, EIO, true, true);
}
TEST(sweep_direct_writes)
{
	/* Staged appends are written by the sync: the same guarantees. */
	sweep_direct = true;
	sweep(FILE_OP_WRITE, EIO, false, false);
	sweep(FILE_OP_WRITE, ENOSPC, true, true);
	sweep(FILE_OP_SYNC, EIO, true, true);
	sweep(FILE_OP_OPEN, ENOSPC, true, true);
	sweep_direct = false;
}
TEST(sweep_relaxed_crash_and_recover)
{
	/* Acked once written (no sync): a process crash keeps all of it, and so
	 * does a recovery after a failed write or fsync. A power cut may not
	 * (relaxed flushing promises page-cache durability only). */
	sweep_relaxed = true;
	for (int direct = 0; direct <= 1; direct++) {
		sweep_direct = direct;
		sweep(FILE_OP_WRITE, EIO, false, false);
		sweep(FILE_OP_WRITE, EIO, false, true);
		sweep(FILE_OP_SYNC, EIO, false, false);
		sweep(FILE_OP_SYNC, EIO, false, true);
		sweep(FILE_OP_OPEN, ENOSPC, false, true);
	}
	sweep_direct = sweep_relaxed = false;
}
TEST(sweep_syncfs_powercut)
{
	/* One syncfs stands in for the fdatasyncs and directory fsyncs: what it
	 * covered survives the power cut, and a failed one acknowledges nothing. */
	sweep_syncfs = true;
	for (int direct = 0; direct <= 1; direct++) {
		sweep_direct = direct;
		sweep(FILE_OP_SYNC, EIO, true, false);
		sweep(FILE_OP_SYNC, EIO, true, true);
		sweep(FILE_OP_WRITE, ENOSPC, true, true);
		sweep(FILE_OP_OPEN, ENOSPC, true, true);
	}
	sweep(FILE_OP_RENAME, EIO, true, false);
	sweep_direct = sweep_syncfs = false;
}
TEST(sweep_create_and_rename_powercut)
{
	sweep(FILE_OP_OPEN, ENOSPC, true, true);
	sweep(FILE_OP_RENAME, EIO, true, false);
	sweep(FILE_OP_TRUNCATE, EIO, true, true);
}

/* ---- compaction under faults ---- */

#define NKEYS 7

struct krec {
	int64_t offset;
	int key, val;
};
static struct krec km[1024];
static int nkm;

/* One batch of 3 keyed records (key i%NKEYS, value seq). */
static void append_keyed(struct plog *l, int seq)
{
	uint8_t p[BATCH_HEADER_SIZE + 3 * 32];
	size_t n = BATCH_HEADER_SIZE;
	memset(p, 0, sizeof(p));
	int keys[3];
	for (int i = 0; i < 3; i++) {
		char key[8], val[12];
		keys[i] = (seq * 3 + i) % NKEYS;
		int kl = snprintf(key, sizeof(key), "k%d", keys[i]);
		int vl = snprintf(val, sizeof(val), "v%06d", seq * 3 + i);
		uint8_t body[32];
		size_t b = 0;
		body[b++] = 0;
		b += tb_varlong(body + b, 0);
		b += tb_varlong(body + b, i);
		b += tb_varlong(body + b, kl);
		memcpy(body + b, key, (size_t)kl);
		b += (size_t)kl;
		b += tb_varlong(body + b, vl);
		memcpy(body + b, val, (size_t)vl);
		b += (size_t)vl;
		body[b++] = 0;
		n += tb_varlong(p + n, (int64_t)b);
		memcpy(p + n, body, b);
		n += b;
	}
	be32_store(p + BATCH_OFF_LENGTH, (uint32_t)(n - BATCH_LOG_OVERHEAD));
	be32_store(p + BATCH_OFF_LEADER_EPOCH, (uint32_t)-1);
	p[BATCH_OFF_MAGIC] = 2;
	be32_store(p + BATCH_OFF_LAST_OFFSET_DELTA, 2);
	be64_store(p + BATCH_OFF_BASE_TIMESTAMP, 1000);
	be64_store(p + BATCH_OFF_MAX_TIMESTAMP, 1000);
	be64_store(p + BATCH_OFF_PRODUCER_ID, (uint64_t)-1);
	be16_store(p + BATCH_OFF_PRODUCER_EPOCH, (uint16_t)-1);
	be32_store(p + BATCH_OFF_BASE_SEQUENCE, (uint32_t)-1);
	be32_store(p + BATCH_OFF_RECORD_COUNT, 3);
	batch_update_crc(p, n);
	struct plog_append_result res;
	CHECK_EQ_INT(plog_append(l, p, n, 0, 1000, &res), 0);
	for (int i = 0; i < 3; i++) {
		km[nkm].offset = res.base_offset + i;
		km[nkm].key = keys[i];
		km[nkm].val = seq * 3 + i;
		nkm++;
	}
}

static void compact_setup(void)
{
	struct log_config cfg = faults_cfg();
	nkm = 0;
	clear_dir();
	tl_open(&cfg);
	for (int i = 0; i < 60; i++)
		append_keyed(tl_log, i);
	tl_sync(tl_log);
}

/* Every record read is the model's at its offset; each key's latest is there. */
static void compact_check(struct plog *l)
{
	bool seen_latest[NKEYS] = {false};
	int64_t latest[NKEYS];
	for (int k = 0; k < NKEYS; k++)
		latest[k] = -1;
	for (int i = 0; i < nkm; i++)
		latest[km[i].key] = km[i].offset;
	int64_t o = plog_start_offset(l), prev = -1;
	while (o < plog_end_offset(l)) {
		struct plog_slice s;
		CHECK_EQ_INT(plog_read(l, o, INT64_MAX, 1 << 20, &s), 0);
		if (s.ref.len == 0) {
			CHECK(s.next_offset > o);
			o = s.next_offset;
			continue;
		}
		uint8_t *b = tl_slice_bytes(&s);
		size_t off = 0;
		while (off < (size_t)s.ref.len) {
			size_t n = (size_t)batch_total_size(b + off);
			struct batch_iter it;
			struct batch_record r;
			CHECK_EQ_INT(batch_iter_init(&it, b + off, n), 0);
			while (batch_iter_next(&it, &r) == 1) {
				CHECK(r.offset > prev);
				prev = r.offset;
				CHECK(r.offset < nkm);
				if (r.offset < 0 || r.offset >= nkm)
					continue;
				const struct krec *m = &km[r.offset];
				char key[8], val[12];
				int kl = snprintf(key, sizeof(key), "k%d", m->key);
				int vl = snprintf(val, sizeof(val), "v%06d", m->val);
				CHECK(r.key_len == kl && memcmp(r.key, key, (size_t)kl) == 0);
				CHECK(r.value_len == vl && memcmp(r.value, val, (size_t)vl) == 0);
				if (latest[m->key] == r.offset)
					seen_latest[m->key] = true;
			}
			CHECK_EQ_INT(it.err, 0);
			batch_iter_release(&it);
			off += n;
		}
		free(b);
		o = s.next_offset;
		s.ref.release(s.ref.ctx);
	}
	for (int k = 0; k < NKEYS; k++)
		CHECK(seen_latest[k]);
	CHECK_EQ_INT(plog_end_offset(l), nkm);
}

static void compact_sweep(enum file_op op, int err, bool powercut)
{
	struct plog_clean_params p;
	plog_clean_params_default(&p);
	p.force = true;
	compact_setup();
	file_fault_count_enable();
	int64_t c0 = file_fault_count(op);
	CHECK(plog_clean_now(tl_log, 1000, &p) > 0);
	int total = (int)(file_fault_count(op) - c0);
	file_fault_reset();
	logdir_close(tl_dir, true);
	CHECK(total > 0);
	for (int n = 1; n <= total; n++) {
		compact_setup();
		if (powercut)
			file_fault_powercut_begin();
		file_fault_fail(op, n, err, false);
		int r = plog_clean_now(tl_log, 1000, &p);
		(void)r;
		file_fault_fail(op, 0, 0, false);
		logdir_close(tl_dir, false);
		if (powercut)
			file_fault_powercut_apply();
		file_fault_reset();
		struct log_config cfg = faults_cfg();
		tl_open(&cfg);
		compact_check(tl_log);
		CHECK(plog_clean_now(tl_log, 1000, &p) >= 0);
		compact_check(tl_log);
		logdir_close(tl_dir, true);
	}
}

TEST(compaction_sweep_write_powercut)
{
	compact_sweep(FILE_OP_WRITE, ENOSPC, true);
}
TEST(compaction_sweep_fsync_powercut)
{
	compact_sweep(FILE_OP_SYNC, EIO, true);
}
TEST(compaction_sweep_rename_powercut)
{
	compact_sweep(FILE_OP_RENAME, EIO, true);
	compact_sweep(FILE_OP_RENAME, EIO, false);
}

/* ---- recovery without a reopen ---- */

TEST(recover_after_enospc)
{
	struct log_config cfg = faults_cfg();
	clear_dir();
	tl_open(&cfg);
	wl_run(tl_log, 12, false);
	int64_t durable = plog_durable_offset(tl_log);
	CHECK(durable > 0);
	file_fault_fail(FILE_OP_WRITE, 1, ENOSPC, true); /* the disk is full */
	CHECK_EQ_INT(tb_append(tl_log, 2, 0, 100, 0, NULL), ERR_STORAGE);
	CHECK(plog_failed(tl_log));
	/* Still full: recovery fails and the log stays failed. */
	CHECK(plog_recover_after_error(tl_log) < 0);
	CHECK(plog_failed(tl_log));
	CHECK_EQ_INT(tb_append(tl_log, 2, 0, 100, 0, NULL), ERR_STORAGE);
	/* Reads below the durable offset keep working meanwhile. */
	struct plog_slice s;
	CHECK_EQ_INT(plog_read(tl_log, 0, durable, 1 << 20, &s), 0);
	CHECK(s.ref.len > 0);
	s.ref.release(s.ref.ctx);
	/* Space returns. */
	file_fault_reset();
	CHECK_EQ_INT(plog_recover_after_error(tl_log), 0);
	CHECK(!plog_failed(tl_log));
	CHECK_EQ_INT(plog_durable_offset(tl_log), durable);
	wl_run(tl_log, 9, false);
	CHECK_EQ_INT(plog_durable_offset(tl_log), plog_end_offset(tl_log));
	logdir_close(tl_dir, false);
	tl_open(&cfg);
	wl_check(tl_log);
	logdir_close(tl_dir, true);
	wl_reset();
}

TEST(recover_after_failed_fsync_drops_unsynced)
{
	struct log_config cfg = faults_cfg();
	clear_dir();
	tl_open(&cfg);
	wl_run(tl_log, 6, false);
	int64_t durable = plog_durable_offset(tl_log);
	CHECK_EQ_INT(durable, plog_end_offset(tl_log));
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(tb_append(tl_log, 2, 0, 300, 0, NULL), 0);
	CHECK(plog_segment_count(tl_log) >= 2);
	struct plog_sync sy;
	CHECK_EQ_INT(plog_sync_prepare(tl_log, &sy), 1);
	file_fault_fail(FILE_OP_SYNC, 1, EIO, false);
	plog_sync_run(&sy);
	plog_sync_complete(&sy);
	file_fault_reset();
	CHECK(plog_failed(tl_log));
	CHECK_EQ_INT(plog_durable_offset(tl_log), durable);
	CHECK_EQ_INT(tb_append(tl_log, 2, 0, 50, 0, NULL), ERR_STORAGE);
	CHECK_EQ_INT(plog_recover_after_error(tl_log), 0);
	/* The never-synced batches are gone; offsets continue from durable. */
	CHECK_EQ_INT(plog_end_offset(tl_log), durable);
	CHECK_EQ_INT(plog_durable_offset(tl_log), durable);
	struct plog_append_result res;
	CHECK_EQ_INT(tb_append(tl_log, 2, 0, 50, 0, &res), 0);
	CHECK_EQ_INT(res.base_offset, durable);
	logdir_close(tl_dir, true);
	wl_reset();
}

TEST(recover_refuses_sticky_failure)
{
	struct log_config cfg = faults_cfg();
	clear_dir();
	tl_open(&cfg);
	wl_run(tl_log, 6, false);
	file_fault_fail(FILE_OP_WRITE, 1, EIO, true);
	CHECK_EQ_INT(tb_append(tl_log, 1, 0, 10, 0, NULL), ERR_STORAGE);
	file_fault_reset();
	/* Not failed: nothing to do. Failed: one attempt recovers. */
	CHECK_EQ_INT(plog_recover_after_error(tl_log), 0);
	CHECK_EQ_INT(plog_recover_after_error(tl_log), 0);
	CHECK(!plog_failed(tl_log));
	logdir_close(tl_dir, true);
	wl_reset();
}

/* ---- read verification ---- */

/* Position of the batch with base offset base in a segment file (-1). */
static int64_t batch_pos(const char *file, int64_t base)
{
	int fd = open(tl_path(file), O_RDONLY);
	CHECK(fd >= 0);
	int64_t pos = 0, found = -1;
	uint8_t h[BATCH_HEADER_SIZE];
	while (pread(fd, h, sizeof(h), pos) == (ssize_t)sizeof(h)) {
		if ((int64_t)be64_load(h + BATCH_OFF_BASE_OFFSET) == base) {
			found = pos;
			break;
		}
		pos += batch_total_size(h);
	}
	close(fd);
	return found;
}

static void flip_byte(const char *file, int64_t pos)
{
	int fd = open(tl_path(file), O_RDWR);
	uint8_t c;
	CHECK(pread(fd, &c, 1, pos) == 1);
	c ^= 0x10;
	CHECK(pwrite(fd, &c, 1, pos) == 1);
	close(fd);
}

/* Read everything from 0; returns the offset where reading stopped and the
 * error there. Every byte returned must be a valid batch. */
static int64_t read_until_error(struct plog *l, int *err)
{
	int64_t o = 0;
	*err = 0;
	while (o < plog_end_offset(l)) {
		struct plog_slice s;
		int r = plog_read(l, o, INT64_MAX, 700, &s);
		if (r != 0) {
			*err = r;
			return o;
		}
		CHECK(s.ref.len > 0);
		if (s.ref.len == 0)
			break;
		uint8_t *b = tl_slice_bytes(&s);
		for (size_t off = 0; off < (size_t)s.ref.len;) {
			size_t n = (size_t)batch_total_size(b + off);
			struct batch_header h;
			CHECK_EQ_INT(batch_validate(b + off, n, &h), 0);
			off += n;
		}
		free(b);
		o = s.next_offset;
		s.ref.release(s.ref.ctx);
	}
	return o;
}

/* A log of many small sealed segments, closed cleanly (nothing scanned at open). */
static int64_t sealed_setup(struct log_config *cfg)
{
	*cfg = faults_cfg();
	clear_dir();
	tl_open(cfg);
	for (int i = 0; i < 40; i++)
		CHECK_EQ_INT(tb_append(tl_log, 2, 1000 + i, 120, 0, NULL), 0);
	CHECK(plog_segment_count(tl_log) >= 4);
	int64_t leo = plog_end_offset(tl_log);
	logdir_close(tl_dir, true);
	return leo;
}

TEST(flipped_byte_in_old_segment_never_served)
{
	struct log_config cfg;
	int64_t leo = sealed_setup(&cfg);
	/* The second segment: find its name and a batch in it. */
	tl_open(&cfg);
	CHECK(plog_segment_count(tl_log) >= 4);
	logdir_close(tl_dir, true);
	char name[64];
	int64_t base2 = -1;
	for (int64_t b = 1; b < leo && base2 < 0; b++) {
		snprintf(name, sizeof(name), "%020lld.log", (long long)b);
		if (tl_file_size(name) > 0)
			base2 = b;
	}
	CHECK(base2 > 0);
	int64_t victim = base2 + 4; /* the third batch of that segment */
	int64_t pos = batch_pos(name, victim);
	CHECK(pos > 0);
	flip_byte(name, pos + BATCH_HEADER_SIZE + 5); /* inside the records */
	int64_t scanned = plog_recovery_scanned_bytes();
	tl_open(&cfg);
	CHECK_EQ_INT(plog_recovery_scanned_bytes(), scanned); /* a clean open reads nothing */
	CHECK_EQ_INT(plog_end_offset(tl_log), leo);
	int err;
	int64_t stop = read_until_error(tl_log, &err);
	CHECK_EQ_INT(err, ERR_STORAGE);
	CHECK_EQ_INT(stop, victim);
	CHECK_EQ_INT(plog_read_offline_from(tl_log), victim);
	/* Again, and from inside the bad batch: still refused. */
	struct plog_slice s;
	CHECK_EQ_INT(plog_read(tl_log, victim + 1, INT64_MAX, 1 << 20, &s), ERR_STORAGE);
	CHECK_EQ_INT(plog_read(tl_log, victim, INT64_MAX, 1 << 20, &s), ERR_STORAGE);
	/* Before it: fine, and a read that would cross it stops short. */
	CHECK_EQ_INT(plog_read(tl_log, base2, INT64_MAX, 1 << 20, &s), 0);
	CHECK_EQ_INT(s.next_offset, victim);
	s.ref.release(s.ref.ctx);
	/* Writes go on. */
	CHECK_EQ_INT(tb_append(tl_log, 2, 0, 50, 0, NULL), 0);
	logdir_close(tl_dir, true);
}

TEST(cut_old_segment_never_skipped)
{
	struct log_config cfg;
	int64_t leo = sealed_setup(&cfg);
	char name[64];
	int64_t base2 = -1;
	for (int64_t b = 1; b < leo && base2 < 0; b++) {
		snprintf(name, sizeof(name), "%020lld.log", (long long)b);
		if (tl_file_size(name) > 0)
			base2 = b;
	}
	int64_t pos = batch_pos(name, base2 + 4);
	CHECK(pos > 0);
	CHECK_EQ_INT(truncate(tl_path(name), pos + 30), 0); /* mid-batch */
	tl_open(&cfg);
	int err;
	int64_t stop = read_until_error(tl_log, &err);
	CHECK_EQ_INT(err, ERR_STORAGE);
	CHECK_EQ_INT(stop, base2 + 4);
	logdir_close(tl_dir, true);
}

TEST(verification_once_and_free_for_tail_reads)
{
	struct log_config cfg;
	sealed_setup(&cfg);
	tl_open(&cfg);
	int err;
	read_until_error(tl_log, &err);
	CHECK_EQ_INT(err, 0);
	/* Data appended in this process: a tail read does no file read at all. */
	struct plog_append_result res;
	CHECK_EQ_INT(tb_append(tl_log, 2, 0, 50, 0, &res), 0);
	file_fault_count_enable();
	struct plog_slice s;
	CHECK_EQ_INT(plog_read(tl_log, res.base_offset, INT64_MAX, 1 << 20, &s), 0);
	CHECK(s.ref.len > 0);
	s.ref.release(s.ref.ctx);
	CHECK_EQ_INT(file_fault_count(FILE_OP_READ), 0);
	/* A second pass over old data reads headers only: fewer reads. */
	int64_t r0 = file_fault_count(FILE_OP_READ);
	read_until_error(tl_log, &err);
	int64_t second = file_fault_count(FILE_OP_READ) - r0;
	file_fault_reset();
	logdir_close(tl_dir, true);
	tl_open(&cfg);
	file_fault_count_enable();
	read_until_error(tl_log, &err);
	int64_t first = file_fault_count(FILE_OP_READ);
	file_fault_reset();
	CHECK(second < first);
	logdir_close(tl_dir, true);
}

TEST(env_spec_parsing)
{
	CHECK_EQ_INT(file_fault_parse("write:3:EIO,fsync:2:ENOSPC:sticky"), 0);
	CHECK_EQ_INT(file_fault_parse("fsync:1:5:path=t-0/"), 0);
	CHECK_EQ_INT(file_fault_parse("bogus:1:EIO"), -EINVAL);
	CHECK_EQ_INT(file_fault_parse("write:0:EIO"), -EINVAL);
	CHECK_EQ_INT(file_fault_parse("write:1:EWHAT"), -EINVAL);
	CHECK_EQ_INT(file_fault_parse("write:1:EIO:often"), -EINVAL);
	file_fault_reset();
	/* A path filter: only calls on matching files count. */
	struct log_config cfg = faults_cfg();
	clear_dir();
	tl_open(&cfg);
	CHECK_EQ_INT(file_fault_parse("write:1:EIO:path=no-such-dir/"), 0);
	CHECK_EQ_INT(tb_append(tl_log, 1, 0, 10, 0, NULL), 0);
	CHECK_EQ_INT(file_fault_parse("write:1:EIO:path=/t-0/"), 0);
	CHECK_EQ_INT(tb_append(tl_log, 1, 0, 10, 0, NULL), ERR_STORAGE);
	file_fault_reset();
	logdir_close(tl_dir, false);
}

int main(int argc, char **argv)
{
	return unit_main(argc, argv);
}
