/*
 * fuzz_request.c: libFuzzer target for everything the broker parses before a
 * handler runs: the request header (v1/v2, as src/server/conn.c reads it) and
 * the generated decoder of every API the codec knows, at every version.
 *
 * The input is one request frame without its size prefix, exactly what a
 * client sends. After a successful decode the message is encoded, decoded
 * and encoded again: the two encodings must be identical (the codec is a
 * fixed point after one round), which catches encoder/decoder mismatches,
 * not just crashes.
 *
 * Build and run with "make fuzz" (clang, -fsanitize=fuzzer,address,undefined).
 */
#include "request_decoders.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_request(data, size);
	return 0;
}
