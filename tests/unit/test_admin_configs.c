/*
 * test_admin_configs.c: dynamic broker configs in meta — layering over the
 * static config (cluster default, then this node), re-resolving topic
 * configs, validation, persistence through the journal (replay and
 * compaction), and which broker keys are dynamic.
 */
#include "meta/config.h"
#include "meta/meta.h"
#include "unit.h"

#include "base/err.h"

static void static_config(struct broker_config *bc, const char *retention_hours)
{
	char err[256];
	broker_config_default(bc);
	if (retention_hours)
		CHECK(broker_config_set(bc, "log.retention.hours", retention_hours, err,
		                        sizeof(err)) == 0);
	CHECK(broker_config_finish(bc, err, sizeof(err)) == 0);
}

static struct meta *open_meta(const char *dir, const struct broker_config *bc)
{
	struct meta *m = NULL;
	CHECK(meta_open(dir, bc, &m) == 0);
	return m;
}

TEST(dynamic_keys_flagged)
{
	CHECK(config_broker_dynamic(config_broker_def_find("log.retention.ms")));
	CHECK(config_broker_dynamic(config_broker_def_find("message.max.bytes")));
	CHECK(!config_broker_dynamic(config_broker_def_find("log.dirs")));
	CHECK(!config_broker_dynamic(config_broker_def_find("listeners")));
	CHECK(!config_broker_dynamic(config_broker_def_find("node.id")));
}

TEST(layering_and_topics)
{
	struct broker_config bc;
	static_config(&bc, "10");
	struct meta *m = open_meta(unit_tmpdir(), &bc);
	char err[512];
	struct topic *plain = NULL, *own = NULL;
	struct config_kv ov = {"retention.ms", "5000"};
	CHECK(meta_topic_create(m, "plain", 1, 1, NULL, 0, false, &plain, err, sizeof(err)) == 0);
	CHECK(meta_topic_create(m, "own", 1, 1, &ov, 1, false, &own, err, sizeof(err)) == 0);
	CHECK_EQ_INT(plain->cfg.log.retention_ms, 10 * 3600000LL);

	struct config_kv def = {"log.retention.ms", "60000"};
	CHECK(meta_broker_set_dynamic(m, META_BROKER_DEFAULT, &def, 1, false, err, sizeof(err)) ==
	      0);
	CHECK_EQ_INT(meta_broker_config(m)->log.retention_ms, 60000);
	CHECK_EQ_INT(plain->cfg.log.retention_ms, 60000);
	CHECK_EQ_INT(own->cfg.log.retention_ms, 5000);
	/* The static config is untouched. */
	CHECK_EQ_INT(meta_broker_static_config(m)->log.retention_ms, 10 * 3600000LL);

	struct config_kv node[2] = {{"log.retention.ms", "30000"}, {"message.max.bytes", "777"}};
	CHECK(meta_broker_set_dynamic(m, META_BROKER_NODE, node, 2, false, err, sizeof(err)) == 0);
	CHECK_EQ_INT(plain->cfg.log.retention_ms, 30000);
	CHECK_EQ_INT(plain->cfg.max_message_bytes, 777);
	int n;
	const struct config_kv *kv = meta_broker_dynamic(m, META_BROKER_NODE, &n);
	CHECK_EQ_INT(n, 2);
	CHECK(strcmp(kv[0].key, "log.retention.ms") == 0);

	/* A bad value changes nothing; validate_only changes nothing. */
	struct config_kv bad = {"log.retention.ms", "soon"};
	CHECK(meta_broker_set_dynamic(m, META_BROKER_NODE, &bad, 1, false, err, sizeof(err)) ==
	      ERR_INVALID_CONFIG);
	CHECK(strstr(err, "log.retention.ms") != NULL);
	struct config_kv other = {"log.retention.ms", "1"};
	CHECK(meta_broker_set_dynamic(m, META_BROKER_NODE, &other, 1, true, err, sizeof(err)) == 0);
	CHECK_EQ_INT(plain->cfg.log.retention_ms, 30000);
	meta_close(m);
}

TEST(replay_and_compaction)
{
	const char *dir = unit_tmpdir();
	struct broker_config bc;
	static_config(&bc, NULL);
	struct meta *m = open_meta(dir, &bc);
	char err[512];
	struct topic *t = NULL;
	CHECK(meta_topic_create(m, "t", 1, 1, NULL, 0, false, &t, err, sizeof(err)) == 0);
	struct config_kv def = {"log.segment.bytes", "4000"};
	CHECK(meta_broker_set_dynamic(m, META_BROKER_DEFAULT, &def, 1, false, err, sizeof(err)) ==
	      0);
	/* Enough superseded records to make the next open compact the journal. */
	for (int i = 0; i < 80; i++) {
		char v[32];
		snprintf(v, sizeof(v), "%d", 100000 + i);
		struct config_kv kv = {"log.retention.ms", v};
		CHECK(meta_broker_set_dynamic(m, META_BROKER_NODE, &kv, 1, false, err,
		                              sizeof(err)) == 0);
	}
	meta_close(m);

	m = open_meta(dir, &bc);
	CHECK(meta_journal_records(m) <= 3); /* compacted: topic + two scopes */
	t = meta_topic_find(m, "t", 1);
	CHECK(t != NULL);
	CHECK_EQ_INT(t->cfg.log.retention_ms, 100079);
	CHECK_EQ_INT(t->cfg.log.segment_bytes, 4000);
	CHECK_EQ_INT(meta_broker_config(m)->log.segment_bytes, 4000);
	meta_close(m);

	/* And once more after compaction; then removing the keys restores the static ones. */
	m = open_meta(dir, &bc);
	t = meta_topic_find(m, "t", 1);
	CHECK_EQ_INT(t->cfg.log.retention_ms, 100079);
	CHECK(meta_broker_set_dynamic(m, META_BROKER_NODE, NULL, 0, false, err, sizeof(err)) == 0);
	CHECK(meta_broker_set_dynamic(m, META_BROKER_DEFAULT, NULL, 0, false, err, sizeof(err)) ==
	      0);
	CHECK_EQ_INT(t->cfg.log.retention_ms, 7 * 24 * 3600000LL);
	CHECK_EQ_INT(t->cfg.log.segment_bytes, 1073741824LL);
	meta_close(m);
	m = open_meta(dir, &bc);
	t = meta_topic_find(m, "t", 1);
	CHECK_EQ_INT(t->cfg.log.segment_bytes, 1073741824LL);
	meta_close(m);
}

TEST(other_node_records_ignored)
{
	const char *dir = unit_tmpdir();
	struct broker_config bc;
	static_config(&bc, NULL);
	struct meta *m = open_meta(dir, &bc);
	char err[512];
	struct config_kv kv = {"log.segment.bytes", "5000"};
	CHECK(meta_broker_set_dynamic(m, META_BROKER_NODE, &kv, 1, false, err, sizeof(err)) == 0);
	meta_close(m);
	/* The same journal opened as node 2: node 1's keys do not apply. */
	CHECK(broker_config_set(&bc, "node.id", "2", err, sizeof(err)) == 0);
	m = open_meta(dir, &bc);
	CHECK_EQ_INT(meta_broker_config(m)->log.segment_bytes, 1073741824LL);
	meta_close(m);
}

int main(int argc, char **argv)
{
	return unit_main(argc, argv);
}
