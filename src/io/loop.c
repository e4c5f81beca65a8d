/*
 * loop.c: epoll event loop. Timers live in a binary min-heap keyed by
 * deadline; posted callbacks in a mutex-protected queue whose arrival wakes
 * epoll through an eventfd. Nothing here blocks except epoll_wait.
 */
#include "io/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/clock.h"

struct posted {
	void (*fn)(void *arg);
	void *arg;
};

struct loop {
	int epfd;
	struct loop_io wake;
	int64_t now_ms;
	volatile int stopping;

	struct loop_timer **heap;
	int nheap, capheap;

	pthread_mutex_t post_mu;
	struct posted *posts, *running;
	int nposts, capposts, caprunning;

	struct {
		void (*fn)(void *arg);
		void *arg;
	} hooks[8];
	int nhooks;
};

static void wake_cb(struct loop_io *io, uint32_t events)
{
	uint64_t v;
	ssize_t r = read(io->fd, &v, sizeof(v));
	(void)r;
	(void)events;
}

int loop_new(struct loop **out)
{
	struct loop *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int e = -errno;
		free(l);
		return e;
	}
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0) {
		int e = -errno;
		close(l->epfd);
		free(l);
		return e;
	}
	pthread_mutex_init(&l->post_mu, NULL);
	l->wake.fd = efd;
	l->wake.cb = wake_cb;
	loop_io_add(l, &l->wake, EPOLLIN);
	l->now_ms = clock_mono_ms();
	*out = l;
	return 0;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	close(l->wake.fd);
	close(l->epfd);
	pthread_mutex_destroy(&l->post_mu);
	free(l->heap);
	free(l->posts);
	free(l->running);
	free(l);
}

int loop_io_add(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev) < 0)
		return -errno;
	io->events = events;
	return 0;
}

int loop_io_mod(struct loop *l, struct loop_io *io, uint32_t events)
{
	if (io->events == events)
		return 0;
	struct epoll_event ev = {.events = events, .data.ptr = io};
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		return -errno;
	io->events = events;
	return 0;
}

void loop_io_del(struct loop *l, struct loop_io *io)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->events = 0;
}

/* Timer heap. */

static void heap_swap(struct loop *l, int a, int b)
{
	struct loop_timer *t = l->heap[a];
	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->heap_idx = a;
	l->heap[b]->heap_idx = b;
}

static void heap_up(struct loop *l, int i)
{
	while (i > 0) {
		int p = (i - 1) / 2;
		if (l->heap[p]->deadline_ms <= l->heap[i]->deadline_ms)
			break;
		heap_swap(l, i, p);
		i = p;
	}
}

static void heap_down(struct loop *l, int i)
{
	for (;;) {
		int c = 2 * i + 1, m = i;
		if (c < l->nheap && l->heap[c]->deadline_ms < l->heap[m]->deadline_ms)
			m = c;
		if (c + 1 < l->nheap && l->heap[c + 1]->deadline_ms < l->heap[m]->deadline_ms)
			m = c + 1;
		if (m == i)
			break;
		heap_swap(l, i, m);
		i = m;
	}
}

void loop_timer_stop(struct loop *l, struct loop_timer *t)
{
	int i = t->heap_idx;
	if (i < 0)
		return;
	ASSERT(i < l->nheap && l->heap[i] == t);
	int last = --l->nheap;
	if (i != last) {
		l->heap[i] = l->heap[last];
		l->heap[i]->heap_idx = i;
		heap_down(l, i);
		heap_up(l, i);
	}
	t->heap_idx = -1;
}

void loop_timer_start(struct loop *l, struct loop_timer *t, int64_t delay_ms)
{
	loop_timer_stop(l, t);
	if (delay_ms < 0)
		delay_ms = 0;
	t->deadline_ms = clock_mono_ms() + delay_ms;
	if (l->nheap == l->capheap) {
		int cap = l->capheap ? l->capheap * 2 : 64;
		struct loop_timer **h = realloc(l->heap, sizeof(*h) * (size_t)cap);
		ASSERT(h);
		l->heap = h;
		l->capheap = cap;
	}
	t->heap_idx = l->nheap;
	l->heap[l->nheap++] = t;
	heap_up(l, t->heap_idx);
}

/* Posting from other threads. */

void loop_post(struct loop *l, void (*fn)(void *arg), void *arg)
{
	pthread_mutex_lock(&l->post_mu);
	if (l->nposts == l->capposts) {
		int cap = l->capposts ? l->capposts * 2 : 64;
		struct posted *p = realloc(l->posts, sizeof(*p) * (size_t)cap);
		ASSERT(p);
		l->posts = p;
		l->capposts = cap;
	}
	l->posts[l->nposts].fn = fn;
	l->posts[l->nposts].arg = arg;
	int first = l->nposts++ == 0;
	pthread_mutex_unlock(&l->post_mu);
	if (first) {
		uint64_t one = 1;
		ssize_t w = write(l->wake.fd, &one, sizeof(one));
		(void)w;
	}
}

static void run_posted(struct loop *l)
{
	pthread_mutex_lock(&l->post_mu);
	struct posted *p = l->posts;
	int n = l->nposts, cap = l->capposts;
	l->posts = l->running;
	l->capposts = l->caprunning;
	l->nposts = 0;
	l->running = p;
	l->caprunning = cap;
	pthread_mutex_unlock(&l->post_mu);
	for (int i = 0; i < n; i++)
		p[i].fn(p[i].arg);
}

void loop_run_posted(struct loop *l)
{
	run_posted(l);
}

void loop_add_before_sleep(struct loop *l, void (*fn)(void *arg), void *arg)
{
	ASSERT(l->nhooks < (int)ARRAY_SIZE(l->hooks));
	l->hooks[l->nhooks].fn = fn;
	l->hooks[l->nhooks].arg = arg;
	l->nhooks++;
}

void loop_stop(struct loop *l)
{
	l->stopping = 1;
	uint64_t one = 1;
	ssize_t w = write(l->wake.fd, &one, sizeof(one));
	(void)w;
}

int64_t loop_now_ms(const struct loop *l)
{
	return l->now_ms;
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[256];
	while (!l->stopping) {
		int timeout = -1;
		if (l->nheap) {
			int64_t d = l->heap[0]->deadline_ms - clock_mono_ms();
			timeout = d < 0 ? 0 : d > 1000000 ? 1000000 : (int)d;
		}
		int n = epoll_wait(l->epfd, evs, (int)ARRAY_SIZE(evs), timeout);
		l->now_ms = clock_mono_ms();
		for (int i = 0; i < n; i++) {
			struct loop_io *io = evs[i].data.ptr;
			io->cb(io, evs[i].events);
		}
		run_posted(l);
		while (l->nheap && l->heap[0]->deadline_ms <= l->now_ms) {
			struct loop_timer *t = l->heap[0];
			loop_timer_stop(l, t);
			t->cb(t);
		}
		for (int i = 0; i < l->nhooks; i++)
			l->hooks[i].fn(l->hooks[i].arg);
	}
	l->stopping = 0;
	return 0;
}
