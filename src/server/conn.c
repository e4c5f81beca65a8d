/*
 * conn.c: reading frames, dispatching requests, writing responses in order.
 *
 * Framing: int32 size then size bytes. A size below the smallest request
 * header or above socket.request.max.bytes closes the connection before
 * anything is allocated for it. Small frames are copied out of the read
 * buffer; a frame larger than the read chunk gets its own buffer of exactly
 * its size and is read straight into it (one copy at most, bounded memory).
 *
 * Idleness (connections.max.idle.ms) counts from the last complete request
 * or response, not the last byte: a client trickling a frame a byte at a
 * time (slow loris) is closed like an idle one.
 *
 * Output: a response is a buffer with splices (file ranges); memory runs go
 * out with writev and file ranges with sendfile, resuming at out_pos after a
 * short write.
 */
#include "server/conn.h"
#include "server/server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/endian.h"
#include "base/err.h"
#include "base/logging.h"
#include "proto/frame.h"
#include "proto/gen/kmsg.h"

#define READ_CHUNK   65536
#define MAX_INFLIGHT 256

enum { RS_PROCESSING = 0, RS_READY, RS_NO_RESPONSE };

static void request_complete(struct request *req, int how);

static void release_frame(struct request *req)
{
	struct conn *c = req->conn;
	server_request_release_frame(c->srv, req);
}

static void conn_push(struct conn *c, struct request *req)
{
	req->next = NULL;
	if (c->tail)
		c->tail->next = req;
	else
		c->head = req;
	c->tail = req;
	c->inflight++;
}

static struct request *conn_pop(struct conn *c)
{
	struct request *req = c->head;
	c->head = req->next;
	if (!c->head)
		c->tail = NULL;
	c->inflight--;
	c->out_pos = 0;
	return req;
}

/* Response header: correlation id, plus an empty tag section for header v1. */
static void start_response(struct request *req)
{
	buf_reset(&req->out);
	wr_init(&req->w, &req->out);
	wr_i32(&req->w, 0); /* size, patched in request_complete */
	wr_i32(&req->w, req->correlation_id);
	if (kmsg_response_header_version(req->api_key, req->api_version) >= 1)
		wr_empty_tags(&req->w);
}

static void dispatch(struct conn *c, struct request *req)
{
	struct rd *r = &req->body;
	rd_init(r, req->frame, req->frame_len);
	req->api_key = rd_i16(r);
	req->api_version = rd_i16(r);
	req->correlation_id = rd_i32(r);
	req->client_id = rd_str(r, false);
	req->conn = c;
	req->client_host = kstr_c(c->host);
	req->complete = request_complete;
	req->release_frame = release_frame;
	req->received_ns = clock_mono_ns();
	conn_push(c, req);
	c->last_active_ms = clock_mono_ms(); /* a whole request, not a trickle of bytes */

	const struct api_handler *h = api_handler_find(req->api_key);
	if (r->err || !h) {
		LOG_WARN("closing connection from %s: %s (api key %d)", c->peer,
		         r->err ? "malformed request header" : "unknown api key", req->api_key);
		request_close(req);
		return;
	}
	if (req->api_version < h->min_version || req->api_version > h->max_version) {
		if (req->api_key == 18) { /* KIP-511: answer in v0 shape */
			req->api_version = 0;
			start_response(req);
			api_versions_encode_unsupported(req);
			request_done(req);
			return;
		}
		LOG_WARN("closing connection from %s: unsupported version %d of api key %d",
		         c->peer, req->api_version, req->api_key);
		request_close(req);
		return;
	}
	if (kmsg_request_header_version(req->api_key, req->api_version) >= 2)
		rd_skip_tags(r);
	if (r->err) {
		LOG_WARN("closing connection from %s: malformed request header", c->peer);
		request_close(req);
		return;
	}
	start_response(req);
	h->handle(req);
}

static void count_request(struct conn *c, struct request *req, int how)
{
	if (req->api_key < 0 || req->api_key >= SERVER_MAX_API)
		return;
	struct server_api_stats *st = &server_stats_mut(c->srv)->api[req->api_key];
	if (how == REQUEST_CLOSE) {
		st->closed++;
		return;
	}
	st->requests++;
	histogram_observe(&st->latency, (double)(clock_mono_ns() - req->received_ns) / 1e9);
}

static void request_complete(struct request *req, int how)
{
	struct conn *c = req->conn;
	req->cancel = NULL;
	count_request(c, req, how);
	if (how == REQUEST_CLOSE) {
		req->state = RS_NO_RESPONSE;
		conn_close(c, "bad request");
		return;
	}
	if (how == REQUEST_NO_RESPONSE) {
		req->state = RS_NO_RESPONSE;
	} else {
		size_t total = wr_total(&req->w);
		be32_store(req->out.data, (uint32_t)(total - 4));
		req->state = RS_READY;
	}
	if (!c->closed)
		conn_flush(c);
}

/* Parse every complete frame in c->in; start a big read if one is large. */
static int frame_input(struct conn *c)
{
	struct server *s = c->srv;
	int32_t max = server_broker(s)->cfg.socket_request_max_bytes;
	size_t off = 0;
	while (!c->closed) {
		int32_t size;
		enum frame_status st = frame_peek(c->in.data + off, c->in.len - off, max, &size);
		if (st == FRAME_BAD) {
			LOG_WARN("closing connection from %s: frame size %d outside [%d, %d] "
			         "(socket.request.max.bytes)",
			         c->peer, (int32_t)be32_load(c->in.data + off), FRAME_HEADER_MIN,
			         max);
			conn_close(c, "bad frame size");
			return -1;
		}
		if (st == FRAME_READY) {
			struct request *req = server_request_get(s, (size_t)size);
			memcpy(req->frame, c->in.data + off + 4, (size_t)size);
			off += 4 + (size_t)size;
			dispatch(c, req);
			continue;
		}
		if (size > READ_CHUNK) {
			/* A large frame gets its own buffer, read into directly. */
			size_t have = c->in.len - off - 4;
			struct request *req = server_request_get(s, (size_t)size);
			memcpy(req->frame, c->in.data + off + 4, have);
			c->big = req;
			c->big_have = have;
			off = c->in.len;
		}
		break;
	}
	if (!c->closed)
		buf_consume(&c->in, off);
	return 0;
}

static void conn_read(struct conn *c)
{
	for (int rounds = 0; rounds < 16 && !c->closed && !c->muted; rounds++) {
		ssize_t n;
		if (c->big) {
			struct request *req = c->big;
			n = read(c->io.fd, req->frame + c->big_have, req->frame_len - c->big_have);
			if (n > 0) {
				server_stats_mut(c->srv)->bytes_received += (uint64_t)n;
				c->big_have += (size_t)n;
				if (c->big_have == req->frame_len) {
					c->big = NULL;
					dispatch(c, req);
				}
			}
		} else {
			uint8_t *p = buf_reserve(&c->in, READ_CHUNK);
			n = read(c->io.fd, p, READ_CHUNK);
			if (n > 0) {
				server_stats_mut(c->srv)->bytes_received += (uint64_t)n;
				buf_advance(&c->in, (size_t)n);
				if (frame_input(c) < 0)
					return;
			}
		}
		if (n == 0) {
			conn_close(c, "peer closed");
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_close(c, "read error");
			break;
		}
		if (c->inflight >= MAX_INFLIGHT)
			break;
	}
	conn_update_interest(c);
}

/*
 * Send the head response from out_pos. Returns 1 when it is all sent, 0 when
 * the socket is full, -1 on error.
 */
static int send_response(struct conn *c, struct request *req)
{
	const struct wr *w = &req->w;
	size_t total_len = wr_total(w);
	while (c->out_pos < total_len) {
		/*
		 * The response is mem[0,s0) file0 mem[s0,s1) file1 ... mem[sn,len):
		 * find the piece that holds out_pos and send from there.
		 */
		size_t pos = c->out_pos, at = 0, mem_start = 0;
		const struct wire_fileref *file = NULL;
		size_t piece_off = 0, piece_len = 0;
		for (int i = 0; i <= w->nsplices; i++) {
			size_t mem_end = i < w->nsplices ? w->splices[i].pos : req->out.len;
			size_t mem_len = mem_end - mem_start;
			if (pos < at + mem_len) {
				piece_off = mem_start + (pos - at);
				piece_len = mem_len - (pos - at);
				break;
			}
			at += mem_len;
			if (i == w->nsplices)
				break;
			size_t flen = (size_t)w->splices[i].file->len;
			if (pos < at + flen) {
				file = w->splices[i].file;
				piece_off = pos - at;
				piece_len = flen - piece_off;
				break;
			}
			at += flen;
			mem_start = mem_end;
		}
		ssize_t n;
		if (file) {
			off_t off = (off_t)(file->off + (int64_t)piece_off);
			n = sendfile(c->io.fd, file->fd, &off, piece_len);
			if (n == 0) {
				/* The file is shorter than promised: never send garbage. */
				LOG_ERROR("short file range while answering %s; closing", c->peer);
				return -1;
			}
		} else {
			n = write(c->io.fd, req->out.data + piece_off, piece_len);
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		c->out_pos += (size_t)n;
		server_stats_mut(c->srv)->bytes_sent += (uint64_t)n;
	}
	return 1;
}

static void request_free(struct conn *c, struct request *req)
{
	server_request_put(c->srv, req);
}

void conn_flush(struct conn *c)
{
	while (c->head && c->head->state != RS_PROCESSING) {
		struct request *req = c->head;
		if (req->state == RS_READY) {
			int r = send_response(c, req);
			if (r < 0) {
				conn_close(c, "write error");
				return;
			}
			if (r == 0)
				break;
		}
		request_free(c, conn_pop(c));
		c->last_active_ms = clock_mono_ms();
	}
	if (c->head == NULL && server_draining(c->srv))
		server_check_drained(c->srv);
	conn_update_interest(c);
}

void conn_update_interest(struct conn *c)
{
	if (c->closed)
		return;
	uint32_t ev = 0;
	c->muted = c->inflight >= MAX_INFLIGHT || server_draining(c->srv);
	if (!c->muted)
		ev |= EPOLLIN;
	if (c->head && c->head->state == RS_READY)
		ev |= EPOLLOUT;
	loop_io_mod(server_broker(c->srv)->loop, &c->io, ev);
}

void conn_on_event(struct loop_io *io, uint32_t events)
{
	struct conn *c = (struct conn *)io;
	if (c->closed)
		return;
	if (events & EPOLLOUT)
		conn_flush(c);
	if (!c->closed && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		conn_read(c);
}

void conn_close(struct conn *c, const char *why)
{
	if (c->closed)
		return;
	c->closed = true;
	LOG_DEBUG("connection from %s closed: %s", c->peer, why);
	struct broker *b = server_broker(c->srv);
	loop_io_del(b->loop, &c->io);
	close(c->io.fd);
	c->io.fd = -1;
	/* Parked requests let go of what they hold; then every request is freed. */
	while (c->head) {
		struct request *req = conn_pop(c);
		if (req->state == RS_PROCESSING && req->cancel)
			req->cancel(req);
		request_free(c, req);
	}
	if (c->big) {
		request_free(c, c->big);
		c->big = NULL;
	}
	server_conn_closed(c->srv, c);
}
