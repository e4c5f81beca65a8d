/*
 * fuzz_batch.c: libFuzzer target for record batches and the codecs
 * (src/proto/batch.c, src/proto/compress.c).
 *
 * The first input byte picks what the rest is fed to, so that mutations reach
 * the deep paths and not only the CRC check:
 *   0: the rest as a whole buffer: batch_count, batch_validate, then a full
 *      iteration whether or not it validated.
 *   1: the rest as a batch whose length, magic and CRC we fix up first, so
 *      that it validates and the records (or compressed payload) get parsed.
 *   2: byte 2 picks a codec, the rest are record bytes that we compress with
 *      batch_compress and wrap in a batch: hostile records behind every codec.
 *   3: byte 2 picks a codec, the rest goes straight to compress_decompress.
 * Decompression is capped at 4 MiB here to keep runs fast; the cap logic is
 * the same at 256 MiB.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc
 *   tests/fuzz/fuzz_batch.c src/proto/batch.c src/proto/compress.c
 *   src/base/ *.c -lz -lsnappy -llz4 -lzstd
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/crc32c.h"
#include "base/endian.h"
#include "proto/batch.h"
#include "proto/compress.h"

#define FUZZ_CAP ((size_t)4 << 20)

static void iterate(const uint8_t *p, size_t n)
{
	struct batch_iter it;
	struct batch_record r;
	if (batch_iter_init_max(&it, p, n, FUZZ_CAP) == 0) {
		volatile uint64_t sink = 0;
		while (batch_iter_next(&it, &r) == 1) {
			/* Touch every byte the record points at, so ASan sees bad slices. */
			for (int32_t i = 0; i < r.key_len; i++)
				sink += r.key[i];
			for (int32_t i = 0; i < r.value_len; i++)
				sink += r.value[i];
			for (size_t i = 0; i < r.headers_len; i++)
				sink += r.headers[i];
		}
	}
	batch_iter_release(&it);
}

/* Copy of p with length, magic and CRC made right (n >= 61). */
static void fixup_and_iterate(const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n);
	if (!b)
		return;
	memcpy(b, p, n);
	be32_store(b + BATCH_OFF_LENGTH, (uint32_t)(n - BATCH_LOG_OVERHEAD));
	b[BATCH_OFF_MAGIC] = 2;
	batch_update_crc(b, n);
	struct batch_header h;
	batch_validate(b, n, &h);
	iterate(b, n);
	free(b);
}

static void compress_and_iterate(uint8_t codec_byte, const uint8_t *p, size_t n)
{
	enum batch_compression codec = (enum batch_compression)(codec_byte % 5);
	struct buf b = BUF_INIT;
	uint8_t *h = buf_reserve(&b, BATCH_HEADER_SIZE);
	memset(h, 0, BATCH_HEADER_SIZE);
	buf_advance(&b, BATCH_HEADER_SIZE);
	if (batch_compress(codec, p, n, &b) == 0) {
		/* Record count from the top bits of the codec byte: 1..8. */
		int32_t count = (codec_byte >> 5) + 1;
		be16_store(b.data + BATCH_OFF_ATTRIBUTES, (uint16_t)codec);
		be32_store(b.data + BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(count - 1));
		be32_store(b.data + BATCH_OFF_RECORD_COUNT, (uint32_t)count);
		be32_store(b.data + BATCH_OFF_LENGTH, (uint32_t)(b.len - BATCH_LOG_OVERHEAD));
		b.data[BATCH_OFF_MAGIC] = 2;
		batch_update_crc(b.data, b.len);
		if (batch_validate(b.data, b.len, NULL) != 0)
			abort(); /* we built it valid */
		iterate(b.data, b.len);
	}
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0] & 3;
	const uint8_t *p = data + 1;
	size_t n = size - 1;

	switch (mode) {
	case 0: {
		struct batch_header h;
		batch_count(p, n);
		batch_validate(p, n, &h);
		iterate(p, n);
		break;
	}
	case 1:
		if (n >= BATCH_HEADER_SIZE)
			fixup_and_iterate(p, n);
		break;
	case 2:
		if (n >= 1)
			compress_and_iterate(p[0], p + 1, n - 1);
		break;
	case 3:
		if (n >= 1) {
			struct buf out = BUF_INIT;
			enum batch_compression codec = (enum batch_compression)(p[0] % 5);
			compress_decompress(codec, p + 1, n - 1, FUZZ_CAP, &out);
			buf_release(&out);
		}
		break;
	}
	return 0;
}
