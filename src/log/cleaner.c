/*
 * cleaner.c: log compaction — choosing what to clean, and the heavy part of
 * cleaning (key map, rewriting segments), which runs on a worker.
 *
 * Model (Kafka's, see "Log Compaction" in the Kafka documentation):
 *   - The cleanable range of a log runs from its first segment up to, not
 *     including, the first segment that is active, not yet durable, or holds
 *     a record younger than min.compaction.lag.ms (its largest timestamp).
 *     Only whole sealed segments are cleaned; the active one never is.
 *   - The clean point splits it: segments below were cleaned before ("clean"),
 *     the rest is "dirty". dirty ratio = dirty bytes / cleanable bytes. A log
 *     is cleaned when the ratio reaches min.cleanable.dirty.ratio, when its
 *     first dirty batch is older than max.compaction.lag.ms, or when the
 *     delete horizon of a kept tombstone has passed.
 *   - A pass builds a map key -> latest offset over the dirty range (keys
 *     are 128-bit hashes, as Kafka keeps MD5s; the map is bounded by
 *     max_map_entries, and when it fills up the pass ends at the segment
 *     where that happened), then rewrites every segment of the cleanable
 *     range up to the new clean point, keeping a record when no later offset
 *     has its key. Consecutive segments are grouped into one cleaned
 *     segment named after the first, while the output stays within
 *     segment.bytes; segments left empty fold into the group before them, so
 *     the first segment keeps its base and the log start offset never moves.
 *   - Tombstones (null value): when a batch holding a kept tombstone is first
 *     rewritten, it gets a delete horizon = now + delete.retention.ms in its
 *     baseTimestamp with attribute bit 6 (KIP-534); a later pass drops
 *     tombstones of batches whose horizon has passed. So a tombstone lives at
 *     least delete.retention.ms after it was first cleaned.
 *   - Batches: a batch that keeps every record (and needs no horizon) is
 *     copied byte for byte. Otherwise the kept records are re-encoded into a
 *     batch with the same base offset, leader epoch, producer id/epoch, base
 *     sequence, attributes and codec (recompressed with batch_compress);
 *     lastOffsetDelta, recordCount, timestamps and CRC are recomputed. Such a
 *     batch may hold fewer records than lastOffsetDelta + 1 (hence
 *     log__batch_check for stored batches). A batch left with no record is
 *     dropped. Control batches are kept as they are. Records without a key
 *     are kept.
 *
 * Not done (yet): records of aborted transactions are kept (and enter the
 * key map), transaction markers are never removed, and the last batch of an
 * idempotent producer is dropped like any other when empty (Fjord keeps no
 * producer state in the log yet; Kafka keeps such a batch, empty).
 *
 * Threads: plog_clean_check/prepare/complete on the log's loop thread;
 * plog_clean_run on a worker, touching only its job (segment descriptors are
 * opened by prepare and stay open while the job holds its references).
 *
 * Left to others: the swap and crash recovery of interrupted cleanings
 * (cleaner_swap.c), scheduling (repl/partition.c), record formats
 * (proto/batch.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/crc32c.h"
#include "base/endian.h"
#include "base/err.h"
#include "base/logging.h"
#include "io/file.h"
#include "log/log_int.h"
#include "proto/batch.h"

#define CLEAN_IO_BUF       (512 * 1024) /* log.cleaner.io.buffer.size */
#define MAP_ENTRY_BYTES    24
#define MAP_DEFAULT_MEMORY (128LL * 1024 * 1024) /* log.cleaner.dedupe.buffer.size */

void plog_clean_params_default(struct plog_clean_params *p)
{
	p->delete_retention_ms = 24LL * 3600 * 1000;
	p->min_compaction_lag_ms = 0;
	p->max_compaction_lag_ms = INT64_MAX;
	p->min_cleanable_ratio = 0.5;
	p->max_map_entries = MAP_DEFAULT_MEMORY / MAP_ENTRY_BYTES;
	p->force = false;
}

/* ---- stored-batch check ---- */

int log__batch_check(const uint8_t *p, size_t n)
{
	if (n < BATCH_HEADER_SIZE)
		return ERR_CORRUPT;
	struct batch_header h;
	batch_header_parse(p, &h);
	if (h.length < 0 || (uint64_t)h.length + BATCH_LOG_OVERHEAD != n || h.magic != 2)
		return ERR_CORRUPT;
	if (crc32c(0, p + BATCH_OFF_ATTRIBUTES, n - BATCH_OFF_ATTRIBUTES) != h.crc)
		return ERR_CORRUPT;
	if ((h.attributes & BATCH_ATTR_COMPRESSION_MASK) > BATCH_ZSTD)
		return ERR_UNSUPPORTED;
	if ((uint16_t)h.attributes & ~0x7fu)
		return ERR_CORRUPT;
	if (h.last_offset_delta < 0 || h.record_count < 0 ||
	    (int64_t)h.record_count > (int64_t)h.last_offset_delta + 1)
		return ERR_CORRUPT;
	return 0;
}

/* ---- the key map ---- */

/* A 64-bit hash of a byte string (multiply-xorshift over 8-byte words). */
static uint64_t hash64(const uint8_t *p, size_t n, uint64_t seed)
{
	const uint64_t m = 0xc6a4a7935bd1e995ULL;
	uint64_t h = seed ^ (n * m);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t k;
		memcpy(&k, p + i, 8);
		k *= m;
		k ^= k >> 47;
		k *= m;
		h ^= k;
		h *= m;
	}
	uint64_t t = 0;
	for (size_t s = 0; i < n; i++, s += 8)
		t |= (uint64_t)p[i] << s;
	h ^= t;
	h *= m;
	h ^= h >> 47;
	h *= m;
	h ^= h >> 47;
	return h;
}

struct map_entry {
	uint64_t a, b;
	int64_t off; /* -1: empty slot */
};

struct key_map {
	struct map_entry *e;
	size_t cap, n; /* cap is a power of two */
};

static void map_alloc(struct key_map *m, size_t cap)
{
	m->e = malloc(cap * sizeof(*m->e));
	if (!m->e)
		abort();
	for (size_t i = 0; i < cap; i++)
		m->e[i].off = -1;
	m->cap = cap;
	m->n = 0;
}

static struct map_entry *map_slot(const struct key_map *m, uint64_t a, uint64_t b)
{
	size_t i = (size_t)a & (m->cap - 1);
	for (;;) {
		struct map_entry *e = &m->e[i];
		if (e->off < 0 || (e->a == a && e->b == b))
			return e;
		i = (i + 1) & (m->cap - 1);
	}
}

static void map_put(struct key_map *m, uint64_t a, uint64_t b, int64_t off)
{
	if ((m->n + 1) * 4 > m->cap * 3) {
		struct key_map old = *m;
		map_alloc(m, old.cap * 2);
		for (size_t i = 0; i < old.cap; i++) {
			if (old.e[i].off >= 0) {
				*map_slot(m, old.e[i].a, old.e[i].b) = old.e[i];
				m->n++;
			}
		}
		free(old.e);
	}
	struct map_entry *e = map_slot(m, a, b);
	if (e->off < 0) {
		e->a = a;
		e->b = b;
		e->off = off;
		m->n++;
	} else if (off > e->off) {
		e->off = off;
	}
}

static int64_t map_get(const struct key_map *m, uint64_t a, uint64_t b)
{
	return map_slot(m, a, b)->off;
}

static void key_hash(const struct batch_record *r, uint64_t *a, uint64_t *b)
{
	*a = hash64(r->key, (size_t)r->key_len, 0x9e3779b97f4a7c15ULL);
	*b = hash64(r->key, (size_t)r->key_len, 0x2545f4914f6cdd1dULL);
}

/* ---- choosing what to clean (loop thread) ---- */

static void load_clean_point(struct plog *l)
{
	if (!l->clean_point_loaded) {
		l->clean_point = log__cleaner_ckpt_get(l->d, l->topic, l->partition);
		l->clean_point_loaded = true;
	}
	if (l->clean_point < l->start_offset || l->clean_point > l->leo)
		l->clean_point = l->start_offset;
}

/* Max timestamp of the first batch of a sealed segment (Kafka's
 * firstBatchTimestamp), or -1. One small read. */
static int64_t first_batch_ts(struct plog *l, struct segment *s)
{
	uint8_t h[BATCH_HEADER_SIZE];
	if (s->size < BATCH_HEADER_SIZE || segment_open_fd(s, l->dir) < 0)
		return -1;
	if (file_pread(s->fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return -1;
	return (int64_t)be64_load(h + BATCH_OFF_MAX_TIMESTAMP);
}

/* Number of leading segments that may be cleaned now. */
static int cleanable_count(struct plog *l, int64_t now_ms, const struct plog_clean_params *p)
{
	int k = 0;
	for (; k < l->nsegs - 1; k++) {
		struct segment *s = l->segs[k];
		if (plog_seg_end(l, k) > l->durable)
			break;
		if (p->min_compaction_lag_ms > 0 && s->size > 0) {
			if (segment_load_max_ts(s, l->dir, &l->cfg) < 0)
				break;
			if (s->max_ts >= 0 && s->max_ts > now_ms - p->min_compaction_lag_ms)
				break;
		}
	}
	return k;
}

int plog_clean_check(struct plog *l, int64_t now_ms, const struct plog_clean_params *p,
                     struct plog_clean_info *info)
{
	memset(info, 0, sizeof(*info));
	if (l->failed)
		return ERR_STORAGE;
	load_clean_point(l);
	/* Like Kafka, a compacted log rolls its active segment once it is older
	 * than max.compaction.lag.ms, so the lag bound can be met. */
	struct segment *act = plog_active(l);
	if (p->max_compaction_lag_ms < INT64_MAX && act->size > 0 && act->first_ms >= 0 &&
	    now_ms - act->first_ms >= p->max_compaction_lag_ms) {
		int r = plog_roll(l, now_ms);
		if (r < 0)
			return r;
	}
	int k = cleanable_count(l, now_ms, p);
	int first_dirty = -1;
	for (int i = 0; i < k; i++) {
		if (plog_seg_end(l, i) > l->clean_point) {
			info->dirty_bytes += l->segs[i]->size;
			if (first_dirty < 0 && l->segs[i]->size > 0)
				first_dirty = i;
		} else {
			info->clean_bytes += l->segs[i]->size;
		}
	}
	info->clean_point = l->clean_point;
	info->cleanable_end = k > 0 ? plog_seg_end(l, k - 1) : l->segs[0]->base;
	int64_t total = info->clean_bytes + info->dirty_bytes;
	info->dirty_ratio = total > 0 ? (double)info->dirty_bytes / (double)total : 0.0;
	if (first_dirty >= 0 && p->max_compaction_lag_ms < INT64_MAX) {
		int64_t ts = first_batch_ts(l, l->segs[first_dirty]);
		if (ts >= 0 && now_ms - ts > p->max_compaction_lag_ms)
			info->must_clean = true;
	}
	if (l->clean_horizon > 0 && now_ms >= l->clean_horizon && total > 0)
		info->must_clean = true;
	bool dirty = info->dirty_bytes > 0;
	info->cleanable = k > 0 && !l->clean_job &&
	                  (info->must_clean || (p->force && total > 0) ||
	                   (dirty && info->dirty_ratio >= p->min_cleanable_ratio));
	return 0;
}

static char *str_dup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (!p)
		abort();
	memcpy(p, s, n);
	return p;
}

int plog_clean_prepare(struct plog *l, int64_t now_ms, const struct plog_clean_params *p,
                       struct plog_clean_job **out)
{
	*out = NULL;
	struct plog_clean_info info;
	if (l->clean_job || l->failed)
		return 0;
	int r = plog_clean_check(l, now_ms, p, &info);
	if (r < 0)
		return r;
	if (!info.cleanable)
		return 0;
	int k = cleanable_count(l, now_ms, p);
	if (k <= 0)
		return 0;
	for (int i = 0; i < k; i++) {
		r = segment_open_fd(l->segs[i], l->dir);
		if (r < 0)
			return r;
	}
	struct plog_clean_job *j = calloc(1, sizeof(*j));
	if (!j)
		abort();
	j->log = l;
	j->d = l->d;
	j->dir = str_dup(l->dir);
	j->now_ms = now_ms;
	j->params = *p;
	if (j->params.max_map_entries <= 0)
		j->params.max_map_entries = MAP_DEFAULT_MEMORY / MAP_ENTRY_BYTES;
	j->cfg = l->cfg;
	j->trunc_gen = l->trunc_gen;
	j->clean_point = l->clean_point;
	j->end = plog_seg_end(l, k - 1);
	j->segs = calloc((size_t)k, sizeof(*j->segs));
	if (!j->segs)
		abort();
	for (int i = 0; i < k; i++) {
		struct segment *s = l->segs[i];
		struct clean_seg *c = &j->segs[i];
		segment_ref(s);
		c->seg = s;
		c->base = s->base;
		c->end = plog_seg_end(l, i);
		c->size = s->size;
		c->fd = s->fd;
		c->dirty = c->end > j->clean_point;
	}
	j->nsegs = k;
	l->clean_job = j;
	*out = j;
	return 1;
}

/* ---- building the key map (worker) ---- */

/*
 * Map every keyed record of the dirty segments. Sets j->clean_end: the end of
 * the last dirty segment mapped whole (all of them, unless the map filled up
 * past the first one). Returns the number of segments to rewrite.
 */
static int build_map(struct plog_clean_job *j, struct key_map *m)
{
	int nrewrite = j->nsegs;
	bool first = true;
	j->clean_end = j->end;
	for (int i = 0; i < j->nsegs; i++) {
		struct clean_seg *c = &j->segs[i];
		if (!c->dirty)
			continue;
		if (!first && (int64_t)m->n >= j->params.max_map_entries) {
			j->clean_end = c->base;
			nrewrite = i;
			break;
		}
		struct seg_scan sc;
		struct scan_batch b;
		int r = 0;
		seg_scan_init(&sc, c->fd, 0, c->size);
		while (r == 0 && seg_scan_next(&sc, &b) == 1) {
			if (b.attrs & BATCH_ATTR_CONTROL)
				continue;
			const uint8_t *p = seg_scan_bytes(&sc, &b);
			if (!p || log__batch_check(p, (size_t)b.size) != 0) {
				r = sc.err ? sc.err : ERR_CORRUPT;
				break;
			}
			struct batch_iter it;
			struct batch_record rec;
			r = batch_iter_init(&it, p, (size_t)b.size);
			while (r == 0 && (r = batch_iter_next(&it, &rec)) == 1) {
				r = 0;
				if (rec.key_len < 0)
					continue;
				uint64_t ka, kb;
				key_hash(&rec, &ka, &kb);
				map_put(m, ka, kb, rec.offset);
			}
			batch_iter_release(&it);
			if (r > 0)
				r = 0;
		}
		if (r == 0 && (sc.err || sc.torn))
			r = sc.err ? sc.err : ERR_CORRUPT;
		seg_scan_release(&sc);
		if (r < 0) {
			LOG_ERROR("%s/%020lld.log: cleaner cannot read: %s", j->dir,
			          (long long)c->base, err_str(r));
			return r;
		}
		first = false;
	}
	return nrewrite;
}

/* ---- rewriting (worker) ---- */

static size_t put_uvarint(uint8_t *out, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

static void buf_varlong(struct buf *b, int64_t v)
{
	uint8_t tmp[10];
	size_t n = put_uvarint(tmp, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
	buf_append(b, tmp, n);
}

/* One record, in the record format of RECORDS.md 5.4. */
static void encode_record(struct buf *out, const struct batch_record *r, int64_t base,
                          int64_t base_ts)
{
	struct buf body;
	buf_init(&body);
	uint8_t attr = 0;
	buf_append(&body, &attr, 1);
	buf_varlong(&body, (int64_t)((uint64_t)r->timestamp - (uint64_t)base_ts));
	buf_varlong(&body, r->offset - base);
	buf_varlong(&body, r->key_len);
	if (r->key_len > 0)
		buf_append(&body, r->key, (size_t)r->key_len);
	buf_varlong(&body, r->value_len);
	if (r->value_len > 0)
		buf_append(&body, r->value, (size_t)r->value_len);
	buf_varlong(&body, r->header_count);
	if (r->headers_len > 0)
		buf_append(&body, r->headers, r->headers_len);
	buf_varlong(out, (int64_t)body.len);
	buf_append(out, body.data, body.len);
	buf_release(&body);
}

struct kept {
	struct batch_record *r;
	int n, cap;
};

/*
 * Filter one stored batch into out (appending 0 or 1 batches). Returns 0 or
 * an error.
 */
static int filter_batch(struct plog_clean_job *j, const struct key_map *m, const uint8_t *p,
                        size_t n, struct kept *k, struct buf *out)
{
	struct batch_header h;
	batch_header_parse(p, &h);
	if (h.attributes & BATCH_ATTR_CONTROL) {
		buf_append(out, p, n); /* transaction markers are kept as they are */
		return 0;
	}
	bool has_horizon = (h.attributes & BATCH_ATTR_DELETE_HORIZON) != 0;
	int64_t horizon = has_horizon ? h.base_timestamp : 0;
	struct batch_iter it;
	struct batch_record rec;
	int r = batch_iter_init(&it, p, n);
	int total = 0, tombs = 0;
	k->n = 0;
	while (r == 0 && (r = batch_iter_next(&it, &rec)) == 1) {
		r = 0;
		total++;
		if (rec.key_len >= 0) {
			uint64_t ka, kb;
			key_hash(&rec, &ka, &kb);
			if (map_get(m, ka, kb) > rec.offset)
				continue; /* a later record has this key */
		}
		if (rec.value_len < 0) {
			if (has_horizon && j->now_ms >= horizon)
				continue; /* a tombstone past its delete horizon */
			tombs++;
		}
		if (k->n == k->cap) {
			k->cap = k->cap ? k->cap * 2 : 64;
			k->r = realloc(k->r, (size_t)k->cap * sizeof(*k->r));
			if (!k->r)
				abort();
		}
		k->r[k->n++] = rec;
	}
	if (r < 0) {
		batch_iter_release(&it);
		return r;
	}
	j->records_in += total;
	j->records_out += k->n;
	bool set_horizon = tombs > 0 && !has_horizon;
	if (k->n == total && !set_horizon) {
		batch_iter_release(&it);
		if (tombs > 0 && (j->horizon_min == 0 || horizon < j->horizon_min))
			j->horizon_min = horizon;
		buf_append(out, p, n); /* unchanged: copied byte for byte */
		return 0;
	}
	if (k->n == 0) {
		batch_iter_release(&it);
		return 0;
	}
	int16_t attrs = h.attributes;
	if (set_horizon) {
		attrs |= BATCH_ATTR_DELETE_HORIZON;
		horizon = j->now_ms + j->params.delete_retention_ms;
		if (horizon < j->now_ms)
			horizon = INT64_MAX;
	}
	if (tombs > 0 && (j->horizon_min == 0 || horizon < j->horizon_min))
		j->horizon_min = horizon;
	bool horizon_in_base = (attrs & BATCH_ATTR_DELETE_HORIZON) != 0;
	int64_t base_ts = horizon_in_base ? horizon : k->r[0].timestamp;
	int64_t max_ts = -1;
	if (h.attributes & BATCH_ATTR_LOG_APPEND_TIME) {
		max_ts = h.max_timestamp;
	} else {
		for (int i = 0; i < k->n; i++)
			if (k->r[i].timestamp > max_ts)
				max_ts = k->r[i].timestamp;
	}
	struct buf recs;
	buf_init(&recs);
	for (int i = 0; i < k->n; i++)
		encode_record(&recs, &k->r[i], h.base_offset, base_ts);
	batch_iter_release(&it); /* the kept records pointed into it */

	size_t at = out->len;
	uint8_t *hp = buf_reserve(out, BATCH_HEADER_SIZE);
	memset(hp, 0, BATCH_HEADER_SIZE);
	buf_advance(out, BATCH_HEADER_SIZE);
	int codec = h.attributes & BATCH_ATTR_COMPRESSION_MASK;
	r = batch_compress((enum batch_compression)codec, recs.data, recs.len, out);
	buf_release(&recs);
	if (r < 0) {
		out->len = at;
		return r;
	}
	uint8_t *b = out->data + at;
	size_t len = out->len - at;
	be64_store(b + BATCH_OFF_BASE_OFFSET, (uint64_t)h.base_offset);
	be32_store(b + BATCH_OFF_LENGTH, (uint32_t)(len - BATCH_LOG_OVERHEAD));
	be32_store(b + BATCH_OFF_LEADER_EPOCH, (uint32_t)h.leader_epoch);
	b[BATCH_OFF_MAGIC] = 2;
	be16_store(b + BATCH_OFF_ATTRIBUTES, (uint16_t)attrs);
	be32_store(b + BATCH_OFF_LAST_OFFSET_DELTA,
	           (uint32_t)(k->r[k->n - 1].offset - h.base_offset));
	be64_store(b + BATCH_OFF_BASE_TIMESTAMP, (uint64_t)base_ts);
	be64_store(b + BATCH_OFF_MAX_TIMESTAMP, (uint64_t)max_ts);
	be64_store(b + BATCH_OFF_PRODUCER_ID, (uint64_t)h.producer_id);
	be16_store(b + BATCH_OFF_PRODUCER_EPOCH, (uint16_t)h.producer_epoch);
	be32_store(b + BATCH_OFF_BASE_SEQUENCE, (uint32_t)h.base_sequence);
	be32_store(b + BATCH_OFF_RECORD_COUNT, (uint32_t)k->n);
	batch_update_crc(b, len);
	return 0;
}

static void cleaned_path(char *out, size_t n, const char *dir, int64_t base, const char *ext)
{
	char p[PATH_MAX_LEN];
	seg_path(p, sizeof(p), dir, base, ext);
	snprintf(out, n, "%s.cleaned", p);
}

/* Write out into the cleaned .log at *pos, indexing each batch. */
static int flush_out(struct segment *ns, int fd, struct buf *out, int64_t *pos,
                     const struct log_config *cfg)
{
	if (out->len == 0)
		return 0;
	int r = file_pwrite(fd, out->data, out->len, *pos);
	if (r < 0)
		return r;
	size_t off = 0;
	while (off < out->len) {
		const uint8_t *b = out->data + off;
		int64_t size = batch_total_size(b);
		int64_t base = (int64_t)be64_load(b + BATCH_OFF_BASE_OFFSET);
		int64_t last = base + (int32_t)be32_load(b + BATCH_OFF_LAST_OFFSET_DELTA);
		int64_t max_ts = (int64_t)be64_load(b + BATCH_OFF_MAX_TIMESTAMP);
		index_on_batch(ns, last, *pos + (int64_t)off, size, max_ts, cfg);
		off += (size_t)size;
	}
	*pos += (int64_t)out->len;
	buf_reset(out);
	return 0;
}

/*
 * Rewrite segments from g->first on into "<base>.log.cleaned" (+ indexes),
 * fsynced: members are added while the output so far plus the next member's
 * input fits in segment.bytes, so members with nothing left fold into the
 * group before them (and the log's first segment keeps its base offset: the
 * log start offset never moves by compaction). Sets g->n; segments [first,
 * first + n) of n_total.
 */
static int clean_group(struct plog_clean_job *j, const struct key_map *m, struct clean_group *g,
                       int n_total)
{
	int64_t base = j->segs[g->first].base;
	char path[PATH_MAX_LEN + 16];
	cleaned_path(path, sizeof(path), j->dir, base, ".log");
	int fd = file_open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fd;
	struct segment *ns = segment_new(base);
	ns->fd = fd;
	g->out = ns;
	struct buf out;
	buf_init(&out);
	struct kept kept = {0};
	int64_t pos = 0;
	int last_nonempty = -1, r = 0, i = 0;
	for (; g->first + i < n_total && r == 0; i++) {
		struct clean_seg *c = &j->segs[g->first + i];
		int64_t before = pos + (int64_t)out.len;
		if (i > 0 && (before + c->size > j->cfg.segment_bytes ||
		              before + c->size > INT32_MAX || c->end - base > INT32_MAX))
			break;
		struct seg_scan sc;
		struct scan_batch b;
		seg_scan_init(&sc, c->fd, 0, c->size);
		while (r == 0 && seg_scan_next(&sc, &b) == 1) {
			const uint8_t *p = seg_scan_bytes(&sc, &b);
			if (!p || log__batch_check(p, (size_t)b.size) != 0) {
				r = sc.err ? sc.err : ERR_CORRUPT;
				break;
			}
			j->bytes_in += b.size;
			r = filter_batch(j, m, p, (size_t)b.size, &kept, &out);
			if (r == 0 && out.len >= CLEAN_IO_BUF)
				r = flush_out(ns, fd, &out, &pos, &j->cfg);
		}
		if (r == 0 && (sc.err || sc.torn))
			r = sc.err ? sc.err : ERR_CORRUPT;
		seg_scan_release(&sc);
		if (pos + (int64_t)out.len > before)
			last_nonempty = i;
	}
	g->n = i;
	if (r == 0)
		r = flush_out(ns, fd, &out, &pos, &j->cfg);
	buf_release(&out);
	free(kept.r);
	if (r < 0)
		return r;
	ns->size = pos;
	j->bytes_out += pos;
	g->nswap = last_nonempty + 1;
	if (pos == 0) {
		/* Nothing left: the members are deleted whole, no cleaned file. */
		file_unlink(path);
		g->out = NULL;
		segment_unref(ns);
		return 0;
	}
	ns->end_offset = j->segs[g->first + g->nswap - 1].end;
	ns->idx_loaded = true;
	ns->max_ts_known = true;
	index_seal(ns);
	cleaned_path(path, sizeof(path), j->dir, base, ".index");
	ns->idx_fd = file_open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (ns->idx_fd < 0)
		return ns->idx_fd;
	cleaned_path(path, sizeof(path), j->dir, base, ".timeindex");
	ns->tidx_fd = file_open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (ns->tidx_fd < 0)
		return ns->tidx_fd;
	r = index_write_files(ns, j->dir, true);
	if (r == 0)
		r = file_fdatasync(ns->fd);
	if (r == 0)
		r = file_fdatasync(ns->idx_fd);
	if (r == 0)
		r = file_fdatasync(ns->tidx_fd);
	segment_close_index_fds(ns);
	return r;
}

void plog_clean_run(struct plog_clean_job *j)
{
	struct key_map m;
	map_alloc(&m, 1024);
	int n = build_map(j, &m);
	int r = n < 0 ? n : 0;
	if (r == 0) {
		j->groups = calloc((size_t)(n > 0 ? n : 1), sizeof(*j->groups));
		if (!j->groups)
			abort();
		for (int i = 0; i < n && r == 0; i += j->groups[j->ngroups - 1].n) {
			struct clean_group *g = &j->groups[j->ngroups++];
			g->first = i;
			r = clean_group(j, &m, g, n);
		}
	}
	free(m.e);
	if (r == 0 && j->ngroups > 0) {
		/* The new files must be durable in the folder before the swap. */
		r = file_sync_dir(j->dir);
	}
	if (r < 0) {
		j->err = r;
		log__cleaner_discard(j, 0, false);
	}
}

int plog_clean_now(struct plog *l, int64_t now_ms, const struct plog_clean_params *p)
{
	struct plog_clean_job *j;
	int r = plog_clean_prepare(l, now_ms, p, &j);
	if (r <= 0)
		return r;
	plog_clean_run(j);
	return plog_clean_complete(j);
}

int64_t plog_clean_point(struct plog *l)
{
	load_clean_point(l);
	return l->clean_point;
}
