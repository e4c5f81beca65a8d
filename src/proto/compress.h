/*
 * compress.h: the four Kafka compression codecs, applied to the record bytes
 * of a batch (everything after recordCount, as one stream).
 *
 * Decompression accepts what real clients write: gzip streams (one or more
 * members), snappy as a raw block (librdkafka) or xerial/snappy-java framed
 * (the Java client), LZ4 frames, and zstd frames with or without a content
 * size. Every decompressor stops at an output cap, so a small hostile payload
 * cannot make the broker allocate more than the cap (decompression bombs).
 *
 * Compression writes gzip, raw snappy, an LZ4 frame and a zstd frame, which
 * every client can read.
 *
 * Threads: any thread; no shared state. Pointers are borrowed for the call.
 */
#ifndef FJORD_PROTO_COMPRESS_H
#define FJORD_PROTO_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "proto/batch.h"

/* Default output cap for decompression: 256 MiB. */
#define COMPRESS_MAX_OUT_DEFAULT ((size_t)256 << 20)

/*
 * Decompress n bytes at p with codec and append the result to out.
 * At most max_out bytes are appended; a stream that would produce more fails.
 * On failure out->len is restored (its capacity may have grown).
 * Returns 0, ERR_CORRUPT (malformed or truncated stream), ERR_TOO_LARGE (over
 * max_out) or ERR_UNSUPPORTED (codec not 1..4).
 */
int compress_decompress(enum batch_compression codec, const uint8_t *p, size_t n, size_t max_out,
                        struct buf *out);

/*
 * Compress n bytes at p with codec (1..4) and append the result to out.
 * Returns 0, ERR_UNSUPPORTED (codec not 1..4), ERR_TOO_LARGE (input over
 * what the codec can take, e.g. 4 GiB for snappy) or ERR_NOMEM (a codec
 * library failed to allocate).
 */
int compress_compress(enum batch_compression codec, const uint8_t *p, size_t n, struct buf *out);

/* True if p starts with the xerial/snappy-java stream header. */
bool compress_snappy_is_xerial(const uint8_t *p, size_t n);

#endif
