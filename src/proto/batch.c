/*
 * batch.c: record batches (magic 2): header parse, validation, CRC update and
 * record iteration. The byte layout is in batch.h and RECORDS.md section 5.
 *
 * Validation is the produce hot path: fixed header checks and one CRC-32C
 * pass, nothing per record. Iteration is the slow path and treats its input as
 * hostile even when it was validated (a CRC only proves the producer meant to
 * send those bytes): every varint is bounded to its width, every length is
 * checked against the bytes left in the record, each record must be consumed
 * exactly by its fields, and the number of records must equal recordCount
 * with no bytes left over. Any violation is ERR_CORRUPT and sticks.
 *
 * Left to others: codecs live in compress.c; topic rules (keys on compacted
 * topics, timestamp bounds, control batches from clients, sequence checks)
 * belong to the log and the produce handler; rewriting baseOffset and the
 * leader epoch is plain be64/be32 stores by the log (outside the CRC).
 */
#include "proto/batch.h"

#include <string.h>

#include "base/assert.h"
#include "base/crc32c.h"
#include "base/endian.h"
#include "base/err.h"
#include "proto/compress.h"

#define BATCH_MAGIC      2
#define BATCH_ATTR_KNOWN 0x7f /* bits 0-6; bits 7-15 must be zero */

void batch_header_parse(const uint8_t *p, struct batch_header *h)
{
	h->base_offset = (int64_t)be64_load(p + BATCH_OFF_BASE_OFFSET);
	h->length = (int32_t)be32_load(p + BATCH_OFF_LENGTH);
	h->leader_epoch = (int32_t)be32_load(p + BATCH_OFF_LEADER_EPOCH);
	h->magic = (int8_t)p[BATCH_OFF_MAGIC];
	h->crc = be32_load(p + BATCH_OFF_CRC);
	h->attributes = (int16_t)be16_load(p + BATCH_OFF_ATTRIBUTES);
	h->last_offset_delta = (int32_t)be32_load(p + BATCH_OFF_LAST_OFFSET_DELTA);
	h->base_timestamp = (int64_t)be64_load(p + BATCH_OFF_BASE_TIMESTAMP);
	h->max_timestamp = (int64_t)be64_load(p + BATCH_OFF_MAX_TIMESTAMP);
	h->producer_id = (int64_t)be64_load(p + BATCH_OFF_PRODUCER_ID);
	h->producer_epoch = (int16_t)be16_load(p + BATCH_OFF_PRODUCER_EPOCH);
	h->base_sequence = (int32_t)be32_load(p + BATCH_OFF_BASE_SEQUENCE);
	h->record_count = (int32_t)be32_load(p + BATCH_OFF_RECORD_COUNT);
}

int64_t batch_total_size(const uint8_t *p)
{
	return BATCH_LOG_OVERHEAD + (int64_t)(int32_t)be32_load(p + BATCH_OFF_LENGTH);
}

static uint32_t batch_crc(const uint8_t *p, size_t n)
{
	return crc32c(0, p + BATCH_OFF_ATTRIBUTES, n - BATCH_OFF_ATTRIBUTES);
}

int batch_validate(const uint8_t *p, size_t n, struct batch_header *out)
{
	struct batch_header h;
	if (n < BATCH_HEADER_SIZE)
		return ERR_CORRUPT;
	batch_header_parse(p, &h);
	if (out)
		*out = h;
	if (h.length < 0 || (uint64_t)h.length + BATCH_LOG_OVERHEAD != n)
		return ERR_CORRUPT;
	if (h.magic != BATCH_MAGIC)
		return ERR_CORRUPT;
	/* The CRC first: with a bad CRC nothing else in the header is trustworthy. */
	if (batch_crc(p, n) != h.crc)
		return ERR_CORRUPT;
	if ((h.attributes & BATCH_ATTR_COMPRESSION_MASK) > BATCH_ZSTD)
		return ERR_UNSUPPORTED;
	if ((uint16_t)h.attributes & ~BATCH_ATTR_KNOWN)
		return ERR_CORRUPT;
	if (h.record_count < 1 || (int64_t)h.last_offset_delta + 1 != h.record_count)
		return ERR_CORRUPT;
	return 0;
}

int batch_count(const uint8_t *p, size_t n)
{
	size_t off = 0;
	int count = 0;
	while (off < n) {
		if (n - off < BATCH_HEADER_SIZE)
			return ERR_CORRUPT;
		int64_t size = batch_total_size(p + off);
		if (size < BATCH_HEADER_SIZE || (uint64_t)size > n - off)
			return ERR_CORRUPT;
		if (count == INT32_MAX)
			return ERR_CORRUPT;
		off += (size_t)size;
		count++;
	}
	return count;
}

void batch_update_crc(uint8_t *p, size_t n)
{
	ASSERT(n >= BATCH_HEADER_SIZE);
	be32_store(p + BATCH_OFF_CRC, batch_crc(p, n));
}

/* ---- record iteration ---- */

/* Bounded reader over one record's bytes; errors are sticky. */
struct rec_reader {
	const uint8_t *p, *end;
	int err;
};

/*
 * Signed zig-zag varint of at most max_bytes bytes. The last allowed byte may
 * only carry the bits that fit in the type (bits_in_last), so an encoding
 * never silently loses high bits.
 */
static uint64_t read_uvarint(struct rec_reader *r, int max_bytes, unsigned bits_in_last)
{
	uint64_t v = 0;
	for (int i = 0; i < max_bytes; i++) {
		if (r->p >= r->end)
			break;
		uint8_t b = *r->p++;
		if (i == max_bytes - 1) {
			if (b >> bits_in_last)
				break;
			return v | (uint64_t)b << (7 * i);
		}
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			return v;
	}
	r->err = ERR_CORRUPT;
	r->p = r->end;
	return 0;
}

static int32_t read_varint(struct rec_reader *r)
{
	uint32_t u = (uint32_t)read_uvarint(r, 5, 4); /* 4 * 7 + 4 = 32 bits */
	return (int32_t)((u >> 1) ^ (0u - (u & 1)));
}

static int64_t read_varlong(struct rec_reader *r)
{
	uint64_t u = read_uvarint(r, 10, 1); /* 9 * 7 + 1 = 64 bits */
	return (int64_t)((u >> 1) ^ (0ull - (u & 1)));
}

/*
 * A length-prefixed byte string: length -1 is null when nullable, otherwise
 * the length must be >= 0 and fit in what is left. Returns the length.
 */
static int32_t read_bytes(struct rec_reader *r, bool nullable, const uint8_t **out)
{
	int32_t len = read_varint(r);
	*out = NULL;
	if (r->err)
		return 0;
	if (len == -1 && nullable)
		return -1;
	if (len < 0 || (size_t)len > (size_t)(r->end - r->p)) {
		r->err = ERR_CORRUPT;
		r->p = r->end;
		return 0;
	}
	*out = r->p;
	r->p += len;
	return len;
}

static int iter_fail(struct batch_iter *it, int err)
{
	it->err = err;
	it->p = it->end = NULL;
	it->left = 0;
	return err;
}

int batch_iter_init_max(struct batch_iter *it, const uint8_t *p, size_t n, size_t max_out)
{
	memset(it, 0, sizeof(*it));
	buf_init(&it->scratch);
	if (n < BATCH_HEADER_SIZE)
		return iter_fail(it, ERR_CORRUPT);
	batch_header_parse(p, &it->h);
	if (it->h.length < 0 || (uint64_t)it->h.length + BATCH_LOG_OVERHEAD != n ||
	    it->h.record_count < 0)
		return iter_fail(it, ERR_CORRUPT);

	int codec = it->h.attributes & BATCH_ATTR_COMPRESSION_MASK;
	const uint8_t *rec = p + BATCH_HEADER_SIZE;
	size_t rec_len = n - BATCH_HEADER_SIZE;
	if (codec == BATCH_NONE) {
		it->p = rec;
		it->end = rec + rec_len;
	} else {
		int rc = compress_decompress((enum batch_compression)codec, rec, rec_len, max_out,
		                             &it->scratch);
		if (rc) {
			buf_release(&it->scratch);
			/* batch.h promises ERR_CORRUPT / ERR_UNSUPPORTED; a bomb is corrupt. */
			return iter_fail(
			    it, rc == ERR_UNSUPPORTED || rc == ERR_NOMEM ? rc : ERR_CORRUPT);
		}
		static const uint8_t empty[1];
		it->p = it->scratch.data ? it->scratch.data : empty;
		it->end = it->p + it->scratch.len;
	}
	it->left = it->h.record_count;
	return 0;
}

int batch_iter_init(struct batch_iter *it, const uint8_t *p, size_t n)
{
	return batch_iter_init_max(it, p, n, BATCH_MAX_DECOMPRESSED);
}

int batch_iter_next(struct batch_iter *it, struct batch_record *out)
{
	if (it->err)
		return it->err;
	if (it->left == 0) {
		/* recordCount reached: anything left over means the count lied. */
		if (it->p != it->end)
			return iter_fail(it, ERR_CORRUPT);
		return 0;
	}

	struct rec_reader r = {it->p, it->end, 0};
	int32_t len = read_varint(&r);
	if (r.err || len < 0 || (size_t)len > (size_t)(r.end - r.p))
		return iter_fail(it, ERR_CORRUPT);
	const uint8_t *rec_end = r.p + len;
	r.end = rec_end;

	struct batch_record rec;
	if (r.p >= r.end)
		return iter_fail(it, ERR_CORRUPT);
	r.p++; /* record attributes: unused */
	int64_t ts_delta = read_varlong(&r);
	int32_t off_delta = read_varint(&r);
	rec.key_len = read_bytes(&r, true, &rec.key);
	rec.value_len = read_bytes(&r, true, &rec.value);
	rec.header_count = read_varint(&r);
	if (r.err || rec.header_count < 0)
		return iter_fail(it, ERR_CORRUPT);
	rec.headers = r.p;
	/* Each header takes at least two bytes, so this loop ends with the bytes. */
	for (int32_t i = 0; i < rec.header_count && !r.err; i++) {
		const uint8_t *hk, *hv;
		read_bytes(&r, false, &hk);
		read_bytes(&r, true, &hv);
	}
	if (r.err || r.p != rec_end)
		return iter_fail(it, ERR_CORRUPT);
	rec.headers_len = (size_t)(r.p - rec.headers);

	/* Wrapping arithmetic: hostile deltas must not be signed overflow. */
	rec.offset = (int64_t)((uint64_t)it->h.base_offset + (uint64_t)(int64_t)off_delta);
	if (it->h.attributes & BATCH_ATTR_LOG_APPEND_TIME)
		rec.timestamp = it->h.max_timestamp;
	else
		rec.timestamp = (int64_t)((uint64_t)it->h.base_timestamp + (uint64_t)ts_delta);

	*out = rec;
	it->p = rec_end;
	it->left--;
	return 1;
}

void batch_iter_release(struct batch_iter *it)
{
	buf_release(&it->scratch);
	it->p = it->end = NULL;
	it->left = 0;
}

int batch_compress(enum batch_compression codec, const uint8_t *p, size_t n, struct buf *out)
{
	if (codec == BATCH_NONE) {
		buf_append(out, p, n);
		return 0;
	}
	return compress_compress(codec, p, n, out);
}
