/*
 * mockcluster.c: librdkafka's in-memory mock cluster as a benchmark peer.
 *
 *   mockcluster [--brokers N] [--duration SECS] [--topic NAME:PARTITIONS]...
 *
 * Starts rd_kafka_mock_cluster_new() with N brokers (1), prints its bootstrap
 * servers on one line of stdout, then serves until SIGTERM/SIGINT or until
 * --duration seconds (600) have passed.
 * Each --topic is created before the line is printed: the mock of Debian's
 * librdkafka 2.0 answers CreateTopics only once a controller is known, which
 * a fresh client may wait for, so loadgen runs against it with --no-create.
 * The mock keeps every record in memory and never touches the disk, so a
 * loadgen run against it is the ceiling of librdkafka plus the Kafka protocol
 * on this machine: the figure a broker with free storage would reach.
 *
 * The mock brokers listen on 127.0.0.1 with ports chosen by the kernel.
 * The Makefile links this with libfjord.a; nothing here uses the broker.
 */
#include <errno.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t mc_stop;

static void mc_on_signal(int sig)
{
	(void)sig;
	mc_stop = 1;
}

static double mc_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A positive decimal int, or -1 (the callers reject it). */
static int mc_int(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT32_MAX)
		return -1;
	return (int)v;
}

int main(int argc, char **argv)
{
	int brokers = 1;
	double duration = 600;
	static const struct option longopts[] = {
	    {"brokers", required_argument, NULL, 'n'},
	    {"duration", required_argument, NULL, 'd'},
	    {"topic", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	const char *topics[64];
	int ntopics = 0;
	int c;
	while ((c = getopt_long(argc, argv, "n:d:t:", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			brokers = mc_int(optarg);
			break;
		case 'd':
			duration = atof(optarg);
			break;
		case 't':
			if (ntopics == (int)(sizeof(topics) / sizeof(topics[0]))) {
				fprintf(stderr, "mockcluster: too many --topic\n");
				return 2;
			}
			topics[ntopics++] = optarg;
			break;
		default:
			fprintf(stderr, "usage: mockcluster [--brokers N] [--duration SECS] "
			                "[--topic NAME:PARTITIONS]...\n");
			return 2;
		}
	}
	if (brokers <= 0 || duration <= 0) {
		fprintf(stderr, "mockcluster: --brokers and --duration must be positive\n");
		return 2;
	}

	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "mockcluster: %s\n", err);
		return 2;
	}
	/* The mock cluster needs a client handle to live in; a producer is the lightest. */
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "mockcluster: rd_kafka_new: %s\n", err);
		return 2;
	}
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
	if (!mc) {
		fprintf(stderr, "mockcluster: rd_kafka_mock_cluster_new failed\n");
		rd_kafka_destroy(rk);
		return 1;
	}
	for (int i = 0; i < ntopics; i++) {
		char name[256];
		const char *colon = strrchr(topics[i], ':');
		int parts = colon ? mc_int(colon + 1) : 1;
		size_t len = colon ? (size_t)(colon - topics[i]) : strlen(topics[i]);
		if (parts <= 0 || len == 0 || len >= sizeof(name)) {
			fprintf(stderr, "mockcluster: bad --topic %s\n", topics[i]);
			return 2;
		}
		memcpy(name, topics[i], len);
		name[len] = '\0';
		rd_kafka_resp_err_t terr = rd_kafka_mock_topic_create(mc, name, parts, 1);
		if (terr) {
			fprintf(stderr, "mockcluster: topic %s: %s\n", name,
			        rd_kafka_err2str(terr));
			return 1;
		}
	}
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = mc_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	double end = mc_now() + duration;
	while (!mc_stop && mc_now() < end)
		poll(NULL, 0, 200);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
