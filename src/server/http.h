/*
 * http.h: the broker's HTTP listener (libmicrohttpd, its own thread):
 * GET /metrics (Prometheus text) and GET /health. Later the REST proxy and
 * the console hang off the same listener.
 *
 * The HTTP thread never touches broker state: it posts a render job to the
 * event loop and waits (bounded) for the text.
 */
#ifndef FJORD_SERVER_HTTP_H
#define FJORD_SERVER_HTTP_H

#include "handlers/handler.h"

struct http;
struct server;

/*
 * Listen on "host:port" (port 0 picks one). Failure to bind is reported and
 * returned; the broker decides whether that is fatal.
 */
int http_start(struct broker *b, struct server *srv, const char *listen, struct http **out);
int http_port(const struct http *h);
/* Stop the thread; pending renders are abandoned safely. */
void http_stop(struct http *h);

#endif
