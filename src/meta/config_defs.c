/*
 * config_defs.c: the table of Kafka configuration keys Fjord knows — broker
 * keys (server.properties) and topic keys — with Kafka's types, defaults and
 * valid ranges, and the generic code that parses, validates, stores and
 * prints one value according to its definition.
 *
 * The defaults and ranges are Kafka 4.x's (KafkaConfig, LogConfig,
 * ServerLogConfigs), except where Fjord states a safer or single-node default:
 * node.id 1, log.dir "./data", listeners "PLAINTEXT://localhost:9092",
 * offsets.topic.replication.factor, transaction.state.log.replication.factor
 * and transaction.state.log.min.isr 1. One deliberate departure:
 * log.segment.bytes / segment.bytes accept values down to 14 bytes (Kafka 3.x's
 * minimum; Kafka 4.x raised it to 1 MiB), so tests can roll segments quickly.
 *
 * Every default string goes through the same parser as a configured value
 * (broker_config_default), so a default cannot drift from its validation.
 * Parsing of whole files, listeners and cross-key rules live in config.c.
 */
#include "meta/config_int.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/assert.h"
#include "base/err.h"

#define LONG_MAX_S "9223372036854775807"
#define INT_MAX_S  "2147483647"

/* Storage kind of an integer field, from its size. */
#define INT_ST(sz)     ((sz) == 2 ? CONFIG_ST_I16 : (sz) == 4 ? CONFIG_ST_I32 : CONFIG_ST_I64)
#define BFIELD_SIZE(f) sizeof(((struct broker_config *)0)->f)
#define TFIELD_SIZE(f) sizeof(((struct topic_config *)0)->f)
#define BOFF(f)        ((long)offsetof(struct broker_config, f))
#define TOFF(f)        ((long)offsetof(struct topic_config, f))
#define RO             CONFIG_F_READ_ONLY

/* Integer key of Kafka type t stored in broker_config.f, valid in [lo, hi]. */
#define B_NUM(n, t, f, dv, lo, hi, fl)                                                             \
	{                                                                                          \
		.name = n, .type = t, .default_value = dv, .flags = RO | (fl), .min = lo,          \
		.max = hi, .storage = INT_ST(BFIELD_SIZE(f)), .offset = BOFF(f)                    \
	}
#define B_INT(n, f, dv, lo)   B_NUM(n, CONFIG_TYPE_INT, f, dv, lo, INT32_MAX, 0)
#define B_LONG(n, f, dv, lo)  B_NUM(n, CONFIG_TYPE_LONG, f, dv, lo, INT64_MAX, 0)
#define B_SHORT(n, f, dv, lo) B_NUM(n, CONFIG_TYPE_SHORT, f, dv, lo, INT16_MAX, 0)
#define B_BOOL(n, f, dv)                                                                           \
	{                                                                                          \
		.name = n, .type = CONFIG_TYPE_BOOLEAN, .default_value = dv, .flags = RO,          \
		.storage = CONFIG_ST_BOOL, .offset = BOFF(f)                                       \
	}
#define B_DBL(n, f, dv, lo, hi)                                                                    \
	{                                                                                          \
		.name = n, .type = CONFIG_TYPE_DOUBLE, .default_value = dv, .flags = RO,           \
		.dmin = lo, .dmax = hi, .storage = CONFIG_ST_DBL, .offset = BOFF(f)                \
	}
#define B_STR(n, t, f, dv, ch, fl, chk)                                                            \
	{                                                                                          \
		.name = n, .type = t, .default_value = dv, .flags = RO | (fl), .choices = ch,      \
		.check = chk, .storage = CONFIG_ST_STR, .offset = BOFF(f), .size = BFIELD_SIZE(f)  \
	}
/* Accepted and validated, not stored: no effect in Fjord (yet). */
#define B_UNUSED_NUM(n, t, dv, lo, hi)                                                             \
	{                                                                                          \
		.name = n, .type = t, .default_value = dv, .flags = RO | CONFIG_F_UNUSED,          \
		.min = lo, .max = hi, .offset = -1                                                 \
	}
#define B_UNUSED(n, t, dv, fl)                                                                     \
	{                                                                                          \
		.name = n, .type = t, .default_value = dv, .flags = RO | CONFIG_F_UNUSED | (fl),   \
		.min = INT64_MIN, .max = INT64_MAX, .offset = -1                                   \
	}

#define T_NUM(n, t, f, dv, lo, hi, s0, s1, s2)                                                     \
	{                                                                                          \
		.name = n, .type = t, .default_value = dv, .min = lo, .max = hi,                   \
		.synonyms = {s0, s1, s2}, .storage = INT_ST(TFIELD_SIZE(f)), .offset = TOFF(f)     \
	}
#define T_BOOL(n, f, dv, s0, chk)                                                                  \
	{                                                                                          \
		.name = n, .type = CONFIG_TYPE_BOOLEAN, .default_value = dv, .synonyms = {s0},     \
		.check = chk, .storage = CONFIG_ST_BOOL, .offset = TOFF(f)                         \
	}
#define T_STR(n, t, f, dv, ch, fl, s0)                                                             \
	{                                                                                          \
		.name = n, .type = t, .default_value = dv, .flags = fl, .choices = ch,             \
		.synonyms = {s0}, .storage = CONFIG_ST_STR, .offset = TOFF(f),                     \
		.size = TFIELD_SIZE(f)                                                             \
	}

static const char *const compression_types[] = {"uncompressed", "zstd",     "lz4", "snappy",
                                                "gzip",         "producer", NULL};
static const char *const cleanup_policies[] = {"compact", "delete", NULL};
static const char *const timestamp_types[] = {"CreateTime", "LogAppendTime", NULL};
static const char *const process_roles[] = {"broker", "controller", NULL};

static int check_listeners(const struct config_def *d, const char *v, char *err, size_t errlen);
static int check_protocol_map(const struct config_def *d, const char *v, char *err, size_t errlen);
static int check_gzip_level(const struct config_def *d, const char *v, char *err, size_t errlen);
static int check_log_level(const struct config_def *d, const char *v, char *err, size_t errlen);
static int check_remote_storage(const struct config_def *d, const char *v, char *err,
                                size_t errlen);

static const struct config_def broker_defs[] = {
    /* Server identity and roles. */
    B_INT("node.id", node_id, "1", 0),
    B_NUM("broker.id", CONFIG_TYPE_INT, broker_id, "-1", -1, INT32_MAX, 0),
    B_STR("process.roles", CONFIG_TYPE_LIST, process_roles, "", process_roles, 0, NULL),
    B_STR("controller.quorum.voters", CONFIG_TYPE_LIST, controller_quorum_voters, "", NULL, 0,
          NULL),
    B_STR("controller.quorum.bootstrap.servers", CONFIG_TYPE_LIST,
          controller_quorum_bootstrap_servers, "", NULL, 0, NULL),
    B_STR("controller.listener.names", CONFIG_TYPE_STRING, controller_listener_names, NULL, NULL,
          CONFIG_F_NULLABLE, NULL),
    B_STR("inter.broker.listener.name", CONFIG_TYPE_STRING, inter_broker_listener_name, NULL, NULL,
          CONFIG_F_NULLABLE, NULL),
    B_STR("listener.security.protocol.map", CONFIG_TYPE_STRING, listener_security_protocol_map,
          "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT", NULL, 0,
          check_protocol_map),
    B_STR("listeners", CONFIG_TYPE_LIST, listeners, "PLAINTEXT://localhost:9092", NULL,
          CONFIG_F_NONEMPTY, check_listeners),
    B_STR("advertised.listeners", CONFIG_TYPE_LIST, advertised_listeners, NULL, NULL,
          CONFIG_F_NULLABLE, check_listeners),
    B_STR("broker.rack", CONFIG_TYPE_STRING, broker_rack, NULL, NULL, CONFIG_F_NULLABLE, NULL),
    B_UNUSED("zookeeper.connect", CONFIG_TYPE_STRING, NULL, CONFIG_F_NULLABLE),
    B_UNUSED("zookeeper.connection.timeout.ms", CONFIG_TYPE_INT, NULL, CONFIG_F_NULLABLE),
    B_UNUSED("metadata.log.dir", CONFIG_TYPE_STRING, NULL, CONFIG_F_NULLABLE),
    B_STR("fjord.log.level", CONFIG_TYPE_STRING, log_level, "INFO", NULL, 0, check_log_level),
    B_STR("fjord.http.listener", CONFIG_TYPE_STRING, http_listener, "127.0.0.1:9644", NULL, 0,
          NULL),

    /* Network and threads. */
    B_INT("message.max.bytes", message_max_bytes, "1048588", 0),
    B_INT("socket.request.max.bytes", socket_request_max_bytes, "104857600", 1),
    /* Kafka's default is 102400; Fjord's -1 leaves the kernel's autotuning on, which moves
     * more per core (see README). A value set explicitly is applied as in Kafka. */
    B_NUM("socket.send.buffer.bytes", CONFIG_TYPE_INT, socket_send_buffer_bytes, "-1", -1,
          INT32_MAX, 0),
    B_NUM("socket.receive.buffer.bytes", CONFIG_TYPE_INT, socket_receive_buffer_bytes, "-1", -1,
          INT32_MAX, 0),
    B_INT("socket.listen.backlog.size", socket_listen_backlog_size, "50", 1),
    B_INT("num.network.threads", num_network_threads, "3", 1),
    B_INT("num.io.threads", num_io_threads, "8", 1),
    B_INT("num.recovery.threads.per.data.dir", num_recovery_threads_per_data_dir, "2", 1),
    B_UNUSED_NUM("background.threads", CONFIG_TYPE_INT, "10", 1, INT32_MAX),
    B_INT("queued.max.requests", queued_max_requests, "500", 1),
    B_LONG("connections.max.idle.ms", connections_max_idle_ms, "600000", INT64_MIN),
    B_INT("max.connections", max_connections, INT_MAX_S, 0),
    B_INT("max.connections.per.ip", max_connections_per_ip, INT_MAX_S, 0),
    B_INT("fetch.max.bytes", fetch_max_bytes, "57671680", 1024),

    /* Logs. */
    B_STR("log.dirs", CONFIG_TYPE_LIST, log_dirs, NULL, NULL, CONFIG_F_NULLABLE | CONFIG_F_NONEMPTY,
          NULL),
    B_STR("log.dir", CONFIG_TYPE_LIST, log_dir_, "./data", NULL, CONFIG_F_NONEMPTY, NULL),
    B_INT("num.partitions", num_partitions, "1", 1),
    B_NUM("default.replication.factor", CONFIG_TYPE_INT, default_replication_factor, "1", 1,
          INT16_MAX, 0),
    B_BOOL("auto.create.topics.enable", auto_create_topics_enable, "true"),
    B_BOOL("delete.topic.enable", delete_topic_enable, "true"),
    B_INT("log.segment.bytes", log.segment_bytes, "1073741824", 14),
    B_NUM("log.roll.ms", CONFIG_TYPE_LONG, log_roll_ms_, NULL, INT64_MIN, INT64_MAX,
          CONFIG_F_NULLABLE),
    B_INT("log.roll.hours", log_roll_hours_, "168", 1),
    B_NUM("log.roll.jitter.ms", CONFIG_TYPE_LONG, log_roll_jitter_ms_, NULL, INT64_MIN, INT64_MAX,
          CONFIG_F_NULLABLE),
    B_INT("log.roll.jitter.hours", log_roll_jitter_hours_, "0", 0),
    B_NUM("log.retention.ms", CONFIG_TYPE_LONG, log_retention_ms_, NULL, INT64_MIN, INT64_MAX,
          CONFIG_F_NULLABLE),
    B_NUM("log.retention.minutes", CONFIG_TYPE_INT, log_retention_minutes_, NULL, INT32_MIN,
          INT32_MAX, CONFIG_F_NULLABLE),
    B_NUM("log.retention.hours", CONFIG_TYPE_INT, log_retention_hours_, "168", INT32_MIN, INT32_MAX,
          0),
    B_LONG("log.retention.bytes", log.retention_bytes, "-1", INT64_MIN),
    B_LONG("log.retention.check.interval.ms", log_retention_check_interval_ms, "300000", 1),
    B_STR("log.cleanup.policy", CONFIG_TYPE_LIST, cleanup_policy, "delete", cleanup_policies,
          CONFIG_F_NONEMPTY, NULL),
    B_INT("log.index.size.max.bytes", log.segment_index_bytes, "10485760", 4),
    B_INT("log.index.interval.bytes", log.index_interval_bytes, "4096", 0),
    B_LONG("log.segment.delete.delay.ms", log.file_delete_delay_ms, "60000", 0),
    B_LONG("log.flush.interval.messages", log_flush_interval_messages, LONG_MAX_S, 1),
    B_LONG("fjord.log.cache.tail.bytes", log.cache_tail_bytes, "33554432", -1),
    B_BOOL("fjord.log.direct.writes", log.direct_writes, "true"),
    B_NUM("log.flush.interval.ms", CONFIG_TYPE_LONG, log_flush_interval_ms, NULL, INT64_MIN,
          INT64_MAX, CONFIG_F_NULLABLE),
    B_LONG("log.flush.scheduler.interval.ms", log_flush_scheduler_interval_ms, LONG_MAX_S,
           INT64_MIN),
    B_INT("log.flush.offset.checkpoint.interval.ms", log_flush_offset_checkpoint_interval_ms,
          "1000", 0),
    B_UNUSED_NUM("log.flush.start.offset.checkpoint.interval.ms", CONFIG_TYPE_INT, "60000", 0,
                 INT32_MAX),
    B_INT("fjord.log.syncfs.min.partitions", log_syncfs_min_partitions, "8", 0),
    B_BOOL("log.preallocate", log_preallocate, "false"),
    B_STR("log.message.timestamp.type", CONFIG_TYPE_STRING, log_message_timestamp_type,
          "CreateTime", timestamp_types, 0, NULL),
    B_LONG("log.message.timestamp.before.max.ms", log_message_timestamp_before_max_ms, LONG_MAX_S,
           0),
    B_LONG("log.message.timestamp.after.max.ms", log_message_timestamp_after_max_ms, "3600000", 0),
    B_UNUSED("log.message.downconversion.enable", CONFIG_TYPE_BOOLEAN, "true", 0),
    B_UNUSED_NUM("log.local.retention.ms", CONFIG_TYPE_LONG, "-2", -2, INT64_MAX),
    B_UNUSED_NUM("log.local.retention.bytes", CONFIG_TYPE_LONG, "-2", -2, INT64_MAX),
    B_UNUSED("remote.log.storage.system.enable", CONFIG_TYPE_BOOLEAN, "false", 0),

    /* Compaction. */
    B_BOOL("log.cleaner.enable", log_cleaner_enable, "true"),
    B_INT("log.cleaner.threads", log_cleaner_threads, "1", 0),
    B_LONG("log.cleaner.backoff.ms", log_cleaner_backoff_ms, "15000", 0),
    B_UNUSED_NUM("log.cleaner.dedupe.buffer.size", CONFIG_TYPE_LONG, "134217728", INT64_MIN,
                 INT64_MAX),
    B_UNUSED_NUM("log.cleaner.io.buffer.size", CONFIG_TYPE_INT, "524288", 0, INT32_MAX),
    B_LONG("log.cleaner.delete.retention.ms", log_cleaner_delete_retention_ms, "86400000", 0),
    B_LONG("log.cleaner.min.compaction.lag.ms", log_cleaner_min_compaction_lag_ms, "0", 0),
    B_LONG("log.cleaner.max.compaction.lag.ms", log_cleaner_max_compaction_lag_ms, LONG_MAX_S, 1),
    B_DBL("log.cleaner.min.cleanable.ratio", log_cleaner_min_cleanable_ratio, "0.5", 0.0, 1.0),

    /* Topic defaults. */
    B_STR("compression.type", CONFIG_TYPE_STRING, compression_type, "producer", compression_types,
          0, NULL),
    {.name = "compression.gzip.level",
     .type = CONFIG_TYPE_INT,
     .default_value = "-1",
     .flags = RO,
     .min = INT32_MIN,
     .max = INT32_MAX,
     .check = check_gzip_level,
     .storage = CONFIG_ST_I32,
     .offset = BOFF(compression_gzip_level)},
    B_NUM("compression.lz4.level", CONFIG_TYPE_INT, compression_lz4_level, "9", 1, 17, 0),
    B_NUM("compression.zstd.level", CONFIG_TYPE_INT, compression_zstd_level, "3", -131072, 22, 0),
    B_INT("min.insync.replicas", min_insync_replicas, "1", 1),
    B_BOOL("unclean.leader.election.enable", unclean_leader_election_enable, "false"),

    /* Consumer groups and offsets. */
    B_INT("offsets.topic.num.partitions", offsets_topic_num_partitions, "50", 1),
    B_SHORT("offsets.topic.replication.factor", offsets_topic_replication_factor, "1", 1),
    B_INT("offsets.topic.segment.bytes", offsets_topic_segment_bytes, "104857600", 1),
    B_INT("offsets.retention.minutes", offsets_retention_minutes, "10080", 1),
    B_LONG("offsets.retention.check.interval.ms", offsets_retention_check_interval_ms, "600000", 1),
    B_INT("offsets.commit.timeout.ms", offsets_commit_timeout_ms, "5000", 1),
    B_UNUSED_NUM("offsets.load.buffer.size", CONFIG_TYPE_INT, "5242880", 1, INT32_MAX),
    B_NUM("group.initial.rebalance.delay.ms", CONFIG_TYPE_INT, group_initial_rebalance_delay_ms,
          "3000", INT32_MIN, INT32_MAX, 0),
    B_NUM("group.min.session.timeout.ms", CONFIG_TYPE_INT, group_min_session_timeout_ms, "6000",
          INT32_MIN, INT32_MAX, 0),
    B_NUM("group.max.session.timeout.ms", CONFIG_TYPE_INT, group_max_session_timeout_ms, "1800000",
          INT32_MIN, INT32_MAX, 0),
    B_INT("group.max.size", group_max_size, INT_MAX_S, 1),
    B_INT("group.consumer.session.timeout.ms", group_consumer_session_timeout_ms, "45000", 1),
    B_INT("group.consumer.heartbeat.interval.ms", group_consumer_heartbeat_interval_ms, "5000", 1),

    /* Transactions and share groups. */
    B_SHORT("transaction.state.log.replication.factor", transaction_state_log_replication_factor,
            "1", 1),
    B_INT("transaction.state.log.min.isr", transaction_state_log_min_isr, "1", 1),
    B_INT("transaction.state.log.num.partitions", transaction_state_log_num_partitions, "50", 1),
    B_INT("transaction.state.log.segment.bytes", transaction_state_log_segment_bytes, "104857600",
          1),
    B_INT("transaction.max.timeout.ms", transaction_max_timeout_ms, "900000", 1),
    B_INT("transactional.id.expiration.ms", transactional_id_expiration_ms, "604800000", 1),
    B_UNUSED_NUM("share.coordinator.state.topic.replication.factor", CONFIG_TYPE_SHORT, "1", 1,
                 INT16_MAX),
    B_UNUSED_NUM("share.coordinator.state.topic.min.isr", CONFIG_TYPE_SHORT, "1", 1, INT16_MAX),

    /* Replication (used once there is a cluster). */
    B_LONG("replica.lag.time.max.ms", replica_lag_time_max_ms, "30000", INT64_MIN),
    B_INT("replica.fetch.max.bytes", replica_fetch_max_bytes, "1048576", 0),
    B_NUM("replica.fetch.wait.max.ms", CONFIG_TYPE_INT, replica_fetch_wait_max_ms, "500", INT32_MIN,
          INT32_MAX, 0),
    B_NUM("num.replica.fetchers", CONFIG_TYPE_INT, num_replica_fetchers, "1", INT32_MIN, INT32_MAX,
          0),
    B_UNUSED_NUM("replica.socket.timeout.ms", CONFIG_TYPE_INT, "30000", INT32_MIN, INT32_MAX),
    B_BOOL("auto.leader.rebalance.enable", auto_leader_rebalance_enable, "true"),
    B_INT("broker.heartbeat.interval.ms", broker_heartbeat_interval_ms, "2000", INT32_MIN),
    B_INT("broker.session.timeout.ms", broker_session_timeout_ms, "9000", INT32_MIN),
};

/* Topic keys, in name order. */
static const struct config_def topic_defs[] = {
    T_STR("cleanup.policy", CONFIG_TYPE_LIST, cleanup_policy, "delete", cleanup_policies,
          CONFIG_F_NONEMPTY, "log.cleanup.policy"),
    {.name = "compression.gzip.level",
     .type = CONFIG_TYPE_INT,
     .default_value = "-1",
     .min = INT32_MIN,
     .max = INT32_MAX,
     .check = check_gzip_level,
     .synonyms = {"compression.gzip.level"},
     .storage = CONFIG_ST_I32,
     .offset = TOFF(compression_gzip_level)},
    T_NUM("compression.lz4.level", CONFIG_TYPE_INT, compression_lz4_level, "9", 1, 17,
          "compression.lz4.level", NULL, NULL),
    T_STR("compression.type", CONFIG_TYPE_STRING, compression_type, "producer", compression_types,
          0, "compression.type"),
    T_NUM("compression.zstd.level", CONFIG_TYPE_INT, compression_zstd_level, "3", -131072, 22,
          "compression.zstd.level", NULL, NULL),
    T_NUM("delete.retention.ms", CONFIG_TYPE_LONG, delete_retention_ms, "86400000", 0, INT64_MAX,
          "log.cleaner.delete.retention.ms", NULL, NULL),
    T_NUM("file.delete.delay.ms", CONFIG_TYPE_LONG, log.file_delete_delay_ms, "60000", 0, INT64_MAX,
          "log.segment.delete.delay.ms", NULL, NULL),
    T_NUM("flush.messages", CONFIG_TYPE_LONG, flush_messages, LONG_MAX_S, 1, INT64_MAX,
          "log.flush.interval.messages", NULL, NULL),
    T_NUM("flush.ms", CONFIG_TYPE_LONG, flush_ms, LONG_MAX_S, 0, INT64_MAX, "log.flush.interval.ms",
          "log.flush.scheduler.interval.ms", NULL),
    {.name = "follower.replication.throttled.replicas",
     .type = CONFIG_TYPE_LIST,
     .default_value = "",
     .flags = CONFIG_F_UNUSED,
     .offset = -1},
    T_NUM("index.interval.bytes", CONFIG_TYPE_INT, log.index_interval_bytes, "4096", 0, INT32_MAX,
          "log.index.interval.bytes", NULL, NULL),
    {.name = "leader.replication.throttled.replicas",
     .type = CONFIG_TYPE_LIST,
     .default_value = "",
     .flags = CONFIG_F_UNUSED,
     .offset = -1},
    {.name = "local.retention.bytes",
     .type = CONFIG_TYPE_LONG,
     .default_value = "-2",
     .flags = CONFIG_F_UNUSED,
     .min = -2,
     .max = INT64_MAX,
     .synonyms = {"log.local.retention.bytes"},
     .offset = -1},
    {.name = "local.retention.ms",
     .type = CONFIG_TYPE_LONG,
     .default_value = "-2",
     .flags = CONFIG_F_UNUSED,
     .min = -2,
     .max = INT64_MAX,
     .synonyms = {"log.local.retention.ms"},
     .offset = -1},
    T_NUM("max.compaction.lag.ms", CONFIG_TYPE_LONG, max_compaction_lag_ms, LONG_MAX_S, 1,
          INT64_MAX, "log.cleaner.max.compaction.lag.ms", NULL, NULL),
    T_NUM("max.message.bytes", CONFIG_TYPE_INT, max_message_bytes, "1048588", 0, INT32_MAX,
          "message.max.bytes", NULL, NULL),
    T_BOOL("message.downconversion.enable", message_downconversion_enable, "true", NULL, NULL),
    T_NUM("message.timestamp.after.max.ms", CONFIG_TYPE_LONG, message_timestamp_after_max_ms,
          "3600000", 0, INT64_MAX, "log.message.timestamp.after.max.ms", NULL, NULL),
    T_NUM("message.timestamp.before.max.ms", CONFIG_TYPE_LONG, message_timestamp_before_max_ms,
          LONG_MAX_S, 0, INT64_MAX, "log.message.timestamp.before.max.ms", NULL, NULL),
    T_STR("message.timestamp.type", CONFIG_TYPE_STRING, message_timestamp_type, "CreateTime",
          timestamp_types, 0, "log.message.timestamp.type"),
    {.name = "min.cleanable.dirty.ratio",
     .type = CONFIG_TYPE_DOUBLE,
     .default_value = "0.5",
     .dmin = 0.0,
     .dmax = 1.0,
     .synonyms = {"log.cleaner.min.cleanable.ratio"},
     .storage = CONFIG_ST_DBL,
     .offset = TOFF(min_cleanable_dirty_ratio)},
    T_NUM("min.compaction.lag.ms", CONFIG_TYPE_LONG, min_compaction_lag_ms, "0", 0, INT64_MAX,
          "log.cleaner.min.compaction.lag.ms", NULL, NULL),
    T_NUM("min.insync.replicas", CONFIG_TYPE_INT, min_insync_replicas, "1", 1, INT32_MAX,
          "min.insync.replicas", NULL, NULL),
    T_BOOL("preallocate", preallocate, "false", "log.preallocate", NULL),
    {.name = "remote.log.copy.disable",
     .type = CONFIG_TYPE_BOOLEAN,
     .default_value = "false",
     .flags = CONFIG_F_UNUSED,
     .offset = -1},
    {.name = "remote.log.delete.on.disable",
     .type = CONFIG_TYPE_BOOLEAN,
     .default_value = "false",
     .flags = CONFIG_F_UNUSED,
     .offset = -1},
    {.name = "remote.storage.enable",
     .type = CONFIG_TYPE_BOOLEAN,
     .default_value = "false",
     .check = check_remote_storage,
     .offset = -1},
    T_NUM("retention.bytes", CONFIG_TYPE_LONG, log.retention_bytes, "-1", INT64_MIN, INT64_MAX,
          "log.retention.bytes", NULL, NULL),
    T_NUM("retention.ms", CONFIG_TYPE_LONG, log.retention_ms, "604800000", -1, INT64_MAX,
          "log.retention.ms", "log.retention.minutes", "log.retention.hours"),
    T_NUM("segment.bytes", CONFIG_TYPE_INT, log.segment_bytes, "1073741824", 14, INT32_MAX,
          "log.segment.bytes", NULL, NULL),
    T_NUM("segment.index.bytes", CONFIG_TYPE_INT, log.segment_index_bytes, "10485760", 4, INT32_MAX,
          "log.index.size.max.bytes", NULL, NULL),
    T_NUM("segment.jitter.ms", CONFIG_TYPE_LONG, segment_jitter_ms, "0", 0, INT64_MAX,
          "log.roll.jitter.ms", "log.roll.jitter.hours", NULL),
    T_NUM("segment.ms", CONFIG_TYPE_LONG, log.segment_ms, "604800000", 1, INT64_MAX, "log.roll.ms",
          "log.roll.hours", NULL),
    T_BOOL("unclean.leader.election.enable", unclean_leader_election_enable, "false",
           "unclean.leader.election.enable", NULL),
};

_Static_assert(sizeof(broker_defs) / sizeof(broker_defs[0]) <= CONFIG_BROKER_DEFS_MAX,
               "raise CONFIG_BROKER_DEFS_MAX");

int config_broker_def_count(void)
{
	return (int)ARRAY_SIZE(broker_defs);
}

const struct config_def *config_broker_def(int i)
{
	ASSERT(i >= 0 && i < (int)ARRAY_SIZE(broker_defs));
	return &broker_defs[i];
}

const struct config_def *config_broker_def_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(broker_defs); i++)
		if (strcmp(broker_defs[i].name, name) == 0)
			return &broker_defs[i];
	return NULL;
}

int config__broker_index(const struct config_def *d)
{
	ASSERT(d >= broker_defs && d < broker_defs + ARRAY_SIZE(broker_defs));
	return (int)(d - broker_defs);
}

int config_topic_def_count(void)
{
	return (int)ARRAY_SIZE(topic_defs);
}

const struct config_def *config_topic_def(int i)
{
	ASSERT(i >= 0 && i < (int)ARRAY_SIZE(topic_defs));
	return &topic_defs[i];
}

const struct config_def *config_topic_def_find(const char *name)
{
	size_t lo = 0, hi = ARRAY_SIZE(topic_defs);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, topic_defs[mid].name);
		if (c == 0)
			return &topic_defs[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Java's String.trim(): every char <= ' ' at either end. */
bool config__trim(const char *s, char *out, size_t outlen)
{
	while (*s && (unsigned char)*s <= ' ')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (unsigned char)s[n - 1] <= ' ')
		n--;
	if (n + 1 > outlen)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

bool config__list_has(const char *list, const char *item, bool ignore_case)
{
	size_t ilen = strlen(item);
	const char *p = list;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *a = p, *b = p + n;
		while (a < b && (unsigned char)*a <= ' ')
			a++;
		while (b > a && (unsigned char)b[-1] <= ' ')
			b--;
		if ((size_t)(b - a) == ilen &&
		    (ignore_case ? strncasecmp(a, item, ilen) : strncmp(a, item, ilen)) == 0)
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

static int invalid(const struct config_def *d, const char *v, char *err, size_t errlen,
                   const char *why)
{
	snprintf(err, errlen, "Invalid value %s for configuration %s: %s", v, d->name, why);
	return ERR_INVALID_CONFIG;
}

static const char *type_name(enum config_type t)
{
	switch (t) {
	case CONFIG_TYPE_SHORT:
		return "SHORT";
	case CONFIG_TYPE_INT:
		return "INT";
	case CONFIG_TYPE_LONG:
		return "LONG";
	case CONFIG_TYPE_DOUBLE:
		return "DOUBLE";
	default:
		return "STRING";
	}
}

/* Java's Long.parseLong / Integer.parseInt / Short.parseShort on a trimmed string. */
static bool parse_integer(const char *s, enum config_type t, int64_t *out)
{
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	for (const char *q = p; *q; q++)
		if (*q < '0' || *q > '9')
			return false;
	errno = 0;
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	if (errno == ERANGE || *end)
		return false;
	if (t == CONFIG_TYPE_INT && (v < INT32_MIN || v > INT32_MAX))
		return false;
	if (t == CONFIG_TYPE_SHORT && (v < INT16_MIN || v > INT16_MAX))
		return false;
	*out = v;
	return true;
}

static void join_choices(const char *const *choices, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (int i = 0; choices[i]; i++) {
		int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", choices[i]);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
}

static bool in_choices(const char *const *choices, const char *s, size_t n)
{
	for (int i = 0; choices[i]; i++)
		if (strlen(choices[i]) == n && strncmp(choices[i], s, n) == 0)
			return true;
	return false;
}

/* Normalize a list "a , b" to "a,b" in out, checking items against d->choices. */
static int parse_list(const struct config_def *d, const char *v, char *out, size_t outlen,
                      char *err, size_t errlen)
{
	size_t off = 0;
	int items = 0;
	out[0] = '\0';
	if (*v) {
		const char *p = v;
		for (;;) {
			const char *e = strchr(p, ',');
			const char *a = p, *b = e ? e : p + strlen(p);
			while (a < b && (unsigned char)*a <= ' ')
				a++;
			while (b > a && (unsigned char)b[-1] <= ' ')
				b--;
			size_t n = (size_t)(b - a);
			if (d->choices && !in_choices(d->choices, a, n)) {
				char ch[256];
				join_choices(d->choices, ch, sizeof(ch));
				char why[300];
				snprintf(why, sizeof(why), "String must be one of: %s", ch);
				return invalid(d, v, err, errlen, why);
			}
			if (off + n + 2 > outlen)
				return invalid(d, v, err, errlen, "Value is too long");
			if (items++)
				out[off++] = ',';
			memcpy(out + off, a, n);
			off += n;
			out[off] = '\0';
			if (!e)
				break;
			p = e + 1;
		}
	}
	if (items == 0 && (d->flags & CONFIG_F_NONEMPTY))
		return invalid(d, v, err, errlen, "Empty list is not allowed");
	return 0;
}

int config__apply(const struct config_def *d, const char *value, void *base, char *err,
                  size_t errlen)
{
	char v[CONFIG_VALUE_MAX];
	char norm[CONFIG_VALUE_MAX];
	int64_t iv = 0;
	double dv = 0;
	bool bv = false;
	int rc;

	if (!value)
		return invalid(d, "null", err, errlen, "Value must not be null");
	if (!config__trim(value, v, sizeof(v)))
		return invalid(d, "(too long)", err, errlen, "Value is too long");

	switch (d->type) {
	case CONFIG_TYPE_BOOLEAN:
		if (strcasecmp(v, "true") == 0)
			bv = true;
		else if (strcasecmp(v, "false") == 0)
			bv = false;
		else
			return invalid(d, v, err, errlen,
			               "Expected value to be either true or false");
		break;
	case CONFIG_TYPE_SHORT:
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_LONG: {
		char why[96];
		if (!parse_integer(v, d->type, &iv)) {
			snprintf(why, sizeof(why), "Not a number of type %s", type_name(d->type));
			return invalid(d, v, err, errlen, why);
		}
		if (iv < d->min) {
			snprintf(why, sizeof(why), "Value must be at least %lld",
			         (long long)d->min);
			return invalid(d, v, err, errlen, why);
		}
		if (iv > d->max) {
			snprintf(why, sizeof(why), "Value must be no more than %lld",
			         (long long)d->max);
			return invalid(d, v, err, errlen, why);
		}
		break;
	}
	case CONFIG_TYPE_DOUBLE: {
		char *end = NULL;
		char why[96];
		errno = 0;
		dv = strtod(v, &end);
		if (!*v || *end || errno == ERANGE || !isfinite(dv))
			return invalid(d, v, err, errlen, "Not a number of type DOUBLE");
		if (dv < d->dmin) {
			snprintf(why, sizeof(why), "Value must be at least %g", d->dmin);
			return invalid(d, v, err, errlen, why);
		}
		if (dv > d->dmax) {
			snprintf(why, sizeof(why), "Value must be no more than %g", d->dmax);
			return invalid(d, v, err, errlen, why);
		}
		break;
	}
	case CONFIG_TYPE_LIST:
		rc = parse_list(d, v, norm, sizeof(norm), err, errlen);
		if (rc)
			return rc;
		break;
	default: /* STRING, CLASS, PASSWORD */
		if (d->choices && !in_choices(d->choices, v, strlen(v))) {
			char ch[256], why[300];
			join_choices(d->choices, ch, sizeof(ch));
			snprintf(why, sizeof(why), "String must be one of: %s", ch);
			return invalid(d, v, err, errlen, why);
		}
		memcpy(norm, v, strlen(v) + 1);
		break;
	}
	if (d->check) {
		rc = d->check(d, v, err, errlen);
		if (rc)
			return rc;
	}
	if (!base || d->offset < 0 || d->storage == CONFIG_ST_NONE)
		return 0;

	void *p = (char *)base + d->offset;
	switch (d->storage) {
	case CONFIG_ST_BOOL:
		*(bool *)p = bv;
		break;
	case CONFIG_ST_I16:
		*(int16_t *)p = (int16_t)iv;
		break;
	case CONFIG_ST_I32:
		*(int32_t *)p = (int32_t)iv;
		break;
	case CONFIG_ST_I64:
		*(int64_t *)p = iv;
		break;
	case CONFIG_ST_DBL:
		*(double *)p = dv;
		break;
	case CONFIG_ST_STR: {
		size_t n = strlen(norm);
		if (n + 1 > d->size) {
			char why[64];
			snprintf(why, sizeof(why), "Value is longer than %zu bytes", d->size - 1);
			return invalid(d, v, err, errlen, why);
		}
		memcpy(p, norm, n + 1);
		break;
	}
	default:
		break;
	}
	return 0;
}

void config__render(const struct config_def *d, const void *base, char *buf, size_t len)
{
	const void *p = (const char *)base + d->offset;
	buf[0] = '\0';
	switch (d->storage) {
	case CONFIG_ST_BOOL:
		snprintf(buf, len, "%s", *(const bool *)p ? "true" : "false");
		break;
	case CONFIG_ST_I16:
		snprintf(buf, len, "%d", *(const int16_t *)p);
		break;
	case CONFIG_ST_I32:
		snprintf(buf, len, "%d", *(const int32_t *)p);
		break;
	case CONFIG_ST_I64:
		snprintf(buf, len, "%lld", (long long)*(const int64_t *)p);
		break;
	case CONFIG_ST_DBL: {
		/* Java's Double.toString: 0.5 -> "0.5", 1 -> "1.0". */
		double x = *(const double *)p;
		snprintf(buf, len, "%.17g", x);
		for (int prec = 1; prec <= 17; prec++) {
			char tmp[64];
			snprintf(tmp, sizeof(tmp), "%.*g", prec, x);
			if (strtod(tmp, NULL) == x) {
				snprintf(buf, len, "%s%s", tmp, strpbrk(tmp, ".eEn") ? "" : ".0");
				break;
			}
		}
		break;
	}
	case CONFIG_ST_STR:
		snprintf(buf, len, "%s", (const char *)p);
		break;
	default:
		break;
	}
}

static int check_listeners(const struct config_def *d, const char *v, char *err, size_t errlen)
{
	struct config_listener l[16];
	int n = config_parse_listeners(v, l, (int)ARRAY_SIZE(l), err, errlen);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (strcmp(l[i].name, l[j].name) == 0) {
				char why[128];
				snprintf(why, sizeof(why),
				         "Each listener must have a different name, "
				         "but %s appears twice",
				         l[i].name);
				return invalid(d, v, err, errlen, why);
			}
	return 0;
}

static int check_protocol_map(const struct config_def *d, const char *v, char *err, size_t errlen)
{
	static const char *const protocols[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL",
	                                        NULL};
	const char *p = v;
	while (*p) {
		const char *e = strchr(p, ',');
		const char *end = e ? e : p + strlen(p);
		const char *colon = memchr(p, ':', (size_t)(end - p));
		const char *a = colon ? colon + 1 : end, *b = end;
		while (a < b && (unsigned char)*a <= ' ')
			a++;
		while (b > a && (unsigned char)b[-1] <= ' ')
			b--;
		bool ok = colon && colon > p;
		if (ok) {
			char proto[32];
			size_t n = (size_t)(b - a);
			ok = n < sizeof(proto);
			if (ok) {
				for (size_t i = 0; i < n; i++)
					proto[i] =
					    (char)(a[i] >= 'a' && a[i] <= 'z' ? a[i] - 32 : a[i]);
				ok = in_choices(protocols, proto, n);
			}
		}
		if (!ok)
			return invalid(d, v, err, errlen,
			               "Map entries must be NAME:PROTOCOL with PROTOCOL one of "
			               "PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL");
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

static int check_gzip_level(const struct config_def *d, const char *v, char *err, size_t errlen)
{
	int64_t x = 0;
	if (parse_integer(v, CONFIG_TYPE_INT, &x) && (x == -1 || (x >= 1 && x <= 9)))
		return 0;
	return invalid(d, v, err, errlen, "Value must be between 1 and 9, or -1 for the default");
}

static int check_log_level(const struct config_def *d, const char *v, char *err, size_t errlen)
{
	static const char *const levels[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF"};
	for (size_t i = 0; i < ARRAY_SIZE(levels); i++)
		if (strcasecmp(v, levels[i]) == 0)
			return 0;
	return invalid(d, v, err, errlen,
	               "String must be one of: TRACE, DEBUG, INFO, WARN, ERROR, OFF");
}

static int check_remote_storage(const struct config_def *d, const char *v, char *err, size_t errlen)
{
	(void)d;
	(void)v;
	if (strcasecmp(v, "true") == 0) {
		snprintf(err, errlen,
		         "Tiered Storage functionality is disabled in the broker. "
		         "Topic cannot be configured with remote log storage.");
		return ERR_INVALID_CONFIG;
	}
	return 0;
}
