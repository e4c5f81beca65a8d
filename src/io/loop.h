/*
 * loop.h: a single-threaded epoll event loop with timers, a before-sleep hook
 * and a thread-safe way for other threads to post work to it.
 *
 * One loop per event-loop thread. Every function here must be called on the
 * loop's own thread except loop_post() and loop_stop(), which any thread (not
 * a signal handler) may call.
 *
 * Turn order: wait (epoll, bounded by the nearest timer), run ready I/O
 * callbacks, run posted callbacks, run expired timers, then the before-sleep
 * hooks — where group commit starts the fsync of everything appended in this
 * turn.
 */
#ifndef FJORD_IO_LOOP_H
#define FJORD_IO_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;

struct loop_io {
	int fd;
	uint32_t events; /* EPOLLIN | EPOLLOUT ... currently registered */
	void (*cb)(struct loop_io *io, uint32_t events);
};

struct loop_timer {
	int64_t deadline_ms; /* monotonic */
	int heap_idx;        /* -1 when not armed */
	void (*cb)(struct loop_timer *t);
};

int loop_new(struct loop **out);
void loop_free(struct loop *l);

/* Register fd with the given epoll events; io must stay valid until del. */
int loop_io_add(struct loop *l, struct loop_io *io, uint32_t events);
int loop_io_mod(struct loop *l, struct loop_io *io, uint32_t events);
void loop_io_del(struct loop *l, struct loop_io *io);

static inline void loop_timer_init(struct loop_timer *t, void (*cb)(struct loop_timer *t))
{
	t->deadline_ms = 0;
	t->heap_idx = -1;
	t->cb = cb;
}
/* (Re)arm t to fire once after delay_ms. */
void loop_timer_start(struct loop *l, struct loop_timer *t, int64_t delay_ms);
void loop_timer_stop(struct loop *l, struct loop_timer *t);
static inline bool loop_timer_armed(const struct loop_timer *t)
{
	return t->heap_idx >= 0;
}

/* Any thread: run fn(arg) on the loop thread soon. */
void loop_post(struct loop *l, void (*fn)(void *arg), void *arg);
/* Add a hook run at the end of every turn, before waiting again (max 8). */
void loop_add_before_sleep(struct loop *l, void (*fn)(void *arg), void *arg);

/*
 * Run the callbacks posted so far, once, outside loop_run: at shutdown,
 * after the threads that post have stopped, so nothing posted is lost.
 */
void loop_run_posted(struct loop *l);

/* Run until loop_stop. Returns 0. */
int loop_run(struct loop *l);
/* Any thread: make loop_run return after the current turn. */
void loop_stop(struct loop *l);

/* The monotonic time cached at the start of this turn (ms). */
int64_t loop_now_ms(const struct loop *l);

#endif
