/*
 * batch.h: record batches (magic 2) — validation, header access, and record
 * iteration (decompressing when a caller must see record contents).
 *
 * Layout (RECORDS.md): baseOffset i64 @0, batchLength i32 @8,
 * partitionLeaderEpoch i32 @12, magic i8 @16, crc u32 @17 (CRC-32C of
 * [21, end)), attributes i16 @21, lastOffsetDelta i32 @23, baseTimestamp i64
 * @27, maxTimestamp i64 @35, producerId i64 @43, producerEpoch i16 @51,
 * baseSequence i32 @53, recordCount i32 @57, records @61.
 *
 * The hot path (produce) calls batch_validate only: header checks plus one
 * CRC pass, no per-record work. Record iteration is for ListOffsets by
 * timestamp, compaction, and topics that need record contents.
 */
#ifndef FJORD_PROTO_BATCH_H
#define FJORD_PROTO_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define BATCH_HEADER_SIZE  61
#define BATCH_LOG_OVERHEAD 12 /* baseOffset + batchLength */

#define BATCH_OFF_BASE_OFFSET       0
#define BATCH_OFF_LENGTH            8
#define BATCH_OFF_LEADER_EPOCH      12
#define BATCH_OFF_MAGIC             16
#define BATCH_OFF_CRC               17
#define BATCH_OFF_ATTRIBUTES        21
#define BATCH_OFF_LAST_OFFSET_DELTA 23
#define BATCH_OFF_BASE_TIMESTAMP    27
#define BATCH_OFF_MAX_TIMESTAMP     35
#define BATCH_OFF_PRODUCER_ID       43
#define BATCH_OFF_PRODUCER_EPOCH    51
#define BATCH_OFF_BASE_SEQUENCE     53
#define BATCH_OFF_RECORD_COUNT      57

#define BATCH_ATTR_COMPRESSION_MASK 0x07
#define BATCH_ATTR_LOG_APPEND_TIME  0x08
#define BATCH_ATTR_TRANSACTIONAL    0x10
#define BATCH_ATTR_CONTROL          0x20
#define BATCH_ATTR_DELETE_HORIZON   0x40

enum batch_compression {
	BATCH_NONE = 0,
	BATCH_GZIP = 1,
	BATCH_SNAPPY = 2,
	BATCH_LZ4 = 3,
	BATCH_ZSTD = 4
};

/* Decoded header fields (a copy; the batch bytes are not referenced). */
struct batch_header {
	int64_t base_offset;
	int32_t length; /* batchLength: bytes after the length field */
	int32_t leader_epoch;
	int8_t magic;
	uint32_t crc;
	int16_t attributes;
	int32_t last_offset_delta;
	int64_t base_timestamp;
	int64_t max_timestamp;
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t base_sequence;
	int32_t record_count;
};

/* Parse the 61-byte header at p (n >= BATCH_HEADER_SIZE). No checks. */
void batch_header_parse(const uint8_t *p, struct batch_header *h);
/* Size of the whole batch at p from its length field (12 + batchLength). */
int64_t batch_total_size(const uint8_t *p);

/*
 * Full check of one batch occupying exactly n bytes, as the broker does on
 * produce: n >= 61, batchLength + 12 == n, magic 2, CRC-32C matches,
 * recordCount >= 1 and == lastOffsetDelta + 1, compression codec 0..4,
 * attribute bits 7-15 zero. Does not look inside records.
 * Returns 0, ERR_CORRUPT (sizes, magic, CRC, counts) or ERR_UNSUPPORTED
 * (unknown codec).
 */
int batch_validate(const uint8_t *p, size_t n, struct batch_header *h);

/*
 * Walk a buffer of consecutive batches (what a Produce records field holds):
 * returns the number of whole batches, or ERR_CORRUPT if the bytes are not a
 * sequence of whole batches.
 */
int batch_count(const uint8_t *p, size_t n);

/* Recompute and store the CRC after rewriting attributes or timestamps. */
void batch_update_crc(uint8_t *p, size_t n);

/* One record, pointing into the (decompressed) record bytes. */
struct batch_record {
	int64_t offset;    /* base offset + offset delta */
	int64_t timestamp; /* base timestamp + delta, or max timestamp for LogAppendTime */
	const uint8_t *key;
	int32_t key_len; /* -1 = null */
	const uint8_t *value;
	int32_t value_len; /* -1 = null (tombstone) */
	int32_t header_count;
	const uint8_t *headers; /* raw header bytes, header_count entries */
	size_t headers_len;
};

struct batch_iter {
	struct batch_header h;
	const uint8_t *p, *end; /* remaining record bytes */
	int32_t left;           /* records not yet returned */
	struct buf scratch;     /* decompressed records when compressed */
	int err;
};

/*
 * Start iterating the records of the batch at p (n bytes, already validated).
 * Decompresses into it->scratch if the batch is compressed (gzip, snappy raw
 * or xerial-framed, lz4 frame, zstd), refusing output over 256 MiB.
 * Returns 0 or ERR_CORRUPT / ERR_UNSUPPORTED.
 */
int batch_iter_init(struct batch_iter *it, const uint8_t *p, size_t n);
/* The cap batch_iter_init applies to decompressed record bytes. */
#define BATCH_MAX_DECOMPRESSED ((size_t)256 << 20)
/*
 * batch_iter_init with a caller-chosen decompression cap (max_out bytes);
 * over the cap is ERR_CORRUPT. On any error the iterator holds no memory, and
 * batch_iter_release is still safe to call.
 */
int batch_iter_init_max(struct batch_iter *it, const uint8_t *p, size_t n, size_t max_out);
/* Next record: 1 and *r filled, 0 at the end, or ERR_CORRUPT. */
int batch_iter_next(struct batch_iter *it, struct batch_record *r);
void batch_iter_release(struct batch_iter *it);

/*
 * Compress raw record bytes with codec (used by tests and later by
 * recompression); appends to out. Returns 0 or an error.
 */
int batch_compress(enum batch_compression codec, const uint8_t *p, size_t n, struct buf *out);

#endif
