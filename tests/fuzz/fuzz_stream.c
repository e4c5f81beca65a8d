/*
 * fuzz_stream.c: libFuzzer target for the frame reader: the input is the byte
 * stream a client writes on a connection. Frames are cut with frame_peek (as
 * src/server/conn.c does, with a small socket.request.max.bytes so that the
 * limit is exercised) and each whole frame goes through the request header
 * and body decoders of request_decoders.h. A bad size ends the stream, as the
 * server closes the connection.
 */
#include "proto/frame.h"
#include "request_decoders.h"

#define FUZZ_MAX_FRAME 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	for (;;) {
		int32_t len;
		enum frame_status st = frame_peek(data + off, size - off, FUZZ_MAX_FRAME, &len);
		if (st != FRAME_READY)
			break;
		if (len < FRAME_HEADER_MIN || (size_t)len > size - off - 4) {
			fprintf(stderr, "frame_peek said ready for a frame that is not there\n");
			abort();
		}
		check_request(data + off + 4, (size_t)len);
		off += 4 + (size_t)len;
	}
	return 0;
}
