/*
 * arena.c: bump allocator for per-request memory. Blocks of at least 16 KiB;
 * a larger request gets its own block. Reset moves blocks to a free list.
 */
#include "base/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
	struct arena_block *next;
	size_t size;
	size_t used;
	_Alignas(16) unsigned char data[];
};

#define ARENA_BLOCK 16384
#define ARENA_MAX   (1u << 30)

void arena_init(struct arena *a)
{
	a->head = NULL;
	a->free = NULL;
	a->total = 0;
}

static void free_list(struct arena_block *b)
{
	while (b) {
		struct arena_block *n = b->next;
		free(b);
		b = n;
	}
}

void arena_release(struct arena *a)
{
	free_list(a->head);
	free_list(a->free);
	arena_init(a);
}

void arena_reset(struct arena *a)
{
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *n = b->next;
		if (b->size == ARENA_BLOCK) {
			b->used = 0;
			b->next = a->free;
			a->free = b;
		} else {
			free(b); /* oversized blocks are not kept */
		}
		b = n;
	}
	a->head = NULL;
	a->total = 0;
}

void *arena_alloc(struct arena *a, size_t size)
{
	if (size > ARENA_MAX)
		return NULL;
	size = (size + 15) & ~(size_t)15;
	if (size == 0)
		size = 16;
	struct arena_block *b = a->head;
	if (!b || b->size - b->used < size) {
		if (size <= ARENA_BLOCK && a->free) {
			b = a->free;
			a->free = b->next;
		} else {
			size_t bs = size > ARENA_BLOCK ? size : ARENA_BLOCK;
			b = malloc(sizeof(*b) + bs);
			if (!b) {
				fprintf(stderr, "FATAL out of memory (%zu bytes)\n", bs);
				abort();
			}
			b->size = bs;
		}
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += size;
	a->total += size;
	memset(p, 0, size);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}
