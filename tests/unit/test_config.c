/*
 * test_config.c: server.properties parsing, Kafka defaults and precedence,
 * validation messages, listeners, topic config resolution and the
 * fsync_before_ack rule (src/meta/config.c, config_defs.c).
 */
#include <stdint.h>
#include <unistd.h>

#include "base/err.h"
#include "meta/config.h"
#include "unit.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	fputs(text, f);
	fclose(f);
}

static const char *tmp_path(const char *name)
{
	static char p[512];
	snprintf(p, sizeof(p), "%s/%s", unit_tmpdir(), name);
	return p;
}

static int load_text(struct broker_config *c, const char *text, char *err, size_t errlen)
{
	const char *p = tmp_path("server.properties");
	write_file(p, text);
	broker_config_default(c);
	return broker_config_load(c, p, err, errlen);
}

static int set(struct broker_config *c, const char *k, const char *v)
{
	char err[256];
	return broker_config_set(c, k, v, err, sizeof(err));
}

TEST(defaults_are_kafkas)
{
	struct broker_config c;
	broker_config_default(&c);
	CHECK_EQ_INT(c.node_id, 1);
	CHECK(strcmp(c.log_dirs, "./data") == 0);
	CHECK(strcmp(c.listeners, "PLAINTEXT://localhost:9092") == 0);
	CHECK(strcmp(c.listen_host, "localhost") == 0);
	CHECK_EQ_INT(c.listen_port, 9092);
	CHECK(strcmp(c.advertised_host, "localhost") == 0);
	CHECK_EQ_INT(c.advertised_port, 9092);
	CHECK_EQ_INT(c.num_partitions, 1);
	CHECK_EQ_INT(c.default_replication_factor, 1);
	CHECK(c.auto_create_topics_enable);
	CHECK(c.delete_topic_enable);
	CHECK_EQ_INT(c.message_max_bytes, 1048588);
	CHECK_EQ_INT(c.socket_request_max_bytes, 104857600);
	CHECK_EQ_INT(c.log.segment_bytes, 1073741824);
	CHECK_EQ_INT(c.log.segment_ms, 168LL * 3600000);
	CHECK_EQ_INT(c.log.retention_ms, 168LL * 3600000);
	CHECK_EQ_INT(c.log.retention_bytes, -1);
	CHECK_EQ_INT(c.log.index_interval_bytes, 4096);
	CHECK_EQ_INT(c.log.segment_index_bytes, 10485760);
	CHECK_EQ_INT(c.log.file_delete_delay_ms, 60000);
	CHECK(!c.log.log_append_time);
	CHECK(c.log_flush_interval_messages == INT64_MAX);
	CHECK_EQ_INT(c.log_flush_interval_ms, -1);
	CHECK(c.log_flush_scheduler_interval_ms == INT64_MAX);
	CHECK_EQ_INT(c.log_retention_check_interval_ms, 300000);
	CHECK_EQ_INT(c.connections_max_idle_ms, 600000);
	CHECK_EQ_INT(c.max_connections, INT32_MAX);
	CHECK_EQ_INT(c.max_connections_per_ip, INT32_MAX);
	CHECK(strcmp(c.compression_type, "producer") == 0);
	CHECK(strcmp(c.cleanup_policy, "delete") == 0);
	CHECK(strcmp(c.log_message_timestamp_type, "CreateTime") == 0);
	CHECK_EQ_INT(c.min_insync_replicas, 1);
	CHECK_EQ_INT(c.offsets_topic_num_partitions, 50);
	CHECK_EQ_INT(c.offsets_topic_replication_factor, 1);
	CHECK_EQ_INT(c.group_initial_rebalance_delay_ms, 3000);
	CHECK_EQ_INT(c.group_min_session_timeout_ms, 6000);
	CHECK_EQ_INT(c.group_max_session_timeout_ms, 1800000);
	CHECK_EQ_INT(c.offsets_retention_minutes, 10080);
	CHECK_EQ_INT(c.log_cleaner_delete_retention_ms, 86400000);
	CHECK_EQ_INT(c.log_cleaner_min_compaction_lag_ms, 0);
	CHECK(c.log_cleaner_max_compaction_lag_ms == INT64_MAX);
	CHECK(c.log_cleaner_min_cleanable_ratio == 0.5);
	CHECK(c.log_message_timestamp_before_max_ms == INT64_MAX);
	CHECK_EQ_INT(c.log_message_timestamp_after_max_ms, 3600000);
	CHECK(strcmp(c.log_level, "INFO") == 0);
	char err[256];
	CHECK_EQ_INT(broker_config_finish(&c, err, sizeof(err)), 0);
}

TEST(retention_precedence_ms_minutes_hours)
{
	struct broker_config c;
	broker_config_default(&c);
	CHECK_EQ_INT(set(&c, "log.retention.hours", "24"), 0);
	CHECK_EQ_INT(c.log.retention_ms, 24LL * 3600000);
	CHECK_EQ_INT(set(&c, "log.retention.minutes", "30"), 0);
	CHECK_EQ_INT(c.log.retention_ms, 30LL * 60000);
	CHECK_EQ_INT(set(&c, "log.retention.ms", "1234"), 0);
	CHECK_EQ_INT(c.log.retention_ms, 1234);
	/* Order of the keys does not matter: ms still wins. */
	CHECK_EQ_INT(set(&c, "log.retention.hours", "1"), 0);
	CHECK_EQ_INT(c.log.retention_ms, 1234);
	/* Negative means forever. */
	CHECK_EQ_INT(set(&c, "log.retention.ms", "-1"), 0);
	CHECK_EQ_INT(c.log.retention_ms, -1);

	broker_config_default(&c);
	CHECK_EQ_INT(set(&c, "log.retention.hours", "-1"), 0);
	CHECK_EQ_INT(c.log.retention_ms, -1);
}

TEST(roll_and_dirs_precedence)
{
	struct broker_config c;
	broker_config_default(&c);
	CHECK_EQ_INT(set(&c, "log.roll.ms", "5000"), 0);
	CHECK_EQ_INT(set(&c, "log.roll.hours", "2"), 0);
	CHECK_EQ_INT(c.log.segment_ms, 5000);
	broker_config_default(&c);
	CHECK_EQ_INT(set(&c, "log.roll.hours", "2"), 0);
	CHECK_EQ_INT(c.log.segment_ms, 7200000);
	CHECK_EQ_INT(set(&c, "log.roll.jitter.hours", "1"), 0);
	CHECK_EQ_INT(c.log_segment_jitter_ms, 3600000);

	CHECK_EQ_INT(set(&c, "log.dir", "/a"), 0);
	CHECK(strcmp(c.log_dirs, "/a") == 0);
	CHECK_EQ_INT(set(&c, "log.dirs", "/b, /c"), 0);
	CHECK(strcmp(c.log_dirs, "/b,/c") == 0);
	CHECK_EQ_INT(set(&c, "log.dir", "/d"), 0);
	CHECK(strcmp(c.log_dirs, "/b,/c") == 0);
}

TEST(node_id_and_broker_id)
{
	struct broker_config c;
	char err[256];
	broker_config_default(&c);
	CHECK_EQ_INT(set(&c, "broker.id", "5"), 0);
	CHECK_EQ_INT(c.node_id, 5);
	CHECK_EQ_INT(broker_config_finish(&c, err, sizeof(err)), 0);
	CHECK_EQ_INT(set(&c, "node.id", "6"), 0);
	CHECK_EQ_INT(c.node_id, 6);
	CHECK_EQ_INT(broker_config_finish(&c, err, sizeof(err)), ERR_INVALID_CONFIG);
	CHECK(strstr(err, "broker.id") != NULL);
	CHECK_EQ_INT(set(&c, "broker.id", "6"), 0);
	CHECK_EQ_INT(broker_config_finish(&c, err, sizeof(err)), 0);
}

struct kv_list {
	int n;
	char key[32][64];
	char val[32][128];
	int line[32];
};

static int collect(void *arg, const char *k, const char *v, int line)
{
	struct kv_list *l = arg;
	if (l->n < 32) {
		snprintf(l->key[l->n], sizeof(l->key[0]), "%s", k);
		snprintf(l->val[l->n], sizeof(l->val[0]), "%s", v);
		l->line[l->n] = line;
		l->n++;
	}
	return 0;
}

TEST(properties_syntax)
{
	const char *text = "# comment\n"
	                   "! another comment \\\n"
	                   "a=1\n"
	                   "  b : 2  \n"
	                   "c 3\n"
	                   "\n"
	                   "d=x\\\n"
	                   "    y\\\n"
	                   "  z\n"
	                   "e=tab\\there\\nnl\n"
	                   "f=\\u0041\\u00e9\n"
	                   "g\\=h=v\n"
	                   "i\\ j=sp\n"
	                   "k=\n"
	                   "l\r\n"
	                   "m=crlf\r\n"
	                   "n=a=b:c\n"
	                   "o=back\\\\\n"
	                   "p=last";
	struct kv_list l = {0};
	char err[128];
	CHECK_EQ_INT(config_parse_properties(text, strlen(text), collect, &l, err, sizeof(err)), 0);
	CHECK_EQ_INT(l.n, 14);
	CHECK(strcmp(l.key[0], "a") == 0 && strcmp(l.val[0], "1") == 0);
	CHECK_EQ_INT(l.line[0], 3);
	CHECK(strcmp(l.key[1], "b") == 0 && strcmp(l.val[1], "2") == 0);
	CHECK(strcmp(l.key[2], "c") == 0 && strcmp(l.val[2], "3") == 0);
	CHECK(strcmp(l.key[3], "d") == 0 && strcmp(l.val[3], "xyz") == 0);
	CHECK_EQ_INT(l.line[3], 7);
	CHECK(strcmp(l.key[4], "e") == 0 && strcmp(l.val[4], "tab\there\nnl") == 0);
	CHECK(strcmp(l.key[5], "f") == 0 && strcmp(l.val[5], "A\xc3\xa9") == 0);
	CHECK(strcmp(l.key[6], "g=h") == 0 && strcmp(l.val[6], "v") == 0);
	CHECK(strcmp(l.key[7], "i j") == 0 && strcmp(l.val[7], "sp") == 0);
	CHECK(strcmp(l.key[8], "k") == 0 && strcmp(l.val[8], "") == 0);
	CHECK(strcmp(l.key[9], "l") == 0 && strcmp(l.val[9], "") == 0);
	CHECK(strcmp(l.key[10], "m") == 0 && strcmp(l.val[10], "crlf") == 0);
	CHECK_EQ_INT(l.line[10], 16);
	CHECK(strcmp(l.key[11], "n") == 0 && strcmp(l.val[11], "a=b:c") == 0);
	CHECK(strcmp(l.key[12], "o") == 0 && strcmp(l.val[12], "back\\") == 0);
	CHECK(strcmp(l.key[13], "p") == 0 && strcmp(l.val[13], "last") == 0);
	CHECK_EQ_INT(l.n, 14);
}

TEST(properties_bad_unicode_escape)
{
	const char *text = "a=1\nb=\\u12G4\n";
	struct kv_list l = {0};
	char err[128] = "";
	CHECK_EQ_INT(config_parse_properties(text, strlen(text), collect, &l, err, sizeof(err)),
	             ERR_INVALID_CONFIG);
	CHECK(strstr(err, "line 2") != NULL);
}

TEST(load_file_with_kafka_sample)
{
	struct broker_config c;
	char err[512] = "";
	int rc = load_text(&c,
	                   "process.roles=broker,controller\n"
	                   "node.id=1\n"
	                   "controller.quorum.bootstrap.servers=localhost:9093\n"
	                   "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\n"
	                   "inter.broker.listener.name=PLAINTEXT\n"
	                   "advertised.listeners=PLAINTEXT://localhost:9092,CONTROLLER://"
	                   "localhost:9093\n"
	                   "controller.listener.names=CONTROLLER\n"
	                   "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:"
	                   "PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL\n"
	                   "num.network.threads=3\nnum.io.threads=8\n"
	                   "socket.send.buffer.bytes=102400\nsocket.receive.buffer.bytes=102400\n"
	                   "socket.request.max.bytes=104857600\n"
	                   "log.dirs=/tmp/kraft-combined-logs\n"
	                   "num.partitions=1\nnum.recovery.threads.per.data.dir=1\n"
	                   "offsets.topic.replication.factor=1\n"
	                   "share.coordinator.state.topic.replication.factor=1\n"
	                   "share.coordinator.state.topic.min.isr=1\n"
	                   "transaction.state.log.replication.factor=1\n"
	                   "transaction.state.log.min.isr=1\n"
	                   "log.retention.hours=168\nlog.segment.bytes=1073741824\n"
	                   "log.retention.check.interval.ms=300000\n"
	                   "group.initial.rebalance.delay.ms=0\n"
	                   "zookeeper.connect=localhost:2181\n"
	                   "broker.rack=r1\n",
	                   err, sizeof(err));
	if (rc)
		fprintf(stderr, "%s\n", err);
	CHECK_EQ_INT(rc, 0);
	CHECK(strcmp(c.listener_name, "PLAINTEXT") == 0);
	CHECK(strcmp(c.listen_host, "") == 0);
	CHECK_EQ_INT(c.listen_port, 9092);
	CHECK(strcmp(c.advertised_host, "localhost") == 0);
	CHECK_EQ_INT(c.advertised_port, 9092);
	CHECK(strcmp(c.log_dirs, "/tmp/kraft-combined-logs") == 0);
	CHECK_EQ_INT(c.group_initial_rebalance_delay_ms, 0);
	CHECK(strcmp(c.broker_rack, "r1") == 0);
	CHECK(strcmp(c.process_roles, "broker,controller") == 0);
}

TEST(unknown_key_warns_not_fatal)
{
	struct broker_config c;
	char err[256] = "";
	CHECK_EQ_INT(load_text(&c, "foo.bar=1\nnum.partitions=4\n", err, sizeof(err)), 0);
	CHECK_EQ_INT(c.num_partitions, 4);
	CHECK_EQ_INT(broker_config_set(&c, "foo.bar", "1", err, sizeof(err)), ERR_NOT_FOUND);
	CHECK(strcmp(err, "The configuration 'foo.bar' was supplied but isn't a known config.") ==
	      0);
}

TEST(bad_values_rejected_with_message)
{
	struct broker_config c;
	char err[256];
	broker_config_default(&c);
	CHECK_EQ_INT(broker_config_set(&c, "log.segment.bytes", "-5", err, sizeof(err)),
	             ERR_INVALID_CONFIG);
	CHECK(strcmp(err, "Invalid value -5 for configuration log.segment.bytes: Value must be at "
	                  "least 14") == 0);
	CHECK_EQ_INT(c.log.segment_bytes, 1073741824);
	CHECK_EQ_INT(broker_config_set(&c, "num.partitions", "x", err, sizeof(err)),
	             ERR_INVALID_CONFIG);
	CHECK(strcmp(err, "Invalid value x for configuration num.partitions: Not a number of type "
	                  "INT") == 0);
	CHECK_EQ_INT(broker_config_set(&c, "message.max.bytes", "4294967296", err, sizeof(err)),
	             ERR_INVALID_CONFIG);
	CHECK_EQ_INT(broker_config_set(&c, "log.retention.bytes", "1e3", err, sizeof(err)),
	             ERR_INVALID_CONFIG);
	CHECK_EQ_INT(broker_config_set(&c, "auto.create.topics.enable", "yes", err, sizeof(err)),
	             ERR_INVALID_CONFIG);
	CHECK(strstr(err, "Expected value to be either true or false") != NULL);
	CHECK_EQ_INT(
	    broker_config_set(&c, "auto.create.topics.enable", " FALSE ", err, sizeof(err)), 0);
	CHECK(!c.auto_create_topics_enable);
	CHECK_EQ_INT(broker_config_set(&c, "compression.type", "brotli", err, sizeof(err)),
	             ERR_INVALID_CONFIG);
	CHECK(strstr(err, "String must be one of: uncompressed, zstd, lz4, snappy, gzip, "
	                  "producer") != NULL);
	CHECK_EQ_INT(broker_config_set(&c, "log.cleanup.policy", "delete,bogus", err, sizeof(err)),
	             ERR_INVALID_CONFIG);
	CHECK_EQ_INT(
	    broker_config_set(&c, "log.cleaner.min.cleanable.ratio", "1.5", err, sizeof(err)),
	    ERR_INVALID_CONFIG);
	CHECK(strstr(err, "Value must be no more than 1") != NULL);
	CHECK_EQ_INT(
	    broker_config_set(&c, "log.cleaner.min.cleanable.ratio", "nan", err, sizeof(err)),
	    ERR_INVALID_CONFIG);
	CHECK_EQ_INT(broker_config_set(&c, "listeners", "PLAINTEXT//x:1", err, sizeof(err)),
	             ERR_INVALID_CONFIG);
	CHECK_EQ_INT(broker_config_set(&c, "fjord.log.level", "loud", err, sizeof(err)),
	             ERR_INVALID_CONFIG);
	CHECK_EQ_INT(broker_config_set(&c, "fjord.log.level", "debug", err, sizeof(err)), 0);
	CHECK(strcmp(c.log_level, "DEBUG") == 0);
	CHECK_EQ_INT(broker_config_set(&c, "compression.gzip.level", "0", err, sizeof(err)),
	             ERR_INVALID_CONFIG);
	CHECK_EQ_INT(broker_config_set(&c, "compression.gzip.level", "9", err, sizeof(err)), 0);
}

TEST(load_reports_file_and_line)
{
	struct broker_config c;
	char err[512] = "";
	CHECK_EQ_INT(
	    load_text(&c, "# hi\nnum.partitions=2\nlog.segment.bytes=abc\n", err, sizeof(err)),
	    ERR_INVALID_CONFIG);
	CHECK(strstr(err, "server.properties:3: Invalid value abc for configuration "
	                  "log.segment.bytes") != NULL);
	char path[600];
	snprintf(path, sizeof(path), "%s/none.properties", unit_tmpdir());
	CHECK(broker_config_load(&c, path, err, sizeof(err)) < 0);
}

TEST(listener_parsing)
{
	struct config_listener l[4];
	char err[256];
	CHECK_EQ_INT(config_parse_listeners("PLAINTEXT://:9092", l, 4, err, sizeof(err)), 1);
	CHECK(strcmp(l[0].name, "PLAINTEXT") == 0 && l[0].host[0] == '\0' && l[0].port == 9092);
	CHECK_EQ_INT(config_parse_listeners(" plaintext://[::1]:9093 , SSL://h.example:0 ", l, 4,
	                                    err, sizeof(err)),
	             2);
	CHECK(strcmp(l[0].name, "PLAINTEXT") == 0 && strcmp(l[0].host, "::1") == 0);
	CHECK_EQ_INT(l[0].port, 9093);
	CHECK(strcmp(l[1].name, "SSL") == 0 && strcmp(l[1].host, "h.example") == 0);
	CHECK_EQ_INT(l[1].port, 0);
	CHECK_EQ_INT(config_parse_listeners("", l, 4, err, sizeof(err)), 0);
	const char *bad[] = {
	    "PLAINTEXT//x:1", "PLAINTEXT://x:99999", "PLAINTEXT://x",  "PLAINTEXT://a:b:1",
	    "://x:1",         "PLAINTEXT://[::1:9",  "PLAINTEXT://x:", "PLAINTEXT://x:1,"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(config_parse_listeners(bad[i], l, 4, err, sizeof(err)),
		             ERR_INVALID_CONFIG);
	CHECK(strstr(err, "to a broker endpoint") != NULL);
}

TEST(served_and_advertised_listener)
{
	struct broker_config c;
	char err[256];
	broker_config_default(&c);
	CHECK_EQ_INT(set(&c, "listeners", "CONTROLLER://:9093,PLAINTEXT://0.0.0.0:9099"), 0);
	CHECK_EQ_INT(set(&c, "listener.security.protocol.map",
	                 "CONTROLLER:PLAINTEXT,PLAINTEXT:"
	                 "PLAINTEXT"),
	             0);
	CHECK_EQ_INT(set(&c, "controller.listener.names", "CONTROLLER"), 0);
	CHECK_EQ_INT(broker_config_finish(&c, err, sizeof(err)), 0);
	CHECK(strcmp(c.listen_host, "0.0.0.0") == 0);
	CHECK_EQ_INT(c.listen_port, 9099);
	CHECK(strcmp(c.advertised_host, "localhost") == 0);
	CHECK_EQ_INT(c.advertised_port, 9099);
	CHECK_EQ_INT(set(&c, "advertised.listeners", "PLAINTEXT://broker1:19092"), 0);
	CHECK_EQ_INT(broker_config_finish(&c, err, sizeof(err)), 0);
	CHECK(strcmp(c.advertised_host, "broker1") == 0);
	CHECK_EQ_INT(c.advertised_port, 19092);
	CHECK_EQ_INT(set(&c, "advertised.listeners", "PLAINTEXT://0.0.0.0:19092"), 0);
	CHECK_EQ_INT(broker_config_finish(&c, err, sizeof(err)), ERR_INVALID_CONFIG);
	CHECK(strstr(err, "nonroutable meta-address") != NULL);

	/* A custom listener name mapped to PLAINTEXT is served. */
	broker_config_default(&c);
	CHECK_EQ_INT(set(&c, "listeners", "INTERNAL://[::]:9094"), 0);
	CHECK_EQ_INT(broker_config_finish(&c, err, sizeof(err)), ERR_INVALID_CONFIG);
	CHECK(strstr(err, "No security protocol defined for listener INTERNAL") != NULL);
	CHECK_EQ_INT(set(&c, "listener.security.protocol.map", "INTERNAL:PLAINTEXT"), 0);
	CHECK_EQ_INT(broker_config_finish(&c, err, sizeof(err)), 0);
	CHECK(strcmp(c.listener_name, "INTERNAL") == 0);
	CHECK(strcmp(c.listen_host, "::") == 0);
	CHECK(strcmp(c.advertised_host, "localhost") == 0);

	/* Only SSL: nothing to serve yet. */
	broker_config_default(&c);
	CHECK_EQ_INT(set(&c, "listeners", "SSL://:9093"), 0);
	CHECK_EQ_INT(broker_config_finish(&c, err, sizeof(err)), ERR_INVALID_CONFIG);
	CHECK(strstr(err, "no PLAINTEXT listener") != NULL);

	/* Duplicate names. */
	CHECK(set(&c, "listeners", "PLAINTEXT://:1,PLAINTEXT://:2") == ERR_INVALID_CONFIG);
}

TEST(topic_config_defaults_from_broker)
{
	struct broker_config b;
	struct topic_config t;
	char err[256];
	broker_config_default(&b);
	CHECK_EQ_INT(topic_config_resolve(&b, NULL, 0, &t, err, sizeof(err)), 0);
	CHECK_EQ_INT(t.log.retention_ms, 604800000);
	CHECK_EQ_INT(t.log.segment_bytes, 1073741824);
	CHECK_EQ_INT(t.max_message_bytes, 1048588);
	CHECK(t.cleanup_delete && !t.cleanup_compact);
	CHECK(t.flush_messages == INT64_MAX && t.flush_ms == INT64_MAX);
	CHECK(t.fsync_before_ack);
	CHECK_EQ_INT(t.min_insync_replicas, 1);
	CHECK(strcmp(t.compression_type, "producer") == 0);
	CHECK_EQ_INT(t.delete_retention_ms, 86400000);
	CHECK(t.max_compaction_lag_ms == INT64_MAX);
	CHECK(t.min_cleanable_dirty_ratio == 0.5);
	CHECK_EQ_INT(t.message_timestamp_after_max_ms, 3600000);

	CHECK_EQ_INT(set(&b, "log.retention.hours", "1"), 0);
	CHECK_EQ_INT(set(&b, "log.segment.bytes", "1000"), 0);
	CHECK_EQ_INT(set(&b, "message.max.bytes", "2000"), 0);
	CHECK_EQ_INT(set(&b, "log.cleanup.policy", "compact"), 0);
	CHECK_EQ_INT(set(&b, "log.cleaner.min.cleanable.ratio", "0.25"), 0);
	CHECK_EQ_INT(topic_config_resolve(&b, NULL, 0, &t, err, sizeof(err)), 0);
	CHECK_EQ_INT(t.log.retention_ms, 3600000);
	CHECK_EQ_INT(t.log.segment_bytes, 1000);
	CHECK_EQ_INT(t.max_message_bytes, 2000);
	CHECK(t.cleanup_compact && !t.cleanup_delete);
	CHECK(t.min_cleanable_dirty_ratio == 0.25);
}

TEST(topic_config_overrides_and_errors)
{
	struct broker_config b;
	struct topic_config t;
	char err[256];
	broker_config_default(&b);
	struct config_kv kv[] = {
	    {"retention.ms", "1000"},
	    {"segment.bytes", "4096"},
	    {"cleanup.policy", "compact, delete"},
	    {"message.timestamp.type", "LogAppendTime"},
	    {"max.message.bytes", "100"},
	    {"min.insync.replicas", "2"},
	    {"compression.type", "zstd"},
	    {"segment.ms", "60000"},
	    {"retention.bytes", "-1"},
	    {"unclean.leader.election.enable", "false"},
	    {"message.downconversion.enable", "true"},
	    {"preallocate", "true"},
	    {"segment.index.bytes", NULL}, /* NULL = use the default */
	};
	CHECK_EQ_INT(topic_config_resolve(&b, kv, 13, &t, err, sizeof(err)), 0);
	CHECK_EQ_INT(t.log.retention_ms, 1000);
	CHECK_EQ_INT(t.log.segment_bytes, 4096);
	CHECK(t.cleanup_compact && t.cleanup_delete);
	CHECK(strcmp(t.cleanup_policy, "compact,delete") == 0);
	CHECK(t.log.log_append_time);
	CHECK_EQ_INT(t.max_message_bytes, 100);
	CHECK_EQ_INT(t.min_insync_replicas, 2);
	CHECK(strcmp(t.compression_type, "zstd") == 0);
	CHECK_EQ_INT(t.log.segment_ms, 60000);
	CHECK(t.preallocate);
	CHECK_EQ_INT(t.log.segment_index_bytes, 10485760);

	struct config_kv bad1[] = {{"foo", "1"}};
	CHECK_EQ_INT(topic_config_resolve(&b, bad1, 1, &t, err, sizeof(err)), ERR_INVALID_CONFIG);
	CHECK(strcmp(err, "Unknown topic config name: foo") == 0);
	struct config_kv bad2[] = {{"segment.bytes", "-5"}};
	CHECK_EQ_INT(topic_config_resolve(&b, bad2, 1, &t, err, sizeof(err)), ERR_INVALID_CONFIG);
	CHECK(strcmp(err, "Invalid value -5 for configuration segment.bytes: Value must be at "
	                  "least 14") == 0);
	struct config_kv bad3[] = {{"retention.ms", "-2"}};
	CHECK_EQ_INT(topic_config_resolve(&b, bad3, 1, &t, err, sizeof(err)), ERR_INVALID_CONFIG);
	struct config_kv bad4[] = {{"min.compaction.lag.ms", "10"}, {"max.compaction.lag.ms", "5"}};
	CHECK_EQ_INT(topic_config_resolve(&b, bad4, 2, &t, err, sizeof(err)), ERR_INVALID_CONFIG);
	CHECK(strstr(err, "conflict topic config setting min.compaction.lag.ms (10) > "
	                  "max.compaction.lag.ms (5)") != NULL);
	struct config_kv bad5[] = {{"cleanup.policy", ""}};
	CHECK_EQ_INT(topic_config_resolve(&b, bad5, 1, &t, err, sizeof(err)), ERR_INVALID_CONFIG);
	struct config_kv bad6[] = {{"remote.storage.enable", "true"}};
	CHECK_EQ_INT(topic_config_resolve(&b, bad6, 1, &t, err, sizeof(err)), ERR_INVALID_CONFIG);
	struct config_kv bad7[] = {{"log.retention.ms", "1"}}; /* a broker key */
	CHECK_EQ_INT(topic_config_resolve(&b, bad7, 1, &t, err, sizeof(err)), ERR_INVALID_CONFIG);

	CHECK_EQ_INT(topic_config_validate("retention.ms", "100", err, sizeof(err)), 0);
	CHECK_EQ_INT(topic_config_validate("retention.ms", "abc", err, sizeof(err)),
	             ERR_INVALID_CONFIG);
	CHECK_EQ_INT(topic_config_validate("nope", "1", err, sizeof(err)), ERR_INVALID_CONFIG);
	CHECK_EQ_INT(topic_config_validate("min.cleanable.dirty.ratio", "0.9", err, sizeof(err)),
	             0);
}

TEST(fsync_before_ack_derivation)
{
	struct broker_config b;
	struct topic_config t;
	char err[256];
	broker_config_default(&b);
	struct config_kv fm[] = {{"flush.messages", "1000"}};
	struct config_kv fms[] = {{"flush.ms", "1000"}};
	struct config_kv one[] = {{"flush.messages", "1"}};
	CHECK_EQ_INT(topic_config_resolve(&b, NULL, 0, &t, err, sizeof(err)), 0);
	CHECK(t.fsync_before_ack);
	CHECK_EQ_INT(topic_config_resolve(&b, fm, 1, &t, err, sizeof(err)), 0);
	CHECK(!t.fsync_before_ack);
	CHECK_EQ_INT(t.flush_messages, 1000);
	CHECK_EQ_INT(topic_config_resolve(&b, fms, 1, &t, err, sizeof(err)), 0);
	CHECK(!t.fsync_before_ack);
	CHECK_EQ_INT(t.flush_ms, 1000);
	CHECK_EQ_INT(topic_config_resolve(&b, one, 1, &t, err, sizeof(err)), 0);
	CHECK(t.fsync_before_ack);

	CHECK_EQ_INT(set(&b, "log.flush.interval.ms", "2000"), 0);
	CHECK_EQ_INT(b.log_flush_interval_ms, 2000);
	CHECK_EQ_INT(topic_config_resolve(&b, NULL, 0, &t, err, sizeof(err)), 0);
	CHECK(!t.fsync_before_ack);
	CHECK_EQ_INT(t.flush_ms, 2000);

	broker_config_default(&b);
	CHECK_EQ_INT(set(&b, "log.flush.interval.messages", "10000"), 0);
	CHECK_EQ_INT(topic_config_resolve(&b, NULL, 0, &t, err, sizeof(err)), 0);
	CHECK(!t.fsync_before_ack);
	CHECK_EQ_INT(t.flush_messages, 10000);
}

TEST(describe_values_and_sources)
{
	struct broker_config b;
	struct topic_config t;
	char err[256], buf[128];
	enum config_source src;
	broker_config_default(&b);
	CHECK_EQ_INT(set(&b, "log.retention.hours", " 24 "), 0);

	const struct config_def *d = config_broker_def_find("log.retention.hours");
	CHECK(d && broker_config_is_set(&b, d));
	CHECK(broker_config_get(&b, d, buf, sizeof(buf), &src));
	CHECK(strcmp(buf, "24") == 0 && src == CONFIG_SOURCE_STATIC_BROKER);
	d = config_broker_def_find("log.retention.ms");
	CHECK(d && !broker_config_get(&b, d, buf, sizeof(buf), &src));
	CHECK(src == CONFIG_SOURCE_DEFAULT && d->type == CONFIG_TYPE_LONG);
	d = config_broker_def_find("num.partitions");
	CHECK(broker_config_get(&b, d, buf, sizeof(buf), &src));
	CHECK(strcmp(buf, "1") == 0 && src == CONFIG_SOURCE_DEFAULT);

	struct config_kv kv[] = {{"segment.bytes", "2048"}};
	CHECK_EQ_INT(topic_config_resolve(&b, kv, 1, &t, err, sizeof(err)), 0);
	d = config_topic_def_find("retention.ms");
	CHECK(d && strcmp(d->synonyms[2], "log.retention.hours") == 0);
	CHECK(topic_config_get(&b, &t, kv, 1, d, buf, sizeof(buf), &src));
	CHECK(strcmp(buf, "86400000") == 0 && src == CONFIG_SOURCE_STATIC_BROKER);
	d = config_topic_def_find("segment.bytes");
	CHECK(topic_config_get(&b, &t, kv, 1, d, buf, sizeof(buf), &src));
	CHECK(strcmp(buf, "2048") == 0 && src == CONFIG_SOURCE_TOPIC);
	d = config_topic_def_find("min.cleanable.dirty.ratio");
	CHECK(topic_config_get(&b, &t, kv, 1, d, buf, sizeof(buf), &src));
	CHECK(strcmp(buf, "0.5") == 0 && src == CONFIG_SOURCE_DEFAULT);
	d = config_topic_def_find("flush.ms");
	CHECK(topic_config_get(&b, &t, kv, 1, d, buf, sizeof(buf), &src));
	CHECK(strcmp(buf, "9223372036854775807") == 0);
	d = config_topic_def_find("cleanup.policy");
	CHECK(topic_config_get(&b, &t, kv, 1, d, buf, sizeof(buf), &src));
	CHECK(strcmp(buf, "delete") == 0);

	/* The topic table is in name order, for binary search and listing. */
	for (int i = 1; i < config_topic_def_count(); i++)
		CHECK(strcmp(config_topic_def(i - 1)->name, config_topic_def(i)->name) < 0);
	/* Every synonym names a broker key; every default parses. */
	for (int i = 0; i < config_topic_def_count(); i++) {
		d = config_topic_def(i);
		for (int k = 0; k < 3 && d->synonyms[k]; k++)
			CHECK(config_broker_def_find(d->synonyms[k]) != NULL);
		CHECK_EQ_INT(topic_config_validate(d->name, d->default_value, err, sizeof(err)), 0);
	}
	for (int i = 0; i < config_broker_def_count(); i++)
		for (int k = 0; k < i; k++)
			CHECK(strcmp(config_broker_def(i)->name, config_broker_def(k)->name) != 0);
}

TEST(many_sets_reuse_value_space)
{
	struct broker_config c;
	char v[32], buf[64];
	broker_config_default(&c);
	for (int i = 1; i < 20000; i++) {
		snprintf(v, sizeof(v), "%d", i);
		CHECK_EQ_INT(set(&c, "num.partitions", v), 0);
		CHECK_EQ_INT(set(&c, "broker.rack", "rack-with-a-long-name"), 0);
	}
	CHECK_EQ_INT(c.num_partitions, 19999);
	CHECK(broker_config_get(&c, config_broker_def_find("num.partitions"), buf, sizeof(buf),
	                        NULL));
	CHECK(strcmp(buf, "19999") == 0);
	CHECK(broker_config_get(&c, config_broker_def_find("broker.rack"), buf, sizeof(buf), NULL));
	CHECK(strcmp(buf, "rack-with-a-long-name") == 0);
}

int main(int argc, char **argv)
{
	return unit_main(argc, argv);
}
