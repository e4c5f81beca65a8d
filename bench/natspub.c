/*
 * natspub.c: a minimal NATS JetStream publisher for bench/compare.sh.
 *
 *   natspub -H 127.0.0.1 -P PORT -n N -s SIZE [-w WINDOW] [--stream S] [--subject X]
 *           [--duration SECS] [--label TEXT]
 *
 * Speaks the NATS text protocol over one TCP socket, with no client library:
 * CONNECT, SUB to a private inbox, a JetStream stream create request
 * ($JS.API.STREAM.CREATE.<S>, file storage, one replica), then N messages of
 * SIZE bytes as "PUB <subject> <inbox>.<i> <size>", keeping at most WINDOW
 * (256) unacknowledged. Each JetStream ack ({"stream":..,"seq":..} published
 * to the reply subject) ends message i; its latency runs from the PUB write
 * to the ack. Error acks ({"error":..}) are counted as errors.
 *
 * Prints one JSON line in loadgen's format (mode "nats-js"). The run is
 * bounded by --duration seconds (120). Exit status 0 only if all N were acked.
 * The Makefile links this with libfjord.a; nothing here uses the broker.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double np_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void np_die(const char *what, const char *detail)
{
	fprintf(stderr, "natspub: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(2);
}

static int np_fd;
static double np_deadline;

/* Reply bytes not yet parsed. */
static char np_in[1 << 20];
static size_t np_in_len;

/* Outgoing bytes not yet written. */
static char *np_out;
static size_t np_out_len, np_out_cap;

static void np_out_add(const void *p, size_t n)
{
	if (np_out_len + n > np_out_cap) {
		size_t cap = np_out_cap ? np_out_cap * 2 : 1 << 16;
		while (cap < np_out_len + n)
			cap *= 2;
		np_out = realloc(np_out, cap);
		if (!np_out)
			np_die("out of memory", NULL);
		np_out_cap = cap;
	}
	memcpy(np_out + np_out_len, p, n);
	np_out_len += n;
}

/* Write what is queued and read what has arrived; waits at most wait_ms for either. */
static void np_io(int wait_ms)
{
	struct pollfd pfd = {.fd = np_fd, .events = POLLIN | (np_out_len ? POLLOUT : 0)};
	int n = poll(&pfd, 1, wait_ms);
	if (n < 0 && errno != EINTR)
		np_die("poll", strerror(errno));
	if (n <= 0)
		return;
	if (pfd.revents & POLLOUT) {
		ssize_t w = write(np_fd, np_out, np_out_len);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			np_die("write", strerror(errno));
		if (w > 0) {
			memmove(np_out, np_out + w, np_out_len - (size_t)w);
			np_out_len -= (size_t)w;
		}
	}
	if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
		if (np_in_len == sizeof(np_in))
			np_die("reply too long", NULL);
		ssize_t r = read(np_fd, np_in + np_in_len, sizeof(np_in) - np_in_len);
		if (r == 0)
			np_die("server closed the connection", NULL);
		if (r < 0 && errno != EAGAIN && errno != EINTR)
			np_die("read", strerror(errno));
		if (r > 0)
			np_in_len += (size_t)r;
	}
}

/*
 * Take one protocol message from np_in. Returns 1 with *op pointing at the
 * control line (NUL-terminated, without CRLF) and, for MSG, payload and plen
 * set; 0 when more bytes are needed. The pointers live until the next call.
 */
static size_t np_consumed;
static int np_next(char **op, char **payload, size_t *plen)
{
	if (np_consumed) {
		memmove(np_in, np_in + np_consumed, np_in_len - np_consumed);
		np_in_len -= np_consumed;
		np_consumed = 0;
	}
	char *crlf = memmem(np_in, np_in_len, "\r\n", 2);
	if (!crlf)
		return 0;
	size_t line = (size_t)(crlf - np_in);
	*payload = NULL;
	*plen = 0;
	if (line >= 4 && memcmp(np_in, "MSG ", 4) == 0) {
		/* MSG <subject> <sid> [reply] <bytes> */
		char *sp = memrchr(np_in, ' ', line);
		size_t bytes = sp ? (size_t)strtoul(sp + 1, NULL, 10) : 0;
		if (np_in_len < line + 2 + bytes + 2)
			return 0;
		*payload = np_in + line + 2;
		*plen = bytes;
		np_consumed = line + 2 + bytes + 2;
	} else {
		np_consumed = line + 2;
	}
	*crlf = '\0';
	*op = np_in;
	return 1;
}

static int np_cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *stream = "BENCH", *subject = "bench", *label = "";
	long port = 4222, count = 100000, size = 100, window = 256;
	double duration = 120;
	static const struct option longopts[] = {
	    {"stream", required_argument, NULL, 'S'},
	    {"subject", required_argument, NULL, 'X'},
	    {"duration", required_argument, NULL, 'd'},
	    {"label", required_argument, NULL, 'L'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "H:P:n:s:w:", longopts, NULL)) != -1) {
		switch (c) {
		case 'H':
			host = optarg;
			break;
		case 'P':
			port = atol(optarg);
			break;
		case 'n':
			count = atol(optarg);
			break;
		case 's':
			size = atol(optarg);
			break;
		case 'w':
			window = atol(optarg);
			break;
		case 'S':
			stream = optarg;
			break;
		case 'X':
			subject = optarg;
			break;
		case 'd':
			duration = atof(optarg);
			break;
		case 'L':
			label = optarg;
			break;
		default:
			fprintf(stderr,
			        "usage: natspub -H HOST -P PORT -n N -s SIZE [-w WINDOW] "
			        "[--stream S] [--subject X] [--duration SECS] [--label T]\n");
			return 2;
		}
	}
	if (count <= 0 || size < 0 || window <= 0 || duration <= 0 || strchr(label, '"'))
		np_die("-n, -w, --duration must be positive; no quotes in --label", NULL);
	np_deadline = np_now() + duration;

	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		np_die("bad host (IPv4 address expected)", host);
	np_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (np_fd < 0 || connect(np_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		np_die("connect", strerror(errno));
	int one = 1;
	setsockopt(np_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	char line[512];
	int n = snprintf(line, sizeof(line),
	                 "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":false,"
	                 "\"protocol\":1,\"name\":\"fjord-natspub\"}\r\n"
	                 "SUB _INBOX.np.> 1\r\n");
	np_out_add(line, (size_t)n);
	char body[512];
	int blen = snprintf(body, sizeof(body),
	                    "{\"name\":\"%s\",\"subjects\":[\"%s\"],\"storage\":\"file\","
	                    "\"num_replicas\":1}",
	                    stream, subject);
	n = snprintf(line, sizeof(line), "PUB $JS.API.STREAM.CREATE.%s _INBOX.np.create %d\r\n",
	             stream, blen);
	np_out_add(line, (size_t)n);
	np_out_add(body, (size_t)blen);
	np_out_add("\r\n", 2);

	/* Wait for the stream create reply. */
	char *op, *payload;
	size_t plen;
	for (int created = 0; !created;) {
		if (np_now() > np_deadline)
			np_die("timed out waiting for the stream", NULL);
		np_io(100);
		while (np_next(&op, &payload, &plen)) {
			if (strncmp(op, "PING", 4) == 0)
				np_out_add("PONG\r\n", 6);
			else if (strncmp(op, "-ERR", 4) == 0)
				np_die("server error", op);
			else if (payload && strstr(op, "_INBOX.np.create")) {
				if (memmem(payload, plen, "\"error\"", 7) &&
				    !memmem(payload, plen, "already in use", 14)) {
					fprintf(stderr, "natspub: stream create: %.*s\n", (int)plen,
					        payload);
					return 1;
				}
				created = 1;
			}
		}
	}

	char *buf = malloc((size_t)size + 1);
	double *sent_at = calloc((size_t)count, sizeof(*sent_at));
	float *lat = malloc((size_t)count * sizeof(*lat));
	if (!buf || !sent_at || !lat)
		np_die("out of memory", NULL);
	for (long i = 0; i < size; i++)
		buf[i] = (char)('a' + i % 26);

	long next = 0, acked = 0, errors = 0, nlat = 0;
	double start = np_now(), last = start;
	while (acked + errors < count && np_now() < np_deadline) {
		while (next < count && next - acked - errors < window && np_out_len < (1 << 20)) {
			n = snprintf(line, sizeof(line), "PUB %s _INBOX.np.%ld %ld\r\n", subject,
			             next, size);
			np_out_add(line, (size_t)n);
			np_out_add(buf, (size_t)size);
			np_out_add("\r\n", 2);
			sent_at[next++] = np_now();
		}
		np_io(10);
		while (np_next(&op, &payload, &plen)) {
			if (strncmp(op, "PING", 4) == 0) {
				np_out_add("PONG\r\n", 6);
				continue;
			}
			if (strncmp(op, "-ERR", 4) == 0)
				np_die("server error", op);
			char *inbox = payload ? strstr(op, "_INBOX.np.") : NULL;
			if (!inbox)
				continue;
			long i = strtol(inbox + 10, NULL, 10);
			if (i < 0 || i >= next)
				continue;
			if (memmem(payload, plen, "\"error\"", 7)) {
				if (errors++ == 0)
					fprintf(stderr, "natspub: publish: %.*s\n", (int)plen,
					        payload);
				continue;
			}
			last = np_now();
			lat[nlat++] = (float)((last - sent_at[i]) * 1000.0);
			acked++;
		}
	}
	qsort(lat, (size_t)nlat, sizeof(*lat), np_cmp_float);
#define NP_PCT(p) (nlat ? lat[(long)((p) * (double)(nlat - 1) + 0.5)] : 0)
	double secs = last - start > 0 ? last - start : 1e-9;
	printf("{\"mode\":\"nats-js\",\"msgs\":%ld,\"bytes\":%lld,\"secs\":%.3f,"
	       "\"msgs_per_sec\":%.1f,\"mb_per_sec\":%.3f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
	       "\"p999_ms\":%.3f,\"max_ms\":%.3f,\"errors\":%ld,\"label\":\"%s\",\"size\":%ld,"
	       "\"partitions\":1,\"acks\":\"js\",\"clients\":1}\n",
	       acked, (long long)acked * size, secs, (double)acked / secs,
	       (double)acked * (double)size / secs / (1024.0 * 1024.0), NP_PCT(0.50), NP_PCT(0.99),
	       NP_PCT(0.999), nlat ? lat[nlat - 1] : 0, errors + (count - acked - errors), label,
	       size);
	close(np_fd);
	free(buf);
	free(sent_at);
	free(lat);
	free(np_out);
	return acked == count ? 0 : 1;
}
