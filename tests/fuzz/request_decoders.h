/*
 * request_decoders.h: shared by the request fuzz targets. decode_encode()
 * runs the generated decoder of any API at any version, and encodes what it
 * decoded; check_request() parses one frame as the server does (header v1/v2,
 * then the body) and requires encode(decode(encode(x))) == encode(x).
 */
#ifndef FJORD_FUZZ_REQUEST_DECODERS_H
#define FJORD_FUZZ_REQUEST_DECODERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "proto/gen/kmsg.h"
#include "proto/wire.h"

#define REQUEST_APIS(X)                                                                            \
	X(0, produce_request)                                                                      \
	X(1, fetch_request)                                                                        \
	X(2, list_offsets_request)                                                                 \
	X(3, metadata_request)                                                                     \
	X(8, offset_commit_request)                                                                \
	X(9, offset_fetch_request)                                                                 \
	X(10, find_coordinator_request)                                                            \
	X(11, join_group_request)                                                                  \
	X(12, heartbeat_request)                                                                   \
	X(13, leave_group_request)                                                                 \
	X(14, sync_group_request)                                                                  \
	X(15, describe_groups_request)                                                             \
	X(16, list_groups_request)                                                                 \
	X(17, sasl_handshake_request)                                                              \
	X(18, api_versions_request)                                                                \
	X(19, create_topics_request)                                                               \
	X(20, delete_topics_request)                                                               \
	X(21, delete_records_request)                                                              \
	X(22, init_producer_id_request)                                                            \
	X(23, offset_for_leader_epoch_request)                                                     \
	X(24, add_partitions_to_txn_request)                                                       \
	X(25, add_offsets_to_txn_request)                                                          \
	X(26, end_txn_request)                                                                     \
	X(27, write_txn_markers_request)                                                           \
	X(28, txn_offset_commit_request)                                                           \
	X(29, describe_acls_request)                                                               \
	X(30, create_acls_request)                                                                 \
	X(31, delete_acls_request)                                                                 \
	X(32, describe_configs_request)                                                            \
	X(33, alter_configs_request)                                                               \
	X(35, describe_log_dirs_request)                                                           \
	X(36, sasl_authenticate_request)                                                           \
	X(37, create_partitions_request)                                                           \
	X(42, delete_groups_request)                                                               \
	X(43, elect_leaders_request)                                                               \
	X(44, incremental_alter_configs_request)                                                   \
	X(45, alter_partition_reassignments_request)                                               \
	X(46, list_partition_reassignments_request)                                                \
	X(47, offset_delete_request)                                                               \
	X(60, describe_cluster_request)                                                            \
	/* end */

static inline int decode_encode(int16_t key, int16_t version, struct rd *r, struct arena *a,
                                struct buf *out)
{
	switch (key) {
#define CASE(k, name)                                                                              \
	case k: {                                                                                  \
		struct name m;                                                                     \
		name##_init(&m);                                                                   \
		int e = name##_decode(r, version, &m, a);                                          \
		if (e == 0) {                                                                      \
			struct wr w;                                                               \
			wr_init(&w, out);                                                          \
			name##_encode(&w, version, &m);                                            \
			wr_release(&w);                                                            \
		}                                                                                  \
		return e;                                                                          \
	}
		REQUEST_APIS(CASE)
#undef CASE
	default:
		return -1;
	}
}

static inline void check_request(const uint8_t *data, size_t size)
{

	struct rd r;
	rd_init(&r, data, size);
	int16_t key = rd_i16(&r);
	int16_t version = rd_i16(&r);
	(void)rd_i32(&r); /* correlation id */
	(void)rd_str(&r, false);
	const struct kmsg_api *api = kmsg_api_find(key);
	if (r.err || !api || version < api->min_version || version > api->max_version)
		return;
	if (kmsg_request_header_version(key, version) >= 2)
		rd_skip_tags(&r);
	if (r.err)
		return;

	struct arena a;
	struct buf once = BUF_INIT, twice = BUF_INIT;
	arena_init(&a);
	if (decode_encode(key, version, &r, &a, &once) == 0) {
		struct rd r2;
		rd_init(&r2, once.data, once.len);
		if (decode_encode(key, version, &r2, &a, &twice) != 0) {
			fprintf(stderr, "api %d v%d: our own encoding does not decode\n", key,
			        version);
			abort();
		}
		if (twice.len != once.len ||
		    (once.len && memcmp(twice.data, once.data, once.len) != 0)) {
			fprintf(stderr, "api %d v%d: encode(decode(encode(x))) != encode(x)\n", key,
			        version);
			abort();
		}
	}
	buf_release(&once);
	buf_release(&twice);
	arena_release(&a);
}

#endif
