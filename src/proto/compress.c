/*
 * compress.c: gzip, snappy, lz4 and zstd for record batch payloads.
 *
 * Every decompressor writes into the caller's buf through a "sink" that never
 * lets the output grow past max_out. Growth is by doubling from a small start,
 * so a hostile header that claims a huge size (zstd content size, snappy
 * length) costs nothing until real bytes arrive. When the cap is reached and
 * the stream is not finished, the next output goes to a one-byte probe: if
 * the decoder writes anything there, the stream is too large. That way a
 * stream of exactly max_out bytes is accepted and the buffer never grows
 * beyond the cap.
 *
 * Interop notes, checked against what clients write and read:
 *   - gzip: Java's GZIPInputStream reads concatenated members and ignores
 *     bytes after the last one that are not a gzip header; we do the same.
 *     windowBits 15 + 32 also accepts a zlib header.
 *   - snappy: librdkafka sends a raw block; the Java client sends the
 *     snappy-java stream format: 8 magic bytes (0x82 "SNAPPY" 0x00), two
 *     int32 versions, then [int32 big-endian length][raw block] repeated.
 *   - lz4: LZ4 frame format. We write independent 64 KiB blocks without
 *     checksums or content size, because Kafka's Java reader decompresses
 *     each block on its own and cannot follow linked blocks.
 *   - zstd: streaming decompression, so frames without a content size (as
 *     streaming compressors write) work; several frames in a row are fine.
 *
 * Left to others: choosing the codec (batch attributes), and deciding what a
 * failure means for the request (handlers map ERR_* to Kafka codes).
 */
#include "proto/compress.h"

#include <limits.h>
#include <string.h>

#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "base/endian.h"
#include "base/err.h"

#define SINK_FIRST_CHUNK ((size_t)64 << 10)

static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
#define XERIAL_HEADER_SIZE 16 /* magic + int32 version + int32 compatible version */

/* Bounded output window into a buf (see the file comment). */
struct sink {
	struct buf *out;
	size_t start; /* out->len on entry */
	size_t max;   /* bytes we may append */
	uint8_t probe[1];
};

static void sink_init(struct sink *s, struct buf *out, size_t max)
{
	s->out = out;
	s->start = out->len;
	s->max = max;
}

static size_t sink_used(const struct sink *s)
{
	return s->out->len - s->start;
}

/* Where to write next and how much; at the cap this is the one-byte probe. */
static uint8_t *sink_room(struct sink *s, size_t *room)
{
	size_t used = sink_used(s);
	size_t left = s->max - used;
	if (left == 0) {
		*room = sizeof(s->probe);
		return s->probe;
	}
	size_t have = s->out->cap - s->out->len;
	if (have == 0) {
		size_t grow = used < SINK_FIRST_CHUNK ? SINK_FIRST_CHUNK : used;
		if (grow > left)
			grow = left;
		buf_reserve(s->out, grow);
		have = s->out->cap - s->out->len;
	}
	*room = have < left ? have : left;
	return s->out->data + s->out->len;
}

/* Account for n bytes written at dst (from sink_room). */
static int sink_commit(struct sink *s, const uint8_t *dst, size_t n)
{
	if (dst == s->probe)
		return n ? ERR_TOO_LARGE : 0;
	buf_advance(s->out, n);
	return 0;
}

/* Undo everything appended since sink_init. */
static void sink_abort(struct sink *s)
{
	s->out->len = s->start;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* ---- gzip ---- */

static int gzip_decompress(const uint8_t *p, size_t n, struct sink *s)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 32) != Z_OK)
		return ERR_NOMEM;

	size_t in_off = 0;
	int rc = 0;
	for (;;) {
		if (zs.avail_in == 0 && in_off < n) {
			size_t chunk = min_size(n - in_off, UINT_MAX);
			zs.next_in = (Bytef *)(uintptr_t)(p + in_off);
			zs.avail_in = (uInt)chunk;
			in_off += chunk;
		}
		size_t room;
		uint8_t *dst = sink_room(s, &room);
		room = min_size(room, UINT_MAX);
		zs.next_out = dst;
		zs.avail_out = (uInt)room;
		int zr = inflate(&zs, Z_NO_FLUSH);
		rc = sink_commit(s, dst, room - zs.avail_out);
		if (rc)
			break;
		if (zr == Z_STREAM_END) {
			/* Another member follows only if a gzip header does. */
			size_t rest = zs.avail_in + (n - in_off);
			const uint8_t *next = zs.avail_in ? zs.next_in : p + in_off;
			if (rest >= 2 && next[0] == 0x1f && next[1] == 0x8b) {
				if (inflateReset(&zs) != Z_OK) {
					rc = ERR_CORRUPT;
					break;
				}
				continue;
			}
			break;
		}
		if (zr == Z_OK)
			continue;
		if (zr == Z_BUF_ERROR && (zs.avail_in > 0 || in_off < n))
			continue; /* output was full: sink_room gives more or probes */
		/* Truncated (no input left before the end), bad data, or memory. */
		rc = zr == Z_MEM_ERROR ? ERR_NOMEM : ERR_CORRUPT;
		break;
	}
	inflateEnd(&zs);
	return rc;
}

static int gzip_compress(const uint8_t *p, size_t n, struct buf *out)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return ERR_NOMEM;
	size_t bound = deflateBound(&zs, n);
	uint8_t *dst = buf_reserve(out, bound);
	size_t produced = 0, in_off = 0;
	int rc = 0;
	for (;;) {
		if (zs.avail_in == 0 && in_off < n) {
			size_t chunk = min_size(n - in_off, UINT_MAX);
			zs.next_in = (Bytef *)(uintptr_t)(p + in_off);
			zs.avail_in = (uInt)chunk;
			in_off += chunk;
		}
		size_t room = min_size(bound - produced, UINT_MAX);
		zs.next_out = dst + produced;
		zs.avail_out = (uInt)room;
		int zr = deflate(&zs, in_off == n ? Z_FINISH : Z_NO_FLUSH);
		produced += room - zs.avail_out;
		if (zr == Z_STREAM_END)
			break;
		if (zr == Z_OK || (zr == Z_BUF_ERROR && room > zs.avail_out))
			continue;
		/* deflateBound promises room, so anything else is a library failure. */
		rc = ERR_NOMEM;
		break;
	}
	deflateEnd(&zs);
	if (rc == 0)
		buf_advance(out, produced);
	return rc;
}

/* ---- snappy ---- */

bool compress_snappy_is_xerial(const uint8_t *p, size_t n)
{
	return n >= XERIAL_HEADER_SIZE && memcmp(p, xerial_magic, sizeof(xerial_magic)) == 0;
}

/* One raw snappy block, appended whole (its length is known up front). */
static int snappy_block_decompress(const uint8_t *p, size_t n, struct sink *s)
{
	size_t ulen;
	if (snappy_uncompressed_length((const char *)p, n, &ulen) != SNAPPY_OK)
		return ERR_CORRUPT;
	if (ulen > s->max - sink_used(s))
		return ERR_TOO_LARGE;
	/* Validate before allocating, so a lying length costs no memory. */
	if (snappy_validate_compressed_buffer((const char *)p, n) != SNAPPY_OK)
		return ERR_CORRUPT;
	if (ulen == 0)
		return 0; /* an empty block; nothing to reserve */
	uint8_t *dst = buf_reserve(s->out, ulen);
	size_t got = ulen;
	if (snappy_uncompress((const char *)p, n, (char *)dst, &got) != SNAPPY_OK || got != ulen)
		return ERR_CORRUPT;
	buf_advance(s->out, ulen);
	return 0;
}

static int snappy_decompress(const uint8_t *p, size_t n, struct sink *s)
{
	if (!compress_snappy_is_xerial(p, n))
		return snappy_block_decompress(p, n, s);
	size_t off = XERIAL_HEADER_SIZE;
	while (off < n) {
		if (n - off < 4)
			return ERR_CORRUPT;
		size_t blen = be32_load(p + off);
		off += 4;
		if (blen > n - off)
			return ERR_CORRUPT;
		int rc = snappy_block_decompress(p + off, blen, s);
		if (rc)
			return rc;
		off += blen;
	}
	return 0;
}

static int snappy_compress_raw(const uint8_t *p, size_t n, struct buf *out)
{
	if (n > UINT32_MAX)
		return ERR_TOO_LARGE;
	size_t cap = snappy_max_compressed_length(n);
	uint8_t *dst = buf_reserve(out, cap);
	if (snappy_compress((const char *)p, n, (char *)dst, &cap) != SNAPPY_OK)
		return ERR_NOMEM;
	buf_advance(out, cap);
	return 0;
}

/* ---- lz4 ---- */

static int lz4_decompress(const uint8_t *p, size_t n, struct sink *s)
{
	LZ4F_dctx *dctx;
	if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
		return ERR_NOMEM;
	size_t in_off = 0;
	int rc = 0;
	for (;;) {
		size_t room;
		uint8_t *dst = sink_room(s, &room);
		size_t dst_size = room, src_size = n - in_off;
		size_t r = LZ4F_decompress(dctx, dst, &dst_size, p + in_off, &src_size, NULL);
		if (LZ4F_isError(r)) {
			rc = ERR_CORRUPT;
			break;
		}
		in_off += src_size;
		rc = sink_commit(s, dst, dst_size);
		if (rc)
			break;
		if (r == 0) {
			/* A frame ended; the context is ready for another one. */
			if (in_off == n)
				break;
			continue;
		}
		/* Not at a frame end: without input or output progress it is truncated. */
		if (in_off == n && dst_size < room) {
			rc = ERR_CORRUPT;
			break;
		}
		if (src_size == 0 && dst_size == 0) {
			rc = ERR_CORRUPT;
			break;
		}
	}
	LZ4F_freeDecompressionContext(dctx);
	return rc;
}

static int lz4_compress(const uint8_t *p, size_t n, struct buf *out)
{
	LZ4F_preferences_t prefs;
	memset(&prefs, 0, sizeof(prefs));
	prefs.frameInfo.blockSizeID = LZ4F_max64KB;
	prefs.frameInfo.blockMode = LZ4F_blockIndependent;
	size_t cap = LZ4F_compressFrameBound(n, &prefs);
	uint8_t *dst = buf_reserve(out, cap);
	size_t r = LZ4F_compressFrame(dst, cap, p, n, &prefs);
	if (LZ4F_isError(r))
		return ERR_NOMEM;
	buf_advance(out, r);
	return 0;
}

/* ---- zstd ---- */

static int zstd_decompress(const uint8_t *p, size_t n, struct sink *s)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	if (!d)
		return ERR_NOMEM;
	ZSTD_inBuffer in = {p, n, 0};
	int rc = 0;
	for (;;) {
		size_t room;
		uint8_t *dst = sink_room(s, &room);
		ZSTD_outBuffer ob = {dst, room, 0};
		size_t r = ZSTD_decompressStream(d, &ob, &in);
		if (ZSTD_isError(r)) {
			rc = ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? ERR_NOMEM
			                                                          : ERR_CORRUPT;
			break;
		}
		rc = sink_commit(s, dst, ob.pos);
		if (rc)
			break;
		if (r == 0 && in.pos == in.size)
			break; /* last frame complete and flushed */
		/* Output not full means everything was flushed: out of input mid-frame. */
		if (in.pos == in.size && ob.pos < ob.size) {
			rc = ERR_CORRUPT;
			break;
		}
	}
	ZSTD_freeDCtx(d);
	return rc;
}

static int zstd_compress(const uint8_t *p, size_t n, struct buf *out)
{
	size_t cap = ZSTD_compressBound(n);
	if (ZSTD_isError(cap))
		return ERR_TOO_LARGE;
	uint8_t *dst = buf_reserve(out, cap);
	size_t r = ZSTD_compress(dst, cap, p, n, 3); /* Kafka's default level */
	if (ZSTD_isError(r))
		return ERR_NOMEM;
	buf_advance(out, r);
	return 0;
}

/* ---- dispatch ---- */

int compress_decompress(enum batch_compression codec, const uint8_t *p, size_t n, size_t max_out,
                        struct buf *out)
{
	struct sink s;
	sink_init(&s, out, max_out);
	if (codec < BATCH_GZIP || codec > BATCH_ZSTD)
		return ERR_UNSUPPORTED;
	if (n == 0)
		return ERR_CORRUPT; /* no codec encodes anything as zero bytes */
	int rc;
	switch (codec) {
	case BATCH_GZIP:
		rc = gzip_decompress(p, n, &s);
		break;
	case BATCH_SNAPPY:
		rc = snappy_decompress(p, n, &s);
		break;
	case BATCH_LZ4:
		rc = lz4_decompress(p, n, &s);
		break;
	case BATCH_ZSTD:
		rc = zstd_decompress(p, n, &s);
		break;
	default:
		return ERR_UNSUPPORTED;
	}
	if (rc)
		sink_abort(&s);
	return rc;
}

int compress_compress(enum batch_compression codec, const uint8_t *p, size_t n, struct buf *out)
{
	switch (codec) {
	case BATCH_GZIP:
		return gzip_compress(p, n, out);
	case BATCH_SNAPPY:
		return snappy_compress_raw(p, n, out);
	case BATCH_LZ4:
		return lz4_compress(p, n, out);
	case BATCH_ZSTD:
		return zstd_compress(p, n, out);
	default:
		return ERR_UNSUPPORTED;
	}
}
