/*
 * memstream.h: copies whose destination the CPU will not read again soon
 * (data staged for a device to fetch). Non-temporal stores write around
 * the caches: no read-for-ownership of the destination lines, and the
 * caches keep what the other threads (the network copy, the client on a
 * shared machine) are working on.
 */
#ifndef FJORD_BASE_MEMSTREAM_H
#define FJORD_BASE_MEMSTREAM_H

#include <stddef.h>

/* memcpy(dst, src, n) for non-overlapping buffers, streaming the stores
 * when the CPU can and n is large enough to gain from it. */
void mem_copy_stream(void *dst, const void *src, size_t n);

#endif
