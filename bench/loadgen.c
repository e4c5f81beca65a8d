/*
 * loadgen.c: a librdkafka load generator for Fjord (or any Kafka broker).
 *
 *   loadgen produce -b HOST:PORT -t T -n N -s SIZE [-p P] [-a ACKS] [-z CODEC] [-l LINGER] [-k]
 *   loadgen consume -b HOST:PORT -t T -n N
 *   loadgen e2e     -b HOST:PORT -t T -n N -r RATE
 *
 * produce: N messages of SIZE bytes to topic T (created with P partitions
 *   through the admin API if missing). Latency is the delivery-report
 *   latency: from rd_kafka_producev() to the acknowledgement.
 * consume: reads N messages from the beginning of every partition of T,
 *   with assign() (no subscription, no commits).
 * e2e: a producer thread sends at a fixed RATE with its send time in the
 *   first 8 bytes of each payload; the main thread consumes from the
 *   partitions' ends and measures produce-to-consume latency.
 *
 * Every run is bounded by --duration seconds. Each run prints one JSON line:
 * {"mode","msgs","bytes","secs","msgs_per_sec","mb_per_sec","p50_ms","p99_ms",
 *  "p999_ms","max_ms","errors"}; latency fields are 0 when not measured.
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
	bool keyed;
	long rate;       /* e2e messages per second */
	double duration; /* seconds: hard cap on every run */
	bool verbose;
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
	    "\"errors\":%ld}\n",
	    o->mode, msgs, bytes, secs, (double)msgs / s, (double)bytes / s / (1024.0 * 1024.0),
	    l ? lg_pct(l, 0.50) : 0, l ? lg_pct(l, 0.99) : 0, l ? lg_pct(l, 0.999) : 0,
	    l && l->n ? l->v[l->n - 1] : 0, errors);
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
static void lg_ensure_topic(rd_kafka_t *rk, const struct lg_opts *o)
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
	double last_dr;
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
		return;
	}
	int64_t sent_us = (int64_t)(intptr_t)m->_private;
	lg_lat_add(&st->lat, (double)(lg_now_us() - sent_us) / 1000.0);
	st->delivered++;
	st->bytes += (long long)m->len;
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
	lg_set(conf, "queue.buffering.max.messages", "1000000");
	lg_set(conf, "queue.buffering.max.kbytes", "1048576");
	lg_setl(conf, "message.timeout.ms", (long)(o->duration * 1000) + 1000);
	rd_kafka_conf_set_dr_msg_cb(conf, lg_dr_cb);
	rd_kafka_conf_set_opaque(conf, opaque);
	return lg_new(RD_KAFKA_PRODUCER, conf);
}

/* Send message i; blocks (polling) while the local queue is full, up to deadline. */
static int lg_send(rd_kafka_t *rk, const struct lg_opts *o, char *buf, long i, double deadline)
{
	char key[32];
	int klen = snprintf(key, sizeof(key), "key-%ld", i % 10000);
	for (;;) {
		rd_kafka_resp_err_t err = rd_kafka_producev(
		    rk, RD_KAFKA_V_TOPIC(o->topic), RD_KAFKA_V_VALUE(buf, (size_t)o->size),
		    RD_KAFKA_V_KEY(o->keyed ? key : NULL, o->keyed ? (size_t)klen : 0),
		    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		    RD_KAFKA_V_OPAQUE((void *)(intptr_t)lg_now_us()), RD_KAFKA_V_END);
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

static int lg_run_produce(const struct lg_opts *o)
{
	struct lg_produce_state st = {0};
	lg_lat_init(&st.lat, o->count);
	rd_kafka_t *rk = lg_producer(o, &st);
	lg_ensure_topic(rk, o);

	char *buf = malloc((size_t)o->size + 1);
	if (!buf)
		lg_die("out of memory", NULL);
	lg_fill(buf, o->size, 0);
	double start = lg_now(), deadline = lg_deadline;
	long sent = 0;
	for (; sent < o->count && lg_now() < deadline; sent++) {
		if (lg_send(rk, o, buf, sent, deadline) != 0)
			break;
		if ((sent & 1023) == 0)
			rd_kafka_poll(rk, 0);
	}
	while (st.delivered + st.failed < sent && lg_now() < deadline)
		rd_kafka_poll(rk, 50);
	double end = st.last_dr > 0 ? st.last_dr : lg_now();
	if (st.failed)
		fprintf(stderr, "loadgen: %ld deliveries failed, first: %s\n", st.failed,
		        rd_kafka_err2str(st.first_err));
	long errors = st.failed + (sent - st.delivered - st.failed) + (o->count - sent);
	lg_report(o, st.delivered, st.bytes, end - start, &st.lat, errors);

	rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_flush(rk, 1000);
	rd_kafka_destroy(rk);
	free(buf);
	free(st.lat.v);
	return st.delivered == o->count ? 0 : 1;
}

/* ---------------------------------------------------------------- consume */

static rd_kafka_t *lg_consumer(const struct lg_opts *o)
{
	rd_kafka_conf_t *conf = lg_base_conf(o);
	/* librdkafka's assign() needs a group id; nothing joins or commits. */
	lg_set(conf, "group.id", "fjord-loadgen");
	lg_set(conf, "enable.auto.commit", "false");
	lg_set(conf, "enable.auto.offset.store", "false");
	lg_set(conf, "auto.offset.reset", "earliest");
	lg_set(conf, "fetch.wait.max.ms", "100");
	return lg_new(RD_KAFKA_CONSUMER, conf);
}

/* Assign every partition of the topic; start = offset to begin at, or NULL for the beginning. */
static int lg_assign_all(rd_kafka_t *rk, const struct lg_opts *o, const int64_t *start)
{
	int n = lg_partition_count(rk, o->topic, lg_left_ms(10000));
	if (n <= 0)
		lg_die("topic not found", o->topic);
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
	for (int p = 0; p < n; p++)
		rd_kafka_topic_partition_list_add(parts, o->topic, p)->offset =
		    start ? start[p] : RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_resp_err_t err = rd_kafka_assign(rk, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	if (err)
		lg_die("assign", rd_kafka_err2str(err));
	return n;
}

static int lg_run_consume(const struct lg_opts *o)
{
	rd_kafka_t *rk = lg_consumer(o);
	lg_assign_all(rk, o, NULL);
	long got = 0, errors = 0;
	long long bytes = 0;
	double start = lg_now(), deadline = lg_deadline, last = start;
	while (got < o->count && lg_now() < deadline) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		if (!m)
			continue;
		if (m->err) {
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
				fprintf(stderr, "loadgen: consume: %s\n",
				        rd_kafka_message_errstr(m));
				errors++;
			}
		} else {
			got++;
			bytes += (long long)m->len;
			last = lg_now();
		}
		rd_kafka_message_destroy(m);
	}
	lg_report(o, got, bytes, last - start, NULL, errors + (o->count - got));
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return got == o->count ? 0 : 1;
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
		double due = start + (double)i / (double)o->rate;
		while (lg_now() < due)
			rd_kafka_poll(e->producer, (int)((due - lg_now()) * 1000) > 0 ? 1 : 0);
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
	rd_kafka_t *rk = lg_consumer(o);
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

/* ---------------------------------------------------------------- main */

static void lg_usage(FILE *f)
{
	fprintf(f, "usage: loadgen produce|consume|e2e [options]\n"
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
	           "  -k, --keyed               send keys (key-0 .. key-9999)\n"
	           "  -r, --rate N              e2e: messages per second (1000)\n"
	           "      --duration SECS       hard time cap for the run (120)\n"
	           "  -v, --verbose             librdkafka debug logs\n");
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
	};
	enum { OPT_BATCH_SIZE = 1000, OPT_BATCH_NUM, OPT_DURATION };
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
	    {"duration", required_argument, NULL, OPT_DURATION},
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
		case OPT_DURATION:
			o.duration = (double)lg_num(optarg, "--duration");
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
	lg_deadline = lg_now() + o.duration;
	if (o.count <= 0 || o.size < 0 || o.partitions <= 0 || o.rate <= 0 || o.duration <= 0)
		lg_die("-n, -p, -r and --duration must be positive, -s not negative", NULL);
	if (strcmp(o.mode, "produce") == 0)
		return lg_run_produce(&o);
	if (strcmp(o.mode, "consume") == 0)
		return lg_run_consume(&o);
	if (strcmp(o.mode, "e2e") == 0)
		return lg_run_e2e(&o);
	lg_usage(stderr);
	return 2;
}
