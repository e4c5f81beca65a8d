/*
 * handler.h: what a Kafka API handler sees — the broker, one decoded request
 * header, the body bytes, and a response to fill — and the one dispatch
 * table that maps (api key, version) to a handler.
 *
 * Contract: the server calls handler(req) with req->out already holding the
 * response frame's size placeholder and response header; the handler appends
 * the response body with req->w and then calls request_done(req), either at
 * once or later (a parked Fetch or acks=all Produce). It may instead call
 * request_done_no_response(req) (acks=0) or request_close(req) (a request so
 * bad that Kafka closes the connection). Exactly one of the three, once.
 * If the connection dies while the request is parked, the server calls
 * req->cancel(req) (if set) before freeing it; the handler then releases
 * what it parked and must not call request_done.
 *
 * Kafka error codes appear only in handlers/, mapped from internal errors in
 * errors.c.
 */
#ifndef FJORD_HANDLERS_HANDLER_H
#define FJORD_HANDLERS_HANDLER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "io/loop.h"
#include "io/worker.h"
#include "log/log.h"
#include "meta/config.h"
#include "meta/meta.h"
#include "proto/wire.h"
#include "repl/partition.h"

struct group_coordinator;

struct broker {
	struct broker_config cfg;
	struct loop *loop;
	struct worker_pool *workers;
	struct logdir *logdir;
	struct meta *meta;
	struct partitions *parts;
	struct group_coordinator *groups; /* consumer-group coordinator (src/group) */
	char cluster_id[64];
	bool shutting_down;
};

struct request;
typedef void (*request_fn)(struct request *req);

struct request {
	struct broker *broker;
	int16_t api_key;
	int16_t api_version;
	int32_t correlation_id;
	struct kstr client_id;
	struct kstr client_host; /* "/127.0.0.1", Kafka's form; lives as long as the request */
	uint8_t *frame;          /* the whole request frame (after the size), owned */
	size_t frame_len;
	size_t frame_cap;
	struct rd body; /* positioned at the request body */
	struct arena arena;
	struct buf out; /* response frame being built */
	struct wr w;
	int64_t received_ns;
	/* Set by the server. */
	void (*complete)(struct request *req, int how);
	void (*release_frame)(struct request *req); /* may be NULL */
	void *conn;
	struct request *next; /* per-connection FIFO */
	int state;            /* server's own */
	/* Set by a handler that parks. */
	void (*cancel)(struct request *req);
	void *parked; /* handler state while parked */
};

enum { REQUEST_RESPOND = 0, REQUEST_NO_RESPONSE = 1, REQUEST_CLOSE = 2 };

static inline void request_done(struct request *req)
{
	req->complete(req, REQUEST_RESPOND);
}
static inline void request_done_no_response(struct request *req)
{
	req->complete(req, REQUEST_NO_RESPONSE);
}
static inline void request_close(struct request *req)
{
	req->complete(req, REQUEST_CLOSE);
}
/*
 * A handler that parks and no longer needs the request's bytes gives the
 * frame back early: a produce request waiting for its sync would otherwise
 * hold megabytes that the next request must get fresh. Afterwards body and
 * client_id are empty; anything the response still needs must live in the
 * arena.
 */
static inline void request_release_frame(struct request *req)
{
	if (req->release_frame)
		req->release_frame(req);
}

struct api_handler {
	int16_t api_key;
	int16_t min_version; /* advertised */
	int16_t max_version;
	int16_t impl_min_version; /* lowest version really served (Produce: 3) */
	request_fn handle;
};

/* The dispatch table, ordered by api key. */
extern const struct api_handler api_handlers[];
extern const int api_handlers_count;
const struct api_handler *api_handler_find(int16_t api_key);

/* Handlers. */
void handle_api_versions(struct request *req);
void handle_metadata(struct request *req);
void handle_produce(struct request *req);
void handle_fetch(struct request *req);
void handle_list_offsets(struct request *req);
void handle_create_topics(struct request *req);
void handle_delete_topics(struct request *req);
void handle_find_coordinator(struct request *req);
/* Consumer groups (group_membership.c, group_offsets.c, group_admin.c). */
void handle_join_group(struct request *req);
void handle_sync_group(struct request *req);
void handle_heartbeat(struct request *req);
void handle_leave_group(struct request *req);
void handle_offset_commit(struct request *req);
void handle_offset_fetch(struct request *req);
void handle_offset_delete(struct request *req);
void handle_list_groups(struct request *req);
void handle_describe_groups(struct request *req);
void handle_delete_groups(struct request *req);
/* The Kafka error code of a group coordinator error (GC_ERR_*, group/group.h). */
int16_t group_kafka_error(int gc_err);

/* Admin APIs (admin_configs.c, admin_partitions.c, admin_cluster.c). */
void handle_describe_configs(struct request *req);
void handle_alter_configs(struct request *req);
void handle_incremental_alter_configs(struct request *req);
void handle_create_partitions(struct request *req);
void handle_delete_records(struct request *req);
void handle_elect_leaders(struct request *req);
void handle_alter_partition_reassignments(struct request *req);
void handle_list_partition_reassignments(struct request *req);
void handle_describe_cluster(struct request *req);
void handle_describe_log_dirs(struct request *req);

/*
 * Encode the ApiVersions fallback body (v0 layout, UNSUPPORTED_VERSION) for a
 * request whose version is too new; used by the server before dispatch.
 */
void api_versions_encode_unsupported(struct request *req);

/* Create a topic with the broker defaults (auto-create); NULL on failure. */
struct topic *broker_auto_create_topic(struct broker *b, const char *name, size_t len,
                                       int16_t *kafka_err);

#endif
