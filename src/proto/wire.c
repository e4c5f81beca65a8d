/*
 * wire.c: the Kafka primitive types (RECORDS.md section 3) on a bounded
 * reader and an appending writer.
 *
 * Reader: every read first checks the sticky error and the bytes left; a
 * short or malformed input sets r->err = ERR_INVALID and every later read
 * returns a zero value, so decoders test the error once at the end. Lengths
 * and counts are validated against the bytes left before anyone allocates:
 * a string or byte length must fit entirely, an array count must fit at its
 * minimum element size. Varints longer than their type allows (5 bytes for 32
 * bits, 10 for 64) or with bits beyond the type are rejected.
 *
 * Writer: appends big-endian values to a struct buf; file-backed records are
 * not copied but noted as splices (buffer position, file range) for the
 * sender. Framing (the int32 size prefix) and headers are left to the
 * callers and the generated codec (proto/gen).
 */
#include "proto/wire.h"

#include <stdlib.h>
#include <string.h>

#include "base/endian.h"
#include "base/err.h"

/* Kafka caps every string, compact or not, at this many bytes. */
#define WIRE_MAX_STRING 0x7fff

void rd_fail(struct rd *r)
{
	r->err = ERR_INVALID;
}

/* Returns a pointer to n readable bytes and consumes them, or NULL (and sets err). */
static const uint8_t *rd_take(struct rd *r, size_t n)
{
	if (r->err)
		return NULL;
	if (rd_left(r) < n) {
		rd_fail(r);
		return NULL;
	}
	const uint8_t *p = r->p;
	r->p += n;
	return p;
}

int8_t rd_i8(struct rd *r)
{
	const uint8_t *p = rd_take(r, 1);
	return p ? (int8_t)p[0] : 0;
}

int16_t rd_i16(struct rd *r)
{
	const uint8_t *p = rd_take(r, 2);
	return p ? (int16_t)be16_load(p) : 0;
}

uint16_t rd_u16(struct rd *r)
{
	const uint8_t *p = rd_take(r, 2);
	return p ? be16_load(p) : 0;
}

int32_t rd_i32(struct rd *r)
{
	const uint8_t *p = rd_take(r, 4);
	return p ? (int32_t)be32_load(p) : 0;
}

uint32_t rd_u32(struct rd *r)
{
	const uint8_t *p = rd_take(r, 4);
	return p ? be32_load(p) : 0;
}

int64_t rd_i64(struct rd *r)
{
	const uint8_t *p = rd_take(r, 8);
	return p ? (int64_t)be64_load(p) : 0;
}

double rd_f64(struct rd *r)
{
	const uint8_t *p = rd_take(r, 8);
	double d = 0;
	if (p) {
		uint64_t v = be64_load(p);
		memcpy(&d, &v, sizeof(d));
	}
	return d;
}

bool rd_bool(struct rd *r)
{
	const uint8_t *p = rd_take(r, 1);
	return p ? p[0] != 0 : false;
}

struct kuuid rd_uuid(struct rd *r)
{
	struct kuuid u;
	const uint8_t *p = rd_take(r, 16);
	if (p)
		memcpy(u.b, p, 16);
	else
		memset(u.b, 0, 16);
	return u;
}

/*
 * Base-128, least significant group first. maxbytes bounds the length; the
 * last allowed byte may only carry the bits that still fit in the type
 * (lastmask), so an overlong or overflowing encoding is an error rather than
 * a silently truncated value.
 */
static uint64_t rd_base128(struct rd *r, int maxbytes, uint8_t lastmask)
{
	uint64_t v = 0;
	for (int i = 0; i < maxbytes; i++) {
		const uint8_t *p = rd_take(r, 1);
		if (!p)
			return 0;
		uint8_t b = p[0];
		if (i == maxbytes - 1 && (b & ~lastmask)) {
			rd_fail(r);
			return 0;
		}
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			return v;
	}
	rd_fail(r); /* not reached: lastmask never includes the continuation bit */
	return 0;
}

uint32_t rd_uvarint(struct rd *r)
{
	return (uint32_t)rd_base128(r, 5, 0x0f);
}

int32_t rd_varint(struct rd *r)
{
	uint32_t n = (uint32_t)rd_base128(r, 5, 0x0f);
	return (int32_t)((n >> 1) ^ (~(n & 1) + 1));
}

int64_t rd_varlong(struct rd *r)
{
	uint64_t n = rd_base128(r, 10, 0x01);
	return (int64_t)((n >> 1) ^ (~(n & 1) + 1));
}

/*
 * Reads a length prefix: compact = UNSIGNED_VARINT N+1 (0 = null), else a
 * signed int16 or int32 (wide) with -1 = null. Returns -1 for null, -2 on error.
 */
static int64_t rd_len(struct rd *r, bool compact, bool wide)
{
	int64_t n;
	if (compact) {
		n = (int64_t)rd_uvarint(r) - 1;
	} else if (wide) {
		n = rd_i32(r);
	} else {
		n = rd_i16(r);
	}
	if (r->err)
		return -2;
	if (n < -1) {
		rd_fail(r);
		return -2;
	}
	return n;
}

struct kstr rd_str(struct rd *r, bool compact)
{
	struct kstr s = {NULL, -1};
	int64_t n = rd_len(r, compact, false);
	if (n == -1)
		return s;
	if (n < 0 || n > WIRE_MAX_STRING) {
		rd_fail(r);
		s.len = 0;
		return s;
	}
	const uint8_t *p = rd_take(r, (size_t)n);
	if (!p) {
		s.len = 0;
		return s;
	}
	s.ptr = (const char *)p;
	s.len = (int32_t)n;
	return s;
}

struct kbytes rd_bytes(struct rd *r, bool compact)
{
	struct kbytes b = {NULL, -1};
	int64_t n = rd_len(r, compact, true);
	if (n == -1)
		return b;
	if (n < 0 || n > INT32_MAX) {
		rd_fail(r);
		b.len = 0;
		return b;
	}
	const uint8_t *p = rd_take(r, (size_t)n);
	if (!p) {
		b.len = 0;
		return b;
	}
	b.ptr = p;
	b.len = (int32_t)n;
	return b;
}

struct krecords rd_records(struct rd *r, bool compact)
{
	struct kbytes b = rd_bytes(r, compact);
	struct krecords rec = {b.ptr, b.len, NULL};
	return rec;
}

int32_t rd_array_len(struct rd *r, bool compact, size_t min_elem_size)
{
	int64_t n = rd_len(r, compact, true);
	if (n == -1)
		return -1;
	if (n < 0 || n > INT32_MAX) {
		rd_fail(r);
		return 0;
	}
	/* Refuse counts the remaining bytes cannot hold, before any allocation. */
	if (min_elem_size > 0 && (uint64_t)n > rd_left(r) / min_elem_size) {
		rd_fail(r);
		return 0;
	}
	return (int32_t)n;
}

void rd_skip(struct rd *r, size_t n)
{
	(void)rd_take(r, n);
}

void rd_skip_tags(struct rd *r)
{
	uint32_t count = rd_uvarint(r);
	for (uint32_t i = 0; i < count && !r->err; i++) {
		(void)rd_uvarint(r); /* tag */
		uint32_t size = rd_uvarint(r);
		rd_skip(r, size);
	}
}

void wr_init(struct wr *w, struct buf *b)
{
	w->b = b;
	w->splices = NULL;
	w->nsplices = 0;
	w->cap_splices = 0;
}

void wr_release(struct wr *w)
{
	free(w->splices);
	w->splices = NULL;
	w->nsplices = 0;
	w->cap_splices = 0;
}

void wr_i8(struct wr *w, int8_t v)
{
	uint8_t *p = buf_reserve(w->b, 1);
	p[0] = (uint8_t)v;
	buf_advance(w->b, 1);
}

void wr_i16(struct wr *w, int16_t v)
{
	be16_store(buf_reserve(w->b, 2), (uint16_t)v);
	buf_advance(w->b, 2);
}

void wr_u16(struct wr *w, uint16_t v)
{
	be16_store(buf_reserve(w->b, 2), v);
	buf_advance(w->b, 2);
}

void wr_i32(struct wr *w, int32_t v)
{
	be32_store(buf_reserve(w->b, 4), (uint32_t)v);
	buf_advance(w->b, 4);
}

void wr_u32(struct wr *w, uint32_t v)
{
	be32_store(buf_reserve(w->b, 4), v);
	buf_advance(w->b, 4);
}

void wr_i64(struct wr *w, int64_t v)
{
	be64_store(buf_reserve(w->b, 8), (uint64_t)v);
	buf_advance(w->b, 8);
}

void wr_f64(struct wr *w, double v)
{
	uint64_t u;
	memcpy(&u, &v, sizeof(u));
	be64_store(buf_reserve(w->b, 8), u);
	buf_advance(w->b, 8);
}

void wr_bool(struct wr *w, bool v)
{
	wr_i8(w, v ? 1 : 0);
}

void wr_uuid(struct wr *w, struct kuuid v)
{
	buf_append(w->b, v.b, 16);
}

static void wr_base128(struct wr *w, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;
	while (v >= 0x80) {
		tmp[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (uint8_t)v;
	buf_append(w->b, tmp, n);
}

void wr_uvarint(struct wr *w, uint32_t v)
{
	wr_base128(w, v);
}

void wr_varint(struct wr *w, int32_t v)
{
	/* Arithmetic right shift spreads the sign bit (GCC/Clang behaviour). */
	wr_base128(w, ((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

void wr_varlong(struct wr *w, int64_t v)
{
	wr_base128(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* Length prefix for strings (int16) and bytes/records (int32); -1 = null. */
static void wr_len(struct wr *w, int32_t len, bool compact, bool wide)
{
	if (compact)
		wr_uvarint(w, len < 0 ? 0 : (uint32_t)len + 1);
	else if (wide)
		wr_i32(w, len < 0 ? -1 : len);
	else
		wr_i16(w, len < 0 ? -1 : (int16_t)len);
}

void wr_str(struct wr *w, struct kstr s, bool compact)
{
	wr_len(w, s.len, compact, false);
	if (s.len > 0)
		buf_append(w->b, s.ptr, (size_t)s.len);
}

void wr_bytes(struct wr *w, struct kbytes b, bool compact)
{
	wr_len(w, b.len, compact, true);
	if (b.len > 0)
		buf_append(w->b, b.ptr, (size_t)b.len);
}

void wr_records(struct wr *w, struct krecords r, bool compact)
{
	if (!r.file) {
		wr_len(w, r.len, compact, true);
		if (r.len > 0)
			buf_append(w->b, r.ptr, (size_t)r.len);
		return;
	}
	wr_len(w, r.file->len, compact, true);
	if (w->nsplices == w->cap_splices) {
		int cap = w->cap_splices ? w->cap_splices * 2 : 4;
		struct wire_splice *s = realloc(w->splices, (size_t)cap * sizeof(*s));
		if (!s)
			abort(); /* like buf.c: a few bytes we cannot get */
		w->splices = s;
		w->cap_splices = cap;
	}
	w->splices[w->nsplices].pos = w->b->len;
	w->splices[w->nsplices].file = r.file;
	w->nsplices++;
}

void wr_array_len(struct wr *w, int32_t n, bool compact)
{
	wr_len(w, n, compact, true);
}

void wr_empty_tags(struct wr *w)
{
	wr_uvarint(w, 0);
}

size_t wr_total(const struct wr *w)
{
	size_t n = w->b->len;
	for (int i = 0; i < w->nsplices; i++)
		if (w->splices[i].file->len > 0)
			n += (size_t)w->splices[i].file->len;
	return n;
}

struct kstr kstr_c(const char *s)
{
	struct kstr k = {NULL, -1};
	if (s) {
		k.ptr = s;
		k.len = (int32_t)strlen(s);
	}
	return k;
}

bool kstr_eq(struct kstr a, const char *s)
{
	if (!s || a.len < 0)
		return !s && a.len < 0;
	size_t n = strlen(s);
	return (size_t)a.len == n && (n == 0 || memcmp(a.ptr, s, n) == 0);
}
