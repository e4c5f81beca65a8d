/*
 * loadgen.c: a librdkafka load generator for Fjord (or any Kafka broker).
 *
 *   loadgen produce -b HOST:PORT -t T -n N -s SIZE [-p P] [-a ACKS] [-z CODEC] [-l LINGER] [-k]
 *                   [--producers K] [--batch-size B] [--batch-num M]
 *   loadgen consume -b HOST:PORT -t T -n N [--group G [--consumers K]]
 *   loadgen e2e     -b HOST:PORT -t T -n N -r RATE
 *   loadgen ready   -b HOST:PORT -t T [-p P]
 *
 * produce: N messages of SIZE bytes to topic T (created with P partitions
 *   through the admin API if missing, unless --no-create). Latency is the
 *   delivery-report latency: from rd_kafka_producev() to the acknowledgement
 *   (rd_kafka_message_latency). --queue-messages / --queue-kbytes set the
 *   client's queue.buffering.max.* (default: room for a whole 1 GB run).
 *   --producers K runs K producer instances (one thread and one client each)
 *   that share the N messages; their latencies are merged.
 * consume: reads N messages from the beginning of every partition of T,
 *   with assign() (no subscription, no commits); with --group G, K consumers
 *   subscribe as group G instead and share the partitions. Messages are
 *   taken in batches (rd_kafka_consume_batch_queue).
 *   --upto-available lowers N to what the partitions still hold (the mock
 *   cluster's retention keeps ~5 MiB per partition).
 * e2e: a producer thread sends at a fixed RATE with its send time in the
 *   first 8 bytes of each payload; the main thread consumes from the
 *   partitions' ends and measures produce-to-consume latency. Its consumer
 *   keeps the client's default fetch.wait.max.ms unless --fetch-wait is given.
 *
 * ready: waits until the broker answers metadata showing topic T with at
 *   least P partitions, then produces one message (acks=all) to partition 0
 *   and waits for its acknowledgement; "secs" is the time from loadgen's
 *   start. Reconnect backoff is 10-50 ms, so a broker that starts listening
 *   late is noticed at once. bench/compare.sh times restarts with it.
 *
 * Every run is bounded by --duration seconds. Each run prints one JSON line:
 * {"mode","msgs","bytes","secs","msgs_per_sec","mb_per_sec","p50_ms","p99_ms",
 *  "p999_ms","max_ms","errors","label","size","partitions","acks","clients"};
 * latency fields are 0 when not measured; label is --label (or "").
 * The exit status is 0 only if all N messages were produced/consumed.
 *
 * The Makefile links this with libfjord.a, so everything here is static
 * (or prefixed lg_) to stay clear of the broker's symbols.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct lg_opts {
	const char *mode;
	const char *brokers;
	const char *topic;
	long count;
	long size;
	int partitions;
	const char *acks;
	const char *compression;
	long linger_ms;
	long batch_size; /* bytes; 0 = librdkafka default */
	long batch_num;  /* messages; 0 = librdkafka default */
	long queue_msgs; /* queue.buffering.max.messages; 0 = librdkafka default */
	long queue_kb;   /* queue.buffering.max.kbytes; 0 = librdkafka default */
	bool keyed;
	long rate;       /* e2e messages per second */
	double duration; /* seconds: hard cap on every run */
	bool verbose;
	bool no_create;      /* the topic exists (e.g. made by mockcluster); skip CreateTopics */
	int clients;         /* producer instances (produce) or group members (consume) */
	const char *group;   /* consume: subscribe as this group; NULL = assign() */
	long fetch_wait_ms;  /* consumer fetch.wait.max.ms; -1 = the client's default */
	const char *label;   /* copied into the JSON line */
	bool upto_available; /* consume: target min(N, records the partitions still hold) */
};

/* Latency samples in milliseconds; filled from callbacks on one thread at a time. */
struct lg_lat {
	float *v;
	long n, cap;
};

static double lg_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t lg_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void lg_die(const char *what, const char *detail)
{
	fprintf(stderr, "loadgen: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(2);
}

/* The whole run ends by this time (lg_now() clock), setup included. */
static double lg_deadline;

/* min(cap_ms, time left before the deadline); gives up once the deadline has passed. */
static int lg_left_ms(int cap_ms)
{
	double left = (lg_deadline - lg_now()) * 1000.0;
	if (left <= 0)
		lg_die("timed out (--duration) before the run could start", NULL);
	return left < cap_ms ? (int)left + 1 : cap_ms;
}

static void lg_lat_init(struct lg_lat *l, long cap)
{
	l->cap = cap > 0 ? cap : 1;
	l->n = 0;
	l->v = malloc((size_t)l->cap * sizeof(*l->v));
	if (!l->v)
		lg_die("out of memory", NULL);
}

static void lg_lat_add(struct lg_lat *l, double ms)
{
	if (l->n < l->cap)
		l->v[l->n++] = (float)ms;
}

static int lg_cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

static double lg_pct(const struct lg_lat *l, double p)
{
	if (l->n == 0)
		return 0;
	long i = (long)(p * (double)(l->n - 1) + 0.5);
	return l->v[i];
}

static void lg_report(const struct lg_opts *o, long msgs, long long bytes, double secs,
                      struct lg_lat *l, long errors)
{
	if (l && l->n)
		qsort(l->v, (size_t)l->n, sizeof(*l->v), lg_cmp_float);
	double s = secs > 0 ? secs : 1e-9;
	printf(
	    "{\"mode\":\"%s\",\"msgs\":%ld,\"bytes\":%lld,\"secs\":%.3f,\"msgs_per_sec\":%.1f,"
	    "\"mb_per_sec\":%.3f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,"
	    "\"errors\":%ld,\"label\":\"%s\",\"size\":%ld,\"partitions\":%d,\"acks\":\"%s\","
	    "\"clients\":%d}\n",
	    o->mode, msgs, bytes, secs, (double)msgs / s, (double)bytes / s / (1024.0 * 1024.0),
	    l ? lg_pct(l, 0.50) : 0, l ? lg_pct(l, 0.99) : 0, l ? lg_pct(l, 0.999) : 0,
	    l && l->n ? l->v[l->n - 1] : 0, errors, o->label, o->size, o->partitions, o->acks,
	    o->clients);
	fflush(stdout);
}

static void lg_set(rd_kafka_conf_t *conf, const char *key, const char *val)
{
	char err[512];
	if (rd_kafka_conf_set(conf, key, val, err, sizeof(err)) != RD_KAFKA_CONF_OK)
		lg_die(key, err);
}

static void lg_setl(rd_kafka_conf_t *conf, const char *key, long val)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%ld", val);
	lg_set(conf, key, buf);
}

static rd_kafka_conf_t *lg_base_conf(const struct lg_opts *o)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	lg_set(conf, "bootstrap.servers", o->brokers);
	lg_set(conf, "client.id", "fjord-loadgen");
	lg_set(conf, "log_level", o->verbose ? "7" : "3");
	if (o->verbose)
		lg_set(conf, "debug",
		       getenv("LG_DEBUG") ? getenv("LG_DEBUG") : "broker,protocol,fetch,msg");
	return conf;
}

static rd_kafka_t *lg_new(rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
	char err[512];
	rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));
	if (!rk)
		lg_die("rd_kafka_new", err);
	return rk;
}

/* Partition count of the topic, or -1 if it is unknown; waits at most timeout_ms. */
static int lg_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	int n = -1;
	if (rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
			n = md->topics[0].partition_cnt;
		rd_kafka_metadata_destroy(md);
	}
	rd_kafka_topic_destroy(rkt);
	return n;
}

/*
 * Create the topic with o->partitions partitions unless it exists. No metadata
 * lookup first: a producer's metadata request may auto-create the topic with
 * the broker's default partition count.
 */
static void lg_create_topic(rd_kafka_t *rk, const struct lg_opts *o)
{
	char err[512];
	rd_kafka_NewTopic_t *nt =
	    rd_kafka_NewTopic_new(o->topic, o->partitions, 1, err, sizeof(err));
	if (!nt)
		lg_die("NewTopic", err);
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	rd_kafka_AdminOptions_set_operation_timeout(ao, lg_left_ms(10000), err, sizeof(err));
	rd_kafka_AdminOptions_set_request_timeout(ao, lg_left_ms(20000), err, sizeof(err));
	rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, lg_left_ms(20000));
	if (!ev)
		lg_die("CreateTopics", "no answer in time");
	if (rd_kafka_event_error(ev))
		lg_die("CreateTopics", rd_kafka_event_error_string(ev));
	const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
	size_t cnt = 0;
	const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &cnt);
	for (size_t i = 0; i < cnt; i++) {
		rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
		if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
			lg_die("CreateTopics", rd_kafka_err2str(e));
	}
	rd_kafka_event_destroy(ev);
	rd_kafka_AdminOptions_destroy(ao);
	rd_kafka_queue_destroy(q);
	rd_kafka_NewTopic_destroy(nt);
}

static void lg_ensure_topic(rd_kafka_t *rk, const struct lg_opts *o)
{
	if (!o->no_create)
		lg_create_topic(rk, o);
	/* Wait (bounded) until metadata shows the partitions. */
	for (int i = 0; i < 100 && lg_partition_count(rk, o->topic, lg_left_ms(1000)) <= 0; i++)
		rd_kafka_poll(rk, 50);
}

/* Payload: mildly compressible printable bytes (compression results mean something). */
static void lg_fill(char *buf, long size, long seed)
{
	static const char words[] = "fjord kafka broker record batch offset segment partition ";
	for (long i = 0; i < size; i++)
		buf[i] = (i % 7 == 0) ? (char)('a' + (seed + i) % 26)
		                      : words[(size_t)i % (sizeof(words) - 1)];
}

/* ---------------------------------------------------------------- produce */

struct lg_produce_state {
	struct lg_lat lat;
	long delivered;
	long failed;
	long long bytes;
	long expect;    /* the report that ends the run (0: none) */
	double last_dr; /* when that report came */
	rd_kafka_resp_err_t first_err;
};

static void lg_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct lg_produce_state *st = opaque;
	(void)rk;
	if (m->err) {
		if (!st->failed)
			st->first_err = m->err;
		st->failed++;
	} else {
		/* librdkafka's own enqueue timestamp: no clock read per message here. */
		lg_lat_add(&st->lat, (double)rd_kafka_message_latency(m) / 1000.0);
		st->delivered++;
		st->bytes += (long long)m->len;
	}
	if (st->delivered + st->failed == st->expect)
		st->last_dr = lg_now();
}

static rd_kafka_t *lg_producer(const struct lg_opts *o, void *opaque)
{
	rd_kafka_conf_t *conf = lg_base_conf(o);
	lg_set(conf, "acks", o->acks);
	lg_set(conf, "compression.type", o->compression);
	lg_setl(conf, "linger.ms", o->linger_ms);
	if (o->batch_size > 0)
		lg_setl(conf, "batch.size", o->batch_size);
	if (o->batch_num > 0)
		lg_setl(conf, "batch.num.messages", o->batch_num);
	if (o->queue_msgs > 0)
		lg_setl(conf, "queue.buffering.max.messages", o->queue_msgs);
	if (o->queue_kb > 0)
		lg_setl(conf, "queue.buffering.max.kbytes", o->queue_kb);
	lg_setl(conf, "message.timeout.ms", (long)(o->duration * 1000) + 1000);
	rd_kafka_conf_set_dr_msg_cb(conf, lg_dr_cb);
	rd_kafka_conf_set_opaque(conf, opaque);
	return lg_new(RD_KAFKA_PRODUCER, conf);
}

/*
 * The keys key-0 .. key-9999, formatted once before any run starts: the
 * producer loop measures the client and the broker, not snprintf.
 */
#define LG_KEYS 10000
static char lg_keys[LG_KEYS][12];
static uint8_t lg_key_len[LG_KEYS];

static void lg_keys_init(void)
{
	for (int i = 0; i < LG_KEYS; i++)
		lg_key_len[i] = (uint8_t)snprintf(lg_keys[i], sizeof(lg_keys[i]), "key-%d", i);
}

/* Send message i; blocks (polling) while the local queue is full, up to deadline. */
static int lg_send(rd_kafka_t *rk, const struct lg_opts *o, char *buf, long i, double deadline)
{
	const char *key = o->keyed ? lg_keys[i % LG_KEYS] : NULL;
	size_t klen = o->keyed ? lg_key_len[i % LG_KEYS] : 0;
	for (;;) {
		rd_kafka_resp_err_t err = rd_kafka_producev(
		    rk, RD_KAFKA_V_TOPIC(o->topic), RD_KAFKA_V_VALUE(buf, (size_t)o->size),
		    RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		    RD_KAFKA_V_END);
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
			return 0;
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			fprintf(stderr, "loadgen: produce: %s\n", rd_kafka_err2str(err));
			return -1;
		}
		if (lg_now() > deadline)
			return -1;
		rd_kafka_poll(rk, 5);
	}
}

/* One producer instance: its own client, its share of the messages, its own thread. */
struct lg_producer_job {
	const struct lg_opts *o;
	rd_kafka_t *rk;
	struct lg_produce_state st;
	long first, count; /* message numbers [first, first + count) */
	long sent;
	double start;
	pthread_t thread;
};

static void *lg_produce_worker(void *arg)
{
	struct lg_producer_job *j = arg;
	const struct lg_opts *o = j->o;
	char *buf = malloc((size_t)o->size + 1);
	if (!buf)
		lg_die("out of memory", NULL);
	lg_fill(buf, o->size, j->first);
	double deadline = lg_deadline;
	for (j->sent = 0; j->sent < j->count; j->sent++) {
		if (lg_send(j->rk, o, buf, j->first + j->sent, deadline) != 0)
			break;
		if ((j->sent & 1023) == 0) {
			rd_kafka_poll(j->rk, 0);
			if (lg_now() >= deadline)
				break;
		}
	}
	while (j->st.delivered + j->st.failed < j->sent && lg_now() < deadline)
		rd_kafka_poll(j->rk, 50);
	if (j->st.last_dr == 0) /* cut short: the run ends now */
		j->st.last_dr = lg_now();
	free(buf);
	return NULL;
}

static int lg_run_produce(const struct lg_opts *o)
{
	int k = o->clients;
	struct lg_producer_job *jobs = calloc((size_t)k, sizeof(*jobs));
	if (!jobs)
		lg_die("out of memory", NULL);
	for (int i = 0; i < k; i++) {
		struct lg_producer_job *j = &jobs[i];
		j->o = o;
		j->first = o->count * i / k;
		j->count = o->count * (i + 1) / k - j->first;
		lg_lat_init(&j->st.lat, j->count);
		j->st.expect = j->count;
		j->rk = lg_producer(o, &j->st);
	}
	lg_ensure_topic(jobs[0].rk, o);
	/* Warm every client's metadata so the clock measures the transfer. */
	for (int i = 1; i < k; i++)
		lg_partition_count(jobs[i].rk, o->topic, lg_left_ms(10000));

	double start = lg_now();
	for (int i = 0; i < k; i++)
		if (pthread_create(&jobs[i].thread, NULL, lg_produce_worker, &jobs[i]) != 0)
			lg_die("pthread_create", strerror(errno));
	struct lg_lat all;
	lg_lat_init(&all, o->count);
	long delivered = 0, failed = 0, sent = 0;
	long long bytes = 0;
	double end = start;
	for (int i = 0; i < k; i++) {
		struct lg_producer_job *j = &jobs[i];
		pthread_join(j->thread, NULL);
		delivered += j->st.delivered;
		failed += j->st.failed;
		sent += j->sent;
		bytes += j->st.bytes;
		if (j->st.last_dr > end)
			end = j->st.last_dr;
		for (long x = 0; x < j->st.lat.n; x++)
			lg_lat_add(&all, j->st.lat.v[x]);
		if (j->st.failed)
			fprintf(stderr, "loadgen: %ld deliveries failed, first: %s\n", j->st.failed,
			        rd_kafka_err2str(j->st.first_err));
	}
	if (delivered == 0)
		end = lg_now();
	long errors = failed + (sent - delivered - failed) + (o->count - sent);
	lg_report(o, delivered, bytes, end - start, &all, errors);

	for (int i = 0; i < k; i++) {
		rd_kafka_purge(jobs[i].rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_flush(jobs[i].rk, 1000);
		rd_kafka_destroy(jobs[i].rk);
		free(jobs[i].st.lat.v);
	}
	free(jobs);
	free(all.v);
	return delivered == o->count ? 0 : 1;
}

/* ---------------------------------------------------------------- consume */

static rd_kafka_t *lg_consumer(const struct lg_opts *o, long fetch_wait_ms)
{
	rd_kafka_conf_t *conf = lg_base_conf(o);
	/* librdkafka's assign() needs a group id; without --group nothing joins or commits. */
	lg_set(conf, "group.id", o->group ? o->group : "fjord-loadgen");
	lg_set(conf, "enable.auto.commit", "false");
	lg_set(conf, "enable.auto.offset.store", "false");
	lg_set(conf, "auto.offset.reset", "earliest");
	/*
	 * librdkafka stops fetching a partition once its queue holds
	 * queued.min.messages (100,000) and then backs off for a whole second
	 * (librdkafka#2879; fetch.queue.backoff.ms only exists from 2.4). A broker
	 * that serves faster than the application polls for a moment would be timed
	 * by that second. 1,000,000 keeps the client fetching; its memory stays
	 * bounded by queued.max.messages.kbytes.
	 */
	lg_set(conf, "queued.min.messages", "1000000");
	if (fetch_wait_ms >= 0)
		lg_setl(conf, "fetch.wait.max.ms", fetch_wait_ms);
	return lg_new(RD_KAFKA_CONSUMER, conf);
}

/*
 * Assign every partition of the topic; start = offset to begin at, or NULL for
 * the beginning. The beginning is asked for as offset 0 (auto.offset.reset=
 * earliest covers a log whose start moved), not RD_KAFKA_OFFSET_BEGINNING:
 * with that, librdkafka 2.0 sends a ListOffsets per partition, and each answer
 * queues a high-priority wakeup for its broker thread that is served one per
 * pass over all partitions, delaying the requests still queued behind them.
 * With 10,000 partitions the last ones started fetching 26 s late.
 */
static int lg_assign_all(rd_kafka_t *rk, const struct lg_opts *o, const int64_t *start)
{
	int n = lg_partition_count(rk, o->topic, lg_left_ms(10000));
	if (n <= 0)
		lg_die("topic not found", o->topic);
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
	for (int p = 0; p < n; p++)
		rd_kafka_topic_partition_list_add(parts, o->topic, p)->offset =
		    start ? start[p] : 0;
	rd_kafka_resp_err_t err = rd_kafka_assign(rk, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	if (err)
		lg_die("assign", rd_kafka_err2str(err));
	return n;
}

#define LG_CONSUME_BATCH 4096

/* One consumer; with a group, several share the count through the atomics. */
struct lg_consumer_job {
	const struct lg_opts *o;
	rd_kafka_t *rk;
	atomic_long *got;
	long errors;
	long long bytes;
	double first, last; /* times of the first and last message; first 0 = none yet */
	pthread_t thread;
};

static void *lg_consume_worker(void *arg)
{
	struct lg_consumer_job *j = arg;
	const struct lg_opts *o = j->o;
	double deadline = lg_deadline;
	/*
	 * Batches from the consumer queue, one clock read per batch: a loop that
	 * polls message by message drains librdkafka's fetch queue slower than
	 * the broker fills it, and the client then stops fetching until the queue
	 * is empty (queued.min.messages), which would time the loop, not the broker.
	 */
	rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(j->rk);
	rd_kafka_message_t *batch[LG_CONSUME_BATCH];
	double now = lg_now();
	while (atomic_load(j->got) < o->count && now < deadline) {
		/* A short wait, so the first batch's call began at most 10 ms early. */
		double before = now;
		ssize_t n = rd_kafka_consume_batch_queue(q, 10, batch, LG_CONSUME_BATCH);
		now = lg_now();
		long got = 0;
		for (ssize_t i = 0; i < n; i++) {
			rd_kafka_message_t *m = batch[i];
			if (m->err) {
				if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
					fprintf(stderr, "loadgen: consume: %s\n",
					        rd_kafka_message_errstr(m));
					j->errors++;
				}
			} else {
				got++;
				j->bytes += (long long)m->len;
			}
			rd_kafka_message_destroy(m);
		}
		if (got) {
			atomic_fetch_add(j->got, got);
			j->last = now;
			if (j->first == 0)
				j->first = before;
		}
	}
	rd_kafka_queue_destroy(q);
	return NULL;
}

static int lg_run_consume(const struct lg_opts *o)
{
	int k = o->group ? o->clients : 1;
	long fetch_wait = o->fetch_wait_ms >= 0 ? o->fetch_wait_ms : 100;
	struct lg_consumer_job *jobs = calloc((size_t)k, sizeof(*jobs));
	if (!jobs)
		lg_die("out of memory", NULL);
	atomic_long got = 0;
	for (int i = 0; i < k; i++) {
		jobs[i].o = o;
		jobs[i].got = &got;
		jobs[i].rk = lg_consumer(o, fetch_wait);
	}
	if (o->group) {
		/* The clock includes the group join: that is what a group consumer pays. */
		rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
		rd_kafka_topic_partition_list_add(topics, o->topic, RD_KAFKA_PARTITION_UA);
		if (lg_partition_count(jobs[0].rk, o->topic, lg_left_ms(10000)) <= 0)
			lg_die("topic not found", o->topic);
		for (int i = 0; i < k; i++) {
			rd_kafka_resp_err_t err = rd_kafka_subscribe(jobs[i].rk, topics);
			if (err)
				lg_die("subscribe", rd_kafka_err2str(err));
		}
		rd_kafka_topic_partition_list_destroy(topics);
	} else {
		lg_assign_all(jobs[0].rk, o, NULL);
	}
	struct lg_opts oo = *o;
	if (o->upto_available) {
		/* librdkafka's mock keeps only the last ~5 MiB of each partition. */
		int n = lg_partition_count(jobs[0].rk, o->topic, lg_left_ms(10000));
		long avail = 0;
		for (int p = 0; p < n; p++) {
			int64_t lo = 0, hi = 0;
			if (rd_kafka_query_watermark_offsets(jobs[0].rk, o->topic, p, &lo, &hi,
			                                     lg_left_ms(10000)))
				lg_die("query_watermark_offsets", o->topic);
			avail += (long)(hi - lo);
		}
		if (avail < oo.count) {
			fprintf(stderr, "loadgen: consuming the %ld records still held (of %ld)\n",
			        avail, oo.count);
			oo.count = avail;
		}
		for (int i = 0; i < k; i++)
			jobs[i].o = &oo;
		o = &oo;
	}
	double start = lg_now(), last = start;
	for (int i = 0; i < k; i++) {
		jobs[i].last = start;
		if (pthread_create(&jobs[i].thread, NULL, lg_consume_worker, &jobs[i]) != 0)
			lg_die("pthread_create", strerror(errno));
	}
	long errors = 0;
	long long bytes = 0;
	double first = 0;
	for (int i = 0; i < k; i++) {
		pthread_join(jobs[i].thread, NULL);
		errors += jobs[i].errors;
		bytes += jobs[i].bytes;
		if (jobs[i].last > last)
			last = jobs[i].last;
		if (jobs[i].first > 0 && (first == 0 || jobs[i].first < first))
			first = jobs[i].first;
	}
	/*
	 * The rate is timed from the call that returned the first batch (begun at
	 * most 10 ms before it) to the last batch, so the lookup of the start
	 * offsets and the group join (fixed costs that would dominate a short
	 * run) stay out; "secs" is that span.
	 */
	if (first > 0)
		start = first;
	long n = atomic_load(&got);
	lg_report(o, n, bytes, last - start, NULL, errors + (o->count - n));
	for (int i = 0; i < k; i++) {
		rd_kafka_consumer_close(jobs[i].rk);
		rd_kafka_destroy(jobs[i].rk);
	}
	free(jobs);
	return n >= o->count ? 0 : 1;
}

/* ---------------------------------------------------------------- e2e */

struct lg_e2e {
	const struct lg_opts *o;
	rd_kafka_t *producer;
	atomic_long sent;
	atomic_bool done;
	double deadline;
	struct lg_produce_state st; /* delivery reports (only the producer thread polls) */
};

static void *lg_e2e_producer(void *arg)
{
	struct lg_e2e *e = arg;
	const struct lg_opts *o = e->o;
	char *buf = malloc((size_t)o->size);
	if (!buf)
		lg_die("out of memory", NULL);
	lg_fill(buf, o->size, 1);
	double start = lg_now();
	for (long i = 0; i < o->count && lg_now() < e->deadline; i++) {
		/*
		 * Sleep (not spin) until this message is due: on a 2-core machine a
		 * spinning pacer takes a core from the broker and the client threads
		 * it is measuring.
		 */
		double due = start + (double)i / (double)o->rate;
		if (lg_now() < due) {
			struct timespec ts = {.tv_sec = (time_t)due,
			                      .tv_nsec = (long)((due - (double)(time_t)due) * 1e9)};
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
				;
		}
		int64_t t = lg_now_us();
		memcpy(buf, &t, sizeof(t));
		if (lg_send(e->producer, o, buf, i, e->deadline) != 0)
			break;
		atomic_fetch_add(&e->sent, 1);
		rd_kafka_poll(e->producer, 0);
	}
	while (e->st.delivered + e->st.failed < atomic_load(&e->sent) && lg_now() < e->deadline)
		rd_kafka_poll(e->producer, 20);
	atomic_store(&e->done, true);
	free(buf);
	return NULL;
}

static int lg_run_e2e(const struct lg_opts *o)
{
	if (o->size < 8)
		lg_die("e2e needs -s >= 8 (the payload carries the send time)", NULL);
	struct lg_e2e e = {.o = o};
	lg_lat_init(&e.st.lat, 1); /* delivery latency is not reported in e2e */
	e.producer = lg_producer(o, &e.st);
	lg_ensure_topic(e.producer, o);

	/* Start at each partition's current end so older messages are not counted. */
	rd_kafka_t *rk = lg_consumer(o, o->fetch_wait_ms);
	int n = lg_partition_count(rk, o->topic, lg_left_ms(10000));
	if (n <= 0)
		lg_die("topic not found", o->topic);
	int64_t *start_offs = calloc((size_t)n, sizeof(*start_offs));
	if (!start_offs)
		lg_die("out of memory", NULL);
	for (int p = 0; p < n; p++) {
		int64_t lo = 0, hi = 0;
		if (rd_kafka_query_watermark_offsets(rk, o->topic, p, &lo, &hi, lg_left_ms(10000)))
			lg_die("query_watermark_offsets", o->topic);
		start_offs[p] = hi;
	}
	lg_assign_all(rk, o, start_offs);

	struct lg_lat lat;
	lg_lat_init(&lat, o->count);
	double start = lg_now();
	e.deadline = lg_deadline;
	pthread_t th;
	if (pthread_create(&th, NULL, lg_e2e_producer, &e) != 0)
		lg_die("pthread_create", strerror(errno));

	long got = 0, errors = 0;
	long long bytes = 0;
	double last = start;
	while (got < o->count && lg_now() < e.deadline) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		if (!m) {
			if (atomic_load(&e.done) && got >= atomic_load(&e.sent))
				break;
			continue;
		}
		if (m->err) {
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				errors++;
		} else if (m->len >= 8) {
			int64_t t;
			memcpy(&t, m->payload, sizeof(t));
			lg_lat_add(&lat, (double)(lg_now_us() - t) / 1000.0);
			got++;
			bytes += (long long)m->len;
			last = lg_now();
		}
		rd_kafka_message_destroy(m);
	}
	pthread_join(th, NULL);
	lg_report(o, got, bytes, last - start, &lat, errors + e.st.failed + (o->count - got));

	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	rd_kafka_purge(e.producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_flush(e.producer, 1000);
	rd_kafka_destroy(e.producer);
	free(start_offs);
	free(lat.v);
	free(e.st.lat.v);
	return got == o->count ? 0 : 1;
}

/* ---------------------------------------------------------------- ready */

static int lg_run_ready(const struct lg_opts *o, double t0)
{
	struct lg_produce_state st = {0};
	lg_lat_init(&st.lat, 1);
	rd_kafka_conf_t *conf = lg_base_conf(o);
	lg_set(conf, "acks", "all");
	lg_set(conf, "reconnect.backoff.ms", "10");
	lg_set(conf, "reconnect.backoff.max.ms", "50");
	lg_set(conf, "topic.metadata.refresh.interval.ms", "100");
	lg_set(conf, "log_level", "0");
	lg_setl(conf, "message.timeout.ms", (long)(o->duration * 1000));
	rd_kafka_conf_set_dr_msg_cb(conf, lg_dr_cb);
	rd_kafka_conf_set_opaque(conf, &st);
	rd_kafka_t *rk = lg_new(RD_KAFKA_PRODUCER, conf);
	while (lg_now() < lg_deadline && lg_partition_count(rk, o->topic, 100) < o->partitions)
		rd_kafka_poll(rk, 10);
	char payload[] = "ready";
	int ok = 0;
	if (lg_now() < lg_deadline &&
	    rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(o->topic), RD_KAFKA_V_PARTITION(0),
	                      RD_KAFKA_V_VALUE(payload, sizeof(payload) - 1),
	                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
	                      RD_KAFKA_V_OPAQUE((void *)(intptr_t)lg_now_us()),
	                      RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR) {
		while (st.delivered + st.failed == 0 && lg_now() < lg_deadline)
			rd_kafka_poll(rk, 5);
		ok = st.delivered == 1;
	}
	double secs = lg_now() - t0;
	lg_report(o, ok, ok ? (long long)sizeof(payload) - 1 : 0, secs, NULL, !ok);
	rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_destroy(rk);
	free(st.lat.v);
	return ok ? 0 : 1;
}

/* ---------------------------------------------------------------- main */

static void lg_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: loadgen produce|consume|e2e|ready [options]\n"
	    "  -b, --brokers HOST:PORT   bootstrap servers (localhost:9092)\n"
	    "  -t, --topic NAME          topic (loadgen)\n"
	    "  -n, --count N             messages (100000)\n"
	    "  -s, --size BYTES          message size (100)\n"
	    "  -p, --partitions P        partitions when creating the topic (1)\n"
	    "  -a, --acks all|1|0        producer acks (all)\n"
	    "  -z, --compression CODEC   none|gzip|snappy|lz4|zstd (none)\n"
	    "  -l, --linger MS           linger.ms (5)\n"
	    "      --batch-size BYTES    batch.size\n"
	    "      --batch-num N         batch.num.messages\n"
	    "      --queue-messages N    queue.buffering.max.messages (1000000; 0 = client "
	    "default)\n"
	    "      --queue-kbytes N      queue.buffering.max.kbytes (1048576; 0 = client default)\n"
	    "  -k, --keyed               send keys (key-0 .. key-9999)\n"
	    "  -r, --rate N              e2e: messages per second (1000)\n"
	    "      --duration SECS       hard time cap for the run (120)\n"
	    "      --producers K         produce: K producer instances share N (1)\n"
	    "      --group G             consume: subscribe as group G (else assign())\n"
	    "      --consumers K         consume --group: K members (1)\n"
	    "      --fetch-wait MS       consumer fetch.wait.max.ms (consume 100, e2e default)\n"
	    "      --no-create           the topic exists: skip CreateTopics\n"
	    "      --label TEXT          copied into the JSON line\n"
	    "      --upto-available      consume: stop at the records the topic still holds\n"
	    "  -v, --verbose             librdkafka debug logs (contexts: $LG_DEBUG, else\n"
	    "                            broker,protocol,fetch,msg)\n");
}

static long lg_num(const char *s, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s)
		lg_die("bad number for", what);
	return v;
}

int main(int argc, char **argv)
{
	struct lg_opts o = {
	    .brokers = "localhost:9092",
	    .topic = "loadgen",
	    .count = 100000,
	    .size = 100,
	    .partitions = 1,
	    .acks = "all",
	    .compression = "none",
	    .linger_ms = 5,
	    .rate = 1000,
	    .duration = 120,
	    .clients = 1,
	    .fetch_wait_ms = -1,
	    .queue_msgs = 1000000,
	    .queue_kb = 1048576,
	    .label = "",
	};
	enum {
		OPT_BATCH_SIZE = 1000,
		OPT_BATCH_NUM,
		OPT_DURATION,
		OPT_PRODUCERS,
		OPT_GROUP,
		OPT_CONSUMERS,
		OPT_FETCH_WAIT,
		OPT_NO_CREATE,
		OPT_LABEL,
		OPT_UPTO_AVAILABLE,
		OPT_QUEUE_MSGS,
		OPT_QUEUE_KB,
	};
	static const struct option longopts[] = {
	    {"brokers", required_argument, NULL, 'b'},
	    {"topic", required_argument, NULL, 't'},
	    {"count", required_argument, NULL, 'n'},
	    {"size", required_argument, NULL, 's'},
	    {"partitions", required_argument, NULL, 'p'},
	    {"acks", required_argument, NULL, 'a'},
	    {"compression", required_argument, NULL, 'z'},
	    {"linger", required_argument, NULL, 'l'},
	    {"keyed", no_argument, NULL, 'k'},
	    {"rate", required_argument, NULL, 'r'},
	    {"batch-size", required_argument, NULL, OPT_BATCH_SIZE},
	    {"batch-num", required_argument, NULL, OPT_BATCH_NUM},
	    {"queue-messages", required_argument, NULL, OPT_QUEUE_MSGS},
	    {"queue-kbytes", required_argument, NULL, OPT_QUEUE_KB},
	    {"duration", required_argument, NULL, OPT_DURATION},
	    {"producers", required_argument, NULL, OPT_PRODUCERS},
	    {"group", required_argument, NULL, OPT_GROUP},
	    {"consumers", required_argument, NULL, OPT_CONSUMERS},
	    {"fetch-wait", required_argument, NULL, OPT_FETCH_WAIT},
	    {"no-create", no_argument, NULL, OPT_NO_CREATE},
	    {"label", required_argument, NULL, OPT_LABEL},
	    {"upto-available", no_argument, NULL, OPT_UPTO_AVAILABLE},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "b:t:n:s:p:a:z:l:kr:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o.brokers = optarg;
			break;
		case 't':
			o.topic = optarg;
			break;
		case 'n':
			o.count = lg_num(optarg, "-n");
			break;
		case 's':
			o.size = lg_num(optarg, "-s");
			break;
		case 'p':
			o.partitions = (int)lg_num(optarg, "-p");
			break;
		case 'a':
			o.acks = optarg;
			break;
		case 'z':
			o.compression = optarg;
			break;
		case 'l':
			o.linger_ms = lg_num(optarg, "-l");
			break;
		case 'k':
			o.keyed = true;
			lg_keys_init();
			break;
		case 'r':
			o.rate = lg_num(optarg, "-r");
			break;
		case 'v':
			o.verbose = true;
			break;
		case OPT_BATCH_SIZE:
			o.batch_size = lg_num(optarg, "--batch-size");
			break;
		case OPT_BATCH_NUM:
			o.batch_num = lg_num(optarg, "--batch-num");
			break;
		case OPT_QUEUE_MSGS:
			o.queue_msgs = lg_num(optarg, "--queue-messages");
			break;
		case OPT_QUEUE_KB:
			o.queue_kb = lg_num(optarg, "--queue-kbytes");
			break;
		case OPT_DURATION:
			o.duration = (double)lg_num(optarg, "--duration");
			break;
		case OPT_PRODUCERS:
		case OPT_CONSUMERS:
			o.clients = (int)lg_num(optarg, "--producers/--consumers");
			break;
		case OPT_GROUP:
			o.group = optarg;
			break;
		case OPT_FETCH_WAIT:
			o.fetch_wait_ms = lg_num(optarg, "--fetch-wait");
			break;
		case OPT_NO_CREATE:
			o.no_create = true;
			break;
		case OPT_LABEL:
			o.label = optarg;
			break;
		case OPT_UPTO_AVAILABLE:
			o.upto_available = true;
			break;
		case 'h':
			lg_usage(stdout);
			return 0;
		default:
			lg_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		lg_usage(stderr);
		return 2;
	}
	o.mode = argv[optind];
	double t0 = lg_now();
	lg_deadline = t0 + o.duration;
	if (o.count <= 0 || o.size < 0 || o.partitions <= 0 || o.rate <= 0 || o.duration <= 0 ||
	    o.clients <= 0 || o.clients > 1000)
		lg_die("-n, -p, -r, --duration, --producers must be positive, -s not negative",
		       NULL);
	if (strchr(o.label, '"') || strchr(o.label, '\\'))
		lg_die("--label may not contain quotes or backslashes", NULL);
	if (strcmp(o.mode, "produce") == 0)
		return lg_run_produce(&o);
	if (strcmp(o.mode, "consume") == 0)
		return lg_run_consume(&o);
	if (strcmp(o.mode, "e2e") == 0)
		return lg_run_e2e(&o);
	if (strcmp(o.mode, "ready") == 0)
		return lg_run_ready(&o, t0);
	lg_usage(stderr);
	return 2;
}
