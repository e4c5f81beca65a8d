/*
 * config.h: Kafka's configuration keys — the broker's server.properties and
 * per-topic configs — with Kafka's names, types, defaults and validation.
 *
 * One table of definitions (name, type, default, valid range or values,
 * broker key that supplies a topic key's default) serves parsing, validation,
 * CreateTopics configs, and later DescribeConfigs (sources and synonyms).
 * Unknown keys in server.properties are reported as a warning (as Kafka does);
 * malformed values of known keys are a startup error with a clear message.
 */
#ifndef FJORD_META_CONFIG_H
#define FJORD_META_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/log.h"

/* Upper bound on the number of broker keys in the definitions table. */
#define CONFIG_BROKER_DEFS_MAX 192

struct broker_config {
	/* Listeners: "PLAINTEXT://host:port" (comma list; the first PLAINTEXT one is served). */
	char listeners[512];
	char advertised_listeners[512];
	char listen_host[256]; /* parsed from the first listener; "" = all interfaces */
	int listen_port;
	char advertised_host[256]; /* from advertised.listeners, else listener host, else
	                              "localhost" */
	int advertised_port;
	int32_t node_id;     /* node.id (broker.id accepted as a synonym); default 1 */
	char log_dirs[1024]; /* log.dirs, else log.dir; default "./data" (ours: a local folder) */
	int32_t num_partitions;              /* 1 */
	int16_t default_replication_factor;  /* 1 */
	bool auto_create_topics_enable;      /* true */
	bool delete_topic_enable;            /* true */
	int32_t message_max_bytes;           /* 1048588 */
	int32_t socket_request_max_bytes;    /* 104857600 */
	int64_t log_flush_interval_messages; /* Long.MAX = fsync before ack (see below) */
	int64_t log_flush_interval_ms;       /* -1 (unset) */
	int64_t log_flush_scheduler_interval_ms;
	int64_t log_retention_check_interval_ms; /* 300000 */
	int64_t connections_max_idle_ms;         /* 600000 */
	int32_t max_connections;                 /* Int.MAX */
	int32_t max_connections_per_ip;          /* Int.MAX */
	int32_t num_io_threads;                  /* our worker threads for fsync etc. */
	char log_level[16];                      /* log4j.root.level-like: "INFO" */
	char http_listener[256];   /* fjord.http.listener: "host:port" of /metrics and /health; "" =
	                              off */
	struct log_config log;     /* log.segment.bytes, log.retention.*, log.roll.*, ... */
	char compression_type[16]; /* "producer" */
	char cleanup_policy[32];   /* log.cleanup.policy: "delete" */
	int32_t min_insync_replicas;              /* 1 */
	int32_t offsets_topic_num_partitions;     /* 50 */
	int16_t offsets_topic_replication_factor; /* 1 on a single node (Kafka: 3) */
	int64_t group_initial_rebalance_delay_ms; /* 3000 */
	int32_t group_min_session_timeout_ms;     /* 6000 */
	int32_t group_max_session_timeout_ms;     /* 1800000 */
	int64_t offsets_retention_minutes;        /* 10080 */

	/* Added by config.c (all Kafka keys; see config_defs.c for defaults). */
	char listener_name[64];             /* name of the served listener, e.g. "PLAINTEXT" */
	char process_roles[64];             /* accepted; one node is broker and controller */
	char controller_quorum_voters[512]; /* accepted, not used yet */
	char controller_quorum_bootstrap_servers[512];
	char controller_listener_names[128]; /* their listeners are not the served one */
	char inter_broker_listener_name[64];
	char listener_security_protocol_map[512];
	char broker_rack[64];
	int32_t broker_id; /* broker.id as given (node.id wins when both are set) */
	int32_t num_network_threads;
	int32_t num_recovery_threads_per_data_dir;
	int32_t socket_send_buffer_bytes;
	int32_t socket_receive_buffer_bytes;
	int32_t socket_listen_backlog_size;
	int32_t queued_max_requests;
	int32_t fetch_max_bytes;
	int64_t log_segment_jitter_ms; /* from log.roll.jitter.ms, else .hours */
	bool log_preallocate;
	bool unclean_leader_election_enable;
	char log_message_timestamp_type[16]; /* "CreateTime" (log.log_append_time derived) */
	int64_t log_message_timestamp_before_max_ms; /* Long.MAX */
	int64_t log_message_timestamp_after_max_ms;  /* 3600000 (Kafka 4.x) */
	bool log_cleaner_enable;
	int32_t log_cleaner_threads;
	int64_t log_cleaner_backoff_ms;
	int64_t log_cleaner_delete_retention_ms;   /* 86400000 */
	int64_t log_cleaner_min_compaction_lag_ms; /* 0 */
	int64_t log_cleaner_max_compaction_lag_ms; /* Long.MAX */
	double log_cleaner_min_cleanable_ratio;    /* 0.5 */
	int32_t compression_gzip_level;            /* -1 */
	int32_t compression_lz4_level;             /* 9 */
	int32_t compression_zstd_level;            /* 3 */
	int32_t log_flush_offset_checkpoint_interval_ms;
	int32_t log_syncfs_min_partitions; /* fjord.log.syncfs.min.partitions: 0 = never */
	int32_t offsets_topic_segment_bytes;
	int64_t offsets_retention_check_interval_ms;
	int32_t offsets_commit_timeout_ms;
	int32_t group_max_size;
	int32_t group_consumer_session_timeout_ms;
	int32_t group_consumer_heartbeat_interval_ms;
	int16_t transaction_state_log_replication_factor; /* 1 on a single node (Kafka: 3) */
	int32_t transaction_state_log_min_isr;            /* 1 on a single node (Kafka: 2) */
	int32_t transaction_state_log_num_partitions;     /* 50 */
	int32_t transaction_state_log_segment_bytes;
	int32_t transaction_max_timeout_ms;
	int32_t transactional_id_expiration_ms;
	int64_t replica_lag_time_max_ms;
	int32_t replica_fetch_max_bytes;
	int32_t replica_fetch_wait_max_ms;
	int32_t num_replica_fetchers;
	bool auto_leader_rebalance_enable;
	int32_t broker_heartbeat_interval_ms;
	int32_t broker_session_timeout_ms;

	/*
	 * Private to config.c: the inputs of derived values (precedence
	 * log.retention.ms > .minutes > .hours, log.roll.ms > .hours,
	 * log.dirs > log.dir) and, for DescribeConfigs, every explicitly set
	 * key's value as given (trimmed), indexed by its definition.
	 */
	int64_t log_retention_ms_;
	int32_t log_retention_minutes_;
	int32_t log_retention_hours_;
	int64_t log_roll_ms_;
	int32_t log_roll_hours_;
	int64_t log_roll_jitter_ms_;
	int32_t log_roll_jitter_hours_;
	char log_dir_[1024];
	uint16_t set_at_[CONFIG_BROKER_DEFS_MAX]; /* 0 = not set, else offset + 1 in set_pool_ */
	uint16_t set_pool_len_;
	char set_pool_[16384];
};

/*
 * Durability: Kafka's flush.messages/log.flush.interval.messages default is
 * Long.MAX (never force a flush; rely on replication). Fjord is safer by
 * default: unless the operator sets log.flush.interval.messages or
 * log.flush.interval.ms (or the topic's flush.messages / flush.ms), every
 * acknowledged append is fsynced first (group commit).
 */

/* Kafka's defaults (with the documented safer ones). */
void broker_config_default(struct broker_config *c);
/*
 * Read a server.properties file (Java properties syntax: '#'/'!' comments,
 * "key=value" or "key: value", backslash continuation and escapes). Unknown
 * keys: a warning naming them. Bad values: returns ERR_INVALID_CONFIG with a
 * message in err (e.g. "log.segment.bytes: expected an integer >= 14, got 'x'").
 */
int broker_config_load(struct broker_config *c, const char *path, char *err, size_t errlen);
/*
 * Set one key (the same validation; used by the loader and by overrides).
 * Unknown key: ERR_NOT_FOUND (message in err; the loader turns that into a
 * warning). Derived fields (log.retention.*, log.roll.*, log.dirs, node.id,
 * the served listener) are recomputed after each call; checks that involve
 * several keys wait for broker_config_finish().
 */
int broker_config_set(struct broker_config *c, const char *key, const char *value, char *err,
                      size_t errlen);
/*
 * Checks across keys, after the last broker_config_set(): a PLAINTEXT
 * listener to serve, node.id equal to broker.id when both are set, no
 * advertised 0.0.0.0. broker_config_load() calls it; call it again after
 * applying overrides. ERR_INVALID_CONFIG with a message in err.
 */
int broker_config_finish(struct broker_config *c, char *err, size_t errlen);

/*
 * One endpoint of a listeners list: "NAME://host:port". host "" means all
 * interfaces; an IPv6 host is written in brackets and stored without them.
 */
struct config_listener {
	char name[64];
	char host[256];
	int port; /* 0..65535; 0 = any free port */
};
/*
 * Parse a comma-separated listeners value into at most max entries. Returns
 * the number of entries, or ERR_INVALID_CONFIG with a message in err.
 */
int config_parse_listeners(const char *value, struct config_listener *out, int max, char *err,
                           size_t errlen);

/*
 * Read Java properties text (the syntax of broker_config_load), calling cb
 * for each key and value (both NUL-terminated, escapes decoded, value trimmed)
 * with its line number. A non-zero return from cb stops the parse and is
 * returned. A malformed \uXXXX escape: ERR_INVALID_CONFIG, message in err.
 */
int config_parse_properties(const char *text, size_t len,
                            int (*cb)(void *arg, const char *key, const char *value, int line),
                            void *arg, char *err, size_t errlen);

/*
 * The definitions table, for DescribeConfigs and the CLI. Types and sources
 * use the numbering of Kafka's DescribeConfigs response.
 */
enum config_type {
	CONFIG_TYPE_UNKNOWN = 0,
	CONFIG_TYPE_BOOLEAN = 1,
	CONFIG_TYPE_STRING = 2,
	CONFIG_TYPE_INT = 3,
	CONFIG_TYPE_SHORT = 4,
	CONFIG_TYPE_LONG = 5,
	CONFIG_TYPE_DOUBLE = 6,
	CONFIG_TYPE_LIST = 7,
	CONFIG_TYPE_CLASS = 8,
	CONFIG_TYPE_PASSWORD = 9,
};
enum config_source {
	CONFIG_SOURCE_UNKNOWN = 0,
	CONFIG_SOURCE_TOPIC = 1,                  /* DYNAMIC_TOPIC_CONFIG */
	CONFIG_SOURCE_DYNAMIC_BROKER = 2,         /* DYNAMIC_BROKER_CONFIG */
	CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER = 3, /* DYNAMIC_DEFAULT_BROKER_CONFIG */
	CONFIG_SOURCE_STATIC_BROKER = 4,          /* STATIC_BROKER_CONFIG: server.properties */
	CONFIG_SOURCE_DEFAULT = 5,                /* DEFAULT_CONFIG */
	CONFIG_SOURCE_DYNAMIC_BROKER_LOGGER = 6,
};
enum {
	CONFIG_F_READ_ONLY = 1u << 0, /* not changeable at run time (all broker keys, for now) */
	CONFIG_F_SENSITIVE = 1u << 1, /* value never shown (passwords) */
	CONFIG_F_NULLABLE = 1u << 2,  /* the default is null ("not set") */
	CONFIG_F_NONEMPTY = 1u << 3,  /* a list that may not be empty */
	CONFIG_F_UNUSED = 1u << 4,    /* accepted and validated, no effect in Fjord */
};

struct config_def {
	const char *name;
	enum config_type type;
	const char *default_value; /* as Kafka prints it; NULL = null */
	unsigned flags;            /* CONFIG_F_* */
	/*
	 * Topic keys: the broker keys that supply the default, highest
	 * precedence first (retention.ms: log.retention.ms, log.retention.minutes,
	 * log.retention.hours). Broker keys: none.
	 */
	const char *synonyms[3];
	/* The rest is for config.c: validation and where the value is stored. */
	int64_t min, max;           /* integer types: valid range */
	double dmin, dmax;          /* DOUBLE: valid range */
	const char *const *choices; /* STRING/LIST: allowed values (NULL-terminated) */
	int (*check)(const struct config_def *d, const char *value, char *err, size_t errlen);
	int storage; /* how the value is stored (config.c) */
	long offset; /* in struct broker_config or struct topic_config; -1 = not stored */
	size_t size; /* for strings: the field's size */
};

int config_broker_def_count(void);
const struct config_def *config_broker_def(int i);
const struct config_def *config_broker_def_find(const char *name); /* NULL if unknown */
int config_topic_def_count(void);
const struct config_def *config_topic_def(int i); /* in name order */
const struct config_def *config_topic_def_find(const char *name);

/* Whether a broker key was set explicitly (server.properties or override). */
bool broker_config_is_set(const struct broker_config *c, const struct config_def *d);
/*
 * A broker key's value as a string (as given, else the default). Returns
 * false for a null value (buf then holds ""). *src (optional) is
 * CONFIG_SOURCE_STATIC_BROKER or CONFIG_SOURCE_DEFAULT.
 */
bool broker_config_get(const struct broker_config *c, const struct config_def *d, char *buf,
                       size_t len, enum config_source *src);

/* A topic's effective configuration. */
struct topic_config {
	struct log_config log;
	int32_t max_message_bytes;   /* max.message.bytes */
	bool cleanup_compact;        /* cleanup.policy contains compact */
	bool cleanup_delete;         /* cleanup.policy contains delete */
	int64_t flush_messages;      /* flush.messages; INT64_MAX = not set */
	int64_t flush_ms;            /* flush.ms; INT64_MAX = not set */
	bool fsync_before_ack;       /* derived: neither flush key set at topic or broker level */
	int32_t min_insync_replicas; /* min.insync.replicas */
	char compression_type[16];   /* compression.type */
	int64_t delete_retention_ms;
	int64_t min_compaction_lag_ms;
	int64_t max_compaction_lag_ms;
	double min_cleanable_dirty_ratio;
	int64_t message_timestamp_before_max_ms;
	int64_t message_timestamp_after_max_ms;
	/* Added by config.c. */
	char cleanup_policy[32];         /* normalized: "delete", "compact" or "compact,delete" */
	char message_timestamp_type[16]; /* "CreateTime" or "LogAppendTime" (log.log_append_time) */
	int64_t segment_jitter_ms;
	bool preallocate;
	bool unclean_leader_election_enable;
	bool message_downconversion_enable; /* accepted, no effect */
	int32_t compression_gzip_level;
	int32_t compression_lz4_level;
	int32_t compression_zstd_level;
};

/* A topic config override as given by a client (CreateTopics) or stored. */
struct config_kv {
	const char *key;
	const char *value; /* NULL = remove override / use default */
};

/*
 * Build a topic's effective config from the broker's defaults plus overrides.
 * Unknown key or bad value: ERR_INVALID_CONFIG and a message in err
 * ("Unknown topic config name: x", "Invalid value y for configuration z: ...").
 */
int topic_config_resolve(const struct broker_config *b, const struct config_kv *kv, int nkv,
                         struct topic_config *out, char *err, size_t errlen);

/* Validate one topic override without building (for validate_only / alter). */
int topic_config_validate(const char *key, const char *value, char *err, size_t errlen);

/*
 * A topic key's effective value as a string, for DescribeConfigs: the
 * override when kv has one (source CONFIG_SOURCE_TOPIC), else the value the
 * broker supplies (CONFIG_SOURCE_STATIC_BROKER when one of d->synonyms is
 * set, else CONFIG_SOURCE_DEFAULT). cfg is the topic's resolved config.
 * Returns false for a null value.
 */
bool topic_config_get(const struct broker_config *b, const struct topic_config *cfg,
                      const struct config_kv *kv, int nkv, const struct config_def *d, char *buf,
                      size_t len, enum config_source *src);

/*
 * Whether a broker key may be changed at run time (AlterConfigs /
 * IncrementalAlterConfigs on a BROKER resource): the keys Kafka lists as
 * dynamic (DynamicBrokerConfig) whose effect Fjord applies without a
 * restart, mostly the log.* defaults of topic configs. Everything else is
 * read-only ("Cannot update these configs dynamically").
 */
bool config_broker_dynamic(const struct config_def *d);

#endif
