/*
 * test_cleaner.c: log compaction — latest value per key, offsets preserved,
 * tombstones kept until their delete horizon, min.compaction.lag.ms, the
 * active segment untouched, compressed batches (all four codecs), control
 * batches, reads during a cleaning, and crash safety: an injected failure at
 * every rename / write / fsync / create of a cleaning, and leftover
 * ".cleaned" / ".swap" files at open, lose nothing and leave no duplicate.
 */
#include <dirent.h>
#include <errno.h>

#include "base/buf.h"
#include "log_test_util.h"

#define NOW 1700000000000LL

struct trec {
	int64_t offset;
	char key[16];
	char val[24];
	bool tomb;
};

/* Everything appended, in offset order (the model). */
static struct trec model[4096];
static int nmodel;

static void put_varlong(struct buf *b, int64_t v)
{
	uint8_t tmp[10];
	buf_append(b, tmp, tb_varlong(tmp, v));
}

/*
 * Append one batch of n records: record i has key keys[i] and value
 * "<key>=<seq>" (or a tombstone when tomb[i]), timestamp ts. codec 0..4.
 */
static void append_keyed(struct plog *l, int n, const int *keys, const bool *tomb, int codec,
                         int64_t ts)
{
	static int seq;
	struct buf recs;
	buf_init(&recs);
	for (int i = 0; i < n; i++) {
		struct trec *m = &model[nmodel + i];
		snprintf(m->key, sizeof(m->key), "k%d", keys[i]);
		snprintf(m->val, sizeof(m->val), "k%d=%d", keys[i], seq++);
		m->tomb = tomb && tomb[i];
		struct buf body;
		buf_init(&body);
		uint8_t zero = 0;
		buf_append(&body, &zero, 1);
		put_varlong(&body, 0);
		put_varlong(&body, i);
		put_varlong(&body, (int64_t)strlen(m->key));
		buf_append(&body, m->key, strlen(m->key));
		if (m->tomb) {
			put_varlong(&body, -1);
		} else {
			put_varlong(&body, (int64_t)strlen(m->val));
			buf_append(&body, m->val, strlen(m->val));
		}
		put_varlong(&body, 0);
		put_varlong(&recs, (int64_t)body.len);
		buf_append(&recs, body.data, body.len);
		buf_release(&body);
	}
	struct buf b;
	buf_init(&b);
	buf_advance(&b, 0);
	memset(buf_reserve(&b, BATCH_HEADER_SIZE), 0, BATCH_HEADER_SIZE);
	buf_advance(&b, BATCH_HEADER_SIZE);
	CHECK_EQ_INT(batch_compress((enum batch_compression)codec, recs.data, recs.len, &b), 0);
	uint8_t *p = b.data;
	be32_store(p + BATCH_OFF_LENGTH, (uint32_t)(b.len - BATCH_LOG_OVERHEAD));
	p[BATCH_OFF_MAGIC] = 2;
	be16_store(p + BATCH_OFF_ATTRIBUTES, (uint16_t)codec);
	be32_store(p + BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(n - 1));
	be64_store(p + BATCH_OFF_BASE_TIMESTAMP, (uint64_t)ts);
	be64_store(p + BATCH_OFF_MAX_TIMESTAMP, (uint64_t)ts);
	be64_store(p + BATCH_OFF_PRODUCER_ID, (uint64_t)-1);
	be16_store(p + BATCH_OFF_PRODUCER_EPOCH, (uint16_t)-1);
	be32_store(p + BATCH_OFF_BASE_SEQUENCE, (uint32_t)-1);
	be32_store(p + BATCH_OFF_RECORD_COUNT, (uint32_t)n);
	batch_update_crc(p, b.len);
	struct plog_append_result res;
	CHECK_EQ_INT(plog_append(l, p, b.len, 0, ts, &res), 0);
	for (int i = 0; i < n; i++)
		model[nmodel + i].offset = res.base_offset + i;
	nmodel += n;
	buf_release(&recs);
	buf_release(&b);
}

/* A transaction marker (control batch); returns its offset. */
static int64_t append_control(struct plog *l, int64_t ts)
{
	uint8_t rec[32];
	size_t r = 0;
	uint8_t key[4] = {0, 0, 0, 1}, val[6] = {0, 0, 0, 0, 0, 5};
	uint8_t body[24];
	size_t bl = 0;
	body[bl++] = 0;
	bl += tb_varlong(body + bl, 0);
	bl += tb_varlong(body + bl, 0);
	bl += tb_varlong(body + bl, 4);
	memcpy(body + bl, key, 4);
	bl += 4;
	bl += tb_varlong(body + bl, 6);
	memcpy(body + bl, val, 6);
	bl += 6;
	bl += tb_varlong(body + bl, 0);
	r += tb_varlong(rec + r, (int64_t)bl);
	memcpy(rec + r, body, bl);
	r += bl;
	uint8_t p[BATCH_HEADER_SIZE + 32] = {0};
	size_t n = BATCH_HEADER_SIZE + r;
	memcpy(p + BATCH_HEADER_SIZE, rec, r);
	be32_store(p + BATCH_OFF_LENGTH, (uint32_t)(n - BATCH_LOG_OVERHEAD));
	p[BATCH_OFF_MAGIC] = 2;
	be16_store(p + BATCH_OFF_ATTRIBUTES, BATCH_ATTR_CONTROL | BATCH_ATTR_TRANSACTIONAL);
	be64_store(p + BATCH_OFF_BASE_TIMESTAMP, (uint64_t)ts);
	be64_store(p + BATCH_OFF_MAX_TIMESTAMP, (uint64_t)ts);
	be64_store(p + BATCH_OFF_PRODUCER_ID, 7);
	be32_store(p + BATCH_OFF_BASE_SEQUENCE, (uint32_t)-1);
	be32_store(p + BATCH_OFF_RECORD_COUNT, 1);
	batch_update_crc(p, n);
	struct plog_append_result res;
	CHECK_EQ_INT(plog_append(l, p, n, 0, ts, &res), 0);
	return res.base_offset;
}

/* What the log holds now, record by record. */
struct got {
	int64_t offset;
	char key[16];
	char val[24];
	bool tomb, control;
	int codec;
	int64_t ts;
};
static struct got got[4096];
static int ngot;

static void read_all(struct plog *l)
{
	ngot = 0;
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
			const uint8_t *p = b + off;
			CHECK(be32_load(p + BATCH_OFF_CRC) ==
			      crc32c(0, p + BATCH_OFF_ATTRIBUTES, n - BATCH_OFF_ATTRIBUTES));
			struct batch_iter it;
			struct batch_record r;
			CHECK_EQ_INT(batch_iter_init(&it, p, n), 0);
			while (batch_iter_next(&it, &r) == 1) {
				struct got *g = &got[ngot++];
				memset(g, 0, sizeof(*g));
				CHECK(r.offset > prev); /* strictly increasing: no duplicate */
				CHECK(r.offset <= it.h.base_offset + it.h.last_offset_delta);
				prev = r.offset;
				g->offset = r.offset;
				g->control = (it.h.attributes & BATCH_ATTR_CONTROL) != 0;
				g->codec = it.h.attributes & BATCH_ATTR_COMPRESSION_MASK;
				g->ts = r.timestamp;
				if (!g->control && r.key_len > 0 && r.key_len < 16)
					memcpy(g->key, r.key, (size_t)r.key_len);
				g->tomb = r.value_len < 0;
				if (!g->control && r.value_len > 0 && r.value_len < 24)
					memcpy(g->val, r.value, (size_t)r.value_len);
			}
			CHECK_EQ_INT(it.err, 0);
			batch_iter_release(&it);
			off += n;
		}
		free(b);
		o = s.next_offset;
		s.ref.release(s.ref.ctx);
	}
}

static const struct trec *model_at(int64_t off)
{
	for (int i = 0; i < nmodel; i++)
		if (model[i].offset == off)
			return &model[i];
	return NULL;
}

/* Latest offset of key in the model among offsets below end (-1 none). */
static int64_t model_latest(const char *key, int64_t end)
{
	int64_t best = -1;
	for (int i = 0; i < nmodel; i++)
		if (model[i].offset < end && strcmp(model[i].key, key) == 0)
			best = model[i].offset;
	return best;
}

/*
 * Check the log against the model: every record read is the model's record
 * at that offset; below clean_end exactly the latest per key (tombstones
 * only when keep_tombs); at and above it, every model record. With
 * allow_dups, records below clean_end may also be older, uncleaned ones (a
 * cleaning that did not happen), but each key's latest must be there.
 */
static void check_log(struct plog *l, int64_t clean_end, bool keep_tombs, bool allow_dups)
{
	read_all(l);
	int gi = 0;
	for (int i = 0; i < ngot; i++) {
		if (got[i].control)
			continue;
		const struct trec *m = model_at(got[i].offset);
		CHECK(m != NULL);
		if (!m)
			continue;
		CHECK(strcmp(m->key, got[i].key) == 0);
		CHECK(m->tomb == got[i].tomb);
		if (!m->tomb)
			CHECK(strcmp(m->val, got[i].val) == 0);
		if (got[i].offset < clean_end && !allow_dups)
			CHECK_EQ_INT(got[i].offset, model_latest(m->key, clean_end));
	}
	/* Nothing that must survive is missing. */
	for (int i = 0; i < nmodel; i++) {
		const struct trec *m = &model[i];
		bool must = m->offset >= clean_end || m->offset == model_latest(m->key, clean_end);
		if (m->offset < clean_end && m->tomb && !keep_tombs)
			must = false;
		if (!must)
			continue;
		while (gi < ngot && got[gi].offset < m->offset)
			gi++;
		CHECK(gi < ngot && got[gi].offset == m->offset);
	}
}

static struct plog_clean_params params(void)
{
	struct plog_clean_params p;
	plog_clean_params_default(&p);
	p.force = true;
	return p;
}

/* n batches of 3 records cycling over nkeys keys; every 7th key is a tombstone. */
static void fill(struct plog *l, int n, int nkeys, int codec)
{
	for (int i = 0; i < n; i++) {
		int keys[3];
		bool tomb[3];
		for (int k = 0; k < 3; k++) {
			keys[k] = (i * 3 + k) % nkeys;
			tomb[k] = (i * 3 + k) % 7 == 6;
		}
		append_keyed(l, 3, keys, tomb, codec, NOW - 100000 + i);
	}
}

static int count_files(const char *suffix)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/t-0", unit_tmpdir());
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		size_t a = strlen(e->d_name), b = strlen(suffix);
		if (a >= b && strcmp(e->d_name + a - b, suffix) == 0)
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

static struct log_config small_cfg(void)
{
	struct log_config c = test_cfg();
	c.segment_bytes = 1500;
	c.index_interval_bytes = 200;
	return c;
}

static void setup(int batches, int nkeys, int codec)
{
	struct log_config cfg = small_cfg();
	nmodel = 0;
	tl_open(&cfg);
	fill(tl_log, batches, nkeys, codec);
	tl_sync(tl_log);
}

/* The end of the cleanable range: base of the active segment. */
static int64_t active_base(struct plog *l)
{
	struct plog_clean_info info;
	struct plog_clean_params p = params();
	CHECK_EQ_INT(plog_clean_check(l, NOW, &p, &info), 0);
	return info.cleanable_end;
}

TEST(latest_value_per_key_offsets_preserved)
{
	setup(60, 10, 0);
	int nseg = plog_segment_count(tl_log);
	CHECK(nseg > 4);
	int64_t end = active_base(tl_log), leo = plog_end_offset(tl_log);
	int64_t size = plog_size_bytes(tl_log);
	struct plog_clean_params p = params();
	CHECK(plog_clean_now(tl_log, NOW, &p) > 0);
	CHECK_EQ_INT(plog_end_offset(tl_log), leo);
	CHECK_EQ_INT(plog_start_offset(tl_log), 0);
	CHECK_EQ_INT(plog_clean_point(tl_log), end);
	CHECK(plog_size_bytes(tl_log) < size / 2);
	CHECK(plog_segment_count(tl_log) < nseg);
	check_log(tl_log, end, true, false);
	/* Appends go on; a second pass gives the same answer. */
	fill(tl_log, 20, 10, 0);
	tl_sync(tl_log);
	end = active_base(tl_log);
	CHECK(plog_clean_now(tl_log, NOW, &p) > 0);
	check_log(tl_log, end, true, false);
	/* Reopen (unclean, no recovery point: a full validating scan of the
	 * cleaned batches, which have offset gaps) keeps everything. */
	struct log_config cfg = small_cfg();
	tl_reopen(&cfg, false);
	check_log(tl_log, end, true, false);
	CHECK_EQ_INT(plog_clean_point(tl_log), end);
	CHECK_EQ_INT(plog_start_offset(tl_log), 0); /* compaction never moves it */
	logdir_close(tl_dir, true);
}

TEST(tombstones_survive_delete_retention)
{
	setup(40, 5, 0);
	int64_t end = active_base(tl_log);
	struct plog_clean_params p = params();
	p.delete_retention_ms = 10000;
	CHECK(plog_clean_now(tl_log, NOW, &p) > 0);
	check_log(tl_log, end, true, false);
	int tombs = 0;
	for (int i = 0; i < ngot; i++)
		tombs += got[i].tomb;
	CHECK(tombs > 0);
	/* Before the horizon: still there. */
	CHECK(plog_clean_now(tl_log, NOW + 9999, &p) >= 0);
	check_log(tl_log, end, true, false);
	int tombs2 = 0;
	for (int i = 0; i < ngot; i++)
		tombs2 += got[i].tomb;
	CHECK_EQ_INT(tombs2, tombs);
	/* The horizon has passed: the cleaner must run by itself, and drop them. */
	struct plog_clean_info info;
	p.force = false;
	p.min_cleanable_ratio = 0.99;
	CHECK_EQ_INT(plog_clean_check(tl_log, NOW + 10000, &p, &info), 0);
	CHECK(info.must_clean);
	CHECK(plog_clean_now(tl_log, NOW + 10000, &p) >= 0);
	check_log(tl_log, end, false, false);
	for (int i = 0; i < ngot; i++)
		CHECK(!got[i].tomb || got[i].offset >= end);
	logdir_close(tl_dir, true);
}

TEST(min_compaction_lag_and_ratio)
{
	setup(40, 5, 0);
	struct plog_clean_params p = params();
	p.force = false;
	/* Records are 100 s old: a 200 s lag leaves nothing cleanable. */
	p.min_compaction_lag_ms = 200000;
	struct plog_clean_info info;
	CHECK_EQ_INT(plog_clean_check(tl_log, NOW, &p, &info), 0);
	CHECK(!info.cleanable);
	CHECK_EQ_INT(plog_clean_now(tl_log, NOW, &p), 0);
	CHECK_EQ_INT(plog_clean_point(tl_log), 0);
	/* A 50 s lag: every sealed segment qualifies (all written 100 s ago). */
	p.min_compaction_lag_ms = 50000;
	CHECK_EQ_INT(plog_clean_check(tl_log, NOW, &p, &info), 0);
	CHECK(info.cleanable);
	CHECK(info.dirty_ratio > 0.99);
	int64_t end = info.cleanable_end;
	CHECK(plog_clean_now(tl_log, NOW, &p) > 0);
	check_log(tl_log, end, true, false);
	/* Clean now: ratio 0, nothing to do until more is written. */
	CHECK_EQ_INT(plog_clean_check(tl_log, NOW, &p, &info), 0);
	CHECK(!info.cleanable);
	CHECK(info.dirty_ratio < 0.01);
	fill(tl_log, 40, 5, 0);
	tl_sync(tl_log);
	CHECK_EQ_INT(plog_clean_check(tl_log, NOW, &p, &info), 0);
	CHECK(info.dirty_ratio > 0.5);
	CHECK(info.cleanable);
	/* max.compaction.lag.ms forces a cleaning whatever the ratio. */
	p.min_cleanable_ratio = 1.0;
	CHECK_EQ_INT(plog_clean_check(tl_log, NOW, &p, &info), 0);
	CHECK(!info.cleanable);
	p.max_compaction_lag_ms = 60000;
	CHECK_EQ_INT(plog_clean_check(tl_log, NOW, &p, &info), 0);
	CHECK(info.must_clean && info.cleanable);
	logdir_close(tl_dir, true);
}

TEST(active_segment_untouched)
{
	struct log_config cfg = small_cfg();
	cfg.segment_bytes = 1 << 20;
	nmodel = 0;
	tl_open(&cfg);
	fill(tl_log, 40, 3, 0);
	tl_sync(tl_log);
	CHECK_EQ_INT(plog_segment_count(tl_log), 1);
	struct plog_clean_params p = params();
	CHECK_EQ_INT(plog_clean_now(tl_log, NOW, &p), 0);
	check_log(tl_log, 0, true, false);
	CHECK_EQ_INT(ngot, nmodel);
	logdir_close(tl_dir, true);
}

TEST(compressed_batches_all_codecs)
{
	for (int codec = 1; codec <= 4; codec++) {
		struct log_config cfg = small_cfg();
		char sub[4096];
		snprintf(sub, sizeof(sub), "%s/c%d", unit_tmpdir(), codec);
		nmodel = 0;
		CHECK_EQ_INT(logdir_open(sub, &tl_dir), 0);
		CHECK_EQ_INT(logdir_open_log(tl_dir, "t", 0, &cfg, true, &tl_log), 0);
		for (int i = 0; i < 40; i++) {
			int keys[10];
			bool tomb[10] = {0};
			for (int k = 0; k < 10; k++)
				keys[k] = (i * 10 + k * 3) % 13;
			append_keyed(tl_log, 10, keys, tomb, codec, NOW - 1000 + i);
		}
		tl_sync(tl_log);
		struct plog_clean_info info;
		struct plog_clean_params p = params();
		CHECK_EQ_INT(plog_clean_check(tl_log, NOW, &p, &info), 0);
		CHECK(plog_clean_now(tl_log, NOW, &p) > 0);
		check_log(tl_log, info.cleanable_end, true, false);
		int below = 0;
		for (int i = 0; i < ngot; i++) {
			CHECK_EQ_INT(got[i].codec, codec);
			below += got[i].offset < info.cleanable_end;
			/* timestamps survive re-encoding */
			const struct trec *m = model_at(got[i].offset);
			CHECK(m != NULL);
		}
		CHECK(below <= 13);
		logdir_close(tl_dir, true);
	}
}

TEST(control_batches_kept)
{
	struct log_config cfg = small_cfg();
	nmodel = 0;
	tl_open(&cfg);
	int64_t ctl[10];
	for (int i = 0; i < 10; i++) {
		fill(tl_log, 4, 3, 0);
		ctl[i] = append_control(tl_log, NOW - 1000);
	}
	fill(tl_log, 10, 3, 0);
	tl_sync(tl_log);
	int64_t end = active_base(tl_log);
	struct plog_clean_params p = params();
	p.delete_retention_ms = 0;
	CHECK(plog_clean_now(tl_log, NOW, &p) > 0);
	CHECK(plog_clean_now(tl_log, NOW + 1, &p) >= 0);
	check_log(tl_log, end, false, false);
	int found = 0;
	for (int i = 0; i < ngot; i++)
		for (int k = 0; k < 10; k++)
			if (got[i].control && got[i].offset == ctl[k])
				found++;
	CHECK_EQ_INT(found, 10);
	logdir_close(tl_dir, true);
}

TEST(reads_during_cleaning_see_old_data)
{
	setup(60, 10, 0);
	int64_t end = active_base(tl_log);
	struct plog_slice s;
	CHECK_EQ_INT(plog_read(tl_log, 0, INT64_MAX, 1 << 20, &s), 0);
	uint8_t *before = tl_slice_bytes(&s);
	struct plog_clean_params p = params();
	struct plog_clean_job *j;
	CHECK_EQ_INT(plog_clean_prepare(tl_log, NOW, &p, &j), 1);
	/* A second cleaning cannot start while one is in flight. */
	struct plog_clean_job *j2;
	CHECK_EQ_INT(plog_clean_prepare(tl_log, NOW, &p, &j2), 0);
	plog_clean_run(j);
	CHECK_EQ_INT(count_files(".log.cleaned") > 0, 1);
	/* Appends and reads go on meanwhile. */
	check_log(tl_log, 0, true, true);
	fill(tl_log, 5, 10, 0);
	CHECK(plog_clean_complete(j) > 0);
	CHECK_EQ_INT(count_files(".cleaned"), 0);
	check_log(tl_log, end, true, false);
	/* The slice taken before still reads the old bytes. */
	uint8_t *after = tl_slice_bytes(&s);
	CHECK(memcmp(before, after, (size_t)s.ref.len) == 0);
	free(before);
	free(after);
	s.ref.release(s.ref.ctx);
	logdir_close(tl_dir, true);
}

TEST(truncation_during_cleaning_discards_result)
{
	setup(60, 10, 0);
	struct plog_clean_params p = params();
	struct plog_clean_job *j;
	CHECK_EQ_INT(plog_clean_prepare(tl_log, NOW, &p, &j), 1);
	plog_clean_run(j);
	int64_t cut = plog_end_offset(tl_log) - 9;
	CHECK_EQ_INT(plog_truncate_to(tl_log, cut), 0);
	CHECK_EQ_INT(plog_clean_complete(j), 0);
	CHECK_EQ_INT(plog_clean_point(tl_log), 0);
	while (nmodel > 0 && model[nmodel - 1].offset >= cut)
		nmodel--;
	check_log(tl_log, 0, true, false);
	CHECK_EQ_INT(ngot, nmodel);
	/* Retention removing the first segments meanwhile: those groups are
	 * skipped, the rest is swapped. */
	CHECK_EQ_INT(plog_clean_prepare(tl_log, NOW, &p, &j), 1);
	plog_clean_run(j);
	CHECK_EQ_INT(plog_advance_start_offset(tl_log, 100), 0);
	CHECK(plog_clean_complete(j) >= 0);
	read_all(tl_log);
	CHECK(ngot > 0);
	logdir_close(tl_dir, true);
}

/* ---- crash safety ---- */

static void abandon_and_crash(struct plog_clean_job *j)
{
	logdir_close(tl_dir, false);
	plog_clean_abandon(j);
}

TEST(leftover_cleaned_files_are_discarded)
{
	setup(60, 10, 0);
	struct plog_clean_params p = params();
	struct plog_clean_job *j;
	CHECK_EQ_INT(plog_clean_prepare(tl_log, NOW, &p, &j), 1);
	plog_clean_run(j);
	CHECK(count_files(".log.cleaned") > 0);
	abandon_and_crash(j);
	struct log_config cfg = small_cfg();
	tl_open(&cfg);
	CHECK_EQ_INT(count_files(".cleaned"), 0);
	check_log(tl_log, 0, true, false);
	CHECK_EQ_INT(ngot, nmodel);
	logdir_close(tl_dir, true);
}

static char first_swap[32]; /* base name of the first cleaned segment */

/* Rename "<name>.cleaned" to "<name>.swap" for every cleaned file. */
static int commit_swaps(void)
{
	first_swap[0] = 0;
	char dir[4096], from[4400], to[4400];
	snprintf(dir, sizeof(dir), "%s/t-0", unit_tmpdir());
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)) != NULL) {
		size_t a = strlen(e->d_name);
		if (a < 8 || strcmp(e->d_name + a - 8, ".cleaned") != 0)
			continue;
		snprintf(from, sizeof(from), "%s/%s", dir, e->d_name);
		snprintf(to, sizeof(to), "%s/%.*s.swap", dir, (int)(a - 8), e->d_name);
		CHECK_EQ_INT(rename(from, to), 0);
		if (a == 20 + 4 + 8 && (!first_swap[0] || strncmp(e->d_name, first_swap, 20) < 0))
			snprintf(first_swap, sizeof(first_swap), "%.20s", e->d_name);
		n++;
	}
	closedir(d);
	return n;
}

TEST(leftover_swap_files_are_completed)
{
	for (int variant = 0; variant < 3; variant++) {
		setup(60, 10, 0);
		int64_t end = active_base(tl_log);
		struct plog_clean_params p = params();
		struct plog_clean_job *j;
		CHECK_EQ_INT(plog_clean_prepare(tl_log, NOW, &p, &j), 1);
		plog_clean_run(j);
		CHECK(commit_swaps() > 0);
		if (variant >= 1) {
			/* Part of step 2: the first segment's old .log retired. */
			char a[64], b[64];
			snprintf(a, sizeof(a), "%s.log", first_swap);
			snprintf(b, sizeof(b), "%s.log.deleted", first_swap);
			char pa[4096];
			snprintf(pa, sizeof(pa), "%s", tl_path(a));
			CHECK_EQ_INT(rename(pa, tl_path(b)), 0);
		}
		if (variant == 2) {
			/* Part of step 3: its index already renamed. */
			char a[64], b[64];
			snprintf(a, sizeof(a), "%s.index.swap", first_swap);
			snprintf(b, sizeof(b), "%s.index", first_swap);
			char pa[4096];
			snprintf(pa, sizeof(pa), "%s", tl_path(a));
			CHECK_EQ_INT(rename(pa, tl_path(b)), 0);
		}
		abandon_and_crash(j);
		struct log_config cfg = small_cfg();
		tl_open(&cfg);
		CHECK_EQ_INT(count_files(".swap"), 0);
		CHECK_EQ_INT(count_files(".cleaned"), 0);
		CHECK_EQ_INT(count_files(".deleted"), 0);
		/* Swapped groups are clean; groups with nothing left were not
		 * deleted yet (that happens before the swap, in the process). */
		check_log(tl_log, end, true, true);
		CHECK_EQ_INT(plog_end_offset(tl_log), model[nmodel - 1].offset + 1);
		CHECK(plog_clean_now(tl_log, NOW, &p) > 0);
		check_log(tl_log, end, true, false);
		logdir_close(tl_dir, true);
		char cmd[4200];
		snprintf(cmd, sizeof(cmd), "rm -rf %s/* %s/.[!.]*", unit_tmpdir(), unit_tmpdir());
		CHECK_EQ_INT(system(cmd), 0);
	}
}

/*
 * Fail the nth call of op during a cleaning (for every n up to the number of
 * such calls a cleaning makes), then crash and reopen: every record that
 * must survive is there, each once, and a new cleaning gives the exact
 * result.
 */
static void crash_each(enum file_op op, int err)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s/* %s/.[!.]*", unit_tmpdir(), unit_tmpdir());
	setup(60, 10, 0);
	struct plog_clean_params p = params();
	file_fault_count_enable();
	int64_t c0 = file_fault_count(op);
	CHECK(plog_clean_now(tl_log, NOW, &p) > 0);
	int total = (int)(file_fault_count(op) - c0);
	file_fault_reset();
	logdir_close(tl_dir, true);
	CHECK(total > 0);
	for (int n = 1; n <= total; n++) {
		CHECK_EQ_INT(system(cmd), 0);
		setup(60, 10, 0);
		int64_t end = active_base(tl_log);
		file_fault_fail(op, n, err, false);
		int r = plog_clean_now(tl_log, NOW, &p);
		file_fault_reset();
		(void)r;
		logdir_close(tl_dir, false);
		struct log_config cfg = small_cfg();
		tl_open(&cfg);
		CHECK_EQ_INT(count_files(".swap"), 0);
		CHECK_EQ_INT(count_files(".cleaned"), 0);
		check_log(tl_log, end, true, true);
		CHECK_EQ_INT(plog_end_offset(tl_log), model[nmodel - 1].offset + 1);
		CHECK(plog_clean_now(tl_log, NOW, &p) >= 0);
		check_log(tl_log, end, true, false);
		logdir_close(tl_dir, true);
	}
}

TEST(crash_at_each_rename)
{
	crash_each(FILE_OP_RENAME, EIO);
}

TEST(crash_at_each_write)
{
	crash_each(FILE_OP_WRITE, ENOSPC);
}

TEST(crash_at_each_sync)
{
	crash_each(FILE_OP_SYNC, EIO);
}

TEST(crash_at_each_create)
{
	crash_each(FILE_OP_OPEN, EMFILE);
}

TEST(power_cut_after_cleaning)
{
	setup(60, 10, 0);
	int64_t end = active_base(tl_log);
	struct plog_clean_params p = params();
	file_fault_powercut_begin();
	CHECK(plog_clean_now(tl_log, NOW, &p) > 0);
	logdir_close(tl_dir, false);
	file_fault_powercut_apply();
	struct log_config cfg = small_cfg();
	tl_open(&cfg);
	check_log(tl_log, end, true, true);
	CHECK_EQ_INT(plog_end_offset(tl_log), model[nmodel - 1].offset + 1);
	logdir_close(tl_dir, true);
}

int main(int argc, char **argv)
{
	return unit_main(argc, argv);
}
