/*
 * frame.h: Kafka's framing — an int32 size then that many bytes — checked
 * before anything is allocated for the frame. No sockets here: the server
 * feeds it whatever it has read.
 */
#ifndef FJORD_PROTO_FRAME_H
#define FJORD_PROTO_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_HEADER_MIN 8 /* api key, version, correlation id */

enum frame_status {
	FRAME_BAD = -1, /* declared size outside [FRAME_HEADER_MIN, max]: close the connection */
	FRAME_NEED_MORE =
	    0,           /* not all of it is here yet (*size says how much is coming, if known) */
	FRAME_READY = 1, /* p[4 .. 4 + *size) is one whole frame */
};

/*
 * Look at the bytes at p (n of them). *size receives the declared frame size
 * once the 4-byte prefix is complete, else 0.
 */
enum frame_status frame_peek(const uint8_t *p, size_t n, int32_t max, int32_t *size);

#endif
