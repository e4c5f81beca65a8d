/* frame.c: the size-prefix check of Kafka framing (see frame.h). */
#include "proto/frame.h"

#include "base/endian.h"

enum frame_status frame_peek(const uint8_t *p, size_t n, int32_t max, int32_t *size)
{
	*size = 0;
	if (n < 4)
		return FRAME_NEED_MORE;
	int32_t s = (int32_t)be32_load(p);
	if (s < FRAME_HEADER_MIN || s > max)
		return FRAME_BAD;
	*size = s;
	return n - 4 >= (size_t)s ? FRAME_READY : FRAME_NEED_MORE;
}
