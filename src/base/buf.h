/*
 * buf.h: a growable byte buffer owned by one writer.
 *
 * Invariant: data[0..len) is valid; cap >= len. Readers take (pointer, length)
 * slices and must not keep them across an append, which may move data.
 * Allocation failure aborts (like git's strbuf): a broker that cannot allocate
 * a few KiB cannot do anything useful, and every network-sized allocation is
 * bounded before it gets here.
 */
#ifndef FJORD_BASE_BUF_H
#define FJORD_BASE_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT                                                                                   \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void buf_init(struct buf *b);
void buf_release(struct buf *b);
/* Make room for extra more bytes; returns a pointer to data + len. */
uint8_t *buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
/* Grow len by n (after writing into buf_reserve's room). */
static inline void buf_advance(struct buf *b, size_t n)
{
	b->len += n;
}
static inline void buf_reset(struct buf *b)
{
	b->len = 0;
}
/* Drop the first n bytes, moving the rest to the front. */
void buf_consume(struct buf *b, size_t n);

#endif
