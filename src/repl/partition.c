/*
 * partition.c: partition state around each log — high watermark, group
 * commit, and the waiters parked on durability or new data. See partition.h
 * for the model; this file leaves storage to log/ and wire formats to
 * handlers/.
 */
#include "repl/partition.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/logging.h"

struct partitions {
	struct loop *loop;
	struct worker_pool *workers;
	struct logdir *logdir;
	struct meta *meta;
	const struct broker_config *cfg;
	struct partition *dirty_head;
	struct loop_timer flush_timer;
	struct loop_timer retention_timer;  /* log.retention.check.interval.ms */
	struct loop_timer checkpoint_timer; /* log.flush.offset.checkpoint.interval.ms */
	struct partitions_stats stats;
	struct loop_timer cleaner_timer; /* log.cleaner.backoff.ms */
	struct clean_task *clean_task;   /* the cleaning in flight (one at a time) */
	struct loop_timer recover_timer; /* storage-error recovery, once a second */
	int64_t appended_since_checkpoint;
};

struct sync_job {
	struct plog_sync s;
	struct partition *p;
};

#define OWNER(t, field)        ((struct partitions *)((char *)(t)-offsetof(struct partitions, field)))
#define CHECKPOINT_EAGER_BYTES (64 * 1024 * 1024)

static void list_init(struct pwaiter *head)
{
	head->prev = head->next = head;
}

static void list_unlink(struct pwaiter *w)
{
	w->prev->next = w->next;
	w->next->prev = w->prev;
	w->prev = w->next = NULL;
}

static void list_push_back(struct pwaiter *head, struct pwaiter *w)
{
	w->prev = head->prev;
	w->next = head;
	head->prev->next = w;
	head->prev = w;
}

void pwaiter_cancel(struct pwaiter *w)
{
	if (w->prev)
		list_unlink(w);
}

static bool is_relaxed(const struct partition *p)
{
	return p->topic && !p->topic->cfg.fsync_before_ack;
}

/*
 * Where acks stand: everything below is acknowledgeable. Kafka's default
 * (no flush settings) acks after a sync; relaxed flushing acks once the data
 * is in the files, which survives the process (kill -9) but not the machine.
 * The high watermark follows it: consumers read nothing a crash could take.
 */
static int64_t ack_offset(const struct partition *p)
{
	return is_relaxed(p) ? plog_written_offset(p->log) : plog_durable_offset(p->log);
}

bool partition_acked(const struct partition *p, int64_t target)
{
	return ack_offset(p) >= target;
}

/* Wake every fetch waiter (after the high watermark moved, or with an error). */
static void wake_fetchers(struct partition *p, int err)
{
	struct pwaiter *head = &p->fetch_waiters;
	/* Detach the whole list first: callbacks may re-register. */
	if (head->next == head)
		return;
	struct pwaiter pending;
	list_init(&pending);
	pending.next = head->next;
	pending.prev = head->prev;
	pending.next->prev = &pending;
	pending.prev->next = &pending;
	list_init(head);
	while (pending.next != &pending) {
		struct pwaiter *w = pending.next;
		list_unlink(w);
		w->cb(w, err);
	}
}

static void complete_producers(struct partition *p, int err)
{
	struct pwaiter *head = &p->produce_waiters;
	int64_t acked = ack_offset(p);
	while (head->next != head) {
		struct pwaiter *w = head->next;
		if (!err && w->target_offset > acked)
			break;
		list_unlink(w);
		/* A storage error fails only what is not acknowledgeable yet. */
		w->cb(w, err == ERR_STORAGE && w->target_offset <= acked ? 0 : err);
	}
}

static void set_high_watermark(struct partition *p, int64_t hw)
{
	if (hw > plog_high_watermark(p->log)) {
		plog_set_high_watermark(p->log, hw);
		wake_fetchers(p, 0);
	}
}

static void mark_dirty(struct partitions *pm, struct partition *p)
{
	p->dirty = true;
	if (!p->in_dirty_list) {
		p->in_dirty_list = true;
		p->next_dirty = pm->dirty_head;
		pm->dirty_head = p;
	}
}

static void partition_free(struct partition *p)
{
	free(p);
}

static void sync_run(void *arg)
{
	struct sync_job *j = arg;
	plog_sync_run(&j->s);
}

static void count_job(struct partitions *pm, const struct plog_sync *s)
{
	if (!s->write_only) {
		pm->stats.syncs++;
		pm->stats.sync_ns_total += s->latency_ns;
		if (s->latency_ns > pm->stats.sync_ns_max)
			pm->stats.sync_ns_max = s->latency_ns;
	} else {
		pm->stats.writes++;
		pm->stats.write_ns_total += s->latency_ns;
	}
}

/* Loop thread: a job has run; move the partition on (acks, errors, next sync). */
static void finish_job(struct sync_job *j)
{
	struct partition *p = j->p;
	struct partitions *pm = p->mgr;
	plog_sync_complete(&j->s);
	bool synced = !j->s.write_only;
	int err = j->s.err;
	free(j);
	p->sync_running = false;
	if (synced)
		p->last_flush_ms = loop_now_ms(pm->loop);
	if (!p->topic) {
		/* The topic was deleted while this sync ran: finish the deletion. */
		logdir_delete_log(pm->logdir, p->log);
		partition_free(p);
		return;
	}
	if (err || plog_failed(p->log)) {
		LOG_ERROR("partition %s-%d: %s failed (%s); the partition refuses writes until "
		          "recovered",
		          p->topic->name, p->index, synced ? "sync" : "write",
		          err_str(err ? err : ERR_STORAGE));
		set_high_watermark(p, ack_offset(p));
		complete_producers(p, ERR_STORAGE);
		return;
	}
	set_high_watermark(p, ack_offset(p));
	complete_producers(p, 0);
	/*
	 * More to sync: new appends, or one sync could not cover every rolled
	 * segment (plog_sync covers a few files at a time). Picked up by this
	 * turn's before-sleep hook.
	 */
	if (p->dirty || plog_durable_offset(p->log) < plog_end_offset(p->log)) {
		p->dirty = true;
		mark_dirty(pm, p);
	}
}

static void sync_done(void *arg)
{
	struct sync_job *j = arg;
	count_job(j->p->mgr, &j->s);
	finish_job(j);
}

/*
 * Syncs of many partitions in one loop turn run as one job: one syncfs
 * instead of an fdatasync per file (fjord.log.syncfs.min.partitions).
 */
struct sync_group {
	int n;
	struct sync_job **job;
	struct plog_sync **s;
};

static void group_run(void *arg)
{
	struct sync_group *g = arg;
	plog_sync_run_group(g->s, g->n);
}

static void group_done(void *arg)
{
	struct sync_group *g = arg;
	count_job(g->job[0]->p->mgr, g->s[0]); /* one sync for the file system */
	for (int i = 0; i < g->n; i++)
		finish_job(g->job[i]);
	free(g->job);
	free(g->s);
	free(g);
}

/*
 * A sync, or (sync false) a write of staged appends for a relaxed log; NULL
 * when there is nothing to do (the producers waiting are answered).
 */
static struct sync_job *prepare_job(struct partition *p, bool sync)
{
	struct sync_job *j = calloc(1, sizeof(*j));
	ASSERT(j);
	int r = sync ? plog_sync_prepare(p->log, &j->s) : plog_write_prepare(p->log, &j->s);
	if (r <= 0) {
		free(j);
		p->dirty = false;
		set_high_watermark(p, ack_offset(p));
		complete_producers(p, plog_failed(p->log) ? ERR_STORAGE : 0);
		return NULL;
	}
	j->p = p;
	p->dirty = false;
	p->sync_running = true;
	return j;
}

/* Relaxed logs: write what is staged, without a sync, so its acks can go. */
static void start_write_job(struct partitions *pm, struct partition *p)
{
	struct sync_job *j = prepare_job(p, false);
	if (j)
		worker_submit(pm->workers, sync_run, sync_done, j);
}

/* Syncs gathered in one loop turn (jobs without staged writes). */
struct sync_batch {
	int n, cap;
	struct sync_job **job;
};

static void batch_add(struct sync_batch *b, struct sync_job *j)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->job = realloc(b->job, (size_t)b->cap * sizeof(*b->job));
		ASSERT(b->job);
	}
	b->job[b->n++] = j;
}

/* A sync for p: into the batch, or on its own when it has staged writes. */
static void add_sync(struct partitions *pm, struct sync_batch *b, struct partition *p)
{
	struct sync_job *j = prepare_job(p, true);
	if (j && j->s.direct)
		worker_submit(pm->workers, sync_run, sync_done, j);
	else if (j)
		batch_add(b, j);
}

/* One group job when there are enough of them, else a job each. */
static void batch_submit(struct partitions *pm, struct sync_batch *b)
{
	int min = pm->cfg->log_syncfs_min_partitions;
	if (min > 0 && b->n >= min) {
		struct sync_group *g = calloc(1, sizeof(*g));
		ASSERT(g);
		g->n = b->n;
		g->job = b->job;
		g->s = calloc((size_t)b->n, sizeof(*g->s));
		ASSERT(g->s);
		for (int i = 0; i < b->n; i++)
			g->s[i] = &b->job[i]->s;
		worker_submit(pm->workers, group_run, group_done, g);
		return;
	}
	for (int i = 0; i < b->n; i++)
		worker_submit(pm->workers, sync_run, sync_done, b->job[i]);
	free(b->job);
}

static bool wants_sync(const struct partition *p, int64_t now_ms)
{
	const struct topic_config *c = &p->topic->cfg;
	if (c->fsync_before_ack)
		return true;
	if (c->flush_messages != INT64_MAX && plog_unflushed_messages(p->log) >= c->flush_messages)
		return true;
	if (c->flush_ms != INT64_MAX && now_ms - p->last_flush_ms >= c->flush_ms)
		return true;
	return false;
}

/*
 * End of every loop turn: one sync per partition appended to in this turn;
 * when enough of them need no staged writes, one syncfs covers them all.
 */
static void before_sleep(void *arg)
{
	struct partitions *pm = arg;
	struct partition *p = pm->dirty_head;
	pm->dirty_head = NULL;
	int64_t now = loop_now_ms(pm->loop);
	struct sync_batch batch = {0};
	while (p) {
		struct partition *next = p->next_dirty;
		p->in_dirty_list = false;
		p->next_dirty = NULL;
		if (p->topic && p->dirty && !p->sync_running) {
			/*
			 * Relaxed and not due: the flush timer finds it later, unless
			 * an early sync lets the page cache behind the tail be dropped
			 * and keeps the recovery point recent (it also writes what is
			 * staged), or staged appends wait to be written for their acks.
			 */
			if (wants_sync(p, now) || plog_sync_frees_cache(p->log)) {
				add_sync(pm, &batch, p);
			} else if (plog_staged(p->log)) {
				start_write_job(pm, p);
			}
		}
		p = next;
	}
	batch_submit(pm, &batch);
}

/* Relaxed mode: flush.ms and flush.messages checked once a second. */
static void flush_timer_cb(struct loop_timer *t)
{
	struct partitions *pm = OWNER(t, flush_timer);
	int64_t now = loop_now_ms(pm->loop);
	int n = meta_topic_count(pm->meta);
	struct sync_batch batch = {0};
	for (int i = 0; i < n; i++) {
		struct topic *tp = meta_topic_at(pm->meta, i);
		if (tp->cfg.fsync_before_ack || !tp->data)
			continue;
		for (int k = 0; k < tp->partitions; k++) {
			struct partition *p = partitions_get(tp, k);
			if (p && !p->sync_running && plog_unflushed_messages(p->log) > 0 &&
			    wants_sync(p, now))
				add_sync(pm, &batch, p);
		}
	}
	batch_submit(pm, &batch);
	loop_timer_start(pm->loop, &pm->flush_timer, 1000);
}

static void retention_timer_cb(struct loop_timer *t)
{
	struct partitions *pm = OWNER(t, retention_timer);
	partitions_enforce_retention(pm, clock_now_ms());
	loop_timer_start(pm->loop, t, pm->cfg->log_retention_check_interval_ms);
}

/*
 * Checkpoints record each log's recovery point so a crash rescans only what
 * came after: every log.flush.offset.checkpoint.interval.ms when something
 * changed, and at once after CHECKPOINT_EAGER_BYTES of appends, so the data a
 * crash recovery must check stays small however fast the log grows. The files
 * are small (a line per partition).
 */
static int64_t checkpoint_interval_ms(const struct broker_config *cfg)
{
	int32_t ms = cfg->log_flush_offset_checkpoint_interval_ms;
	return ms > 0 ? ms : 1;
}

static void checkpoint_timer_cb(struct loop_timer *t)
{
	struct partitions *pm = OWNER(t, checkpoint_timer);
	pm->appended_since_checkpoint = 0;
	int err = logdir_checkpoint_changed(pm->logdir);
	if (err)
		LOG_WARN("writing checkpoints failed: %s", err_str(err));
	loop_timer_start(pm->loop, t, checkpoint_interval_ms(pm->cfg));
}

/*
 * Log cleaner scheduling (log.cleaner.threads = 1): every
 * log.cleaner.backoff.ms, when no cleaning is in flight, pick the one log of
 * a compacted topic that needs it most (one whose max compaction lag or
 * delete horizon is due first, else the highest dirty ratio at or above
 * min.cleanable.dirty.ratio), prepare it on the loop, run it on a worker and
 * swap the result in when it posts back. Right after a cleaning, look again
 * at once. The log module discards a result whose log was deleted or
 * truncated meanwhile; at shutdown an in-flight job is abandoned (its files
 * are discarded at the next open).
 */
struct clean_task {
	struct partitions *pm; /* NULL once the manager is gone */
	struct plog_clean_job *job;
};

static void clean_params(const struct topic *t, const struct broker_config *cfg,
                         struct plog_clean_params *p)
{
	(void)cfg;
	plog_clean_params_default(p);
	p->delete_retention_ms = t->cfg.delete_retention_ms;
	p->min_compaction_lag_ms = t->cfg.min_compaction_lag_ms;
	p->max_compaction_lag_ms = t->cfg.max_compaction_lag_ms;
	p->min_cleanable_ratio = t->cfg.min_cleanable_dirty_ratio;
}

static void cleaner_run(void *arg)
{
	struct clean_task *ct = arg;
	plog_clean_run(ct->job);
}

static void cleaner_done(void *arg)
{
	struct clean_task *ct = arg;
	struct partitions *pm = ct->pm;
	if (!pm) {
		plog_clean_abandon(ct->job);
		free(ct);
		return;
	}
	pm->clean_task = NULL;
	int r = plog_clean_complete(ct->job);
	free(ct);
	if (r < 0)
		LOG_WARN("log cleaner: %s", err_str(r));
	loop_timer_start(pm->loop, &pm->cleaner_timer,
	                 r > 0 ? 10 : pm->cfg->log_cleaner_backoff_ms);
}

static void cleaner_pick(struct partitions *pm, int64_t now_ms)
{
	struct partition *best = NULL;
	struct plog_clean_info bi = {0};
	int n = meta_topic_count(pm->meta);
	for (int i = 0; i < n; i++) {
		struct topic *t = meta_topic_at(pm->meta, i);
		if (!t->cfg.cleanup_compact)
			continue;
		struct plog_clean_params params;
		clean_params(t, pm->cfg, &params);
		for (int32_t k = 0; k < t->partitions; k++) {
			struct partition *p = partitions_get(t, k);
			struct plog_clean_info info;
			if (!p || plog_clean_check(p->log, now_ms, &params, &info) < 0 ||
			    !info.cleanable)
				continue;
			if (!best || (info.must_clean && !bi.must_clean) ||
			    (info.must_clean == bi.must_clean &&
			     info.dirty_ratio > bi.dirty_ratio)) {
				best = p;
				bi = info;
			}
		}
	}
	if (!best)
		return;
	struct plog_clean_params params;
	clean_params(best->topic, pm->cfg, &params);
	struct plog_clean_job *job;
	int r = plog_clean_prepare(best->log, now_ms, &params, &job);
	if (r <= 0) {
		if (r < 0)
			LOG_WARN("partition %s-%d: cannot start cleaning: %s", best->topic->name,
			         best->index, err_str(r));
		return;
	}
	struct clean_task *ct = calloc(1, sizeof(*ct));
	ASSERT(ct);
	ct->pm = pm;
	ct->job = job;
	pm->clean_task = ct;
	worker_submit(pm->workers, cleaner_run, cleaner_done, ct);
}

static void cleaner_timer_cb(struct loop_timer *t)
{
	struct partitions *pm = OWNER(t, cleaner_timer);
	if (!pm->clean_task)
		cleaner_pick(pm, clock_now_ms());
	if (!pm->clean_task)
		loop_timer_start(pm->loop, t, pm->cfg->log_cleaner_backoff_ms);
}

static void cleaner_init(struct partitions *pm)
{
	loop_timer_init(&pm->cleaner_timer, cleaner_timer_cb);
	if (pm->cfg->log_cleaner_enable && pm->cfg->log_cleaner_threads > 0)
		loop_timer_start(pm->loop, &pm->cleaner_timer, pm->cfg->log_cleaner_backoff_ms);
}

static void cleaner_stop(struct partitions *pm)
{
	loop_timer_stop(pm->loop, &pm->cleaner_timer);
	if (pm->clean_task)
		pm->clean_task->pm = NULL; /* its done callback only frees it */
	pm->clean_task = NULL;
}

/*
 * Storage-error recovery: once a second, every partition whose log failed
 * (a write or fsync error, a full disk) and has no sync in flight fails its
 * remaining producers and asks the log to recover (plog_recover_after_error:
 * probe, cut back to the durable offset, re-check). On success it accepts
 * writes again; the high watermark is kept within the log. Until then
 * produces answer KAFKA_STORAGE_ERROR at once and fetches below the high
 * watermark are served.
 */
static void recover_timer_cb(struct loop_timer *t)
{
	struct partitions *pm = OWNER(t, recover_timer);
	int n = meta_topic_count(pm->meta);
	for (int i = 0; i < n; i++) {
		struct topic *tp = meta_topic_at(pm->meta, i);
		for (int32_t k = 0; tp->data && k < tp->partitions; k++) {
			struct partition *p = partitions_get(tp, k);
			if (!p || !p->log || p->sync_running || !plog_failed(p->log))
				continue;
			complete_producers(p, ERR_STORAGE);
			if (plog_recover_after_error(p->log) != 0)
				continue;
			LOG_INFO(
			    "partition %s-%d: storage recovered, accepting writes at offset %lld",
			    tp->name, k, (long long)plog_end_offset(p->log));
		}
	}
	loop_timer_start(pm->loop, t, 1000);
}

int partitions_new(struct loop *loop, struct worker_pool *workers, struct logdir *logdir,
                   struct meta *meta, const struct broker_config *cfg, struct partitions **out)
{
	struct partitions *pm = calloc(1, sizeof(*pm));
	if (!pm)
		return -ENOMEM;
	pm->loop = loop;
	pm->workers = workers;
	pm->logdir = logdir;
	pm->meta = meta;
	pm->cfg = cfg;
	loop_add_before_sleep(loop, before_sleep, pm);
	loop_timer_init(&pm->flush_timer, flush_timer_cb);
	loop_timer_start(loop, &pm->flush_timer, 1000);
	loop_timer_init(&pm->retention_timer, retention_timer_cb);
	loop_timer_start(loop, &pm->retention_timer, cfg->log_retention_check_interval_ms);
	loop_timer_init(&pm->checkpoint_timer, checkpoint_timer_cb);
	loop_timer_start(loop, &pm->checkpoint_timer, checkpoint_interval_ms(cfg));
	cleaner_init(pm);
	loop_timer_init(&pm->recover_timer, recover_timer_cb);
	loop_timer_start(loop, &pm->recover_timer, 1000);
	*out = pm;
	return 0;
}

static int open_one(struct partitions *pm, struct topic *t, int32_t i, bool create)
{
	struct partition **arr = t->data;
	struct partition *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->topic = t;
	p->index = i;
	p->mgr = pm;
	list_init(&p->produce_waiters);
	list_init(&p->fetch_waiters);
	int err = logdir_open_log(pm->logdir, t->name, i, &t->cfg.log, create, &p->log);
	if (err) {
		LOG_ERROR("cannot open log %s-%d: %s", t->name, i, err_str(err));
		free(p);
		return err;
	}
	/* Consumers see what is durable (the log clamps this to its end). */
	plog_set_high_watermark(p->log, plog_durable_offset(p->log));
	p->last_flush_ms = loop_now_ms(pm->loop);
	arr[i] = p;
	return 0;
}

int partitions_create(struct partitions *pm, struct topic *t, int32_t from, int32_t to)
{
	struct partition **arr = realloc(t->data, sizeof(*arr) * (size_t)to);
	if (!arr)
		return -ENOMEM;
	for (int32_t i = from; i < to; i++)
		arr[i] = NULL;
	t->data = arr;
	for (int32_t i = from; i < to; i++) {
		int err = open_one(pm, t, i, true);
		if (err)
			return err;
	}
	return 0;
}

int partitions_open_all(struct partitions *pm)
{
	int n = meta_topic_count(pm->meta);
	for (int i = 0; i < n; i++) {
		struct topic *t = meta_topic_at(pm->meta, i);
		int err = partitions_create(pm, t, 0, t->partitions);
		if (err)
			return err;
	}
	return 0;
}

struct partition *partitions_get(struct topic *t, int32_t index)
{
	if (!t || !t->data || index < 0 || index >= t->partitions)
		return NULL;
	return ((struct partition **)t->data)[index];
}

void partitions_delete_topic(struct partitions *pm, struct topic *t)
{
	struct partition **arr = t->data;
	if (!arr)
		return;
	/*
	 * Detach first: woken waiters look the topic up again and must find no
	 * partitions rather than ones being freed.
	 */
	t->data = NULL;
	for (int32_t i = 0; i < t->partitions; i++)
		if (arr[i])
			arr[i]->topic = NULL;
	for (int32_t i = 0; i < t->partitions; i++) {
		struct partition *p = arr[i];
		if (!p)
			continue;
		complete_producers(p, ERR_NOT_FOUND);
		wake_fetchers(p, ERR_NOT_FOUND);
		if (p->sync_running)
			continue; /* finish_job finishes the deletion */
		logdir_delete_log(pm->logdir, p->log);
		partition_free(p);
	}
	free(arr);
}

void partitions_free(struct partitions *pm, bool clean)
{
	if (!pm)
		return;
	loop_timer_stop(pm->loop, &pm->flush_timer);
	loop_timer_stop(pm->loop, &pm->retention_timer);
	loop_timer_stop(pm->loop, &pm->checkpoint_timer);
	loop_timer_stop(pm->loop, &pm->recover_timer);
	cleaner_stop(pm);
	int n = meta_topic_count(pm->meta);
	for (int i = 0; i < n; i++) {
		struct topic *t = meta_topic_at(pm->meta, i);
		struct partition **arr = t->data;
		if (!arr)
			continue;
		for (int32_t k = 0; k < t->partitions; k++) {
			struct partition *p = arr[k];
			if (!p)
				continue;
			complete_producers(p, ERR_SHUTDOWN);
			wake_fetchers(p, ERR_SHUTDOWN);
			free(p); /* logs are closed by logdir_close */
		}
		free(arr);
		t->data = NULL;
	}
	(void)clean;
	free(pm);
}

int partition_append(struct partition *p, uint8_t *batch, size_t len, int64_t now_ms,
                     struct plog_append_result *res)
{
	int err = plog_append(p->log, batch, len, p->leader_epoch, now_ms, res);
	if (err)
		return err;
	p->bytes_in += (int64_t)len;
	p->messages_in += res->last_offset - res->base_offset + 1;
	mark_dirty(p->mgr, p);
	struct partitions *pm = p->mgr;
	pm->appended_since_checkpoint += (int64_t)len;
	if (pm->appended_since_checkpoint >= CHECKPOINT_EAGER_BYTES) {
		pm->appended_since_checkpoint = 0;
		loop_timer_start(pm->loop, &pm->checkpoint_timer, 0);
	}
	if (is_relaxed(p))
		set_high_watermark(p, ack_offset(p));
	return 0;
}

void partition_wait_durable(struct partition *p, struct pwaiter *w, int64_t target)
{
	w->part = p;
	w->target_offset = target;
	if (ack_offset(p) >= target) {
		w->prev = w->next = NULL;
		w->cb(w, 0);
		return;
	}
	/* Appends are in offset order, so pushing at the back keeps the list sorted. */
	list_push_back(&p->produce_waiters, w);
}

void partition_wait_data(struct partition *p, struct pwaiter *w)
{
	w->part = p;
	list_push_back(&p->fetch_waiters, w);
}

void partitions_enforce_retention(struct partitions *pm, int64_t now_ms)
{
	int n = meta_topic_count(pm->meta);
	for (int i = 0; i < n; i++) {
		struct topic *t = meta_topic_at(pm->meta, i);
		for (int32_t k = 0; k < t->partitions; k++) {
			struct partition *p = partitions_get(t, k);
			if (!p || !t->cfg.cleanup_delete)
				continue;
			int r = plog_enforce_retention(p->log, now_ms);
			if (r > 0)
				LOG_INFO("partition %s-%d: retention deleted %d segment(s), log "
				         "start offset %lld",
				         t->name, k, r, (long long)plog_start_offset(p->log));
			else if (r < 0)
				LOG_WARN("partition %s-%d: retention failed: %s", t->name, k,
				         err_str(r));
		}
	}
}

void partitions_config_changed(struct partitions *pm, struct topic *t)
{
	(void)pm;
	for (int32_t k = 0; k < t->partitions; k++) {
		struct partition *p = partitions_get(t, k);
		if (p)
			plog_set_config(p->log, &t->cfg.log);
	}
}

const struct partitions_stats *partitions_stats(const struct partitions *pm)
{
	return &pm->stats;
}
