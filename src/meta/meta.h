/*
 * meta.h: cluster metadata of a single node — topics, their ids, partition
 * counts and config overrides — kept as a journal of metadata records.
 *
 * Every change is one record appended (and fsynced) to the journal file
 * "<first log dir>/__cluster_metadata/journal.jsonl" before the call returns;
 * at open the journal is replayed (and rewritten compactly when it has grown).
 * This is the shape the Raft-replicated metadata log takes later: records in,
 * state out, so the cluster work swaps the journal for a replicated log.
 *
 * Threads: loop thread only.
 */
#ifndef FJORD_META_META_H
#define FJORD_META_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta/config.h"
#include "proto/wire.h"

struct topic {
	char name[250];
	struct kuuid id; /* random v4-style UUID assigned at creation */
	int32_t partitions;
	int16_t replication_factor;
	int noverrides;
	struct config_kv *overrides; /* owned strings */
	struct topic_config cfg;     /* effective config (broker defaults + overrides) */
	bool internal;               /* __consumer_offsets, __transaction_state */
	void *data;                  /* owned by the broker layer (partition objects) */
};

struct meta;

/* At most this many partitions per topic (Kafka's cap on records per request). */
#define META_MAX_PARTITIONS 10000

/*
 * Open the metadata in dir (created if missing, parents included): replays
 * dir/journal.jsonl. A torn last line (a crash mid-append) is dropped with a
 * warning and truncated away; any other bad line is ERR_CORRUPT (logged).
 * When the journal holds many superseded records it is rewritten compactly
 * (temp file, fsync, rename, directory fsync). bc is copied; topic configs
 * are resolved against it.
 */
int meta_open(const char *dir, const struct broker_config *bc, struct meta **out);
void meta_close(struct meta *m);
/* The broker config meta resolves topic configs against (its copy). */
const struct broker_config *meta_broker_config(const struct meta *m);
/*
 * After a journal fsync failed, every change returns ERR_STORAGE until the
 * metadata is closed and reopened (the journal's durable state is unknown).
 */
bool meta_failed(const struct meta *m);
/* Number of records in the journal file (for tests and metrics). */
int64_t meta_journal_records(const struct meta *m);

/* Kafka's text form of a UUID: URL-safe base64 without padding, 22 chars + NUL. */
void meta_uuid_format(struct kuuid id, char out[23]);
/* Parse that form. Returns 0 or ERR_INVALID. */
int meta_uuid_parse(const char *s, struct kuuid *out);

/* Kafka's topic name rules: 1..249 chars of [a-zA-Z0-9._-], not "." or "..".
 * Returns 0 or ERR_INVALID with a message in err. */
int meta_topic_name_valid(const char *name, size_t len, char *err, size_t errlen);

struct topic *meta_topic_find(struct meta *m, const char *name, size_t len);
struct topic *meta_topic_find_id(struct meta *m, struct kuuid id);
int meta_topic_count(struct meta *m);
/* The i-th topic, in name order (0 <= i < count); stable until the next change. */
struct topic *meta_topic_at(struct meta *m, int i);

/*
 * Create a topic. Validates name, partitions (>= 1), replication factor
 * (must be 1 on one node... or -1 = default), configs; with validate_only,
 * checks everything and changes nothing.
 * Errors: ERR_EXISTS, ERR_INVALID (name/partitions/rf; message in err),
 * ERR_INVALID_CONFIG (message in err), or a storage error.
 */
int meta_topic_create(struct meta *m, const char *name, int32_t partitions, int16_t rf,
                      const struct config_kv *configs, int nconfigs, bool validate_only,
                      struct topic **out, char *err, size_t errlen);

/* Which check of a create failed, for the handler's Kafka error code. */
enum meta_fail {
	META_FAIL_NONE = 0,
	META_FAIL_NAME,        /* ERR_INVALID: INVALID_TOPIC_EXCEPTION (17) */
	META_FAIL_EXISTS,      /* ERR_EXISTS: TOPIC_ALREADY_EXISTS (36) */
	META_FAIL_PARTITIONS,  /* ERR_INVALID: INVALID_PARTITIONS (37) */
	META_FAIL_REPLICATION, /* ERR_INVALID: INVALID_REPLICATION_FACTOR (38) */
	META_FAIL_CONFIG,      /* ERR_INVALID_CONFIG: INVALID_CONFIG (40) */
	META_FAIL_STORAGE,     /* journal write failed: KAFKA_STORAGE_ERROR / UNKNOWN */
};
/*
 * meta_topic_create, also saying which check failed (fail may be NULL).
 * Checks run in Kafka's order: name, existence (and '.'/'_' collision, which
 * is META_FAIL_NAME), partitions, replication factor, configs. *out is NULL
 * with validate_only. Messages use Kafka's wording, e.g. "Replication
 * factor: 3 larger than available brokers: 1.".
 */
int meta_topic_create_ex(struct meta *m, const char *name, int32_t partitions, int16_t rf,
                         const struct config_kv *configs, int nconfigs, bool validate_only,
                         struct topic **out, enum meta_fail *fail, char *err, size_t errlen);
/* Delete a topic from metadata (the caller removes its logs first). t is
 * freed on success; t->data must have been released by the caller. */
int meta_topic_delete(struct meta *m, struct topic *t);
/* Add partitions (later: CreatePartitions). ERR_INVALID unless
 * t->partitions < partitions <= META_MAX_PARTITIONS. */
int meta_topic_set_partitions(struct meta *m, struct topic *t, int32_t partitions);
/* Replace a topic's overrides (later: AlterConfigs); recomputes cfg. Entries
 * with a NULL value are dropped; on error nothing changes. */
int meta_topic_set_configs(struct meta *m, struct topic *t, const struct config_kv *kv, int n,
                           char *err, size_t errlen);

/*
 * Dynamic broker configs (AlterConfigs on a BROKER resource), Kafka's two
 * scopes: this node ("node" records, resource name = node.id) and the
 * cluster default (empty resource name). They are layered over the static
 * config meta_open() received (server.properties): static, then cluster
 * default, then node; meta_broker_config() is the result, which topic
 * configs resolve against. Journal record:
 *   {"type":"broker_configs","scope":"default"|"node","node":1,"configs":{"k":"v"}}
 * (replaces all of that scope's keys; "node" only for scope node; a record
 * for another node id is ignored at replay).
 */
enum meta_broker_scope { META_BROKER_NODE = 0, META_BROKER_DEFAULT = 1 };

/* The static config meta_open() received. */
const struct broker_config *meta_broker_static_config(const struct meta *m);
/* A scope's dynamic keys, sorted by key; borrowed until the next change. */
const struct config_kv *meta_broker_dynamic(const struct meta *m, enum meta_broker_scope scope,
                                            int *n);
/*
 * Replace a scope's dynamic keys (entries with a NULL value are dropped).
 * Validates by building the layered config (ERR_INVALID_CONFIG, message in
 * err; the caller checks which keys are dynamic); with validate_only stops
 * there. Otherwise journals the record, recomputes meta_broker_config() and
 * every topic's effective cfg (topic overrides still win). The caller then
 * pushes the new log configs to the partitions.
 */
int meta_broker_set_dynamic(struct meta *m, enum meta_broker_scope scope,
                            const struct config_kv *kv, int n, bool validate_only, char *err,
                            size_t errlen);

#endif
