/*
 * test_batch.c: record batch validation, iteration and the compression codecs
 * (src/proto/batch.c, src/proto/compress.c), plus CRC-32C known vectors and
 * the streaming copy that stages batches for direct writes.
 *
 * Batches are built by hand here, independently of batch.c: records are
 * encoded with zig-zag varints, header fields are stored big-endian and the
 * CRC-32C is computed over bytes [21, end). Hostile inputs must give an error,
 * never a crash (run this under -fsanitize=address,undefined too).
 */
#include "unit.h"

#include <snappy-c.h>
#include <zstd.h>

#include "base/buf.h"
#include "base/crc32c.h"
#include "base/endian.h"
#include "base/memstream.h"
#include "base/err.h"
#include "proto/batch.h"
#include "proto/compress.h"

/* ---- building batches ---- */

static void put_varlong(struct buf *b, int64_t v)
{
	uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	while (u >= 0x80) {
		uint8_t c = (uint8_t)(u | 0x80);
		buf_append(b, &c, 1);
		u >>= 7;
	}
	uint8_t c = (uint8_t)u;
	buf_append(b, &c, 1);
}

/* A nullable byte string: len -1 is null. */
static void put_bytes(struct buf *b, const char *s, int len)
{
	put_varlong(b, len);
	if (len > 0)
		buf_append(b, s, (size_t)len);
}

struct thdr {
	const char *key;
	const char *value; /* NULL = null value */
};

struct trec {
	int64_t ts_delta;
	const char *key;   /* NULL = null key */
	const char *value; /* NULL = null value */
	int nh;
	struct thdr h[3];
};

static int slen(const char *s)
{
	return s ? (int)strlen(s) : -1;
}

static void put_record(struct buf *b, const struct trec *r, int offset_delta)
{
	struct buf body = BUF_INIT;
	uint8_t attr = 0;
	buf_append(&body, &attr, 1);
	put_varlong(&body, r->ts_delta);
	put_varlong(&body, offset_delta);
	put_bytes(&body, r->key, slen(r->key));
	put_bytes(&body, r->value, slen(r->value));
	put_varlong(&body, r->nh);
	for (int i = 0; i < r->nh; i++) {
		put_bytes(&body, r->h[i].key, slen(r->h[i].key));
		put_bytes(&body, r->h[i].value, slen(r->h[i].value));
	}
	put_varlong(b, (int64_t)body.len);
	buf_append(b, body.data, body.len);
	buf_release(&body);
}

static const struct trec recs3[3] = {
    {0, "k0", "v0", 0, {{NULL, NULL}}},
    {5, NULL, "hello", 2, {{"h1", "x"}, {"h2", NULL}}},
    {-3, "k2", NULL, 0, {{NULL, NULL}}},
};

static void put_records(struct buf *b, const struct trec *r, int n)
{
	for (int i = 0; i < n; i++)
		put_record(b, &r[i], i);
}

#define BASE_OFFSET 1000
#define BASE_TS     1700000000000LL
#define MAX_TS      (BASE_TS + 5)

/* Header plus payload, CRC computed here (not by batch.c). */
static void build_batch(struct buf *out, int16_t attrs, int32_t count, int32_t last_delta,
                        int64_t max_ts, const uint8_t *payload, size_t plen)
{
	uint8_t h[BATCH_HEADER_SIZE];
	memset(h, 0, sizeof(h));
	be64_store(h + 0, BASE_OFFSET);
	be32_store(h + 8, (uint32_t)(BATCH_HEADER_SIZE - 12 + plen));
	be32_store(h + 12, (uint32_t)-1);
	h[16] = 2;
	be16_store(h + 21, (uint16_t)attrs);
	be32_store(h + 23, (uint32_t)last_delta);
	be64_store(h + 27, BASE_TS);
	be64_store(h + 35, (uint64_t)max_ts);
	be64_store(h + 43, (uint64_t)-1);
	be16_store(h + 51, (uint16_t)-1);
	be32_store(h + 53, (uint32_t)-1);
	be32_store(h + 57, (uint32_t)count);
	buf_reset(out);
	buf_append(out, h, sizeof(h));
	buf_append(out, payload, plen);
	be32_store(out->data + 17, crc32c(0, out->data + 21, out->len - 21));
}

/* The standard three-record batch, uncompressed. */
static void build_std(struct buf *out)
{
	struct buf r = BUF_INIT;
	put_records(&r, recs3, 3);
	build_batch(out, 0, 3, 2, MAX_TS, r.data, r.len);
	buf_release(&r);
}

static int mem_eq(const uint8_t *p, int32_t len, const char *s)
{
	if (!s)
		return len == -1 && p == NULL;
	return len == (int32_t)strlen(s) && memcmp(p, s, (size_t)len) == 0;
}

/* Iterate b and compare with recs3; log_append selects the timestamp rule. */
static void check_std_records(const struct buf *b, int log_append)
{
	struct batch_iter it;
	struct batch_record r;
	CHECK_EQ_INT(batch_iter_init(&it, b->data, b->len), 0);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(batch_iter_next(&it, &r), 1);
		CHECK_EQ_INT(r.offset, BASE_OFFSET + i);
		CHECK_EQ_INT(r.timestamp, log_append ? MAX_TS : BASE_TS + recs3[i].ts_delta);
		CHECK(mem_eq(r.key, r.key_len, recs3[i].key));
		CHECK(mem_eq(r.value, r.value_len, recs3[i].value));
		CHECK_EQ_INT(r.header_count, recs3[i].nh);
		/* Headers are raw bytes: re-encode and compare. */
		struct buf hb = BUF_INIT;
		for (int k = 0; k < recs3[i].nh; k++) {
			put_bytes(&hb, recs3[i].h[k].key, slen(recs3[i].h[k].key));
			put_bytes(&hb, recs3[i].h[k].value, slen(recs3[i].h[k].value));
		}
		CHECK_EQ_INT(r.headers_len, hb.len);
		CHECK(hb.len == 0 || memcmp(r.headers, hb.data, hb.len) == 0);
		buf_release(&hb);
	}
	CHECK_EQ_INT(batch_iter_next(&it, &r), 0);
	CHECK_EQ_INT(batch_iter_next(&it, &r), 0);
	batch_iter_release(&it);
}

/* Drain an iterator; returns the final result (0 or an error) and the count. */
static int drain(const uint8_t *p, size_t n, int *count)
{
	struct batch_iter it;
	struct batch_record r;
	*count = 0;
	int rc = batch_iter_init(&it, p, n);
	if (rc) {
		batch_iter_release(&it);
		return rc;
	}
	while ((rc = batch_iter_next(&it, &r)) == 1)
		(*count)++;
	batch_iter_release(&it);
	return rc;
}

/* ---- CRC-32C ---- */

TEST(crc32c_known_vectors)
{
	CHECK_EQ_INT(crc32c(0, "123456789", 9), 0xE3069283u);
	uint8_t z[32] = {0};
	CHECK_EQ_INT(crc32c(0, z, sizeof(z)), 0x8A9136AAu);
	/* Extending in pieces equals one pass. */
	CHECK_EQ_INT(crc32c(crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
}

/* The hardware paths (interleaved crc32, folding) agree with the table at every block edge. */
TEST(mem_copy_stream_copies_every_size_and_alignment)
{
	enum { MAX = 70000 };
	uint8_t *src = malloc(MAX + 128), *dst = malloc(MAX + 256);
	for (size_t i = 0; i < MAX + 128; i++)
		src[i] = (uint8_t)(i * 131 + 7);
	static const size_t lens[] = {0,    1,    63,   64,   255,  4095,  4096, 4097,
	                              4159, 5000, 8191, 8192, 8193, 65536, MAX};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		for (size_t doff = 0; doff < 96; doff += 31)
			for (size_t soff = 0; soff < 96; soff += 45) {
				memset(dst, 0xEE, MAX + 256);
				mem_copy_stream(dst + doff, src + soff, lens[i]);
				CHECK(memcmp(dst + doff, src + soff, lens[i]) == 0);
				/* Not a byte outside the destination range. */
				for (size_t k = 0; k < doff; k++)
					CHECK_EQ_INT(dst[k], 0xEE);
				for (size_t k = doff + lens[i]; k < doff + lens[i] + 64; k++)
					CHECK_EQ_INT(dst[k], 0xEE);
			}
	free(src);
	free(dst);
}

TEST(crc32c_fast_path_matches_table)
{
	enum { MAX = 3 * 8192 * 2 + 3 * 256 + 64 };
	uint8_t *buf = malloc(MAX + 8);
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < MAX + 8; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
	/* Edges of the 3-way blocks, and of the 256-byte folding steps from 1024 on. */
	static const size_t lens[] = {0,     1,     7,     8,     255,   256,   767,   768,
	                              769,   1000,  1023,  1024,  1025,  1279,  1280,  1281,
	                              1535,  1536,  1551,  4096,  4351,  24575, 24576, 24577,
	                              25344, 25345, 40000, 49152, 49919, 49920, 49921, MAX};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		for (size_t off = 0; off < 8; off += 3) {
			CHECK_EQ_INT(crc32c(0, buf + off, lens[i]),
			             crc32c_portable(0, buf + off, lens[i]));
			CHECK_EQ_INT(crc32c(0x12345678u, buf + off, lens[i]),
			             crc32c_portable(0x12345678u, buf + off, lens[i]));
		}
	free(buf);
}

/* ---- validation ---- */

TEST(valid_batch_accepted)
{
	struct buf b = BUF_INIT;
	build_std(&b);
	struct batch_header h;
	CHECK_EQ_INT(batch_validate(b.data, b.len, &h), 0);
	CHECK_EQ_INT(h.base_offset, BASE_OFFSET);
	CHECK_EQ_INT(h.length, b.len - 12);
	CHECK_EQ_INT(h.leader_epoch, -1);
	CHECK_EQ_INT(h.magic, 2);
	CHECK_EQ_INT(h.attributes, 0);
	CHECK_EQ_INT(h.last_offset_delta, 2);
	CHECK_EQ_INT(h.base_timestamp, BASE_TS);
	CHECK_EQ_INT(h.max_timestamp, MAX_TS);
	CHECK_EQ_INT(h.producer_id, -1);
	CHECK_EQ_INT(h.producer_epoch, -1);
	CHECK_EQ_INT(h.base_sequence, -1);
	CHECK_EQ_INT(h.record_count, 3);
	CHECK_EQ_INT(batch_total_size(b.data), b.len);
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), 0);
	buf_release(&b);
}

TEST(reject_short_buffer)
{
	struct buf b = BUF_INIT;
	build_std(&b);
	CHECK_EQ_INT(batch_validate(b.data, BATCH_HEADER_SIZE - 1, NULL), ERR_CORRUPT);
	CHECK_EQ_INT(batch_validate(b.data, 0, NULL), ERR_CORRUPT);
	CHECK_EQ_INT(batch_validate(b.data, b.len - 1, NULL), ERR_CORRUPT);
	buf_release(&b);
}

TEST(reject_length_mismatch)
{
	struct buf b = BUF_INIT;
	build_std(&b);
	be32_store(b.data + 8, (uint32_t)(b.len - 12 + 1));
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), ERR_CORRUPT);
	be32_store(b.data + 8, (uint32_t)(b.len - 12 - 1));
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), ERR_CORRUPT);
	be32_store(b.data + 8, (uint32_t)-1);
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), ERR_CORRUPT);
	buf_release(&b);
}

TEST(reject_magic_1)
{
	struct buf b = BUF_INIT;
	build_std(&b);
	b.data[16] = 1; /* magic is outside the CRC, so the CRC still matches */
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), ERR_CORRUPT);
	buf_release(&b);
}

TEST(reject_crc_flip_in_payload)
{
	struct buf b = BUF_INIT;
	build_std(&b);
	b.data[b.len - 2] ^= 0x01;
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), ERR_CORRUPT);
	b.data[b.len - 2] ^= 0x01;
	b.data[17] ^= 0x80; /* the stored CRC itself */
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), ERR_CORRUPT);
	buf_release(&b);
}

TEST(reject_crc_flip_in_attributes)
{
	struct buf b = BUF_INIT;
	build_std(&b);
	b.data[22] ^= BATCH_ATTR_LOG_APPEND_TIME;
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), ERR_CORRUPT);
	buf_release(&b);
}

TEST(reject_record_count_zero)
{
	struct buf b = BUF_INIT;
	build_batch(&b, 0, 0, -1, MAX_TS, NULL, 0);
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), ERR_CORRUPT);
	buf_release(&b);
}

TEST(reject_count_ne_last_offset_delta_plus_1)
{
	struct buf b = BUF_INIT, r = BUF_INIT;
	put_records(&r, recs3, 3);
	build_batch(&b, 0, 3, 1, MAX_TS, r.data, r.len);
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), ERR_CORRUPT);
	build_batch(&b, 0, 3, 3, MAX_TS, r.data, r.len);
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), ERR_CORRUPT);
	build_batch(&b, 0, INT32_MIN, INT32_MAX, MAX_TS, r.data, r.len);
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), ERR_CORRUPT);
	buf_release(&r);
	buf_release(&b);
}

TEST(reject_unknown_codec_5_unsupported)
{
	struct buf b = BUF_INIT, r = BUF_INIT;
	put_records(&r, recs3, 3);
	for (int codec = 5; codec <= 7; codec++) {
		build_batch(&b, (int16_t)codec, 3, 2, MAX_TS, r.data, r.len);
		CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), ERR_UNSUPPORTED);
		int n;
		CHECK_EQ_INT(drain(b.data, b.len, &n), ERR_UNSUPPORTED);
	}
	buf_release(&r);
	buf_release(&b);
}

TEST(reject_attribute_bits_7_to_15)
{
	struct buf b = BUF_INIT, r = BUF_INIT;
	put_records(&r, recs3, 3);
	build_batch(&b, 0x80, 3, 2, MAX_TS, r.data, r.len);
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), ERR_CORRUPT);
	build_batch(&b, (int16_t)0x8000, 3, 2, MAX_TS, r.data, r.len);
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), ERR_CORRUPT);
	/* Bits 0-6 are all legal (transactional control with delete horizon). */
	build_batch(&b, 0x7c, 3, 2, MAX_TS, r.data, r.len);
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), 0);
	buf_release(&r);
	buf_release(&b);
}

TEST(update_crc_after_rewrite)
{
	struct buf b = BUF_INIT;
	build_std(&b);
	be16_store(b.data + BATCH_OFF_ATTRIBUTES, BATCH_ATTR_LOG_APPEND_TIME);
	be64_store(b.data + BATCH_OFF_MAX_TIMESTAMP, 42);
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), ERR_CORRUPT);
	batch_update_crc(b.data, b.len);
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), 0);
	/* Base offset and leader epoch are outside the CRC. */
	be64_store(b.data, 77);
	be32_store(b.data + 12, 9);
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), 0);
	buf_release(&b);
}

/* ---- batch_count ---- */

TEST(batch_count_three_and_truncated_tail)
{
	struct buf one = BUF_INIT, all = BUF_INIT;
	build_std(&one);
	for (int i = 0; i < 3; i++)
		buf_append(&all, one.data, one.len);
	CHECK_EQ_INT(batch_count(all.data, all.len), 3);
	CHECK_EQ_INT(batch_count(all.data, all.len - 1), ERR_CORRUPT);
	CHECK_EQ_INT(batch_count(all.data, all.len - one.len + 30), ERR_CORRUPT);
	CHECK_EQ_INT(batch_count(all.data, one.len), 1);
	CHECK_EQ_INT(batch_count(all.data, 0), 0);
	/* A length field below the header size cannot be a batch. */
	be32_store(all.data + one.len + 8, 10);
	CHECK_EQ_INT(batch_count(all.data, all.len), ERR_CORRUPT);
	be32_store(all.data + one.len + 8, (uint32_t)-12);
	CHECK_EQ_INT(batch_count(all.data, all.len), ERR_CORRUPT);
	buf_release(&one);
	buf_release(&all);
}

/* ---- iteration ---- */

TEST(iterate_uncompressed)
{
	struct buf b = BUF_INIT;
	build_std(&b);
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), 0);
	check_std_records(&b, 0);
	buf_release(&b);
}

TEST(iterate_log_append_time)
{
	struct buf b = BUF_INIT, r = BUF_INIT;
	put_records(&r, recs3, 3);
	build_batch(&b, BATCH_ATTR_LOG_APPEND_TIME, 3, 2, MAX_TS, r.data, r.len);
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), 0);
	check_std_records(&b, 1);
	buf_release(&r);
	buf_release(&b);
}

static void roundtrip_codec(enum batch_compression codec, int log_append)
{
	struct buf r = BUF_INIT, z = BUF_INIT, b = BUF_INIT;
	put_records(&r, recs3, 3);
	CHECK_EQ_INT(batch_compress(codec, r.data, r.len, &z), 0);
	CHECK(z.len > 0);
	int16_t attrs = (int16_t)(codec | (log_append ? BATCH_ATTR_LOG_APPEND_TIME : 0));
	build_batch(&b, attrs, 3, 2, MAX_TS, z.data, z.len);
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), 0);
	check_std_records(&b, log_append);
	/* The codec round trip is byte exact. */
	struct buf d = BUF_INIT;
	CHECK_EQ_INT(compress_decompress(codec, z.data, z.len, COMPRESS_MAX_OUT_DEFAULT, &d), 0);
	CHECK_EQ_INT(d.len, r.len);
	CHECK(memcmp(d.data, r.data, r.len) == 0);
	buf_release(&d);
	buf_release(&r);
	buf_release(&z);
	buf_release(&b);
}

TEST(iterate_gzip)
{
	roundtrip_codec(BATCH_GZIP, 0);
}
TEST(iterate_snappy_raw)
{
	roundtrip_codec(BATCH_SNAPPY, 0);
}
TEST(iterate_lz4_frame)
{
	roundtrip_codec(BATCH_LZ4, 0);
}
TEST(iterate_zstd)
{
	roundtrip_codec(BATCH_ZSTD, 1);
}

TEST(batch_compress_none_copies)
{
	struct buf z = BUF_INIT;
	CHECK_EQ_INT(batch_compress(BATCH_NONE, (const uint8_t *)"abc", 3, &z), 0);
	CHECK_EQ_INT(z.len, 3);
	CHECK_EQ_INT(batch_compress((enum batch_compression)5, (const uint8_t *)"abc", 3, &z),
	             ERR_UNSUPPORTED);
	buf_release(&z);
}

/* Xerial framing as snappy-java writes it: header, then [be32 len][raw block]... */
static void xerial_frame(struct buf *out, const uint8_t *p, size_t n, size_t block)
{
	static const uint8_t hdr[16] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0,
	                                0,    0,   0,   1,   0,   0,   0,   1};
	buf_append(out, hdr, sizeof(hdr));
	for (size_t off = 0; off < n; off += block) {
		size_t len = n - off < block ? n - off : block;
		size_t clen = snappy_max_compressed_length(len);
		uint8_t *dst = buf_reserve(out, 4 + clen);
		CHECK(snappy_compress((const char *)p + off, len, (char *)dst + 4, &clen) ==
		      SNAPPY_OK);
		be32_store(dst, (uint32_t)clen);
		buf_advance(out, 4 + clen);
	}
}

TEST(iterate_snappy_xerial)
{
	struct buf r = BUF_INIT, z = BUF_INIT, b = BUF_INIT;
	put_records(&r, recs3, 3);
	xerial_frame(&z, r.data, r.len, 7); /* several blocks, split mid-record */
	CHECK(compress_snappy_is_xerial(z.data, z.len));
	build_batch(&b, BATCH_SNAPPY, 3, 2, MAX_TS, z.data, z.len);
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), 0);
	check_std_records(&b, 0);

	/* A block length past the end, and a cut length field, are corrupt. */
	struct buf d = BUF_INIT;
	CHECK_EQ_INT(compress_decompress(BATCH_SNAPPY, z.data, z.len - 1, 1 << 20, &d),
	             ERR_CORRUPT);
	CHECK_EQ_INT(d.len, 0);
	buf_reset(&z);
	xerial_frame(&z, r.data, r.len, 1 << 20);
	buf_append(&z, "\0\0", 2);
	CHECK_EQ_INT(compress_decompress(BATCH_SNAPPY, z.data, z.len, 1 << 20, &d), ERR_CORRUPT);
	/* Header only: zero blocks is an empty stream. */
	CHECK_EQ_INT(compress_decompress(BATCH_SNAPPY, z.data, 16, 1 << 20, &d), 0);
	CHECK_EQ_INT(d.len, 0);
	buf_release(&d);
	buf_release(&r);
	buf_release(&z);
	buf_release(&b);
}

TEST(zstd_frame_without_content_size)
{
	struct buf r = BUF_INIT, z = BUF_INIT, b = BUF_INIT;
	put_records(&r, recs3, 3);
	ZSTD_CStream *cs = ZSTD_createCStream();
	CHECK(cs != NULL);
	ZSTD_initCStream(cs, 3);
	size_t cap = ZSTD_compressBound(r.len) + 64;
	uint8_t *dst = buf_reserve(&z, cap);
	ZSTD_outBuffer ob = {dst, cap, 0};
	ZSTD_inBuffer in = {r.data, r.len, 0};
	CHECK(!ZSTD_isError(ZSTD_compressStream(cs, &ob, &in)));
	CHECK_EQ_INT(ZSTD_endStream(cs, &ob), 0);
	ZSTD_freeCStream(cs);
	buf_advance(&z, ob.pos);
	CHECK(ZSTD_getFrameContentSize(z.data, z.len) == ZSTD_CONTENTSIZE_UNKNOWN);
	build_batch(&b, BATCH_ZSTD, 3, 2, MAX_TS, z.data, z.len);
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), 0);
	check_std_records(&b, 0);
	buf_release(&r);
	buf_release(&z);
	buf_release(&b);
}

TEST(gzip_concatenated_members_and_trailing_bytes)
{
	struct buf r = BUF_INIT, z = BUF_INIT, b = BUF_INIT;
	put_records(&r, recs3, 3);
	size_t half = r.len / 2;
	CHECK_EQ_INT(batch_compress(BATCH_GZIP, r.data, half, &z), 0);
	CHECK_EQ_INT(batch_compress(BATCH_GZIP, r.data + half, r.len - half, &z), 0);
	buf_append(&z, "\0\0\0", 3); /* Java's GZIPInputStream ignores these */
	build_batch(&b, BATCH_GZIP, 3, 2, MAX_TS, z.data, z.len);
	check_std_records(&b, 0);
	buf_release(&r);
	buf_release(&z);
	buf_release(&b);
}

TEST(truncated_or_garbage_compressed_payloads)
{
	struct buf r = BUF_INIT, z = BUF_INIT, d = BUF_INIT;
	put_records(&r, recs3, 3);
	for (int codec = BATCH_GZIP; codec <= BATCH_ZSTD; codec++) {
		buf_reset(&z);
		CHECK_EQ_INT(batch_compress((enum batch_compression)codec, r.data, r.len, &z), 0);
		for (size_t cut = 0; cut < z.len; cut++) {
			int rc = compress_decompress((enum batch_compression)codec, z.data, cut,
			                             1 << 20, &d);
			CHECK_EQ_INT(rc, ERR_CORRUPT);
			CHECK_EQ_INT(d.len, 0);
			buf_reset(&d);
		}
		uint8_t junk[64];
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (uint8_t)(i * 37 + 11);
		CHECK_EQ_INT(compress_decompress((enum batch_compression)codec, junk, sizeof(junk),
		                                 1 << 20, &d),
		             ERR_CORRUPT);
	}
	CHECK_EQ_INT(compress_decompress(BATCH_NONE, r.data, r.len, 1 << 20, &d), ERR_UNSUPPORTED);
	buf_release(&r);
	buf_release(&z);
	buf_release(&d);
}

/* ---- hostile records ---- */

/* Wrap raw record bytes in a valid header claiming count records. */
static int drain_raw(const struct buf *recs, int32_t count, int *n)
{
	struct buf b = BUF_INIT;
	build_batch(&b, 0, count, count - 1, MAX_TS, recs->data, recs->len);
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), 0);
	int rc = drain(b.data, b.len, n);
	buf_release(&b);
	return rc;
}

TEST(hostile_record_length_beyond_end)
{
	struct buf r = BUF_INIT;
	put_records(&r, recs3, 1);
	put_varlong(&r, 1000); /* second record claims 1000 bytes */
	buf_append(&r, "\0\0\0\0", 4);
	int n;
	CHECK_EQ_INT(drain_raw(&r, 2, &n), ERR_CORRUPT);
	CHECK_EQ_INT(n, 1);
	buf_reset(&r);
	put_varlong(&r, -5); /* negative record length */
	buf_append(&r, "\0\0\0\0\0\0", 6);
	CHECK_EQ_INT(drain_raw(&r, 1, &n), ERR_CORRUPT);
	CHECK_EQ_INT(n, 0);
	buf_release(&r);
}

/* A record with hand-chosen key length and body bytes. */
static void put_raw_record(struct buf *r, int64_t key_len, const char *rest, size_t rest_len)
{
	struct buf body = BUF_INIT;
	buf_append(&body, "\0", 1); /* attributes */
	put_varlong(&body, 0);      /* timestamp delta */
	put_varlong(&body, 0);      /* offset delta */
	put_varlong(&body, key_len);
	buf_append(&body, rest, rest_len);
	put_varlong(r, (int64_t)body.len);
	buf_append(r, body.data, body.len);
	buf_release(&body);
}

TEST(hostile_negative_key_length)
{
	struct buf r = BUF_INIT;
	int n;
	/* -1 is a null key and fine: value "a", no headers. */
	put_raw_record(&r, -1,
	               "\x02"
	               "a"
	               "\x00",
	               3);
	CHECK_EQ_INT(drain_raw(&r, 1, &n), 0);
	CHECK_EQ_INT(n, 1);
	const int64_t bad[] = {-2, -100, INT32_MIN, 3, INT32_MAX};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&r);
		put_raw_record(&r, bad[i],
		               "\x02"
		               "a"
		               "\x00",
		               3);
		CHECK_EQ_INT(drain_raw(&r, 1, &n), ERR_CORRUPT);
		CHECK_EQ_INT(n, 0);
	}
	buf_release(&r);
}

TEST(hostile_headers)
{
	struct buf r = BUF_INIT;
	int n;
	/* Null value, header count 1, header key length -1 (null key is illegal). */
	put_raw_record(&r, -1, "\x01\x02\x01\x00", 4);
	CHECK_EQ_INT(drain_raw(&r, 1, &n), ERR_CORRUPT);
	/* Header count 2^30 with two bytes left. */
	buf_reset(&r);
	put_raw_record(&r, -1, "\x01\x80\x80\x80\x80\x08\x00\x01", 8);
	CHECK_EQ_INT(drain_raw(&r, 1, &n), ERR_CORRUPT);
	/* Negative header count. */
	buf_reset(&r);
	put_raw_record(&r, -1, "\x01\x03", 2);
	CHECK_EQ_INT(drain_raw(&r, 1, &n), ERR_CORRUPT);
	/* Header value -1 is a null value and fine. */
	buf_reset(&r);
	put_raw_record(&r, -1, "\x01\x02\x02k\x01", 5);
	CHECK_EQ_INT(drain_raw(&r, 1, &n), 0);
	buf_release(&r);
}

TEST(hostile_varints)
{
	struct buf r = BUF_INIT;
	int n;
	/* A 6-byte varint for the record length. */
	buf_append(&r, "\x80\x80\x80\x80\x80\x00", 6);
	CHECK_EQ_INT(drain_raw(&r, 1, &n), ERR_CORRUPT);
	/* Fifth byte with bits beyond 32. */
	buf_reset(&r);
	buf_append(&r, "\x82\x80\x80\x80\x10", 5);
	CHECK_EQ_INT(drain_raw(&r, 1, &n), ERR_CORRUPT);
	/* A varint cut by the end of the bytes. */
	buf_reset(&r);
	buf_append(&r, "\x82", 1);
	CHECK_EQ_INT(drain_raw(&r, 1, &n), ERR_CORRUPT);
	/* An 11-byte varlong timestamp delta inside a record. */
	buf_reset(&r);
	const char body[] = "\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f\x00\x01\x01\x00";
	put_varlong(&r, sizeof(body) - 1);
	buf_append(&r, body, sizeof(body) - 1);
	CHECK_EQ_INT(drain_raw(&r, 1, &n), ERR_CORRUPT);
	/* The largest varlong (10 bytes, last byte 1) is fine. */
	buf_reset(&r);
	const char ok[] = "\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00\x01\x01\x00";
	put_varlong(&r, sizeof(ok) - 1);
	buf_append(&r, ok, sizeof(ok) - 1);
	CHECK_EQ_INT(drain_raw(&r, 1, &n), 0);
	buf_release(&r);
}

TEST(hostile_record_size_disagrees_with_fields)
{
	struct buf r = BUF_INIT, one = BUF_INIT;
	int n;
	put_record(&one, &recs3[0], 0);
	/* Length one too small: the fields run past it. */
	buf_append(&r, one.data, one.len);
	r.data[0] = (uint8_t)(r.data[0] - 2);
	buf_append(&r, "\0", 1);
	CHECK_EQ_INT(drain_raw(&r, 1, &n), ERR_CORRUPT);
	/* Length one too large: a stray byte inside the record. */
	buf_reset(&r);
	buf_append(&r, one.data, one.len);
	r.data[0] = (uint8_t)(r.data[0] + 2);
	buf_append(&r, "\0", 1);
	CHECK_EQ_INT(drain_raw(&r, 1, &n), ERR_CORRUPT);
	/* Zero-length record. */
	buf_reset(&r);
	buf_append(&r, "\0", 1);
	CHECK_EQ_INT(drain_raw(&r, 1, &n), ERR_CORRUPT);
	buf_release(&r);
	buf_release(&one);
}

TEST(record_count_mismatch_is_corrupt)
{
	struct buf r = BUF_INIT;
	int n;
	put_records(&r, recs3, 3);
	CHECK_EQ_INT(drain_raw(&r, 3, &n), 0);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(drain_raw(&r, 4, &n), ERR_CORRUPT); /* fewer records than claimed */
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(drain_raw(&r, 2, &n), ERR_CORRUPT); /* bytes left over */
	CHECK_EQ_INT(n, 2);
	/* Same through a codec. */
	struct buf z = BUF_INIT, b = BUF_INIT;
	CHECK_EQ_INT(batch_compress(BATCH_LZ4, r.data, r.len, &z), 0);
	build_batch(&b, BATCH_LZ4, 4, 3, MAX_TS, z.data, z.len);
	CHECK_EQ_INT(drain(b.data, b.len, &n), ERR_CORRUPT);
	CHECK_EQ_INT(n, 3);
	buf_release(&z);
	buf_release(&b);
	buf_release(&r);
}

TEST(iter_init_rejects_bad_sizes)
{
	struct buf b = BUF_INIT;
	struct batch_iter it;
	struct batch_record rec;
	build_std(&b);
	CHECK_EQ_INT(batch_iter_init(&it, b.data, 10), ERR_CORRUPT);
	CHECK_EQ_INT(batch_iter_next(&it, &rec), ERR_CORRUPT);
	batch_iter_release(&it);
	CHECK_EQ_INT(batch_iter_init(&it, b.data, b.len - 1), ERR_CORRUPT);
	batch_iter_release(&it);
	/* Compressed batch with an empty payload. */
	build_batch(&b, BATCH_ZSTD, 1, 0, MAX_TS, NULL, 0);
	CHECK_EQ_INT(batch_iter_init(&it, b.data, b.len), ERR_CORRUPT);
	batch_iter_release(&it);
	buf_release(&b);
}

/*
 * Found by fuzz_batch (input "\x02\x02"): an empty record stream compressed
 * with raw snappy is the one-byte block 0x00, which decodes to nothing; that
 * path used to ask buf_reserve for 0 bytes on an empty buffer (NULL + 0).
 */
TEST(fuzz_empty_compressed_stream)
{
	for (int codec = BATCH_GZIP; codec <= BATCH_ZSTD; codec++) {
		struct buf z = BUF_INIT, d = BUF_INIT, b = BUF_INIT;
		CHECK_EQ_INT(
		    batch_compress((enum batch_compression)codec, (const uint8_t *)"", 0, &z), 0);
		CHECK(z.len > 0);
		CHECK_EQ_INT(
		    compress_decompress((enum batch_compression)codec, z.data, z.len, 1 << 20, &d),
		    0);
		CHECK_EQ_INT(d.len, 0);
		build_batch(&b, (int16_t)codec, 1, 0, MAX_TS, z.data, z.len);
		CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), 0);
		int n;
		CHECK_EQ_INT(drain(b.data, b.len, &n), ERR_CORRUPT);
		CHECK_EQ_INT(n, 0);
		buf_release(&z);
		buf_release(&d);
		buf_release(&b);
	}
}

/* ---- decompression bombs ---- */

TEST(decompression_cap_small)
{
	size_t big = (size_t)2 << 20;
	uint8_t *zeros = calloc(1, big);
	CHECK(zeros != NULL);
	for (int codec = BATCH_GZIP; codec <= BATCH_ZSTD; codec++) {
		struct buf z = BUF_INIT, d = BUF_INIT, b = BUF_INIT;
		CHECK_EQ_INT(batch_compress((enum batch_compression)codec, zeros, big, &z), 0);
		CHECK(z.len < big / 10);
		/* One byte under the size is too large; exactly the size is fine. */
		CHECK_EQ_INT(
		    compress_decompress((enum batch_compression)codec, z.data, z.len, big - 1, &d),
		    ERR_TOO_LARGE);
		CHECK_EQ_INT(d.len, 0);
		CHECK(d.cap <= big); /* the buffer never grew past the cap */
		CHECK_EQ_INT(
		    compress_decompress((enum batch_compression)codec, z.data, z.len, big, &d), 0);
		CHECK_EQ_INT(d.len, big);
		/* Through the iterator: over the cap is a corrupt batch. */
		build_batch(&b, (int16_t)codec, 1, 0, MAX_TS, z.data, z.len);
		struct batch_iter it;
		CHECK_EQ_INT(batch_iter_init_max(&it, b.data, b.len, 1 << 20), ERR_CORRUPT);
		batch_iter_release(&it);
		buf_release(&z);
		buf_release(&d);
		buf_release(&b);
	}
	free(zeros);
}

TEST(snappy_lying_length_costs_nothing)
{
	/* A raw block header claiming 2^32-1 bytes, then junk. */
	const uint8_t lie[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x61};
	struct buf d = BUF_INIT;
	CHECK_EQ_INT(
	    compress_decompress(BATCH_SNAPPY, lie, sizeof(lie), COMPRESS_MAX_OUT_DEFAULT, &d),
	    ERR_TOO_LARGE);
	CHECK_EQ_INT(d.cap, 0);
	/* Under the cap but invalid: rejected before allocating. */
	const uint8_t lie2[] = {0x80, 0x80, 0x40, 0x00, 0x61};
	CHECK_EQ_INT(
	    compress_decompress(BATCH_SNAPPY, lie2, sizeof(lie2), COMPRESS_MAX_OUT_DEFAULT, &d),
	    ERR_CORRUPT);
	CHECK_EQ_INT(d.cap, 0);
	buf_release(&d);
}

TEST(decompression_bomb_default_cap)
{
	/* A zstd stream of 257 MiB of zeros, compressed to a few KiB. */
	size_t chunk = (size_t)1 << 20;
	uint8_t *zeros = calloc(1, chunk);
	CHECK(zeros != NULL);
	ZSTD_CStream *cs = ZSTD_createCStream();
	ZSTD_initCStream(cs, 1);
	struct buf z = BUF_INIT;
	for (int i = 0; i <= 257; i++) {
		ZSTD_inBuffer in = {zeros, i < 257 ? chunk : 0, 0};
		for (;;) {
			uint8_t *dst = buf_reserve(&z, 1 << 16);
			ZSTD_outBuffer ob = {dst, 1 << 16, 0};
			size_t rc =
			    i < 257 ? ZSTD_compressStream(cs, &ob, &in) : ZSTD_endStream(cs, &ob);
			CHECK(!ZSTD_isError(rc));
			buf_advance(&z, ob.pos);
			if (i < 257 ? in.pos == in.size : rc == 0)
				break;
		}
	}
	ZSTD_freeCStream(cs);
	free(zeros);
	CHECK(z.len < (1 << 20));

	struct buf b = BUF_INIT;
	build_batch(&b, BATCH_ZSTD, 1, 0, MAX_TS, z.data, z.len);
	CHECK_EQ_INT(batch_validate(b.data, b.len, NULL), 0);
	struct batch_iter it;
	CHECK_EQ_INT(batch_iter_init(&it, b.data, b.len), ERR_CORRUPT);
	batch_iter_release(&it);
	buf_release(&b);
	buf_release(&z);
}

int main(int argc, char **argv)
{
	return unit_main(argc, argv);
}
