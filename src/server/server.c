/*
 * server.c: the listening socket, the set of connections, the pool of request
 * objects, idle-connection reaping, connection limits and clean draining.
 * Framing and response order live in conn.c.
 */
#include "server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/logging.h"
#include "server/conn.h"

#define REQUEST_POOL_MAX 256
#define KEEP_FRAME_MAX   (256 * 1024) /* larger frames use the big-buffer cache */
#define KEEP_OUT_MAX     (1024 * 1024)
/*
 * Big frames (produce requests of up to a few MiB) are read into buffers kept
 * in a small cache instead of being freed: memory freshly given by the kernel
 * is slow to touch the first time, and one such buffer per produce request
 * showed up as the socket-read copy in profiles. Sizes round up to 1 MiB so a
 * buffer fits the next request of about the same size.
 */
#define BIG_UNIT     (1024 * 1024)
#define BIG_POOL_N   8
#define BIG_POOL_MAX (32 * 1024 * 1024)

struct big_buf {
	uint8_t *p;
	size_t cap;
};

struct server {
	struct broker *b;
	struct loop_io listen_io;
	int port;
	struct conn conns; /* list head */
	int nconns;
	struct conn *closed; /* freed at the end of the loop turn */
	struct request *pool;
	int npool;
	struct big_buf big[BIG_POOL_N];
	int nbig;
	size_t big_bytes;
	struct loop_timer idle_timer;
	bool draining;
	struct server_stats stats;
	void (*on_drained)(void *arg);
	void *drained_arg;
};

struct broker *server_broker(struct server *s)
{
	return s->b;
}
bool server_draining(const struct server *s)
{
	return s->draining;
}
int server_port(const struct server *s)
{
	return s->port;
}
int server_connection_count(const struct server *s)
{
	return s->nconns;
}
const struct server_stats *server_get_stats(const struct server *s)
{
	return &s->stats;
}
struct server_stats *server_stats_mut(struct server *s)
{
	return &s->stats;
}

/* The smallest cached big buffer of at least n bytes, taken out; or NULL. */
static uint8_t *big_get(struct server *s, size_t n, size_t *cap)
{
	/* The smallest that fits; among equals the one put back last, whose
	 * lines are most likely still cached. */
	int best = -1;
	for (int i = 0; i < s->nbig; i++)
		if (s->big[i].cap >= n && (best < 0 || s->big[i].cap <= s->big[best].cap))
			best = i;
	if (best < 0)
		return NULL;
	uint8_t *p = s->big[best].p;
	*cap = s->big[best].cap;
	s->big_bytes -= *cap;
	s->big[best] = s->big[--s->nbig];
	return p;
}

/* Keep a big buffer for the next big frame, or free it if the cache is full. */
static void big_put(struct server *s, uint8_t *p, size_t cap)
{
	if (s->nbig < BIG_POOL_N && s->big_bytes + cap <= BIG_POOL_MAX) {
		s->big[s->nbig++] = (struct big_buf){p, cap};
		s->big_bytes += cap;
		return;
	}
	free(p);
}

struct request *server_request_get(struct server *s, size_t frame_len)
{
	struct request *req = s->pool;
	size_t cap = 0;
	if (req) {
		s->pool = req->next;
		s->npool--;
		cap = req->frame_cap;
	} else {
		req = calloc(1, sizeof(*req));
		ASSERT(req);
		arena_init(&req->arena);
		buf_init(&req->out);
	}
	if (cap < frame_len) {
		free(req->frame);
		req->frame = NULL;
		if (frame_len > KEEP_FRAME_MAX)
			req->frame = big_get(s, frame_len, &cap);
		if (!req->frame) {
			cap = frame_len > KEEP_FRAME_MAX
			          ? (frame_len + BIG_UNIT - 1) / BIG_UNIT * BIG_UNIT
			          : frame_len;
			req->frame = malloc(cap ? cap : 1);
			ASSERT(req->frame);
		}
	}
	uint8_t *frame = req->frame;
	struct arena arena = req->arena;
	struct buf out = req->out;
	memset(req, 0, sizeof(*req));
	req->frame = frame;
	req->frame_cap = cap;
	req->frame_len = frame_len;
	req->arena = arena;
	req->out = out;
	req->broker = s->b;
	return req;
}

/* A big frame goes back to the cache; a small one stays with the request for its next use. */
static void put_big_frame(struct server *s, struct request *req)
{
	if (req->frame_cap <= KEEP_FRAME_MAX)
		return;
	big_put(s, req->frame, req->frame_cap);
	req->frame = NULL;
	req->frame_cap = 0;
	req->frame_len = 0;
}

void server_request_release_frame(struct server *s, struct request *req)
{
	req->client_id = kstr_null();
	rd_init(&req->body, NULL, 0);
	put_big_frame(s, req);
}

void server_request_put(struct server *s, struct request *req)
{
	/* File ranges spliced into the response hold segment references. */
	for (int i = 0; i < req->w.nsplices; i++) {
		struct wire_fileref *f = req->w.splices[i].file;
		if (f->release)
			f->release(f->ctx);
	}
	wr_release(&req->w);
	arena_reset(&req->arena);
	put_big_frame(s, req);
	if (s->npool >= REQUEST_POOL_MAX) {
		free(req->frame);
		arena_release(&req->arena);
		buf_release(&req->out);
		free(req);
		return;
	}
	if (req->out.cap > KEEP_OUT_MAX)
		buf_release(&req->out);
	req->next = s->pool;
	s->pool = req;
	s->npool++;
}

static void free_closed(void *arg)
{
	struct server *s = arg;
	while (s->closed) {
		struct conn *c = s->closed;
		s->closed = c->next_closed;
		buf_release(&c->in);
		free(c);
	}
}

void server_conn_closed(struct server *s, struct conn *c)
{
	c->prev->next = c->next;
	c->next->prev = c->prev;
	s->nconns--;
	c->next_closed = s->closed;
	s->closed = c;
	if (s->draining)
		server_check_drained(s);
}

void server_check_drained(struct server *s)
{
	if (!s->draining || !s->on_drained)
		return;
	for (struct conn *c = s->conns.next; c != &s->conns; c = c->next)
		if (c->head)
			return;
	void (*fn)(void *) = s->on_drained;
	s->on_drained = NULL;
	fn(s->drained_arg);
}

static bool over_limits(struct server *s, const struct sockaddr_storage *ss)
{
	const struct broker_config *cfg = &s->b->cfg;
	if (s->nconns >= cfg->max_connections)
		return true;
	if (cfg->max_connections_per_ip == INT32_MAX)
		return false;
	int same = 0;
	for (struct conn *c = s->conns.next; c != &s->conns; c = c->next) {
		/* peer is "addr:port"; compare the address part */
		char addr[64];
		if (ss->ss_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, addr,
			          sizeof(addr));
		else
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, addr,
			          sizeof(addr));
		size_t n = strlen(addr);
		if (strncmp(c->peer, addr, n) == 0 && c->peer[n] == '|')
			same++;
	}
	return same >= cfg->max_connections_per_ip;
}

static void format_peer(const struct sockaddr_storage *ss, char *out, size_t n)
{
	char addr[64] = "?";
	int port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;
		inet_ntop(AF_INET, &a->sin_addr, addr, sizeof(addr));
		port = ntohs(a->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof(addr));
		port = ntohs(a->sin6_port);
	}
	snprintf(out, n, "%s|%d", addr, port);
}

/* socket.receive.buffer.bytes / socket.send.buffer.bytes: -1 keeps the kernel's autotuning. */
static void set_buffer_sizes(int fd, const struct broker_config *cfg)
{
	int rcv = cfg->socket_receive_buffer_bytes, snd = cfg->socket_send_buffer_bytes;
	if (rcv > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)) < 0)
		LOG_WARN("socket.receive.buffer.bytes=%d not applied: %s", rcv, strerror(errno));
	if (snd > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd)) < 0)
		LOG_WARN("socket.send.buffer.bytes=%d not applied: %s", snd, strerror(errno));
}

static void on_accept(struct loop_io *io, uint32_t events)
{
	struct server *s = (struct server *)((char *)io - offsetof(struct server, listen_io));
	(void)events;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(io->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				LOG_WARN("accept failed: %s", strerror(errno));
			return;
		}
		if (s->draining || over_limits(s, &ss)) {
			char peer[64];
			format_peer(&ss, peer, sizeof(peer));
			LOG_WARN("refusing connection from %s: %s", peer,
			         s->draining ? "shutting down" : "max.connections reached");
			close(fd);
			s->stats.connections_refused++;
			continue;
		}
		s->stats.connections_accepted++;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		set_buffer_sizes(fd, &s->b->cfg);
		struct conn *c = calloc(1, sizeof(*c));
		ASSERT(c);
		c->srv = s;
		c->io.fd = fd;
		c->io.cb = conn_on_event;
		c->last_active_ms = clock_mono_ms();
		format_peer(&ss, c->peer, sizeof(c->peer));
		snprintf(c->host, sizeof(c->host), "/%.*s", (int)strcspn(c->peer, "|"), c->peer);
		buf_init(&c->in);
		if (loop_io_add(s->b->loop, &c->io, EPOLLIN) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = s->conns.next;
		c->prev = &s->conns;
		s->conns.next->prev = c;
		s->conns.next = c;
		s->nconns++;
	}
}

/* connections.max.idle.ms: close connections with nothing in flight for that long. */
static void idle_timer_cb(struct loop_timer *t)
{
	struct server *s = (struct server *)((char *)t - offsetof(struct server, idle_timer));
	int64_t now = clock_mono_ms();
	int64_t idle = s->b->cfg.connections_max_idle_ms;
	struct conn *c = s->conns.next;
	while (c != &s->conns) {
		struct conn *next = c->next;
		/* Parked requests (long polls) are activity; a half-sent frame is not. */
		if (!c->head && now - c->last_active_ms > idle)
			conn_close(c, "idle (connections.max.idle.ms)");
		c = next;
	}
	int64_t every = idle / 4;
	loop_timer_start(s->b->loop, t, every < 100 ? 100 : every > 10000 ? 10000 : every);
}

static int bind_listener(struct server *s)
{
	const struct broker_config *cfg = &s->b->cfg;
	char port[16];
	snprintf(port, sizeof(port), "%d", cfg->listen_port);
	struct addrinfo hints = {0}, *res = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	const char *host = cfg->listen_host[0] ? cfg->listen_host : NULL;
	int gai = getaddrinfo(host, port, &hints, &res);
	if (gai) {
		LOG_ERROR("cannot resolve listener host '%s': %s", host ? host : "*",
		          gai_strerror(gai));
		return ERR_INVALID_CONFIG;
	}
	int fd = -1, err = 0;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
			break;
		err = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		LOG_ERROR("cannot listen on %s:%d: %s", host ? host : "*", cfg->listen_port,
		          err_str(err));
		return err ? err : ERR_INVALID_CONFIG;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	s->port = ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
	                                  : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	s->listen_io.fd = fd;
	s->listen_io.cb = on_accept;
	return loop_io_add(s->b->loop, &s->listen_io, EPOLLIN);
}

int server_new(struct broker *b, struct server **out)
{
	struct server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->b = b;
	s->conns.next = s->conns.prev = &s->conns;
	int err = bind_listener(s);
	if (err) {
		free(s);
		return err;
	}
	loop_add_before_sleep(b->loop, free_closed, s);
	loop_timer_init(&s->idle_timer, idle_timer_cb);
	loop_timer_start(b->loop, &s->idle_timer, 1000);
	*out = s;
	return 0;
}

void server_shutdown(struct server *s, void (*on_drained)(void *arg), void *arg)
{
	if (s->draining)
		return;
	s->draining = true;
	s->on_drained = on_drained;
	s->drained_arg = arg;
	loop_io_del(s->b->loop, &s->listen_io);
	close(s->listen_io.fd);
	s->listen_io.fd = -1;
	for (struct conn *c = s->conns.next; c != &s->conns; c = c->next)
		conn_update_interest(c);
	server_check_drained(s);
}

void server_free(struct server *s)
{
	if (!s)
		return;
	loop_timer_stop(s->b->loop, &s->idle_timer);
	while (s->conns.next != &s->conns)
		conn_close(s->conns.next, "shutdown");
	free_closed(s);
	if (s->listen_io.fd > 0)
		close(s->listen_io.fd);
	while (s->pool) {
		struct request *req = s->pool;
		s->pool = req->next;
		free(req->frame);
		arena_release(&req->arena);
		buf_release(&req->out);
		free(req);
	}
	for (int i = 0; i < s->nbig; i++)
		free(s->big[i].p);
	free(s);
}
