/*
 * test_wire.c: the wire primitives of proto/wire.c against byte vectors
 * worked out by hand from RECORDS.md section 3: fixed-width integers,
 * (unsigned) varints and varlongs at their edges, plain and compact strings,
 * bytes and array counts, the sticky error, tag skipping, and the writer's
 * file splices. Message-level encodings are tested in test_codec.c.
 */
#include "unit.h"

#include "base/err.h"
#include "proto/wire.h"

/* Parses "0a ff 10" (spaces ignored) into out; returns the byte count. */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;
	for (; *s; s++) {
		int v;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			if (n >= cap)
				abort();
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		abort();
	return n;
}

/* True if the writer's buffer holds exactly the bytes of hex. */
static int buf_is(const struct buf *b, const char *hex)
{
	uint8_t want[256];
	size_t n = unhex(hex, want, sizeof(want));
	if (n != b->len || memcmp(want, b->data, n) != 0) {
		fprintf(stderr, "  got:  ");
		for (size_t i = 0; i < b->len; i++)
			fprintf(stderr, "%02x ", b->data[i]);
		fprintf(stderr, "\n  want: %s\n", hex);
		return 0;
	}
	return 1;
}

TEST(fixed_width_big_endian)
{
	struct buf b = BUF_INIT;
	struct wr w;
	wr_init(&w, &b);
	wr_i8(&w, -2);
	wr_i16(&w, 0x1234);
	wr_u16(&w, 0xfffe);
	wr_i32(&w, -1);
	wr_u32(&w, 0x80000001u);
	wr_i64(&w, 0x0102030405060708LL);
	wr_bool(&w, true);
	wr_f64(&w, 1.0);
	CHECK(buf_is(&b, "fe 1234 fffe ffffffff 80000001 0102030405060708 01 3ff0000000000000"));

	struct rd r;
	rd_init(&r, b.data, b.len);
	CHECK_EQ_INT(rd_i8(&r), -2);
	CHECK_EQ_INT(rd_i16(&r), 0x1234);
	CHECK_EQ_INT(rd_u16(&r), 0xfffe);
	CHECK_EQ_INT(rd_i32(&r), -1);
	CHECK(rd_u32(&r) == 0x80000001u);
	CHECK(rd_i64(&r) == 0x0102030405060708LL);
	CHECK(rd_bool(&r));
	CHECK(rd_f64(&r) == 1.0);
	CHECK_EQ_INT(rd_left(&r), 0);
	CHECK_EQ_INT(r.err, 0);
	wr_release(&w);
	buf_release(&b);
}

TEST(bool_nonzero_is_true)
{
	uint8_t in[] = {0x00, 0x01, 0x7f};
	struct rd r;
	rd_init(&r, in, sizeof(in));
	CHECK(!rd_bool(&r));
	CHECK(rd_bool(&r));
	CHECK(rd_bool(&r));
	CHECK_EQ_INT(r.err, 0);
}

TEST(uuid_roundtrip)
{
	struct kuuid u;
	for (int i = 0; i < 16; i++)
		u.b[i] = (uint8_t)(i * 17);
	struct buf b = BUF_INIT;
	struct wr w;
	wr_init(&w, &b);
	wr_uuid(&w, u);
	CHECK(buf_is(&b, "00112233445566778899aabbccddeeff"));
	struct rd r;
	rd_init(&r, b.data, b.len);
	struct kuuid v = rd_uuid(&r);
	CHECK(memcmp(u.b, v.b, 16) == 0);
	buf_release(&b);
}

/* Encodes one uvarint and compares with hex, then decodes it back. */
static void check_uvarint(uint32_t v, const char *hex)
{
	struct buf b = BUF_INIT;
	struct wr w;
	wr_init(&w, &b);
	wr_uvarint(&w, v);
	CHECK(buf_is(&b, hex));
	struct rd r;
	rd_init(&r, b.data, b.len);
	CHECK(rd_uvarint(&r) == v);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(rd_left(&r), 0);
	buf_release(&b);
}

TEST(uvarint_edges)
{
	check_uvarint(0, "00");
	check_uvarint(1, "01");
	check_uvarint(127, "7f");
	check_uvarint(128, "80 01");
	check_uvarint(300, "ac 02");
	check_uvarint(16383, "ff 7f");
	check_uvarint(16384, "80 80 01");
	check_uvarint(0x7fffffff, "ff ff ff ff 07");
	check_uvarint(0xffffffffu, "ff ff ff ff 0f");
}

static void check_varint(int32_t v, const char *hex)
{
	struct buf b = BUF_INIT;
	struct wr w;
	wr_init(&w, &b);
	wr_varint(&w, v);
	CHECK(buf_is(&b, hex));
	struct rd r;
	rd_init(&r, b.data, b.len);
	CHECK_EQ_INT(rd_varint(&r), v);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(rd_left(&r), 0);
	buf_release(&b);
}

TEST(varint_edges)
{
	/* Zig-zag: 0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3, ... */
	check_varint(0, "00");
	check_varint(-1, "01");
	check_varint(1, "02");
	check_varint(-2, "03");
	check_varint(63, "7e");
	check_varint(-64, "7f");
	check_varint(64, "80 01");
	check_varint(INT32_MAX, "fe ff ff ff 0f");
	check_varint(INT32_MIN, "ff ff ff ff 0f");
}

static void check_varlong(int64_t v, const char *hex)
{
	struct buf b = BUF_INIT;
	struct wr w;
	wr_init(&w, &b);
	wr_varlong(&w, v);
	CHECK(buf_is(&b, hex));
	struct rd r;
	rd_init(&r, b.data, b.len);
	CHECK(rd_varlong(&r) == v);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(rd_left(&r), 0);
	buf_release(&b);
}

TEST(varlong_edges)
{
	check_varlong(0, "00");
	check_varlong(-1, "01");
	check_varlong(1, "02");
	check_varlong(INT32_MAX, "fe ff ff ff 0f");
	check_varlong(INT32_MIN, "ff ff ff ff 0f");
	check_varlong((int64_t)INT32_MAX + 1, "80 80 80 80 10");
	check_varlong(INT64_MAX, "fe ff ff ff ff ff ff ff ff 01");
	check_varlong(INT64_MIN, "ff ff ff ff ff ff ff ff ff 01");
}

/* Decoding hex with fn must fail (set err) cleanly. */
static int fails_uvarint(const char *hex)
{
	uint8_t in[32];
	size_t n = unhex(hex, in, sizeof(in));
	struct rd r;
	rd_init(&r, in, n);
	uint32_t v = rd_uvarint(&r);
	return r.err == ERR_INVALID && v == 0;
}

static int fails_varlong(const char *hex)
{
	uint8_t in[32];
	size_t n = unhex(hex, in, sizeof(in));
	struct rd r;
	rd_init(&r, in, n);
	int64_t v = rd_varlong(&r);
	return r.err == ERR_INVALID && v == 0;
}

TEST(varint_malformed)
{
	CHECK(fails_uvarint(""));                                 /* empty */
	CHECK(fails_uvarint("80"));                               /* continuation, then end */
	CHECK(fails_uvarint("ff ff ff ff"));                      /* truncated at 4 bytes */
	CHECK(fails_uvarint("ff ff ff ff 10"));                   /* 33rd bit set */
	CHECK(fails_uvarint("ff ff ff ff 8f 01"));                /* 6 bytes */
	CHECK(fails_uvarint("80 80 80 80 80 00"));                /* overlong zero */
	CHECK(fails_varlong("ff ff ff ff ff ff ff ff ff 02"));    /* 65th bit */
	CHECK(fails_varlong("ff ff ff ff ff ff ff ff ff 81 00")); /* 11 bytes */
	CHECK(fails_varlong("ff ff"));
	/* A varint (zig-zag) uses the same 5-byte limit. */
	uint8_t in[] = {0xff, 0xff, 0xff, 0xff, 0x1f};
	struct rd r;
	rd_init(&r, in, sizeof(in));
	CHECK_EQ_INT(rd_varint(&r), 0);
	CHECK_EQ_INT(r.err, ERR_INVALID);
}

TEST(strings_plain_and_compact)
{
	struct buf b = BUF_INIT;
	struct wr w;
	wr_init(&w, &b);
	wr_str(&w, kstr_c("ab"), false); /* int16 2, "ab" */
	wr_str(&w, kstr_null(), false);  /* int16 -1 */
	wr_str(&w, kstr_c(""), false);   /* int16 0 */
	wr_str(&w, kstr_c("ab"), true);  /* uvarint 3, "ab" */
	wr_str(&w, kstr_null(), true);   /* uvarint 0 */
	wr_str(&w, kstr_c(""), true);    /* uvarint 1 */
	CHECK(buf_is(&b, "0002 6162  ffff  0000  03 6162  00  01"));

	struct rd r;
	rd_init(&r, b.data, b.len);
	struct kstr s = rd_str(&r, false);
	CHECK(kstr_eq(s, "ab"));
	s = rd_str(&r, false);
	CHECK_EQ_INT(s.len, -1);
	CHECK(kstr_eq(s, NULL));
	s = rd_str(&r, false);
	CHECK(kstr_eq(s, ""));
	s = rd_str(&r, true);
	CHECK(kstr_eq(s, "ab"));
	CHECK(s.ptr == (const char *)b.data + 9); /* points into the frame */
	s = rd_str(&r, true);
	CHECK_EQ_INT(s.len, -1);
	s = rd_str(&r, true);
	CHECK_EQ_INT(s.len, 0);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(rd_left(&r), 0);
	buf_release(&b);
}

TEST(strings_malformed)
{
	struct rd r;
	uint8_t neg[] = {0xff, 0xfe}; /* int16 -2 */
	rd_init(&r, neg, sizeof(neg));
	rd_str(&r, false);
	CHECK_EQ_INT(r.err, ERR_INVALID);

	uint8_t shortstr[] = {0x00, 0x05, 'a', 'b'}; /* 5 bytes announced, 2 present */
	rd_init(&r, shortstr, sizeof(shortstr));
	struct kstr s = rd_str(&r, false);
	CHECK_EQ_INT(r.err, ERR_INVALID);
	CHECK(s.ptr == NULL);

	uint8_t cshort[] = {0x06, 'a', 'b'}; /* compact: 5 bytes announced */
	rd_init(&r, cshort, sizeof(cshort));
	rd_str(&r, true);
	CHECK_EQ_INT(r.err, ERR_INVALID);

	uint8_t bneg[] = {0xff, 0xff, 0xff, 0xfe}; /* int32 -2 for bytes */
	rd_init(&r, bneg, sizeof(bneg));
	rd_bytes(&r, false);
	CHECK_EQ_INT(r.err, ERR_INVALID);

	uint8_t bhuge[] = {0x7f, 0xff, 0xff, 0xff, 0x00}; /* 2 GiB announced */
	rd_init(&r, bhuge, sizeof(bhuge));
	struct kbytes kb = rd_bytes(&r, false);
	CHECK_EQ_INT(r.err, ERR_INVALID);
	CHECK(kb.ptr == NULL);
}

TEST(bytes_and_records)
{
	static const uint8_t payload[] = {1, 2, 3};
	struct buf b = BUF_INIT;
	struct wr w;
	wr_init(&w, &b);
	struct kbytes kb = {payload, 3};
	struct kbytes nb = {NULL, -1};
	wr_bytes(&w, kb, false); /* int32 3 + bytes */
	wr_bytes(&w, nb, false); /* int32 -1 */
	wr_bytes(&w, kb, true);  /* uvarint 4 + bytes */
	wr_bytes(&w, nb, true);  /* uvarint 0 */
	struct krecords rec = {payload, 3, NULL};
	wr_records(&w, rec, true); /* like compact bytes */
	CHECK(buf_is(&b, "00000003 010203  ffffffff  04 010203  00  04 010203"));
	CHECK_EQ_INT(w.nsplices, 0);
	CHECK_EQ_INT(wr_total(&w), b.len);

	struct rd r;
	rd_init(&r, b.data, b.len);
	kb = rd_bytes(&r, false);
	CHECK_EQ_INT(kb.len, 3);
	CHECK(memcmp(kb.ptr, payload, 3) == 0);
	CHECK_EQ_INT(rd_bytes(&r, false).len, -1);
	CHECK_EQ_INT(rd_bytes(&r, true).len, 3);
	CHECK_EQ_INT(rd_bytes(&r, true).len, -1);
	struct krecords rr = rd_records(&r, true);
	CHECK_EQ_INT(rr.len, 3);
	CHECK(rr.file == NULL);
	CHECK_EQ_INT(r.err, 0);
	buf_release(&b);
}

TEST(array_len_forms)
{
	struct buf b = BUF_INIT;
	struct wr w;
	wr_init(&w, &b);
	wr_array_len(&w, 2, false);
	wr_array_len(&w, -1, false);
	wr_array_len(&w, 2, true);
	wr_array_len(&w, -1, true);
	wr_array_len(&w, 0, true);
	CHECK(buf_is(&b, "00000002 ffffffff 03 00 01"));
	struct rd r;
	rd_init(&r, b.data, b.len);
	CHECK_EQ_INT(rd_array_len(&r, false, 1), 2);
	CHECK_EQ_INT(rd_array_len(&r, false, 1), -1);
	CHECK_EQ_INT(rd_array_len(&r, true, 1), 2); /* 2 elements of >= 1 byte: 2 bytes left */
	CHECK_EQ_INT(rd_array_len(&r, true, 1), -1);
	CHECK_EQ_INT(rd_array_len(&r, true, 1), 0);
	CHECK_EQ_INT(r.err, 0);
	buf_release(&b);
}

TEST(array_len_absurd_counts)
{
	struct rd r;
	/* int32 0x7fffffff elements with 4 bytes left. */
	uint8_t big[] = {0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0};
	rd_init(&r, big, sizeof(big));
	CHECK_EQ_INT(rd_array_len(&r, false, 4), 0);
	CHECK_EQ_INT(r.err, ERR_INVALID);

	/* Exactly fitting is fine, one more is not. */
	uint8_t two[] = {0x00, 0x00, 0x00, 0x02, 1, 2, 3, 4, 5, 6, 7, 8};
	rd_init(&r, two, sizeof(two));
	CHECK_EQ_INT(rd_array_len(&r, false, 4), 2);
	CHECK_EQ_INT(r.err, 0);
	rd_init(&r, two, sizeof(two));
	CHECK_EQ_INT(rd_array_len(&r, false, 5), 0);
	CHECK_EQ_INT(r.err, ERR_INVALID);

	/* Negative counts other than -1. */
	uint8_t neg[] = {0xff, 0xff, 0xff, 0xfe};
	rd_init(&r, neg, sizeof(neg));
	rd_array_len(&r, false, 1);
	CHECK_EQ_INT(r.err, ERR_INVALID);
	uint8_t minint[] = {0x80, 0x00, 0x00, 0x00};
	rd_init(&r, minint, sizeof(minint));
	rd_array_len(&r, false, 1);
	CHECK_EQ_INT(r.err, ERR_INVALID);

	/* Compact: uvarint 0xffffffff means 2^32-2 elements. */
	uint8_t cbig[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x00};
	rd_init(&r, cbig, sizeof(cbig));
	CHECK_EQ_INT(rd_array_len(&r, true, 1), 0);
	CHECK_EQ_INT(r.err, ERR_INVALID);
	/* Compact 0x80000000 (N+1), i.e. INT32_MAX elements. */
	uint8_t cmax[] = {0x80, 0x80, 0x80, 0x80, 0x08};
	rd_init(&r, cmax, sizeof(cmax));
	CHECK_EQ_INT(rd_array_len(&r, true, 1), 0);
	CHECK_EQ_INT(r.err, ERR_INVALID);
}

TEST(sticky_error)
{
	uint8_t in[] = {0x00, 0x01, 0x02};
	struct rd r;
	rd_init(&r, in, sizeof(in));
	CHECK_EQ_INT(rd_i32(&r), 0); /* only 3 bytes */
	CHECK_EQ_INT(r.err, ERR_INVALID);
	/* Nothing further is read even though bytes remain. */
	CHECK_EQ_INT(rd_i8(&r), 0);
	CHECK_EQ_INT(rd_i16(&r), 0);
	CHECK_EQ_INT(rd_left(&r), 3);
	CHECK_EQ_INT(rd_str(&r, false).len, 0);
	CHECK_EQ_INT(rd_array_len(&r, true, 1), 0);
	CHECK_EQ_INT(r.err, ERR_INVALID);

	rd_init(&r, in, sizeof(in));
	rd_fail(&r);
	CHECK_EQ_INT(rd_i8(&r), 0);
	CHECK_EQ_INT(r.err, ERR_INVALID);
	rd_init(&r, in, sizeof(in));
	rd_skip(&r, 4);
	CHECK_EQ_INT(r.err, ERR_INVALID);
}

TEST(skip_tags)
{
	/* 2 tags: tag 0 size 2 (aa bb), tag 5 size 0; then a trailing int8 0x7f. */
	uint8_t in[] = {0x02, 0x00, 0x02, 0xaa, 0xbb, 0x05, 0x00, 0x7f};
	struct rd r;
	rd_init(&r, in, sizeof(in));
	rd_skip_tags(&r);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(rd_i8(&r), 0x7f);

	/* A tag claiming more bytes than remain. */
	uint8_t bad[] = {0x01, 0x00, 0x09, 0xaa};
	rd_init(&r, bad, sizeof(bad));
	rd_skip_tags(&r);
	CHECK_EQ_INT(r.err, ERR_INVALID);

	/* A huge tag count with nothing behind it stops at the end. */
	uint8_t many[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
	rd_init(&r, many, sizeof(many));
	rd_skip_tags(&r);
	CHECK_EQ_INT(r.err, ERR_INVALID);

	struct buf b = BUF_INIT;
	struct wr w;
	wr_init(&w, &b);
	wr_empty_tags(&w);
	CHECK(buf_is(&b, "00"));
	buf_release(&b);
}

static int released;
static void release_cb(void *ctx)
{
	(void)ctx;
	released++;
}

TEST(records_file_splice)
{
	struct wire_fileref f1 = {3, 4096, 100, release_cb, NULL};
	struct wire_fileref f2 = {3, 8192, 50, release_cb, NULL};
	struct buf b = BUF_INIT;
	struct wr w;
	wr_init(&w, &b);
	wr_i16(&w, 7);
	struct krecords r1 = {NULL, 100, &f1};
	wr_records(&w, r1, false); /* int32 100, then 100 file bytes */
	wr_i8(&w, 1);
	for (int i = 0; i < 5; i++) { /* enough to grow the splice array */
		struct krecords r2 = {NULL, 50, &f2};
		wr_records(&w, r2, true); /* uvarint 51, then 50 file bytes */
	}
	CHECK(buf_is(&b, "0007 00000064 01 33 33 33 33 33"));
	CHECK_EQ_INT(w.nsplices, 5 + 1);
	CHECK_EQ_INT(w.splices[0].pos, 6);
	CHECK(w.splices[0].file == &f1);
	CHECK_EQ_INT(w.splices[1].pos, 8);
	CHECK_EQ_INT(w.splices[5].pos, 12);
	CHECK_EQ_INT(wr_total(&w), b.len + 100 + 5 * 50);
	wr_release(&w);
	CHECK_EQ_INT(w.nsplices, 0);
	CHECK_EQ_INT(released, 0); /* wr_release never releases file references */
	buf_release(&b);
}

TEST(kstr_helpers)
{
	CHECK_EQ_INT(kstr_c(NULL).len, -1);
	CHECK_EQ_INT(kstr_c("abc").len, 3);
	CHECK(kstr_eq(kstr_c("abc"), "abc"));
	CHECK(!kstr_eq(kstr_c("abc"), "abd"));
	CHECK(!kstr_eq(kstr_c("abc"), "ab"));
	CHECK(!kstr_eq(kstr_null(), ""));
	CHECK(!kstr_eq(kstr_c(""), NULL));
	CHECK(kstr_eq(kstr_null(), NULL));
}

int main(int argc, char **argv)
{
	return unit_main(argc, argv);
}
