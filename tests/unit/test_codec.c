/*
 * test_codec.c: the generated codec (proto/gen) against byte vectors worked
 * out by hand from the JSON schemas and RECORDS.md (headers, compact forms,
 * tagged fields, null versus empty arrays, records and file splices), plus
 * encode/decode/re-encode round trips at every version of the core APIs and
 * a default-valued round trip of every generated message. Truncated input
 * and absurd counts must fail with ERR_INVALID without allocating.
 */
#include "unit.h"

#include "base/arena.h"
#include "base/err.h"
#include "proto/gen/kmsg.h"
#include "proto/wire.h"

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

static int bytes_are(const uint8_t *p, size_t n, const char *hex)
{
	uint8_t want[512];
	size_t wn = unhex(hex, want, sizeof(want));
	if (wn != n || memcmp(want, p, n) != 0) {
		fprintf(stderr, "  got:  ");
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "%02x", p[i]);
		fprintf(stderr, "\n  want: ");
		for (size_t i = 0; i < wn; i++)
			fprintf(stderr, "%02x", want[i]);
		fprintf(stderr, "\n");
		return 0;
	}
	return 1;
}

static struct kuuid uuid_n(uint8_t n)
{
	struct kuuid u;
	memset(u.b, n, sizeof(u.b));
	return u;
}

static int uuid_is(struct kuuid u, uint8_t n)
{
	struct kuuid v = uuid_n(n);
	return memcmp(u.b, v.b, 16) == 0;
}

/*
 * Encode src at version ver, decode into dst, check every byte was used,
 * re-encode dst and compare, then check that every shorter prefix fails.
 * The first encoding stays in keep (decoded strings point into it).
 */
#define ROUNDTRIP(T, ver, src, dst, ar, keep)                                                      \
	do {                                                                                       \
		struct buf b2_ = BUF_INIT;                                                         \
		struct wr w1_, w2_;                                                                \
		buf_init(&(keep));                                                                 \
		wr_init(&w1_, &(keep));                                                            \
		T##_encode(&w1_, (ver), (src));                                                    \
		struct rd r_;                                                                      \
		rd_init(&r_, (keep).data, (keep).len);                                             \
		CHECK_EQ_INT(T##_decode(&r_, (ver), (dst), (ar)), 0);                              \
		CHECK_EQ_INT(rd_left(&r_), 0);                                                     \
		wr_init(&w2_, &b2_);                                                               \
		T##_encode(&w2_, (ver), (dst));                                                    \
		CHECK_EQ_INT((keep).len, b2_.len);                                                 \
		CHECK(b2_.len == 0 || memcmp((keep).data, b2_.data, b2_.len) == 0);                \
		for (size_t l_ = 0; l_ < (keep).len; l_++) {                                       \
			struct T t_;                                                               \
			struct arena ta_;                                                          \
			arena_init(&ta_);                                                          \
			rd_init(&r_, (keep).data, l_);                                             \
			CHECK_EQ_INT(T##_decode(&r_, (ver), &t_, &ta_), ERR_INVALID);              \
			arena_release(&ta_);                                                       \
		}                                                                                  \
		wr_release(&w1_);                                                                  \
		wr_release(&w2_);                                                                  \
		buf_release(&b2_);                                                                 \
	} while (0)

/* ---------------------------------------------------------------- headers */

TEST(request_header_v1_v2)
{
	uint8_t in[64];
	struct request_header h;
	struct arena a;
	arena_init(&a);
	struct rd r;
	size_t n = unhex("0003"           /* api key 3 (Metadata) */
	                 "0001"           /* api version 1 */
	                 "0000002a"       /* correlation id 42 */
	                 "0004 74657374", /* client id "test" (int16 length) */
	                 in, sizeof(in));
	rd_init(&r, in, n);
	CHECK_EQ_INT(request_header_decode(&r, 1, &h, &a), 0);
	CHECK_EQ_INT(h.request_api_key, 3);
	CHECK_EQ_INT(h.request_api_version, 1);
	CHECK_EQ_INT(h.correlation_id, 42);
	CHECK(kstr_eq(h.client_id, "test"));
	CHECK_EQ_INT(rd_left(&r), 0);

	n = unhex("0003 0001 0000002a"
	          "ffff", /* null client id */
	          in, sizeof(in));
	rd_init(&r, in, n);
	CHECK_EQ_INT(request_header_decode(&r, 1, &h, &a), 0);
	CHECK_EQ_INT(h.client_id.len, -1);

	/* v2: client id keeps the int16 length ("flexibleVersions": "none"), then tags. */
	n = unhex("0012 0003 00000007"
	          "0007 72646b61666b61" /* "rdkafka", not compact */
	          "00",                 /* empty header tag section */
	          in, sizeof(in));
	rd_init(&r, in, n);
	CHECK_EQ_INT(request_header_decode(&r, 2, &h, &a), 0);
	CHECK_EQ_INT(h.request_api_key, 18);
	CHECK(kstr_eq(h.client_id, "rdkafka"));
	CHECK_EQ_INT(rd_left(&r), 0);

	/* v2 with an unknown tag (tag 5, 2 bytes) that must be skipped. */
	n = unhex("0012 0003 00000007 0001 78"
	          "01 05 02 aabb",
	          in, sizeof(in));
	rd_init(&r, in, n);
	CHECK_EQ_INT(request_header_decode(&r, 2, &h, &a), 0);
	CHECK(kstr_eq(h.client_id, "x"));
	CHECK_EQ_INT(rd_left(&r), 0);

	/* Truncated in the client id. */
	rd_init(&r, in, 9);
	CHECK_EQ_INT(request_header_decode(&r, 2, &h, &a), ERR_INVALID);
	rd_init(&r, in, n);
	CHECK_EQ_INT(request_header_decode(&r, 3, &h, &a), ERR_UNSUPPORTED);
	arena_release(&a);
}

TEST(response_header_encode)
{
	struct response_header h;
	response_header_init(&h);
	h.correlation_id = 0x01020304;
	struct buf b = BUF_INIT;
	struct wr w;
	wr_init(&w, &b);
	response_header_encode(&w, 0, &h);
	CHECK(bytes_are(b.data, b.len, "01020304"));
	buf_reset(&b);
	response_header_encode(&w, 1, &h);
	CHECK(bytes_are(b.data, b.len, "01020304 00"));
	buf_release(&b);
}

TEST(api_table)
{
	const struct kmsg_api *p = kmsg_api_find(0);
	CHECK(p != NULL);
	CHECK(strcmp(p->name, "Produce") == 0);
	CHECK_EQ_INT(p->min_version, 0);
	CHECK_EQ_INT(p->max_version, 13);
	CHECK_EQ_INT(p->flexible_min, 9);
	CHECK(kmsg_api_find(4) == NULL);
	CHECK(kmsg_api_find(34) == NULL);
	CHECK_EQ_INT(kmsg_api_find(17)->flexible_min, -1);
	CHECK_EQ_INT(kmsg_api_find(1)->min_version, 0);
	CHECK_EQ_INT(kmsg_api_find(1)->max_version, 18);
	CHECK(kmsg_api_find(22)->max_unstable);
	CHECK_EQ_INT(kmsg_napis, 40);

	CHECK_EQ_INT(kmsg_request_header_version(18, 2), 1);
	CHECK_EQ_INT(kmsg_request_header_version(18, 3), 2);
	CHECK_EQ_INT(kmsg_request_header_version(18, 9), 2);  /* too new: still v2 */
	CHECK_EQ_INT(kmsg_response_header_version(18, 3), 0); /* KIP-511 */
	CHECK_EQ_INT(kmsg_request_header_version(0, 8), 1);
	CHECK_EQ_INT(kmsg_request_header_version(0, 9), 2);
	CHECK_EQ_INT(kmsg_response_header_version(0, 9), 1);
	CHECK_EQ_INT(kmsg_response_header_version(3, 8), 0);
	CHECK_EQ_INT(kmsg_request_header_version(17, 1), 1);
	CHECK_EQ_INT(kmsg_response_header_version(17, 1), 0);
	CHECK_EQ_INT(kmsg_request_header_version(99, 0), -1);
	CHECK_EQ_INT(kmsg_response_header_version(99, 0), -1);
}

/* ------------------------------------------------------------ ApiVersions */

TEST(api_versions_request_v3_with_header)
{
	uint8_t in[128];
	size_t n = unhex("0012"                    /* api key 18 */
	                 "0003"                    /* version 3 */
	                 "00000001"                /* correlation id 1 */
	                 "0007 72646b61666b61"     /* client id "rdkafka" (int16 length) */
	                 "00"                      /* header tags */
	                 "0b 6c696272646b61666b61" /* ClientSoftwareName compact "librdkafka" */
	                 "06 322e302e32"           /* ClientSoftwareVersion compact "2.0.2" */
	                 "00",                     /* body tags */
	                 in, sizeof(in));
	struct arena a;
	arena_init(&a);
	struct rd r;
	rd_init(&r, in, n);
	struct request_header h;
	CHECK_EQ_INT(request_header_decode(&r, kmsg_request_header_version(18, 3), &h, &a), 0);
	CHECK_EQ_INT(h.request_api_version, 3);
	struct api_versions_request req;
	CHECK_EQ_INT(api_versions_request_decode(&r, h.request_api_version, &req, &a), 0);
	CHECK(kstr_eq(req.client_software_name, "librdkafka"));
	CHECK(kstr_eq(req.client_software_version, "2.0.2"));
	CHECK_EQ_INT(rd_left(&r), 0);

	/* v0 body is empty; defaults are empty strings. */
	rd_init(&r, in, 0);
	CHECK_EQ_INT(api_versions_request_decode(&r, 0, &req, &a), 0);
	CHECK_EQ_INT(req.client_software_name.len, 0);
	/* A version above the range is refused (the handler answers with v0). */
	CHECK_EQ_INT(api_versions_request_decode(&r, 5, &req, &a), ERR_UNSUPPORTED);
	arena_release(&a);
}

TEST(api_versions_response_v0_v3_encode)
{
	struct api_versions_response_api_version keys[1];
	api_versions_response_api_version_init(&keys[0]);
	keys[0].api_key = 18;
	keys[0].min_version = 0;
	keys[0].max_version = 4;
	struct api_versions_response m;
	api_versions_response_init(&m);
	m.n_api_keys = 1;
	m.api_keys = keys;
	m.throttle_time_ms = 0;

	struct buf b = BUF_INIT;
	struct wr w;
	wr_init(&w, &b);
	api_versions_response_encode(&w, 0, &m);
	CHECK(bytes_are(b.data, b.len,
	                "0000"           /* error code */
	                "00000001"       /* ApiKeys: int32 count 1 */
	                "0012 0000 0004" /* key 18, min 0, max 4 */
	                ));              /* v0 has no throttle time */

	buf_reset(&b);
	api_versions_response_encode(&w, 3, &m);
	CHECK(bytes_are(b.data, b.len,
	                "0000"              /* error code */
	                "02"                /* ApiKeys: compact count 1 */
	                "0012 0000 0004 00" /* entry + its tags */
	                "00000000"          /* throttle time */
	                "00"));             /* tags: all tagged fields at defaults */

	/* Non-default tagged fields are written in tag order. */
	m.finalized_features_epoch = 5;
	m.zk_migration_ready = true;
	buf_reset(&b);
	api_versions_response_encode(&w, 3, &m);
	CHECK(bytes_are(b.data, b.len,
	                "0000 02 0012 0000 0004 00 00000000"
	                "02"                     /* two tagged fields */
	                "01 08 0000000000000005" /* tag 1 FinalizedFeaturesEpoch, 8 bytes */
	                "03 01 01"));            /* tag 3 ZkMigrationReady, 1 byte */

	/* And they decode back. */
	struct arena a;
	arena_init(&a);
	struct rd r;
	rd_init(&r, b.data, b.len);
	struct api_versions_response d;
	CHECK_EQ_INT(api_versions_response_decode(&r, 3, &d, &a), 0);
	CHECK(d.finalized_features_epoch == 5);
	CHECK(d.zk_migration_ready);
	CHECK_EQ_INT(d.n_supported_features, 0);
	CHECK_EQ_INT(d.api_keys[0].max_version, 4);
	arena_release(&a);
	buf_release(&b);
}

/* --------------------------------------------------------------- Metadata */

TEST(metadata_request_null_vs_empty)
{
	struct arena a;
	arena_init(&a);
	struct metadata_request m;
	struct rd r;
	uint8_t in[64];
	size_t n;

	/* v0: an empty array means "all topics"; null is not allowed. */
	n = unhex("00000000", in, sizeof(in));
	rd_init(&r, in, n);
	CHECK_EQ_INT(metadata_request_decode(&r, 0, &m, &a), 0);
	CHECK_EQ_INT(m.n_topics, 0);
	n = unhex("ffffffff", in, sizeof(in));
	rd_init(&r, in, n);
	CHECK_EQ_INT(metadata_request_decode(&r, 0, &m, &a), ERR_INVALID);

	/* v1: null = all topics, empty = none. */
	rd_init(&r, in, n);
	CHECK_EQ_INT(metadata_request_decode(&r, 1, &m, &a), 0);
	CHECK_EQ_INT(m.n_topics, -1);
	n = unhex("00000000", in, sizeof(in));
	rd_init(&r, in, n);
	CHECK_EQ_INT(metadata_request_decode(&r, 1, &m, &a), 0);
	CHECK_EQ_INT(m.n_topics, 0);
	CHECK(m.allow_auto_topic_creation);                            /* v4+ field, default true */
	n = unhex("00000002 0003 666f6f 0003 626172", in, sizeof(in)); /* ["foo", "bar"] */
	rd_init(&r, in, n);
	CHECK_EQ_INT(metadata_request_decode(&r, 1, &m, &a), 0);
	CHECK_EQ_INT(m.n_topics, 2);
	CHECK(kstr_eq(m.topics[0].name, "foo"));
	CHECK(kstr_eq(m.topics[1].name, "bar"));

	/* v9: compact; 00 = null, 01 = empty. */
	n = unhex("00"  /* topics null */
	          "00"  /* AllowAutoTopicCreation false */
	          "01"  /* IncludeClusterAuthorizedOperations true */
	          "00"  /* IncludeTopicAuthorizedOperations false */
	          "00", /* tags */
	          in, sizeof(in));
	rd_init(&r, in, n);
	CHECK_EQ_INT(metadata_request_decode(&r, 9, &m, &a), 0);
	CHECK_EQ_INT(m.n_topics, -1);
	CHECK(!m.allow_auto_topic_creation);
	CHECK(m.include_cluster_authorized_operations);
	CHECK(!m.include_topic_authorized_operations);
	n = unhex("01 01 00 00 00", in, sizeof(in));
	rd_init(&r, in, n);
	CHECK_EQ_INT(metadata_request_decode(&r, 9, &m, &a), 0);
	CHECK_EQ_INT(m.n_topics, 0);
	n = unhex("02"           /* one topic */
	          "04 666f6f 00" /* name compact "foo", topic tags */
	          "01 00 01 00", /* auto-create, cluster ops, topic ops, tags */
	          in, sizeof(in));
	rd_init(&r, in, n);
	CHECK_EQ_INT(metadata_request_decode(&r, 9, &m, &a), 0);
	CHECK_EQ_INT(m.n_topics, 1);
	CHECK(kstr_eq(m.topics[0].name, "foo"));
	CHECK(m.include_topic_authorized_operations);
	/* v9: a null topic name is not allowed (nullable from v10). */
	n = unhex("02 00 00 01 00 01 00", in, sizeof(in));
	rd_init(&r, in, n);
	CHECK_EQ_INT(metadata_request_decode(&r, 9, &m, &a), ERR_INVALID);
	arena_release(&a);
}

/* ---------------------------------------------------------------- Produce */

TEST(produce_request_v3_v9_records)
{
	uint8_t in[128];
	struct arena a;
	arena_init(&a);
	struct produce_request m;
	struct rd r;
	size_t n = unhex("ffff"        /* TransactionalId null */
	                 "ffff"        /* Acks -1 */
	                 "00007530"    /* TimeoutMs 30000 */
	                 "00000001"    /* TopicData: 1 */
	                 "0003 666f6f" /*   Name "foo" */
	                 "00000001"    /*   PartitionData: 1 */
	                 "00000002"    /*     Index 2 */
	                 "0000000a"    /*     Records: 10 bytes */
	                 "00010203040506070809",
	                 in, sizeof(in));
	rd_init(&r, in, n);
	CHECK_EQ_INT(produce_request_decode(&r, 3, &m, &a), 0);
	CHECK_EQ_INT(m.transactional_id.len, -1);
	CHECK_EQ_INT(m.acks, -1);
	CHECK_EQ_INT(m.timeout_ms, 30000);
	CHECK_EQ_INT(m.n_topic_data, 1);
	CHECK(kstr_eq(m.topic_data[0].name, "foo"));
	CHECK_EQ_INT(m.topic_data[0].n_partition_data, 1);
	CHECK_EQ_INT(m.topic_data[0].partition_data[0].index, 2);
	struct krecords rec = m.topic_data[0].partition_data[0].records;
	CHECK_EQ_INT(rec.len, 10);
	CHECK(rec.ptr == in + n - 10); /* zero copy: points into the frame */
	CHECK(rec.file == NULL);
	CHECK_EQ_INT(rd_left(&r), 0);

	n = unhex("04 747878"     /* TransactionalId compact "txx" */
	          "0001"          /* Acks 1 */
	          "000003e8"      /* TimeoutMs 1000 */
	          "02"            /* TopicData: compact 1 */
	          "04 666f6f"     /*   Name compact "foo" */
	          "02"            /*   PartitionData: compact 1 */
	          "00000000"      /*     Index 0 */
	          "06 0102030405" /*     Records: compact 5 bytes */
	          "00"            /*     partition tags */
	          "00"            /*   topic tags */
	          "00",           /* body tags */
	          in, sizeof(in));
	rd_init(&r, in, n);
	CHECK_EQ_INT(produce_request_decode(&r, 9, &m, &a), 0);
	CHECK(kstr_eq(m.transactional_id, "txx"));
	CHECK_EQ_INT(m.acks, 1);
	CHECK_EQ_INT(m.timeout_ms, 1000);
	rec = m.topic_data[0].partition_data[0].records;
	CHECK_EQ_INT(rec.len, 5);
	CHECK(rec.ptr[0] == 1 && rec.ptr[4] == 5);
	CHECK_EQ_INT(rd_left(&r), 0);

	/* Every truncation of it fails cleanly. */
	for (size_t l = 0; l < n; l++) {
		rd_init(&r, in, l);
		CHECK_EQ_INT(produce_request_decode(&r, 9, &m, &a), ERR_INVALID);
	}
	arena_release(&a);
}

/* ------------------------------------------------------------------ Fetch */

static int released;
static void release_cb(void *ctx)
{
	(void)ctx;
	released++;
}

/* A fetch response with one topic "foo", one partition, records from a file. */
static void fetch_response_one(struct fetch_response *m,
                               struct fetch_response_fetchable_topic_response *t,
                               struct fetch_response_partition_data *p, struct wire_fileref *f)
{
	fetch_response_init(m);
	fetch_response_fetchable_topic_response_init(t);
	fetch_response_partition_data_init(p);
	p->partition_index = 0;
	p->high_watermark = 0x100;
	p->last_stable_offset = 0x100;
	p->log_start_offset = 0;
	p->n_aborted_transactions = -1;
	p->records.file = f;
	p->records.len = f->len;
	t->topic = kstr_c("foo");
	t->n_partitions = 1;
	t->partitions = p;
	m->n_responses = 1;
	m->responses = t;
}

TEST(fetch_response_v4_v12_file_splice)
{
	struct wire_fileref f = {5, 0, 100, release_cb, NULL};
	struct fetch_response m;
	struct fetch_response_fetchable_topic_response t;
	struct fetch_response_partition_data p;
	fetch_response_one(&m, &t, &p, &f);

	struct buf b = BUF_INIT;
	struct wr w;
	wr_init(&w, &b);
	fetch_response_encode(&w, 4, &m);
	CHECK(bytes_are(b.data, b.len,
	                "00000000"         /* ThrottleTimeMs */
	                "00000001"         /* Responses: 1 */
	                "0003 666f6f"      /*   Topic "foo" */
	                "00000001"         /*   Partitions: 1 */
	                "00000000"         /*     PartitionIndex */
	                "0000"             /*     ErrorCode */
	                "0000000000000100" /*     HighWatermark */
	                "0000000000000100" /*     LastStableOffset (v4+) */
	                "ffffffff"         /*     AbortedTransactions null */
	                "00000064"));      /*     Records: 100 bytes, from the file */
	CHECK_EQ_INT(w.nsplices, 1);
	CHECK_EQ_INT(w.splices[0].pos, b.len);
	CHECK(w.splices[0].file == &f);
	CHECK_EQ_INT(wr_total(&w), b.len + 100);
	wr_release(&w);

	buf_reset(&b);
	wr_init(&w, &b);
	fetch_response_encode(&w, 12, &m);
	CHECK(bytes_are(b.data, b.len,
	                "00000000"         /* ThrottleTimeMs */
	                "0000"             /* ErrorCode (v7+) */
	                "00000000"         /* SessionId (v7+) */
	                "02"               /* Responses: compact 1 */
	                "04 666f6f"        /*   Topic compact "foo" (until v12) */
	                "02"               /*   Partitions: compact 1 */
	                "00000000"         /*     PartitionIndex */
	                "0000"             /*     ErrorCode */
	                "0000000000000100" /*     HighWatermark */
	                "0000000000000100" /*     LastStableOffset */
	                "0000000000000000" /*     LogStartOffset (v5+) */
	                "00"               /*     AbortedTransactions: compact null */
	                "ffffffff"         /*     PreferredReadReplica -1 (v11+) */
	                "65"               /*     Records: compact 100 (+1), file follows */
	                "00"               /*     partition tags */
	                "00"               /*   topic tags */
	                "00"));            /* body tags */
	CHECK_EQ_INT(w.nsplices, 1);
	CHECK_EQ_INT(w.splices[0].pos, b.len - 3); /* file bytes go before the three tag bytes */
	CHECK_EQ_INT(wr_total(&w), b.len + 100);

	/* A diverging epoch (tag 0) now appears in the partition's tag section. */
	p.diverging_epoch.epoch = 2;
	p.diverging_epoch.end_offset = 9;
	buf_reset(&b);
	w.nsplices = 0;
	fetch_response_encode(&w, 12, &m);
	CHECK(bytes_are(b.data + b.len - 19, 19,
	                "65"                        /* records length */
	                "01"                        /* one tag */
	                "00 0d"                     /* tag 0, 13 bytes */
	                "00000002 0000000000000009" /* epoch 2, end offset 9 */
	                "00"                        /* the nested struct's own tags */
	                "00 00"));
	CHECK_EQ_INT(released, 0);
	wr_release(&w);
	buf_release(&b);
}

/* ----------------------------------------------------------- CreateTopics */

TEST(create_topics_request_v5_configs)
{
	uint8_t in[160];
	size_t n = unhex("02"                              /* Topics: compact 1 */
	                 "04 666f6f"                       /*   Name "foo" */
	                 "00000003"                        /*   NumPartitions 3 */
	                 "0001"                            /*   ReplicationFactor 1 */
	                 "01"                              /*   Assignments: empty */
	                 "03"                              /*   Configs: compact 2 */
	                 "0f 636c65616e75702e706f6c696379" /* Name "cleanup.policy" */
	                 "08 636f6d70616374"               /*     Value "compact" */
	                 "00"                              /*     config tags */
	                 "0d 726574656e74696f6e2e6d73"     /*     Name "retention.ms" */
	                 "00"                              /*     Value null */
	                 "00"                              /*     config tags */
	                 "00"                              /*   topic tags */
	                 "00002710"                        /* timeoutMs 10000 */
	                 "01"                              /* validateOnly true */
	                 "00",                             /* body tags */
	                 in, sizeof(in));
	struct arena a;
	arena_init(&a);
	struct rd r;
	rd_init(&r, in, n);
	struct create_topics_request m;
	CHECK_EQ_INT(create_topics_request_decode(&r, 5, &m, &a), 0);
	CHECK_EQ_INT(rd_left(&r), 0);
	CHECK_EQ_INT(m.n_topics, 1);
	struct create_topics_request_creatable_topic *t = &m.topics[0];
	CHECK(kstr_eq(t->name, "foo"));
	CHECK_EQ_INT(t->num_partitions, 3);
	CHECK_EQ_INT(t->replication_factor, 1);
	CHECK_EQ_INT(t->n_assignments, 0);
	CHECK_EQ_INT(t->n_configs, 2);
	CHECK(kstr_eq(t->configs[0].name, "cleanup.policy"));
	CHECK(kstr_eq(t->configs[0].value, "compact"));
	CHECK(kstr_eq(t->configs[1].name, "retention.ms"));
	CHECK_EQ_INT(t->configs[1].value.len, -1);
	CHECK_EQ_INT(m.timeout_ms, 10000);
	CHECK(m.validate_only);

	/* Re-encoding gives the same bytes. */
	struct buf b = BUF_INIT;
	struct wr w;
	wr_init(&w, &b);
	create_topics_request_encode(&w, 5, &m);
	CHECK_EQ_INT(b.len, n);
	CHECK(memcmp(b.data, in, n) == 0);
	buf_release(&b);

	/* Defaults: timeoutMs 60000. */
	create_topics_request_init(&m);
	CHECK_EQ_INT(m.timeout_ms, 60000);
	arena_release(&a);
}

/* --------------------------------------------------------- hostile input */

TEST(absurd_counts_allocate_nothing)
{
	struct arena a;
	arena_init(&a);
	struct rd r;
	uint8_t in[32];
	size_t n;

	struct metadata_request mr;
	n = unhex("7fffffff 0003 666f6f", in, sizeof(in)); /* 2^31-1 topics, 5 bytes */
	rd_init(&r, in, n);
	CHECK_EQ_INT(metadata_request_decode(&r, 1, &mr, &a), ERR_INVALID);
	CHECK_EQ_INT(a.total, 0);

	n = unhex("ffffffff0f 00 00 00 00", in, sizeof(in)); /* compact 2^32-2 topics */
	rd_init(&r, in, n);
	CHECK_EQ_INT(metadata_request_decode(&r, 9, &mr, &a), ERR_INVALID);
	CHECK_EQ_INT(a.total, 0);

	struct produce_request pr;
	n = unhex("ffff ffff 00007530 7fffffff 0000", in, sizeof(in));
	rd_init(&r, in, n);
	CHECK_EQ_INT(produce_request_decode(&r, 3, &pr, &a), ERR_INVALID);
	CHECK_EQ_INT(a.total, 0);

	/* -2 is not a valid count. */
	n = unhex("fffffffe", in, sizeof(in));
	rd_init(&r, in, n);
	CHECK_EQ_INT(metadata_request_decode(&r, 1, &mr, &a), ERR_INVALID);

	/* Fetch v12 tag section claiming more bytes than remain. */
	struct fetch_request fr;
	n = unhex("01 00 40 41", in, sizeof(in));
	rd_init(&r, in, n);
	CHECK_EQ_INT(fetch_request_decode(&r, 12, &fr, &a), ERR_INVALID);

	/* String length past the end. */
	struct api_versions_request ar;
	n = unhex("0b 6c69", in, sizeof(in));
	rd_init(&r, in, n);
	CHECK_EQ_INT(api_versions_request_decode(&r, 3, &ar, &a), ERR_INVALID);
	CHECK_EQ_INT(a.total, 0);
	arena_release(&a);
}

/* ------------------------------------------------------------ round trips */

static const uint8_t recbytes[10] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0};

TEST(roundtrip_produce)
{
	for (int16_t v = 0; v <= 13; v++) {
		struct produce_request_partition_produce_data pd[2];
		struct produce_request_topic_produce_data td;
		struct produce_request m, d;
		produce_request_init(&m);
		produce_request_topic_produce_data_init(&td);
		for (int i = 0; i < 2; i++) {
			produce_request_partition_produce_data_init(&pd[i]);
			pd[i].index = i + 4;
		}
		pd[0].records.ptr = recbytes;
		pd[0].records.len = 10;
		td.name = kstr_c("foo");
		td.topic_id = uuid_n(7);
		td.n_partition_data = 2;
		td.partition_data = pd;
		m.transactional_id = kstr_c("txn");
		m.acks = -1;
		m.timeout_ms = 1500;
		m.n_topic_data = 1;
		m.topic_data = &td;
		struct arena a;
		arena_init(&a);
		struct buf keep;
		ROUNDTRIP(produce_request, v, &m, &d, &a, keep);
		CHECK_EQ_INT(d.acks, -1);
		CHECK_EQ_INT(d.timeout_ms, 1500);
		CHECK(v >= 3 ? kstr_eq(d.transactional_id, "txn") : d.transactional_id.len == -1);
		CHECK_EQ_INT(d.n_topic_data, 1);
		CHECK(v <= 12 ? kstr_eq(d.topic_data[0].name, "foo")
		              : uuid_is(d.topic_data[0].topic_id, 7));
		CHECK_EQ_INT(d.topic_data[0].n_partition_data, 2);
		CHECK_EQ_INT(d.topic_data[0].partition_data[1].index, 5);
		CHECK_EQ_INT(d.topic_data[0].partition_data[0].records.len, 10);
		CHECK(memcmp(d.topic_data[0].partition_data[0].records.ptr, recbytes, 10) == 0);
		CHECK_EQ_INT(d.topic_data[0].partition_data[1].records.len, -1);
		buf_release(&keep);
		arena_release(&a);
	}
	for (int16_t v = 0; v <= 13; v++) {
		struct produce_response_batch_index_and_error_message be;
		struct produce_response_partition_produce_response pr;
		struct produce_response_topic_produce_response tr;
		struct produce_response_node_endpoint ne;
		struct produce_response m, d;
		produce_response_init(&m);
		produce_response_topic_produce_response_init(&tr);
		produce_response_partition_produce_response_init(&pr);
		produce_response_batch_index_and_error_message_init(&be);
		produce_response_node_endpoint_init(&ne);
		be.batch_index = 3;
		be.batch_index_error_message = kstr_c("bad");
		pr.index = 1;
		pr.error_code = 6;
		pr.base_offset = 42;
		pr.log_append_time_ms = 1234;
		pr.log_start_offset = 7;
		pr.n_record_errors = 1;
		pr.record_errors = &be;
		pr.error_message = kstr_c("msg");
		pr.current_leader.leader_id = 2;
		pr.current_leader.leader_epoch = 9;
		tr.name = kstr_c("foo");
		tr.topic_id = uuid_n(3);
		tr.n_partition_responses = 1;
		tr.partition_responses = &pr;
		ne.node_id = 2;
		ne.host = kstr_c("h2");
		ne.port = 9093;
		m.n_responses = 1;
		m.responses = &tr;
		m.throttle_time_ms = 11;
		m.n_node_endpoints = 1;
		m.node_endpoints = &ne;
		struct arena a;
		arena_init(&a);
		struct buf keep;
		ROUNDTRIP(produce_response, v, &m, &d, &a, keep);
		struct produce_response_partition_produce_response *q =
		    &d.responses[0].partition_responses[0];
		CHECK_EQ_INT(q->base_offset, 42);
		CHECK_EQ_INT(q->error_code, 6);
		CHECK_EQ_INT(q->log_append_time_ms, v >= 2 ? 1234 : -1);
		CHECK_EQ_INT(q->log_start_offset, v >= 5 ? 7 : -1);
		CHECK_EQ_INT(q->n_record_errors, v >= 8 ? 1 : 0);
		CHECK(v < 8 || kstr_eq(q->record_errors[0].batch_index_error_message, "bad"));
		CHECK(v >= 8 ? kstr_eq(q->error_message, "msg") : q->error_message.len == -1);
		CHECK_EQ_INT(q->current_leader.leader_epoch, v >= 10 ? 9 : -1);
		CHECK_EQ_INT(d.throttle_time_ms, v >= 1 ? 11 : 0);
		CHECK_EQ_INT(d.n_node_endpoints, v >= 10 ? 1 : 0);
		CHECK(v < 10 || (d.node_endpoints[0].port == 9093 &&
		                 kstr_eq(d.node_endpoints[0].host, "h2") &&
		                 d.node_endpoints[0].rack.len == -1));
		buf_release(&keep);
		arena_release(&a);
	}
}

TEST(roundtrip_fetch)
{
	for (int16_t v = 0; v <= 18; v++) {
		struct fetch_request_fetch_partition fp;
		struct fetch_request_fetch_topic ft;
		struct fetch_request_forgotten_topic fg;
		int32_t forgotten_parts[2] = {1, 2};
		struct fetch_request m, d;
		fetch_request_init(&m);
		fetch_request_fetch_topic_init(&ft);
		fetch_request_fetch_partition_init(&fp);
		fetch_request_forgotten_topic_init(&fg);
		fp.partition = 3;
		fp.current_leader_epoch = 4;
		fp.fetch_offset = 100;
		fp.last_fetched_epoch = 3;
		fp.log_start_offset = 1;
		fp.partition_max_bytes = 1 << 20;
		fp.replica_directory_id = uuid_n(9);
		fp.high_watermark = 77;
		ft.topic = kstr_c("foo");
		ft.topic_id = uuid_n(1);
		ft.n_partitions = 1;
		ft.partitions = &fp;
		fg.topic = kstr_c("bar");
		fg.topic_id = uuid_n(2);
		fg.n_partitions = 2;
		fg.partitions = forgotten_parts;
		m.cluster_id = kstr_c("cid");
		m.replica_id = -1;
		m.replica_state.replica_id = 5;
		m.replica_state.replica_epoch = 6;
		m.max_wait_ms = 500;
		m.min_bytes = 1;
		m.max_bytes = 50 << 20;
		m.isolation_level = 1;
		m.session_id = 8;
		m.session_epoch = 2;
		m.n_topics = 1;
		m.topics = &ft;
		m.n_forgotten_topics_data = 1;
		m.forgotten_topics_data = &fg;
		m.rack_id = kstr_c("r1");
		struct arena a;
		arena_init(&a);
		struct buf keep;
		ROUNDTRIP(fetch_request, v, &m, &d, &a, keep);
		CHECK_EQ_INT(d.max_wait_ms, 500);
		CHECK_EQ_INT(d.replica_id, v <= 14 ? -1 : -1);
		CHECK_EQ_INT(d.replica_state.replica_id, v >= 15 ? 5 : -1);
		CHECK_EQ_INT(d.isolation_level, v >= 4 ? 1 : 0);
		CHECK_EQ_INT(d.session_epoch, v >= 7 ? 2 : -1);
		CHECK(v >= 12 ? kstr_eq(d.cluster_id, "cid") : d.cluster_id.len == -1);
		CHECK(v >= 11 ? kstr_eq(d.rack_id, "r1") : kstr_eq(d.rack_id, ""));
		CHECK_EQ_INT(d.n_topics, 1);
		CHECK(v <= 12 ? kstr_eq(d.topics[0].topic, "foo")
		              : uuid_is(d.topics[0].topic_id, 1));
		struct fetch_request_fetch_partition *q = &d.topics[0].partitions[0];
		CHECK_EQ_INT(q->fetch_offset, 100);
		CHECK_EQ_INT(q->current_leader_epoch, v >= 9 ? 4 : -1);
		CHECK_EQ_INT(q->last_fetched_epoch, v >= 12 ? 3 : -1);
		CHECK(v >= 17 ? uuid_is(q->replica_directory_id, 9)
		              : uuid_is(q->replica_directory_id, 0));
		CHECK(q->high_watermark == (v >= 18 ? 77 : INT64_MAX));
		CHECK_EQ_INT(d.n_forgotten_topics_data, v >= 7 ? 1 : 0);
		CHECK(v < 7 || (d.forgotten_topics_data[0].n_partitions == 2 &&
		                d.forgotten_topics_data[0].partitions[1] == 2));
		buf_release(&keep);
		arena_release(&a);
	}
	for (int16_t v = 0; v <= 18; v++) {
		struct fetch_response_aborted_transaction at;
		struct fetch_response_partition_data pd;
		struct fetch_response_fetchable_topic_response tr;
		struct fetch_response_node_endpoint ne;
		struct fetch_response m, d;
		fetch_response_init(&m);
		fetch_response_fetchable_topic_response_init(&tr);
		fetch_response_partition_data_init(&pd);
		fetch_response_aborted_transaction_init(&at);
		fetch_response_node_endpoint_init(&ne);
		at.producer_id = 9;
		at.first_offset = 80;
		pd.partition_index = 2;
		pd.high_watermark = 100;
		pd.last_stable_offset = 90;
		pd.log_start_offset = 3;
		pd.diverging_epoch.epoch = 1;
		pd.diverging_epoch.end_offset = 50;
		pd.current_leader.leader_id = 4;
		pd.snapshot_id.epoch = 7;
		pd.n_aborted_transactions = 1;
		pd.aborted_transactions = &at;
		pd.preferred_read_replica = 3;
		pd.records.ptr = recbytes;
		pd.records.len = 10;
		tr.topic = kstr_c("foo");
		tr.topic_id = uuid_n(4);
		tr.n_partitions = 1;
		tr.partitions = &pd;
		ne.node_id = 1;
		ne.host = kstr_c("h");
		ne.port = 1;
		ne.rack = kstr_c("rk");
		m.throttle_time_ms = 5;
		m.error_code = 0;
		m.session_id = 12;
		m.n_responses = 1;
		m.responses = &tr;
		m.n_node_endpoints = 1;
		m.node_endpoints = &ne;
		struct arena a;
		arena_init(&a);
		struct buf keep;
		ROUNDTRIP(fetch_response, v, &m, &d, &a, keep);
		CHECK_EQ_INT(d.throttle_time_ms, v >= 1 ? 5 : 0);
		CHECK_EQ_INT(d.session_id, v >= 7 ? 12 : 0);
		CHECK(v <= 12 ? kstr_eq(d.responses[0].topic, "foo")
		              : uuid_is(d.responses[0].topic_id, 4));
		struct fetch_response_partition_data *q = &d.responses[0].partitions[0];
		CHECK_EQ_INT(q->partition_index, 2);
		CHECK_EQ_INT(q->high_watermark, 100);
		CHECK_EQ_INT(q->last_stable_offset, v >= 4 ? 90 : -1);
		CHECK_EQ_INT(q->diverging_epoch.end_offset, v >= 12 ? 50 : -1);
		CHECK_EQ_INT(q->current_leader.leader_id, v >= 12 ? 4 : -1);
		CHECK_EQ_INT(q->snapshot_id.epoch, v >= 12 ? 7 : -1);
		CHECK_EQ_INT(q->n_aborted_transactions, v >= 4 ? 1 : 0);
		CHECK(v < 4 || q->aborted_transactions[0].first_offset == 80);
		CHECK_EQ_INT(q->preferred_read_replica, v >= 11 ? 3 : -1);
		CHECK_EQ_INT(q->records.len, 10);
		CHECK(memcmp(q->records.ptr, recbytes, 10) == 0);
		CHECK_EQ_INT(d.n_node_endpoints, v >= 16 ? 1 : 0);
		CHECK(v < 16 || kstr_eq(d.node_endpoints[0].rack, "rk"));
		buf_release(&keep);
		arena_release(&a);
	}
}

TEST(roundtrip_metadata)
{
	for (int16_t v = 0; v <= 13; v++) {
		struct metadata_request_metadata_request_topic t;
		struct metadata_request m, d;
		metadata_request_init(&m);
		metadata_request_metadata_request_topic_init(&t);
		t.name = kstr_c("foo");
		t.topic_id = uuid_n(5);
		m.n_topics = 1;
		m.topics = &t;
		m.allow_auto_topic_creation = false;
		m.include_cluster_authorized_operations = true;
		m.include_topic_authorized_operations = true;
		struct arena a;
		arena_init(&a);
		struct buf keep;
		ROUNDTRIP(metadata_request, v, &m, &d, &a, keep);
		CHECK_EQ_INT(d.n_topics, 1);
		CHECK(kstr_eq(d.topics[0].name, "foo"));
		CHECK(v >= 10 ? uuid_is(d.topics[0].topic_id, 5)
		              : uuid_is(d.topics[0].topic_id, 0));
		CHECK(d.allow_auto_topic_creation == (v < 4));
		CHECK(d.include_cluster_authorized_operations == (v >= 8 && v <= 10));
		CHECK(d.include_topic_authorized_operations == (v >= 8));
		buf_release(&keep);
		arena_release(&a);
	}
	for (int16_t v = 0; v <= 13; v++) {
		int32_t replicas[2] = {1, 2};
		struct metadata_response_metadata_response_broker br;
		struct metadata_response_metadata_response_partition pa;
		struct metadata_response_metadata_response_topic tp;
		struct metadata_response m, d;
		metadata_response_init(&m);
		metadata_response_metadata_response_broker_init(&br);
		metadata_response_metadata_response_partition_init(&pa);
		metadata_response_metadata_response_topic_init(&tp);
		br.node_id = 1;
		br.host = kstr_c("localhost");
		br.port = 9092;
		br.rack = kstr_c("r");
		pa.partition_index = 0;
		pa.leader_id = 1;
		pa.leader_epoch = 2;
		pa.n_replica_nodes = 2;
		pa.replica_nodes = replicas;
		pa.n_isr_nodes = 1;
		pa.isr_nodes = replicas;
		tp.name = kstr_c("foo");
		tp.topic_id = uuid_n(6);
		tp.is_internal = true;
		tp.n_partitions = 1;
		tp.partitions = &pa;
		tp.topic_authorized_operations = 0x10;
		m.throttle_time_ms = 1;
		m.n_brokers = 1;
		m.brokers = &br;
		m.cluster_id = kstr_c("cluster");
		m.controller_id = 1;
		m.n_topics = 1;
		m.topics = &tp;
		m.cluster_authorized_operations = 0x20;
		m.error_code = 0;
		struct arena a;
		arena_init(&a);
		struct buf keep;
		ROUNDTRIP(metadata_response, v, &m, &d, &a, keep);
		CHECK_EQ_INT(d.n_brokers, 1);
		CHECK(kstr_eq(d.brokers[0].host, "localhost"));
		CHECK_EQ_INT(d.brokers[0].port, 9092);
		CHECK(v >= 1 ? kstr_eq(d.brokers[0].rack, "r") : d.brokers[0].rack.len == -1);
		CHECK(v >= 2 ? kstr_eq(d.cluster_id, "cluster") : d.cluster_id.len == -1);
		CHECK_EQ_INT(d.controller_id, v >= 1 ? 1 : -1);
		CHECK(kstr_eq(d.topics[0].name, "foo"));
		CHECK(d.topics[0].is_internal == (v >= 1));
		CHECK_EQ_INT(d.topics[0].partitions[0].n_replica_nodes, 2);
		CHECK_EQ_INT(d.topics[0].partitions[0].replica_nodes[1], 2);
		CHECK_EQ_INT(d.topics[0].partitions[0].leader_epoch, v >= 7 ? 2 : -1);
		CHECK_EQ_INT(d.topics[0].topic_authorized_operations, v >= 8 ? 0x10 : INT32_MIN);
		CHECK_EQ_INT(d.cluster_authorized_operations,
		             (v >= 8 && v <= 10) ? 0x20 : INT32_MIN);
		buf_release(&keep);
		arena_release(&a);
	}
}

TEST(roundtrip_list_offsets)
{
	for (int16_t v = 0; v <= 11; v++) {
		struct list_offsets_request_list_offsets_partition p;
		struct list_offsets_request_list_offsets_topic t;
		struct list_offsets_request m, d;
		list_offsets_request_init(&m);
		list_offsets_request_list_offsets_topic_init(&t);
		list_offsets_request_list_offsets_partition_init(&p);
		p.partition_index = 1;
		p.current_leader_epoch = 3;
		p.timestamp = -2;
		p.max_num_offsets = 1;
		t.name = kstr_c("foo");
		t.n_partitions = 1;
		t.partitions = &p;
		m.replica_id = -1;
		m.isolation_level = 1;
		m.n_topics = 1;
		m.topics = &t;
		m.timeout_ms = 99;
		struct arena a;
		arena_init(&a);
		struct buf keep;
		ROUNDTRIP(list_offsets_request, v, &m, &d, &a, keep);
		CHECK_EQ_INT(d.replica_id, -1);
		CHECK_EQ_INT(d.isolation_level, v >= 2 ? 1 : 0);
		CHECK(kstr_eq(d.topics[0].name, "foo"));
		CHECK_EQ_INT(d.topics[0].partitions[0].timestamp, -2);
		CHECK_EQ_INT(d.topics[0].partitions[0].current_leader_epoch, v >= 4 ? 3 : -1);
		CHECK_EQ_INT(d.topics[0].partitions[0].max_num_offsets, v == 0 ? 1 : 1);
		CHECK_EQ_INT(d.timeout_ms, v >= 10 ? 99 : 0);
		buf_release(&keep);
		arena_release(&a);
	}
	for (int16_t v = 0; v <= 11; v++) {
		int64_t old[1] = {55};
		struct list_offsets_response_list_offsets_partition_response p;
		struct list_offsets_response_list_offsets_topic_response t;
		struct list_offsets_response m, d;
		list_offsets_response_init(&m);
		list_offsets_response_list_offsets_topic_response_init(&t);
		list_offsets_response_list_offsets_partition_response_init(&p);
		p.partition_index = 1;
		p.n_old_style_offsets = 1;
		p.old_style_offsets = old;
		p.timestamp = 1000;
		p.offset = 55;
		p.leader_epoch = 4;
		t.name = kstr_c("foo");
		t.n_partitions = 1;
		t.partitions = &p;
		m.throttle_time_ms = 2;
		m.n_topics = 1;
		m.topics = &t;
		struct arena a;
		arena_init(&a);
		struct buf keep;
		ROUNDTRIP(list_offsets_response, v, &m, &d, &a, keep);
		struct list_offsets_response_list_offsets_partition_response *q =
		    &d.topics[0].partitions[0];
		CHECK_EQ_INT(q->n_old_style_offsets, v == 0 ? 1 : 0);
		CHECK(v != 0 || q->old_style_offsets[0] == 55);
		CHECK_EQ_INT(q->offset, v >= 1 ? 55 : -1);
		CHECK_EQ_INT(q->leader_epoch, v >= 4 ? 4 : -1);
		CHECK_EQ_INT(d.throttle_time_ms, v >= 2 ? 2 : 0);
		buf_release(&keep);
		arena_release(&a);
	}
}

TEST(roundtrip_create_delete_topics)
{
	for (int16_t v = 0; v <= 7; v++) {
		int32_t brokers[2] = {1, 2};
		struct create_topics_request_creatable_replica_assignment as;
		struct create_topics_request_creatable_topic_config cf[2];
		struct create_topics_request_creatable_topic t;
		struct create_topics_request m, d;
		create_topics_request_init(&m);
		create_topics_request_creatable_topic_init(&t);
		create_topics_request_creatable_replica_assignment_init(&as);
		create_topics_request_creatable_topic_config_init(&cf[0]);
		create_topics_request_creatable_topic_config_init(&cf[1]);
		as.partition_index = 0;
		as.n_broker_ids = 2;
		as.broker_ids = brokers;
		cf[0].name = kstr_c("cleanup.policy");
		cf[0].value = kstr_c("compact");
		cf[1].name = kstr_c("retention.ms");
		cf[1].value = kstr_null();
		t.name = kstr_c("foo");
		t.num_partitions = -1;
		t.replication_factor = -1;
		t.n_assignments = 1;
		t.assignments = &as;
		t.n_configs = 2;
		t.configs = cf;
		m.n_topics = 1;
		m.topics = &t;
		m.timeout_ms = 1000;
		m.validate_only = true;
		struct arena a;
		arena_init(&a);
		struct buf keep;
		ROUNDTRIP(create_topics_request, v, &m, &d, &a, keep);
		CHECK(kstr_eq(d.topics[0].name, "foo"));
		CHECK_EQ_INT(d.topics[0].assignments[0].broker_ids[1], 2);
		CHECK(kstr_eq(d.topics[0].configs[0].value, "compact"));
		CHECK_EQ_INT(d.topics[0].configs[1].value.len, -1);
		CHECK_EQ_INT(d.timeout_ms, 1000);
		CHECK(d.validate_only == (v >= 1));
		buf_release(&keep);
		arena_release(&a);
	}
	for (int16_t v = 0; v <= 7; v++) {
		struct create_topics_response_creatable_topic_configs cf;
		struct create_topics_response_creatable_topic_result t;
		struct create_topics_response m, d;
		create_topics_response_init(&m);
		create_topics_response_creatable_topic_result_init(&t);
		create_topics_response_creatable_topic_configs_init(&cf);
		cf.name = kstr_c("k");
		cf.value = kstr_c("v");
		cf.read_only = true;
		cf.config_source = 5;
		t.name = kstr_c("foo");
		t.topic_id = uuid_n(8);
		t.error_code = 36;
		t.error_message = kstr_c("exists");
		t.topic_config_error_code = 29;
		t.num_partitions = 3;
		t.replication_factor = 1;
		t.n_configs = 1;
		t.configs = &cf;
		m.throttle_time_ms = 4;
		m.n_topics = 1;
		m.topics = &t;
		struct arena a;
		arena_init(&a);
		struct buf keep;
		ROUNDTRIP(create_topics_response, v, &m, &d, &a, keep);
		struct create_topics_response_creatable_topic_result *q = &d.topics[0];
		CHECK_EQ_INT(q->error_code, 36);
		CHECK(kstr_eq(q->error_message, v >= 1 ? "exists" : "")); /* no default: empty */
		CHECK_EQ_INT(q->topic_config_error_code, v >= 5 ? 29 : 0);
		CHECK_EQ_INT(q->num_partitions, v >= 5 ? 3 : -1);
		CHECK_EQ_INT(q->n_configs, v >= 5 ? 1 : 0);
		CHECK(v < 5 || q->configs[0].config_source == 5);
		CHECK(v >= 7 ? uuid_is(q->topic_id, 8) : uuid_is(q->topic_id, 0));
		buf_release(&keep);
		arena_release(&a);
	}
	for (int16_t v = 0; v <= 6; v++) {
		struct kstr names[2];
		struct delete_topics_request_delete_topic_state st;
		struct delete_topics_request m, d;
		delete_topics_request_init(&m);
		delete_topics_request_delete_topic_state_init(&st);
		names[0] = kstr_c("foo");
		names[1] = kstr_c("bar");
		st.name = kstr_c("foo");
		st.topic_id = uuid_n(1);
		m.n_topics = 1;
		m.topics = &st;
		m.n_topic_names = 2;
		m.topic_names = names;
		m.timeout_ms = 3000;
		struct arena a;
		arena_init(&a);
		struct buf keep;
		ROUNDTRIP(delete_topics_request, v, &m, &d, &a, keep);
		CHECK_EQ_INT(d.timeout_ms, 3000);
		if (v <= 5) {
			CHECK_EQ_INT(d.n_topic_names, 2);
			CHECK(kstr_eq(d.topic_names[1], "bar"));
			CHECK_EQ_INT(d.n_topics, 0);
		} else {
			CHECK_EQ_INT(d.n_topics, 1);
			CHECK(kstr_eq(d.topics[0].name, "foo"));
			CHECK(uuid_is(d.topics[0].topic_id, 1));
		}
		buf_release(&keep);
		arena_release(&a);
	}
	for (int16_t v = 0; v <= 6; v++) {
		struct delete_topics_response_deletable_topic_result r;
		struct delete_topics_response m, d;
		delete_topics_response_init(&m);
		delete_topics_response_deletable_topic_result_init(&r);
		r.name = kstr_c("foo");
		r.topic_id = uuid_n(2);
		r.error_code = 3;
		r.error_message = kstr_c("unknown");
		m.throttle_time_ms = 6;
		m.n_responses = 1;
		m.responses = &r;
		struct arena a;
		arena_init(&a);
		struct buf keep;
		ROUNDTRIP(delete_topics_response, v, &m, &d, &a, keep);
		CHECK(kstr_eq(d.responses[0].name, "foo"));
		CHECK_EQ_INT(d.responses[0].error_code, 3);
		CHECK(v >= 5 ? kstr_eq(d.responses[0].error_message, "unknown")
		             : d.responses[0].error_message.len == -1);
		CHECK_EQ_INT(d.throttle_time_ms, v >= 1 ? 6 : 0);
		buf_release(&keep);
		arena_release(&a);
	}
}

TEST(roundtrip_api_versions)
{
	for (int16_t v = 0; v <= 4; v++) {
		struct api_versions_request m, d;
		api_versions_request_init(&m);
		m.client_software_name = kstr_c("fjord-test");
		m.client_software_version = kstr_c("1.0");
		struct arena a;
		arena_init(&a);
		struct buf keep;
		ROUNDTRIP(api_versions_request, v, &m, &d, &a, keep);
		CHECK(v >= 3 ? kstr_eq(d.client_software_name, "fjord-test")
		             : kstr_eq(d.client_software_name, ""));
		buf_release(&keep);
		arena_release(&a);
	}
	for (int16_t v = 0; v <= 4; v++) {
		struct api_versions_response_api_version keys[2];
		struct api_versions_response_supported_feature_key sf;
		struct api_versions_response_finalized_feature_key ff;
		struct api_versions_response m, d;
		api_versions_response_init(&m);
		for (int i = 0; i < 2; i++) {
			api_versions_response_api_version_init(&keys[i]);
			keys[i].api_key = (int16_t)(i * 18);
			keys[i].max_version = (int16_t)(i + 3);
		}
		api_versions_response_supported_feature_key_init(&sf);
		api_versions_response_finalized_feature_key_init(&ff);
		sf.name = kstr_c("metadata.version");
		sf.min_version = 1;
		sf.max_version = 20;
		ff.name = kstr_c("metadata.version");
		ff.max_version_level = 20;
		ff.min_version_level = 20;
		m.n_api_keys = 2;
		m.api_keys = keys;
		m.throttle_time_ms = 3;
		m.n_supported_features = 1;
		m.supported_features = &sf;
		m.finalized_features_epoch = 8;
		m.n_finalized_features = 1;
		m.finalized_features = &ff;
		m.zk_migration_ready = true;
		struct arena a;
		arena_init(&a);
		struct buf keep;
		ROUNDTRIP(api_versions_response, v, &m, &d, &a, keep);
		CHECK_EQ_INT(d.n_api_keys, 2);
		CHECK_EQ_INT(d.api_keys[1].api_key, 18);
		CHECK_EQ_INT(d.api_keys[1].max_version, 4);
		CHECK_EQ_INT(d.throttle_time_ms, v >= 1 ? 3 : 0);
		CHECK_EQ_INT(d.n_supported_features, v >= 3 ? 1 : 0);
		CHECK(v < 3 || kstr_eq(d.supported_features[0].name, "metadata.version"));
		CHECK(d.finalized_features_epoch == (v >= 3 ? 8 : -1));
		CHECK_EQ_INT(d.n_finalized_features, v >= 3 ? 1 : 0);
		CHECK(d.zk_migration_ready == (v >= 3));
		buf_release(&keep);
		arena_release(&a);
	}
}

/*
 * Every generated message, every version, at its defaults: encode, decode,
 * re-encode must agree, and every prefix must fail.
 */
#define DEFAULT_RT(T)                                                                              \
	static void rt_##T(int16_t lo, int16_t hi)                                                 \
	{                                                                                          \
		for (int16_t v = lo; v <= hi; v++) {                                               \
			struct T m, d;                                                             \
			T##_init(&m);                                                              \
			struct arena a;                                                            \
			arena_init(&a);                                                            \
			struct buf keep;                                                           \
			ROUNDTRIP(T, v, &m, &d, &a, keep);                                         \
			buf_release(&keep);                                                        \
			arena_release(&a);                                                         \
		}                                                                                  \
		struct T x;                                                                        \
		struct arena a;                                                                    \
		arena_init(&a);                                                                    \
		struct rd r;                                                                       \
		rd_init(&r, "", 0);                                                                \
		CHECK_EQ_INT(T##_decode(&r, (int16_t)(hi + 1), &x, &a), ERR_UNSUPPORTED);          \
		arena_release(&a);                                                                 \
	}

/* clang-format off */
#define APIS(X) \
	X(0, produce) \
	X(1, fetch) \
	X(2, list_offsets) \
	X(3, metadata) \
	X(8, offset_commit) \
	X(9, offset_fetch) \
	X(10, find_coordinator) \
	X(11, join_group) \
	X(12, heartbeat) \
	X(13, leave_group) \
	X(14, sync_group) \
	X(15, describe_groups) \
	X(16, list_groups) \
	X(17, sasl_handshake) \
	X(18, api_versions) \
	X(19, create_topics) \
	X(20, delete_topics) \
	X(21, delete_records) \
	X(22, init_producer_id) \
	X(23, offset_for_leader_epoch) \
	X(24, add_partitions_to_txn) \
	X(25, add_offsets_to_txn) \
	X(26, end_txn) \
	X(27, write_txn_markers) \
	X(28, txn_offset_commit) \
	X(29, describe_acls) \
	X(30, create_acls) \
	X(31, delete_acls) \
	X(32, describe_configs) \
	X(33, alter_configs) \
	X(35, describe_log_dirs) \
	X(36, sasl_authenticate) \
	X(37, create_partitions) \
	X(42, delete_groups) \
	X(43, elect_leaders) \
	X(44, incremental_alter_configs) \
	X(45, alter_partition_reassignments) \
	X(46, list_partition_reassignments) \
	X(47, offset_delete) \
	X(60, describe_cluster)
/* clang-format on */

#define DEFINE_RT(key, name) DEFAULT_RT(name##_request) DEFAULT_RT(name##_response)
APIS(DEFINE_RT)
DEFAULT_RT(request_header)
DEFAULT_RT(response_header)
DEFAULT_RT(consumer_protocol_subscription)
DEFAULT_RT(consumer_protocol_assignment)

TEST(roundtrip_defaults_every_api)
{
	int seen = 0;
#define CALL_RT(key, name)                                                                         \
	do {                                                                                       \
		const struct kmsg_api *p = kmsg_api_find(key);                                     \
		CHECK(p != NULL);                                                                  \
		rt_##name##_request(p->min_version, p->max_version);                               \
		rt_##name##_response(p->min_version, p->max_version);                              \
		seen++;                                                                            \
	} while (0);
	APIS(CALL_RT)
	CHECK_EQ_INT(seen, kmsg_napis);
	rt_request_header(0, 2);
	rt_response_header(0, 1);
	rt_consumer_protocol_subscription(0, 3);
	rt_consumer_protocol_assignment(0, 3);
}

int main(int argc, char **argv)
{
	return unit_main(argc, argv);
}
