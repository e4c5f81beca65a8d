/*
 * worker.h: a small pool of threads for blocking work (fsync, file deletion,
 * checkpoints) so the event loop never blocks. run() executes on a worker;
 * done() is then posted back to the loop thread.
 */
#ifndef FJORD_IO_WORKER_H
#define FJORD_IO_WORKER_H

struct loop;
struct worker_pool;

int worker_pool_new(struct loop *l, int nthreads, struct worker_pool **out);
/* Finish queued jobs, join the threads. Done callbacks still queued on the
 * loop run only if the loop runs again. */
void worker_pool_free(struct worker_pool *w);
/* Loop thread (or any): queue a job. done may be NULL. */
void worker_submit(struct worker_pool *w, void (*run)(void *arg), void (*done)(void *arg),
                   void *arg);

#endif
