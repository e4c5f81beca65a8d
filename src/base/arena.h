/*
 * arena.h: bump allocator for memory that lives exactly as long as one request.
 *
 * Everything a decoder allocates (arrays of structs) comes from the request's
 * arena and is freed in one go when the response has been written. Blocks are
 * kept across arena_reset so a connection reuses warm memory.
 */
#ifndef FJORD_BASE_ARENA_H
#define FJORD_BASE_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head; /* current block */
	struct arena_block *free; /* kept for reuse after reset */
	size_t total;             /* bytes handed out since last reset */
};

void arena_init(struct arena *a);
void arena_release(struct arena *a);
/* Free everything allocated since init or the last reset; keep blocks. */
void arena_reset(struct arena *a);
/* Zeroed, 16-byte aligned memory. Returns NULL only if size is absurd (> 1 GiB). */
void *arena_alloc(struct arena *a, size_t size);
char *arena_strndup(struct arena *a, const char *s, size_t n);

#endif
