/*
 * log_test_util.h: helpers shared by the partition-log unit tests — building
 * valid magic-2 record batches by hand (uncompressed records, RECORDS.md 5.4,
 * CRC-32C over [21, end)) and opening a log in the test's directory.
 */
#ifndef FJORD_TESTS_LOG_TEST_UTIL_H
#define FJORD_TESTS_LOG_TEST_UTIL_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "base/endian.h"
#include "base/err.h"
#include "base/logging.h"
#include "io/file.h"
#include "log/log.h"
#include "proto/batch.h"
#include "unit.h"

struct tbatch {
	uint8_t *p;
	size_t n;
};

static size_t tb_varlong(uint8_t *out, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	size_t n = 0;
	while (z >= 0x80) {
		out[n++] = (uint8_t)(z | 0x80);
		z >>= 7;
	}
	out[n++] = (uint8_t)z;
	return n;
}

/*
 * A batch of nrec records; record i has timestamp ts[i] (or base_ts + i when
 * ts is NULL) and a value of vlen bytes of fill. Free with tb_free.
 */
static struct tbatch tb_make_ts(int nrec, const int64_t *ts, int64_t base_ts, int vlen,
                                uint8_t fill)
{
	size_t cap = BATCH_HEADER_SIZE + (size_t)nrec * ((size_t)vlen + 40);
	uint8_t *p = calloc(1, cap);
	size_t n = BATCH_HEADER_SIZE;
	int64_t first = ts ? ts[0] : base_ts, max = -1;
	for (int i = 0; i < nrec; i++) {
		int64_t t = ts ? ts[i] : base_ts + i;
		if (t > max)
			max = t;
		uint8_t body[64];
		size_t b = 0;
		body[b++] = 0; /* attributes */
		b += tb_varlong(body + b, t - first);
		b += tb_varlong(body + b, i);
		b += tb_varlong(body + b, -1); /* null key */
		b += tb_varlong(body + b, vlen);
		size_t tail_len = (size_t)vlen + 1; /* value + header count */
		n += tb_varlong(p + n, (int64_t)(b + tail_len));
		memcpy(p + n, body, b);
		n += b;
		memset(p + n, fill, (size_t)vlen);
		n += (size_t)vlen;
		p[n++] = 0; /* no headers */
	}
	be64_store(p + BATCH_OFF_BASE_OFFSET, 0);
	be32_store(p + BATCH_OFF_LENGTH, (uint32_t)(n - BATCH_LOG_OVERHEAD));
	be32_store(p + BATCH_OFF_LEADER_EPOCH, (uint32_t)-1);
	p[BATCH_OFF_MAGIC] = 2;
	be16_store(p + BATCH_OFF_ATTRIBUTES, 0);
	be32_store(p + BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(nrec - 1));
	be64_store(p + BATCH_OFF_BASE_TIMESTAMP, (uint64_t)first);
	be64_store(p + BATCH_OFF_MAX_TIMESTAMP, (uint64_t)max);
	be64_store(p + BATCH_OFF_PRODUCER_ID, (uint64_t)-1);
	be16_store(p + BATCH_OFF_PRODUCER_EPOCH, (uint16_t)-1);
	be32_store(p + BATCH_OFF_BASE_SEQUENCE, (uint32_t)-1);
	be32_store(p + BATCH_OFF_RECORD_COUNT, (uint32_t)nrec);
	be32_store(p + BATCH_OFF_CRC,
	           crc32c(0, p + BATCH_OFF_ATTRIBUTES, n - BATCH_OFF_ATTRIBUTES));
	struct tbatch t = {p, n};
	return t;
}

static struct tbatch tb_make(int nrec, int64_t base_ts, int vlen)
{
	return tb_make_ts(nrec, NULL, base_ts, vlen, 'v');
}

static void tb_free(struct tbatch *t)
{
	free(t->p);
	t->p = NULL;
}

/* Append a fresh batch; returns the plog_append result code. */
static inline int tb_append(struct plog *l, int nrec, int64_t ts, int vlen, int64_t now,
                            struct plog_append_result *res)
{
	struct tbatch t = tb_make(nrec, ts, vlen);
	struct plog_append_result tmp;
	int r = plog_append(l, t.p, t.n, 0, now, res ? res : &tmp);
	tb_free(&t);
	return r;
}

static struct log_config test_cfg(void)
{
	struct log_config c;
	log_config_default(&c);
	c.retention_ms = -1;
	c.file_delete_delay_ms = 0;
	return c;
}

static struct logdir *tl_dir;
static struct plog *tl_log;

static void tl_open(const struct log_config *cfg)
{
	logging_level = LOG_LEVEL_ERROR;
	CHECK_EQ_INT(logdir_open(unit_tmpdir(), &tl_dir), 0);
	CHECK_EQ_INT(logdir_open_log(tl_dir, "t", 0, cfg, true, &tl_log), 0);
}

static inline void tl_reopen(const struct log_config *cfg, bool clean)
{
	logdir_close(tl_dir, clean);
	tl_open(cfg);
}

static inline void tl_sync(struct plog *l)
{
	struct plog_sync s;
	while (plog_sync_prepare(l, &s) == 1) {
		plog_sync_run(&s);
		plog_sync_complete(&s);
	}
}

/* Read the bytes of a slice into a malloc'd buffer. */
static inline uint8_t *tl_slice_bytes(const struct plog_slice *s)
{
	uint8_t *b = malloc((size_t)s->ref.len + 1);
	CHECK(file_pread(s->ref.fd, b, (size_t)s->ref.len, s->ref.off) == s->ref.len);
	return b;
}

static inline int64_t tl_file_size(const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/t-0/%s", unit_tmpdir(), name);
	struct stat st;
	if (stat(path, &st) < 0)
		return -1;
	return (int64_t)st.st_size;
}

static inline const char *tl_path(const char *name)
{
	static char path[4096];
	snprintf(path, sizeof(path), "%s/t-0/%s", unit_tmpdir(), name);
	return path;
}

#endif
