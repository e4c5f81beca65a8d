/*
 * crc32c.h: CRC-32C (Castagnoli), the checksum of Kafka record batches.
 * Uses carry-less multiplication (VPCLMULQDQ) and the SSE4.2 crc32 instruction
 * when the CPU has them, a table otherwise.
 */
#ifndef FJORD_BASE_CRC32C_H
#define FJORD_BASE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extend crc (start with 0) over n bytes of p. */
uint32_t crc32c(uint32_t crc, const void *p, size_t n);
/* The same with the table only (the reference the fast path is tested against). */
uint32_t crc32c_portable(uint32_t crc, const void *p, size_t n);

#endif
