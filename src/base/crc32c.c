/*
 * crc32c.c: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78).
 * The SSE4.2 crc32 instruction when the CPU has it, chosen once before main;
 * a slicing-by-8 table otherwise.
 *
 * The instruction takes 3 cycles but can start one every cycle, so long
 * inputs run three independent streams over three adjacent blocks and join
 * them: the CRC state is linear, so the state after A||B is the state after A
 * advanced over |B| zero bytes, xor the state of B alone. Advancing over a
 * fixed number of zero bytes is multiplication by x^(8n) modulo the
 * polynomial, kept as four 256-entry tables per block size.
 *
 * With VPCLMULQDQ (AVX-512), long inputs are folded first, 256 bytes a step
 * in four 512-bit accumulators: a 128-bit chunk C = lo*x^64 + hi (lo is the
 * earlier 8 bytes) moved D bits further is congruent to lo*(x^(64+D) mod P)
 * + hi*(x^D mod P), two carry-less multiplications that fit in 128 bits.
 * What is left is one 128-bit chunk with the same CRC as everything before
 * it, which the crc32 instruction finishes with the remaining tail.
 */
#include "base/crc32c.h"

#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define POLY 0x82F63B78u

static uint32_t table[8][256];
static int mode; /* 1 table, 2 crc32 instruction, 3 folding then crc32; set before main */

#define LONG_BLOCK  8192
#define SHORT_BLOCK 256
static uint32_t shift_long[4][256];  /* advance over LONG_BLOCK zero bytes */
static uint32_t shift_short[4][256]; /* advance over SHORT_BLOCK zero bytes */

/* a * b modulo the polynomial, reflected (bit 31 is x^0). */
static uint32_t gf2_mul(uint32_t a, uint32_t b)
{
	uint32_t prod = 0;
	for (uint32_t m = 1u << 31; m; m >>= 1) {
		if (a & m)
			prod ^= b;
		b = (b & 1) ? (b >> 1) ^ POLY : b >> 1;
	}
	return prod;
}

/* x^n modulo the polynomial. */
static uint32_t gf2_xpow(uint64_t n)
{
	uint32_t result = 1u << 31, sq = 1u << 30; /* x^0, x^1 */
	for (; n; n >>= 1) {
		if (n & 1)
			result = gf2_mul(sq, result);
		sq = gf2_mul(sq, sq);
	}
	return result;
}

static void shift_init(uint32_t t[4][256], size_t zeros)
{
	uint32_t x = gf2_xpow(8 * (uint64_t)zeros);
	for (int k = 0; k < 4; k++)
		for (uint32_t b = 0; b < 256; b++)
			t[k][b] = gf2_mul(x, b << (8 * k));
}

static uint32_t shift(const uint32_t t[4][256], uint32_t crc)
{
	return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^
	       t[3][crc >> 24];
}

static void table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

static uint32_t crc_table(uint32_t crc, const uint8_t *p, size_t n)
{
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		v ^= crc;
		crc = table[7][v & 0xff] ^ table[6][(v >> 8) & 0xff] ^ table[5][(v >> 16) & 0xff] ^
		      table[4][(v >> 24) & 0xff] ^ table[3][(v >> 32) & 0xff] ^
		      table[2][(v >> 40) & 0xff] ^ table[1][(v >> 48) & 0xff] ^ table[0][v >> 56];
		p += 8;
		n -= 8;
	}
	while (n--)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__)
/* Three streams over adjacent blocks of size len, joined (see the top). */
#define CRC_HW_3WAY(len, tab)                                                                      \
	while (n >= 3 * (len)) {                                                                   \
		uint64_t c0 = c, c1 = 0, c2 = 0;                                                   \
		for (size_t i = 0; i < (len); i += 8) {                                            \
			uint64_t v0, v1, v2;                                                       \
			memcpy(&v0, p + i, 8);                                                     \
			memcpy(&v1, p + (len) + i, 8);                                             \
			memcpy(&v2, p + 2 * (len) + i, 8);                                         \
			c0 = __builtin_ia32_crc32di(c0, v0);                                       \
			c1 = __builtin_ia32_crc32di(c1, v1);                                       \
			c2 = __builtin_ia32_crc32di(c2, v2);                                       \
		}                                                                                  \
		c = shift(tab, shift(tab, (uint32_t)c0) ^ (uint32_t)c1) ^ (uint32_t)c2;            \
		p += 3 * (len);                                                                    \
		n -= 3 * (len);                                                                    \
	}

__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t n)
{
	uint64_t c = crc;
	CRC_HW_3WAY(LONG_BLOCK, shift_long)
	CRC_HW_3WAY(SHORT_BLOCK, shift_short)
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		n -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	while (n--)
		c32 = __builtin_ia32_crc32qi(c32, *p++);
	return c32;
}

/*
 * Folding constants for a distance of D bits, one per 64-bit half (see the
 * top). A carry-less product of two bit-reflected values comes out one
 * degree high, hence x^(D+63) and x^(D-1).
 */
struct fold_k {
	uint64_t lo, hi;
};
static struct fold_k k2048, k1536, k1024, k512, k384, k256, k128;

static void fold_init(struct fold_k *k, uint64_t d)
{
	k->lo = (uint64_t)gf2_xpow(d + 63) << 32;
	k->hi = (uint64_t)gf2_xpow(d - 1) << 32;
}

#define FOLD_TARGET __attribute__((target("avx512f,avx512vl,vpclmulqdq,pclmul,sse4.2")))
#define FOLD_STEP   256
#define FOLD_MIN    1024 /* shorter inputs do not repay the final reduction */

FOLD_TARGET static __m512i fold_k512(const struct fold_k *k)
{
	return _mm512_broadcast_i32x4(_mm_set_epi64x((long long)k->hi, (long long)k->lo));
}

FOLD_TARGET static __m512i fold512(__m512i a, __m512i k, __m512i next)
{
	return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(a, k, 0x00),
	                                 _mm512_clmulepi64_epi128(a, k, 0x11), next, 0x96);
}

FOLD_TARGET static __m128i fold128(__m128i a, const struct fold_k *k, __m128i next)
{
	__m128i kk = _mm_set_epi64x((long long)k->hi, (long long)k->lo);
	return _mm_xor_si128(
	    _mm_xor_si128(_mm_clmulepi64_si128(a, kk, 0x00), _mm_clmulepi64_si128(a, kk, 0x11)),
	    next);
}

/* n >= FOLD_MIN; c is the running (inverted) state, as for crc_hw. */
FOLD_TARGET static uint32_t crc_fold(uint32_t c, const uint8_t *p, size_t n)
{
	__m512i a0 = _mm512_loadu_si512((const void *)p);
	__m512i a1 = _mm512_loadu_si512((const void *)(p + 64));
	__m512i a2 = _mm512_loadu_si512((const void *)(p + 128));
	__m512i a3 = _mm512_loadu_si512((const void *)(p + 192));
	a0 = _mm512_xor_si512(a0, _mm512_set_epi64(0, 0, 0, 0, 0, 0, 0, (long long)c));
	p += FOLD_STEP;
	n -= FOLD_STEP;
	const __m512i k = fold_k512(&k2048);
	while (n >= FOLD_STEP) {
		a0 = fold512(a0, k, _mm512_loadu_si512((const void *)p));
		a1 = fold512(a1, k, _mm512_loadu_si512((const void *)(p + 64)));
		a2 = fold512(a2, k, _mm512_loadu_si512((const void *)(p + 128)));
		a3 = fold512(a3, k, _mm512_loadu_si512((const void *)(p + 192)));
		p += FOLD_STEP;
		n -= FOLD_STEP;
	}
	a3 = fold512(a0, fold_k512(&k1536), a3);
	a3 = fold512(a1, fold_k512(&k1024), a3);
	a3 = fold512(a2, fold_k512(&k512), a3);
	__m128i x = _mm512_extracti32x4_epi32(a3, 3);
	x = fold128(_mm512_extracti32x4_epi32(a3, 0), &k384, x);
	x = fold128(_mm512_extracti32x4_epi32(a3, 1), &k256, x);
	x = fold128(_mm512_extracti32x4_epi32(a3, 2), &k128, x);
	uint64_t s = __builtin_ia32_crc32di(0, (uint64_t)_mm_cvtsi128_si64(x));
	s = __builtin_ia32_crc32di(s, (uint64_t)_mm_extract_epi64(x, 1));
	return crc_hw((uint32_t)s, p, n);
}
#endif

/* Runs before main, so no thread ever sees a half-built table. */
__attribute__((constructor)) static void crc32c_init(void)
{
	table_init();
	shift_init(shift_long, LONG_BLOCK);
	shift_init(shift_short, SHORT_BLOCK);
#if defined(__x86_64__)
	fold_init(&k2048, 2048);
	fold_init(&k1536, 1536);
	fold_init(&k1024, 1024);
	fold_init(&k512, 512);
	fold_init(&k384, 384);
	fold_init(&k256, 256);
	fold_init(&k128, 128);
	__builtin_cpu_init();
	mode = __builtin_cpu_supports("sse4.2") ? 2 : 1;
	if (mode == 2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
	    __builtin_cpu_supports("vpclmulqdq") && __builtin_cpu_supports("pclmul"))
		mode = 3;
#else
	mode = 1;
#endif
}

uint32_t crc32c(uint32_t crc, const void *data, size_t n)
{
	const uint8_t *p = data;
	crc = ~crc;
#if defined(__x86_64__)
	if (mode == 3 && n >= FOLD_MIN)
		return ~crc_fold(crc, p, n);
	if (mode >= 2)
		return ~crc_hw(crc, p, n);
#endif
	return ~crc_table(crc, p, n);
}

uint32_t crc32c_portable(uint32_t crc, const void *data, size_t n)
{
	return ~crc_table(~crc, data, n);
}
