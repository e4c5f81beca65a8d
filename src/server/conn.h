/*
 * conn.h: one client connection (private to server/).
 *
 * Invariants: requests form a FIFO in arrival order; only the head's
 * response is being written, and out_pos counts the bytes of it already sent
 * (memory and file ranges alike). A closed connection is unlinked from epoll
 * at once but freed only at the end of the loop turn, so events already
 * fetched for it in this turn find it marked closed.
 */
#ifndef FJORD_SERVER_CONN_H
#define FJORD_SERVER_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "handlers/handler.h"
#include "io/loop.h"

struct server;

struct conn {
	struct loop_io io;
	struct server *srv;
	struct conn *prev, *next; /* all connections */
	struct conn *next_closed;
	struct buf in;       /* received bytes not yet framed */
	struct request *big; /* large frame being read straight into its buffer */
	size_t big_have;
	struct request *head, *tail;
	int inflight;
	size_t out_pos;
	bool closed;
	bool muted; /* not reading: too much in flight, or shutting down */
	int64_t last_active_ms;
	char peer[64];
	char host[64]; /* "/" + peer address, as Kafka reports client hosts */
};

struct request_state_names;

void conn_on_event(struct loop_io *io, uint32_t events);
void conn_close(struct conn *c, const char *why);
/* Write what can be written; update the epoll interest. */
void conn_flush(struct conn *c);
/* Resume reading if the connection was muted and may read again. */
void conn_update_interest(struct conn *c);

/* server.c provides these to conn.c. */
struct request *server_request_get(struct server *s, size_t frame_len);
void server_request_put(struct server *s, struct request *req);
void server_request_release_frame(struct server *s, struct request *req);
struct broker *server_broker(struct server *s);
bool server_draining(const struct server *s);
void server_conn_closed(struct server *s, struct conn *c);
void server_check_drained(struct server *s);
struct server_stats *server_stats_mut(struct server *s);

#endif
