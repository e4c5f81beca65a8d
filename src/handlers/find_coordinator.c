/*
 * find_coordinator.c: FindCoordinator (key 10), v0-4 (v4 batches keys).
 * On a single node this broker coordinates every group, once the internal
 * topic __consumer_offsets exists: it is created on the first lookup, and
 * while it cannot be, the answer is COORDINATOR_NOT_AVAILABLE (retriable).
 * Transactions do not exist yet, so a transaction key gets
 * COORDINATOR_NOT_AVAILABLE too.
 *
 * Advertising this API also matters to librdkafka before 2.11.1, which
 * enables LZ4 only when FindCoordinator v0 is in the broker's range.
 */
#include "group/group.h"
#include "handlers/errors.h"
#include "handlers/handler.h"
#include "proto/gen/kmsg.h"

#define KEY_TYPE_GROUP                 0
#define KEY_TYPE_TRANSACTION           1
#define KERR_COORDINATOR_NOT_AVAILABLE 15
#define KERR_INVALID_GROUP_ID          24

static int16_t lookup(struct broker *b, int8_t key_type, struct kstr key, const char **msg)
{
	if (key_type == KEY_TYPE_GROUP) {
		if (key.len <= 0) {
			*msg = "The group id is empty.";
			return KERR_INVALID_GROUP_ID;
		}
		if (!b->groups || gc_ensure_topic(b->groups)) {
			*msg = "The coordinator is not available.";
			return KERR_COORDINATOR_NOT_AVAILABLE;
		}
		return KERR_NONE;
	}
	if (key_type == KEY_TYPE_TRANSACTION) {
		*msg = "Transactions are not available on this broker yet.";
		return KERR_COORDINATOR_NOT_AVAILABLE;
	}
	*msg = "Unknown coordinator key type.";
	return KERR_INVALID_REQUEST;
}

void handle_find_coordinator(struct request *req)
{
	struct broker *b = req->broker;
	struct find_coordinator_request in;
	find_coordinator_request_init(&in);
	if (find_coordinator_request_decode(&req->body, req->api_version, &in, &req->arena)) {
		request_close(req);
		return;
	}
	struct find_coordinator_response resp;
	find_coordinator_response_init(&resp);
	struct kstr host = kstr_c(b->cfg.advertised_host);
	if (req->api_version < 4) {
		const char *msg = NULL;
		resp.error_code = lookup(b, in.key_type, in.key, &msg);
		resp.error_message = msg ? kstr_c(msg) : kstr_null();
		resp.node_id = resp.error_code ? -1 : b->cfg.node_id;
		resp.host = resp.error_code ? kstr_c("") : host;
		resp.port = resp.error_code ? -1 : b->cfg.advertised_port;
	} else {
		int32_t n = in.n_coordinator_keys > 0 ? in.n_coordinator_keys : 0;
		resp.n_coordinators = n;
		resp.coordinators =
		    arena_alloc(&req->arena, sizeof(*resp.coordinators) * (size_t)(n ? n : 1));
		for (int32_t i = 0; i < n; i++) {
			struct find_coordinator_response_coordinator *c = &resp.coordinators[i];
			find_coordinator_response_coordinator_init(c);
			const char *msg = NULL;
			c->key = in.coordinator_keys[i];
			c->error_code = lookup(b, in.key_type, c->key, &msg);
			c->error_message = msg ? kstr_c(msg) : kstr_null();
			c->node_id = c->error_code ? -1 : b->cfg.node_id;
			c->host = c->error_code ? kstr_c("") : host;
			c->port = c->error_code ? -1 : b->cfg.advertised_port;
		}
	}
	find_coordinator_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}
