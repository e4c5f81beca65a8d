/*
 * test_group.c: the pure parts of the group coordinator (src/group/):
 * Kafka's placement of a group (Java String.hashCode, Utils.abs), member id
 * generation, protocol selection, and the __consumer_offsets record formats
 * against hex vectors written by hand from Kafka's JSON schemas.
 *
 * Expected hashes were computed independently, over the UTF-16 code units
 * of each string with 32-bit wrap-around (h = 31 * h + unit), as Java does.
 * "polygenelubricants" is the well-known string whose hashCode is
 * Integer.MIN_VALUE, which Kafka's Utils.abs maps to 0.
 */
#include "unit.h"

#include "base/err.h"
#include "group/group_int.h"
#include "proto/batch.h"

static int32_t hash(const char *s)
{
	return gc_java_string_hash(s, strlen(s));
}

TEST(java_hash_known_values)
{
	CHECK_EQ_INT(hash(""), 0);
	CHECK_EQ_INT(hash("a"), 97);
	CHECK_EQ_INT(hash("abc"), 96354);
	CHECK_EQ_INT(hash("my-group"), -1906497762);
	CHECK_EQ_INT(hash("console-consumer-12345"), 158455506);
	CHECK_EQ_INT(hash("polygenelubricants"), INT32_MIN);
	CHECK_EQ_INT(hash("\xc3\xa9"), 233);               /* U+00E9 */
	CHECK_EQ_INT(hash("gr\xc3\xbcppe"), -1233264812);  /* "grüppe" */
	CHECK_EQ_INT(hash("\xf0\x9f\x98\x80x"), 54959989); /* U+1F600 as a surrogate pair, then x */
}

TEST(partition_for_group)
{
	CHECK_EQ_INT(gc_partition_for("a", 1, 50), 47);
	CHECK_EQ_INT(gc_partition_for("abc", 3, 50), 4);
	CHECK_EQ_INT(gc_partition_for("my-group", 8, 50), 12);
	CHECK_EQ_INT(gc_partition_for("console-consumer-12345", 22, 50), 6);
	CHECK_EQ_INT(gc_partition_for("polygenelubricants", 18, 50), 0);
	CHECK_EQ_INT(gc_partition_for("gr\xc3\xbcppe", 7, 50), 12);
	CHECK_EQ_INT(gc_partition_for("abc", 3, 1), 0);
}

TEST(member_id_format)
{
	char a[128], b[128];
	size_t n = gc_member_id_make(a, sizeof(a), "rdkafka", 7);
	gc_member_id_make(b, sizeof(b), "rdkafka", 7);
	CHECK_EQ_INT(n, strlen(a));
	CHECK_EQ_INT(n, 7 + 1 + 36);
	CHECK(memcmp(a, "rdkafka-", 8) == 0);
	CHECK(a[8 + 8] == '-' && a[8 + 13] == '-' && a[8 + 14] == '4' && a[8 + 18] == '-' &&
	      a[8 + 23] == '-');
	CHECK(strcmp(a, b) != 0);
	/* An empty prefix still gives a usable id; a long one is cut, never overflowed. */
	n = gc_member_id_make(a, sizeof(a), "", 0);
	CHECK_EQ_INT(n, 37);
	char big[1000];
	memset(big, 'x', sizeof(big));
	n = gc_member_id_make(a, sizeof(a), big, sizeof(big));
	CHECK_EQ_INT(n, sizeof(a) - 1);
}

static struct kstr K(const char *s) {
	return kstr_c(s);
}

TEST(protocol_selection)
{
	struct kstr m1[] = {K("range"), K("roundrobin")};
	struct kstr m2[] = {K("roundrobin"), K("range")};
	struct kstr m3[] = {K("roundrobin")};
	struct kstr m4[] = {K("cooperative-sticky")};
	{
		const struct kstr *names[] = {m1};
		int counts[] = {2};
		CHECK_EQ_INT(gc__select_protocol(1, names, counts), 0);
	}
	{
		/* One vote each: the tie goes to the first member's preference. */
		const struct kstr *names[] = {m1, m2};
		int counts[] = {2, 2};
		CHECK_EQ_INT(gc__select_protocol(2, names, counts), 0);
	}
	{
		/* roundrobin has two votes against one. */
		const struct kstr *names[] = {m1, m2, m2};
		int counts[] = {2, 2, 2};
		CHECK_EQ_INT(gc__select_protocol(3, names, counts), 1);
	}
	{
		/* Only roundrobin is common to all: every member votes for it. */
		const struct kstr *names[] = {m1, m3};
		int counts[] = {2, 1};
		CHECK_EQ_INT(gc__select_protocol(2, names, counts), 1);
	}
	{
		const struct kstr *names[] = {m1, m4};
		int counts[] = {2, 1};
		CHECK_EQ_INT(gc__select_protocol(2, names, counts), -1);
	}
	CHECK_EQ_INT(gc__select_protocol(0, NULL, NULL), -1);
}

static void encode_to(struct buf *b, void (*fn)(struct wr *, const void *), const void *arg)
{
	struct wr w;
	wr_init(&w, b);
	fn(&w, arg);
	wr_release(&w);
}

static int hexeq(const struct buf *b, const char *hex)
{
	size_t n = strlen(hex) / 2;
	if (b->len != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1 || b->data[i] != v)
			return 0;
	}
	return 1;
}

static void enc_offset_value(struct wr *w, const void *v)
{
	gcrec_offset_value_encode(w, v);
}

TEST(offset_key_and_value_vectors)
{
	struct buf b = BUF_INIT;
	struct wr w;
	wr_init(&w, &b);
	gcrec_offset_key_encode(&w, K("g"), K("t"), 1);
	wr_release(&w);
	/* version 1, "g", "t", partition 1 */
	CHECK(hexeq(&b, "0001"
	                "000167"
	                "000174"
	                "00000001"));
	struct gcrec_key k;
	CHECK_EQ_INT(gcrec_key_decode(b.data, b.len, &k), 0);
	CHECK_EQ_INT(k.version, 1);
	CHECK(kstr_eq(k.group, "g") && kstr_eq(k.topic, "t"));
	CHECK_EQ_INT(k.partition, 1);

	buf_reset(&b);
	wr_init(&w, &b);
	gcrec_group_key_encode(&w, K("grp"));
	wr_release(&w);
	CHECK(hexeq(&b, "0002"
	                "0003677270"));
	CHECK_EQ_INT(gcrec_key_decode(b.data, b.len, &k), 0);
	CHECK_EQ_INT(k.version, 2);
	CHECK(kstr_eq(k.group, "grp"));

	/* OffsetCommitValue v3: offset 5, leader epoch -1, metadata "", commit time 1000. */
	struct gcrec_offset v = {0, 5, -1, K(""), 1000, -1};
	buf_reset(&b);
	encode_to(&b, enc_offset_value, &v);
	CHECK(hexeq(&b, "0003"
	                "0000000000000005"
	                "ffffffff"
	                "0000"
	                "00000000000003e8"));
	struct gcrec_offset d;
	CHECK_EQ_INT(gcrec_offset_value_decode(b.data, b.len, &d), 0);
	CHECK_EQ_INT(d.version, 3);
	CHECK_EQ_INT(d.offset, 5);
	CHECK_EQ_INT(d.leader_epoch, -1);
	CHECK_EQ_INT(d.commit_ts, 1000);
	CHECK_EQ_INT(d.expire_ts, -1);

	/* With an explicit expiry, version 1 (as Kafka writes it). */
	struct gcrec_offset v1 = {0, 7, 3, K("md"), 10, 20};
	buf_reset(&b);
	encode_to(&b, enc_offset_value, &v1);
	CHECK(hexeq(&b, "0001"
	                "0000000000000007"
	                "0002"
	                "6d64"
	                "000000000000000a"
	                "0000000000000014"));
	CHECK_EQ_INT(gcrec_offset_value_decode(b.data, b.len, &d), 0);
	CHECK_EQ_INT(d.expire_ts, 20);
	CHECK_EQ_INT(d.leader_epoch, -1);
	CHECK(kstr_eq(d.metadata, "md"));
	buf_release(&b);
}

TEST(offset_value_other_versions)
{
	/* v0: offset 9, metadata "x", commit ts 2. */
	static const uint8_t v0[] = {0, 0,   0, 0, 0, 0, 0, 0, 0, 9, 0,
	                             1, 'x', 0, 0, 0, 0, 0, 0, 0, 2};
	struct gcrec_offset d;
	CHECK_EQ_INT(gcrec_offset_value_decode(v0, sizeof(v0), &d), 0);
	CHECK_EQ_INT(d.offset, 9);
	CHECK(kstr_eq(d.metadata, "x"));
	CHECK_EQ_INT(d.commit_ts, 2);
	/* v4 (flexible): offset 1, epoch 2, compact "" (0x01), commit ts 3, no tags. */
	static const uint8_t v4[] = {0, 4, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0,
	                             0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0};
	CHECK_EQ_INT(gcrec_offset_value_decode(v4, sizeof(v4), &d), 0);
	CHECK_EQ_INT(d.leader_epoch, 2);
	CHECK_EQ_INT(d.commit_ts, 3);
	CHECK(kstr_eq(d.metadata, ""));
	/* Truncated and unknown versions are errors, not crashes. */
	CHECK_EQ_INT(gcrec_offset_value_decode(v4, 9, &d), ERR_INVALID);
	static const uint8_t v9[] = {0, 9, 0, 0};
	CHECK_EQ_INT(gcrec_offset_value_decode(v9, sizeof(v9), &d), ERR_UNSUPPORTED);
	CHECK_EQ_INT(gcrec_offset_value_decode(v9, 1, &d), ERR_INVALID);
	static const uint8_t badkey[] = {0, 7, 0, 1, 'g'};
	struct gcrec_key k;
	CHECK_EQ_INT(gcrec_key_decode(badkey, sizeof(badkey), &k), ERR_UNSUPPORTED);
	static const uint8_t shortkey[] = {0, 1, 0, 5, 'g'};
	CHECK_EQ_INT(gcrec_key_decode(shortkey, sizeof(shortkey), &k), ERR_INVALID);
}

TEST(group_value_round_trip)
{
	struct gcrec_member m[2];
	memset(m, 0, sizeof(m));
	m[0].member_id = K("m1");
	m[0].instance_id = kstr_null();
	m[0].client_id = K("c");
	m[0].client_host = K("/h");
	m[0].rebalance_timeout_ms = 300000;
	m[0].session_timeout_ms = 10000;
	m[0].subscription.ptr = (const uint8_t *)"SUB";
	m[0].subscription.len = 3;
	m[0].assignment.ptr = (const uint8_t *)"AS";
	m[0].assignment.len = 2;
	m[1] = m[0];
	m[1].member_id = K("m2");
	m[1].instance_id = K("i2");
	struct gcrec_group g = {3, K("consumer"), 7, K("range"), K("m1"), 1234, 2, m};
	struct buf b = BUF_INIT;
	struct wr w;
	wr_init(&w, &b);
	gcrec_group_value_encode(&w, &g);
	wr_release(&w);
	/* The head, by hand: version 3, "consumer", generation 7, "range", "m1", ts 1234, 2
	 * members. */
	static const char head[] =
	    "0003"
	    "0008636f6e73756d6572"
	    "00000007"
	    "000572616e6765"
	    "00026d31"
	    "00000000000004d2"
	    "00000002"
	    /* member 1: "m1", null instance, "c", "/h", 300000, 10000, SUB, AS */
	    "00026d31"
	    "ffff"
	    "000163"
	    "00022f68"
	    "000493e0"
	    "00002710"
	    "00000003535542"
	    "000000024153";
	struct buf hb = BUF_INIT;
	buf_append(&hb, b.data, strlen(head) / 2);
	CHECK(hexeq(&hb, head));
	buf_release(&hb);

	struct arena a;
	arena_init(&a);
	struct gcrec_group d;
	CHECK_EQ_INT(gcrec_group_value_decode(b.data, b.len, &d, &a), 0);
	CHECK_EQ_INT(d.version, 3);
	CHECK(kstr_eq(d.protocol_type, "consumer") && kstr_eq(d.protocol, "range") &&
	      kstr_eq(d.leader, "m1"));
	CHECK_EQ_INT(d.generation, 7);
	CHECK_EQ_INT(d.state_ts, 1234);
	CHECK_EQ_INT(d.nmembers, 2);
	CHECK(kstr_eq(d.members[0].member_id, "m1") && d.members[0].instance_id.len == -1);
	CHECK(kstr_eq(d.members[1].member_id, "m2") && kstr_eq(d.members[1].instance_id, "i2"));
	CHECK_EQ_INT(d.members[1].rebalance_timeout_ms, 300000);
	CHECK_EQ_INT(d.members[1].session_timeout_ms, 10000);
	CHECK(d.members[1].subscription.len == 3 &&
	      !memcmp(d.members[1].subscription.ptr, "SUB", 3));
	CHECK(d.members[1].assignment.len == 2 && !memcmp(d.members[1].assignment.ptr, "AS", 2));
	/* Every truncation fails cleanly. */
	for (size_t n = 0; n < b.len; n++)
		CHECK(gcrec_group_value_decode(b.data, n, &d, &a) != 0);
	arena_release(&a);
	buf_release(&b);
}

TEST(group_value_v0)
{
	/* v0: "consumer", gen 1, null protocol, null leader, no members. */
	static const uint8_t v0[] = {0, 0, 0, 8, 'c',  'o',  'n',  's',  'u', 'm', 'e', 'r',
	                             0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0,   0,   0,   0};
	struct arena a;
	arena_init(&a);
	struct gcrec_group d;
	CHECK_EQ_INT(gcrec_group_value_decode(v0, sizeof(v0), &d, &a), 0);
	CHECK_EQ_INT(d.generation, 1);
	CHECK(d.protocol.len == -1 && d.leader.len == -1);
	CHECK_EQ_INT(d.state_ts, -1);
	CHECK_EQ_INT(d.nmembers, 0);
	arena_release(&a);
}

TEST(batch_of_records_validates)
{
	struct gcrec_batch b;
	gcrec_batch_init(&b);
	gcrec_batch_add(&b, (const uint8_t *)"k1", 2, (const uint8_t *)"v1", 2);
	gcrec_batch_add(&b, (const uint8_t *)"k2", 2, NULL, -1);
	gcrec_batch_finish(&b, 1700000000000LL);
	struct batch_header h;
	CHECK_EQ_INT(batch_validate(b.out.data, b.out.len, &h), 0);
	CHECK_EQ_INT(h.record_count, 2);
	CHECK_EQ_INT(h.producer_id, -1);
	struct batch_iter it;
	CHECK_EQ_INT(batch_iter_init(&it, b.out.data, b.out.len), 0);
	struct batch_record r;
	CHECK_EQ_INT(batch_iter_next(&it, &r), 1);
	CHECK(r.key_len == 2 && !memcmp(r.key, "k1", 2) && r.value_len == 2 &&
	      !memcmp(r.value, "v1", 2));
	CHECK_EQ_INT(r.timestamp, 1700000000000LL);
	CHECK_EQ_INT(batch_iter_next(&it, &r), 1);
	CHECK(r.key_len == 2 && r.value_len == -1 && r.offset == 1);
	CHECK_EQ_INT(batch_iter_next(&it, &r), 0);
	batch_iter_release(&it);
	gcrec_batch_release(&b);
}

int main(int argc, char **argv)
{
	return unit_main(argc, argv);
}
