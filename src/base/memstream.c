/*
 * memstream.c: non-temporal copies (see memstream.h). AVX-512F or AVX2
 * stores chosen once at start; plain memcpy on other CPUs and for small
 * copies, where the fence and the unaligned edges cost more than they save.
 */
#include "base/memstream.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define STREAM_MIN 4096

static int mode; /* 0 memcpy, 1 AVX2, 2 AVX-512F */

#if defined(__x86_64__)
/* Copy up to the first 'align'-byte boundary of dst; returns bytes copied. */
static size_t copy_head(uint8_t *d, const uint8_t *s, size_t n, size_t align)
{
	size_t head = (align - ((uintptr_t)d & (align - 1))) & (align - 1);
	if (head > n)
		head = n;
	memcpy(d, s, head);
	return head;
}

__attribute__((target("avx512f"))) static void copy_avx512(uint8_t *d, const uint8_t *s, size_t n)
{
	size_t h = copy_head(d, s, n, 64);
	d += h, s += h, n -= h;
	for (; n >= 256; d += 256, s += 256, n -= 256) {
		__m512i a = _mm512_loadu_si512(s), b = _mm512_loadu_si512(s + 64);
		__m512i c = _mm512_loadu_si512(s + 128), e = _mm512_loadu_si512(s + 192);
		_mm512_stream_si512((void *)d, a);
		_mm512_stream_si512((void *)(d + 64), b);
		_mm512_stream_si512((void *)(d + 128), c);
		_mm512_stream_si512((void *)(d + 192), e);
	}
	_mm_sfence();
	memcpy(d, s, n);
}

__attribute__((target("avx2"))) static void copy_avx2(uint8_t *d, const uint8_t *s, size_t n)
{
	size_t h = copy_head(d, s, n, 32);
	d += h, s += h, n -= h;
	for (; n >= 128; d += 128, s += 128, n -= 128) {
		__m256i a = _mm256_loadu_si256((const void *)s);
		__m256i b = _mm256_loadu_si256((const void *)(s + 32));
		__m256i c = _mm256_loadu_si256((const void *)(s + 64));
		__m256i e = _mm256_loadu_si256((const void *)(s + 96));
		_mm256_stream_si256((void *)d, a);
		_mm256_stream_si256((void *)(d + 32), b);
		_mm256_stream_si256((void *)(d + 64), c);
		_mm256_stream_si256((void *)(d + 96), e);
	}
	_mm_sfence();
	memcpy(d, s, n);
}

__attribute__((constructor)) static void memstream_init(void)
{
	__builtin_cpu_init();
	mode = __builtin_cpu_supports("avx512f") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
}
#endif

void mem_copy_stream(void *dst, const void *src, size_t n)
{
#if defined(__x86_64__)
	if (n >= STREAM_MIN && mode == 2) {
		copy_avx512(dst, src, n);
		return;
	}
	if (n >= STREAM_MIN && mode == 1) {
		copy_avx2(dst, src, n);
		return;
	}
#endif
	memcpy(dst, src, n);
}
