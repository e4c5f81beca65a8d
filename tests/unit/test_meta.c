/*
 * test_meta.c: the metadata store (src/meta/meta.c) — create, find, delete,
 * persistence across reopen, torn and corrupt journals, validation and its
 * error kinds, journal compaction, and journal write/fsync failures.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "base/err.h"
#include "io/file.h"
#include "meta/meta.h"
#include "unit.h"

static struct broker_config bc;

static const char *mdir(void)
{
	static char p[512];
	snprintf(p, sizeof(p), "%s/data/__cluster_metadata", unit_tmpdir());
	return p;
}

static const char *jpath(void)
{
	static char p[600];
	snprintf(p, sizeof(p), "%s/journal.jsonl", mdir());
	return p;
}

static struct meta *open_meta(void)
{
	struct meta *m = NULL;
	broker_config_default(&bc);
	CHECK_EQ_INT(meta_open(mdir(), &bc, &m), 0);
	CHECK(m != NULL);
	return m;
}

static struct topic *create(struct meta *m, const char *name, int32_t p)
{
	struct topic *t = NULL;
	char err[256] = "";
	int rc = meta_topic_create(m, name, p, -1, NULL, 0, false, &t, err, sizeof(err));
	if (rc)
		fprintf(stderr, "create %s: %s\n", name, err);
	CHECK_EQ_INT(rc, 0);
	CHECK(t != NULL);
	return t;
}

static int64_t file_len(const char *path)
{
	int64_t n = -1;
	if (file_stat_size(path, &n))
		return -1;
	return n;
}

static void append_raw(const char *text)
{
	FILE *f = fopen(jpath(), "a");
	CHECK(f != NULL);
	fputs(text, f);
	fclose(f);
}

TEST(create_find_delete)
{
	struct meta *m = open_meta();
	struct topic *b = create(m, "beta", 3);
	struct topic *a = create(m, "alpha", -1);
	CHECK_EQ_INT(meta_topic_count(m), 2);
	CHECK(meta_topic_at(m, 0) == a && meta_topic_at(m, 1) == b);
	CHECK_EQ_INT(a->partitions, 1);
	CHECK_EQ_INT(a->replication_factor, 1);
	CHECK_EQ_INT(b->partitions, 3);
	CHECK(meta_topic_find(m, "beta", 4) == b);
	CHECK(meta_topic_find(m, "betax", 4) == b); /* length-bounded */
	CHECK(meta_topic_find(m, "bet", 3) == NULL);
	CHECK(meta_topic_find_id(m, a->id) == a);
	CHECK(memcmp(a->id.b, b->id.b, 16) != 0);
	CHECK(a->cfg.fsync_before_ack);
	CHECK(!a->internal);

	struct kuuid id = b->id;
	CHECK_EQ_INT(meta_topic_delete(m, b), 0);
	CHECK_EQ_INT(meta_topic_count(m), 1);
	CHECK(meta_topic_find(m, "beta", 4) == NULL);
	CHECK(meta_topic_find_id(m, id) == NULL);
	CHECK(meta_topic_find_id(m, a->id) == a);
	CHECK_EQ_INT(meta_journal_records(m), 3);
	meta_close(m);
}

TEST(persist_and_reopen)
{
	struct meta *m = open_meta();
	char err[256];
	struct config_kv kv[] = {{"retention.ms", "1000"}, {"cleanup.policy", "compact"}};
	struct topic *t = NULL;
	CHECK_EQ_INT(meta_topic_create(m, "orders", 4, 1, kv, 2, false, &t, err, sizeof(err)), 0);
	struct kuuid orders_id = t->id;
	CHECK_EQ_INT(t->cfg.log.retention_ms, 1000);
	CHECK(t->cfg.cleanup_compact && !t->cfg.cleanup_delete);
	CHECK_EQ_INT(meta_topic_set_partitions(m, t, 6), 0);
	CHECK_EQ_INT(meta_topic_set_partitions(m, t, 5), ERR_INVALID);
	struct config_kv kv2[] = {
	    {"retention.ms", "2000"}, {"flush.messages", "10"}, {"cleanup.policy", NULL}};
	CHECK_EQ_INT(meta_topic_set_configs(m, t, kv2, 3, err, sizeof(err)), 0);
	CHECK_EQ_INT(t->noverrides, 2);
	CHECK_EQ_INT(t->cfg.log.retention_ms, 2000);
	CHECK(!t->cfg.fsync_before_ack);
	struct config_kv bad[] = {{"retention.ms", "x"}};
	CHECK_EQ_INT(meta_topic_set_configs(m, t, bad, 1, err, sizeof(err)), ERR_INVALID_CONFIG);
	CHECK_EQ_INT(t->cfg.log.retention_ms, 2000);
	struct topic *gone = create(m, "gone", 1);
	struct kuuid gone_id = gone->id;
	create(m, "__consumer_offsets", 50);
	CHECK_EQ_INT(meta_topic_delete(m, gone), 0);
	meta_close(m);

	m = open_meta();
	CHECK_EQ_INT(meta_topic_count(m), 2);
	t = meta_topic_find(m, "orders", 6);
	CHECK(t != NULL);
	CHECK(memcmp(t->id.b, orders_id.b, 16) == 0);
	CHECK(meta_topic_find_id(m, orders_id) == t);
	CHECK(meta_topic_find_id(m, gone_id) == NULL);
	CHECK_EQ_INT(t->partitions, 6);
	CHECK_EQ_INT(t->noverrides, 2);
	CHECK(strcmp(t->overrides[0].key, "flush.messages") == 0);
	CHECK(strcmp(t->overrides[1].key, "retention.ms") == 0);
	CHECK(strcmp(t->overrides[1].value, "2000") == 0);
	CHECK_EQ_INT(t->cfg.log.retention_ms, 2000);
	CHECK(t->cfg.cleanup_delete && !t->cfg.cleanup_compact);
	CHECK(!t->cfg.fsync_before_ack);
	struct topic *co = meta_topic_find(m, "__consumer_offsets", 18);
	CHECK(co && co->internal && co->partitions == 50);
	CHECK(meta_topic_find(m, "gone", 4) == NULL);
	meta_close(m);
}

TEST(torn_last_line_is_dropped)
{
	struct meta *m = open_meta();
	create(m, "a", 1);
	meta_close(m);
	int64_t good = file_len(jpath());
	append_raw("{\"type\":\"topic\",\"name\":\"b\",\"id\":\"AAAA");

	m = open_meta();
	CHECK_EQ_INT(meta_topic_count(m), 1);
	CHECK_EQ_INT(file_len(jpath()), good); /* the torn tail was cut */
	create(m, "c", 2);
	meta_close(m);

	m = open_meta();
	CHECK_EQ_INT(meta_topic_count(m), 2);
	CHECK(meta_topic_find(m, "c", 1) != NULL);
	meta_close(m);

	/* A complete last line that is not JSON (garbage after a crash). */
	good = file_len(jpath());
	append_raw("\x01\x02garbage\n");
	m = open_meta();
	CHECK_EQ_INT(meta_topic_count(m), 2);
	CHECK_EQ_INT(file_len(jpath()), good);
	meta_close(m);
}

TEST(corrupt_middle_line_refuses_to_open)
{
	struct meta *m = open_meta();
	create(m, "a", 1);
	meta_close(m);
	append_raw("not json\n");
	append_raw("{\"type\":\"remove_topic\",\"id\":\"AAAAAAAAAAAAAAAAAAAAAA\"}\n");
	struct meta *m2 = NULL;
	CHECK_EQ_INT(meta_open(mdir(), &bc, &m2), ERR_CORRUPT);
	CHECK(m2 == NULL);
}

TEST(record_that_does_not_apply_is_corrupt)
{
	struct meta *m = open_meta();
	create(m, "a", 1);
	meta_close(m);
	append_raw("{\"type\":\"remove_topic\",\"id\":\"AAAAAAAAAAAAAAAAAAAAAB\"}\n");
	append_raw("{\"type\":\"topic\",\"name\":\"z\",\"id\":\"AAAAAAAAAAAAAAAAAAAAAE\","
	           "\"partitions\":1,\"rf\":1,\"configs\":{}}\n");
	struct meta *m2 = NULL;
	CHECK_EQ_INT(meta_open(mdir(), &bc, &m2), ERR_CORRUPT);
}

TEST(validate_only_changes_nothing)
{
	struct meta *m = open_meta();
	struct topic *t = (struct topic *)1;
	enum meta_fail fail;
	char err[256];
	struct config_kv kv[] = {{"retention.ms", "5"}};
	CHECK_EQ_INT(meta_topic_create_ex(m, "v", 3, -1, kv, 1, true, &t, &fail, err, sizeof(err)),
	             0);
	CHECK(t == NULL);
	CHECK_EQ_INT(fail, META_FAIL_NONE);
	CHECK_EQ_INT(meta_topic_count(m), 0);
	CHECK_EQ_INT(meta_journal_records(m), 0);
	CHECK_EQ_INT(file_len(jpath()), 0);
	/* validate_only still reports errors. */
	CHECK_EQ_INT(
	    meta_topic_create_ex(m, "v", 0, -1, NULL, 0, true, &t, &fail, err, sizeof(err)),
	    ERR_INVALID);
	CHECK_EQ_INT(fail, META_FAIL_PARTITIONS);
	create(m, "v", 1);
	CHECK_EQ_INT(
	    meta_topic_create_ex(m, "v", 1, -1, NULL, 0, true, &t, &fail, err, sizeof(err)),
	    ERR_EXISTS);
	CHECK_EQ_INT(fail, META_FAIL_EXISTS);
	meta_close(m);
}

static void expect_fail(struct meta *m, const char *name, int32_t p, int16_t rf,
                        const struct config_kv *kv, int n, int code, enum meta_fail kind,
                        const char *msg)
{
	enum meta_fail fail = META_FAIL_NONE;
	char err[512] = "";
	struct topic *t = NULL;
	int rc = meta_topic_create_ex(m, name, p, rf, kv, n, false, &t, &fail, err, sizeof(err));
	if (rc != code || fail != kind || (msg && strcmp(err, msg) != 0))
		fprintf(stderr, "  %s: rc %d fail %d err '%s'\n", name, rc, (int)fail, err);
	CHECK_EQ_INT(rc, code);
	CHECK_EQ_INT(fail, kind);
	CHECK(t == NULL);
	if (msg)
		CHECK(strcmp(err, msg) == 0);
}

TEST(invalid_names)
{
	struct meta *m = open_meta();
	char long_name[300];
	memset(long_name, 'x', 250);
	long_name[250] = '\0';
	expect_fail(m, "", 1, 1, NULL, 0, ERR_INVALID, META_FAIL_NAME,
	            "Topic name is illegal, it can't be empty");
	expect_fail(m, ".", 1, 1, NULL, 0, ERR_INVALID, META_FAIL_NAME,
	            "Topic name cannot be \".\" or \"..\"");
	expect_fail(m, "..", 1, 1, NULL, 0, ERR_INVALID, META_FAIL_NAME, NULL);
	expect_fail(m, long_name, 1, 1, NULL, 0, ERR_INVALID, META_FAIL_NAME, NULL);
	expect_fail(m, "a b", 1, 1, NULL, 0, ERR_INVALID, META_FAIL_NAME,
	            "Topic name \"a b\" is illegal, it contains a character other than ASCII "
	            "alphanumerics, '.', '_' and '-'");
	expect_fail(m, "a/b", 1, 1, NULL, 0, ERR_INVALID, META_FAIL_NAME, NULL);
	long_name[249] = '\0';
	create(m, long_name, 1);
	create(m, "__transaction_state", 1);
	create(m, "a.b", 1);
	expect_fail(m, "a_b", 1, 1, NULL, 0, ERR_INVALID, META_FAIL_NAME,
	            "Topic 'a_b' collides with existing topic: a.b");
	expect_fail(m, "a.b", 1, 1, NULL, 0, ERR_EXISTS, META_FAIL_EXISTS,
	            "Topic 'a.b' already exists.");
	CHECK(meta_topic_find(m, "__transaction_state", 19)->internal);
	char err[256];
	CHECK_EQ_INT(meta_topic_name_valid("ok-Name_1.x", 11, err, sizeof(err)), 0);
	meta_close(m);
}

TEST(invalid_partitions_and_replication_factor)
{
	struct meta *m = open_meta();
	expect_fail(m, "p", 0, 1, NULL, 0, ERR_INVALID, META_FAIL_PARTITIONS,
	            "Number of partitions must be larger than 0.");
	expect_fail(m, "p", -2, 1, NULL, 0, ERR_INVALID, META_FAIL_PARTITIONS, NULL);
	expect_fail(m, "p", META_MAX_PARTITIONS + 1, 1, NULL, 0, ERR_INVALID, META_FAIL_PARTITIONS,
	            NULL);
	expect_fail(m, "p", 1, 3, NULL, 0, ERR_INVALID, META_FAIL_REPLICATION,
	            "Replication factor: 3 larger than available brokers: 1.");
	expect_fail(m, "p", 1, 0, NULL, 0, ERR_INVALID, META_FAIL_REPLICATION, NULL);
	expect_fail(m, "p", 1, -2, NULL, 0, ERR_INVALID, META_FAIL_REPLICATION, NULL);
	struct config_kv bad[] = {{"segment.bytes", "-5"}};
	expect_fail(m, "p", 1, 1, bad, 1, ERR_INVALID_CONFIG, META_FAIL_CONFIG,
	            "Invalid value -5 for configuration segment.bytes: Value must be at least 14");
	struct config_kv unknown[] = {{"foo", "1"}};
	expect_fail(m, "p", 1, 1, unknown, 1, ERR_INVALID_CONFIG, META_FAIL_CONFIG,
	            "Unknown topic config name: foo");
	struct config_kv null_value[] = {{"retention.ms", NULL}};
	expect_fail(m, "p", 1, 1, null_value, 1, ERR_INVALID_CONFIG, META_FAIL_CONFIG,
	            "Null value not supported for topic configs: retention.ms");
	CHECK_EQ_INT(meta_topic_count(m), 0);
	CHECK_EQ_INT(meta_journal_records(m), 0);
	meta_close(m);

	/* -1 takes the broker defaults; a default rf above 1 fails like an explicit one. */
	struct meta *m2 = NULL;
	char err[256];
	broker_config_default(&bc);
	CHECK_EQ_INT(broker_config_set(&bc, "num.partitions", "3", err, sizeof(err)), 0);
	CHECK_EQ_INT(meta_open(mdir(), &bc, &m2), 0);
	struct topic *t = create(m2, "d", -1);
	CHECK_EQ_INT(t->partitions, 3);
	meta_close(m2);
	CHECK_EQ_INT(broker_config_set(&bc, "default.replication.factor", "2", err, sizeof(err)),
	             0);
	CHECK_EQ_INT(meta_open(mdir(), &bc, &m2), 0);
	expect_fail(m2, "e", -1, -1, NULL, 0, ERR_INVALID, META_FAIL_REPLICATION,
	            "Replication factor: 2 larger than available brokers: 1.");
	meta_close(m2);
}

TEST(journal_compaction_keeps_state)
{
	struct meta *m = open_meta();
	char name[32];
	char err[256];
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "t%03d", i);
		struct topic *t = create(m, name, 1);
		if (i % 10 != 0)
			CHECK_EQ_INT(meta_topic_delete(m, t), 0);
	}
	struct topic *t5 = meta_topic_find(m, "t050", 4);
	CHECK(t5 != NULL);
	struct kuuid id = t5->id;
	struct config_kv kv[] = {{"retention.bytes", "123"}};
	CHECK_EQ_INT(meta_topic_set_configs(m, t5, kv, 1, err, sizeof(err)), 0);
	CHECK_EQ_INT(meta_topic_set_partitions(m, t5, 4), 0);
	CHECK_EQ_INT(meta_topic_count(m), 10);
	CHECK_EQ_INT(meta_journal_records(m), 192);
	int64_t before = file_len(jpath());
	meta_close(m);

	m = open_meta();
	CHECK_EQ_INT(meta_journal_records(m), 10);
	CHECK(file_len(jpath()) < before);
	CHECK_EQ_INT(meta_topic_count(m), 10);
	t5 = meta_topic_find(m, "t050", 4);
	CHECK(t5 && memcmp(t5->id.b, id.b, 16) == 0);
	CHECK_EQ_INT(t5->partitions, 4);
	CHECK_EQ_INT(t5->cfg.log.retention_bytes, 123);
	CHECK(meta_topic_find_id(m, id) == t5);
	create(m, "after", 1);
	meta_close(m);

	m = open_meta();
	CHECK_EQ_INT(meta_topic_count(m), 11);
	CHECK_EQ_INT(meta_journal_records(m), 11);
	CHECK(meta_topic_find(m, "after", 5) != NULL);
	meta_close(m);
}

TEST(uuid_text_form)
{
	struct kuuid a, b;
	char s[23];
	memset(a.b, 0, 16);
	meta_uuid_format(a, s);
	CHECK(strcmp(s, "AAAAAAAAAAAAAAAAAAAAAA") == 0);
	for (int i = 0; i < 16; i++)
		a.b[i] = (uint8_t)(i * 17 + 3);
	meta_uuid_format(a, s);
	CHECK_EQ_INT(strlen(s), 22);
	CHECK_EQ_INT(meta_uuid_parse(s, &b), 0);
	CHECK(memcmp(a.b, b.b, 16) == 0);
	CHECK_EQ_INT(meta_uuid_parse("short", &b), ERR_INVALID);
	CHECK_EQ_INT(meta_uuid_parse("AAAAAAAAAAAAAAAAAAAAA!", &b), ERR_INVALID);
	CHECK_EQ_INT(meta_uuid_parse("AAAAAAAAAAAAAAAAAAAAAB", &b), ERR_INVALID);

	struct meta *m = open_meta();
	for (int i = 0; i < 200; i++) {
		char name[16];
		snprintf(name, sizeof(name), "u%d", i);
		struct topic *t = create(m, name, 1);
		meta_uuid_format(t->id, s);
		CHECK(s[0] != '-');
		CHECK_EQ_INT(t->id.b[6] >> 4, 4);
		CHECK(meta_topic_find_id(m, t->id) == t);
	}
	meta_close(m);
}

TEST(journal_write_failure_changes_nothing)
{
	struct meta *m = open_meta();
	create(m, "a", 1);
	char err[256];
	struct topic *t = NULL;
	enum meta_fail fail;
	file_fault_fail(FILE_OP_WRITE, 1, ENOSPC, false);
	CHECK_EQ_INT(
	    meta_topic_create_ex(m, "b", 1, 1, NULL, 0, false, &t, &fail, err, sizeof(err)),
	    ERR_STORAGE);
	CHECK_EQ_INT(fail, META_FAIL_STORAGE);
	CHECK(meta_topic_find(m, "b", 1) == NULL);
	CHECK(!meta_failed(m));
	file_fault_reset();
	create(m, "c", 1);
	meta_close(m);

	m = open_meta();
	CHECK_EQ_INT(meta_topic_count(m), 2);
	CHECK(meta_topic_find(m, "b", 1) == NULL);
	CHECK(meta_topic_find(m, "c", 1) != NULL);
	meta_close(m);
}

TEST(journal_fsync_failure_fails_meta)
{
	struct meta *m = open_meta();
	struct topic *a = create(m, "a", 1);
	char err[256];
	struct topic *t = NULL;
	file_fault_fail(FILE_OP_SYNC, 1, EIO, false);
	CHECK_EQ_INT(meta_topic_create(m, "b", 1, 1, NULL, 0, false, &t, err, sizeof(err)),
	             ERR_STORAGE);
	file_fault_reset();
	CHECK(meta_failed(m));
	CHECK(meta_topic_find(m, "b", 1) == NULL);
	CHECK_EQ_INT(meta_topic_create(m, "c", 1, 1, NULL, 0, false, &t, err, sizeof(err)),
	             ERR_STORAGE);
	CHECK_EQ_INT(meta_topic_delete(m, a), ERR_STORAGE);
	CHECK_EQ_INT(meta_topic_set_partitions(m, a, 2), ERR_STORAGE);
	meta_close(m);
	m = open_meta();
	CHECK(!meta_failed(m));
	CHECK(meta_topic_find(m, "a", 1) != NULL);
	CHECK(meta_topic_find(m, "c", 1) == NULL);
	meta_close(m);
}

TEST(power_cut_keeps_acknowledged_topics)
{
	struct meta *m = open_meta();
	create(m, "a", 1);
	file_fault_powercut_begin();
	create(m, "b", 2);
	meta_close(m);
	file_fault_powercut_apply();
	m = open_meta();
	CHECK(meta_topic_find(m, "a", 1) != NULL);
	CHECK(meta_topic_find(m, "b", 1) != NULL);
	meta_close(m);
}

TEST(power_cut_right_after_first_open)
{
	/* The journal's creation is durable (directory fsync) before the first record. */
	file_fault_powercut_begin();
	struct meta *m = open_meta();
	create(m, "first", 1);
	meta_close(m);
	file_fault_powercut_apply();
	m = open_meta();
	CHECK(meta_topic_find(m, "first", 5) != NULL);
	meta_close(m);
}

int main(int argc, char **argv)
{
	return unit_main(argc, argv);
}
