/*
 * http.c: libmicrohttpd on its own thread. A request for /metrics or /health
 * becomes a job posted to the loop (loop_post); the loop renders into the
 * job's buffer and signals; the HTTP thread waits at most RENDER_TIMEOUT_MS.
 * The job is reference counted (the HTTP thread and the loop each hold one),
 * so a render that finishes after the HTTP side gave up frees itself.
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/logging.h"
#include "server/metrics_render.h"

#define RENDER_TIMEOUT_MS 5000

struct http {
	struct broker *b;
	struct server *srv;
	struct MHD_Daemon *daemon;
	int port;
};

enum job_kind { JOB_METRICS, JOB_HEALTH };

struct render_job {
	atomic_int refs;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
	int status; /* HTTP status chosen by the renderer */
	enum job_kind kind;
	struct http *h;
	struct buf out;
};

static void job_unref(struct render_job *j)
{
	if (atomic_fetch_sub(&j->refs, 1) == 1) {
		pthread_mutex_destroy(&j->mu);
		pthread_cond_destroy(&j->cv);
		buf_release(&j->out);
		free(j);
	}
}

/* Loop thread. */
static void render_on_loop(void *arg)
{
	struct render_job *j = arg;
	struct buf out = BUF_INIT;
	int status = 200;
	if (j->kind == JOB_METRICS)
		metrics_render(j->h->b, j->h->srv, &out);
	else
		status = health_render(j->h->b, &out);
	pthread_mutex_lock(&j->mu);
	j->out = out;
	j->status = status;
	j->done = 1;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
	job_unref(j);
}

static enum MHD_Result reply(struct MHD_Connection *c, int status, const char *ctype,
                             const void *data, size_t len)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", ctype);
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **state)
{
	struct http *h = cls;
	(void)version;
	(void)upload;
	(void)upload_size;
	if (!*state) { /* first call: headers only */
		*state = (void *)1;
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(c, 405, "text/plain", "method not allowed\n", 19);
	enum job_kind kind;
	const char *ctype;
	if (!strcmp(url, "/metrics")) {
		kind = JOB_METRICS;
		ctype = "text/plain; version=0.0.4; charset=utf-8";
	} else if (!strcmp(url, "/health") || !strcmp(url, "/v1/status/ready")) {
		kind = JOB_HEALTH;
		ctype = "application/json";
	} else {
		return reply(c, 404, "text/plain", "not found\n", 10);
	}
	struct render_job *j = calloc(1, sizeof(*j));
	if (!j)
		return reply(c, 503, "text/plain", "out of memory\n", 14);
	atomic_init(&j->refs, 2);
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	j->kind = kind;
	j->h = h;
	loop_post(h->b->loop, render_on_loop, j);

	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += RENDER_TIMEOUT_MS / 1000;
	pthread_mutex_lock(&j->mu);
	while (!j->done) {
		if (pthread_cond_timedwait(&j->cv, &j->mu, &deadline) == ETIMEDOUT)
			break;
	}
	int done = j->done;
	pthread_mutex_unlock(&j->mu);
	enum MHD_Result ret;
	if (!done) {
		static const char msg[] =
		    "{\"status\":\"unavailable\",\"reason\":\"event loop not responding\"}\n";
		ret = reply(c, 503, "application/json", msg, sizeof(msg) - 1);
	} else {
		ret = reply(c, j->status, ctype, j->out.data ? (const char *)j->out.data : "",
		            j->out.len);
	}
	job_unref(j);
	return ret;
}

int http_start(struct broker *b, struct server *srv, const char *listen, struct http **out)
{
	char host[256] = "";
	int port = 0;
	const char *colon = strrchr(listen, ':');
	if (!colon || colon - listen >= (long)sizeof(host)) {
		LOG_ERROR("fjord.http.listener '%s': expected host:port", listen);
		return ERR_INVALID_CONFIG;
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = 0;
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (*end || p < 0 || p > 65535) {
		LOG_ERROR("fjord.http.listener '%s': bad port", listen);
		return ERR_INVALID_CONFIG;
	}
	port = (int)p;
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (!host[0] || !strcmp(host, "0.0.0.0")) {
		sa.sin_addr.s_addr = htonl(INADDR_ANY);
	} else if (!strcmp(host, "localhost")) {
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		LOG_ERROR("fjord.http.listener '%s': host must be an IPv4 address or localhost",
		          listen);
		return ERR_INVALID_CONFIG;
	}
	struct http *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->b = b;
	h->srv = srv;
	h->daemon =
	    MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port,
	                     NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
	                     (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	                     MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
	if (!h->daemon) {
		LOG_WARN("cannot start the HTTP listener on %s (metrics and health unavailable)",
		         listen);
		free(h);
		return -EADDRINUSE;
	}
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : port;
	LOG_INFO("HTTP listener on %s:%d (/metrics, /health)", host[0] ? host : "*", h->port);
	*out = h;
	return 0;
}

int http_port(const struct http *h)
{
	return h->port;
}

void http_stop(struct http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->daemon);
	free(h);
}
