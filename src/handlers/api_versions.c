/*
 * api_versions.c: ApiVersions (key 18), KIP-511. The response header is
 * always v0 (the server knows). A version newer than ours gets a v0-shaped
 * body with UNSUPPORTED_VERSION and our ApiVersions range, so the client can
 * retry with a version we share. v3+ clients name their software; names with
 * characters outside [a-zA-Z0-9.-] are INVALID_REQUEST, as in Kafka.
 */
#include <ctype.h>

#include "handlers/errors.h"
#include "handlers/handler.h"
#include "proto/gen/kmsg.h"

static bool software_name_valid(struct kstr s)
{
	if (s.len <= 0)
		return false;
	if (!isalnum((unsigned char)s.ptr[0]) || !isalnum((unsigned char)s.ptr[s.len - 1]))
		return false;
	for (int32_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (!isalnum(c) && c != '-' && c != '.')
			return false;
	}
	return true;
}

static void fill_keys(struct request *req, struct api_versions_response *resp)
{
	resp->n_api_keys = api_handlers_count;
	resp->api_keys =
	    arena_alloc(&req->arena, sizeof(*resp->api_keys) * (size_t)api_handlers_count);
	for (int i = 0; i < api_handlers_count; i++) {
		resp->api_keys[i].api_key = api_handlers[i].api_key;
		resp->api_keys[i].min_version = api_handlers[i].min_version;
		resp->api_keys[i].max_version = api_handlers[i].max_version;
	}
}

void api_versions_encode_unsupported(struct request *req)
{
	struct api_versions_response resp;
	api_versions_response_init(&resp);
	resp.error_code = KERR_UNSUPPORTED_VERSION;
	fill_keys(req, &resp);
	api_versions_response_encode(&req->w, 0, &resp);
}

void handle_api_versions(struct request *req)
{
	struct api_versions_request in;
	api_versions_request_init(&in);
	int err = api_versions_request_decode(&req->body, req->api_version, &in, &req->arena);
	struct api_versions_response resp;
	api_versions_response_init(&resp);
	if (err) {
		resp.error_code = KERR_INVALID_REQUEST;
	} else if (req->api_version >= 3 && (!software_name_valid(in.client_software_name) ||
	                                     !software_name_valid(in.client_software_version))) {
		resp.error_code = KERR_INVALID_REQUEST;
	}
	fill_keys(req, &resp);
	api_versions_response_encode(&req->w, req->api_version, &resp);
	request_done(req);
}
