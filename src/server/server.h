/*
 * server.h: the Kafka listener — accepts connections, frames requests,
 * dispatches them through the handler table, and writes responses back in
 * request order per connection, even while some handlers are parked.
 *
 * Threads: loop thread only.
 */
#ifndef FJORD_SERVER_SERVER_H
#define FJORD_SERVER_SERVER_H

#include <stdbool.h>

#include "handlers/handler.h"
#include "metrics/metrics.h"

struct server;

/* Bind and listen on the broker's configured listener. */
int server_new(struct broker *b, struct server **out);
/*
 * Begin a clean shutdown: stop accepting and stop reading new requests;
 * requests already received are answered. on_drained runs (once) when every
 * connection has nothing left in flight.
 */
void server_shutdown(struct server *s, void (*on_drained)(void *arg), void *arg);
/* Close every connection (releasing parked requests) and free. */
void server_free(struct server *s);
/* The port actually bound (useful with port 0). */
int server_port(const struct server *s);
int server_connection_count(const struct server *s);

/* Per-API request statistics, kept by the loop thread. */
#define SERVER_MAX_API 100
struct server_api_stats {
	uint64_t requests;        /* requests answered (or acks=0 completed) */
	uint64_t closed;          /* requests that made us close the connection */
	struct histogram latency; /* receipt to response queued, seconds */
};
struct server_stats {
	struct server_api_stats api[SERVER_MAX_API];
	uint64_t connections_accepted;
	uint64_t connections_refused;
	uint64_t bytes_received;
	uint64_t bytes_sent;
};
const struct server_stats *server_get_stats(const struct server *s);

#endif
