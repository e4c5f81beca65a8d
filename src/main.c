/*
 * main.c: the fjord binary — `fjord server` wires config, storage, metadata,
 * partitions and the listener onto one event loop, and handles signals;
 * every other subcommand is a Kafka client (src/cli/, on librdkafka).
 *
 * Start-up order: config, log directory (recovery), metadata, partitions,
 * group coordinator (loads __consumer_offsets), listener. Shutdown on SIGTERM/SIGINT: stop
 * accepting and reading, answer what is in flight (at most a few seconds), then sync every log,
 * write checkpoints and the clean-shutdown marker, so the next start scans nothing.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/logging.h"
#include "cli/cli.h"
#include "group/group.h"
#include "handlers/handler.h"
#include "io/loop.h"
#include "io/worker.h"
#include "meta/meta_properties.h"
#include "server/http.h"
#include "server/server.h"

#define SHUTDOWN_GRACE_MS 5000

struct app {
	struct broker b;
	struct server *srv;
	struct http *http;
	struct loop_io sig_io;
	struct loop_timer grace;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: fjord <command> [options]\n\n"
	        "The broker:\n"
	        "  server    run the broker (default: localhost:9092, data in ./data)\n"
	        "            fjord server [-c server.properties] [--override key=value]...\n\n"
	        "Client commands (Kafka clients on librdkafka; -b/--brokers or $FJORD_BROKERS):\n"
	        "  topic     create, list, describe, alter-config, add-partitions, delete, "
	        "trim-prefix\n"
	        "  produce   produce lines from stdin to a topic\n"
	        "  consume   consume a topic to stdout\n"
	        "  group     list, describe, lag, reset-offsets, delete consumer groups\n"
	        "  cluster   info, config get, config set\n\n"
	        "  version   print the version\n\n"
	        "Run 'fjord <command> --help' for a command's options.\n");
}

static void drained(void *arg)
{
	struct app *a = arg;
	loop_stop(a->b.loop);
}

static void grace_expired(struct loop_timer *t)
{
	struct app *a = (struct app *)((char *)t - offsetof(struct app, grace));
	LOG_WARN("shutdown: requests still in flight after %d ms; closing connections",
	         SHUTDOWN_GRACE_MS);
	loop_stop(a->b.loop);
}

static void on_signal(struct loop_io *io, uint32_t events)
{
	struct app *a = (struct app *)((char *)io - offsetof(struct app, sig_io));
	struct signalfd_siginfo si;
	(void)events;
	while (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (a->b.shutting_down)
			continue;
		LOG_INFO("received signal %u: shutting down cleanly", si.ssi_signo);
		a->b.shutting_down = true;
		loop_timer_init(&a->grace, grace_expired);
		loop_timer_start(a->b.loop, &a->grace, SHUTDOWN_GRACE_MS);
		server_shutdown(a->srv, drained, a);
	}
}

/* Before any thread starts, so that every thread inherits the mask. */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int setup_signals(struct app *a)
{
	sigset_t set;
	block_signals(&set);
	int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	a->sig_io.fd = fd;
	a->sig_io.cb = on_signal;
	return loop_io_add(a->b.loop, &a->sig_io, EPOLLIN);
}

static int first_log_dir(const char *dirs, char *out, size_t n)
{
	size_t len = strcspn(dirs, ",");
	if (len == 0 || len >= n)
		return ERR_INVALID_CONFIG;
	memcpy(out, dirs, len);
	out[len] = 0;
	return 0;
}

static int mkdir_p(const char *path)
{
	char tmp[1024];
	size_t n = strlen(path);
	if (n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Every partition keeps its active segment open: allow as many files as the hard limit does. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int server_main(int argc, char **argv)
{
	static struct app app;
	struct broker *b = &app.b;
	const char *config_path = NULL;
	char err[512] = "";
	broker_config_default(&b->cfg);
	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc) {
			config_path = argv[++i];
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf(
			    "usage: fjord server [-c server.properties] [--override key=value]...\n"
			    "Runs the broker. Keys are Kafka's server.properties names.\n");
			return 0;
		} else if (!strcmp(argv[i], "--override") && i + 1 < argc) {
			i++; /* applied after the file, below */
		} else if (argv[i][0] != '-' && !config_path) {
			config_path = argv[i]; /* kafka-server-start style */
		} else {
			fprintf(stderr, "fjord server: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	if (config_path && broker_config_load(&b->cfg, config_path, err, sizeof(err))) {
		fprintf(stderr, "fjord server: %s: %s\n", config_path, err);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--override") && i + 1 < argc) {
			char kv[1024];
			snprintf(kv, sizeof(kv), "%s", argv[++i]);
			char *eq = strchr(kv, '=');
			if (!eq) {
				fprintf(stderr, "fjord server: --override expects key=value\n");
				return 2;
			}
			*eq = 0;
			if (broker_config_set(&b->cfg, kv, eq + 1, err, sizeof(err))) {
				fprintf(stderr, "fjord server: %s\n", err);
				return 2;
			}
		}
	}
	if (broker_config_finish(&b->cfg, err, sizeof(err))) {
		fprintf(stderr, "fjord server: %s\n", err);
		return 2;
	}
	enum log_level lvl;
	if (logging_parse_level(b->cfg.log_level, &lvl) == 0)
		logging_level = lvl;

	char dir[1024];
	if (first_log_dir(b->cfg.log_dirs, dir, sizeof(dir))) {
		fprintf(stderr, "fjord server: log.dirs is empty or too long\n");
		return 2;
	}
	if (strchr(b->cfg.log_dirs, ','))
		LOG_WARN("log.dirs lists several directories; only the first (%s) is used", dir);
	int rc = mkdir_p(dir);
	if (rc) {
		fprintf(stderr, "fjord server: cannot create log dir %s: %s\n", dir, err_str(rc));
		return 1;
	}
	if ((rc = meta_properties_load(dir, b->cfg.node_id, b->cluster_id, sizeof(b->cluster_id),
	                               err, sizeof(err)))) {
		fprintf(stderr, "fjord server: %s\n", err);
		return 1;
	}
	raise_fd_limit();
	sigset_t sigs;
	block_signals(&sigs);
	int64_t t0 = clock_mono_ms();
	if ((rc = loop_new(&b->loop)) ||
	    (rc = worker_pool_new(b->loop, b->cfg.num_io_threads, &b->workers))) {
		fprintf(stderr, "fjord server: %s\n", err_str(rc));
		return 1;
	}
	if ((rc = logdir_open(dir, &b->logdir))) {
		fprintf(stderr, "fjord server: cannot open log dir %s: %s\n", dir, err_str(rc));
		return 1;
	}
	logdir_set_worker(b->logdir, b->workers);
	char metadir[1100];
	snprintf(metadir, sizeof(metadir), "%s/__cluster_metadata", dir);
	if ((rc = mkdir_p(metadir)) || (rc = meta_open(metadir, &b->cfg, &b->meta))) {
		fprintf(stderr, "fjord server: cannot open metadata in %s: %s\n", metadir,
		        err_str(rc));
		return 1;
	}
	/* Dynamic broker configs from the journal, layered over server.properties. */
	b->cfg = *meta_broker_config(b->meta);
	if ((rc = partitions_new(b->loop, b->workers, b->logdir, b->meta, &b->cfg, &b->parts)) ||
	    (rc = partitions_open_all(b->parts))) {
		fprintf(stderr, "fjord server: cannot open partitions: %s\n", err_str(rc));
		return 1;
	}
	/* Group state is loaded before serving, so no request sees a half-loaded coordinator. */
	if ((rc = gc_new(b->loop, b->meta, b->parts, &b->cfg, &b->groups)) ||
	    (rc = gc_load(b->groups))) {
		fprintf(stderr, "fjord server: cannot load consumer groups: %s\n", err_str(rc));
		return 1;
	}
	if ((rc = server_new(b, &app.srv))) {
		fprintf(stderr, "fjord server: cannot listen on %s: %s\n", b->cfg.listeners,
		        err_str(rc));
		return 1;
	}
	/* Metrics and health: useful but not essential; a busy port is only a warning. */
	if (b->cfg.http_listener[0])
		http_start(b, app.srv, b->cfg.http_listener, &app.http);
	if (b->cfg.listen_port == 0)
		b->cfg.listen_port = server_port(app.srv);
	if (b->cfg.advertised_port == 0)
		b->cfg.advertised_port = server_port(app.srv);
	if ((rc = setup_signals(&app))) {
		fprintf(stderr, "fjord server: signals: %s\n", err_str(rc));
		return 1;
	}
	LOG_INFO("fjord broker %d serving on %s:%d (advertised %s:%d), data in %s, %d topic(s), "
	         "started in %lld ms",
	         b->cfg.node_id, b->cfg.listen_host[0] ? b->cfg.listen_host : "*",
	         server_port(app.srv), b->cfg.advertised_host, b->cfg.advertised_port, dir,
	         meta_topic_count(b->meta), (long long)(clock_mono_ms() - t0));
	loop_run(b->loop);

	bool clean = true;
	http_stop(app.http);                /* no more render jobs are posted... */
	loop_run_posted(b->loop);           /* ...and the ones already posted finish */
	server_free(app.srv);               /* parked requests are released */
	gc_free(b->groups);                 /* after its requests, before the partitions */
	worker_pool_free(b->workers);       /* in-flight syncs finish... */
	logdir_set_worker(b->logdir, NULL); /* (what the close removes, it removes inline) */
	loop_run_posted(b->loop);           /* ...and their completions are taken in */
	partitions_free(b->parts, clean);
	logdir_close(b->logdir, clean); /* final sync, checkpoints, clean marker */
	meta_close(b->meta);
	loop_free(b->loop);
	LOG_INFO("fjord broker stopped cleanly");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "server"))
		return server_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("fjord %s\n", FJORD_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	int rc = cli_main(argc - 1, argv + 1);
	if (rc == CLI_UNKNOWN_COMMAND) {
		fprintf(stderr, "fjord: unknown command '%s'\n\n", cmd);
		usage(stderr);
		return 2;
	}
	return rc;
}
