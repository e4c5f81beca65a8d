/*
 * metrics_render.h: the broker's state as Prometheus text and as a health
 * document. Loop thread only (the HTTP thread posts these as jobs).
 */
#ifndef FJORD_SERVER_METRICS_RENDER_H
#define FJORD_SERVER_METRICS_RENDER_H

#include "base/buf.h"
#include "handlers/handler.h"

struct server;

void metrics_render(struct broker *b, struct server *srv, struct buf *out);
/* Returns the HTTP status: 200 when serving normally, 503 otherwise. */
int health_render(struct broker *b, struct buf *out);

#endif
