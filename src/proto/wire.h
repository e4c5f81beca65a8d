/*
 * wire.h: bounded reader and buffer writer for the Kafka wire types.
 *
 * The reader never reads past its end and never allocates more than the bytes
 * it has actually seen could justify: an array count or string length larger
 * than what remains in the frame sets the sticky error. After the first error
 * every further read returns zero values; callers check rd.err once, at the
 * end (librdkafka's err_parse idea).
 *
 * The writer appends to a struct buf. Records that live in a file (a fetch
 * response) are not copied: the writer notes a splice {position in the buffer,
 * file range}, and the sender interleaves buffer bytes and file ranges.
 *
 * Strings and bytes decoded from a frame point into that frame: they live as
 * long as the request buffer. Arrays are allocated from the request arena.
 */
#ifndef FJORD_PROTO_WIRE_H
#define FJORD_PROTO_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"

/* A string or byte string on the wire; len == -1 means null. Not NUL-terminated. */
struct kstr {
	const char *ptr;
	int32_t len;
};
struct kbytes {
	const uint8_t *ptr;
	int32_t len;
};
struct kuuid {
	uint8_t b[16];
};

/*
 * A reference to a byte range of an open file, kept alive by a reference the
 * holder owns; release(ctx) is called once when the response no longer needs
 * it (after sending, or when the connection closes).
 */
struct wire_fileref {
	int fd;
	int64_t off;
	int32_t len;
	void (*release)(void *ctx);
	void *ctx;
};

/*
 * The RECORDS type: either bytes in memory (ptr/len) or a file range (file
 * != NULL; then len == file->len). len == -1 means null.
 */
struct krecords {
	const uint8_t *ptr;
	int32_t len;
	struct wire_fileref *file;
};

/* Unknown tagged fields are skipped on decode and never re-emitted. */

struct rd {
	const uint8_t *p;
	const uint8_t *end;
	int err; /* 0 or ERR_INVALID, sticky */
};

static inline void rd_init(struct rd *r, const void *p, size_t n)
{
	static const uint8_t empty[1];
	if (!p) /* an empty buffer may have no storage: never do NULL + 0 */
		p = empty, n = 0;
	r->p = (const uint8_t *)p;
	r->end = r->p + n;
	r->err = 0;
}
static inline size_t rd_left(const struct rd *r)
{
	return (size_t)(r->end - r->p);
}

int8_t rd_i8(struct rd *r);
int16_t rd_i16(struct rd *r);
uint16_t rd_u16(struct rd *r);
int32_t rd_i32(struct rd *r);
uint32_t rd_u32(struct rd *r);
int64_t rd_i64(struct rd *r);
double rd_f64(struct rd *r);
bool rd_bool(struct rd *r);
struct kuuid rd_uuid(struct rd *r);
uint32_t rd_uvarint(struct rd *r); /* UNSIGNED_VARINT, at most 5 bytes */
int32_t rd_varint(struct rd *r);   /* zig-zag VARINT */
int64_t rd_varlong(struct rd *r);  /* zig-zag VARLONG */
/* compact selects the COMPACT_* encoding. A null read gives len -1. */
struct kstr rd_str(struct rd *r, bool compact);
struct kbytes rd_bytes(struct rd *r, bool compact);
struct krecords rd_records(struct rd *r, bool compact);
/*
 * Array length: -1 for null, else a count that is checked against the bytes
 * left (each element takes at least min_elem_size bytes); too large sets err.
 */
int32_t rd_array_len(struct rd *r, bool compact, size_t min_elem_size);
/* Skip a whole tagged-field section (flexible versions). */
void rd_skip_tags(struct rd *r);
void rd_skip(struct rd *r, size_t n);
void rd_fail(struct rd *r);

struct wire_splice {
	size_t pos; /* position in the buffer where the file bytes go */
	struct wire_fileref *file;
};

struct wr {
	struct buf *b;
	struct wire_splice *splices;
	int nsplices;
	int cap_splices;
};

void wr_init(struct wr *w, struct buf *b);
/* Frees the splice array (not the buffer); releases no file references. */
void wr_release(struct wr *w);

void wr_i8(struct wr *w, int8_t v);
void wr_i16(struct wr *w, int16_t v);
void wr_u16(struct wr *w, uint16_t v);
void wr_i32(struct wr *w, int32_t v);
void wr_u32(struct wr *w, uint32_t v);
void wr_i64(struct wr *w, int64_t v);
void wr_f64(struct wr *w, double v);
void wr_bool(struct wr *w, bool v);
void wr_uuid(struct wr *w, struct kuuid v);
void wr_uvarint(struct wr *w, uint32_t v);
void wr_varint(struct wr *w, int32_t v);
void wr_varlong(struct wr *w, int64_t v);
void wr_str(struct wr *w, struct kstr s, bool compact);
void wr_bytes(struct wr *w, struct kbytes b, bool compact);
/* Writes the length, then copies ptr/len or records a splice for file. */
void wr_records(struct wr *w, struct krecords r, bool compact);
void wr_array_len(struct wr *w, int32_t n, bool compact);
void wr_empty_tags(struct wr *w);
/* Total encoded length so far including spliced file bytes. */
size_t wr_total(const struct wr *w);

/* Helpers for building messages. */
static inline struct kstr kstr_null(void)
{
	struct kstr s = {NULL, -1};
	return s;
}
struct kstr kstr_c(const char *s); /* from a NUL-terminated string (NULL -> null) */
bool kstr_eq(struct kstr a, const char *s);

#endif
