/* buf.c: growable byte buffer (see buf.h for the invariants). */
#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void buf_release(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

uint8_t *buf_reserve(struct buf *b, size_t extra)
{
	if (extra == 0 && !b->data)
		extra = 1; /* never hand out NULL + 0 */
	if (b->cap - b->len < extra) {
		size_t want = b->len + extra;
		size_t cap = b->cap ? b->cap : 256;
		while (cap < want)
			cap *= 2;
		uint8_t *p = realloc(b->data, cap);
		if (!p) {
			fprintf(stderr, "FATAL out of memory (%zu bytes)\n", cap);
			abort();
		}
		b->data = p;
		b->cap = cap;
	}
	return b->data + b->len;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
	if (!n)
		return;
	memcpy(buf_reserve(b, n), p, n);
	b->len += n;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}
